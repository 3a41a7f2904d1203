# Packet parsing, Internet checksums and Tx offload preparation (DPDK's lib/net).
#
# The C functions (net_*) are called per packet by the Rx/Tx burst loops, so they are
# noexcept nogil and touch no Python object. The def functions below them are the
# Python API (rte_net_get_ptype, rte_eth_tx_prepare, rte_ipv4_cksum, ...).
#
# Byte order: a "sum" or checksum value here is, as in DPDK, a 16-bit value in memory
# order: storing it with a native 16-bit store (memcpy) puts the right bytes on the
# wire. The Python functions convert to the big-endian number the header dtypes of
# pyrtap/net.py use, so ``hdr['hdr_checksum'] = rte_ipv4_cksum(hdr)`` is right.
#
# Uses: unwrap, chain_copy (mbuf.pxi); MbufBurst (burst.pxi); fp_ops (ethdev_fp.pxi:
# rte_eth_tx_prepare answers for started ports only).

cdef enum:
    NET_ETHER_TYPE_IPV4 = 0x0800
    NET_ETHER_TYPE_ARP = 0x0806
    NET_ETHER_TYPE_VLAN = 0x8100
    NET_ETHER_TYPE_IPV6 = 0x86DD
    NET_ETHER_TYPE_QINQ = 0x88A8
    NET_PROTO_HOPOPTS = 0
    NET_PROTO_ICMP = 1
    NET_PROTO_IGMP = 2
    NET_PROTO_TCP = 6
    NET_PROTO_UDP = 17
    NET_PROTO_ROUTING = 43
    NET_PROTO_FRAGMENT = 44
    NET_PROTO_ESP = 50
    NET_PROTO_AH = 51
    NET_PROTO_ICMPV6 = 58
    NET_PROTO_NONE = 59
    NET_PROTO_DSTOPTS = 60
    NET_PROTO_SCTP = 132
    NET_IP6_MAX_EXT = 8          # extension headers followed before giving up
    NET_HDR_COPY = 64            # stack copy of one header that spans segments

# DPDK's struct rte_net_hdr_lens.
ctypedef struct net_hdr_lens:
    uint8_t l2_len
    uint8_t inner_l2_len
    uint16_t l3_len
    uint16_t inner_l3_len
    uint16_t tunnel_len
    uint8_t l4_len
    uint8_t inner_l4_len

# Every Tx request bit of ol_flags.
cdef uint64_t NET_TX_ALL_FLAGS = RTE_MBUF_F_TX_OFFLOAD_MASK
cdef uint64_t NET_GENERIC_FLAGS = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL


# ---- small helpers ---------------------------------------------------------------------

cdef inline uint16_t be16(const uint8_t *p) noexcept nogil:
    return (<uint16_t>p[0] << 8) | p[1]


cdef inline uint16_t bswap16(uint16_t v) noexcept nogil:
    return <uint16_t>((v << 8) | (v >> 8))


cdef inline const uint8_t *net_read(const pyrtap_mbuf *m, const uint8_t *base, uint32_t off,
                                    uint32_t length, uint8_t *buf) noexcept nogil:
    """``length`` packet bytes from ``off`` (DPDK's rte_pktmbuf_read): a pointer into the
    first segment (``base`` = its data) when they are there, else a copy into ``buf``
    gathered across the chain; NULL when the packet is shorter."""
    if off + length <= m.data_len:
        return base + off
    if <uint64_t>off + length > m.pkt_len:
        return NULL
    return NULL if chain_copy(m, off, length, buf) else buf


# ---- packet type -----------------------------------------------------------------------

cdef inline bint net_ip6_ext_proto(uint8_t proto) noexcept nogil:
    """Next-header values that make an IPv6 packet RTE_PTYPE_L3_IPV6_EXT (as DPDK)."""
    return (proto == NET_PROTO_HOPOPTS or proto == NET_PROTO_ROUTING or proto == NET_PROTO_FRAGMENT
            or proto == NET_PROTO_ESP or proto == NET_PROTO_AH or proto == NET_PROTO_DSTOPTS)


cdef uint32_t net_get_ptype(const pyrtap_mbuf *m, net_hdr_lens *hl, uint32_t layers) noexcept nogil:
    """DPDK's rte_net_get_ptype: the RTE_PTYPE_* of a frame, parsing the layers asked.

    Ethernet, one VLAN tag or a QinQ pair, ARP; IPv4 (IPV4_EXT with options) or IPv6
    (IPV6_EXT when extension headers follow, skipped up to the upper layer); L4 TCP, UDP,
    SCTP, ICMP/ICMPv6, IGMP, ESP, FRAG for a fragment and NONFRAG for any other protocol.
    Tunnels are not parsed. ``hl`` (may be NULL) gets the header lengths found; it is
    zeroed first. A header cut short by the end of the packet stops the parse there.
    """
    cdef net_hdr_lens local
    cdef uint8_t buf[NET_HDR_COPY]
    cdef const uint8_t *base = pyrtap_mbuf_data(m)
    cdef const uint8_t *p
    cdef uint32_t ptype = RTE_PTYPE_L2_ETHER
    cdef uint32_t off = 14
    cdef uint16_t proto
    cdef uint8_t l4proto, ihl
    cdef bint v6 = False, frag = False
    cdef int i
    if hl == NULL:
        hl = &local
    memset(hl, 0, sizeof(net_hdr_lens))
    p = net_read(m, base, 0, 14, buf)
    if p == NULL:
        return RTE_PTYPE_UNKNOWN
    proto = be16(p + 12)
    hl.l2_len = 14
    if (layers & RTE_PTYPE_L2_MASK) == 0:
        return RTE_PTYPE_UNKNOWN
    if proto != NET_ETHER_TYPE_IPV4:              # IPv4 first: the common case
        if proto == NET_ETHER_TYPE_VLAN:
            ptype = RTE_PTYPE_L2_ETHER_VLAN
            p = net_read(m, base, 14, 4, buf)
            if p == NULL:
                return ptype
            proto = be16(p + 2)
            off = 18
        elif proto == NET_ETHER_TYPE_QINQ:
            ptype = RTE_PTYPE_L2_ETHER_QINQ
            p = net_read(m, base, 18, 4, buf)     # the inner tag carries the protocol
            if p == NULL:
                return ptype
            proto = be16(p + 2)
            off = 22
        elif proto == NET_ETHER_TYPE_ARP:
            return RTE_PTYPE_L2_ETHER_ARP
        hl.l2_len = off
    if (layers & RTE_PTYPE_L3_MASK) == 0:
        return ptype

    if proto == NET_ETHER_TYPE_IPV4:
        p = net_read(m, base, off, 20, buf)
        if p == NULL or (p[0] >> 4) != 4 or (p[0] & 0xF) < 5:
            return ptype
        ihl = p[0] & 0xF
        ptype |= RTE_PTYPE_L3_IPV4 if ihl == 5 else RTE_PTYPE_L3_IPV4_EXT
        hl.l3_len = ihl * 4
        if (layers & RTE_PTYPE_L4_MASK) == 0:
            return ptype
        if be16(p + 6) & 0x3FFF:                  # MF flag or a fragment offset
            return ptype | RTE_PTYPE_L4_FRAG
        l4proto = p[9]
        off += hl.l3_len
    elif proto == NET_ETHER_TYPE_IPV6:
        p = net_read(m, base, off, 40, buf)
        if p == NULL or (p[0] >> 4) != 6:
            return ptype
        v6 = True
        l4proto = p[6]
        hl.l3_len = 40
        off += 40
        if not net_ip6_ext_proto(l4proto):
            ptype |= RTE_PTYPE_L3_IPV6
        else:
            ptype |= RTE_PTYPE_L3_IPV6_EXT
            for i in range(NET_IP6_MAX_EXT + 1):
                if i == NET_IP6_MAX_EXT:
                    return ptype                  # too many: give up like DPDK
                if (l4proto == NET_PROTO_HOPOPTS or l4proto == NET_PROTO_ROUTING
                        or l4proto == NET_PROTO_DSTOPTS):
                    p = net_read(m, base, off, 2, buf)
                    if p == NULL:
                        return ptype
                    l4proto = p[0]
                    off += (<uint32_t>p[1] + 1) * 8
                elif l4proto == NET_PROTO_FRAGMENT:
                    p = net_read(m, base, off, 8, buf)
                    if p == NULL:
                        return ptype
                    l4proto = p[0]
                    off += 8
                    frag = True               # always the last extension header
                    break
                else:
                    break
            hl.l3_len = off - hl.l2_len
        if (layers & RTE_PTYPE_L4_MASK) == 0:
            return ptype
        if frag:
            return ptype | RTE_PTYPE_L4_FRAG
        if l4proto == NET_PROTO_NONE:
            return ptype | RTE_PTYPE_L4_NONFRAG
    else:
        return ptype

    if l4proto == NET_PROTO_TCP:
        p = net_read(m, base, off, 20, buf)
        if p == NULL:
            return ptype                          # truncated: no L4 type, as DPDK
        hl.l4_len = (p[12] & 0xF0) >> 2
        return ptype | RTE_PTYPE_L4_TCP
    if l4proto == NET_PROTO_UDP:
        if off + 8 > m.pkt_len:
            return ptype
        hl.l4_len = 8
        return ptype | RTE_PTYPE_L4_UDP
    if l4proto == NET_PROTO_SCTP:
        hl.l4_len = 12
        return ptype | RTE_PTYPE_L4_SCTP
    if (l4proto == NET_PROTO_ICMPV6) if v6 else (l4proto == NET_PROTO_ICMP):
        return ptype | RTE_PTYPE_L4_ICMP
    if l4proto == NET_PROTO_IGMP and not v6:
        return ptype | RTE_PTYPE_L4_IGMP
    if l4proto == NET_PROTO_ESP:
        return ptype | RTE_PTYPE_L4_ESP
    return ptype | RTE_PTYPE_L4_NONFRAG


