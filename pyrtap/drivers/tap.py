"""net_tap: the traditional TAP driver, one read()/write() system call per packet.

Same interface, devargs and frame format as net_rtap, so any program or benchmark
switches between the two by changing only the vdev name.
"""
from __future__ import annotations

from .. import _core
from .tap_common import TapDriverBase
from .tap_intr import TapIntrOps


class TapDriver(TapIntrOps, TapDriverBase):
    """eth_dev_ops of net_tap."""

    driver_name = "net_tap"
    default_iface = "dtap%d"
    rx_queue_class = _core.SyscallRxQueue
    tx_queue_class = _core.SyscallTxQueue
