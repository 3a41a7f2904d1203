"""net_rtap: the io_uring TAP driver (DPDK's drivers/net/rtap).

Control is shared with net_tap (tap_common); the data path is the io_uring one in the
Cython core: one ring per queue, Tx reaped every burst. Devargs beyond
``iface``/``persist`` select the io_uring techniques, so the benchmark can compare
them (docs/drivers.md, docs/benchmarks.md):

* ``uring=default|coop|defer|sqpoll``: the rings' setup flags;
* ``rx=auto|batch|prepost|multishot``: how reads are posted. ``batch``: per burst, a
  batch of RWF_NOWAIT reads submitted and reaped in one io_uring_enter (nothing left
  armed); ``auto`` (the default, chosen by measurement): ``batch`` plus a plain read()
  when one frame is wanted or the queue was idle; ``prepost``: one read posted per
  descriptor, the C driver's design; ``multishot``: one multishot read fed by a
  provided-buffer ring of mbufs (falls back to batched reads when frames need chains);
* ``sync=N`` (default 4): bursts of up to N packets use plain read()/write(), where
  io_uring's per-request cost is not repaid (rx=auto and Tx); ``sync=0`` never does.
"""
from __future__ import annotations

from .. import _core
from .tap_common import TapDriverBase
from .tap_intr import TapIntrOps


class RtapDriver(TapIntrOps, TapDriverBase):
    """eth_dev_ops of net_rtap."""

    driver_name = "net_rtap"
    default_iface = "rtap%d"
    rx_queue_class = _core.UringRxQueue
    tx_queue_class = _core.UringTxQueue
    devargs_keys = TapDriverBase.devargs_keys + ("uring", "rx", "sync")
    rx_modes = {"auto": _core.UringAutoRxQueue, "batch": _core.UringBatchRxQueue,
                "prepost": _core.UringRxQueue, "multishot": _core.UringMultishotRxQueue}
    default_rx_mode = "auto"     # chosen by measurement: docs/benchmarks.md
    # Bursts up to this size go through plain read()/write(): below it io_uring's
    # per-request cost is not repaid by fewer system calls (docs/benchmarks.md).
    default_sync_max = 4
    # One TAP queue fd carries one Rx and one Tx ring, as in the C driver.
    equal_queue_counts = True

    def __init__(self, name: str, devargs: dict[str, str]):
        preset = devargs.get("uring", "default")
        if preset not in _core.URING_PRESETS:
            raise ValueError("uring=%s: expected one of %s" % (preset, ", ".join(_core.URING_PRESETS)))
        rx_mode = devargs.get("rx", self.default_rx_mode)
        if rx_mode not in self.rx_modes:
            raise ValueError("rx=%s: expected one of %s" % (rx_mode, ", ".join(self.rx_modes)))
        sync = devargs.get("sync", str(self.default_sync_max))
        if not sync.isdigit() or int(sync) > 512:
            raise ValueError("sync=%s: expected a burst size from 0 to 512" % sync)
        super().__init__(name, devargs)
        self.ring_flags = _core.URING_PRESETS[preset]
        self.rx_queue_class = self.rx_modes[rx_mode]
        self.sync_max = int(sync)

    def queue_created(self, q) -> None:
        q.set_sync_max(self.sync_max)
