/*
 * DPDK's offload and packet-type numbers, the one C definition of them in pyrtap.
 *
 * Values are DPDK's (lib/mbuf/rte_mbuf_core.h, lib/mbuf/rte_mbuf_ptype.h,
 * lib/ethdev/rte_ethdev.h of 22.11+), so flags set by code written for DPDK mean
 * the same here. The Python modules (pyrtap/mbuf.py, pyrtap/net.py,
 * pyrtap/ethdev_types.py) repeat them; tests/test_net.py compares both sides
 * through _core.C_CONSTANTS so they cannot drift.
 */
#ifndef PYRTAP_RTE_FLAGS_H
#define PYRTAP_RTE_FLAGS_H

/* ---- mbuf ol_flags (rte_mbuf_core.h): Rx bits count up from 0 ---- */
#define RTE_MBUF_F_RX_VLAN                       (1ULL << 0)
#define RTE_MBUF_F_RX_RSS_HASH                   (1ULL << 1)
#define RTE_MBUF_F_RX_FDIR                       (1ULL << 2)
#define RTE_MBUF_F_RX_L4_CKSUM_BAD               (1ULL << 3)
#define RTE_MBUF_F_RX_IP_CKSUM_BAD               (1ULL << 4)
#define RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD         (1ULL << 5)
#define RTE_MBUF_F_RX_VLAN_STRIPPED              (1ULL << 6)
#define RTE_MBUF_F_RX_IP_CKSUM_GOOD              (1ULL << 7)
#define RTE_MBUF_F_RX_L4_CKSUM_GOOD              (1ULL << 8)
#define RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN           0ULL
#define RTE_MBUF_F_RX_IP_CKSUM_NONE              (RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_IP_CKSUM_GOOD)
#define RTE_MBUF_F_RX_IP_CKSUM_MASK              (RTE_MBUF_F_RX_IP_CKSUM_NONE)
#define RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN           0ULL
#define RTE_MBUF_F_RX_L4_CKSUM_NONE              (RTE_MBUF_F_RX_L4_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD)
#define RTE_MBUF_F_RX_L4_CKSUM_MASK              (RTE_MBUF_F_RX_L4_CKSUM_NONE)
#define RTE_MBUF_F_RX_IEEE1588_PTP               (1ULL << 9)
#define RTE_MBUF_F_RX_IEEE1588_TMST              (1ULL << 10)
#define RTE_MBUF_F_RX_FDIR_ID                    (1ULL << 13)
#define RTE_MBUF_F_RX_FDIR_FLX                   (1ULL << 14)
#define RTE_MBUF_F_RX_QINQ_STRIPPED              (1ULL << 15)
#define RTE_MBUF_F_RX_LRO                        (1ULL << 16)
#define RTE_MBUF_F_RX_SEC_OFFLOAD                (1ULL << 18)
#define RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED         (1ULL << 19)
#define RTE_MBUF_F_RX_QINQ                       (1ULL << 20)
#define RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD         (1ULL << 21)
#define RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD        (1ULL << 22)
#define RTE_MBUF_F_RX_OUTER_L4_CKSUM_UNKNOWN     0ULL
#define RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID     (RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD | RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD)
#define RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK        (RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID)

