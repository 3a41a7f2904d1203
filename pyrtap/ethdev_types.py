"""DPDK's ethdev structures and constants (``rte_ethdev.h``) as plain Python objects.

They are the in/out parameters of the ``rte_eth_*`` calls: created with no
arguments and filled in place, as C code passes a struct pointer.
"""
from __future__ import annotations

import os

from ._core import C_LIMITS as _C

RTE_MAX_ETHPORTS = _C["RTE_MAX_ETHPORTS"]                 # defined once, in the core
RTE_MAX_QUEUES_PER_PORT = _C["RTE_MAX_QUEUES_PER_PORT"]
RTE_ETHDEV_QUEUE_STAT_CNTRS = 16
RTE_ETHER_ADDR_LEN = 6
RTE_ETHER_HDR_LEN = 14
RTE_ETHER_CRC_LEN = 4
RTE_ETHER_MIN_MTU = 68
RTE_ETHER_MTU = 1500
RTE_ETH_NAME_MAX_LEN = 64
RTE_ETH_XSTATS_NAME_SIZE = 64

RTE_ETH_LINK_DOWN = 0
RTE_ETH_LINK_UP = 1
RTE_ETH_LINK_HALF_DUPLEX = 0
RTE_ETH_LINK_FULL_DUPLEX = 1
RTE_ETH_LINK_FIXED = 0
RTE_ETH_LINK_AUTONEG = 1
RTE_ETH_SPEED_NUM_NONE = 0
RTE_ETH_SPEED_NUM_10G = 10000
RTE_ETH_SPEED_NUM_UNKNOWN = 0xFFFFFFFF

# Multi-queue modes (enum rte_eth_rx_mq_mode / rte_eth_tx_mq_mode): TAP queues are picked
# by the kernel's flow hash whatever the mode; accepted for samples that set them.
RTE_ETH_MQ_RX_NONE = 0
RTE_ETH_MQ_RX_RSS = 1
RTE_ETH_MQ_TX_NONE = 0
RTE_ETH_LINK_MAX_STR_LEN = 40

# enum rte_eth_event_type (the events pyrtap raises: LSC and RMV; docs/events.md)
RTE_ETH_EVENT_UNKNOWN = 0
RTE_ETH_EVENT_INTR_LSC = 1
RTE_ETH_EVENT_QUEUE_STATE = 2
RTE_ETH_EVENT_INTR_RESET = 3
RTE_ETH_EVENT_VF_MBOX = 4
RTE_ETH_EVENT_MACSEC = 5
RTE_ETH_EVENT_INTR_RMV = 6
RTE_ETH_EVENT_NEW = 7
RTE_ETH_EVENT_DESTROY = 8
RTE_ETH_EVENT_MAX = 15
# Port id of a callback for every port (rte_eth_dev_callback_register).
RTE_ETH_ALL = RTE_MAX_ETHPORTS

RTE_ETH_DEV_NO_OWNER = 0

