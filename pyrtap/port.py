"""A Pythonic face of a port, on top of the ``rte_eth_*`` calls.

``Port`` raises ``PortError`` (an ``OSError`` carrying the errno) where the DPDK calls
return a negative errno, and returns plain dicts for statistics. It is a convenience
layer: everything it does goes through the public API of ``ethdev_api``.

    with Port.probe("net_rtap0,iface=rt0") as port:
        port.configure(1, 1)
        port.setup_rx_queue(0, 512, pool)
        port.setup_tx_queue(0, 512)
        port.start()
        print(port.stats())
"""
from __future__ import annotations

import os

from . import _core
from . import eal
from . import ethdev_api as eth
from . import events


class PortError(OSError):
    """A port operation failed; ``errno`` is the positive errno DPDK returned negated."""


def _check(rc: int, what: str, port: Port) -> int:
    if rc < 0:
        raise PortError(-rc, "port %d (%s): %s failed: %s"
                        % (port.port_id, port.name, what, os.strerror(-rc)))
    return rc


class Port:
    """One ethdev port, by id."""

    def __init__(self, port_id: int):
        if not eth.rte_eth_dev_is_valid_port(port_id):
            raise PortError(19, "no port %r" % (port_id,))     # ENODEV
        self.port_id = port_id
        self.name = eth.rte_eth_dev_get_name_by_port(port_id)

    @classmethod
    def probe(cls, devargs: str) -> Port:
        """Create the vdev ``devargs`` (``rte_dev_probe``) and return its port."""
        rc = eal.rte_dev_probe(devargs)
        name = devargs.split(",", 1)[0]
        if rc < 0:
            raise PortError(-rc, "cannot create %s: %s (see the pyrtap log)" % (name, os.strerror(-rc)))
        return cls(eth.rte_eth_dev_get_port_by_name(name))

    def __repr__(self):
        return "<Port %d %s>" % (self.port_id, self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    # ---- lifecycle ---------------------------------------------------------------

    def configure(self, nb_rx_queues: int, nb_tx_queues: int, conf=None) -> None:
        _check(eth.rte_eth_dev_configure(self.port_id, nb_rx_queues, nb_tx_queues, conf),
               "configure(%r, %r)" % (nb_rx_queues, nb_tx_queues), self)

    def setup_rx_queue(self, queue_id: int, nb_desc: int, pool, rx_conf=None) -> None:
        _check(eth.rte_eth_rx_queue_setup(self.port_id, queue_id, nb_desc, -1, rx_conf, pool),
               "Rx queue %r setup" % (queue_id,), self)

    def setup_tx_queue(self, queue_id: int, nb_desc: int, tx_conf=None) -> None:
        _check(eth.rte_eth_tx_queue_setup(self.port_id, queue_id, nb_desc, -1, tx_conf),
               "Tx queue %r setup" % (queue_id,), self)

    def start(self) -> None:
        _check(eth.rte_eth_dev_start(self.port_id), "start", self)

    def stop(self) -> None:
        _check(eth.rte_eth_dev_stop(self.port_id), "stop", self)

    def close(self) -> None:
        _check(eth.rte_eth_dev_close(self.port_id), "close", self)

    def remove(self) -> None:
        """Stop, close and detach the port if it still exists (``rte_dev_remove``)."""
        if eth.rte_eth_dev_get_name_by_port(self.port_id) == self.name:
            _check(eal.rte_dev_remove(self.name), "remove", self)

    # ---- data path -----------------------------------------------------------------

    def rx_burst(self, pkts, nb_pkts: int | None = None, queue_id: int = 0) -> int:
        return eth.rte_eth_rx_burst(self.port_id, queue_id, pkts, len(pkts) if nb_pkts is None else nb_pkts)

    def tx_burst(self, pkts, nb_pkts: int | None = None, queue_id: int = 0) -> int:
        """Send ``pkts[0:nb_pkts]``; by default what an MbufBurst holds (its ``count``,
        not its capacity) or the whole list. Raises ValueError for a burst holding
        something the application may not send (an empty slot, a freed mbuf, ...)."""
        if nb_pkts is None:
            nb_pkts = pkts.count if isinstance(pkts, _core.MbufBurst) else len(pkts)
        rc = eth.rte_eth_tx_burst(self.port_id, queue_id, pkts, nb_pkts)
        if rc < 0:
            raise ValueError("port %d (%s): tx_burst refused the burst: an empty slot, an mbuf "
                             "the application does not own, or nb_segs not the chain's length"
                             % (self.port_id, self.name))
        return rc

    # ---- Rx interrupts and asyncio (docs/events.md) -------------------------------
    #
    # The port must be configured with conf.intr_conf.rxq = 1. The awaitables below use
    # only the queue's interrupt fd and bursts, no netlink, so they are safe inside a
    # running loop.

    def rx_intr_fd(self, queue_id: int = 0) -> int:
        """The queue's pollable Rx interrupt fd (``rte_eth_dev_rx_intr_ctl_q_get_fd``)."""
        return _check(eth.rte_eth_dev_rx_intr_ctl_q_get_fd(self.port_id, queue_id),
                      "rx_intr_ctl_q_get_fd(%r)" % (queue_id,), self)

    def rx_intr_enable(self, queue_id: int = 0) -> None:
        """``rte_eth_dev_rx_intr_enable``."""
        _check(eth.rte_eth_dev_rx_intr_enable(self.port_id, queue_id), "rx_intr_enable", self)

    def rx_intr_disable(self, queue_id: int = 0) -> None:
        """``rte_eth_dev_rx_intr_disable``."""
        _check(eth.rte_eth_dev_rx_intr_disable(self.port_id, queue_id), "rx_intr_disable", self)

    async def wait_rx(self, queue_id: int = 0, timeout: float | None = None) -> bool:
        """Sleep in the running asyncio loop until packets wait on the queue: True, or
        False after ``timeout`` seconds. Arms the queue's Rx interrupt, waits for its fd
        (the loop's epoll watches it: no thread, no spinning) and disarms it. Frames that
        arrived before the call count: it returns at once."""
        fd = self.rx_intr_fd(queue_id)
        self.rx_intr_enable(queue_id)
        try:
            return await events.wait_readable(fd, timeout)
        finally:
            self.rx_intr_disable(queue_id)

    async def rx_bursts(self, queue_id: int = 0, burst: int = 32):
        """Async iterator of bursts: each item a non-empty list of ``Mbuf`` the caller
        frees. Polls while packets flow and sleeps on the Rx interrupt when the queue is
        empty (DPDK's l3fwd-power pattern), so other tasks run meanwhile.

            async for pkts in port.rx_bursts(0):
                for m in pkts: ...; rte_pktmbuf_free(m)
        """
        pkts = [None] * burst
        while True:
            n = eth.rte_eth_rx_burst(self.port_id, queue_id, pkts, burst)
            if n:
                yield pkts[:n]
                continue
            await self.wait_rx(queue_id)

    # ---- settings (read from the kernel every time) --------------------------------

    @property
    def info(self) -> eth.rte_eth_dev_info:
        info = eth.rte_eth_dev_info()
        _check(eth.rte_eth_dev_info_get(self.port_id, info), "info_get", self)
        return info

    @property
    def link(self) -> dict:
        link = eth.rte_eth_link()
        _check(eth.rte_eth_link_get_nowait(self.port_id, link), "link_get", self)
        return {"status": link.link_status == eth.RTE_ETH_LINK_UP, "speed": link.link_speed,
                "duplex": "full" if link.link_duplex else "half"}

    @property
    def mtu(self) -> int:
        return _check(eth.rte_eth_dev_get_mtu(self.port_id), "get_mtu", self)

    @mtu.setter
    def mtu(self, value: int) -> None:
        _check(eth.rte_eth_dev_set_mtu(self.port_id, value), "set_mtu(%r)" % (value,), self)

    @property
    def mac(self) -> str:
        addr = eth.rte_ether_addr()
        _check(eth.rte_eth_macaddr_get(self.port_id, addr), "macaddr_get", self)
        return str(addr)

    @mac.setter
    def mac(self, value: str) -> None:
        _check(eth.rte_eth_dev_default_mac_addr_set(self.port_id, eth.rte_ether_addr(value)),
               "default_mac_addr_set(%s)" % value, self)

    @property
    def promiscuous(self) -> bool:
        return bool(_check(eth.rte_eth_promiscuous_get(self.port_id), "promiscuous_get", self))

    @promiscuous.setter
    def promiscuous(self, on: bool) -> None:
        fn = eth.rte_eth_promiscuous_enable if on else eth.rte_eth_promiscuous_disable
        _check(fn(self.port_id), fn.__name__, self)

    @property
    def allmulticast(self) -> bool:
        return bool(_check(eth.rte_eth_allmulticast_get(self.port_id), "allmulticast_get", self))

    @allmulticast.setter
    def allmulticast(self, on: bool) -> None:
        fn = eth.rte_eth_allmulticast_enable if on else eth.rte_eth_allmulticast_disable
        _check(fn(self.port_id), fn.__name__, self)

    def set_link(self, up: bool) -> None:
        fn = eth.rte_eth_dev_set_link_up if up else eth.rte_eth_dev_set_link_down
        _check(fn(self.port_id), fn.__name__, self)

    # ---- statistics ----------------------------------------------------------------

    def stats(self) -> dict:
        """Basic counters as a dict (``rte_eth_stats_get``), per-queue lists included."""
        st = eth.rte_eth_stats()
        _check(eth.rte_eth_stats_get(self.port_id, st), "stats_get", self)
        return dict(vars(st))

    def xstats(self) -> dict:
        """Every extended statistic by name (``rte_eth_xstats_get_names`` + ``_get``)."""
        n = _check(eth.rte_eth_xstats_get_names(self.port_id, None, 0), "xstats_get_names", self)
        names = [eth.rte_eth_xstat_name() for _ in range(n)]
        values = [eth.rte_eth_xstat() for _ in range(n)]
        _check(eth.rte_eth_xstats_get_names(self.port_id, names, n), "xstats_get_names", self)
        _check(eth.rte_eth_xstats_get(self.port_id, values, n), "xstats_get", self)
        return {names[x.id].name: x.value for x in values}

    def reset_stats(self) -> None:
        _check(eth.rte_eth_stats_reset(self.port_id), "stats_reset", self)