/* ---- mbuf ol_flags: Tx bits count down from 60 ---- */
#define RTE_MBUF_F_TX_OUTER_UDP_CKSUM            (1ULL << 41)
#define RTE_MBUF_F_TX_UDP_SEG                    (1ULL << 42)
#define RTE_MBUF_F_TX_SEC_OFFLOAD                (1ULL << 43)
#define RTE_MBUF_F_TX_MACSEC                     (1ULL << 44)
#define RTE_MBUF_F_TX_TUNNEL_VXLAN               (0x1ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_GRE                 (0x2ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_IPIP                (0x3ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_GENEVE              (0x4ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_MPLSINUDP           (0x5ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE           (0x6ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_GTP                 (0x7ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_ESP                 (0x8ULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_IP                  (0xDULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_UDP                 (0xEULL << 45)
#define RTE_MBUF_F_TX_TUNNEL_MASK                (0xFULL << 45)
#define RTE_MBUF_F_TX_QINQ                       (1ULL << 49)
#define RTE_MBUF_F_TX_TCP_SEG                    (1ULL << 50)
#define RTE_MBUF_F_TX_IEEE1588_TMST              (1ULL << 51)
#define RTE_MBUF_F_TX_L4_NO_CKSUM                (0ULL << 52)
#define RTE_MBUF_F_TX_TCP_CKSUM                  (1ULL << 52)
#define RTE_MBUF_F_TX_SCTP_CKSUM                 (2ULL << 52)
#define RTE_MBUF_F_TX_UDP_CKSUM                  (3ULL << 52)
#define RTE_MBUF_F_TX_L4_MASK                    (3ULL << 52)
#define RTE_MBUF_F_TX_IP_CKSUM                   (1ULL << 54)
#define RTE_MBUF_F_TX_IPV4                       (1ULL << 55)
#define RTE_MBUF_F_TX_IPV6                       (1ULL << 56)
#define RTE_MBUF_F_TX_VLAN                       (1ULL << 57)
#define RTE_MBUF_F_TX_OUTER_IP_CKSUM             (1ULL << 58)
#define RTE_MBUF_F_TX_OUTER_IPV4                 (1ULL << 59)
#define RTE_MBUF_F_TX_OUTER_IPV6                 (1ULL << 60)
/* Every Tx request bit, as DPDK's rte_mbuf_core.h defines it. */
#define RTE_MBUF_F_TX_OFFLOAD_MASK (RTE_MBUF_F_TX_OUTER_IPV6 | RTE_MBUF_F_TX_OUTER_IPV4 | \
        RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_VLAN | RTE_MBUF_F_TX_IPV6 | \
        RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | \
        RTE_MBUF_F_TX_IEEE1588_TMST | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_QINQ | \
        RTE_MBUF_F_TX_TUNNEL_MASK | RTE_MBUF_F_TX_MACSEC | RTE_MBUF_F_TX_SEC_OFFLOAD | \
        RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_OUTER_UDP_CKSUM)

/* ---- mbuf ol_flags: generic bits ---- */
#define RTE_MBUF_F_EXTERNAL                      (1ULL << 61)
#define RTE_MBUF_F_INDIRECT                      (1ULL << 62)

/* The Tx requests pyrtap's TAP drivers honour (what the virtio-net header can
 * express): IP version, IPv4 header checksum, TCP/UDP checksum (the L4 field
 * values TCP and UDP, not SCTP), TCP segmentation, and the outer IP version of
 * a tunnelled packet. Anything else makes rte_eth_tx_prepare fail with ENOTSUP. */
#define PYRTAP_TX_OL_SUPPORTED (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | \
        RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM | \
        RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IPV6)

