"""What a driver sees of the ethdev layer (DPDK's ``ethdev_driver.h``).

A driver is a subclass of ``EthDevOps`` (DPDK's ``struct eth_dev_ops``): it
overrides the operations it supports; the rest answer -ENOTSUP. The ethdev layer
keeps the port's generic state in ``EthDev`` (DPDK's ``rte_eth_dev_data``) and
calls the operations only in states where DPDK would.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass, field

from .ethdev_types import rte_eth_conf

ENOTSUP = errno.EOPNOTSUPP   # DPDK's ENOTSUP is EOPNOTSUPP on Linux


@dataclass(eq=False)
class EthDev:
    """One port's generic state."""
    port_id: int
    name: str
    ops: EthDevOps
    configured: bool = False
    started: bool = False
    nb_rx_queues: int = 0
    nb_tx_queues: int = 0
    conf: rte_eth_conf = field(default_factory=rte_eth_conf)
    rx_queues: list = field(default_factory=list)   # driver queue objects (pyrtap._core.Queue)
    tx_queues: list = field(default_factory=list)
    rx_callbacks: dict = field(default_factory=dict)  # queue id -> [rte_eth_rxtx_callback]
    tx_callbacks: dict = field(default_factory=dict)


class EthDevOps:
    """Operations table of a driver. Every method returns 0 or a negative errno."""

    driver_name = "?"

    def dev_configure(self, dev: EthDev) -> int:
        return -ENOTSUP

    def dev_infos_get(self, dev: EthDev, info) -> int:
        return -ENOTSUP

    def rx_queue_setup(self, dev: EthDev, queue_id: int, nb_desc: int, rx_conf, mb_pool) -> int:
        return -ENOTSUP

    def tx_queue_setup(self, dev: EthDev, queue_id: int, nb_desc: int, tx_conf) -> int:
        return -ENOTSUP

    def rx_queue_release(self, dev: EthDev, queue_id: int) -> None:
        dev.rx_queues[queue_id] = None

    def tx_queue_release(self, dev: EthDev, queue_id: int) -> None:
        dev.tx_queues[queue_id] = None

    def dev_start(self, dev: EthDev) -> int:
        return -ENOTSUP

    def dev_stop(self, dev: EthDev) -> int:
        return -ENOTSUP

    def dev_close(self, dev: EthDev) -> int:
        return 0

    def link_update(self, dev: EthDev, link, wait_to_complete: bool) -> int:
        return -ENOTSUP

    def dev_set_link_up(self, dev: EthDev) -> int:
        return -ENOTSUP

    def dev_set_link_down(self, dev: EthDev) -> int:
        return -ENOTSUP

    def promiscuous_set(self, dev: EthDev, on: bool) -> int:
        return -ENOTSUP

    def promiscuous_get(self, dev: EthDev) -> int:
        return -ENOTSUP

    def allmulticast_set(self, dev: EthDev, on: bool) -> int:
        return -ENOTSUP

    def allmulticast_get(self, dev: EthDev) -> int:
        return -ENOTSUP

    def mac_addr_get(self, dev: EthDev, addr) -> int:
        return -ENOTSUP

    def mac_addr_set(self, dev: EthDev, addr) -> int:
        return -ENOTSUP

    def mtu_get(self, dev: EthDev) -> int:
        return -ENOTSUP

    def mtu_set(self, dev: EthDev, mtu: int) -> int:
        return -ENOTSUP

    def stats_get(self, dev: EthDev, stats) -> int:
        return -ENOTSUP

    def stats_reset(self, dev: EthDev) -> int:
        return -ENOTSUP

    def xstats_get(self, dev: EthDev) -> list[tuple[str, int]]:
        """Driver-specific extended statistics as (name, value), in a fixed order."""
        return []

    # ---- events (docs/events.md) ----------------------------------------------------

    def intr_link_source(self, dev: EthDev):
        """Where link events of the port come from: ``(netns_fd or None, ifindex)``, the
        namespace fd (None: ours) given to the caller to close; -ENODEV once the device
        is gone, -ENOTSUP without link events."""
        return -ENOTSUP

    def rx_queue_intr_fd(self, dev: EthDev, queue_id: int) -> int:
        """A pollable fd readable while the Rx queue has packets, or -errno."""
        return -ENOTSUP

    def rx_queue_intr_enable(self, dev: EthDev, queue_id: int) -> int:
        return -ENOTSUP

    def rx_queue_intr_disable(self, dev: EthDev, queue_id: int) -> int:
        return -ENOTSUP
