"""DPDK's lib/net for pyrtap: header views, packet types, checksums, Tx preparation.

* Header views: numpy structured dtypes laid out as DPDK's ``struct rte_*_hdr``, with
  network-byte-order (big-endian) fields, so a field reads and writes host numbers::

      eth = rte_pktmbuf_mtod(m)[:RTE_ETHER_HDR_LEN].view(rte_ether_hdr)[0]
      ip = rte_pktmbuf_mtod_offset(m, 14)[:20].view(rte_ipv4_hdr)[0]
      ip['hdr_checksum'] = rte_ipv4_cksum(ip)

  Both are views: writing a field writes the packet.
* ``RTE_PTYPE_*`` packet types and ``rte_net_get_ptype`` (``rte_net_hdr_lens``).
* Checksum helpers ``rte_ipv4_cksum``, ``rte_ipv4/6_phdr_cksum``,
  ``rte_ipv4/6_udptcp_cksum`` (+ ``_verify``), ``rte_raw_cksum``: they take header views
  (records, arrays or bytes-like starting at the header) and return the big-endian value
  that the header dtypes store as is.
* ``rte_eth_tx_prepare`` and ``rx_offloads_to_tx`` (Tx offload requests; see docs/net.md).

The C implementation is pyrtap/core/net.pxi; the numbers are pyrtap/includes/rte_flags.h.
"""
import numpy as np

from ._core import (  # re-exported: see __all__
    rte_eth_tx_prepare,
    rte_ipv4_cksum,
    rte_ipv4_phdr_cksum,
    rte_ipv4_udptcp_cksum,
    rte_ipv4_udptcp_cksum_verify,
    rte_ipv6_phdr_cksum,
    rte_ipv6_udptcp_cksum,
    rte_ipv6_udptcp_cksum_verify,
    rte_net_get_ptype,
    rte_net_l4_cksum_check,
    rte_raw_cksum,
    rte_raw_cksum_mbuf,
    rx_offloads_to_tx,
)
from .mbuf import (
    RTE_MBUF_F_TX_IP_CKSUM, RTE_MBUF_F_TX_IPV4, RTE_MBUF_F_TX_IPV6, RTE_MBUF_F_TX_OUTER_IPV4,
    RTE_MBUF_F_TX_OUTER_IPV6, RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_TCP_SEG, RTE_MBUF_F_TX_UDP_CKSUM,
)

# ---- header views (rte_ether.h, rte_ip.h, rte_tcp.h, rte_udp.h) -----------------------

RTE_ETHER_ADDR_LEN = 6
RTE_ETHER_HDR_LEN = 14
RTE_ETHER_TYPE_IPV4 = 0x0800
RTE_ETHER_TYPE_ARP = 0x0806
RTE_ETHER_TYPE_VLAN = 0x8100
RTE_ETHER_TYPE_IPV6 = 0x86DD
RTE_ETHER_TYPE_QINQ = 0x88A8

IPPROTO_HOPOPTS = 0
IPPROTO_ICMP = 1
IPPROTO_IGMP = 2
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_ICMPV6 = 58
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60
IPPROTO_SCTP = 132

RTE_IPV4_HDR_DF_FLAG = 1 << 14
RTE_IPV4_HDR_MF_FLAG = 1 << 13
RTE_IPV4_HDR_OFFSET_MASK = (1 << 13) - 1
RTE_IPV4_VHL_DEF = 0x45          # version 4, 20-byte header

rte_ether_hdr = np.dtype([("dst_addr", "u1", (6,)), ("src_addr", "u1", (6,)), ("ether_type", ">u2")])
rte_vlan_hdr = np.dtype([("vlan_tci", ">u2"), ("eth_proto", ">u2")])
rte_ipv4_hdr = np.dtype([
    ("version_ihl", "u1"), ("type_of_service", "u1"), ("total_length", ">u2"),
    ("packet_id", ">u2"), ("fragment_offset", ">u2"), ("time_to_live", "u1"),
    ("next_proto_id", "u1"), ("hdr_checksum", ">u2"), ("src_addr", ">u4"), ("dst_addr", ">u4"),
])
rte_ipv6_hdr = np.dtype([
    ("vtc_flow", ">u4"), ("payload_len", ">u2"), ("proto", "u1"), ("hop_limits", "u1"),
    ("src_addr", "u1", (16,)), ("dst_addr", "u1", (16,)),
])
rte_tcp_hdr = np.dtype([
    ("src_port", ">u2"), ("dst_port", ">u2"), ("sent_seq", ">u4"), ("recv_ack", ">u4"),
    ("data_off", "u1"), ("tcp_flags", "u1"), ("rx_win", ">u2"), ("cksum", ">u2"), ("tcp_urp", ">u2"),
])
rte_udp_hdr = np.dtype([
    ("src_port", ">u2"), ("dst_port", ">u2"), ("dgram_len", ">u2"), ("dgram_cksum", ">u2"),
])