# ---- checksums -------------------------------------------------------------------------

cdef inline uint64_t net_sum_add(const uint8_t *p, size_t n, uint64_t acc) noexcept nogil:
    """Add the 16-bit words of ``p[0:n]`` (memory order; an odd last byte padded with
    zero) to a wide one's-complement accumulator: DPDK's __rte_raw_cksum.

    32-bit loads into 64 bits: 2**16 == 1 modulo 0xFFFF, so folding the result later
    gives the same sum as 16-bit words, with a quarter of the additions."""
    cdef uint32_t a, b, c, d
    cdef uint16_t w
    while n >= 16:
        memcpy(&a, p, 4)
        memcpy(&b, p + 4, 4)
        memcpy(&c, p + 8, 4)
        memcpy(&d, p + 12, 4)
        acc += <uint64_t>a + b + c + d
        p += 16
        n -= 16
    while n >= 4:
        memcpy(&a, p, 4)
        acc += a
        p += 4
        n -= 4
    if n >= 2:
        memcpy(&w, p, 2)
        acc += w
        p += 2
        n -= 2
    if n:
        w = 0
        (<uint8_t *>&w)[0] = p[0]
        acc += w
    return acc


cdef inline uint16_t net_cksum_fold(uint64_t acc) noexcept nogil:
    """Reduce a wide one's-complement sum to 16 bits (not inverted)."""
    acc = <uint64_t><uint32_t>acc + (acc >> 32)
    acc = <uint64_t><uint32_t>acc + (acc >> 32)
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return <uint16_t>acc


cdef uint16_t net_raw_cksum(const uint8_t *p, size_t length, uint32_t acc) noexcept nogil:
    """DPDK's rte_raw_cksum with a starting sum: folded, not inverted, memory order."""
    return net_cksum_fold(net_sum_add(p, length, acc))


cdef int32_t net_raw_cksum_chain(const pyrtap_mbuf *m, uint32_t off, uint32_t length) noexcept nogil:
    """DPDK's rte_raw_cksum_mbuf: the folded sum of packet bytes [off, off+length) across
    segments, or -1 when the packet is shorter. A segment that starts at an odd packet
    offset pairs its bytes the other way round, so its sum is byte-swapped."""
    cdef uint64_t total = 0
    cdef uint32_t n, done = 0
    cdef uint16_t s
    if <uint64_t>off + length > m.pkt_len:
        return -1
    while m != NULL and off >= m.data_len:
        off -= m.data_len
        m = pyrtap_mbuf_next(m)
    while m != NULL and length:
        n = m.data_len - off
        if n > length:
            n = length
        s = net_raw_cksum(pyrtap_mbuf_data(m) + off, n, 0)
        total += bswap16(s) if done & 1 else s
        done += n
        length -= n
        off = 0
        m = pyrtap_mbuf_next(m)
    if length:
        return -1
    return net_cksum_fold(total)


cdef uint16_t net_ipv4_hdr_cksum(const uint8_t *ip) noexcept nogil:
    """DPDK's rte_ipv4_cksum: the IPv4 header checksum to store (memory order) over
    IHL*4 bytes. The stored checksum field is skipped, so it need not be zeroed."""
    cdef uint32_t hlen = (ip[0] & 0xF) * 4
    cdef uint64_t s = net_sum_add(ip, 10, 0)
    if hlen > 12:
        s = net_sum_add(ip + 12, hlen - 12, s)
    return <uint16_t>~net_cksum_fold(s)


cdef inline uint16_t net_phdr_sum(const uint8_t *l3, bint ipv6, uint8_t proto, uint32_t l4_len,
                                  bint tso) noexcept nogil:
    """The pseudo-header sum with an explicit upper-layer protocol (which may differ from
    the IPv6 next header when extension headers follow)."""
    cdef uint8_t tail[8]
    cdef uint64_t s
    if tso:
        l4_len = 0                                # DPDK's TSO convention: no length
    if ipv6:
        s = net_sum_add(l3 + 8, 32, 0)            # source and destination addresses
        tail[0] = l4_len >> 24
        tail[1] = (l4_len >> 16) & 0xFF
        tail[2] = (l4_len >> 8) & 0xFF
        tail[3] = l4_len & 0xFF
        tail[4] = 0
        tail[5] = 0
        tail[6] = 0
        tail[7] = proto
        return net_cksum_fold(net_sum_add(tail, 8, s))
    s = net_sum_add(l3 + 12, 8, 0)
    tail[0] = 0
    tail[1] = proto
    tail[2] = (l4_len >> 8) & 0xFF
    tail[3] = l4_len & 0xFF
    return net_cksum_fold(net_sum_add(tail, 4, s))


