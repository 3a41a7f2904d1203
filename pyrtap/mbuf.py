"""Packet buffers: DPDK's ``rte_pktmbuf_*`` calls and ``RTE_MBUF_F_*`` flags.

The calls are implemented in the Cython core (``pyrtap._core``) and re-exported here;
an ``Mbuf`` is a handle on metadata that lives in its pool's shared memory.
"""
from ._core import (  # re-exported: see __all__
    Mbuf,
    MbufBurst,
    rte_mbuf_refcnt_read,
    rte_mbuf_refcnt_set,
    rte_mbuf_refcnt_update,
    rte_mempool_get,
    rte_mempool_put,
    rte_pktmbuf_adj,
    rte_pktmbuf_alloc,
    rte_pktmbuf_alloc_bulk,
    rte_pktmbuf_append,
    rte_pktmbuf_chain,
    rte_pktmbuf_clone,
    rte_pktmbuf_copy,
    rte_pktmbuf_data_len,
    rte_pktmbuf_free,
    rte_pktmbuf_free_bulk,
    rte_pktmbuf_free_seg,
    rte_pktmbuf_headroom,
    rte_pktmbuf_mtod,
    rte_pktmbuf_mtod_offset,
    rte_pktmbuf_pkt_len,
    rte_pktmbuf_prepend,
    rte_pktmbuf_read,
    rte_pktmbuf_refcnt_update,
    rte_pktmbuf_tailroom,
    rte_pktmbuf_trim,
)

RTE_MBUF_PORT_INVALID = 0xFFFF
RTE_MBUF_MAX_NB_SEGS = 0xFFFF

# ol_flags, with DPDK's numeric values (lib/mbuf/rte_mbuf_core.h).
RTE_MBUF_F_RX_VLAN = 1 << 0
RTE_MBUF_F_RX_RSS_HASH = 1 << 1
RTE_MBUF_F_RX_FDIR = 1 << 2
RTE_MBUF_F_RX_L4_CKSUM_BAD = 1 << 3
RTE_MBUF_F_RX_IP_CKSUM_BAD = 1 << 4
RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD = 1 << 5
RTE_MBUF_F_RX_VLAN_STRIPPED = 1 << 6
RTE_MBUF_F_RX_IP_CKSUM_GOOD = 1 << 7
RTE_MBUF_F_RX_L4_CKSUM_GOOD = 1 << 8
RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN = 0
RTE_MBUF_F_RX_IP_CKSUM_NONE = RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD
RTE_MBUF_F_RX_IP_CKSUM_MASK = RTE_MBUF_F_RX_IP_CKSUM_NONE
RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN = 0
RTE_MBUF_F_RX_L4_CKSUM_NONE = RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD
RTE_MBUF_F_RX_L4_CKSUM_MASK = RTE_MBUF_F_RX_L4_CKSUM_NONE
RTE_MBUF_F_RX_IEEE1588_PTP = 1 << 9
RTE_MBUF_F_RX_IEEE1588_TMST = 1 << 10
RTE_MBUF_F_RX_FDIR_ID = 1 << 13
RTE_MBUF_F_RX_FDIR_FLX = 1 << 14
RTE_MBUF_F_RX_QINQ_STRIPPED = 1 << 15
RTE_MBUF_F_RX_LRO = 1 << 16
RTE_MBUF_F_RX_SEC_OFFLOAD = 1 << 18
RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED = 1 << 19
RTE_MBUF_F_RX_QINQ = 1 << 20
RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD = 1 << 21
RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD = 1 << 22
RTE_MBUF_F_RX_OUTER_L4_CKSUM_UNKNOWN = 0
RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID = RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD | RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD
RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK = RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID

