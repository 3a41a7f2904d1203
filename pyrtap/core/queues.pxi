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
    TX_IOV_INLINE = 36         # iovecs kept per Tx descriptor (a 64 KB chain of 2 KB mbufs + header); longer ones use the heap
    IOV_MAX_SEGS = 1024        # IOV_MAX: the kernel refuses longer writev vectors
    RX_MAX_SEGS = 64           # mbufs per receive buffer: a 64 KB LRO frame in 1 KB mbufs

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


# The one table of per-queue extended statistics: (name suffix, offset of its counter in
# struct qstats, "rx" / "tx" / "both"), in the order rte_eth_xstats_get reports them.
# The counting code writes the struct fields; xstats() reads them through this table;
# tests/test_stats.py checks docs/xstats.md names every entry.
cdef qstats _qs_probe


cdef tuple _xs(str name, void *field, str where):
    return (name, <size_t>(<char *>field - <char *>&_qs_probe), where)


XSTATS_TABLE = (
    _xs("size_64_packets", &_qs_probe.size_bins[0], "both"),
    _xs("size_65_to_127_packets", &_qs_probe.size_bins[1], "both"),
    _xs("size_128_to_255_packets", &_qs_probe.size_bins[2], "both"),
    _xs("size_256_to_511_packets", &_qs_probe.size_bins[3], "both"),
    _xs("size_512_to_1023_packets", &_qs_probe.size_bins[4], "both"),
    _xs("size_1024_to_1518_packets", &_qs_probe.size_bins[5], "both"),
    _xs("size_1519_to_max_packets", &_qs_probe.size_bins[6], "both"),
    _xs("unicast_packets", &_qs_probe.unicast, "both"),
    _xs("multicast_packets", &_qs_probe.multicast, "both"),
    _xs("broadcast_packets", &_qs_probe.broadcast, "both"),
    _xs("checksum_good_packets", &_qs_probe.csum_good, "rx"),
    _xs("checksum_bad_packets", &_qs_probe.csum_bad, "rx"),
    _xs("checksum_none_packets", &_qs_probe.csum_none, "rx"),
    _xs("lro_packets", &_qs_probe.lro, "rx"),
    _xs("mbuf_alloc_failed", &_qs_probe.nombuf, "rx"),
    _xs("tso_packets", &_qs_probe.tso, "tx"),
    _xs("checksum_offload_packets", &_qs_probe.csum_offload, "tx"),
    _xs("multiseg_packets", &_qs_probe.multiseg, "tx"),
)
RXQ_XSTATS = tuple(n for n, _, w in XSTATS_TABLE if w != "tx")
TXQ_XSTATS = tuple(n for n, _, w in XSTATS_TABLE if w != "rx")

ctypedef struct fp_queue:
    void *q
    burst_fn burst
    pyrtap_pool *pool          # Rx: the pool it receives into (an MbufBurst pins it)

ctypedef struct fp_port:
    uint16_t nb_rx
    uint16_t nb_tx
    fp_queue rxq[RTE_MAX_QUEUES_PER_PORT]
    fp_queue txq[RTE_MAX_QUEUES_PER_PORT]

cdef fp_port fp_ops[RTE_MAX_ETHPORTS]

MAX_BURST_SIZE = BURST_MAX     # packets one rx/tx burst call handles at most
# The C definitions of these facts, for the Python modules to import (one source of truth).
C_LIMITS = {"RTE_MAX_ETHPORTS": RTE_MAX_ETHPORTS, "RTE_MAX_QUEUES_PER_PORT": RTE_MAX_QUEUES_PER_PORT,
            "VNET_HDR_LEN": VNET_HDR_LEN, "RTE_PKTMBUF_HEADROOM": RTE_PKTMBUF_HEADROOM,
            "RX_MAX_SEGS": RX_MAX_SEGS, "IOV_MAX_SEGS": IOV_MAX_SEGS}


# What every Rx path needs to turn a finished read into a packet (set at queue setup,
# changed only while the queue is stopped or by its polling thread).
ctypedef struct rxq_conf:
    pyrtap_pool *pool
    uint32_t segs              # mbufs per receive buffer (1 unless scatter Rx)
    uint32_t seg_room          # bytes of frame each segment holds
    uint32_t full_read         # read length meaning "truncated" (rx_full_read)
    uint16_t port_id
    bint sw_cksum              # verify L4 checksums the kernel did not vouch for
    bint gone                  # reads fail with EBADFD: the interface was deleted (counted once)