cdef uint16_t net_phdr_cksum(const uint8_t *l3, bint ipv6, uint32_t l4_len, bint tso) noexcept nogil:
    """DPDK's rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum: the pseudo-header sum (not
    inverted, memory order) for the protocol named in the IP header and an L4 length of
    ``l4_len``; with ``tso`` the length is left out, DPDK's convention for TSO."""
    return net_phdr_sum(l3, ipv6, l3[6] if ipv6 else l3[9], l4_len, tso)


cdef inline bint net_ptype_ipv4(uint32_t ptype) noexcept nogil:
    ptype &= RTE_PTYPE_L3_MASK
    return (ptype == RTE_PTYPE_L3_IPV4 or ptype == RTE_PTYPE_L3_IPV4_EXT
            or ptype == RTE_PTYPE_L3_IPV4_EXT_UNKNOWN)


cdef inline bint net_ptype_ipv6(uint32_t ptype) noexcept nogil:
    ptype &= RTE_PTYPE_L3_MASK
    return (ptype == RTE_PTYPE_L3_IPV6 or ptype == RTE_PTYPE_L3_IPV6_EXT
            or ptype == RTE_PTYPE_L3_IPV6_EXT_UNKNOWN)


cdef int net_l4_cksum_check(const pyrtap_mbuf *m, uint32_t ptype, uint32_t l2_len,
                            uint32_t l3_len) noexcept nogil:
    """Verify a received TCP/UDP checksum over the whole chain (what DPDK drivers report
    as RTE_MBUF_F_RX_L4_CKSUM_GOOD/BAD): 1 good, 0 bad, -1 unknown (not TCP/UDP over IP,
    a fragment, or a packet shorter than its IP length says). The L4 length comes from
    the IP header, so Ethernet padding is not summed; UDP checksum 0 over IPv4 means
    "none" and counts as good."""
    cdef uint8_t buf[NET_HDR_COPY]
    cdef const uint8_t *base = pyrtap_mbuf_data(m)
    cdef const uint8_t *ip
    cdef const uint8_t *p
    cdef uint32_t l4 = ptype & RTE_PTYPE_L4_MASK
    cdef uint32_t l4off = l2_len + l3_len
    cdef int32_t l4_len, s
    cdef bint v6
    cdef uint8_t proto
    cdef uint16_t phdr
    if l4 != RTE_PTYPE_L4_TCP and l4 != RTE_PTYPE_L4_UDP:
        return -1
    if net_ptype_ipv4(ptype):
        v6 = False
        ip = net_read(m, base, l2_len, 20, buf)
        if ip == NULL or be16(ip + 6) & 0x3FFF:
            return -1
        l4_len = <int32_t>be16(ip + 2) - <int32_t>l3_len
    elif net_ptype_ipv6(ptype):
        v6 = True
        ip = net_read(m, base, l2_len, 40, buf)
        if ip == NULL:
            return -1
        l4_len = <int32_t>be16(ip + 4) + 40 - <int32_t>l3_len
    else:
        return -1
    proto = NET_PROTO_TCP if l4 == RTE_PTYPE_L4_TCP else NET_PROTO_UDP
    if l4_len < (20 if proto == NET_PROTO_TCP else 8) or <uint64_t>l4off + l4_len > m.pkt_len:
        return -1
    phdr = net_phdr_sum(ip, v6, proto, l4_len, False)   # ``ip`` may be ``buf``: use it first
    if proto == NET_PROTO_UDP and not v6:
        p = net_read(m, base, l4off + 6, 2, buf)
        if p[0] == 0 and p[1] == 0:
            return 1
    s = net_raw_cksum_chain(m, l4off, l4_len)
    if s < 0:
        return -1
    return 1 if net_cksum_fold(<uint64_t>s + phdr) == 0xFFFF else 0


# ---- Tx preparation --------------------------------------------------------------------

cdef int net_tx_prepare_one(pyrtap_mbuf *m) noexcept nogil:
    """One packet of rte_eth_tx_prepare: DPDK's rte_net_intel_cksum_flags_prepare plus checks.

    Returns 0, -ENOTSUP for a Tx request outside PYRTAP_TX_OL_SUPPORTED (SCTP checksum,
    VLAN insertion, tunnels, UDP segmentation, ...), or -EINVAL when the request does not
    match the packet: IPV4 and IPV6 both, IP_CKSUM without IPV4, an L4 checksum or TCP_SEG
    without IPV4/IPV6, TCP_SEG without tso_segsz or with a UDP checksum, l2+l3+l4 lengths
    longer than the packet, headers not all in the first segment, an L3 header whose
    version, length or protocol disagrees with the flags, an IP length past the packet.

    Fix-ups for the driver: IP_CKSUM zeroes the IPv4 checksum; TCP_SEG stores the
    pseudo-header sum WITHOUT length in the TCP checksum field (DPDK's TSO convention);
    TCP/UDP_CKSUM store it WITH the L4 length. With OUTER_IPV4/6 the headers start
    outer_l2_len + outer_l3_len further in.
    """
    cdef uint64_t ol = m.ol_flags
    cdef uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK
    cdef bint v4 = (ol & RTE_MBUF_F_TX_IPV4) != 0
    cdef bint v6 = (ol & RTE_MBUF_F_TX_IPV6) != 0
    cdef bint tso = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0
    cdef uint32_t l3off = m.l2_len
    cdef uint32_t l4off, need, ip_l4_len
    cdef uint8_t proto = 0
    cdef uint8_t *ip
    cdef uint16_t phdr
    if (ol & NET_TX_ALL_FLAGS & ~PYRTAP_TX_OL_SUPPORTED) or l4 == RTE_MBUF_F_TX_SCTP_CKSUM:
        return -ENOTSUP
    if not (ol & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)):
        return 0                                  # nothing for the driver to compute
    if v4 and v6:
        return -EINVAL
    if (ol & RTE_MBUF_F_TX_IP_CKSUM) and not v4:
        return -EINVAL
    if (l4 or tso) and not (v4 or v6):
        return -EINVAL
    if tso and (m.tso_segsz == 0 or l4 == RTE_MBUF_F_TX_UDP_CKSUM or m.l4_len < 20):
        return -EINVAL
    if ol & (RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IPV6):
        l3off += <uint32_t>m.outer_l2_len + m.outer_l3_len
    l4off = l3off + m.l3_len
    if m.l3_len < (40 if v6 else 20) or l4off + m.l4_len > m.pkt_len:
        return -EINVAL
    need = l4off
    if tso or l4 == RTE_MBUF_F_TX_TCP_CKSUM:
        proto = NET_PROTO_TCP
        need += m.l4_len if m.l4_len > 20 else 20
    elif l4 == RTE_MBUF_F_TX_UDP_CKSUM:
        proto = NET_PROTO_UDP
        need += m.l4_len if m.l4_len > 8 else 8
    if need > m.data_len:                         # the driver reads headers in one piece
        return -EINVAL
    ip = pyrtap_mbuf_data(m) + l3off
    if v4:
        if (ip[0] >> 4) != 4 or (ip[0] & 0xF) * 4 != m.l3_len:
            return -EINVAL
        if proto and ip[9] != proto:
            return -EINVAL
        if be16(ip + 2) < m.l3_len:
            return -EINVAL
        ip_l4_len = be16(ip + 2) - m.l3_len
    else:
        if (ip[0] >> 4) != 6:
            return -EINVAL
        if proto and m.l3_len == 40 and ip[6] != proto:
            return -EINVAL
        if <uint32_t>be16(ip + 4) + 40 < m.l3_len:
            return -EINVAL
        ip_l4_len = be16(ip + 4) + 40 - m.l3_len
    if proto and not tso and <uint64_t>l4off + ip_l4_len > m.pkt_len:
        return -EINVAL
    if ol & RTE_MBUF_F_TX_IP_CKSUM:
        ip[10] = 0
        ip[11] = 0
    if proto:
        phdr = net_phdr_sum(ip, v6, proto, ip_l4_len, tso)
        memcpy(ip + m.l3_len + (16 if proto == NET_PROTO_TCP else 6), &phdr, 2)
    return 0