assert (rte_ether_hdr.itemsize, rte_vlan_hdr.itemsize, rte_ipv4_hdr.itemsize, rte_ipv6_hdr.itemsize,
        rte_tcp_hdr.itemsize, rte_udp_hdr.itemsize) == (14, 4, 20, 40, 20, 8)


class rte_net_hdr_lens:
    """Header lengths found by ``rte_net_get_ptype`` (DPDK's ``struct rte_net_hdr_lens``).

    Tunnels are not parsed, so the ``inner_*`` and ``tunnel_len`` fields stay 0.
    """

    __slots__ = ("l2_len", "inner_l2_len", "l3_len", "inner_l3_len", "tunnel_len", "l4_len", "inner_l4_len")

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)

    def __repr__(self):
        return "rte_net_hdr_lens(%s)" % ", ".join("%s=%d" % (n, getattr(self, n)) for n in self.__slots__)


# ---- packet types (rte_mbuf_ptype.h) ---------------------------------------------------

RTE_PTYPE_UNKNOWN = 0x00000000
RTE_PTYPE_L2_ETHER = 0x00000001
RTE_PTYPE_L2_ETHER_TIMESYNC = 0x00000002
RTE_PTYPE_L2_ETHER_ARP = 0x00000003
RTE_PTYPE_L2_ETHER_LLDP = 0x00000004
RTE_PTYPE_L2_ETHER_NSH = 0x00000005
RTE_PTYPE_L2_ETHER_VLAN = 0x00000006
RTE_PTYPE_L2_ETHER_QINQ = 0x00000007
RTE_PTYPE_L2_ETHER_PPPOE = 0x00000008
RTE_PTYPE_L2_ETHER_FCOE = 0x00000009
RTE_PTYPE_L2_ETHER_MPLS = 0x0000000a
RTE_PTYPE_L2_MASK = 0x0000000f
RTE_PTYPE_L3_IPV4 = 0x00000010
RTE_PTYPE_L3_IPV4_EXT = 0x00000030
RTE_PTYPE_L3_IPV6 = 0x00000040
RTE_PTYPE_L3_IPV4_EXT_UNKNOWN = 0x00000090
RTE_PTYPE_L3_IPV6_EXT = 0x000000c0
RTE_PTYPE_L3_IPV6_EXT_UNKNOWN = 0x000000e0
RTE_PTYPE_L3_MASK = 0x000000f0
RTE_PTYPE_L4_TCP = 0x00000100
RTE_PTYPE_L4_UDP = 0x00000200
RTE_PTYPE_L4_FRAG = 0x00000300
RTE_PTYPE_L4_SCTP = 0x00000400
RTE_PTYPE_L4_ICMP = 0x00000500
RTE_PTYPE_L4_NONFRAG = 0x00000600
RTE_PTYPE_L4_IGMP = 0x00000700
RTE_PTYPE_L4_ESP = 0x00000800
RTE_PTYPE_L4_MASK = 0x00000f00
RTE_PTYPE_TUNNEL_IP = 0x00001000
RTE_PTYPE_TUNNEL_GRE = 0x00002000
RTE_PTYPE_TUNNEL_VXLAN = 0x00003000
RTE_PTYPE_TUNNEL_NVGRE = 0x00004000
RTE_PTYPE_TUNNEL_GENEVE = 0x00005000
RTE_PTYPE_TUNNEL_GRENAT = 0x00006000
RTE_PTYPE_TUNNEL_GTPC = 0x00007000
RTE_PTYPE_TUNNEL_GTPU = 0x00008000
RTE_PTYPE_TUNNEL_ESP = 0x00009000
RTE_PTYPE_TUNNEL_L2TP = 0x0000a000
RTE_PTYPE_TUNNEL_VXLAN_GPE = 0x0000b000
RTE_PTYPE_TUNNEL_MPLS_IN_GRE = 0x0000c000
RTE_PTYPE_TUNNEL_MPLS_IN_UDP = 0x0000d000
RTE_PTYPE_TUNNEL_MASK = 0x0000f000
RTE_PTYPE_INNER_L2_ETHER = 0x00010000
RTE_PTYPE_INNER_L2_ETHER_VLAN = 0x00020000
RTE_PTYPE_INNER_L2_ETHER_QINQ = 0x00030000
RTE_PTYPE_INNER_L2_MASK = 0x000f0000
RTE_PTYPE_INNER_L3_IPV4 = 0x00100000
RTE_PTYPE_INNER_L3_IPV4_EXT = 0x00200000
RTE_PTYPE_INNER_L3_IPV6 = 0x00300000
RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN = 0x00400000
RTE_PTYPE_INNER_L3_IPV6_EXT = 0x00500000
RTE_PTYPE_INNER_L3_IPV6_EXT_UNKNOWN = 0x00600000
RTE_PTYPE_INNER_L3_MASK = 0x00f00000
RTE_PTYPE_INNER_L4_TCP = 0x01000000
RTE_PTYPE_INNER_L4_UDP = 0x02000000
RTE_PTYPE_INNER_L4_FRAG = 0x03000000
RTE_PTYPE_INNER_L4_SCTP = 0x04000000
RTE_PTYPE_INNER_L4_ICMP = 0x05000000
RTE_PTYPE_INNER_L4_NONFRAG = 0x06000000
RTE_PTYPE_INNER_L4_ESP = 0x07000000
RTE_PTYPE_INNER_L4_MASK = 0x0f000000
RTE_PTYPE_ALL_MASK = 0x0fffffff