cdef class Queue:
    """One Rx or Tx queue of a port: a driver's C state plus its burst function."""
    cdef qstats *st           # points into the subclass's C state
    cdef void *cstate
    cdef burst_fn burst
    cdef rxq_conf *rc         # Rx queues: their receive-buffer configuration
    cdef uint64_t *tx_ok      # Tx queues: the RTE_ETH_TX_OFFLOAD_* set the port was configured for
    cdef readonly uint16_t port_id
    cdef readonly uint16_t queue_id
    cdef readonly Mempool pool

    def stats(self):
        """This queue's counters: packets, bytes, errors, nombuf."""
        return {"packets": self.st.packets, "bytes": self.st.bytes,
                "errors": self.st.errors, "nombuf": self.st.nombuf}

    def stats_reset(self):
        memset(self.st, 0, sizeof(qstats))

    def xstats(self):
        """Extended counters as (name suffix, value) pairs, Rx or Tx set by ``is_rx``
        (read through XSTATS_TABLE)."""
        cdef char *base = <char *>self.st
        cdef size_t off
        skip = "tx" if self.is_rx else "rx"
        out = []
        for name, off, where in XSTATS_TABLE:
            if where != skip:
                out.append((name, (<uint64_t *>(base + off))[0]))
        return out

    @property
    def is_rx(self):
        return self.rc != NULL

    # ---- Rx configuration -----------------------------------------------------------

    cdef _rx_init(self, rxq_conf *rc, Mempool pool, uint32_t max_frame, uint16_t port_id):
        """Size the receive buffers for ``max_frame``-byte frames from ``pool``."""
        self.rc = rc
        self.pool = pool
        rc.pool = &pool.pool
        rc.port_id = port_id
        if pool.pool.data_room < RTE_PKTMBUF_HEADROOM + ETH_HLEN:
            raise ValueError("mbuf data room of pool %r leaves no room for a frame" % pool.name)
        rc.seg_room = pool.pool.data_room - RTE_PKTMBUF_HEADROOM
        self._rx_size(max_frame)

    cdef _rx_size(self, uint32_t max_frame):
        # One byte more than the largest frame: a read that fills the buffer is then always
        # a truncated frame (the MTU raised from outside), whatever the pool's slack.
        cdef uint32_t segs = max_frame // self.rc.seg_room + 1
        if segs > RX_MAX_SEGS:
            raise ValueError("a %d-byte frame needs %d segments of pool %r (at most %d)"
                             % (max_frame, segs, self.pool.name, RX_MAX_SEGS))
        self.rc.segs = segs
        self.rc.full_read = rx_full_read(segs, self.rc.seg_room, max_frame)

    def set_rx_max_frame(self, uint32_t max_frame):
        """Receive buffers for frames up to ``max_frame`` bytes (the queue must be stopped)."""
        self._rx_size(max_frame)

    def set_rx_sw_cksum(self, bint on):
        """Verify in software the L4 checksums the kernel did not vouch for (Rx checksum offload)."""
        self.rc.sw_cksum = on

    @property
    def max_frame(self):
        """Longest frame (without virtio-net header) one receive buffer holds."""
        return self.rc.segs * self.rc.seg_room

    @property
    def segments(self):
        """Mbufs per receive buffer: more than 1 means scatter Rx."""
        return self.rc.segs

    # ---- Tx configuration -----------------------------------------------------------

    def set_tx_offloads(self, uint64_t offloads):
        """The Tx offloads (``RTE_ETH_TX_OFFLOAD_*``) configured for this queue; packets whose
        ``RTE_MBUF_F_TX_*`` requests need others are dropped and counted in oerrors."""
        self.tx_ok[0] = offloads


# Bursts run without the GIL, so another thread may stop the port meanwhile. Each burst
# announces itself in fp_busy[port] before it reads the table, and fp_ops_clear empties
# the table before it waits for fp_busy to drop to 0 (sequentially consistent atomics:
# either the burst sees the empty table, or the clear sees the burst and waits for it).
# Only then may a driver stop its queues.
cdef extern from *:
    """
    static inline void pyrtap_busy_inc(int *c) { __atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST); }
    static inline void pyrtap_busy_dec(int *c) { __atomic_sub_fetch(c, 1, __ATOMIC_RELEASE); }
    static inline int pyrtap_busy_read(int *c) { return __atomic_load_n(c, __ATOMIC_SEQ_CST); }
    static inline uint16_t pyrtap_nb_read(uint16_t *n) { return __atomic_load_n(n, __ATOMIC_SEQ_CST); }
    static inline void pyrtap_nb_write(uint16_t *n, uint16_t v) { __atomic_store_n(n, v, __ATOMIC_SEQ_CST); }
    """
    void pyrtap_busy_inc(int *c) nogil
    void pyrtap_busy_dec(int *c) nogil
    int pyrtap_busy_read(int *c) nogil
    uint16_t pyrtap_nb_read(uint16_t *n) nogil
    void pyrtap_nb_write(uint16_t *n, uint16_t v) nogil