cdef void net_rx_to_tx_offload(pyrtap_mbuf *m) noexcept nogil:
    """Hand a received packet over for forwarding, as DPDK testpmd's csum engine does.

    A frame received as RTE_MBUF_F_RX_LRO (coalesced; tso_segsz set by the driver) or
    with RTE_MBUF_F_RX_L4_CKSUM_NONE (checksum left partial) must have its checksum
    completed on Tx: it gets RTE_MBUF_F_TX_IPV4/IPV6 and TCP/UDP_CKSUM from
    packet_type, plus TCP_SEG (tso_segsz kept) for a coalesced TCP frame, then
    net_tx_prepare_one's fix-up. l2/l3/l4_len and packet_type are re-parsed when the
    driver left them 0. Rx flags are cleared; other packets get ol_flags 0. Only the
    generic INDIRECT/EXTERNAL bits are kept. If the fix-up fails the flags stay, so
    rte_eth_tx_prepare reports the packet.
    """
    cdef uint64_t ol = m.ol_flags
    cdef uint64_t tx = 0
    cdef uint32_t ptype = m.packet_type
    cdef uint32_t l4
    cdef net_hdr_lens hl
    cdef bint lro = (ol & RTE_MBUF_F_RX_LRO) != 0
    m.ol_flags = ol & NET_GENERIC_FLAGS
    if not lro and (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_NONE:
        return
    l4 = ptype & RTE_PTYPE_L4_MASK
    if (m.l2_len == 0 or m.l3_len == 0 or (ptype & RTE_PTYPE_L3_MASK) == 0 or l4 == 0
            or ((l4 == RTE_PTYPE_L4_TCP or l4 == RTE_PTYPE_L4_UDP) and m.l4_len == 0)):
        ptype = net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK)
        m.l2_len = hl.l2_len
        m.l3_len = hl.l3_len
        m.l4_len = hl.l4_len
        if m.packet_type == 0:
            m.packet_type = ptype
        l4 = ptype & RTE_PTYPE_L4_MASK
    if net_ptype_ipv4(ptype):
        tx = RTE_MBUF_F_TX_IPV4
    elif net_ptype_ipv6(ptype):
        tx = RTE_MBUF_F_TX_IPV6
    else:
        return
    if l4 == RTE_PTYPE_L4_TCP:
        tx |= RTE_MBUF_F_TX_TCP_CKSUM
        if lro and m.tso_segsz:
            tx |= RTE_MBUF_F_TX_TCP_SEG
    elif l4 == RTE_PTYPE_L4_UDP:
        tx |= RTE_MBUF_F_TX_UDP_CKSUM
    else:
        return
    m.ol_flags |= tx
    net_tx_prepare_one(m)


# ---- Python API ------------------------------------------------------------------------

def rte_net_get_ptype(m, hdr_lens, uint32_t layers=RTE_PTYPE_ALL_MASK):
    """Parse a packet's headers and return its RTE_PTYPE_* (``rte_net_get_ptype``).

    ``hdr_lens`` is an ``rte_net_hdr_lens()`` filled in place, or None; ``layers`` is a
    mask of the RTE_PTYPE_*_MASK layers to parse (RTE_PTYPE_ALL_MASK for all).
    """
    cdef net_hdr_lens hl
    cdef uint32_t pt = net_get_ptype(unwrap(m), &hl, layers)
    if hdr_lens is not None:
        hdr_lens.l2_len = hl.l2_len
        hdr_lens.inner_l2_len = hl.inner_l2_len
        hdr_lens.l3_len = hl.l3_len
        hdr_lens.inner_l3_len = hl.inner_l3_len
        hdr_lens.tunnel_len = hl.tunnel_len
        hdr_lens.l4_len = hl.l4_len
        hdr_lens.inner_l4_len = hl.inner_l4_len
    return pt


def rte_eth_tx_prepare(int port_id, int queue_id, tx_pkts, int nb_pkts):
    """Check and fix up packets' Tx offload requests before sending (``rte_eth_tx_prepare``).

    ``tx_pkts`` is an MbufBurst (C loop) or a list of Mbuf. Returns how many leading
    packets are ready for ``rte_eth_tx_burst``; when fewer than ``nb_pkts``,
    ``rte_errno()`` is the error of the first one that is not (ENOTSUP: an offload the
    TAP drivers cannot do; EINVAL: flags and lengths do not match the packet). An
    invalid or stopped port gives 0 with ENODEV, an invalid queue 0 with EINVAL.
    """
    global pyrtap_errno_value
    cdef MbufBurst b
    cdef pyrtap_mbuf *p
    cdef int i, rc = 0
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or fp_ops[port_id].nb_tx == 0:
        pyrtap_errno_value = ENODEV
        return 0
    if <unsigned>queue_id >= fp_ops[port_id].nb_tx:
        pyrtap_errno_value = EINVAL
        return 0
    if nb_pkts <= 0:
        return 0
    if type(tx_pkts) is MbufBurst:
        b = <MbufBurst>tx_pkts
        if nb_pkts > b.size:
            nb_pkts = b.size
        with nogil:
            for i in range(nb_pkts):
                if b.ptrs[i] == NULL or b.ptrs[i].state != PYRTAP_MBUF_ALLOCATED:
                    rc = -EINVAL        # an empty slot, or an mbuf the application does not own
                else:
                    rc = net_tx_prepare_one(b.ptrs[i])
                if rc:
                    break
    else:
        if nb_pkts > len(tx_pkts):
            nb_pkts = len(tx_pkts)
        for i in range(nb_pkts):
            p = unwrap(tx_pkts[i])
            rc = net_tx_prepare_one(p) if p.state == PYRTAP_MBUF_ALLOCATED else -EINVAL
            if rc:
                break
    if rc:
        pyrtap_errno_value = -rc
        return i
    return nb_pkts


