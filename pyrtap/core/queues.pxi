# Queue bases, per-queue counters, and the fast-path table behind rte_eth_rx/tx_burst.
#
# As in DPDK (rte_eth_fp_ops), the ethdev layer publishes each started port's queues
# into a C table: a queue's C state and its driver's burst function. rte_eth_rx_burst
# then costs one table lookup and one C call, whatever the driver.

cdef enum:
    RTE_MAX_ETHPORTS = 32
    RTE_MAX_QUEUES_PER_PORT = 128
    BURST_MAX = 512            # packets handled per call; DPDK bursts are usually 32
    ETH_HLEN = 14
    VNET_HDR_LEN = 10          # sizeof(struct virtio_net_hdr), what TUNSETVNETHDRSZ sets
    TX_IOV_INLINE = 8          # iovecs kept per Tx descriptor; longer chains use the heap
    IOV_MAX_SEGS = 1024        # IOV_MAX: the kernel refuses longer writev vectors

ctypedef uint16_t (*burst_fn)(void *q, pyrtap_mbuf **pkts, uint16_t n) noexcept nogil

# Counters of one queue, updated only by the thread that polls it. The first four
# feed rte_eth_stats; the rest are the queue's extended statistics (xstats).
ctypedef struct qstats:
    uint64_t packets
    uint64_t bytes
    uint64_t errors
    uint64_t nombuf
    uint64_t size_bins[7]      # <=64, 65-127, 128-255, 256-511, 512-1023, 1024-1518, >=1519
    uint64_t unicast
    uint64_t multicast
    uint64_t broadcast
    uint64_t csum_good         # Rx: kernel vouched for the checksum (VIRTIO_NET_HDR_F_DATA_VALID)
    uint64_t csum_bad
    uint64_t csum_none         # Rx: checksum left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM)
    uint64_t lro               # Rx: a coalesced frame (gso_type set)
    uint64_t tso               # Tx: segmentation requested
    uint64_t csum_offload      # Tx: checksum offload requested
    uint64_t multiseg          # Tx: chained mbufs

# xstats counting can be switched off to measure its cost (benchmarks only).
cdef bint g_xstats_on = True


def xstats_counting(on=None):
    """Whether the burst loops keep extended statistics; ``on`` switches it."""
    global g_xstats_on
    if on is not None:
        g_xstats_on = bool(on)
    return g_xstats_on


RXQ_XSTATS = ("size_64_packets", "size_65_to_127_packets", "size_128_to_255_packets",
              "size_256_to_511_packets", "size_512_to_1023_packets",
              "size_1024_to_1518_packets", "size_1519_to_max_packets",
              "unicast_packets", "multicast_packets", "broadcast_packets",
              "checksum_good_packets", "checksum_bad_packets", "checksum_none_packets",
              "lro_packets", "mbuf_alloc_failed")
TXQ_XSTATS = RXQ_XSTATS[:10] + ("tso_packets", "checksum_offload_packets", "multiseg_packets")

ctypedef struct fp_queue:
    void *q
    burst_fn burst

ctypedef struct fp_port:
    uint16_t nb_rx
    uint16_t nb_tx
    fp_queue rxq[RTE_MAX_QUEUES_PER_PORT]
    fp_queue txq[RTE_MAX_QUEUES_PER_PORT]

cdef fp_port fp_ops[RTE_MAX_ETHPORTS]


cdef class Queue:
    """One Rx or Tx queue of a port: a driver's C state plus its burst function."""
    cdef qstats *st           # points into the subclass's C state
    cdef void *cstate
    cdef burst_fn burst
    cdef readonly uint16_t port_id
    cdef readonly uint16_t queue_id

    def stats(self):
        """This queue's counters: packets, bytes, errors, nombuf."""
        return {"packets": self.st.packets, "bytes": self.st.bytes,
                "errors": self.st.errors, "nombuf": self.st.nombuf}

    def stats_reset(self):
        memset(self.st, 0, sizeof(qstats))

    def xstats(self):
        """Extended counters as (name suffix, value) pairs, Rx or Tx set by ``is_rx``."""
        cdef qstats *s = self.st
        common = [s.size_bins[i] for i in range(7)] + [s.unicast, s.multicast, s.broadcast]
        if self.is_rx:
            return list(zip(RXQ_XSTATS, common + [s.csum_good, s.csum_bad, s.csum_none, s.lro, s.nombuf]))
        return list(zip(TXQ_XSTATS, common + [s.tso, s.csum_offload, s.multiseg]))

    @property
    def is_rx(self):
        return False


