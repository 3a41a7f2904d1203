"""net_rtap: the io_uring TAP driver (DPDK's drivers/net/rtap).

Control is shared with net_tap (tap_common); the data path is the io_uring one
in the Cython core: one ring per queue, pre-posted reads, Tx reaped every burst.
Devargs beyond ``iface``/``persist`` select the io_uring techniques, so the benchmark
can compare them (``shared/MEASUREMENTS.md``):

* ``uring=default|coop|defer|sqpoll``: the rings' setup flags;
* ``rx=prepost|multishot``: one read posted per descriptor (as the C driver), or one
  multishot read fed by a provided-buffer ring of mbufs (no scatter Rx), or per
  burst a batch of RWF_NOWAIT reads reaped before returning (nothing left armed).
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
    devargs_keys = ("iface", "persist", "uring", "rx")
    rx_modes = {"prepost": _core.UringRxQueue, "multishot": _core.UringMultishotRxQueue,
                "batch": _core.UringBatchRxQueue}
    # One TAP queue fd carries one Rx and one Tx ring, as in the C driver.
    equal_queue_counts = True

    def __init__(self, name: str, devargs: dict[str, str]):
        preset = devargs.get("uring", "default")
        if preset not in _core.URING_PRESETS:
            raise ValueError("uring=%s: expected one of %s" % (preset, ", ".join(_core.URING_PRESETS)))
        rx_mode = devargs.get("rx", "prepost")
        if rx_mode not in self.rx_modes:
            raise ValueError("rx=%s: expected one of %s" % (rx_mode, ", ".join(self.rx_modes)))
        super().__init__(name, devargs)
        self.ring_flags = _core.URING_PRESETS[preset]
        self.rx_queue_class = self.rx_modes[rx_mode]