RTE_MBUF_F_TX_OUTER_UDP_CKSUM = 1 << 41
RTE_MBUF_F_TX_UDP_SEG = 1 << 42
RTE_MBUF_F_TX_SEC_OFFLOAD = 1 << 43
RTE_MBUF_F_TX_MACSEC = 1 << 44
RTE_MBUF_F_TX_TUNNEL_VXLAN = 0x1 << 45
RTE_MBUF_F_TX_TUNNEL_GRE = 0x2 << 45
RTE_MBUF_F_TX_TUNNEL_IPIP = 0x3 << 45
RTE_MBUF_F_TX_TUNNEL_GENEVE = 0x4 << 45
RTE_MBUF_F_TX_TUNNEL_MPLSINUDP = 0x5 << 45
RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE = 0x6 << 45
RTE_MBUF_F_TX_TUNNEL_GTP = 0x7 << 45
RTE_MBUF_F_TX_TUNNEL_ESP = 0x8 << 45
RTE_MBUF_F_TX_TUNNEL_IP = 0xD << 45
RTE_MBUF_F_TX_TUNNEL_UDP = 0xE << 45
RTE_MBUF_F_TX_TUNNEL_MASK = 0xF << 45
RTE_MBUF_F_TX_QINQ = 1 << 49
RTE_MBUF_F_TX_TCP_SEG = 1 << 50
RTE_MBUF_F_TX_IEEE1588_TMST = 1 << 51
RTE_MBUF_F_TX_L4_NO_CKSUM = 0 << 52
RTE_MBUF_F_TX_TCP_CKSUM = 1 << 52
RTE_MBUF_F_TX_SCTP_CKSUM = 2 << 52
RTE_MBUF_F_TX_UDP_CKSUM = 3 << 52
RTE_MBUF_F_TX_L4_MASK = 3 << 52
RTE_MBUF_F_TX_IP_CKSUM = 1 << 54
RTE_MBUF_F_TX_IPV4 = 1 << 55
RTE_MBUF_F_TX_IPV6 = 1 << 56
RTE_MBUF_F_TX_VLAN = 1 << 57
RTE_MBUF_F_TX_OUTER_IP_CKSUM = 1 << 58
RTE_MBUF_F_TX_OUTER_IPV4 = 1 << 59
RTE_MBUF_F_TX_OUTER_IPV6 = 1 << 60
RTE_MBUF_F_EXTERNAL = 1 << 61
RTE_MBUF_F_INDIRECT = 1 << 62
# Every Tx request bit (DPDK's RTE_MBUF_F_TX_OFFLOAD_MASK, bits 41 to 60).
RTE_MBUF_F_TX_OFFLOAD_MASK = (
    RTE_MBUF_F_TX_OUTER_IPV6 | RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IP_CKSUM
    | RTE_MBUF_F_TX_VLAN | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM
    | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IEEE1588_TMST | RTE_MBUF_F_TX_TCP_SEG
    | RTE_MBUF_F_TX_QINQ | RTE_MBUF_F_TX_TUNNEL_MASK | RTE_MBUF_F_TX_MACSEC
    | RTE_MBUF_F_TX_SEC_OFFLOAD | RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_OUTER_UDP_CKSUM)


def rte_pktmbuf_is_contiguous(m: Mbuf) -> int:
    """1 when the packet has a single segment (``rte_pktmbuf_is_contiguous``)."""
    return int(m.nb_segs == 1)


def RTE_MBUF_DIRECT(m: Mbuf) -> bool:
    """True for a buffer owning its data (not a clone): DPDK's ``RTE_MBUF_DIRECT``."""
    return not m.ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)


def rte_pktmbuf_lastseg(m: Mbuf) -> Mbuf:
    """Last segment of a chain (``rte_pktmbuf_lastseg``)."""
    while m.next is not None:
        m = m.next
    return m


