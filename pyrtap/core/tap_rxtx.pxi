# net_tap data path: the traditional one, a read()/write() (readv/writev for chains)
# system call per packet on a non-blocking TAP queue fd, as DPDK's net_tap does.
# Same frame format as net_rtap (virtio-net header first), so the two drivers differ
# only in how the bytes cross into the kernel.
#
# Uses: RxQueue, TxQueue, qstats, rxq_conf (queue.pxi); rx_read_loop, tx_write_now
# (vnet_rxtx.pxi); the free batches (mempool.pxi).

ctypedef struct tap_rxq:
    qstats st
    int fd
    rxq_conf rc
    pyrtap_mbuf *spare         # the buffer the next read goes into (NULL when stopped)
    iovec iov[RX_MAX_SEGS]


ctypedef struct tap_txq:
    qstats st
    int fd
    uint64_t tx_ok             # configured RTE_ETH_TX_OFFLOAD_* of the port
    uint8_t hdr[16]            # the virtio-net header when the headroom cannot hold it
    iovec *txiov               # IOV_MAX_SEGS + 1 entries


cdef uint16_t sys_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef tap_rxq *q = <tap_rxq *>qp
    cdef bint drained
    if q.spare == NULL or q.rc.gone:
        return 0        # not started, or the interface is gone
    return rx_read_loop(&q.st, &q.rc, q.fd, &q.spare, q.iov, pkts, nb, &drained)


cdef uint16_t sys_tx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef tap_txq *q = <tap_txq *>qp
    cdef free_batch b
    cdef uint16_t i = 0
    batch_init(&b)
    while i < nb and tx_write_now(&q.st, q.fd, pkts[i], q.hdr, q.txiov, IOV_MAX_SEGS, q.tx_ok):
        # write() copied the frame into the kernel: the mbuf is free at once.
        batch_free_chain(&b, pkts[i])
        i += 1
    batch_flush(&b)
    return i


cdef class SyscallRxQueue(RxQueue):
    """net_tap receive queue: read()/readv() per packet until EAGAIN."""
    cdef tap_rxq q

    def __cinit__(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                  uint16_t port_id=0, uint16_t queue_id=0, unsigned flags=0):
        self._bind(&self.q, &self.q.st, sys_rx_burst, port_id, queue_id)
        self.q.fd = fd
        self._rx_init(&self.q.rc, pool, max_frame)

    def start(self):
        """Take the receive buffer the first read goes into. 0 or -ENOMEM."""
        return self._rx_buffer(&self.q.spare)

    def stop(self):
        """Return the spare receive buffer to the pool."""
        self._rx_release(&self.q.spare, 1)


cdef class SyscallTxQueue(TxQueue):
    """net_tap transmit queue: write()/writev() per packet; the mbuf is freed at once."""
    cdef tap_txq q

    def __cinit__(self, int fd, uint32_t nb_desc, uint16_t port_id=0, uint16_t queue_id=0,
                  unsigned flags=0):
        self._bind(&self.q, &self.q.st, sys_tx_burst, port_id, queue_id)
        self.tx_ok = &self.q.tx_ok
        self.q.fd = fd
        self.q.txiov = <iovec *>malloc((IOV_MAX_SEGS + 1) * sizeof(iovec))
        if self.q.txiov == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.q.txiov)