def rx_offloads_to_tx(pkts, int nb_pkts):
    """Turn received packets' Rx offload results into Tx requests, for forwarding.

    A pyrtap extension (DPDK applications do this by hand, as testpmd's csum engine
    does): LRO frames and frames whose checksum was left partial get
    RTE_MBUF_F_TX_IPV4/IPV6 + TCP/UDP_CKSUM (+ TCP_SEG for LRO TCP) and the fix-ups of
    ``rte_eth_tx_prepare``; every other packet gets ol_flags 0. ``pkts`` is an
    MbufBurst or a list of Mbuf. Returns ``nb_pkts`` (capped at the burst's length).
    """
    cdef MbufBurst b
    cdef int i
    if nb_pkts <= 0:
        return 0
    if type(pkts) is MbufBurst:
        b = <MbufBurst>pkts
        if nb_pkts > b.size:
            nb_pkts = b.size
        with nogil:
            for i in range(nb_pkts):
                if b.ptrs[i] != NULL:
                    net_rx_to_tx_offload(b.ptrs[i])
        return nb_pkts
    if nb_pkts > len(pkts):
        nb_pkts = len(pkts)
    for i in range(nb_pkts):
        net_rx_to_tx_offload(unwrap(pkts[i]))
    return nb_pkts


# Header arguments of the checksum helpers: any contiguous bytes starting at the header.

cdef object _hdr_u8(object obj):
    """A 1-d uint8 array over the bytes of a header view (numpy record or array of a
    header dtype, uint8 array, or any bytes-like); copies only a non-contiguous array."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == np.uint8 and obj.ndim == 1 and obj.flags.c_contiguous:
            return obj
        return np.ascontiguousarray(obj).view(np.uint8).reshape(-1)
    return np.frombuffer(obj, dtype=np.uint8)


cdef inline int _be_value(uint16_t mem) noexcept:
    """The big-endian number whose bytes equal the memory-order value ``mem``."""
    cdef uint8_t *b = <uint8_t *>&mem
    return (<int>b[0] << 8) | b[1]


cdef const uint8_t[::1] _hdr_arg(object obj, Py_ssize_t need, str what):
    cdef const uint8_t[::1] v = _hdr_u8(obj)
    if v.shape[0] < need:
        raise ValueError("%s: %d bytes given, %d needed" % (what, v.shape[0], need))
    return v


cdef uint64_t NET_TX_SEG_FLAGS = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG


def rte_ipv4_cksum(ip):
    """IPv4 header checksum (``rte_ipv4_cksum``) over IHL*4 bytes of ``ip``.

    Returns the big-endian value: ``hdr['hdr_checksum'] = rte_ipv4_cksum(hdr)`` stores
    it right. The current checksum field is ignored (DPDK wants it zeroed first; here
    it need not be).
    """
    cdef const uint8_t[::1] v = _hdr_arg(ip, 20, "IPv4 header")
    if (v[0] & 0xF) * 4 > v.shape[0]:
        raise ValueError("IPv4 header: IHL %d longer than the %d bytes given" % (v[0] & 0xF, v.shape[0]))
    return _be_value(net_ipv4_hdr_cksum(&v[0]))


def rte_ipv4_phdr_cksum(ip, uint64_t ol_flags=0):
    """IPv4 pseudo-header sum, not inverted (``rte_ipv4_phdr_cksum``), as a big-endian value.

    The length is total_length - IHL*4, left out when ``ol_flags`` has
    RTE_MBUF_F_TX_TCP_SEG or RTE_MBUF_F_TX_UDP_SEG (what a TSO-capable NIC expects).
    """
    cdef const uint8_t[::1] v = _hdr_arg(ip, 20, "IPv4 header")
    cdef int l4_len = be16(&v[2]) - (v[0] & 0xF) * 4
    return _be_value(net_phdr_sum(&v[0], False, v[9], l4_len if l4_len > 0 else 0,
                                  (ol_flags & NET_TX_SEG_FLAGS) != 0))


def rte_ipv6_phdr_cksum(ip6, uint64_t ol_flags=0):
    """IPv6 pseudo-header sum, not inverted (``rte_ipv6_phdr_cksum``), as a big-endian value.

    The length is payload_len and the protocol the header's next header (DPDK's
    choices); the length is left out with RTE_MBUF_F_TX_TCP_SEG/UDP_SEG.
    """
    cdef const uint8_t[::1] v = _hdr_arg(ip6, 40, "IPv6 header")
    return _be_value(net_phdr_sum(&v[0], True, v[6], be16(&v[4]),
                                  (ol_flags & NET_TX_SEG_FLAGS) != 0))


cdef uint16_t _udptcp_sum(const uint8_t[::1] ipv, const uint8_t[::1] l4v, bint v6) except? 0xFFFF:
    """Pseudo-header + L4 bytes, folded, not inverted (memory order)."""
    cdef int l4_len
    if v6:
        l4_len = be16(&ipv[4])
    else:
        l4_len = be16(&ipv[2]) - (ipv[0] & 0xF) * 4
        if l4_len < 0:
            raise ValueError("IPv4 total_length is shorter than the header")
    if l4v.shape[0] < l4_len:
        raise ValueError("L4 view: %d bytes given, the IP header says %d" % (l4v.shape[0], l4_len))
    return net_cksum_fold(<uint64_t>net_phdr_sum(&ipv[0], v6, ipv[6] if v6 else ipv[9], l4_len, False)
                          + net_raw_cksum(&l4v[0] if l4_len else NULL, l4_len, 0))


def rte_ipv4_udptcp_cksum(ip, l4):
    """TCP/UDP checksum over IPv4 (``rte_ipv4_udptcp_cksum``), as a big-endian value.

    ``l4`` covers the L4 header and payload (total_length - IHL*4 bytes are summed), with
    its checksum field zeroed, as in DPDK. A result of 0 is returned as 0xFFFF (UDP's
    "no checksum" is 0).
    """
    cdef const uint8_t[::1] ipv = _hdr_arg(ip, 20, "IPv4 header")
    cdef const uint8_t[::1] l4v = _hdr_arg(l4, 0, "L4 view")
    cdef uint16_t c = ~_udptcp_sum(ipv, l4v, False)
    return 0xFFFF if c == 0 else _be_value(c)


def rte_ipv6_udptcp_cksum(ip6, l4):
    """TCP/UDP checksum over IPv6 (``rte_ipv6_udptcp_cksum``), as a big-endian value.

    ``l4`` covers payload_len bytes with its checksum field zeroed; the protocol is the
    IPv6 header's next header. A result of 0 is returned as 0xFFFF.
    """
    cdef const uint8_t[::1] ipv = _hdr_arg(ip6, 40, "IPv6 header")
    cdef const uint8_t[::1] l4v = _hdr_arg(l4, 0, "L4 view")
    cdef uint16_t c = ~_udptcp_sum(ipv, l4v, True)
    return 0xFFFF if c == 0 else _be_value(c)


def rte_ipv4_udptcp_cksum_verify(ip, l4):
    """0 when the TCP/UDP checksum in ``l4`` is right, else -1 (``rte_ipv4_udptcp_cksum_verify``).

    UDP with checksum 0 (none sent) counts as right, as RFC 768 says.
    """
    cdef const uint8_t[::1] ipv = _hdr_arg(ip, 20, "IPv4 header")
    cdef const uint8_t[::1] l4v = _hdr_arg(l4, 0, "L4 view")
    if ipv[9] == NET_PROTO_UDP and l4v.shape[0] >= 8 and l4v[6] == 0 and l4v[7] == 0:
        return 0
    return 0 if _udptcp_sum(ipv, l4v, False) == 0xFFFF else -1


def rte_ipv6_udptcp_cksum_verify(ip6, l4):
    """0 when the TCP/UDP checksum in ``l4`` is right, else -1 (``rte_ipv6_udptcp_cksum_verify``)."""
    cdef const uint8_t[::1] ipv = _hdr_arg(ip6, 40, "IPv6 header")
    cdef const uint8_t[::1] l4v = _hdr_arg(l4, 0, "L4 view")
    return 0 if _udptcp_sum(ipv, l4v, True) == 0xFFFF else -1


cdef inline uint16_t _mem_value(uint32_t be) noexcept:
    """The memory-order value whose bytes are the big-endian number ``be`` (folded first)."""
    cdef uint16_t v = net_cksum_fold(be)
    cdef uint8_t b[2]
    cdef uint16_t out
    b[0] = v >> 8
    b[1] = v & 0xFF
    memcpy(&out, b, 2)
    return out


def rte_raw_cksum(buf, uint32_t sum=0):
    """One's-complement sum of ``buf``'s 16-bit words, folded, not inverted
    (``rte_raw_cksum``), as a big-endian value; ``sum`` is a big-endian starting sum."""
    cdef const uint8_t[::1] v = _hdr_arg(buf, 0, "buffer")
    return _be_value(net_raw_cksum(&v[0] if v.shape[0] else NULL, v.shape[0], _mem_value(sum)))


def rte_raw_cksum_mbuf(m, uint32_t off, uint32_t length):
    """Folded sum of packet bytes [off, off+length) across segments (``rte_raw_cksum_mbuf``),
    as a big-endian value, or -1 when the packet is shorter."""
    cdef int32_t s = net_raw_cksum_chain(unwrap(m), off, length)
    return -1 if s < 0 else _be_value(<uint16_t>s)


def rte_net_l4_cksum_check(m, uint32_t ptype, uint32_t l2_len, uint32_t l3_len):
    """pyrtap's Rx checksum check (``net_l4_cksum_check``): 1 good, 0 bad, -1 unknown."""
    return net_l4_cksum_check(unwrap(m), ptype, l2_len, l3_len)