/* ---- packet types (rte_mbuf_ptype.h): one 4-bit field per layer ---- */
#define RTE_PTYPE_UNKNOWN                   0x00000000U
#define RTE_PTYPE_L2_ETHER                  0x00000001U
#define RTE_PTYPE_L2_ETHER_TIMESYNC         0x00000002U
#define RTE_PTYPE_L2_ETHER_ARP              0x00000003U
#define RTE_PTYPE_L2_ETHER_LLDP             0x00000004U
#define RTE_PTYPE_L2_ETHER_NSH              0x00000005U
#define RTE_PTYPE_L2_ETHER_VLAN             0x00000006U
#define RTE_PTYPE_L2_ETHER_QINQ             0x00000007U
#define RTE_PTYPE_L2_ETHER_PPPOE            0x00000008U
#define RTE_PTYPE_L2_ETHER_FCOE             0x00000009U
#define RTE_PTYPE_L2_ETHER_MPLS             0x0000000aU
#define RTE_PTYPE_L2_MASK                   0x0000000fU
#define RTE_PTYPE_L3_IPV4                   0x00000010U
#define RTE_PTYPE_L3_IPV4_EXT               0x00000030U
#define RTE_PTYPE_L3_IPV6                   0x00000040U
#define RTE_PTYPE_L3_IPV4_EXT_UNKNOWN       0x00000090U
#define RTE_PTYPE_L3_IPV6_EXT               0x000000c0U
#define RTE_PTYPE_L3_IPV6_EXT_UNKNOWN       0x000000e0U
#define RTE_PTYPE_L3_MASK                   0x000000f0U
#define RTE_PTYPE_L4_TCP                    0x00000100U
#define RTE_PTYPE_L4_UDP                    0x00000200U
#define RTE_PTYPE_L4_FRAG                   0x00000300U
#define RTE_PTYPE_L4_SCTP                   0x00000400U
#define RTE_PTYPE_L4_ICMP                   0x00000500U
#define RTE_PTYPE_L4_NONFRAG                0x00000600U
#define RTE_PTYPE_L4_IGMP                   0x00000700U
#define RTE_PTYPE_L4_ESP                    0x00000800U
#define RTE_PTYPE_L4_MASK                   0x00000f00U
#define RTE_PTYPE_TUNNEL_IP                 0x00001000U
#define RTE_PTYPE_TUNNEL_GRE                0x00002000U
#define RTE_PTYPE_TUNNEL_VXLAN              0x00003000U
#define RTE_PTYPE_TUNNEL_NVGRE              0x00004000U
#define RTE_PTYPE_TUNNEL_GENEVE             0x00005000U
#define RTE_PTYPE_TUNNEL_GRENAT             0x00006000U
#define RTE_PTYPE_TUNNEL_GTPC               0x00007000U
#define RTE_PTYPE_TUNNEL_GTPU               0x00008000U
#define RTE_PTYPE_TUNNEL_ESP                0x00009000U
#define RTE_PTYPE_TUNNEL_L2TP               0x0000a000U
#define RTE_PTYPE_TUNNEL_VXLAN_GPE          0x0000b000U
#define RTE_PTYPE_TUNNEL_MPLS_IN_GRE        0x0000c000U
#define RTE_PTYPE_TUNNEL_MPLS_IN_UDP        0x0000d000U
#define RTE_PTYPE_TUNNEL_MASK               0x0000f000U
#define RTE_PTYPE_INNER_L2_ETHER            0x00010000U
#define RTE_PTYPE_INNER_L2_ETHER_VLAN       0x00020000U
#define RTE_PTYPE_INNER_L2_ETHER_QINQ       0x00030000U
#define RTE_PTYPE_INNER_L2_MASK             0x000f0000U
#define RTE_PTYPE_INNER_L3_IPV4             0x00100000U
#define RTE_PTYPE_INNER_L3_IPV4_EXT         0x00200000U
#define RTE_PTYPE_INNER_L3_IPV6             0x00300000U
#define RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN 0x00400000U
#define RTE_PTYPE_INNER_L3_IPV6_EXT         0x00500000U
#define RTE_PTYPE_INNER_L3_IPV6_EXT_UNKNOWN 0x00600000U
#define RTE_PTYPE_INNER_L3_MASK             0x00f00000U
#define RTE_PTYPE_INNER_L4_TCP              0x01000000U
#define RTE_PTYPE_INNER_L4_UDP              0x02000000U
#define RTE_PTYPE_INNER_L4_FRAG             0x03000000U
#define RTE_PTYPE_INNER_L4_SCTP             0x04000000U
#define RTE_PTYPE_INNER_L4_ICMP             0x05000000U
#define RTE_PTYPE_INNER_L4_NONFRAG          0x06000000U
#define RTE_PTYPE_INNER_L4_ESP              0x07000000U
#define RTE_PTYPE_INNER_L4_MASK             0x0f000000U
#define RTE_PTYPE_ALL_MASK                  0x0fffffffU

