# The ethdev fast path: what rte_eth_rx_burst / rte_eth_tx_burst dispatch through.
#
# As in DPDK (rte_eth_fp_ops), the ethdev layer publishes each started port's queues
# into a C table: a queue's C state and its driver's burst function. A burst then
# costs one table lookup and one C call, whatever the driver. Here: the table and
# its guard against a port stopped by another thread (fp_busy), the Rx/Tx callbacks,
# rte_eth_rx_burst / rte_eth_tx_burst and the ownership check of a Tx burst.
#
# Uses: Queue, burst_fn (queue.pxi); MbufBurst (burst.pxi); wrap, unwrap (mbuf.pxi);
# g_pool_users (mempool.pxi); g_wrong_thread, _log_wrong_thread (rtap_rxtx.pxi).

cdef enum:
    RTE_MAX_ETHPORTS = 32
    RTE_MAX_QUEUES_PER_PORT = 128
    BURST_MAX = 512            # packets handled per call; DPDK bursts are usually 32

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


# Bursts run without the GIL, so another thread may stop the port meanwhile. Each burst
# announces itself in fp_busy[port] before it reads the table, and fp_ops_clear empties
# the table before it waits for fp_busy to drop to 0 (the atomics of pyrtap_ethdev_fp.h).
# Only then may a driver stop its queues.
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
    cdef RxQueue rq
    cdef Queue q
    cdef Py_ssize_t i
    if port_id >= RTE_MAX_ETHPORTS:
        raise ValueError("port id %d out of range" % port_id)
    if len(rx_queues) > RTE_MAX_QUEUES_PER_PORT or len(tx_queues) > RTE_MAX_QUEUES_PER_PORT:
        raise ValueError("too many queues")
    fp_ops_clear(port_id)
    for i, rq in enumerate(rx_queues):
        rq.rc.gone = False
        fp_ops[port_id].rxq[i].q = rq.cstate
        fp_ops[port_id].rxq[i].burst = rq.burst
        fp_ops[port_id].rxq[i].pool = rq.rc.pool
        if rq.rc.pool != NULL:
            g_pool_users[rq.rc.pool.pool_id] += 1
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
            if rx:
                r = fn(port_id, queue_id, pkts, n, max_pkts, param)
            else:
                r = fn(port_id, queue_id, pkts, n, param)
            if not 0 <= r <= (max_pkts if rx else n):
                raise ValueError("returned %r packets of %d" % (r, n))
            n = r
        except Exception:
            _log_callback_error(rx, port_id, queue_id)
    return n


def _log_callback_error(bint rx, int port_id, int queue_id):
    import logging
    logging.getLogger("pyrtap.core").exception("port %d %s queue %d: burst callback failed",
                                               port_id, "Rx" if rx else "Tx", queue_id)


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