cdef extern from "<sched.h>" nogil:
    int sched_yield()

cdef int fp_busy[RTE_MAX_ETHPORTS]


cdef inline uint16_t fp_call(int port_id, int queue_id, bint rx, pyrtap_mbuf **pkts,
                             uint16_t n) noexcept nogil:
    """Call a published queue's burst function, or return 0 if the port is not (or no
    longer) published; the port cannot be withdrawn while the call runs."""
    cdef fp_queue *fq
    cdef void *q
    cdef burst_fn fn
    cdef uint16_t r = 0
    pyrtap_busy_inc(&fp_busy[port_id])
    if rx:
        if queue_id < pyrtap_nb_read(&fp_ops[port_id].nb_rx):
            fq = &fp_ops[port_id].rxq[queue_id]
        else:
            fq = NULL
    elif queue_id < pyrtap_nb_read(&fp_ops[port_id].nb_tx):
        fq = &fp_ops[port_id].txq[queue_id]
    else:
        fq = NULL
    if fq != NULL:
        q = fq.q
        fn = fq.burst
        if q != NULL and fn != NULL:
            r = fn(q, pkts, n)
    pyrtap_busy_dec(&fp_busy[port_id])
    return r


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
        q.rc.gone = False
        fp_ops[port_id].rxq[i].q = q.cstate
        fp_ops[port_id].rxq[i].burst = q.burst
        fp_ops[port_id].rxq[i].pool = q.rc.pool
        if q.rc.pool != NULL:
            g_pool_users[q.rc.pool.pool_id] += 1
    for i, q in enumerate(tx_queues):
        fp_ops[port_id].txq[i].q = q.cstate
        fp_ops[port_id].txq[i].burst = q.burst
    pyrtap_nb_write(&fp_ops[port_id].nb_rx, len(rx_queues))      # last: the entries are complete
    pyrtap_nb_write(&fp_ops[port_id].nb_tx, len(tx_queues))


def fp_ops_clear(uint16_t port_id):
    """Withdraw a port from the burst table (DPDK's eth_dev_fp_ops_reset): new bursts on it
    return 0, and this returns once the bursts already running (in other threads) end."""
    cdef uint16_t i, nb_rx
    cdef pyrtap_pool *p
    if port_id >= RTE_MAX_ETHPORTS:
        return
    nb_rx = fp_ops[port_id].nb_rx
    pyrtap_nb_write(&fp_ops[port_id].nb_rx, 0)
    pyrtap_nb_write(&fp_ops[port_id].nb_tx, 0)
    with nogil:
        while pyrtap_busy_read(&fp_busy[port_id]):
            sched_yield()
    for i in range(nb_rx):
        p = fp_ops[port_id].rxq[i].pool
        if p != NULL and g_pool_users[p.pool_id]:
            g_pool_users[p.pool_id] -= 1      # the pool may be freed once no started queue uses it
    memset(&fp_ops[port_id], 0, sizeof(fp_port))


# ---- Rx/Tx callbacks (DPDK's rte_eth_add_rx_callback & co.) --------------------------------
#
# The ethdev layer keeps the lists; the bursts see one byte per queue, so a queue without
# callbacks pays a byte test. Callbacks run with the GIL, after the Rx burst's C part and
# before the Tx burst's.

cdef uint8_t rx_cb_on[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT]
cdef uint8_t tx_cb_on[RTE_MAX_ETHPORTS][RTE_MAX_QUEUES_PER_PORT]
_rx_callbacks = {}      # (port, queue) -> tuple of (fn, user_param)
_tx_callbacks = {}


def set_burst_callbacks(bint rx, uint16_t port_id, uint16_t queue_id, tuple callbacks):
    """Install the callback list of one queue (the ethdev layer's rte_eth_add_*_callback)."""
    if port_id >= RTE_MAX_ETHPORTS or queue_id >= RTE_MAX_QUEUES_PER_PORT:
        raise ValueError("port %d queue %d out of range" % (port_id, queue_id))
    table = _rx_callbacks if rx else _tx_callbacks
    if callbacks:
        table[(port_id, queue_id)] = callbacks
    else:
        table.pop((port_id, queue_id), None)
    if rx:
        rx_cb_on[port_id][queue_id] = len(callbacks) > 0
    else:
        tx_cb_on[port_id][queue_id] = len(callbacks) > 0


