"""Packet-mbuf pools: DPDK's ``rte_pktmbuf_pool_create`` / ``rte_mempool_*`` calls.

A pool is one memfd mapped MAP_SHARED (so a secondary process can map the same
memory): a header, the mbuf metadata as an array of 64-byte C structs (viewable as
the numpy structured array ``Mempool.meta``), a free stack, and one contiguous data
area holding every buffer. Allocation and free are in the Cython core.
"""
from __future__ import annotations

import errno
import logging
import operator
import os

import numpy as np

from . import _core
from ._core import Mempool, rte_errno  # re-exported: see __all__

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers

RTE_PKTMBUF_HEADROOM = _core.C_LIMITS["RTE_PKTMBUF_HEADROOM"]     # defined once, in the core
RTE_MBUF_DEFAULT_DATAROOM = 2048
RTE_MBUF_DEFAULT_BUF_SIZE = RTE_MBUF_DEFAULT_DATAROOM + RTE_PKTMBUF_HEADROOM
RTE_MBUF_PRIV_ALIGN = 8
RTE_MEMPOOL_CACHE_MAX_SIZE = 512
RTE_MEMPOOL_NAMESIZE = 26    # DPDK: RTE_MEMZONE_NAMESIZE - len("MP_")
SOCKET_ID_ANY = -1

# numpy view of struct pyrtap_mbuf (pyrtap/includes/pyrtap_mbuf.h), field for field.
# numpy's view of struct pyrtap_mbuf, built from the layout the C compiler chose
# (_core.MBUF_LAYOUT: field, offset, size), so the two cannot disagree. Unsigned,
# little-endian fields; the bytes no field names are padding.
MBUF_DTYPE = np.dtype({
    "names": [f for f, _, _ in _core.MBUF_LAYOUT],
    "formats": ["<u%d" % size for _, _, size in _core.MBUF_LAYOUT],
    "offsets": [off for _, off, _ in _core.MBUF_LAYOUT],
    "itemsize": _core.MBUF_METADATA_SIZE,
})

_pools: dict[str, Mempool] = {}


def _fail(err: int, msg: str, *args) -> None:
    log.error("rte_pktmbuf_pool_create: " + msg, *args)
    _core._set_errno(err)


def rte_pktmbuf_pool_create(name: str, n: int, cache_size: int, priv_size: int,
                            data_room_size: int, socket_id: int = SOCKET_ID_ANY) -> Mempool | None:
    """Create a pool of ``n`` packet mbufs (DPDK's ``rte_pktmbuf_pool_create``).

    ``data_room_size`` includes the ``RTE_PKTMBUF_HEADROOM`` of 128 bytes. Returns the
    pool, or None with ``rte_errno()`` set: EEXIST for a name in use, EINVAL for bad
    sizes (each logged with the reason). ``socket_id`` is accepted and ignored.
    """
    for what, v in (("n", n), ("cache_size", cache_size), ("priv_size", priv_size),
                    ("data_room_size", data_room_size), ("socket_id", socket_id)):
        if not isinstance(v, int) or isinstance(v, bool):
            try:
                v = operator.index(v)       # numpy integers; never a float, truncated silently
            except TypeError:
                _fail(errno.EINVAL, "%s must be an integer, got %r", what, v)
                return None
        if what == "n":
            n = v
        elif what == "cache_size":
            cache_size = v
        elif what == "priv_size":
            priv_size = v
        elif what == "data_room_size":
            data_room_size = v
    if not isinstance(name, str) or not name or len(name) >= RTE_MEMPOOL_NAMESIZE:
        _fail(errno.EINVAL, "pool name must be 1 to %d characters, got %r", RTE_MEMPOOL_NAMESIZE - 1, name)
        return None
    if name in _pools:
        _fail(errno.EEXIST, "a pool named %r exists", name)
        return None
    if not 0 < n < 1 << 24:
        _fail(errno.EINVAL, "pool %r: n must be between 1 and %d, got %d", name, (1 << 24) - 1, n)
        return None
    if priv_size < 0 or priv_size % RTE_MBUF_PRIV_ALIGN or priv_size > 0xFFFF:
        _fail(errno.EINVAL, "pool %r: priv_size %d must be a multiple of %d below 65536 (DPDK's is 16-bit)",
              name, priv_size, RTE_MBUF_PRIV_ALIGN)
        return None
    if not RTE_PKTMBUF_HEADROOM <= data_room_size <= 0xFFFF:
        _fail(errno.EINVAL, "pool %r: data_room_size %d must be between the headroom (%d) and 65535",
              name, data_room_size, RTE_PKTMBUF_HEADROOM)
        return None
    # DPDK refuses a per-lcore cache that could hold more than the pool (flush threshold 1.5x).
    if cache_size < 0 or cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE or cache_size * 3 // 2 > n:
        _fail(errno.EINVAL, "pool %r: cache_size %d is too large for %d mbufs", name, cache_size, n)
        return None
    total = _core._pool_layout(n, priv_size, data_room_size)[4]
    limit = _memory_limit()
    if total > limit:
        # Refused before allocating: MAP_POPULATE would try to fault it all in.
        _fail(errno.ENOMEM, "pool %r: %d bytes is more than the memory available (%d)", name, total, limit)
        return None
    fd = os.memfd_create("pyrtap-pool-" + name, os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, total)
        mp = _core._create_pool(fd, name, n, cache_size, priv_size, data_room_size)
    except (OSError, RuntimeError) as e:
        os.close(fd)
        _fail(e.errno if isinstance(e, OSError) and e.errno else errno.ENOMEM, "pool %r: %s", name, e)
        return None
    # Read-only: the metadata changes only through the checked calls and setters.
    mp.meta = np.frombuffer(_core._ReadOnlyMapping(mp.mapping), dtype=MBUF_DTYPE, count=n,
                            offset=_core._pool_layout(n, priv_size, data_room_size)[0])
    _pools[name] = mp
    return mp