def fp_ops_set(uint16_t port_id, list rx_queues, list tx_queues):
    """Publish a started port's queues to the burst table (DPDK's eth_dev_fp_ops_setup)."""
    cdef Queue q
    cdef Py_ssize_t i
    if port_id >= RTE_MAX_ETHPORTS:
        raise ValueError("port id %d out of range" % port_id)
    if len(rx_queues) > RTE_MAX_QUEUES_PER_PORT or len(tx_queues) > RTE_MAX_QUEUES_PER_PORT:
        raise ValueError("too many queues")
    fp_ops_clear(port_id)
    for i, q in enumerate(rx_queues):
        fp_ops[port_id].rxq[i].q = q.cstate
        fp_ops[port_id].rxq[i].burst = q.burst
    for i, q in enumerate(tx_queues):
        fp_ops[port_id].txq[i].q = q.cstate
        fp_ops[port_id].txq[i].burst = q.burst
    fp_ops[port_id].nb_rx = len(rx_queues)
    fp_ops[port_id].nb_tx = len(tx_queues)


def fp_ops_clear(uint16_t port_id):
    """Withdraw a port from the burst table: bursts on it return 0 (DPDK's eth_dev_fp_ops_reset)."""
    if port_id < RTE_MAX_ETHPORTS:
        memset(&fp_ops[port_id], 0, sizeof(fp_port))


def rte_eth_rx_burst(int port_id, int queue_id, rx_pkts, int nb_pkts):
    """Receive up to ``nb_pkts`` packets from a queue (``rte_eth_rx_burst``).

    ``rx_pkts`` is an MbufBurst (fast path: no Python object per packet; its ``count``
    is set) or a pre-sized list filled with Mbuf objects from index 0. Returns the
    number received; 0 for an invalid or stopped port or queue.
    """
    cdef fp_queue *fq
    cdef MbufBurst b
    cdef pyrtap_mbuf *tmp[BURST_MAX]
    cdef uint16_t n, i
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or <unsigned>queue_id >= fp_ops[port_id].nb_rx or nb_pkts <= 0:
        return 0
    fq = &fp_ops[port_id].rxq[queue_id]
    if type(rx_pkts) is MbufBurst:
        b = <MbufBurst>rx_pkts
        if nb_pkts > b.size:
            nb_pkts = b.size
        if nb_pkts > BURST_MAX:
            nb_pkts = BURST_MAX
        n = fq.burst(fq.q, b.ptrs, nb_pkts)
        b.count = n
        return n
    if nb_pkts > len(rx_pkts):
        nb_pkts = len(rx_pkts)
    if nb_pkts > BURST_MAX:
        nb_pkts = BURST_MAX
    n = fq.burst(fq.q, tmp, nb_pkts)
    for i in range(n):
        rx_pkts[i] = wrap(tmp[i])
    return n


def rte_eth_tx_burst(int port_id, int queue_id, tx_pkts, int nb_pkts):
    """Send up to ``nb_pkts`` packets on a queue (``rte_eth_tx_burst``).

    The first ``n`` packets (the return value) now belong to the driver, which frees
    them once sent; the rest stay the caller's. ``tx_pkts`` is an MbufBurst or a list
    of Mbuf. Returns 0 for an invalid or stopped port or queue.
    """
    cdef fp_queue *fq
    cdef MbufBurst b
    cdef pyrtap_mbuf *tmp[BURST_MAX]
    cdef uint16_t i
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or <unsigned>queue_id >= fp_ops[port_id].nb_tx or nb_pkts < 0:
        return 0
    fq = &fp_ops[port_id].txq[queue_id]
    if nb_pkts == 0:
        return fq.burst(fq.q, tmp, 0)       # DPDK drivers reap finished sends on every call
    if type(tx_pkts) is MbufBurst:
        b = <MbufBurst>tx_pkts
        if nb_pkts > b.size:
            nb_pkts = b.size
        if nb_pkts > BURST_MAX:
            nb_pkts = BURST_MAX
        return fq.burst(fq.q, b.ptrs, nb_pkts)
    if nb_pkts > len(tx_pkts):
        nb_pkts = len(tx_pkts)
    if nb_pkts > BURST_MAX:
        nb_pkts = BURST_MAX
    for i in range(nb_pkts):
        tmp[i] = unwrap(tx_pkts[i])
    return fq.burst(fq.q, tmp, nb_pkts)


# ---- helpers shared by the drivers' burst loops ------------------------------------

cdef inline int alloc_rx_chain(pyrtap_pool *pool, uint32_t segs, pyrtap_mbuf **out) noexcept nogil:
    """A receive buffer: ``segs`` mbufs linked into one chain (scatter Rx when segs > 1)."""
    cdef pyrtap_mbuf *tmp[64]
    cdef uint32_t i
    if pool_get_bulk(pool, tmp, segs) < 0:
        return -1
    for i in range(segs - 1):
        tmp[i].next = pyrtap_mbuf_ref(tmp[i + 1])
    tmp[0].nb_segs = segs
    out[0] = tmp[0]
    return 0


cdef inline uint32_t rx_full_read(uint32_t segs, uint32_t seg_room, uint32_t max_frame) noexcept nogil:
    """Read length that means "truncated", or 0 when none can be told apart.

    The kernel silently truncates a frame longer than the read buffer and returns
    the buffer's length. When buffers are larger than any frame the MTU allows, a
    read that fills one completely can only be such a truncated frame.
    """
    cdef uint32_t capacity = segs * seg_room
    return capacity + VNET_HDR_LEN if capacity > max_frame else 0


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


