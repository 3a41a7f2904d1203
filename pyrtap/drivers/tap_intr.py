"""Events of a TAP port (DPDK's ``*_intr.c``): where its link events come from, and
its Rx queue interrupts. Shared by net_rtap and net_tap.

Rx interrupt fd of a queue (docs/events.md explains the choice):

* net_tap, and net_rtap with ``rx=auto`` or ``rx=batch`` (nothing posted between bursts):
  the TAP queue fd itself. Frames wait in the kernel's queue until a burst reads them,
  and the fd is readable (POLLIN) exactly while they do. Enable/disable have nothing to
  arm: the fd is level-triggered.
* net_rtap with ``rx=prepost`` or ``rx=multishot`` (reads posted between bursts): the
  posted reads take frames off the TAP queue as they arrive, so the TAP fd stays
  unreadable; an eventfd registered with the queue's io_uring is signalled by every
  completion. Enable arms it (and signals at once if completions already wait),
  disable stops the signals.
"""
from __future__ import annotations

import errno
import logging

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers


class TapIntrOps:
    """The event operations of EthDevOps for a TAP port (mixed into the drivers)."""

    def intr_link_source(self, dev):
        # The TAP fd names the namespace; the ifindex is looked up again after a move.
        try:
            return self.tap.locate()
        except OSError as e:
            return -(e.errno or errno.EIO)

    def _rxq(self, dev, queue_id):
        if not dev.conf.intr_conf.rxq:
            log.error("%s: Rx interrupts need intr_conf.rxq = 1 at configure", self.name)
            return -errno.ENOTSUP
        if not isinstance(queue_id, int) or not 0 <= queue_id < len(dev.rx_queues) \
                or dev.rx_queues[queue_id] is None:
            log.error("%s: Rx queue %r is not set up", self.name, queue_id)
            return -errno.EINVAL
        return dev.rx_queues[queue_id]

    def rx_queue_intr_fd(self, dev, queue_id) -> int:
        q = self._rxq(dev, queue_id)
        if isinstance(q, int):
            return q
        if getattr(q, "rx_wakes_by_completion", False):
            try:
                return q.rx_intr_eventfd()
            except OSError as e:
                log.error("%s: Rx queue %d: %s", self.name, queue_id, e)
                return -(e.errno or errno.EIO)
        return self.tap.queue_fds[queue_id]

    def _arm(self, dev, queue_id, on: bool) -> int:
        q = self._rxq(dev, queue_id)
        if isinstance(q, int):
            return q
        if getattr(q, "rx_wakes_by_completion", False):
            fd = self.rx_queue_intr_fd(dev, queue_id)
            if fd < 0:
                return fd
            q.rx_intr_arm(on)
        return 0

    def rx_queue_intr_enable(self, dev, queue_id) -> int:
        return self._arm(dev, queue_id, True)

    def rx_queue_intr_disable(self, dev, queue_id) -> int:
        return self._arm(dev, queue_id, False)
