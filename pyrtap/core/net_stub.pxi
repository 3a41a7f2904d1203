# TEMPORARY until the net branch lands.
ctypedef struct net_hdr_lens:
    uint8_t l2_len
    uint8_t inner_l2_len
    uint16_t l3_len
    uint16_t inner_l3_len
    uint16_t tunnel_len
    uint8_t l4_len
    uint8_t inner_l4_len

cdef uint32_t net_get_ptype(const pyrtap_mbuf *m, net_hdr_lens *hl, uint32_t layers) noexcept nogil:
    memset(hl, 0, sizeof(net_hdr_lens))
    return 0

cdef uint16_t net_ipv4_hdr_cksum(const uint8_t *ip) noexcept nogil:
    return 0

cdef int net_l4_cksum_check(const pyrtap_mbuf *m, uint32_t ptype, uint32_t l2_len, uint32_t l3_len) noexcept nogil:
    return -1
