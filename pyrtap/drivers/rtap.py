"""net_rtap: the io_uring TAP driver (DPDK's drivers/net/rtap).

Control is shared with net_tap (tap_common); the data path is the io_uring one
in the Cython core: one ring per queue, pre-posted reads, Tx reaped every burst.
The devarg ``uring=default|coop|defer|sqpoll`` picks the rings' setup flags so the
benchmark can compare them (``shared/MEASUREMENTS.md``).
"""
from __future__ import annotations

from .. import _core
from .tap_common import TapDriverBase


class RtapDriver(TapDriverBase):
    """eth_dev_ops of net_rtap."""

    driver_name = "net_rtap"
    default_iface = "rtap%d"
    rx_queue_class = _core.UringRxQueue
    tx_queue_class = _core.UringTxQueue
    devargs_keys = ("iface", "persist", "uring")
    # One TAP queue fd carries one Rx and one Tx ring, as in the C driver.
    equal_queue_counts = True

    def __init__(self, name: str, devargs: dict[str, str]):
        preset = devargs.get("uring", "default")
        if preset not in _core.URING_PRESETS:
            raise ValueError("uring=%s: expected one of %s" % (preset, ", ".join(_core.URING_PRESETS)))
        super().__init__(name, devargs)
        self.ring_flags = _core.URING_PRESETS[preset]