# Everything public: the calls, Mbuf/MbufBurst, and every RTE_MBUF_* constant above.
__all__ = [
    "Mbuf", "MbufBurst", "rte_mbuf_refcnt_read", "rte_mbuf_refcnt_set", "rte_mbuf_refcnt_update",
    "rte_mempool_get", "rte_mempool_put", "rte_pktmbuf_adj", "rte_pktmbuf_alloc",
    "rte_pktmbuf_alloc_bulk", "rte_pktmbuf_append", "rte_pktmbuf_chain", "rte_pktmbuf_clone",
    "rte_pktmbuf_copy", "rte_pktmbuf_data_len", "rte_pktmbuf_free", "rte_pktmbuf_free_bulk",
    "rte_pktmbuf_free_seg", "rte_pktmbuf_headroom", "rte_pktmbuf_mtod", "rte_pktmbuf_mtod_offset",
    "rte_pktmbuf_pkt_len", "rte_pktmbuf_prepend", "rte_pktmbuf_read", "rte_pktmbuf_refcnt_update",
    "rte_pktmbuf_tailroom", "rte_pktmbuf_trim", "RTE_MBUF_PORT_INVALID", "RTE_MBUF_MAX_NB_SEGS",
    "RTE_MBUF_F_RX_VLAN", "RTE_MBUF_F_RX_RSS_HASH", "RTE_MBUF_F_RX_FDIR",
    "RTE_MBUF_F_RX_L4_CKSUM_BAD", "RTE_MBUF_F_RX_IP_CKSUM_BAD", "RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD",
    "RTE_MBUF_F_RX_VLAN_STRIPPED", "RTE_MBUF_F_RX_IP_CKSUM_GOOD", "RTE_MBUF_F_RX_L4_CKSUM_GOOD",
    "RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN", "RTE_MBUF_F_RX_IP_CKSUM_NONE", "RTE_MBUF_F_RX_IP_CKSUM_MASK",
    "RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN", "RTE_MBUF_F_RX_L4_CKSUM_NONE", "RTE_MBUF_F_RX_L4_CKSUM_MASK",
    "RTE_MBUF_F_RX_IEEE1588_PTP", "RTE_MBUF_F_RX_IEEE1588_TMST", "RTE_MBUF_F_RX_FDIR_ID",
    "RTE_MBUF_F_RX_FDIR_FLX", "RTE_MBUF_F_RX_QINQ_STRIPPED", "RTE_MBUF_F_RX_LRO",
    "RTE_MBUF_F_RX_SEC_OFFLOAD", "RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED", "RTE_MBUF_F_RX_QINQ",
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD", "RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD",
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_UNKNOWN", "RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID",
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK", "RTE_MBUF_F_TX_OUTER_UDP_CKSUM", "RTE_MBUF_F_TX_UDP_SEG",
    "RTE_MBUF_F_TX_SEC_OFFLOAD", "RTE_MBUF_F_TX_MACSEC", "RTE_MBUF_F_TX_TUNNEL_VXLAN",
    "RTE_MBUF_F_TX_TUNNEL_GRE", "RTE_MBUF_F_TX_TUNNEL_IPIP", "RTE_MBUF_F_TX_TUNNEL_GENEVE",
    "RTE_MBUF_F_TX_TUNNEL_MPLSINUDP", "RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE", "RTE_MBUF_F_TX_TUNNEL_GTP",
    "RTE_MBUF_F_TX_TUNNEL_ESP", "RTE_MBUF_F_TX_TUNNEL_IP", "RTE_MBUF_F_TX_TUNNEL_UDP",
    "RTE_MBUF_F_TX_TUNNEL_MASK", "RTE_MBUF_F_TX_QINQ", "RTE_MBUF_F_TX_TCP_SEG",
    "RTE_MBUF_F_TX_IEEE1588_TMST", "RTE_MBUF_F_TX_L4_NO_CKSUM", "RTE_MBUF_F_TX_TCP_CKSUM",
    "RTE_MBUF_F_TX_SCTP_CKSUM", "RTE_MBUF_F_TX_UDP_CKSUM", "RTE_MBUF_F_TX_L4_MASK",
    "RTE_MBUF_F_TX_IP_CKSUM", "RTE_MBUF_F_TX_IPV4", "RTE_MBUF_F_TX_IPV6", "RTE_MBUF_F_TX_VLAN",
    "RTE_MBUF_F_TX_OUTER_IP_CKSUM", "RTE_MBUF_F_TX_OUTER_IPV4", "RTE_MBUF_F_TX_OUTER_IPV6",
    "RTE_MBUF_F_TX_OFFLOAD_MASK", "RTE_MBUF_F_EXTERNAL", "RTE_MBUF_F_INDIRECT",
    "rte_pktmbuf_is_contiguous", "RTE_MBUF_DIRECT",
    "rte_pktmbuf_lastseg",
]