def _tx_prepare_one(m):
    """net_tx_prepare_one on one packet: 0 or a negative errno (for tests)."""
    return net_tx_prepare_one(unwrap(m))


# Every C value of rte_flags.h, for the test that keeps the Python constants equal.
C_CONSTANTS = {
    "RTE_MBUF_F_RX_VLAN": RTE_MBUF_F_RX_VLAN,
    "RTE_MBUF_F_RX_RSS_HASH": RTE_MBUF_F_RX_RSS_HASH,
    "RTE_MBUF_F_RX_FDIR": RTE_MBUF_F_RX_FDIR,
    "RTE_MBUF_F_RX_L4_CKSUM_BAD": RTE_MBUF_F_RX_L4_CKSUM_BAD,
    "RTE_MBUF_F_RX_IP_CKSUM_BAD": RTE_MBUF_F_RX_IP_CKSUM_BAD,
    "RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD": RTE_MBUF_F_RX_OUTER_IP_CKSUM_BAD,
    "RTE_MBUF_F_RX_VLAN_STRIPPED": RTE_MBUF_F_RX_VLAN_STRIPPED,
    "RTE_MBUF_F_RX_IP_CKSUM_GOOD": RTE_MBUF_F_RX_IP_CKSUM_GOOD,
    "RTE_MBUF_F_RX_L4_CKSUM_GOOD": RTE_MBUF_F_RX_L4_CKSUM_GOOD,
    "RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN": RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN,
    "RTE_MBUF_F_RX_IP_CKSUM_NONE": RTE_MBUF_F_RX_IP_CKSUM_NONE,
    "RTE_MBUF_F_RX_IP_CKSUM_MASK": RTE_MBUF_F_RX_IP_CKSUM_MASK,
    "RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN": RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN,
    "RTE_MBUF_F_RX_L4_CKSUM_NONE": RTE_MBUF_F_RX_L4_CKSUM_NONE,
    "RTE_MBUF_F_RX_L4_CKSUM_MASK": RTE_MBUF_F_RX_L4_CKSUM_MASK,
    "RTE_MBUF_F_RX_IEEE1588_PTP": RTE_MBUF_F_RX_IEEE1588_PTP,
    "RTE_MBUF_F_RX_IEEE1588_TMST": RTE_MBUF_F_RX_IEEE1588_TMST,
    "RTE_MBUF_F_RX_FDIR_ID": RTE_MBUF_F_RX_FDIR_ID,
    "RTE_MBUF_F_RX_FDIR_FLX": RTE_MBUF_F_RX_FDIR_FLX,
    "RTE_MBUF_F_RX_QINQ_STRIPPED": RTE_MBUF_F_RX_QINQ_STRIPPED,
    "RTE_MBUF_F_RX_LRO": RTE_MBUF_F_RX_LRO,
    "RTE_MBUF_F_RX_SEC_OFFLOAD": RTE_MBUF_F_RX_SEC_OFFLOAD,
    "RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED": RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED,
    "RTE_MBUF_F_RX_QINQ": RTE_MBUF_F_RX_QINQ,
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD": RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD,
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD": RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD,
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_UNKNOWN": RTE_MBUF_F_RX_OUTER_L4_CKSUM_UNKNOWN,
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID": RTE_MBUF_F_RX_OUTER_L4_CKSUM_INVALID,
    "RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK": RTE_MBUF_F_RX_OUTER_L4_CKSUM_MASK,
    "RTE_MBUF_F_TX_OUTER_UDP_CKSUM": RTE_MBUF_F_TX_OUTER_UDP_CKSUM,
    "RTE_MBUF_F_TX_UDP_SEG": RTE_MBUF_F_TX_UDP_SEG,
    "RTE_MBUF_F_TX_SEC_OFFLOAD": RTE_MBUF_F_TX_SEC_OFFLOAD,
    "RTE_MBUF_F_TX_MACSEC": RTE_MBUF_F_TX_MACSEC,
    "RTE_MBUF_F_TX_TUNNEL_VXLAN": RTE_MBUF_F_TX_TUNNEL_VXLAN,
    "RTE_MBUF_F_TX_TUNNEL_GRE": RTE_MBUF_F_TX_TUNNEL_GRE,
    "RTE_MBUF_F_TX_TUNNEL_IPIP": RTE_MBUF_F_TX_TUNNEL_IPIP,
    "RTE_MBUF_F_TX_TUNNEL_GENEVE": RTE_MBUF_F_TX_TUNNEL_GENEVE,
    "RTE_MBUF_F_TX_TUNNEL_MPLSINUDP": RTE_MBUF_F_TX_TUNNEL_MPLSINUDP,
    "RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE": RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE,
    "RTE_MBUF_F_TX_TUNNEL_GTP": RTE_MBUF_F_TX_TUNNEL_GTP,
    "RTE_MBUF_F_TX_TUNNEL_ESP": RTE_MBUF_F_TX_TUNNEL_ESP,
    "RTE_MBUF_F_TX_TUNNEL_IP": RTE_MBUF_F_TX_TUNNEL_IP,
    "RTE_MBUF_F_TX_TUNNEL_UDP": RTE_MBUF_F_TX_TUNNEL_UDP,
    "RTE_MBUF_F_TX_TUNNEL_MASK": RTE_MBUF_F_TX_TUNNEL_MASK,
    "RTE_MBUF_F_TX_QINQ": RTE_MBUF_F_TX_QINQ,
    "RTE_MBUF_F_TX_TCP_SEG": RTE_MBUF_F_TX_TCP_SEG,
    "RTE_MBUF_F_TX_IEEE1588_TMST": RTE_MBUF_F_TX_IEEE1588_TMST,
    "RTE_MBUF_F_TX_L4_NO_CKSUM": RTE_MBUF_F_TX_L4_NO_CKSUM,
    "RTE_MBUF_F_TX_TCP_CKSUM": RTE_MBUF_F_TX_TCP_CKSUM,
    "RTE_MBUF_F_TX_SCTP_CKSUM": RTE_MBUF_F_TX_SCTP_CKSUM,
    "RTE_MBUF_F_TX_UDP_CKSUM": RTE_MBUF_F_TX_UDP_CKSUM,
    "RTE_MBUF_F_TX_L4_MASK": RTE_MBUF_F_TX_L4_MASK,
    "RTE_MBUF_F_TX_IP_CKSUM": RTE_MBUF_F_TX_IP_CKSUM,
    "RTE_MBUF_F_TX_IPV4": RTE_MBUF_F_TX_IPV4,
    "RTE_MBUF_F_TX_IPV6": RTE_MBUF_F_TX_IPV6,
    "RTE_MBUF_F_TX_VLAN": RTE_MBUF_F_TX_VLAN,
    "RTE_MBUF_F_TX_OUTER_IP_CKSUM": RTE_MBUF_F_TX_OUTER_IP_CKSUM,
    "RTE_MBUF_F_TX_OUTER_IPV4": RTE_MBUF_F_TX_OUTER_IPV4,
    "RTE_MBUF_F_TX_OUTER_IPV6": RTE_MBUF_F_TX_OUTER_IPV6,
    "RTE_MBUF_F_EXTERNAL": RTE_MBUF_F_EXTERNAL,
    "RTE_MBUF_F_INDIRECT": RTE_MBUF_F_INDIRECT,
    "RTE_MBUF_F_TX_OFFLOAD_MASK": RTE_MBUF_F_TX_OFFLOAD_MASK,
    "PYRTAP_TX_OL_SUPPORTED": PYRTAP_TX_OL_SUPPORTED,
    "RTE_PTYPE_UNKNOWN": RTE_PTYPE_UNKNOWN,
    "RTE_PTYPE_L2_ETHER": RTE_PTYPE_L2_ETHER,
    "RTE_PTYPE_L2_ETHER_TIMESYNC": RTE_PTYPE_L2_ETHER_TIMESYNC,
    "RTE_PTYPE_L2_ETHER_ARP": RTE_PTYPE_L2_ETHER_ARP,
    "RTE_PTYPE_L2_ETHER_LLDP": RTE_PTYPE_L2_ETHER_LLDP,
    "RTE_PTYPE_L2_ETHER_NSH": RTE_PTYPE_L2_ETHER_NSH,
    "RTE_PTYPE_L2_ETHER_VLAN": RTE_PTYPE_L2_ETHER_VLAN,
    "RTE_PTYPE_L2_ETHER_QINQ": RTE_PTYPE_L2_ETHER_QINQ,
    "RTE_PTYPE_L2_ETHER_PPPOE": RTE_PTYPE_L2_ETHER_PPPOE,
    "RTE_PTYPE_L2_ETHER_FCOE": RTE_PTYPE_L2_ETHER_FCOE,
    "RTE_PTYPE_L2_ETHER_MPLS": RTE_PTYPE_L2_ETHER_MPLS,
    "RTE_PTYPE_L2_MASK": RTE_PTYPE_L2_MASK,
    "RTE_PTYPE_L3_IPV4": RTE_PTYPE_L3_IPV4,
    "RTE_PTYPE_L3_IPV4_EXT": RTE_PTYPE_L3_IPV4_EXT,
    "RTE_PTYPE_L3_IPV6": RTE_PTYPE_L3_IPV6,
    "RTE_PTYPE_L3_IPV4_EXT_UNKNOWN": RTE_PTYPE_L3_IPV4_EXT_UNKNOWN,
    "RTE_PTYPE_L3_IPV6_EXT": RTE_PTYPE_L3_IPV6_EXT,
    "RTE_PTYPE_L3_IPV6_EXT_UNKNOWN": RTE_PTYPE_L3_IPV6_EXT_UNKNOWN,
    "RTE_PTYPE_L3_MASK": RTE_PTYPE_L3_MASK,
    "RTE_PTYPE_L4_TCP": RTE_PTYPE_L4_TCP,
    "RTE_PTYPE_L4_UDP": RTE_PTYPE_L4_UDP,
    "RTE_PTYPE_L4_FRAG": RTE_PTYPE_L4_FRAG,
    "RTE_PTYPE_L4_SCTP": RTE_PTYPE_L4_SCTP,
    "RTE_PTYPE_L4_ICMP": RTE_PTYPE_L4_ICMP,
    "RTE_PTYPE_L4_NONFRAG": RTE_PTYPE_L4_NONFRAG,
    "RTE_PTYPE_L4_IGMP": RTE_PTYPE_L4_IGMP,
    "RTE_PTYPE_L4_ESP": RTE_PTYPE_L4_ESP,
    "RTE_PTYPE_L4_MASK": RTE_PTYPE_L4_MASK,
    "RTE_PTYPE_TUNNEL_IP": RTE_PTYPE_TUNNEL_IP,
    "RTE_PTYPE_TUNNEL_GRE": RTE_PTYPE_TUNNEL_GRE,
    "RTE_PTYPE_TUNNEL_VXLAN": RTE_PTYPE_TUNNEL_VXLAN,
    "RTE_PTYPE_TUNNEL_NVGRE": RTE_PTYPE_TUNNEL_NVGRE,
    "RTE_PTYPE_TUNNEL_GENEVE": RTE_PTYPE_TUNNEL_GENEVE,
    "RTE_PTYPE_TUNNEL_GRENAT": RTE_PTYPE_TUNNEL_GRENAT,
    "RTE_PTYPE_TUNNEL_GTPC": RTE_PTYPE_TUNNEL_GTPC,
    "RTE_PTYPE_TUNNEL_GTPU": RTE_PTYPE_TUNNEL_GTPU,
    "RTE_PTYPE_TUNNEL_ESP": RTE_PTYPE_TUNNEL_ESP,
    "RTE_PTYPE_TUNNEL_L2TP": RTE_PTYPE_TUNNEL_L2TP,
    "RTE_PTYPE_TUNNEL_VXLAN_GPE": RTE_PTYPE_TUNNEL_VXLAN_GPE,
    "RTE_PTYPE_TUNNEL_MPLS_IN_GRE": RTE_PTYPE_TUNNEL_MPLS_IN_GRE,
    "RTE_PTYPE_TUNNEL_MPLS_IN_UDP": RTE_PTYPE_TUNNEL_MPLS_IN_UDP,
    "RTE_PTYPE_TUNNEL_MASK": RTE_PTYPE_TUNNEL_MASK,
    "RTE_PTYPE_INNER_L2_ETHER": RTE_PTYPE_INNER_L2_ETHER,
    "RTE_PTYPE_INNER_L2_ETHER_VLAN": RTE_PTYPE_INNER_L2_ETHER_VLAN,
    "RTE_PTYPE_INNER_L2_ETHER_QINQ": RTE_PTYPE_INNER_L2_ETHER_QINQ,
    "RTE_PTYPE_INNER_L2_MASK": RTE_PTYPE_INNER_L2_MASK,
    "RTE_PTYPE_INNER_L3_IPV4": RTE_PTYPE_INNER_L3_IPV4,
    "RTE_PTYPE_INNER_L3_IPV4_EXT": RTE_PTYPE_INNER_L3_IPV4_EXT,
    "RTE_PTYPE_INNER_L3_IPV6": RTE_PTYPE_INNER_L3_IPV6,
    "RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN": RTE_PTYPE_INNER_L3_IPV4_EXT_UNKNOWN,
    "RTE_PTYPE_INNER_L3_IPV6_EXT": RTE_PTYPE_INNER_L3_IPV6_EXT,
    "RTE_PTYPE_INNER_L3_IPV6_EXT_UNKNOWN": RTE_PTYPE_INNER_L3_IPV6_EXT_UNKNOWN,
    "RTE_PTYPE_INNER_L3_MASK": RTE_PTYPE_INNER_L3_MASK,
    "RTE_PTYPE_INNER_L4_TCP": RTE_PTYPE_INNER_L4_TCP,
    "RTE_PTYPE_INNER_L4_UDP": RTE_PTYPE_INNER_L4_UDP,
    "RTE_PTYPE_INNER_L4_FRAG": RTE_PTYPE_INNER_L4_FRAG,
    "RTE_PTYPE_INNER_L4_SCTP": RTE_PTYPE_INNER_L4_SCTP,
    "RTE_PTYPE_INNER_L4_ICMP": RTE_PTYPE_INNER_L4_ICMP,
    "RTE_PTYPE_INNER_L4_NONFRAG": RTE_PTYPE_INNER_L4_NONFRAG,
    "RTE_PTYPE_INNER_L4_ESP": RTE_PTYPE_INNER_L4_ESP,
    "RTE_PTYPE_INNER_L4_MASK": RTE_PTYPE_INNER_L4_MASK,
    "RTE_PTYPE_ALL_MASK": RTE_PTYPE_ALL_MASK,
    "RTE_ETH_RX_OFFLOAD_VLAN_STRIP": RTE_ETH_RX_OFFLOAD_VLAN_STRIP,
    "RTE_ETH_RX_OFFLOAD_IPV4_CKSUM": RTE_ETH_RX_OFFLOAD_IPV4_CKSUM,
    "RTE_ETH_RX_OFFLOAD_UDP_CKSUM": RTE_ETH_RX_OFFLOAD_UDP_CKSUM,
    "RTE_ETH_RX_OFFLOAD_TCP_CKSUM": RTE_ETH_RX_OFFLOAD_TCP_CKSUM,
    "RTE_ETH_RX_OFFLOAD_TCP_LRO": RTE_ETH_RX_OFFLOAD_TCP_LRO,
    "RTE_ETH_RX_OFFLOAD_QINQ_STRIP": RTE_ETH_RX_OFFLOAD_QINQ_STRIP,
    "RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM": RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM,
    "RTE_ETH_RX_OFFLOAD_MACSEC_STRIP": RTE_ETH_RX_OFFLOAD_MACSEC_STRIP,
    "RTE_ETH_RX_OFFLOAD_VLAN_FILTER": RTE_ETH_RX_OFFLOAD_VLAN_FILTER,
    "RTE_ETH_RX_OFFLOAD_VLAN_EXTEND": RTE_ETH_RX_OFFLOAD_VLAN_EXTEND,
    "RTE_ETH_RX_OFFLOAD_SCATTER": RTE_ETH_RX_OFFLOAD_SCATTER,
    "RTE_ETH_RX_OFFLOAD_TIMESTAMP": RTE_ETH_RX_OFFLOAD_TIMESTAMP,
    "RTE_ETH_RX_OFFLOAD_SECURITY": RTE_ETH_RX_OFFLOAD_SECURITY,
    "RTE_ETH_RX_OFFLOAD_KEEP_CRC": RTE_ETH_RX_OFFLOAD_KEEP_CRC,
    "RTE_ETH_RX_OFFLOAD_SCTP_CKSUM": RTE_ETH_RX_OFFLOAD_SCTP_CKSUM,
    "RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM": RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM,
    "RTE_ETH_RX_OFFLOAD_RSS_HASH": RTE_ETH_RX_OFFLOAD_RSS_HASH,
    "RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT": RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT,
    "RTE_ETH_RX_OFFLOAD_CHECKSUM": RTE_ETH_RX_OFFLOAD_CHECKSUM,
    "RTE_ETH_RX_OFFLOAD_VLAN": RTE_ETH_RX_OFFLOAD_VLAN,
    "RTE_ETH_TX_OFFLOAD_VLAN_INSERT": RTE_ETH_TX_OFFLOAD_VLAN_INSERT,
    "RTE_ETH_TX_OFFLOAD_IPV4_CKSUM": RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
    "RTE_ETH_TX_OFFLOAD_UDP_CKSUM": RTE_ETH_TX_OFFLOAD_UDP_CKSUM,
    "RTE_ETH_TX_OFFLOAD_TCP_CKSUM": RTE_ETH_TX_OFFLOAD_TCP_CKSUM,
    "RTE_ETH_TX_OFFLOAD_SCTP_CKSUM": RTE_ETH_TX_OFFLOAD_SCTP_CKSUM,
    "RTE_ETH_TX_OFFLOAD_TCP_TSO": RTE_ETH_TX_OFFLOAD_TCP_TSO,
    "RTE_ETH_TX_OFFLOAD_UDP_TSO": RTE_ETH_TX_OFFLOAD_UDP_TSO,
    "RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM": RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM,
    "RTE_ETH_TX_OFFLOAD_QINQ_INSERT": RTE_ETH_TX_OFFLOAD_QINQ_INSERT,
    "RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO": RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO": RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO": RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO": RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_MACSEC_INSERT": RTE_ETH_TX_OFFLOAD_MACSEC_INSERT,
    "RTE_ETH_TX_OFFLOAD_MT_LOCKFREE": RTE_ETH_TX_OFFLOAD_MT_LOCKFREE,
    "RTE_ETH_TX_OFFLOAD_MULTI_SEGS": RTE_ETH_TX_OFFLOAD_MULTI_SEGS,
    "RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE": RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE,
    "RTE_ETH_TX_OFFLOAD_SECURITY": RTE_ETH_TX_OFFLOAD_SECURITY,
    "RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO": RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_IP_TNL_TSO": RTE_ETH_TX_OFFLOAD_IP_TNL_TSO,
    "RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM": RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM,
    "RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP": RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP,
}
