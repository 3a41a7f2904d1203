"""Tx buffering, as DPDK's ``rte_eth_tx_buffer*`` (rte_ethdev.h): collect packets one by
one, send them as a burst when the buffer is full or when the application flushes.

The buffer holds an ``MbufBurst``, so a flush is one ``rte_eth_tx_burst`` over it. The
error callback gets what the queue did not take: ``cb(unsent, count, userdata)``, with
``unsent`` a view of the buffer's handles (valid during the call).
"""
from __future__ import annotations

import errno

from ._core import MAX_BURST_SIZE, MbufBurst, rte_eth_tx_burst, rte_pktmbuf_free_bulk

_HANDLE_SIZE = 8          # bytes per packet pointer, as in C
_STRUCT_SIZE = 24         # struct rte_eth_dev_tx_buffer without its pkts[] array


def RTE_ETH_TX_BUFFER_SIZE(sz: int) -> int:
    """Bytes a C program allocates for a buffer of ``sz`` packets (``RTE_ETH_TX_BUFFER_SIZE``).
    Python programs create ``rte_eth_dev_tx_buffer()`` instead and never need it."""
    return _STRUCT_SIZE + sz * _HANDLE_SIZE


class rte_eth_dev_tx_buffer:
    """``struct rte_eth_dev_tx_buffer``: ``size``, ``length`` (packets waiting), ``pkts``."""

    __slots__ = ("size", "length", "pkts", "error_callback", "error_userdata")

    def __init__(self, size: int = 0):
        self.size = 0
        self.length = 0
        self.pkts = None
        self.error_callback = None
        self.error_userdata = None
        if size:
            if rte_eth_tx_buffer_init(self, size) < 0:
                raise ValueError("Tx buffer size %r must be 1..%d" % (size, MAX_BURST_SIZE))

    def __repr__(self):
        return "<rte_eth_dev_tx_buffer size=%d length=%d>" % (self.size, self.length)


def rte_eth_tx_buffer_drop_callback(pkts, unsent: int, userdata) -> None:
    """Default error callback: free the unsent packets (``rte_eth_tx_buffer_drop_callback``)."""
    rte_pktmbuf_free_bulk(pkts, unsent)


def rte_eth_tx_buffer_count_callback(pkts, unsent: int, userdata) -> None:
    """Free the unsent packets and add their number to ``userdata``
    (``rte_eth_tx_buffer_count_callback``). C passes a ``uint64_t *``; here ``userdata`` is
    anything with a ``value`` (e.g. ``ctypes.c_uint64``) or a mutable sequence (element 0)."""
    rte_pktmbuf_free_bulk(pkts, unsent)
    if hasattr(userdata, "value"):
        userdata.value += unsent
    else:
        userdata[0] += unsent


def rte_eth_tx_buffer_init(buffer: rte_eth_dev_tx_buffer, size: int) -> int:
    """Make ``buffer`` hold up to ``size`` packets (``rte_eth_tx_buffer_init``); the error
    callback defaults to dropping. 0, or -EINVAL for a bad buffer or size."""
    if not isinstance(buffer, rte_eth_dev_tx_buffer) or not isinstance(size, int) \
            or not 0 < size <= MAX_BURST_SIZE:
        return -errno.EINVAL
    if buffer.length:
        rte_pktmbuf_free_bulk(buffer.pkts, buffer.length)   # a re-init must not leak
    buffer.size = size
    buffer.length = 0
    buffer.pkts = MbufBurst(size)
    if buffer.error_callback is None:
        buffer.error_callback = rte_eth_tx_buffer_drop_callback
    return 0


def rte_eth_tx_buffer_set_err_callback(buffer: rte_eth_dev_tx_buffer, callback, userdata) -> int:
    """Call ``callback(unsent, count, userdata)`` for packets a flush could not send
    (``rte_eth_tx_buffer_set_err_callback``). 0, or -EINVAL."""
    if not isinstance(buffer, rte_eth_dev_tx_buffer) or not callable(callback):
        return -errno.EINVAL
    buffer.error_callback = callback
    buffer.error_userdata = userdata
    return 0


def rte_eth_tx_buffer_flush(port_id: int, queue_id: int, buffer: rte_eth_dev_tx_buffer) -> int:
    """Send what the buffer holds (``rte_eth_tx_buffer_flush``); packets the queue does not
    take go to the error callback. Returns the number sent."""
    to_send = buffer.length
    if to_send == 0:
        return 0
    sent = rte_eth_tx_burst(port_id, queue_id, buffer.pkts, to_send)
    buffer.length = 0
    if sent < to_send:
        buffer.error_callback(buffer.pkts[sent:to_send], to_send - sent, buffer.error_userdata)
    return sent


def rte_eth_tx_buffer(port_id: int, queue_id: int, buffer: rte_eth_dev_tx_buffer, tx_pkt) -> int:
    """Add ``tx_pkt`` to the buffer; when it is full, flush it (``rte_eth_tx_buffer``).
    Returns the number of packets sent by this call (0 while the buffer fills)."""
    buffer.pkts[buffer.length] = tx_pkt
    buffer.length += 1
    if buffer.length < buffer.size:
        return 0
    return rte_eth_tx_buffer_flush(port_id, queue_id, buffer)


__all__ = ["RTE_ETH_TX_BUFFER_SIZE", "rte_eth_dev_tx_buffer", "rte_eth_tx_buffer_init",
           "rte_eth_tx_buffer_set_err_callback", "rte_eth_tx_buffer_drop_callback",
           "rte_eth_tx_buffer_count_callback", "rte_eth_tx_buffer_flush", "rte_eth_tx_buffer"]
