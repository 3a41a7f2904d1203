# The per-packet work both TAP drivers share: net_rtap and net_tap move the same
# frames and differ only in how the bytes cross into the kernel.
#
# A TAP queue opened with IFF_VNET_HDR carries a virtio-net header before each frame.
# Rx: receive buffers (mbuf chains for scatter Rx) with the header read into the
# headroom, a finished read turned into a packet with its offload flags (rx_take),
# and the plain read() loop (rx_read_loop). Tx: the header made from a packet's
# offload requests (tx_vnet_hdr), its gather list, and one packet's plain write()
# (tx_write_now).
#
# Uses: qstats, rxq_conf, rx_count, tx_count (queue.pxi); pool_get_bulk (mempool.pxi);
# net_get_ptype, net_l4_cksum_check, net_ipv4_hdr_cksum (net.pxi).

cdef enum:
    IOV_MAX_SEGS = 1024        # IOV_MAX: the kernel refuses longer writev vectors


cdef inline int rx_refill(pyrtap_pool *pool, uint32_t segs, pyrtap_mbuf *rest, uint32_t nrest,
                          pyrtap_mbuf **out) noexcept nogil:
    """A receive buffer of (at least) ``segs`` mbufs: fresh ones in front of ``rest``.

    ``rest`` is the unused tail of the previous buffer (``nrest`` segments): a small
    frame read into a 64 KB scatter buffer keeps the other 32 mbufs for the next read
    instead of returning and re-allocating them. 0, or -1 when the pool is empty.
    """
    cdef pyrtap_mbuf *tmp[RX_MAX_SEGS]
    cdef uint32_t i, need
    if nrest >= segs:
        rest.nb_segs = nrest
        out[0] = rest
        return 0
    need = segs - nrest
    if pool_get_bulk(pool, tmp, need) < 0:
        return -1
    for i in range(need - 1):
        tmp[i].next = pyrtap_mbuf_ref(tmp[i + 1])
        tmp[i].state = PYRTAP_MBUF_QUEUED       # the queue's until a burst hands it out
    tmp[need - 1].next = pyrtap_mbuf_ref(rest)
    tmp[need - 1].state = PYRTAP_MBUF_QUEUED
    tmp[0].nb_segs = segs
    out[0] = tmp[0]
    return 0


cdef inline int alloc_rx_chain(pyrtap_pool *pool, uint32_t segs, pyrtap_mbuf **out) noexcept nogil:
    """A receive buffer: ``segs`` mbufs linked into one chain (scatter Rx when segs > 1)."""
    return rx_refill(pool, segs, NULL, 0, out)


cdef inline uint32_t rx_full_read(uint32_t segs, uint32_t seg_room, uint32_t max_frame) noexcept nogil:
    """Read length that means "truncated", or 0 when none can be told apart.

    The kernel silently truncates a frame longer than the read buffer and returns
    the buffer's length. When buffers are larger than any frame the MTU allows, a
    read that fills one completely can only be such a truncated frame.
    """
    cdef uint32_t capacity = segs * seg_room
    return capacity + VNET_HDR_LEN if capacity > max_frame else 0


cdef inline void rx_gone(qstats *st, rxq_conf *rc) noexcept nogil:
    """A read failed with EBADFD: the interface is gone. Counted once; the queue stops
    reading (no dead read re-posted on every burst) until the port is started again."""
    if not rc.gone:
        rc.gone = True
        st.errors += 1


cdef inline uint16_t rx_read_loop(qstats *st, rxq_conf *rc, int fd, pyrtap_mbuf **buf, iovec *iov,
                                  pyrtap_mbuf **pkts, uint16_t nb, bint *drained) noexcept nogil:
    """read()/readv() into the chain ``*buf`` until EAGAIN or ``nb`` packets: net_tap's
    receive loop, and net_rtap's for small bursts. ``iov`` has room for ``rc.segs``
    entries. ``*drained`` is set when a read failed (the queue is empty, or gone: counted
    once, or another error: counted in ``st.errors``)."""
    cdef pyrtap_mbuf *m
    cdef ssize_t r
    cdef uint16_t nrx = 0
    drained[0] = False
    while nrx < nb:
        # Like every Rx path, a frame is dropped (and counted in rx_nombuf) only when no
        # replacement buffer can be had after reading it.
        if rc.segs == 1:
            r = read(fd, pyrtap_mbuf_data(buf[0]) - VNET_HDR_LEN, rc.seg_room + VNET_HDR_LEN)
        else:
            rx_fill_iov(buf[0], rc.seg_room, rc.segs, iov)
            r = readv(fd, iov, rc.segs)
        if r < 0:
            if errno == EBADFD:
                rx_gone(st, rc)
            elif errno != EAGAIN:
                st.errors += 1
            drained[0] = True
            break
        m = rx_take(st, rc, buf, r)
        if m != NULL:
            pkts[nrx] = m
            nrx += 1
    return nrx


