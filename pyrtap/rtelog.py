"""DPDK's logging (``rte_log.h``) and ``rte_strerror``, on Python's ``logging``:
``RTE_LOG(level, type, fmt, ...)``.

Levels are DPDK's numbers (``RTE_LOG_EMERG`` 1 .. ``RTE_LOG_DEBUG`` 8) or their names
without the prefix (``RTE_LOG("INFO", "USER1", ...)``, as the C macro pastes tokens);
types are ``RTE_LOGTYPE_*`` numbers or names. A type logs to the ``logging`` logger
``pyrtap.<TYPE>`` (``pyrtap.USER1``), so Python's handlers and filters apply;
``rte_log_set_global_level`` drops messages above a level, as DPDK's does.
"""
from __future__ import annotations

import logging

RTE_LOG_EMERG, RTE_LOG_ALERT, RTE_LOG_CRIT, RTE_LOG_ERR = 1, 2, 3, 4
RTE_LOG_WARNING, RTE_LOG_NOTICE, RTE_LOG_INFO, RTE_LOG_DEBUG = 5, 6, 7, 8
RTE_LOG_MAX = RTE_LOG_DEBUG

RTE_LOGTYPE_EAL, RTE_LOGTYPE_MALLOC, RTE_LOGTYPE_RING, RTE_LOGTYPE_MEMPOOL = 0, 1, 2, 3
RTE_LOGTYPE_TIMER, RTE_LOGTYPE_PMD, RTE_LOGTYPE_HASH, RTE_LOGTYPE_LPM = 4, 5, 6, 7
RTE_LOGTYPE_KNI, RTE_LOGTYPE_ACL, RTE_LOGTYPE_POWER, RTE_LOGTYPE_METER = 8, 9, 10, 11
RTE_LOGTYPE_SCHED, RTE_LOGTYPE_PORT, RTE_LOGTYPE_TABLE, RTE_LOGTYPE_PIPELINE = 12, 13, 14, 15
RTE_LOGTYPE_MBUF, RTE_LOGTYPE_CRYPTODEV, RTE_LOGTYPE_EFD, RTE_LOGTYPE_EVENTDEV = 16, 17, 18, 19
RTE_LOGTYPE_GSO = 20
RTE_LOGTYPE_USER1, RTE_LOGTYPE_USER2, RTE_LOGTYPE_USER3, RTE_LOGTYPE_USER4 = 24, 25, 26, 27
RTE_LOGTYPE_USER5, RTE_LOGTYPE_USER6, RTE_LOGTYPE_USER7, RTE_LOGTYPE_USER8 = 28, 29, 30, 31

_LEVELS = {n[len("RTE_LOG_"):]: v for n, v in globals().items()
           if n.startswith("RTE_LOG_") and n != "RTE_LOG_MAX"}
_TYPES = {v: n[len("RTE_LOGTYPE_"):] for n, v in globals().items() if n.startswith("RTE_LOGTYPE_")}
# DPDK level -> Python logging level.
_PY = {1: logging.CRITICAL, 2: logging.CRITICAL, 3: logging.CRITICAL, 4: logging.ERROR,
       5: logging.WARNING, 6: logging.INFO, 7: logging.INFO, 8: logging.DEBUG}

_global_level = RTE_LOG_DEBUG


def _level(level) -> int:
    lv = _LEVELS.get(level) if isinstance(level, str) else level
    if not isinstance(lv, int) or not RTE_LOG_EMERG <= lv <= RTE_LOG_DEBUG:
        raise ValueError("not an RTE_LOG level: %r" % (level,))
    return lv


def rte_log_set_global_level(level) -> None:
    """Drop messages less severe than ``level`` (``rte_log_set_global_level``)."""
    global _global_level
    _global_level = _level(level)


def rte_log_get_global_level() -> int:
    """The level set by ``rte_log_set_global_level`` (``rte_log_get_global_level``)."""
    return _global_level


def rte_log(level, logtype, fmt: str, *args) -> int:
    """Log ``fmt % args`` (``rte_log``): 0, or -1 when the level filters it out."""
    lv = _level(level)
    if lv > _global_level:
        return -1
    name = logtype if isinstance(logtype, str) else _TYPES.get(logtype, "USER%d" % logtype)
    msg = (fmt % args) if args else fmt
    logging.getLogger("pyrtap." + name).log(_PY[lv], msg.rstrip("\n"))
    return 0


def RTE_LOG(level, logtype, fmt: str, *args) -> int:
    """DPDK's ``RTE_LOG(INFO, USER1, "fmt", ...)``: ``RTE_LOG("INFO", "USER1", "fmt", ...)``;
    the type's name is prefixed to the message as DPDK does (``USER1: ...``)."""
    name = logtype if isinstance(logtype, str) else _TYPES.get(logtype, str(logtype))
    return rte_log(level, name, name + ": " + fmt, *args)


def rte_strerror(errnum: int) -> str:
    """The message of an errno, positive or negative (``rte_strerror``)."""
    import os
    return os.strerror(abs(errnum))


__all__ = [
    "RTE_LOG_EMERG", "RTE_LOG_ALERT", "RTE_LOG_CRIT", "RTE_LOG_ERR", "RTE_LOG_WARNING",
    "RTE_LOG_NOTICE", "RTE_LOG_INFO", "RTE_LOG_DEBUG", "RTE_LOG_MAX", "RTE_LOGTYPE_EAL",
    "RTE_LOGTYPE_MALLOC", "RTE_LOGTYPE_RING", "RTE_LOGTYPE_MEMPOOL", "RTE_LOGTYPE_TIMER",
    "RTE_LOGTYPE_PMD", "RTE_LOGTYPE_HASH", "RTE_LOGTYPE_LPM", "RTE_LOGTYPE_KNI", "RTE_LOGTYPE_ACL",
    "RTE_LOGTYPE_POWER", "RTE_LOGTYPE_METER", "RTE_LOGTYPE_SCHED", "RTE_LOGTYPE_PORT",
    "RTE_LOGTYPE_TABLE", "RTE_LOGTYPE_PIPELINE", "RTE_LOGTYPE_MBUF", "RTE_LOGTYPE_CRYPTODEV",
    "RTE_LOGTYPE_EFD", "RTE_LOGTYPE_EVENTDEV", "RTE_LOGTYPE_GSO", "RTE_LOGTYPE_USER1",
    "RTE_LOGTYPE_USER2", "RTE_LOGTYPE_USER3", "RTE_LOGTYPE_USER4", "RTE_LOGTYPE_USER5",
    "RTE_LOGTYPE_USER6", "RTE_LOGTYPE_USER7", "RTE_LOGTYPE_USER8", "rte_log_set_global_level",
    "rte_log_get_global_level", "rte_log", "RTE_LOG", "rte_strerror",
]