cdef uint16_t run_callbacks(bint rx, int port_id, int queue_id, pkts, uint16_t n, uint16_t max_pkts):
    """Each callback of the queue in turn: ``fn(port, queue, pkts, n, max_pkts, param)`` for
    Rx, ``fn(port, queue, pkts, n, param)`` for Tx, returning the new count. A callback that
    raises or returns a bad count is logged and changes nothing (the packets must not be
    lost on the way back to the caller)."""
    cdef tuple cbs = (_rx_callbacks if rx else _tx_callbacks).get((port_id, queue_id), ())
    for fn, param in cbs:
        try:
            r = fn(port_id, queue_id, pkts, n, max_pkts, param) if rx else fn(port_id, queue_id, pkts, n, param)
            if not 0 <= r <= (max_pkts if rx else n):
                raise ValueError("returned %r packets of %d" % (r, n))
            n = r
        except Exception:
            _log_callback_error(rx, port_id, queue_id)
    return n


def _log_callback_error(bint rx, int port_id, int queue_id):
    import logging
    logging.getLogger("pyrtap").exception("port %d %s queue %d: burst callback failed", port_id,
                                          "Rx" if rx else "Tx", queue_id)


def rte_eth_rx_burst(int port_id, int queue_id, rx_pkts, int nb_pkts):
    """Receive up to ``nb_pkts`` packets from a queue (``rte_eth_rx_burst``).

    ``rx_pkts`` is an MbufBurst (fast path: no Python object per packet; its ``count``
    is set) or a pre-sized list filled with Mbuf objects from index 0 (any other
    container: TypeError, before anything is received). Returns the number received;
    0 for an invalid or stopped port or queue. The GIL is released while the driver
    works, so other threads run meanwhile (one thread per queue).
    """
    cdef MbufBurst b = None
    cdef pyrtap_mbuf *tmp[BURST_MAX]
    cdef pyrtap_mbuf **ptrs = tmp
    cdef pyrtap_pool *p
    cdef uint16_t n, i
    if type(rx_pkts) is MbufBurst:
        b = <MbufBurst>rx_pkts
        if nb_pkts > b.size:
            nb_pkts = b.size
        ptrs = b.ptrs
    elif type(rx_pkts) is list:
        if nb_pkts > len(rx_pkts):
            nb_pkts = len(rx_pkts)
    else:
        # Checked before receiving: storing into a tuple would fail after the mbufs were taken.
        raise TypeError("rx_pkts must be an MbufBurst or a list, not %s" % type(rx_pkts).__name__)
    if nb_pkts > BURST_MAX:
        nb_pkts = BURST_MAX
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or <unsigned>queue_id >= fp_ops[port_id].nb_rx or nb_pkts <= 0:
        return 0
    if b is not None:
        p = fp_ops[port_id].rxq[queue_id].pool
        if p != b._pin_last:
            b._pin(p)           # the burst keeps the pool it receives from mapped
    with nogil:
        n = fp_call(port_id, queue_id, True, ptrs, nb_pkts)
    if g_wrong_thread:
        _log_wrong_thread()
    if b is None:
        for i in range(n):
            rx_pkts[i] = wrap(tmp[i])
    if rx_cb_on[port_id][queue_id]:
        n = run_callbacks(True, port_id, queue_id, rx_pkts, n, nb_pkts)
    if b is not None:
        b._count = n
    return n