def _ptype_names() -> list[tuple[int, dict[int, str]]]:
    """Per layer: its mask and the names of its values, for rte_get_ptype_name."""
    g = globals()
    out = []
    for layer in ("L2", "L3", "L4", "TUNNEL", "INNER_L2", "INNER_L3", "INNER_L4"):
        prefix = "RTE_PTYPE_%s_" % layer
        names = {v: n[len("RTE_PTYPE_"):] for n, v in g.items()
                 if n.startswith(prefix) and not n.endswith("_MASK")}
        out.append((g[prefix + "MASK"], names))
    return out


_PTYPE_NAMES = _ptype_names()


def rte_get_ptype_name(ptype: int) -> str:
    """Names of a packet type's layers, e.g. ``"L2_ETHER L3_IPV4 L4_TCP"`` (``rte_get_ptype_name``)."""
    if ptype & RTE_PTYPE_ALL_MASK == RTE_PTYPE_UNKNOWN:
        return "UNKNOWN"
    parts = []
    for mask, names in _PTYPE_NAMES:
        if ptype & mask:
            parts.append(names.get(ptype & mask, "UNKNOWN"))
    return " ".join(parts)


# The Tx requests the TAP drivers honour (rte_eth_tx_prepare refuses others with ENOTSUP).
PYRTAP_TX_OL_SUPPORTED = (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM
                          | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_TCP_SEG
                          | RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IPV6)