# Rx offloads: rte_eth_dev_info capabilities and rte_eth_rxmode/rxconf requests
# (rte_ethdev.h, DPDK 22.11+ values; the C side is pyrtap/includes/rte_flags.h).
RTE_ETH_RX_OFFLOAD_VLAN_STRIP = 1 << 0
RTE_ETH_RX_OFFLOAD_IPV4_CKSUM = 1 << 1
RTE_ETH_RX_OFFLOAD_UDP_CKSUM = 1 << 2
RTE_ETH_RX_OFFLOAD_TCP_CKSUM = 1 << 3
RTE_ETH_RX_OFFLOAD_TCP_LRO = 1 << 4
RTE_ETH_RX_OFFLOAD_QINQ_STRIP = 1 << 5
RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM = 1 << 6
RTE_ETH_RX_OFFLOAD_MACSEC_STRIP = 1 << 7
RTE_ETH_RX_OFFLOAD_VLAN_FILTER = 1 << 9
RTE_ETH_RX_OFFLOAD_VLAN_EXTEND = 1 << 10
RTE_ETH_RX_OFFLOAD_SCATTER = 1 << 13
RTE_ETH_RX_OFFLOAD_TIMESTAMP = 1 << 14
RTE_ETH_RX_OFFLOAD_SECURITY = 1 << 15
RTE_ETH_RX_OFFLOAD_KEEP_CRC = 1 << 16
RTE_ETH_RX_OFFLOAD_SCTP_CKSUM = 1 << 17
RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM = 1 << 18
RTE_ETH_RX_OFFLOAD_RSS_HASH = 1 << 19
RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT = 1 << 20
RTE_ETH_RX_OFFLOAD_CHECKSUM = (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
                               RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
RTE_ETH_RX_OFFLOAD_VLAN = (RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_VLAN_FILTER |
                           RTE_ETH_RX_OFFLOAD_VLAN_EXTEND | RTE_ETH_RX_OFFLOAD_QINQ_STRIP)

# Tx offloads: capabilities and rte_eth_txmode/txconf requests (same sources).
RTE_ETH_TX_OFFLOAD_VLAN_INSERT = 1 << 0
RTE_ETH_TX_OFFLOAD_IPV4_CKSUM = 1 << 1
RTE_ETH_TX_OFFLOAD_UDP_CKSUM = 1 << 2
RTE_ETH_TX_OFFLOAD_TCP_CKSUM = 1 << 3
RTE_ETH_TX_OFFLOAD_SCTP_CKSUM = 1 << 4
RTE_ETH_TX_OFFLOAD_TCP_TSO = 1 << 5
RTE_ETH_TX_OFFLOAD_UDP_TSO = 1 << 6
RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM = 1 << 7
RTE_ETH_TX_OFFLOAD_QINQ_INSERT = 1 << 8
RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO = 1 << 9
RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO = 1 << 10
RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO = 1 << 11
RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO = 1 << 12
RTE_ETH_TX_OFFLOAD_MACSEC_INSERT = 1 << 13
RTE_ETH_TX_OFFLOAD_MT_LOCKFREE = 1 << 14
RTE_ETH_TX_OFFLOAD_MULTI_SEGS = 1 << 15
RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE = 1 << 16
RTE_ETH_TX_OFFLOAD_SECURITY = 1 << 17
RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO = 1 << 18
RTE_ETH_TX_OFFLOAD_IP_TNL_TSO = 1 << 19
RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM = 1 << 20
RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP = 1 << 21


class _Struct:
    """Repr of every public attribute, as gdb would print the C struct."""

    def __repr__(self):
        fields = ", ".join("%s=%r" % kv for kv in vars(self).items() if not kv[0].startswith("_"))
        return "%s(%s)" % (type(self).__name__, fields)


class rte_eth_rxmode(_Struct):
    def __init__(self):
        self.mq_mode = RTE_ETH_MQ_RX_NONE
        self.mtu = 0
        self.offloads = 0
        self.max_lro_pkt_size = 0


class rte_eth_txmode(_Struct):
    def __init__(self):
        self.mq_mode = RTE_ETH_MQ_TX_NONE
        self.offloads = 0


class rte_eth_intr_conf(_Struct):
    """Interrupts wanted (``rte_eth_conf.intr_conf``): ``lsc`` link-state change events,
    ``rmv`` removal events, ``rxq`` Rx queue interrupts (docs/events.md)."""

    def __init__(self):
        self.lsc = 0
        self.rxq = 0
        self.rmv = 0


class rte_eth_conf(_Struct):
    """Port configuration given to ``rte_eth_dev_configure``."""

    def __init__(self):
        self.link_speeds = 0
        self.rxmode = rte_eth_rxmode()
        self.txmode = rte_eth_txmode()
        self.intr_conf = rte_eth_intr_conf()


class rte_eth_rxconf(_Struct):
    def __init__(self):
        self.rx_free_thresh = 0
        self.rx_drop_en = 0
        self.rx_deferred_start = 0
        self.offloads = 0


class rte_eth_txconf(_Struct):
    def __init__(self):
        self.tx_free_thresh = 0
        self.tx_rs_thresh = 0
        self.tx_deferred_start = 0
        self.offloads = 0


class rte_eth_desc_lim(_Struct):
    def __init__(self, nb_max=0, nb_min=0, nb_align=1):
        self.nb_max = nb_max
        self.nb_min = nb_min
        self.nb_align = nb_align


class rte_eth_dev_portconf(_Struct):
    def __init__(self, burst_size=0, ring_size=0, nb_queues=0):
        self.burst_size = burst_size
        self.ring_size = ring_size
        self.nb_queues = nb_queues


class rte_eth_dev_info(_Struct):
    """Filled by ``rte_eth_dev_info_get``."""

    def __init__(self):
        self.driver_name = ""
        self.device_name = ""
        self.if_index = 0
        self.min_mtu = 0
        self.max_mtu = 0
        self.min_rx_bufsize = 0
        self.max_rx_pktlen = 0
        self.max_rx_queues = 0
        self.max_tx_queues = 0
        self.max_mac_addrs = 0
        self.rx_offload_capa = 0
        self.tx_offload_capa = 0
        self.rx_queue_offload_capa = 0
        self.tx_queue_offload_capa = 0
        self.rx_desc_lim = rte_eth_desc_lim()
        self.tx_desc_lim = rte_eth_desc_lim()
        self.default_rxportconf = rte_eth_dev_portconf()
        self.default_txportconf = rte_eth_dev_portconf()
        self.default_rxconf = rte_eth_rxconf()
        self.default_txconf = rte_eth_txconf()
        self.speed_capa = 0
        self.nb_rx_queues = 0
        self.nb_tx_queues = 0


class rte_eth_stats(_Struct):
    """Filled by ``rte_eth_stats_get``."""

    def __init__(self):
        self.ipackets = 0
        self.opackets = 0
        self.ibytes = 0
        self.obytes = 0
        self.imissed = 0
        self.ierrors = 0
        self.oerrors = 0
        self.rx_nombuf = 0
        n = RTE_ETHDEV_QUEUE_STAT_CNTRS
        self.q_ipackets = [0] * n
        self.q_opackets = [0] * n
        self.q_ibytes = [0] * n
        self.q_obytes = [0] * n
        self.q_errors = [0] * n


class rte_eth_link(_Struct):
    """Filled by ``rte_eth_link_get``."""

    def __init__(self):
        self.link_speed = RTE_ETH_SPEED_NUM_NONE
        self.link_duplex = RTE_ETH_LINK_HALF_DUPLEX
        self.link_autoneg = RTE_ETH_LINK_FIXED
        self.link_status = RTE_ETH_LINK_DOWN


class rte_ether_addr:
    """A MAC address (``struct rte_ether_addr``): ``addr_bytes`` of 6 bytes, mutable in place
    (``ea.addr_bytes[0] = 0x02``), ``str()`` as aa:bb:..."""

    __slots__ = ("_bytes",)

    def __init__(self, addr: str | bytes | None = None):
        if addr is None:
            self.addr_bytes = bytes(RTE_ETHER_ADDR_LEN)
        elif isinstance(addr, str):
            parts = addr.split(":")
            if len(parts) != RTE_ETHER_ADDR_LEN or not all(len(p) == 2 for p in parts):
                raise ValueError("not a MAC address: %r" % addr)
            self.addr_bytes = bytes(int(p, 16) for p in parts)
        else:
            self.addr_bytes = addr

    @property
    def addr_bytes(self) -> bytearray:
        return self._bytes

    @addr_bytes.setter
    def addr_bytes(self, value) -> None:
        value = bytearray(value)
        if len(value) != RTE_ETHER_ADDR_LEN:
            raise ValueError("a MAC address has 6 bytes, got %d" % len(value))
        self._bytes = value

    def __str__(self):
        return ":".join("%02x" % b for b in self._bytes)

    def __repr__(self):
        return "rte_ether_addr(%r)" % str(self)

    def __eq__(self, other):
        return isinstance(other, rte_ether_addr) and other._bytes == self._bytes

    def __hash__(self):
        return hash(bytes(self._bytes))


def rte_is_multicast_ether_addr(ea: rte_ether_addr) -> bool:
    """Group bit set (``rte_is_multicast_ether_addr``)."""
    return bool(ea.addr_bytes[0] & 1)


def rte_is_broadcast_ether_addr(ea: rte_ether_addr) -> bool:
    """ff:ff:ff:ff:ff:ff (``rte_is_broadcast_ether_addr``)."""
    return ea.addr_bytes == b"\xff" * RTE_ETHER_ADDR_LEN


def rte_is_unicast_ether_addr(ea: rte_ether_addr) -> bool:
    """Group bit clear (``rte_is_unicast_ether_addr``)."""
    return not ea.addr_bytes[0] & 1


def rte_is_zero_ether_addr(ea: rte_ether_addr) -> bool:
    """All six bytes zero (``rte_is_zero_ether_addr``)."""
    return ea.addr_bytes == bytes(RTE_ETHER_ADDR_LEN)


def rte_is_valid_assigned_ether_addr(ea: rte_ether_addr) -> bool:
    """Unicast and not all-zero (``rte_is_valid_assigned_ether_addr``)."""
    return not rte_is_multicast_ether_addr(ea) and not rte_is_zero_ether_addr(ea)


def rte_is_same_ether_addr(ea1: rte_ether_addr, ea2: rte_ether_addr) -> bool:
    """The same six bytes (``rte_is_same_ether_addr``)."""
    return ea1.addr_bytes == ea2.addr_bytes


def rte_ether_addr_copy(ea_from: rte_ether_addr, ea_to: rte_ether_addr) -> None:
    """Copy ``ea_from`` into ``ea_to`` in place (``rte_ether_addr_copy``, same argument order)."""
    ea_to.addr_bytes[:] = ea_from.addr_bytes


def rte_ether_format_addr(eth_addr: rte_ether_addr) -> str:
    """``XX:XX:XX:XX:XX:XX`` in upper case, as DPDK prints it (``rte_ether_format_addr``;
    C fills a caller's buffer, Python returns the string)."""
    return RTE_ETHER_ADDR_PRT_FMT % RTE_ETHER_ADDR_BYTES(eth_addr)


def rte_eth_random_addr(addr) -> None:
    """Fill ``addr`` (an ``rte_ether_addr`` or a 6-byte bytearray) with a random locally
    administered unicast address (``rte_eth_random_addr``)."""
    raw = bytearray(os.urandom(RTE_ETHER_ADDR_LEN))
    raw[0] = (raw[0] & 0xFE) | 0x02
    target = addr.addr_bytes if isinstance(addr, rte_ether_addr) else addr
    target[:RTE_ETHER_ADDR_LEN] = raw


RTE_ETHER_ADDR_PRT_FMT = "%02X:%02X:%02X:%02X:%02X:%02X"


def RTE_ETHER_ADDR_BYTES(mac_addr: rte_ether_addr) -> tuple:
    """The six bytes as a tuple, for ``RTE_ETHER_ADDR_PRT_FMT % RTE_ETHER_ADDR_BYTES(ea)``."""
    return tuple(mac_addr.addr_bytes)


class rte_eth_xstat(_Struct):
    def __init__(self, id=0, value=0):
        self.id = id
        self.value = value


class rte_eth_xstat_name(_Struct):
    def __init__(self, name=""):
        self.name = name


# The structures and constants (ethdev_api re-exports them with its calls).
__all__ = [
    "RTE_MAX_ETHPORTS", "RTE_MAX_QUEUES_PER_PORT", "RTE_ETHDEV_QUEUE_STAT_CNTRS",
    "RTE_ETHER_ADDR_LEN", "RTE_ETHER_HDR_LEN", "RTE_ETHER_CRC_LEN", "RTE_ETHER_MIN_MTU",
    "RTE_ETHER_MTU", "RTE_ETH_NAME_MAX_LEN", "RTE_ETH_XSTATS_NAME_SIZE", "RTE_ETH_LINK_DOWN",
    "RTE_ETH_LINK_UP", "RTE_ETH_LINK_HALF_DUPLEX", "RTE_ETH_LINK_FULL_DUPLEX",
    "RTE_ETH_LINK_FIXED", "RTE_ETH_LINK_AUTONEG", "RTE_ETH_SPEED_NUM_NONE",
    "RTE_ETH_SPEED_NUM_10G", "RTE_ETH_SPEED_NUM_UNKNOWN", "RTE_ETH_MQ_RX_NONE",
    "RTE_ETH_MQ_RX_RSS", "RTE_ETH_MQ_TX_NONE", "RTE_ETH_LINK_MAX_STR_LEN", "RTE_ETH_EVENT_UNKNOWN",
    "RTE_ETH_EVENT_INTR_LSC", "RTE_ETH_EVENT_QUEUE_STATE", "RTE_ETH_EVENT_INTR_RESET",
    "RTE_ETH_EVENT_VF_MBOX", "RTE_ETH_EVENT_MACSEC", "RTE_ETH_EVENT_INTR_RMV", "RTE_ETH_EVENT_NEW",
    "RTE_ETH_EVENT_DESTROY", "RTE_ETH_EVENT_MAX", "RTE_ETH_ALL", "RTE_ETH_DEV_NO_OWNER",
    "RTE_ETH_RX_OFFLOAD_VLAN_STRIP", "RTE_ETH_RX_OFFLOAD_IPV4_CKSUM",
    "RTE_ETH_RX_OFFLOAD_UDP_CKSUM", "RTE_ETH_RX_OFFLOAD_TCP_CKSUM", "RTE_ETH_RX_OFFLOAD_TCP_LRO",
    "RTE_ETH_RX_OFFLOAD_QINQ_STRIP", "RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM",
    "RTE_ETH_RX_OFFLOAD_MACSEC_STRIP", "RTE_ETH_RX_OFFLOAD_VLAN_FILTER",
    "RTE_ETH_RX_OFFLOAD_VLAN_EXTEND", "RTE_ETH_RX_OFFLOAD_SCATTER", "RTE_ETH_RX_OFFLOAD_TIMESTAMP",
    "RTE_ETH_RX_OFFLOAD_SECURITY", "RTE_ETH_RX_OFFLOAD_KEEP_CRC", "RTE_ETH_RX_OFFLOAD_SCTP_CKSUM",
    "RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM", "RTE_ETH_RX_OFFLOAD_RSS_HASH",
    "RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT", "RTE_ETH_RX_OFFLOAD_CHECKSUM", "RTE_ETH_RX_OFFLOAD_VLAN",
    "RTE_ETH_TX_OFFLOAD_VLAN_INSERT", "RTE_ETH_TX_OFFLOAD_IPV4_CKSUM",
    "RTE_ETH_TX_OFFLOAD_UDP_CKSUM", "RTE_ETH_TX_OFFLOAD_TCP_CKSUM",
    "RTE_ETH_TX_OFFLOAD_SCTP_CKSUM", "RTE_ETH_TX_OFFLOAD_TCP_TSO", "RTE_ETH_TX_OFFLOAD_UDP_TSO",
    "RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM", "RTE_ETH_TX_OFFLOAD_QINQ_INSERT",
    "RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO", "RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO",
    "RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO", "RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO",
    "RTE_ETH_TX_OFFLOAD_MACSEC_INSERT", "RTE_ETH_TX_OFFLOAD_MT_LOCKFREE",
    "RTE_ETH_TX_OFFLOAD_MULTI_SEGS", "RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE",
    "RTE_ETH_TX_OFFLOAD_SECURITY", "RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO",
    "RTE_ETH_TX_OFFLOAD_IP_TNL_TSO", "RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM",
    "RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP", "rte_eth_rxmode", "rte_eth_txmode",
    "rte_eth_intr_conf", "rte_eth_conf", "rte_eth_rxconf", "rte_eth_txconf", "rte_eth_desc_lim",
    "rte_eth_dev_portconf", "rte_eth_dev_info", "rte_eth_stats", "rte_eth_link", "rte_ether_addr",
    "rte_is_multicast_ether_addr", "rte_is_broadcast_ether_addr", "rte_is_unicast_ether_addr",
    "rte_is_zero_ether_addr", "rte_is_valid_assigned_ether_addr", "rte_is_same_ether_addr",
    "rte_ether_addr_copy", "rte_ether_format_addr", "rte_eth_random_addr",
    "RTE_ETHER_ADDR_PRT_FMT", "RTE_ETHER_ADDR_BYTES", "rte_eth_xstat", "rte_eth_xstat_name",
]
