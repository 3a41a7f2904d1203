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

# Counters of one queue, updated only by the thread that polls it.
ctypedef struct qstats:
    uint64_t packets
    uint64_t bytes
    uint64_t errors
    uint64_t nombuf

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
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or <unsigned>queue_id >= fp_ops[port_id].nb_tx or nb_pkts <= 0:
        return 0
    fq = &fp_ops[port_id].txq[queue_id]
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
