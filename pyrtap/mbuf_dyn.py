"""mbuf dynamic fields and flags (DPDK's ``rte_mbuf_dyn.h``) and ``rte_mbuf_to_priv``.

A library registers a named field (size, alignment) or flag once and gets an offset or
a bit number; every mbuf then has that field. Fields live in a per-pool area of
``DYNFIELD_AREA_SIZE`` (64) bytes per mbuf in this process (pyrtap's mbuf has no spare
bytes); flags are ``ol_flags`` bits no ``RTE_MBUF_F_*`` flag uses. Registering the same
name with the same parameters again returns the same offset or bit, as in DPDK.
"""
from __future__ import annotations

import errno

from ._core import (DYNFIELD_AREA_SIZE, RTE_MBUF_DYNFIELD, _set_errno, dynfield_get, dynfield_set,
                    rte_mbuf_to_priv)

RTE_MBUF_DYN_NAMESIZE = 64
# ol_flags bits free of every RTE_MBUF_F_* flag (DPDK hands dynamic flags out of the
# same kind of gaps, from the top).
_FREE_FLAG_BITS = (40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 17, 12, 11)


class rte_mbuf_dynfield:
    """``struct rte_mbuf_dynfield``: ``name``, ``size``, ``align`` (a power of 2), ``flags`` (0)."""

    def __init__(self, name: str = "", size: int = 0, align: int = 1, flags: int = 0):
        self.name, self.size, self.align, self.flags = name, size, align, flags

    def _key(self):
        return (self.size, self.align, self.flags)

    def __repr__(self):
        return "rte_mbuf_dynfield(%r, size=%d, align=%d)" % (self.name, self.size, self.align)


class rte_mbuf_dynflag:
    """``struct rte_mbuf_dynflag``: ``name``, ``flags`` (0)."""

    def __init__(self, name: str = "", flags: int = 0):
        self.name, self.flags = name, flags

    def __repr__(self):
        return "rte_mbuf_dynflag(%r)" % self.name


_fields: dict[str, tuple[int, tuple]] = {}    # name -> (offset, (size, align, flags))
_flags: dict[str, int] = {}                    # name -> bit number
_used = bytearray(DYNFIELD_AREA_SIZE)


def _fail(err: int) -> int:
    _set_errno(err)
    return -1


def rte_mbuf_dynfield_register(params: rte_mbuf_dynfield) -> int:
    """Register a dynamic field; its offset, or -1 with rte_errno EINVAL (bad parameters),
    EEXIST (the name is registered with other parameters) or ENOENT (no room left)
    (``rte_mbuf_dynfield_register``)."""
    if not isinstance(params, rte_mbuf_dynfield) or not isinstance(params.name, str) \
            or not 0 < len(params.name) < RTE_MBUF_DYN_NAMESIZE or not isinstance(params.size, int) \
            or not 0 < params.size <= DYNFIELD_AREA_SIZE or not isinstance(params.align, int) \
            or params.align <= 0 or params.align & (params.align - 1) or params.flags != 0:
        return _fail(errno.EINVAL)
    known = _fields.get(params.name)
    if known is not None:
        return known[0] if known[1] == params._key() else _fail(errno.EEXIST)
    for off in range(0, DYNFIELD_AREA_SIZE - params.size + 1, params.align):
        if not any(_used[off:off + params.size]):
            _used[off:off + params.size] = b"\x01" * params.size
            _fields[params.name] = (off, params._key())
            return off
    return _fail(errno.ENOENT)


def rte_mbuf_dynfield_lookup(name: str, params: rte_mbuf_dynfield | None = None) -> int:
    """The offset of a registered field, or -1 with rte_errno ENOENT; ``params``, when given,
    is filled with its description (``rte_mbuf_dynfield_lookup``)."""
    known = _fields.get(name)
    if known is None:
        return _fail(errno.ENOENT)
    if params is not None:
        params.name = name
        params.size, params.align, params.flags = known[1]
    return known[0]


def rte_mbuf_dynflag_register(params: rte_mbuf_dynflag) -> int:
    """Register a dynamic ``ol_flags`` bit; its number (the flag is ``1 << n``), or -1 with
    rte_errno EINVAL or ENOENT (``rte_mbuf_dynflag_register``)."""
    if not isinstance(params, rte_mbuf_dynflag) or not isinstance(params.name, str) \
            or not 0 < len(params.name) < RTE_MBUF_DYN_NAMESIZE or params.flags != 0:
        return _fail(errno.EINVAL)
    if params.name in _flags:
        return _flags[params.name]
    taken = set(_flags.values())
    for bit in _FREE_FLAG_BITS:
        if bit not in taken:
            _flags[params.name] = bit
            return bit
    return _fail(errno.ENOENT)


def rte_mbuf_dynflag_lookup(name: str, params: rte_mbuf_dynflag | None = None) -> int:
    """The bit number of a registered flag, or -1 with rte_errno ENOENT (``rte_mbuf_dynflag_lookup``)."""
    if name not in _flags:
        return _fail(errno.ENOENT)
    if params is not None:
        params.name = name
    return _flags[name]


__all__ = ["RTE_MBUF_DYN_NAMESIZE", "DYNFIELD_AREA_SIZE", "rte_mbuf_dynfield", "rte_mbuf_dynflag",
           "rte_mbuf_dynfield_register", "rte_mbuf_dynfield_lookup", "rte_mbuf_dynflag_register",
           "rte_mbuf_dynflag_lookup", "RTE_MBUF_DYNFIELD", "dynfield_get", "dynfield_set",
           "rte_mbuf_to_priv"]