cdef inline bint rx_bad_read(long res, uint32_t full_read) noexcept nogil:
    """A failed read, a runt, or a truncated frame: counted in ierrors, never delivered."""
    return res < VNET_HDR_LEN + ETH_HLEN or (full_read != 0 and res >= full_read)


cdef inline void rx_fill_iov(pyrtap_mbuf *m, uint32_t seg_room, uint32_t segs, iovec *iov) noexcept nogil:
    """Scatter list of a receive chain: the virtio-net header lands in the first
    segment's headroom, just before the frame; each segment takes ``seg_room`` bytes."""
    cdef uint32_t k
    iov[0].iov_base = pyrtap_mbuf_data(m) - VNET_HDR_LEN
    iov[0].iov_len = seg_room + VNET_HDR_LEN
    for k in range(1, segs):
        m = pyrtap_mbuf_next(m)
        iov[k].iov_base = pyrtap_mbuf_data(m)
        iov[k].iov_len = seg_room


cdef inline void rx_offload(rxq_conf *rc, pyrtap_mbuf *m, const uint8_t *vhdr) noexcept nogil:
    """Rx flags, packet type and header lengths of a received packet.

    The kernel's virtio-net header says what it did: DATA_VALID (checksum verified)
    is DPDK's L4_CKSUM_GOOD; NEEDS_CSUM (checksum-partial: the data is intact, the
    field holds only the pseudo-header sum) is L4_CKSUM_NONE; a GSO type is a
    coalesced frame, DPDK's RX_LRO with the segment size in tso_segsz.
    """
    cdef const virtio_net_hdr *h = <const virtio_net_hdr *>vhdr
    cdef net_hdr_lens hl
    cdef uint64_t ol = 0
    cdef int ok
    m.packet_type = net_get_ptype(m, &hl, RTE_PTYPE_ALL_MASK)
    m.l2_len = hl.l2_len
    m.l3_len = hl.l3_len
    m.l4_len = hl.l4_len
    if h.flags & VIRTIO_NET_HDR_F_DATA_VALID:
        ol = RTE_MBUF_F_RX_L4_CKSUM_GOOD
    elif h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
        ol = RTE_MBUF_F_RX_L4_CKSUM_NONE
    elif rc.sw_cksum:
        ok = net_l4_cksum_check(m, m.packet_type, hl.l2_len, hl.l3_len)
        if ok > 0:
            ol = RTE_MBUF_F_RX_L4_CKSUM_GOOD
        elif ok == 0:
            ol = RTE_MBUF_F_RX_L4_CKSUM_BAD
    if h.gso_type != VIRTIO_NET_HDR_GSO_NONE:
        ol |= RTE_MBUF_F_RX_LRO
        m.tso_segsz = h.gso_size
    m.ol_flags = ol


cdef inline pyrtap_mbuf *rx_take(qstats *st, rxq_conf *rc, pyrtap_mbuf **buf, long res) noexcept nogil:
    """One finished read of ``res`` bytes into the chain ``*buf``, for every Rx path.

    Returns the packet to hand to the application, with a fresh chain now in ``*buf``
    (the segments the frame did not reach are kept in it); or NULL, counted in ``st``,
    for a bad read (ierrors) or when no replacement can be allocated (rx_nombuf: the
    frame is dropped and ``*buf`` is read into again).
    """
    cdef pyrtap_mbuf *m = buf[0]
    cdef pyrtap_mbuf *last = m
    cdef pyrtap_mbuf *fresh
    cdef uint32_t length, used, k
    if rx_bad_read(res, rc.full_read):
        st.errors += 1
        return NULL
    length = <uint32_t>res - VNET_HDR_LEN
    used = (length + rc.seg_room - 1) // rc.seg_room
    for k in range(used - 1):
        last.data_len = rc.seg_room
        last = pyrtap_mbuf_next(last)
        if last == NULL:        # cannot happen while buffers match rc.segs; never crash on it
            st.errors += 1
            return NULL
    last.data_len = length - (used - 1) * rc.seg_room
    if rx_refill(rc.pool, rc.segs, pyrtap_mbuf_next(last), m.nb_segs - used, &fresh) < 0:
        st.nombuf += 1
        return NULL
    last.next = 0
    last = m
    for k in range(used):
        last.state = PYRTAP_MBUF_ALLOCATED      # the application's from now on
        last = pyrtap_mbuf_next(last)
    m.nb_segs = used
    m.pkt_len = length
    m.port = rc.port_id
    rx_offload(rc, m, pyrtap_mbuf_data(m) - VNET_HDR_LEN)
    rx_count(st, m)
    buf[0] = fresh
    return m