def rte_eth_tx_burst(int port_id, int queue_id, tx_pkts, int nb_pkts):
    """Send up to ``nb_pkts`` packets on a queue (``rte_eth_tx_burst``).

    The first ``n`` packets (the return value) now belong to the driver, which frees
    them once sent; the rest stay the caller's. ``tx_pkts`` is an MbufBurst or a list
    of Mbuf. Returns 0 for an invalid or stopped port or queue, -EINVAL (nothing sent)
    when the first ``nb_pkts`` entries are not all packets the application owns. The
    GIL is released while the driver works.
    """
    cdef MbufBurst b
    cdef pyrtap_mbuf *tmp[BURST_MAX]
    cdef pyrtap_mbuf **ptrs = tmp
    cdef uint16_t i, n
    if <unsigned>port_id >= RTE_MAX_ETHPORTS or <unsigned>queue_id >= fp_ops[port_id].nb_tx or nb_pkts < 0:
        return 0
    if nb_pkts > 0:
        if type(tx_pkts) is MbufBurst:
            b = <MbufBurst>tx_pkts
            if nb_pkts > b.size:
                nb_pkts = b.size
        elif nb_pkts > len(tx_pkts):
            nb_pkts = len(tx_pkts)
        if nb_pkts > BURST_MAX:
            nb_pkts = BURST_MAX
        if tx_cb_on[port_id][queue_id]:
            nb_pkts = run_callbacks(False, port_id, queue_id, tx_pkts, nb_pkts, nb_pkts)
        if type(tx_pkts) is MbufBurst:
            ptrs = (<MbufBurst>tx_pkts).ptrs
        else:
            # Python code may run here (a sequence's __getitem__) and stop the port:
            # fp_call looks the queue up only afterwards.
            for i in range(nb_pkts):
                tmp[i] = unwrap(tx_pkts[i])
        if tx_check(ptrs, nb_pkts) < 0:
            return -EINVAL
    # nb_pkts 0 still calls the driver: DPDK drivers reap finished sends on every call.
    with nogil:
        n = fp_call(port_id, queue_id, False, ptrs, nb_pkts)
    if g_wrong_thread:
        _log_wrong_thread()
    return n


cdef int tx_check(pyrtap_mbuf **pkts, uint16_t n) noexcept nogil:
    """Refuse (-1) a burst holding anything but packets the application owns: an empty
    slot (``nb_pkts`` beyond what the burst holds), a free, queued or dead mbuf, a chain
    whose ``nb_segs`` is not its real length, or a clone whose data's pool was freed.
    One byte compare per single-segment packet."""
    cdef uint16_t i
    cdef pyrtap_mbuf *m
    cdef pyrtap_mbuf *s
    cdef uint32_t k
    for i in range(n):
        m = pkts[i]
        if m == NULL or m.state != PYRTAP_MBUF_ALLOCATED:
            return -1
        if m.next == 0 and m.attached == 0:
            if m.nb_segs != 1:
                return -1
            continue
        s = m
        k = 0
        while s != NULL and k <= m.nb_segs:
            if s.state != PYRTAP_MBUF_ALLOCATED or (s.attached and pyrtap_mbuf_deref(s.attached) == NULL):
                return -1
            k += 1
            s = pyrtap_mbuf_next(s)
        if k != m.nb_segs or s != NULL:
            return -1
    return 0


# ---- helpers shared by the drivers' burst loops ------------------------------------

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


# A net_rtap queue with uring=defer polled from a thread other than the one that polled
# it first since the port started (its ring's only submitter, SINGLE_ISSUER): the kernel
# refuses, so the burst does nothing and counts one error per queue; the Python wrappers
# log it, once per queue (the burst sets g_wrong_thread when it counts).
cdef bint g_wrong_thread = False


cdef _log_wrong_thread():
    global g_wrong_thread
    g_wrong_thread = False
    import logging
    logging.getLogger("pyrtap").error(
        "a net_rtap queue made with uring=defer (IORING_SETUP_SINGLE_ISSUER) was polled "
        "from a second thread: its ring belongs to the thread that polled it first since "
        "the port started, bursts from any other thread receive and send nothing (counted "
        "in errors); poll each queue from one thread, or use another uring= preset")


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


cdef inline void rx_count(qstats *st, pyrtap_mbuf *m) noexcept nogil:
    """Per-packet Rx counters, from the packet's final length and Rx flags."""
    cdef uint64_t l4 = m.ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK
    st.packets += 1
    st.bytes += m.pkt_len
    if not g_xstats_on:
        return
    count_frame(st, m)
    if l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD:
        st.csum_good += 1
    elif l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE:
        st.csum_none += 1
    elif l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD:
        st.csum_bad += 1
    if m.ol_flags & RTE_MBUF_F_RX_LRO:
        st.lro += 1


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


cdef inline void tx_count(qstats *st, pyrtap_mbuf *m, uint64_t one=1) noexcept nogil:
    """Per-packet Tx counters, at the time the driver accepts the packet.

    ``one`` = -1 (modulo 2**64) takes a packet back out of every counter, for a write
    the kernel refused after the driver counted it."""
    st.packets += one
    st.bytes += one * m.pkt_len
    if not g_xstats_on:
        return
    count_frame(st, m, one)
    if m.ol_flags & RTE_MBUF_F_TX_TCP_SEG:
        st.tso += one
    if m.ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM):
        st.csum_offload += one
    if m.nb_segs > 1:
        st.multiseg += one


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
