# net_tap data path: the traditional one, a read()/write() (readv/writev for chains)
# system call per packet on a non-blocking TAP queue fd, as DPDK's net_tap does.
# Same frame format as net_rtap (virtio-net header first), so the two drivers differ
# only in how the bytes cross into the kernel.

cdef extern from "<errno.h>" nogil:
    int errno


ctypedef struct sys_q:
    qstats st
    int fd
    uint16_t port_id
    # Rx
    pyrtap_pool *pool
    uint32_t segs
    uint32_t seg_room
    uint32_t full_read         # read length meaning "truncated" (rx_full_read)
    pyrtap_mbuf *spare         # the buffer the next read goes into (NULL when stopped)
    iovec iov[64]
    # Tx
    uint8_t hdr[16]
    iovec *txiov               # IOV_MAX_SEGS + 1 entries


cdef uint16_t sys_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef sys_q *q = <sys_q *>qp
    cdef pyrtap_mbuf *m
    cdef free_batch b
    cdef ssize_t r
    cdef uint16_t nrx = 0
    if q.spare == NULL:
        return 0        # not started
    batch_init(&b)
    while nrx < nb:
        # Read into the spare buffer; like net_rtap, a frame is dropped (and counted in
        # rx_nombuf) only when no replacement buffer can be had after reading it.
        m = q.spare
        if q.segs == 1:
            r = read(q.fd, pyrtap_mbuf_data(m) - VNET_HDR_LEN, q.seg_room + VNET_HDR_LEN)
        else:
            rx_fill_iov(m, q.seg_room, q.segs, q.iov)
            r = readv(q.fd, q.iov, q.segs)
        if r < 0:
            if errno != EAGAIN:
                q.st.errors += 1
            break
        m = rx_take(&q.st, q.pool, q.segs, q.seg_room, q.full_read, q.port_id, &q.spare, r, &b)
        if m != NULL:
            pkts[nrx] = m
            nrx += 1
    batch_flush(&b)
    return nrx


cdef uint16_t sys_tx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef sys_q *q = <sys_q *>qp
    cdef pyrtap_mbuf *m
    cdef free_batch b
    cdef uint8_t *hdr
    cdef ssize_t r
    cdef uint32_t nvec
    cdef uint16_t i = 0
    batch_init(&b)
    while i < nb:
        m = pkts[i]
        if m.nb_segs + 1 > IOV_MAX_SEGS:
            q.st.errors += 1
        else:
            if tx_hdr_in_headroom(m):
                hdr = pyrtap_mbuf_data(m) - VNET_HDR_LEN
                tx_vnet_hdr(m, hdr)
                r = write(q.fd, hdr, m.data_len + VNET_HDR_LEN)
            else:
                tx_vnet_hdr(m, q.hdr)
                nvec = tx_fill_iov(m, q.hdr, q.txiov)
                r = writev(q.fd, q.txiov, nvec)
            if r < 0:
                if errno == EAGAIN:
                    break           # the queue is full: the rest stay the caller's
                q.st.errors += 1
            else:
                tx_count(&q.st, m)
        # write() copied the frame into the kernel: the mbuf is free at once.
        batch_free_chain(&b, m)
        i += 1
    batch_flush(&b)
    return i


cdef class _SyscallQueue(Queue):
    cdef sys_q q

    def __dealloc__(self):
        free(self.q.txiov)

    cdef _setup(self, int fd, uint16_t port_id, uint16_t queue_id):
        self.st = &self.q.st
        self.cstate = &self.q
        self.port_id = port_id
        self.queue_id = queue_id
        self.q.fd = fd
        self.q.port_id = port_id

    def close(self):
        pass

    @property
    def inflight(self):
        return 0


cdef class SyscallRxQueue(_SyscallQueue):
    """net_tap receive queue: read()/readv() per packet until EAGAIN."""
    cdef readonly Mempool pool

    def __cinit__(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                  uint16_t port_id=0, uint16_t queue_id=0, unsigned flags=0):
        cdef uint32_t room = pool.pool.data_room - RTE_PKTMBUF_HEADROOM
        cdef uint32_t segs = (max_frame + room - 1) // room
        if room < ETH_HLEN:
            raise ValueError("mbuf data room of pool %r leaves no room for a frame" % pool.name)
        if segs > 64:
            raise ValueError("a %d-byte frame needs %d segments of pool %r (at most 64)"
                             % (max_frame, segs, pool.name))
        self.pool = pool
        self._setup(fd, port_id, queue_id)
        self.q.pool = &pool.pool
        self.q.segs = segs
        self.q.seg_room = room
        self.q.full_read = rx_full_read(segs, room, max_frame)
        self.burst = sys_rx_burst

    @property
    def is_rx(self):
        return True

    @property
    def max_frame(self):
        """Longest frame (without virtio-net header) one receive buffer holds."""
        return self.q.segs * self.q.seg_room

    @property
    def segments(self):
        return self.q.segs

    def start(self):
        """Take the receive buffer the first read goes into. 0 or -ENOMEM."""
        if self.q.spare == NULL and alloc_rx_chain(self.q.pool, self.q.segs, &self.q.spare) < 0:
            self.q.st.nombuf += 1
            return -ENOMEM
        return 0

    def stop(self):
        """Return the spare receive buffer to the pool."""
        cdef free_batch b
        batch_init(&b)
        if self.q.spare != NULL:
            batch_free_chain(&b, self.q.spare)
            self.q.spare = NULL
        batch_flush(&b)


cdef class SyscallTxQueue(_SyscallQueue):
    """net_tap transmit queue: write()/writev() per packet; the mbuf is freed at once."""

    def __cinit__(self, int fd, uint32_t nb_desc, uint16_t port_id=0, uint16_t queue_id=0,
                  unsigned flags=0):
        self._setup(fd, port_id, queue_id)
        self.q.txiov = <iovec *>malloc((IOV_MAX_SEGS + 1) * sizeof(iovec))
        if self.q.txiov == NULL:
            raise MemoryError()
        self.burst = sys_tx_burst

    def start(self):
        return 0

    def stop(self):
        pass