/* ---- port Rx offload capabilities (rte_ethdev.h, 22.11+) ---- */
#define RTE_ETH_RX_OFFLOAD_VLAN_STRIP       (1ULL << 0)
#define RTE_ETH_RX_OFFLOAD_IPV4_CKSUM       (1ULL << 1)
#define RTE_ETH_RX_OFFLOAD_UDP_CKSUM        (1ULL << 2)
#define RTE_ETH_RX_OFFLOAD_TCP_CKSUM        (1ULL << 3)
#define RTE_ETH_RX_OFFLOAD_TCP_LRO          (1ULL << 4)
#define RTE_ETH_RX_OFFLOAD_QINQ_STRIP       (1ULL << 5)
#define RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM (1ULL << 6)
#define RTE_ETH_RX_OFFLOAD_MACSEC_STRIP     (1ULL << 7)
#define RTE_ETH_RX_OFFLOAD_VLAN_FILTER      (1ULL << 9)
#define RTE_ETH_RX_OFFLOAD_VLAN_EXTEND      (1ULL << 10)
#define RTE_ETH_RX_OFFLOAD_SCATTER          (1ULL << 13)
#define RTE_ETH_RX_OFFLOAD_TIMESTAMP        (1ULL << 14)
#define RTE_ETH_RX_OFFLOAD_SECURITY         (1ULL << 15)
#define RTE_ETH_RX_OFFLOAD_KEEP_CRC         (1ULL << 16)
#define RTE_ETH_RX_OFFLOAD_SCTP_CKSUM       (1ULL << 17)
#define RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM  (1ULL << 18)
#define RTE_ETH_RX_OFFLOAD_RSS_HASH         (1ULL << 19)
#define RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT     (1ULL << 20)
#define RTE_ETH_RX_OFFLOAD_CHECKSUM (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | \
        RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
#define RTE_ETH_RX_OFFLOAD_VLAN (RTE_ETH_RX_OFFLOAD_VLAN_STRIP | \
        RTE_ETH_RX_OFFLOAD_VLAN_FILTER | RTE_ETH_RX_OFFLOAD_VLAN_EXTEND | \
        RTE_ETH_RX_OFFLOAD_QINQ_STRIP)

/* ---- port Tx offload capabilities (rte_ethdev.h, 22.11+) ---- */
#define RTE_ETH_TX_OFFLOAD_VLAN_INSERT       (1ULL << 0)
#define RTE_ETH_TX_OFFLOAD_IPV4_CKSUM        (1ULL << 1)
#define RTE_ETH_TX_OFFLOAD_UDP_CKSUM         (1ULL << 2)
#define RTE_ETH_TX_OFFLOAD_TCP_CKSUM         (1ULL << 3)
#define RTE_ETH_TX_OFFLOAD_SCTP_CKSUM        (1ULL << 4)
#define RTE_ETH_TX_OFFLOAD_TCP_TSO           (1ULL << 5)
#define RTE_ETH_TX_OFFLOAD_UDP_TSO           (1ULL << 6)
#define RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM  (1ULL << 7)
#define RTE_ETH_TX_OFFLOAD_QINQ_INSERT       (1ULL << 8)
#define RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO     (1ULL << 9)
#define RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO       (1ULL << 10)
#define RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO      (1ULL << 11)
#define RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO    (1ULL << 12)
#define RTE_ETH_TX_OFFLOAD_MACSEC_INSERT     (1ULL << 13)
#define RTE_ETH_TX_OFFLOAD_MT_LOCKFREE       (1ULL << 14)
#define RTE_ETH_TX_OFFLOAD_MULTI_SEGS        (1ULL << 15)
#define RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE    (1ULL << 16)
#define RTE_ETH_TX_OFFLOAD_SECURITY          (1ULL << 17)
#define RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO       (1ULL << 18)
#define RTE_ETH_TX_OFFLOAD_IP_TNL_TSO        (1ULL << 19)
#define RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM   (1ULL << 20)
#define RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP (1ULL << 21)

#endif