# Tx ol_flags that ask the driver (or the kernel) to do something to the packet. The
# TAP drivers honour the L4 checksum and TCP segmentation requests through the
# virtio-net header and compute the IPv4 header checksum in software; a packet asking
# for anything else, or for an offload the port was not configured for, is dropped.
cdef uint64_t TX_OL_REQUESTS = (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG
                                | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_OUTER_IP_CKSUM
                                | RTE_MBUF_F_TX_OUTER_UDP_CKSUM | RTE_MBUF_F_TX_VLAN
                                | RTE_MBUF_F_TX_QINQ | RTE_MBUF_F_TX_SEC_OFFLOAD
                                | RTE_MBUF_F_TX_MACSEC | RTE_MBUF_F_TX_IEEE1588_TMST)
cdef uint64_t TX_OL_HONOURED = RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IP_CKSUM


cdef inline uint16_t load_be16(const uint8_t *p) noexcept nogil:
    return (p[0] << 8) | p[1]


cdef inline void store_be16(uint8_t *p, uint32_t v) noexcept nogil:
    p[0] = (v >> 8) & 0xFF
    p[1] = v & 0xFF


# A Tx path that may hand a packet back to the caller after its header was made
# (write() full: EAGAIN) restores the one packet byte pair the driver changed.
ctypedef struct tx_undo:
    uint8_t *at
    uint8_t orig[2]


cdef inline void tx_undo_apply(tx_undo *u) noexcept nogil:
    if u.at != NULL:
        u.at[0] = u.orig[0]
        u.at[1] = u.orig[1]


cdef int tx_offload_hdr(pyrtap_mbuf *m, virtio_net_hdr *h, uint64_t ol, uint64_t port_ol,
                        tx_undo *u) noexcept nogil:
    """The virtio-net header of a packet that asks for offloads (``ol``), or -1 to drop it.

    ``port_ol`` is the port's configured RTE_ETH_TX_OFFLOAD_* set. The header fields
    the packet's offsets point at must lie in its first segment (they are written here).
    """
    cdef uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK
    cdef bint tso = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0
    cdef bint v4 = (m.ol_flags & RTE_MBUF_F_TX_IPV4) != 0
    cdef bint v6 = (m.ol_flags & RTE_MBUF_F_TX_IPV6) != 0
    cdef uint8_t *data = pyrtap_mbuf_data(m)
    cdef uint8_t *ip
    cdef uint8_t *th
    cdef uint32_t l3off, l4off, csum_off, l4len
    cdef uint16_t csum
    if ol & ~TX_OL_HONOURED or l4 == RTE_MBUF_F_TX_SCTP_CKSUM:
        return -1
    if tso:
        if not port_ol & RTE_ETH_TX_OFFLOAD_TCP_TSO:
            return -1
    elif l4 == RTE_MBUF_F_TX_TCP_CKSUM and not port_ol & RTE_ETH_TX_OFFLOAD_TCP_CKSUM:
        return -1
    elif l4 == RTE_MBUF_F_TX_UDP_CKSUM and not port_ol & RTE_ETH_TX_OFFLOAD_UDP_CKSUM:
        return -1
    l3off = m.l2_len
    if m.ol_flags & (RTE_MBUF_F_TX_OUTER_IPV4 | RTE_MBUF_F_TX_OUTER_IPV6):
        l3off += m.outer_l2_len + m.outer_l3_len
    l4off = l3off + m.l3_len
    if ol & RTE_MBUF_F_TX_IP_CKSUM:
        # Done in software: 20-60 bytes, cheaper than a round trip through the kernel.
        if not port_ol & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM or not v4 or m.l3_len < 20 \
                or l4off > m.data_len:
            return -1
        ip = data + l3off
        if ip[0] >> 4 != 4 or (ip[0] & 0xF) * 4 != m.l3_len:
            return -1
        ip[10] = 0
        ip[11] = 0
        csum = net_ipv4_hdr_cksum(ip)
        memcpy(ip + 10, &csum, 2)
    if not tso and l4 == 0:
        return 0
    if v4 == v6:
        return -1               # an L4 offload needs TX_IPV4 or TX_IPV6 (DPDK's rule)
    csum_off = 6 if l4 == RTE_MBUF_F_TX_UDP_CKSUM and not tso else 16
    if l4off + csum_off + 2 > m.data_len:
        return -1
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM
    h.csum_start = l4off
    h.csum_offset = csum_off
    if not tso:
        return 0
    if m.tso_segsz == 0 or m.l4_len < 20 or l4off + m.l4_len > m.pkt_len:
        return -1
    # DPDK programs leave the length out of the pseudo-header sum for TSO; the kernel's
    # GSO (like a checksum-partial packet) wants the L4 length of the whole packet in
    # it, and derives each segment's checksum from that. Add it: one's complement sum.
    th = data + l4off
    u.at = th + 16
    u.orig[0] = th[16]
    u.orig[1] = th[17]
    l4len = load_be16(th + 16) + (m.pkt_len - l4off)
    store_be16(th + 16, (l4len & 0xFFFF) + (l4len >> 16))
    if m.pkt_len - l4off - m.l4_len > m.tso_segsz:
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 if v4 else VIRTIO_NET_HDR_GSO_TCPV6
        if th[13] & 0x80:       # CWR: the kernel clears it after the first segment
            h.gso_type |= VIRTIO_NET_HDR_GSO_ECN
        h.gso_size = m.tso_segsz
        h.hdr_len = l4off + m.l4_len
    return 0