def rte_mempool_lookup(name: str) -> Mempool | None:
    """The pool called ``name`` (``rte_mempool_lookup``), or None with ``rte_errno() == ENOENT``."""
    mp = _pools.get(name)
    if mp is None:
        _core._set_errno(errno.ENOENT)
    return mp


def rte_mempool_avail_count(mp: Mempool) -> int:
    """Mbufs free in the pool (``rte_mempool_avail_count``); ValueError once it is freed."""
    return mp.avail_count()


def rte_mempool_in_use_count(mp: Mempool) -> int:
    """Mbufs allocated from the pool (``rte_mempool_in_use_count``)."""
    return mp.in_use_count()


def rte_mempool_full(mp: Mempool) -> int:
    """1 when every mbuf is in the pool (``rte_mempool_full``)."""
    return int(mp.avail_count() == mp.size)


def rte_mempool_empty(mp: Mempool) -> int:
    """1 when no mbuf is left (``rte_mempool_empty``)."""
    return int(mp.avail_count() == 0)


def _memory_limit() -> int:
    """Bytes a pool may take: half the machine's RAM plus swap (a pool faults it all in)."""
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        return (info["MemTotal"] + info.get("SwapTotal", 0)) // 2
    except (OSError, KeyError, ValueError, IndexError):
        return 1 << 34


def rte_mempool_free(mp: Mempool | None) -> int:
    """Release a pool (``rte_mempool_free``); None is ignored. Returns 0, or -EBUSY
    (nothing done) while a started port's Rx queue receives into it: DPDK leaves that
    undefined, here the queue would write into released memory. -EINVAL for a non-pool.

    Its name can be reused at once. Mbufs still allocated from it become invalid
    (every call refuses them); their memory stays mapped while a Python object
    (an Mbuf, an MbufBurst) refers to it.
    """
    if mp is None:
        return 0
    if not isinstance(mp, Mempool):
        return -errno.EINVAL
    if mp.users:
        log.error("rte_mempool_free: pool %r is used by %d started Rx queue(s)", mp.name, mp.users)
        return -errno.EBUSY
    if not mp.freed:
        clones = mp._clones_elsewhere()
        if clones:
            log.error("rte_mempool_free: %d clone(s) in other pools still use pool %r's buffers",
                      clones, mp.name)
            return -errno.EBUSY
    if _pools.get(mp.name) is mp:
        del _pools[mp.name]
    mp._release()
    return 0


def rte_mempool_list() -> list[Mempool]:
    """Every pool of this process (Python counterpart of ``rte_mempool_walk``)."""
    return list(_pools.values())


__all__ = [
    "MBUF_DTYPE", "Mempool", "RTE_MBUF_DEFAULT_BUF_SIZE", "RTE_MBUF_DEFAULT_DATAROOM",
    "RTE_MBUF_PRIV_ALIGN", "RTE_MEMPOOL_CACHE_MAX_SIZE", "RTE_MEMPOOL_NAMESIZE",
    "RTE_PKTMBUF_HEADROOM", "SOCKET_ID_ANY", "rte_errno", "rte_mempool_avail_count",
    "rte_mempool_empty", "rte_mempool_free", "rte_mempool_full", "rte_mempool_in_use_count",
    "rte_mempool_list", "rte_mempool_lookup", "rte_pktmbuf_pool_create",
]
