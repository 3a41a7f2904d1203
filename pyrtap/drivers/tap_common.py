"""Operations shared by net_rtap and net_tap: the port is a real kernel TAP interface.

Control goes to the kernel (TUN ioctls for queues, netlink by ifindex for link
settings); a subclass names only its queue classes, i.e. its data path.
"""
from __future__ import annotations

import errno
import grp
import logging

from .. import _core, netlink
from ..ethdev_driver import EthDev, EthDevOps
from ..ethdev_types import (
    RTE_ETH_RX_OFFLOAD_SCATTER, RTE_ETH_RX_OFFLOAD_TCP_CKSUM, RTE_ETH_RX_OFFLOAD_TCP_LRO,
    RTE_ETH_RX_OFFLOAD_UDP_CKSUM, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM, RTE_ETH_TX_OFFLOAD_MULTI_SEGS,
    RTE_ETH_TX_OFFLOAD_TCP_CKSUM, RTE_ETH_TX_OFFLOAD_TCP_TSO, RTE_ETH_TX_OFFLOAD_UDP_CKSUM,
    RTE_ETH_LINK_DOWN, RTE_ETH_LINK_FIXED, RTE_ETH_LINK_FULL_DUPLEX, RTE_ETH_LINK_UP,
    RTE_ETH_SPEED_NUM_10G, RTE_ETHDEV_QUEUE_STAT_CNTRS, RTE_ETHER_HDR_LEN, RTE_ETHER_MIN_MTU,
    RTE_MAX_QUEUES_PER_PORT, rte_ether_addr, rte_is_valid_assigned_ether_addr,
)
from .tapdev import TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TapDevice

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers

VLAN_TAG_LEN = 4
MAX_MTU = 65535 - RTE_ETHER_HDR_LEN - VLAN_TAG_LEN
DEFAULT_RING_SIZE = 512
MAX_RING_SIZE = 4096
DEFAULT_BURST = 32
# The largest frame the kernel hands over with LRO (TUN_F_TSO*): an IP packet of 64 KB.
LRO_MAX_FRAME = 65535 + RTE_ETHER_HDR_LEN + VLAN_TAG_LEN

# Offloads through the virtio-net header (docs/offloads.md). Rx: the kernel may deliver
# checksum-partial frames (TUN_F_CSUM) and TCP super-frames (TUN_F_TSO4/6) when asked;
# Tx: any frame may carry a checksum or segmentation request. IPv4 header checksums
# are computed in software.
RX_OFFLOAD_CAPA = (RTE_ETH_RX_OFFLOAD_SCATTER | RTE_ETH_RX_OFFLOAD_TCP_CKSUM
                   | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO)