cdef inline int tx_vnet_hdr(pyrtap_mbuf *m, uint8_t *hdr, uint64_t port_ol, tx_undo *u) noexcept nogil:
    """The virtio-net header the kernel reads before each frame; -1: drop the packet."""
    cdef uint64_t ol = m.ol_flags & TX_OL_REQUESTS
    memset(hdr, 0, VNET_HDR_LEN)
    u.at = NULL
    if ol == 0:
        return 0
    return tx_offload_hdr(m, <virtio_net_hdr *>hdr, ol, port_ol, u)


cdef inline bint tx_write_now(qstats *st, int fd, pyrtap_mbuf *m, uint8_t *spare_hdr, iovec *iov,
                              uint32_t max_iov, uint64_t port_ol) noexcept nogil:
    """Send one packet with write()/writev() (net_tap, and net_rtap's single-packet bursts).

    True when the packet is consumed: sent, or unsendable (too many segments, an offload
    the port was not configured for, lengths that do not fit) and counted in errors; the
    caller frees it. False when the kernel's queue is full (EAGAIN): the packet is as it
    came and stays the caller's.
    """
    cdef tx_undo u
    cdef uint8_t *hdr = pyrtap_mbuf_data(m) - VNET_HDR_LEN if tx_hdr_in_headroom(m) else spare_hdr
    cdef ssize_t r
    if m.nb_segs + 1 > max_iov or tx_vnet_hdr(m, hdr, port_ol, &u) < 0:
        st.errors += 1
        return True
    if hdr != spare_hdr:
        r = write(fd, hdr, m.data_len + VNET_HDR_LEN)
    else:
        r = writev(fd, iov, tx_fill_iov(m, spare_hdr, iov))
    if r >= 0:
        tx_count(st, m)
    elif errno == EAGAIN:
        tx_undo_apply(&u)
        return False
    else:
        st.errors += 1
    return True


cdef inline bint tx_hdr_in_headroom(pyrtap_mbuf *m) noexcept nogil:
    """Whether the header may be written in front of the data: only a private, direct mbuf."""
    return (m.nb_segs == 1 and m.data_off >= VNET_HDR_LEN and m.attached == 0
            and pyrtap_refcnt_read(&m.refcnt) == 1)


cdef inline uint32_t tx_fill_iov(pyrtap_mbuf *m, uint8_t *hdr, iovec *iov) noexcept nogil:
    """Gather list for a frame: the header, then every segment. Returns the entry count."""
    cdef uint32_t k = 1
    iov[0].iov_base = hdr
    iov[0].iov_len = VNET_HDR_LEN
    while m != NULL:
        if m.data_len:
            iov[k].iov_base = pyrtap_mbuf_data(m)
            iov[k].iov_len = m.data_len
            k += 1
        m = pyrtap_mbuf_next(m)
    return k
