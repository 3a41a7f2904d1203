# net_tap data path: the traditional one, a read()/write() (readv/writev for chains)
# system call per packet on a non-blocking TAP queue fd, as DPDK's net_tap does.
# Same frame format as net_rtap (virtio-net header first), so the two drivers differ
# only in how the bytes cross into the kernel.

ctypedef struct sys_q:
    qstats st
    int fd
    uint16_t port_id
    # Rx
    rxq_conf rc
    pyrtap_mbuf *spare         # the buffer the next read goes into (NULL when stopped)
    iovec iov[RX_MAX_SEGS]
    # Tx
    uint64_t tx_ok             # configured RTE_ETH_TX_OFFLOAD_* of the port
    uint8_t hdr[16]
    iovec *txiov               # IOV_MAX_SEGS + 1 entries


cdef uint16_t sys_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef sys_q *q = <sys_q *>qp
    cdef bint drained
    if q.spare == NULL or q.rc.gone:
        return 0        # not started, or the interface is gone
    return rx_read_loop(&q.st, &q.rc, q.fd, &q.spare, q.iov, pkts, nb, &drained)


cdef uint16_t sys_tx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef sys_q *q = <sys_q *>qp
    cdef free_batch b
    cdef uint16_t i = 0
    batch_init(&b)
    while i < nb and tx_write_now(&q.st, q.fd, pkts[i], q.hdr, q.txiov, IOV_MAX_SEGS, q.tx_ok):
        # write() copied the frame into the kernel: the mbuf is free at once.
        batch_free_chain(&b, pkts[i])
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
        self.tx_ok = &self.q.tx_ok
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

    def __cinit__(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                  uint16_t port_id=0, uint16_t queue_id=0, unsigned flags=0):
        self._setup(fd, port_id, queue_id)
        self._rx_init(&self.q.rc, pool, max_frame, port_id)
        self.burst = sys_rx_burst

    def start(self):
        """Take the receive buffer the first read goes into. 0 or -ENOMEM."""
        if self.q.spare == NULL and alloc_rx_chain(self.q.rc.pool, self.q.rc.segs, &self.q.spare) < 0:
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