TX_OFFLOAD_CAPA = (RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_UDP_CKSUM
                   | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO
                   | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
RX_CKSUM = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM


def tun_offload_flags(rx_offloads: int) -> int:
    """TUNSETOFFLOAD bits for a port's configured Rx offloads."""
    flags = 0
    if rx_offloads & (RX_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO):
        flags |= TUN_F_CSUM
    if rx_offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO:
        flags |= TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN
    return flags


def _queue_stats(stats, i: int, s: dict, q_packets: list, q_bytes: list) -> None:
    # DPDK reports per-queue counters for the first RTE_ETHDEV_QUEUE_STAT_CNTRS queues.
    if i < RTE_ETHDEV_QUEUE_STAT_CNTRS:
        q_packets[i] = s["packets"]
        q_bytes[i] = s["bytes"]
        stats.q_errors[i] += s["errors"]


def _group_devarg(devargs: dict[str, str]) -> int | None:
    """``group=NAME|GID``: the group (besides our user) a created TAP is restricted to."""
    value = devargs.get("group")
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return grp.getgrnam(value).gr_gid
    except KeyError:
        raise ValueError("group=%s: no such group" % value) from None


def _flag_devarg(devargs: dict[str, str], key: str) -> bool:
    """A boolean devarg: ``key`` or ``key=1/yes/true/on`` is set, ``key=0/no/false/off`` is not."""
    if key not in devargs:
        return False
    value = devargs[key].lower()
    if value in ("", "1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ValueError("devarg %s=%r: expected 0/1, yes/no, true/false or on/off" % (key, devargs[key]))


def _neg_errno(e: BaseException) -> int:
    return -(getattr(e, "errno", None) or errno.EIO)


class TapDriverBase(EthDevOps):
    """A TAP port; subclasses set the queue classes and the devargs they accept."""

    default_iface = "tap%d"
    rx_queue_class = None
    tx_queue_class = None
    devargs_keys = ("iface", "persist", "group")
    equal_queue_counts = False

    def __init__(self, name: str, devargs: dict[str, str]):
        unknown = [k for k in devargs if k not in self.devargs_keys]
        if unknown:
            raise KeyError(unknown[0])
        self.name = name
        self.ring_flags = 0
        self.tap = TapDevice(devargs.get("iface") or None, self.default_iface,
                             persist=_flag_devarg(devargs, "persist"), group=_group_devarg(devargs))
        # The kernel counts drops for the interface's whole life (a persistent one
        # outlives ports): a new port's imissed starts from the current count.
        try:
            self.imissed_base = self._kernel_drops()
        except OSError:
            self.imissed_base = 0

    @property
    def ifindex(self) -> int:
        return self.tap.ifindex

    def _link(self) -> dict:
        return self.tap.netlink(netlink.link_info)

    # ---- lifecycle ----------------------------------------------------------------

    def dev_configure(self, dev: EthDev) -> int:
        if self.equal_queue_counts and dev.nb_rx_queues != dev.nb_tx_queues:
            log.error("%s: %s needs as many Rx as Tx queues (got %d and %d)",
                      self.name, self.driver_name, dev.nb_rx_queues, dev.nb_tx_queues)
            return -errno.EINVAL
        try:
            self.tap.open_queues(max(dev.nb_rx_queues, dev.nb_tx_queues))
            # Set every time, also to 0: a persistent interface keeps an earlier port's.
            self.tap.set_offload(tun_offload_flags(dev.conf.rxmode.offloads))
        except OSError as e:
            log.error("%s: cannot open TAP queues: %s", self.name, e)
            return _neg_errno(e)
        return 0

    def _max_frame(self, dev: EthDev, mtu: int | None = None) -> int:
        """The largest frame an Rx buffer must hold: the MTU's, or a 64 KB LRO frame."""
        if mtu is None:
            mtu = self._link()["mtu"]
        frame = mtu + RTE_ETHER_HDR_LEN + VLAN_TAG_LEN
        if dev.conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO:
            frame = max(frame, LRO_MAX_FRAME)
        return frame

    def rx_queue_setup(self, dev, queue_id, nb_desc, rx_conf, mb_pool) -> int:
        offloads = dev.conf.rxmode.offloads | (rx_conf.offloads if rx_conf is not None else 0)
        try:
            q = self.rx_queue_class(self.tap.queue_fds[queue_id], nb_desc, mb_pool,
                                    self._max_frame(dev), dev.port_id, queue_id, self.ring_flags)
        except (OSError, ValueError) as e:
            log.error("%s: Rx queue %d setup failed: %s", self.name, queue_id, e)
            return _neg_errno(e) if isinstance(e, OSError) else -errno.EINVAL
        q.set_rx_sw_cksum(bool(offloads & RX_CKSUM))
        self.queue_created(q)
        dev.rx_queues[queue_id] = q
        return 0

    def tx_queue_setup(self, dev, queue_id, nb_desc, tx_conf) -> int:
        try:
            q = self.tx_queue_class(self.tap.queue_fds[queue_id], nb_desc, dev.port_id,
                                    queue_id, self.ring_flags)
        except OSError as e:
            log.error("%s: Tx queue %d setup failed: %s", self.name, queue_id, e)
            return _neg_errno(e)
        q.set_tx_offloads(dev.conf.txmode.offloads | (tx_conf.offloads if tx_conf is not None else 0))
        self.queue_created(q)
        dev.tx_queues[queue_id] = q
        return 0

    def queue_created(self, q) -> None:
        """Hook for a driver's own per-queue settings (devargs)."""

    def rx_queue_release(self, dev, queue_id) -> None:
        q = dev.rx_queues[queue_id]
        if q is not None:
            q.close()
        dev.rx_queues[queue_id] = None

    def tx_queue_release(self, dev, queue_id) -> None:
        q = dev.tx_queues[queue_id]
        if q is not None:
            q.close()
        dev.tx_queues[queue_id] = None

    def dev_start(self, dev: EthDev) -> int:
        started = []
        for q in dev.rx_queues + dev.tx_queues:
            rc = q.start()
            if rc < 0:
                for s in started:
                    s.stop()
                log.error("%s: queue %d could not start: %d (pool too small for the ring?)",
                          self.name, q.queue_id, rc)
                return rc
            started.append(q)
        # DPDK's TAP drivers bring the kernel interface up on start.
        rc = self.dev_set_link_up(dev)
        if rc < 0:
            # The interface went away meanwhile: undo the queue starts, or their
            # posted buffers would be lost (stop is a no-op on a port never started).
            for s in started:
                s.stop()
        return rc

    def dev_stop(self, dev: EthDev) -> int:
        for q in dev.rx_queues + dev.tx_queues:
            q.stop()
        try:
            self.tap.netlink(netlink.set_admin_state, False)
        except OSError:
            pass       # already gone (deleted from outside): stopping must still succeed
        return 0

    def dev_close(self, dev: EthDev) -> int:
        for i in range(len(dev.rx_queues)):
            self.rx_queue_release(dev, i)
        for i in range(len(dev.tx_queues)):
            self.tx_queue_release(dev, i)
        self.tap.close()
        return 0

    # ---- information and link ---------------------------------------------------

    def dev_infos_get(self, dev: EthDev, info) -> int:
        try:
            link = self._link()
        except OSError as e:
            return _neg_errno(e)
        info.driver_name = self.driver_name
        info.device_name = self.name
        info.if_index = self.tap.ifindex
        info.max_rx_queues = info.max_tx_queues = RTE_MAX_QUEUES_PER_PORT
        info.max_mac_addrs = 1
        info.min_mtu = max(RTE_ETHER_MIN_MTU, link.get("min_mtu") or RTE_ETHER_MIN_MTU)
        info.max_mtu = min(MAX_MTU, link.get("max_mtu") or MAX_MTU)
        info.max_rx_pktlen = info.max_mtu + RTE_ETHER_HDR_LEN + VLAN_TAG_LEN
        info.min_rx_bufsize = RTE_ETHER_HDR_LEN
        info.rx_offload_capa = RX_OFFLOAD_CAPA
        info.tx_offload_capa = TX_OFFLOAD_CAPA
        # TUNSETOFFLOAD is per interface, so Rx offloads are per port; Tx offloads are
        # per packet (its virtio-net header), so a queue may enable them on its own.
        info.rx_queue_offload_capa = 0
        info.tx_queue_offload_capa = TX_OFFLOAD_CAPA
        info.rx_desc_lim.nb_min = 1
        info.rx_desc_lim.nb_max = MAX_RING_SIZE
        info.tx_desc_lim.nb_min = 1
        info.tx_desc_lim.nb_max = MAX_RING_SIZE
        info.default_rxportconf.ring_size = DEFAULT_RING_SIZE
        info.default_txportconf.ring_size = DEFAULT_RING_SIZE
        info.default_rxportconf.burst_size = DEFAULT_BURST
        info.default_txportconf.burst_size = DEFAULT_BURST
        info.default_rxportconf.nb_queues = info.default_txportconf.nb_queues = 1
        info.nb_rx_queues = dev.nb_rx_queues
        info.nb_tx_queues = dev.nb_tx_queues
        return 0

    def link_update(self, dev, link, wait_to_complete) -> int:
        try:
            info = self._link()
        except OSError as e:
            return _neg_errno(e)
        up = info["admin_up"] and info["running"]
        link.link_status = RTE_ETH_LINK_UP if up else RTE_ETH_LINK_DOWN
        # Virtual devices report a nominal speed, as DPDK's TAP driver does.
        link.link_speed = RTE_ETH_SPEED_NUM_10G
        link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX
        link.link_autoneg = RTE_ETH_LINK_FIXED
        return 0

    def _netlink(self, fn, *args) -> int:
        try:
            self.tap.netlink(fn, *args)
        except OSError as e:
            log.error("%s: %s failed: %s", self.name, fn.__name__, e)
            return _neg_errno(e)
        return 0

    def dev_set_link_up(self, dev) -> int:
        return self._netlink(netlink.set_admin_state, True)

    def dev_set_link_down(self, dev) -> int:
        return self._netlink(netlink.set_admin_state, False)

    def promiscuous_set(self, dev, on) -> int:
        return self._netlink(netlink.set_promisc, on)

    def allmulticast_set(self, dev, on) -> int:
        return self._netlink(netlink.set_allmulti, on)

    def _flag_get(self, key) -> int:
        try:
            return int(bool(self._link()[key]))
        except OSError as e:
            return _neg_errno(e)

    def promiscuous_get(self, dev) -> int:
        return self._flag_get("promisc")

    def allmulticast_get(self, dev) -> int:
        return self._flag_get("allmulti")

    def mac_addr_get(self, dev, addr) -> int:
        try:
            addr.addr_bytes = rte_ether_addr(self._link()["address"]).addr_bytes
        except OSError as e:
            return _neg_errno(e)
        return 0

    def mac_addr_set(self, dev, addr) -> int:
        if not rte_is_valid_assigned_ether_addr(addr):
            log.error("%s: %s is not a valid unicast address", self.name, addr)
            return -errno.EINVAL
        return self._netlink(netlink.set_address, addr.addr_bytes)

    def mtu_get(self, dev) -> int:
        try:
            return self._link()["mtu"]
        except OSError as e:
            return _neg_errno(e)

    def mtu_set(self, dev, mtu) -> int:
        # Receive buffers hold the largest frame the MTU allows (scatter Rx chains when
        # one mbuf is too small). Growing them comes first, so no frame of the new size
        # ever meets an old buffer (the kernel would cut it): a started queue is
        # stopped (its posted reads cancelled, buffers returned) and started again
        # with longer chains; frames waiting in the kernel's queue are not lost.
        frame = self._max_frame(dev, mtu)
        for q in dev.rx_queues:
            if q is None or q.max_frame >= frame:
                continue
            if dev.started:
                q.stop()
            err = 0
            try:
                q.set_rx_max_frame(frame)
            except ValueError as e:
                log.error("%s: MTU %d: Rx queue %d: %s", self.name, mtu, q.queue_id, e)
                err = -errno.EINVAL
            if dev.started:
                rc = q.start()          # restarted either way: with the old size after an error
                err = err or rc
            if err < 0:
                return err
        return self._netlink(netlink.set_mtu, mtu)

    # ---- statistics -------------------------------------------------------------

    def _kernel_drops(self) -> int:
        # Frames the kernel could not queue to the port: a TAP interface counts them
        # as its own tx_dropped (the kernel "transmits" towards the port).
        return self.tap.netlink(netlink.link_stats64)["tx_dropped"]

    def stats_get(self, dev, stats) -> int:
        stats.__init__()
        for i, q in enumerate(dev.rx_queues):
            s = q.stats() if q is not None else None
            if s:
                stats.ipackets += s["packets"]
                stats.ibytes += s["bytes"]
                stats.ierrors += s["errors"]
                stats.rx_nombuf += s["nombuf"]
                _queue_stats(stats, i, s, stats.q_ipackets, stats.q_ibytes)
        for i, q in enumerate(dev.tx_queues):
            s = q.stats() if q is not None else None
            if s:
                stats.opackets += s["packets"]
                stats.obytes += s["bytes"]
                stats.oerrors += s["errors"]
                _queue_stats(stats, i, s, stats.q_opackets, stats.q_obytes)
        try:
            stats.imissed = self._kernel_drops() - self.imissed_base
        except OSError as e:
            return _neg_errno(e)
        return 0

    def xstats_get(self, dev) -> list[tuple[str, int]]:
        """Per-queue counters kept by the burst loops, named as DPDK does (rx_q0_...)."""
        out = []
        for prefix, queues, names in (("rx", dev.rx_queues, _core.RXQ_XSTATS),
                                      ("tx", dev.tx_queues, _core.TXQ_XSTATS)):
            for i, q in enumerate(queues):
                values = q.xstats() if q is not None else [(n, 0) for n in names]
                out += [("%s_q%d_%s" % (prefix, i, n), v) for n, v in values]
        return out

    def stats_reset(self, dev) -> int:
        for q in dev.rx_queues + dev.tx_queues:
            if q is not None:
                q.stats_reset()
        try:
            self.imissed_base = self._kernel_drops()
        except OSError as e:
            return _neg_errno(e)
        return 0