cdef inline void rx_finish(pyrtap_mbuf *m, uint32_t length, uint32_t seg_room,
                           uint16_t port_id, free_batch *b) noexcept nogil:
    """Give a filled receive chain its lengths; segments the frame did not reach go back."""
    cdef pyrtap_mbuf *seg = m
    cdef pyrtap_mbuf *rest
    cdef uint32_t left = length
    cdef uint16_t nseg = 1
    m.pkt_len = length
    m.port = port_id
    while True:
        seg.data_len = left if left < seg_room else seg_room
        left -= seg.data_len
        if left == 0 or seg.next == 0:
            break
        seg = pyrtap_mbuf_next(seg)
        nseg += 1
    if seg.next:
        rest = pyrtap_mbuf_next(seg)
        seg.next = 0
        batch_free_chain(b, rest)
    m.nb_segs = nseg


cdef inline void count_frame(qstats *st, pyrtap_mbuf *m, uint64_t one=1) noexcept nogil:
    """Size bin and destination class of one frame (xstats); ``one`` = -1 takes it back."""
    cdef uint32_t len = m.pkt_len
    cdef uint8_t *eth = pyrtap_mbuf_data(m)
    cdef int b
    if len <= 64:
        b = 0
    elif len <= 127:
        b = 1
    elif len <= 255:
        b = 2
    elif len <= 511:
        b = 3
    elif len <= 1023:
        b = 4
    elif len <= 1518:
        b = 5
    else:
        b = 6
    st.size_bins[b] += one
    if m.data_len < 6 or not (eth[0] & 1):
        st.unicast += one
    elif (eth[0] & eth[1] & eth[2] & eth[3] & eth[4] & eth[5]) == 0xFF:
        st.broadcast += one
    else:
        st.multicast += one


cdef inline void rx_count(qstats *st, pyrtap_mbuf *m, const uint8_t *vhdr) noexcept nogil:
    """Per-packet Rx counters; ``vhdr`` is the frame's virtio-net header."""
    st.packets += 1
    st.bytes += m.pkt_len
    if not g_xstats_on:
        return
    count_frame(st, m)
    if vhdr[0] & VIRTIO_NET_HDR_F_DATA_VALID:
        st.csum_good += 1
    elif vhdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM:
        st.csum_none += 1
    if vhdr[1] != VIRTIO_NET_HDR_GSO_NONE:
        st.lro += 1


cdef uint64_t TX_SEG_FLAGS = (1ULL << 50) | (1ULL << 42)                 # TCP_SEG | UDP_SEG
cdef uint64_t TX_CSUM_FLAGS = (3ULL << 52) | (1ULL << 54) | (1ULL << 58)  # L4 mask | IP | outer IP


cdef inline void tx_count(qstats *st, pyrtap_mbuf *m, uint64_t one=1) noexcept nogil:
    """Per-packet Tx counters, at the time the driver accepts the packet.

    ``one`` = -1 (modulo 2**64) takes a packet back out of every counter, for a write
    the kernel refused after the driver counted it."""
    st.packets += one
    st.bytes += one * m.pkt_len
    if not g_xstats_on:
        return
    count_frame(st, m, one)
    if m.ol_flags & TX_SEG_FLAGS:
        st.tso += one
    if m.ol_flags & TX_CSUM_FLAGS:
        st.csum_offload += one
    if m.nb_segs > 1:
        st.multiseg += one


cdef inline pyrtap_mbuf *rx_take(qstats *st, pyrtap_pool *pool, uint32_t segs, uint32_t seg_room,
                                 uint32_t full_read, uint16_t port_id, pyrtap_mbuf **buf,
                                 long res, free_batch *b) noexcept nogil:
    """One finished read of ``res`` bytes into the chain ``*buf``, for every Rx path.

    Returns the packet to hand to the application, with a fresh chain now in ``*buf``;
    or NULL, counted in ``st``, for a bad read (ierrors) or when no replacement can be
    allocated (rx_nombuf: the frame is dropped and ``*buf`` is read into again).
    """
    cdef pyrtap_mbuf *m = buf[0]
    cdef pyrtap_mbuf *fresh
    if rx_bad_read(res, full_read):
        st.errors += 1
        return NULL
    if alloc_rx_chain(pool, segs, &fresh) < 0:
        st.nombuf += 1
        return NULL
    rx_finish(m, <uint32_t>res - VNET_HDR_LEN, seg_room, port_id, b)
    rx_count(st, m, pyrtap_mbuf_data(m) - VNET_HDR_LEN)
    buf[0] = fresh
    return m


cdef inline void tx_vnet_hdr(pyrtap_mbuf *m, uint8_t *hdr) noexcept nogil:
    """The virtio-net header the kernel reads before each frame (no offload requested yet)."""
    memset(hdr, 0, VNET_HDR_LEN)


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