__all__ = [
    "rte_eth_tx_prepare", "rte_ipv4_cksum", "rte_ipv4_phdr_cksum", "rte_ipv4_udptcp_cksum",
    "rte_ipv4_udptcp_cksum_verify", "rte_ipv6_phdr_cksum", "rte_ipv6_udptcp_cksum",
    "rte_ipv6_udptcp_cksum_verify", "rte_net_get_ptype", "rte_net_l4_cksum_check", "rte_raw_cksum",
    "rte_raw_cksum_mbuf", "rx_offloads_to_tx", "RTE_ETHER_ADDR_LEN", "RTE_ETHER_HDR_LEN",
    "RTE_ETHER_TYPE_IPV4", "RTE_ETHER_TYPE_ARP", "RTE_ETHER_TYPE_VLAN", "RTE_ETHER_TYPE_IPV6",
    "RTE_ETHER_TYPE_QINQ", "IPPROTO_HOPOPTS", "IPPROTO_ICMP", "IPPROTO_IGMP", "IPPROTO_TCP",
    "IPPROTO_UDP", "IPPROTO_ROUTING", "IPPROTO_FRAGMENT", "IPPROTO_ESP", "IPPROTO_AH",
    "IPPROTO_ICMPV6", "IPPROTO_NONE", "IPPROTO_DSTOPTS", "IPPROTO_SCTP", "RTE_IPV4_HDR_DF_FLAG",
    "RTE_IPV4_HDR_MF_FLAG", "RTE_IPV4_HDR_OFFSET_MASK", "RTE_IPV4_VHL_DEF", "rte_ether_hdr",
    "rte_vlan_hdr", "rte_ipv4_hdr", "rte_ipv6_hdr", "rte_tcp_hdr", "rte_udp_hdr",
    "rte_net_hdr_lens", "RTE_PTYPE_UNKNOWN", "RTE_PTYPE_L2_ETHER", "RTE_PTYPE_L2_ETHER_TIMESYNC",
    "RTE_PTYPE_L2_ETHER_ARP", "RTE_PTYPE_L2_ETHER_LLDP", "RTE_PTYPE_L2_ETHER_NSH",
    "RTE_PTYPE_L2_ETHER_VLAN", "RTE_PTYPE_L2_ETHER_QINQ", "RTE_PTYPE_L2_ETHER_PPPOE",
    "RTE_PTYPE_L2_ETHER_FCOE", "RTE_PTYPE_L2_ETHER_MPLS", "RTE_PTYPE_L2_MASK", "RTE_PTYPE_L3_IPV4",
    "RTE_PTYPE_L3_IPV4_EXT", "RTE_PTYPE_L3_IPV6", "RTE_PTYPE_L3_IPV4_EXT_UNKNOWN",
    "RTE_PTYPE_L3_IPV6_EXT", "RTE_PTYPE_L3_IPV6_EXT_UNKNOWN", "RTE_PTYPE_L3_MASK",
    "RTE_PTYPE_L4_TCP", "RTE_PTYPE_L4_UDP", "RTE_PTYPE_L4_FRAG", "RTE_PTYPE_L4_SCTP",
    "RTE_PTYPE_L4_ICMP", "RTE_PTYPE_L4_NONFRAG", "RTE_PTYPE_L4_IGMP", "RTE_PTYPE_L4_ESP",
    "RTE_PTYPE_L4_MASK", "RTE_PTYPE_TUNNEL_IP", "RTE_PTYPE_TUNNEL_GRE", "RTE_PTYPE_TUNNEL_VXLAN",
    "RTE_PTYPE_TUNNEL_NVGRE", "RTE_PTYPE_TUNNEL_GENEVE", "RTE_PTYPE_TUNNEL_GRENAT",
    "RTE_PTYPE_TUNNEL_GTPC", "RTE_PTYPE_TUNNEL_GTPU", "RTE_PTYPE_TUNNEL_ESP",
    "RTE_PTYPE_TUNNEL_L2TP", "RTE_PTYPE_TUNNEL_VXLAN_GPE", "RTE_PTYPE_TUNNEL_MPLS_IN_GRE",
    "RTE_PTYPE_TUNNEL_MPLS_IN_UDP", "RTE_PTYPE_TUNNEL_MASK", "RTE_PTYPE_INNER_L2_ETHER",
    "RTE_PTYPE_INNER_L2_ETHER_VLAN", "RTE_PTYPE_INNER_L2_ETHER_QINQ", "RTE_PTYPE_INNER_L2_MASK",
    "RTE_PTYPE_INNER_L3_IPV4", "RTE_PTYPE_INNER_L3_IPV4_EXT", "RTE_PTYPE_INNER_L3_IPV6",
    "RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN", "RTE_PTYPE_INNER_L3_IPV6_EXT",
    "RTE_PTYPE_INNER_L3_IPV6_EXT_UNKNOWN", "RTE_PTYPE_INNER_L3_MASK", "RTE_PTYPE_INNER_L4_TCP",
    "RTE_PTYPE_INNER_L4_UDP", "RTE_PTYPE_INNER_L4_FRAG", "RTE_PTYPE_INNER_L4_SCTP",
    "RTE_PTYPE_INNER_L4_ICMP", "RTE_PTYPE_INNER_L4_NONFRAG", "RTE_PTYPE_INNER_L4_ESP",
    "RTE_PTYPE_INNER_L4_MASK", "RTE_PTYPE_ALL_MASK", "rte_get_ptype_name",
    "PYRTAP_TX_OL_SUPPORTED",
]
