# net_rtap data path: one io_uring per queue.
#
# Rx: every descriptor is a read (readv for scatter) posted into a fresh mbuf chain,
#     with the virtio-net header landing in the headroom just before the frame.
#     A completion is handed to the caller and its descriptor re-posted with a new
#     chain; all re-posts of a burst go to the kernel in one io_uring_enter.
# Tx: one write (writev for chains) per packet, one io_uring_enter per burst, and the
#     completions of earlier bursts are reaped at the start of *every* burst, so mbufs
#     go back to their pool at the rate they are sent (DPDK's C net_rtap reaps only
#     when the submission ring runs low, which never happens: its pool drains).
#
# Queues: UringAutoRxQueue (rx=auto, the default), UringBatchRxQueue (rx=batch),
# UringRxQueue (rx=prepost), UringMultishotRxQueue (rx=multishot), UringTxQueue. Each
# holds a struct uring_q: its ring (uring_ring, set up and torn down by the uring_*
# functions), the descriptors both directions use, and an Rx part (uring_rxq) and a Tx
# part (uring_txq); the uring_q_* functions work on the whole queue.
#
# Uses: RxQueue, TxQueue, qstats, rxq_conf, tx_count (queue.pxi); the receive buffers
# and the per-packet Rx/Tx steps (vnet_rxtx.pxi); the free batches (mempool.pxi);
# BURST_MAX (ethdev_fp.pxi), which reports g_wrong_thread from here.


cdef enum:
    CANCEL_TAG = 0xFFFFFFFF     # user_data of our cancel SQE (descriptors use slot numbers)
    MSHOT_TAG = 0xFFFFFFFE      # user_data of the multishot read
    # iovecs kept per Tx descriptor: a 64 KB chain of 2 KB mbufs and the header; longer
    # chains take theirs from the heap.
    TX_IOV_INLINE = 36

# Setup-flag presets, selectable per port with the devarg uring=NAME so the benchmark
# can measure each (docs/benchmarks.md: they change Rx throughput 2-3x).
URING_PRESETS = {
    "default": 0,
    "coop": IORING_SETUP_COOP_TASKRUN,
    "defer": IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    "sqpoll": IORING_SETUP_SQPOLL,
}


ctypedef struct mshot_state:
    io_uring_buf_ring *br      # provided-buffer ring (rx=multishot)
    uint32_t br_entries
    int br_mask
    bint registered
    bint armed
    uint32_t added             # buffers added to the ring since the last advance


# One queue's C state, in parts: the ring (uring_ring), which every queue has and the
# uring_* functions below set up, submit to and tear down; the descriptors and counters
# that both directions' bursts use; and the Rx part (uring_rxq) or the Tx part
# (uring_txq), used by that direction's bursts only (the other stays zeroed). The
# uring_q_* functions work on the whole queue. Nested structs are laid out inline:
# q.r.inflight is one offset from q, as a flat member was.
ctypedef struct uring_ring:
    io_uring ring
    bint ready                 # uring_init done, uring_exit not yet
    int fd                     # the TAP queue's fd (the ring's registered file; plain read()/write())
    int sqe_fd                 # what SQEs name: 0, the registered file, or fd itself
    uint8_t sqe_flags          # IOSQE_FIXED_FILE when the fd is registered
    uint32_t inflight          # descriptors owned by the kernel
    uint32_t pending           # SQEs prepared since the last submit
    bint defer                 # DEFER_TASKRUN: completions need an io_uring_enter
    unsigned flags             # the ring's setup flags (a uring=defer queue gets a new ring per start)
    bint disabled              # defer: made with IORING_SETUP_R_DISABLED, not enabled yet (or closed)
    int owner                  # defer: the thread (kernel id) that enabled the ring, its only submitter
    bint wrong_thread          # defer: polled from another thread (counted once)
    int sentinel               # defer: read end of a pipe only the ring writes to (uring_exit)


ctypedef struct uring_rxq:
    rxq_conf rc
    bint probe                 # rx=auto: start with a plain read() when the queue was idle
    bint idle                  # rx=auto: the last burst found the queue empty
    uint32_t last              # rx=auto: frames the last burst received
    mshot_state ms             # rx=multishot only


ctypedef struct uring_txq:
    uint64_t tx_ok             # configured RTE_ETH_TX_OFFLOAD_* of the port
    uint32_t *free_slots
    uint32_t nb_free
    uint8_t *hdrs              # per-descriptor virtio-net header when headroom can't be used
    iovec **heap_iovs          # per-descriptor vectors longer than iov_per_slot


ctypedef struct uring_q:
    uring_ring r               # the ring
    qstats st
    uint32_t nb_desc
    pyrtap_mbuf **slots        # head mbuf of each descriptor
    iovec *iovs                # per-descriptor gather/scatter lists
    uint32_t iov_per_slot
    uint32_t sync_max          # bursts up to this size use plain read()/write() (devarg sync=)
    uring_rxq rx               # Rx queues only
    uring_txq tx               # Tx queues only


# ---- The ring ------------------------------------------------------------------------

# The first SQPOLL ring of the process: later ones attach to its SQ thread
# (IORING_SETUP_ATTACH_WQ) instead of each starting a kernel thread that spins on a CPU.
cdef int g_sqpoll_fd = -1


# A net_rtap queue with uring=defer polled from a thread other than the one that polled
# it first since the port started (its ring's only submitter, SINGLE_ISSUER): the kernel
# refuses, so the burst does nothing and counts one error per queue; the Python wrappers
# log it, once per queue (the burst sets g_wrong_thread when it counts).
cdef bint g_wrong_thread = False


cdef _log_wrong_thread():
    global g_wrong_thread
    g_wrong_thread = False
    import logging
    logging.getLogger("pyrtap.core").error(
        "a net_rtap queue made with uring=defer (IORING_SETUP_SINGLE_ISSUER) was polled "
        "from a second thread: its ring belongs to the thread that polled it first since "
        "the port started, bursts from any other thread receive and send nothing (counted "
        "in errors); poll each queue from one thread, or use another uring= preset")


cdef bint uring_enable(uring_ring *r) noexcept nogil:
    """Enable a disabled ring: the calling thread becomes its only submitter (the kernel
    sets SINGLE_ISSUER's task on enable when the ring was made disabled), and what start()
    prepared is submitted. False when the kernel refuses: another thread enabled it first
    (-EEXIST), or the queue has no ring (a failed start)."""
    if r.ring.ring_fd < 0 or syscall(SYS_io_uring_register, r.ring.ring_fd,
                                     IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0:
        return False
    r.owner = pyrtap_tid()
    r.disabled = False
    uring_submit(r)
    return True


cdef inline bint uring_foreign(uring_q *q) noexcept nogil:
    """Called first by every burst. A DEFER_TASKRUN ring belongs to the thread that polls
    it first after start (which enables it here); from any other thread the kernel refuses
    every io_uring_enter (-EEXIST), so the burst must not even try (rx=batch would wait
    forever, Tx would report unsent frames as sent). The first such burst counts an error
    in the queue's stats, hence the whole queue as argument (a (ring, stats) pair made gcc
    split uring_tx_burst differently, so the burst code would not be the same)."""
    global g_wrong_thread
    cdef uring_ring *r = &q.r
    if not r.defer:
        return False
    if r.disabled:
        if uring_enable(r):
            return False
    elif pyrtap_tid() == r.owner:
        return False
    if not r.wrong_thread:
        r.wrong_thread = True
        q.st.errors += 1
        g_wrong_thread = True
    return True


cdef int uring_init(uring_ring *r, uint32_t entries, unsigned flags) except -1:
    global g_sqpoll_fd
    cdef io_uring_params p
    cdef int rc
    r.defer = (flags & IORING_SETUP_DEFER_TASKRUN) != 0
    r.disabled = r.defer
    r.wrong_thread = False
    if r.defer:
        # Made disabled: the first burst enables it, which makes the thread that polls
        # the queue its submitter, wherever the queue was set up (uring_foreign).
        flags |= IORING_SETUP_R_DISABLED
    memset(&p, 0, sizeof(p))
    p.flags = flags
    if flags & IORING_SETUP_SQPOLL and g_sqpoll_fd >= 0:
        p.flags |= IORING_SETUP_ATTACH_WQ
        p.wq_fd = g_sqpoll_fd
        rc = io_uring_queue_init_params(entries, &r.ring, &p)
        if rc == 0:
            r.defer = False
            return 0
        p.flags = flags          # that ring is gone: this one leads from now on
        p.wq_fd = 0
    rc = io_uring_queue_init_params(entries, &r.ring, &p)
    if rc == 0 and flags & IORING_SETUP_SQPOLL:
        g_sqpoll_fd = r.ring.ring_fd
    if rc < 0:
        raise OSError(-rc, "io_uring_queue_init(%d entries, flags 0x%x) failed: %s"
                      % (entries, flags, os.strerror(-rc)))
    return 0


cdef inline void uring_submit(uring_ring *r) noexcept nogil:
    if r.pending and not r.disabled:    # a disabled ring keeps them for its first burst
        io_uring_submit(&r.ring)
        r.pending = 0


cdef bint uring_exit(uring_ring *r) noexcept nogil:
    """Tear a ring down. The registered file goes first, synchronously: the ring's own
    teardown runs later in a kernel worker, and until then it would keep the TAP queue
    attached (and a closed non-persistent interface alive).

    A uring=defer ring may be closed by a thread that is not its submitter, which the
    kernel lets neither enter (cancel) nor register (unregister, IORING_REGISTER_SYNC_CANCEL:
    all -EEXIST). Closing it is then the way: the kernel's teardown worker cancels every
    request (a read cancelled there does not copy into its buffer) and frees the ring once
    the last one is gone, dropping its registered files. One of them is the only write end
    of the sentinel pipe, so the read end hanging up means no request of the ring is left
    (measured on 6.18: 30-40 ms after close; a posted read or multishot read left its
    buffer untouched and its frame in the TAP queue). Returns False if that did not happen
    within 5 s: the buffers may still be the kernel's."""
    global g_sqpoll_fd
    cdef pollfd pfd
    cdef int rc = 0 if r.sentinel < 0 and r.defer else 1   # defer without a sentinel: unknown
    if r.ring.ring_fd == g_sqpoll_fd:
        g_sqpoll_fd = -1
    if r.sqe_flags & IOSQE_FIXED_FILE:
        io_uring_unregister_files(&r.ring)
    io_uring_queue_exit(&r.ring)
    r.ring.ring_fd = -1
    r.disabled = r.defer        # no burst may enable what is left of it
    if r.sentinel >= 0:
        pfd.fd = r.sentinel
        pfd.events = POLLIN     # a hang-up is reported whatever is asked
        rc = poll(&pfd, 1, 5000)
        while rc < 0 and errno == EINTR:
            rc = poll(&pfd, 1, 5000)
        close(r.sentinel)
        r.sentinel = -1
    return rc == 1


cdef int uring_open(uring_ring *r, uint32_t entries, int evfd, bint evfd_on) except -1:
    """Make the queue's ring of ``entries`` SQ entries (at setup, and at each start of a
    uring=defer queue) with its registered files, and register ``evfd``, the Rx interrupt
    eventfd, if there is one."""
    cdef int files[2]
    cdef int p[2]
    cdef int rc, n = 1
    uring_init(r, entries, r.flags)
    r.ready = True
    # A registered file spares the kernel a file lookup per request.
    r.sqe_fd = r.fd
    r.sqe_flags = 0
    files[0] = r.fd
    if r.defer and pipe2(p, O_CLOEXEC) == 0:
        files[1] = p[1]         # the sentinel: see uring_exit
        n = 2
    if io_uring_register_files(&r.ring, files, n) == 0:
        r.sqe_fd = 0
        r.sqe_flags = IOSQE_FIXED_FILE
        if n == 2:
            r.sentinel = p[0]
    elif n == 2:
        close(p[0])
    if n == 2:
        close(p[1])
    if evfd > 0:                # asked for before this ring was made (uring=defer restart)
        rc = io_uring_register_eventfd(&r.ring, evfd)
        if rc < 0:
            raise OSError(-rc, "io_uring_register_eventfd: " + os.strerror(-rc))
        io_uring_cq_eventfd_toggle(&r.ring, evfd_on)
    return 0


cdef void uring_close(uring_ring *r) noexcept:
    """Release the ring (the queue must be stopped): uring_exit may wait for the kernel
    (a uring=defer ring's sentinel), without the GIL."""
    if r.ready:
        with nogil:
            uring_exit(r)
        r.ready = False


# ---- The queue: its ring and descriptors, Rx or Tx -----------------------------------

ctypedef void (*complete_fn)(uring_q *q, uint32_t slot, int res, free_batch *b) noexcept nogil


cdef int uring_q_cancel_drain(uring_q *q, complete_fn done) noexcept nogil:
    """Cancel every request in flight and wait for all their completions.

    Each posted descriptor produces exactly one CQE (its result or -ECANCELED), so
    counting them is how we know the kernel will not touch any buffer again.
    Returns the number of descriptors still unaccounted for (0 on success).
    """
    cdef io_uring_sqe *sqe
    cdef io_uring_cqe *cqe
    cdef __kernel_timespec ts
    cdef free_batch b
    cdef int rc, timeouts = 0
    cdef bint cancel_done = q.r.inflight == 0
    batch_init(&b)
    if not cancel_done:
        sqe = io_uring_get_sqe(&q.r.ring)
        if sqe == NULL:
            uring_submit(&q.r)
            sqe = io_uring_get_sqe(&q.r.ring)
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY)
        io_uring_sqe_set_data64(sqe, CANCEL_TAG)
        q.r.pending += 1
        uring_submit(&q.r)
    ts.tv_sec = 0
    ts.tv_nsec = 100000000
    while (q.r.inflight or not cancel_done) and timeouts < 50:
        rc = io_uring_wait_cqe_timeout(&q.r.ring, &cqe, &ts)
        if rc < 0:
            timeouts += 1
            continue
        if cqe.user_data == CANCEL_TAG:
            cancel_done = True
        else:
            if not (cqe.flags & IORING_CQE_F_MORE):    # a multishot request goes on
                q.r.inflight -= 1
            done(q, <uint32_t>cqe.user_data, cqe.res, &b)
        io_uring_cqe_seen(&q.r.ring, cqe)
    batch_flush(&b)
    return q.r.inflight


cdef int uring_q_setup(uring_q *q, int fd, uint32_t nb_desc, unsigned flags,
                       uint32_t iov_per_slot) except -1:
    """The descriptor arrays and the first ring of a net_rtap queue, Rx or Tx."""
    q.r.fd = fd
    q.nb_desc = nb_desc
    q.iov_per_slot = iov_per_slot
    q.slots = <pyrtap_mbuf **>PyMem_Calloc(nb_desc, sizeof(pyrtap_mbuf *))
    if q.slots == NULL:
        raise MemoryError()
    uring_q_iovs(q, iov_per_slot)
    q.r.flags = flags
    q.r.sentinel = -1
    # One SQ entry per descriptor plus one for the cancel request; CQ twice that.
    uring_open(&q.r, q.nb_desc + 1, -1, False)
    return 0


cdef int uring_q_up(uring_q *q, int evfd, bint evfd_on):
    """At start: a uring=defer queue's stop closed its ring, make the next one. 0 or -errno."""
    if q.r.ready:
        return 0
    try:
        uring_open(&q.r, q.nb_desc + 1, evfd, evfd_on)      # entries as at setup
    except OSError as e:
        return -(e.errno or ENOMEM)
    return 0


cdef uint32_t uring_q_drain(uring_q *q, complete_fn done):
    """Stop: take back every buffer the kernel holds (``done`` for each), or return how
    many it still holds.

    A uring=defer ring is then closed (the next start makes a new one), so each start
    gives the queue to the thread that polls it first. The stopping thread may not be
    the ring's owner (a worker lcore polled, the main lcore stops), and the kernel lets
    no other thread enter or register: it takes the completions already posted, closes
    the ring, and the kernel cancels the rest (uring_exit).
    """
    cdef io_uring_cqe *cqes[64]
    cdef free_batch b
    cdef uint32_t i, n, slot
    cdef bint gone, submitted
    if not q.r.defer:
        return uring_q_cancel_drain(q, done)
    if not q.r.ready:
        return 0
    batch_init(&b)
    if not q.r.disabled and pyrtap_tid() == q.r.owner:
        n = uring_q_cancel_drain(q, done)
        if n:
            return n
    else:
        while True:     # the completions already posted: read from the shared CQ memory
            n = io_uring_peek_batch_cqe(&q.r.ring, cqes, 64)
            if n == 0:
                break
            for i in range(n):
                if cqes[i].user_data == CANCEL_TAG:
                    continue
                if not (cqes[i].flags & IORING_CQE_F_MORE):
                    q.r.inflight -= 1
                done(q, <uint32_t>cqes[i].user_data, cqes[i].res, &b)
            io_uring_cq_advance(&q.r.ring, n)
    q.r.ready = False
    submitted = not q.r.disabled
    with nogil:
        gone = uring_exit(&q.r)
    if not gone and submitted and q.r.inflight:
        batch_flush(&b)
        return q.r.inflight
    if q.r.inflight:
        # The ring is gone with every request (never submitted, when it was never
        # enabled): the buffers still attached to descriptors are free to take back.
        for slot in range(q.nb_desc):
            if q.slots[slot] != NULL:
                done(q, slot, -ECANCELED, &b)
        q.r.inflight = 0
    batch_flush(&b)
    q.r.pending = 0
    q.rx.ms.registered = False
    q.rx.ms.added = 0
    return 0


cdef int uring_q_iovs(uring_q *q, uint32_t per_slot) except -1:
    """Room for ``per_slot`` iovecs per descriptor (the queue must be stopped)."""
    cdef iovec *iovs
    if per_slot <= q.iov_per_slot and q.iovs != NULL:
        return 0
    iovs = <iovec *>PyMem_Calloc(q.nb_desc * per_slot, sizeof(iovec))
    if iovs == NULL:
        raise MemoryError()
    PyMem_Free(q.iovs)
    q.iovs = iovs
    q.iov_per_slot = per_slot
    return 0


cdef void uring_q_free(uring_q *q) noexcept:
    """Everything a net_rtap queue holds: the ring, then its arrays."""
    cdef uint32_t i
    uring_close(&q.r)
    if q.tx.heap_iovs != NULL:
        for i in range(q.nb_desc):
            free(q.tx.heap_iovs[i])
    PyMem_Free(q.slots)
    PyMem_Free(q.iovs)
    PyMem_Free(q.tx.free_slots)
    PyMem_Free(q.tx.hdrs)
    PyMem_Free(q.tx.heap_iovs)


cdef class _UringRxQueue(RxQueue):
    """What the net_rtap receive queues share: their ring, and Rx interrupts through it."""
    cdef uring_q q
    # Rx interrupts (docs/events.md): an eventfd registered with the ring, for the Rx
    # modes whose posted reads take frames off the TAP queue (rx=prepost, multishot).
    cdef int evfd
    cdef bint evfd_on
    cdef bint wakes_by_cqe

    def __dealloc__(self):
        uring_q_free(&self.q)
        if self.evfd > 0:
            close(self.evfd)

    cdef _setup_rx(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                   uint16_t port_id, uint16_t queue_id, unsigned flags, burst_fn burst):
        self.evfd = -1
        self._bind(&self.q, &self.q.st, burst, port_id, queue_id)
        self._rx_init(&self.q.rx.rc, pool, max_frame)
        uring_q_setup(&self.q, fd, nb_desc, flags, self.q.rx.rc.segs)

    cdef int _ring_up(self):
        """At start: a uring=defer queue's stop closed its ring, make the next one (with
        the Rx interrupt eventfd, if one was asked for). 0 or -errno."""
        return uring_q_up(&self.q, self.evfd, self.evfd_on)

    cdef _rx_resized(self):
        uring_q_iovs(&self.q, self.q.rx.rc.segs)     # a scatter list per descriptor

    def set_sync_max(self, uint32_t n):
        """Bursts of up to ``n`` packets use plain read() (rx=auto only). 0: io_uring for
        every burst."""
        self.q.sync_max = n

    cdef int _batch_start(self):
        """Start of a batched-read Rx queue: see UringBatchRxQueue.start."""
        cdef int rc = self._ring_up()
        if rc < 0:
            return rc
        self.q.rx.idle = True
        return self._rx_buffer(&self.q.slots[0])

    @property
    def inflight(self):
        """Descriptors currently owned by the kernel."""
        return self.q.r.inflight

    @property
    def ring_fd(self):
        return self.q.r.ring.ring_fd if self.q.r.ready else -1

    def close(self):
        """Release the ring and the Rx interrupt eventfd (the queue must be stopped)."""
        uring_close(&self.q.r)
        if self.evfd > 0:
            close(self.evfd)
            self.evfd = -1

    # ---- Rx interrupts ----------------------------------------------------------------
    #
    # With reads posted between bursts (rx=prepost, a multishot read) frames leave the
    # TAP queue as they arrive, so the TAP fd is not readable while packets wait: the
    # wake-up comes from the ring, through an eventfd the kernel signals on every
    # completion (io_uring_register_eventfd). Modes that post nothing between bursts
    # leave frames in the TAP queue, whose fd is then the one to poll (the driver's).

    @property
    def rx_wakes_by_completion(self):
        """True when waiting packets show as completions on the ring, not on the TAP fd."""
        return self.wakes_by_cqe

    def rx_intr_eventfd(self):
        """The eventfd signalled by this ring's completions, made and registered on first use."""
        cdef int fd, rc
        if self.evfd > 0:
            return self.evfd
        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
        if fd < 0:
            raise OSError(errno, "eventfd: " + os.strerror(errno))
        if self.q.r.ready:   # else registered with the next ring (uring_open)
            # uring=defer: refused (-EEXIST) once another thread owns the ring.
            rc = io_uring_register_eventfd(&self.q.r.ring, fd)
            if rc < 0:
                close(fd)
                raise OSError(-rc, "io_uring_register_eventfd: " + os.strerror(-rc))
            io_uring_cq_eventfd_toggle(&self.q.r.ring, False)     # off until rx_intr_arm(True)
        self.evfd = fd
        self.evfd_on = False
        return fd

    def rx_intr_arm(self, bint on):
        """Let completions signal the eventfd (or stop them). Arming clears the count
        and signals at once when completions already wait, so none is slept through."""
        cdef uint64_t v = 1
        if self.evfd <= 0:
            return
        self.evfd_on = on
        if self.q.r.ready:
            io_uring_cq_eventfd_toggle(&self.q.r.ring, on)
        read(self.evfd, &v, 8)
        if on:
            if self.q.r.disabled:
                # uring=defer, not polled since start: no read is posted yet, and none
                # will complete. Wake the waiter now; its burst posts them.
                write(self.evfd, &v, 8)
                return
            if self.q.r.defer:
                io_uring_get_events(&self.q.r.ring)
            if io_uring_cq_ready(&self.q.r.ring):
                v = 1
                write(self.evfd, &v, 8)


# ---- Rx ------------------------------------------------------------------------------

cdef inline void urx_post(uring_q *q, uint32_t slot, int rw_flags=0) noexcept nogil:
    """Post descriptor ``slot``: read the next frame into its chain."""
    cdef pyrtap_mbuf *m = q.slots[slot]
    cdef io_uring_sqe *sqe = io_uring_get_sqe(&q.r.ring)
    cdef iovec *iov
    # The SQ has nb_desc + 1 entries and at most nb_desc descriptors exist, so an
    # entry is always free here.
    if q.rx.rc.segs == 1:
        io_uring_prep_read(sqe, q.r.sqe_fd, pyrtap_mbuf_data(m) - VNET_HDR_LEN,
                           q.rx.rc.seg_room + VNET_HDR_LEN, 0)
    else:
        iov = &q.iovs[slot * q.iov_per_slot]
        rx_fill_iov(m, q.rx.rc.seg_room, q.rx.rc.segs, iov)
        io_uring_prep_readv(sqe, q.r.sqe_fd, iov, q.rx.rc.segs, 0)
    sqe.rw_flags = rw_flags
    sqe.flags = q.r.sqe_flags
    io_uring_sqe_set_data64(sqe, slot)
    q.r.inflight += 1
    q.r.pending += 1


cdef uint16_t uring_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef uring_q *q = <uring_q *>qp
    cdef io_uring_cqe *cqes[BURST_MAX]
    cdef pyrtap_mbuf *m
    cdef uint32_t i, n, slot
    cdef int res
    cdef uint16_t nrx = 0
    if q.rx.rc.gone or uring_foreign(q):
        return 0
    if q.r.defer:
        # With DEFER_TASKRUN the kernel finishes reads only inside io_uring_enter.
        io_uring_get_events(&q.r.ring)
    n = io_uring_peek_batch_cqe(&q.r.ring, cqes, nb)
    if n == 0:
        return 0
    for i in range(n):
        slot = <uint32_t>cqes[i].user_data
        res = cqes[i].res
        m = q.slots[slot]
        q.r.inflight -= 1
        if res == -EAGAIN:
            # Every armed read on the fd is woken by each arriving frame (io_uring's
            # read polls are not exclusive); those beaten to it complete with -EAGAIN
            # because the fd is non-blocking. Not an error: post it again.
            urx_post(q, slot)
            continue
        if res == -EBADFD:
            rx_gone(&q.st, &q.rx.rc)       # not re-posted: stop() frees its chain
            continue
        m = rx_take(&q.st, &q.rx.rc, &q.slots[slot], res)
        if m != NULL:
            pkts[nrx] = m
            nrx += 1
        urx_post(q, slot)       # a fresh chain, or the same one after a bad read
    io_uring_cq_advance(&q.r.ring, n)
    uring_submit(&q.r)
    return nrx


cdef void urx_discard(uring_q *q, uint32_t slot, int res, free_batch *b) noexcept nogil:
    batch_free_chain(b, q.slots[slot])
    q.slots[slot] = NULL


cdef class UringRxQueue(_UringRxQueue):
    """net_rtap receive queue: pre-posted io_uring reads into mbuf chains."""

    def __cinit__(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                  uint16_t port_id=0, uint16_t queue_id=0, unsigned flags=0):
        self._setup_rx(fd, nb_desc, pool, max_frame, port_id, queue_id, flags, uring_rx_burst)
        self.wakes_by_cqe = True

    def start(self):
        """Post one read per descriptor. 0, or -ENOMEM when the pool cannot fill the ring.
        (uring=defer: prepared now, submitted by the first burst.)"""
        cdef uint32_t slot
        cdef int rc = self._ring_up()
        if rc < 0:
            return rc
        for slot in range(self.q.nb_desc):
            if self._rx_buffer(&self.q.slots[slot]) < 0:
                self.stop()
                return -ENOMEM
            urx_post(&self.q, slot)
        uring_submit(&self.q.r)
        return 0

    def stop(self):
        """Cancel every posted read and return all buffers to the pool."""
        left = uring_q_drain(&self.q, urx_discard)
        if left:
            raise RuntimeError("%d reads of queue %d did not complete after cancel" % (left, self.queue_id))
        self._rx_release(self.q.slots, self.q.nb_desc)    # descriptors not re-posted (interface gone)


# ---- Rx, batch and auto variants (devargs rx=batch, rx=auto) ----------------------------
#
# A read posted on an empty TAP queue arms a poll on the queue's wait queue, and that
# wait queue wakes *every* armed read for each arriving frame (io_uring's read polls
# are not exclusive): with the C driver's one-read-per-descriptor design the cost of
# a frame grows with the ring size (measured: 256 posted reads make each frame cost
# the sender ~46 us). Here no read is left armed: each burst submits its reads with
# RWF_NOWAIT, which complete inline with a frame or -EAGAIN, and reaps them all
# before returning: read() until EAGAIN, but one system call per burst.
#
# rx=auto (the default) adds three rules, chosen by measurement (docs/benchmarks.md):
# a burst of at most sync= frames is plain read() calls (io_uring does not pay off for
# so few); when the last burst found the queue empty, up to two plain read()s come
# first, so an empty poll costs one failed read() and a lone frame a read and a failed
# read, as on net_tap, instead of a batch of failed SQEs; and a batch asks for about
# twice what the last burst found, not the whole burst.

cdef enum:
    ADAPT_MIN = 4       # rx=auto: reads in a batch beyond twice the last burst's frames


cdef inline uint16_t urx_batch(uring_q *q, pyrtap_mbuf **pkts, uint32_t k) noexcept nogil:
    """Submit ``k`` non-waiting reads (descriptors 0..k-1) in one io_uring_enter and reap
    them all; returns the packets received into ``pkts``."""
    cdef io_uring_cqe *cqes[BURST_MAX]
    cdef pyrtap_mbuf *m
    cdef uint32_t i, n, slot, got = 0
    cdef int res
    cdef uint16_t nrx = 0
    for slot in range(k):
        # Buffers are taken on first use: a burst of 32 on a 1024-descriptor ring
        # holds 32 of them, which matters when each one is a 64 KB LRO chain.
        # No buffer, no read: the frame waits in the kernel (not rx_nombuf, which counts
        # frames dropped after they were read).
        if q.slots[slot] == NULL and alloc_rx_chain(q.rx.rc.pool, q.rx.rc.segs, &q.slots[slot]) < 0:
            k = slot
            break
        urx_post(q, slot, RWF_NOWAIT)
    if k == 0:
        return 0
    io_uring_submit_and_wait(&q.r.ring, k)
    q.r.pending = 0
    while got < k:
        n = io_uring_peek_batch_cqe(&q.r.ring, cqes, k - got)
        if n == 0:
            io_uring_get_events(&q.r.ring)
            continue
        for i in range(n):
            slot = <uint32_t>cqes[i].user_data
            res = cqes[i].res
            q.r.inflight -= 1
            if res == -EAGAIN:
                continue
            if res == -EBADFD:
                rx_gone(&q.st, &q.rx.rc)
                continue
            m = rx_take(&q.st, &q.rx.rc, &q.slots[slot], res)
            if m != NULL:
                pkts[nrx] = m
                nrx += 1
        io_uring_cq_advance(&q.r.ring, n)
        got += n
    return nrx


cdef uint16_t uring_batch_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef uring_q *q = <uring_q *>qp
    cdef bint drained
    cdef uint16_t nrx = 0, got
    cdef uint32_t k
    if q.rx.rc.gone or uring_foreign(q):
        return 0
    # Plain reads (rx=auto): into descriptor 0, with its iovec area (nothing is posted
    # while a burst reads synchronously).
    if q.rx.probe and (nb <= q.sync_max or nb == 1 or q.rx.idle):
        if q.slots[0] == NULL and alloc_rx_chain(q.rx.rc.pool, q.rx.rc.segs, &q.slots[0]) < 0:
            return 0
        if nb <= q.sync_max:
            return rx_read_loop(&q.st, &q.rx.rc, q.r.fd, &q.slots[0], q.iovs, pkts, nb, &drained)
        # One frame wanted, or the last burst found the queue empty: up to two read()s
        # first. A lone frame (a ping, an ACK) then costs what it costs net_tap, a read
        # and a failed read, instead of a read and a batch of failed SQEs (measured:
        # ~3.5 us more per frame); only a queue that yields two frames gets a batch.
        nrx = rx_read_loop(&q.st, &q.rx.rc, q.r.fd, &q.slots[0], q.iovs, pkts, min(nb, 2), &drained)
        if drained or nrx == nb:
            q.rx.idle = drained         # found empty: the next burst probes with read() again
            q.rx.last = nrx
            return nrx
    k = min(<uint32_t>(nb - nrx), q.nb_desc)
    if q.rx.probe and k > 2 * q.rx.last + ADAPT_MIN:
        # A batch read that finds nothing costs about what a frame does: ask for about
        # twice what the last burst found (a full burst doubles it back in one step).
        k = 2 * q.rx.last + ADAPT_MIN
    got = urx_batch(q, pkts + nrx, k)
    q.rx.idle = got == 0
    q.rx.last = nrx + got
    return nrx + got


cdef class UringBatchRxQueue(UringRxQueue):
    """net_rtap receive queue: per burst, a batch of non-waiting reads in one io_uring_enter
    (``rx=batch``); with ``probe`` (``rx=auto``) a plain read() first when the queue was idle
    or one frame is wanted."""

    def __cinit__(self, *args, **kwargs):
        self.burst = uring_batch_rx_burst
        self.wakes_by_cqe = False
        self.q.rx.probe = False
        self.q.rx.idle = True

    def start(self):
        """Nothing is posted until a burst asks. The first descriptor's buffer is taken now
        (as net_tap's spare buffer), so a frame can always be read, and dropped and counted
        in rx_nombuf when the pool is empty; the others are taken on first use. 0 or -ENOMEM."""
        return self._batch_start()

    def stop(self):
        """Return every buffer to the pool (no read outlives the burst that made it; a
        uring=defer ring is closed)."""
        uring_q_drain(&self.q, urx_discard)
        self._rx_release(self.q.slots, self.q.nb_desc)


cdef class UringAutoRxQueue(UringBatchRxQueue):
    """net_rtap's default receive queue (``rx=auto``): batched non-waiting reads, and a plain
    read() when one frame is wanted or the last burst found the queue empty."""

    def __cinit__(self, *args, **kwargs):
        self.q.rx.probe = True


# ---- Tx ------------------------------------------------------------------------------

cdef inline void utx_complete(uring_q *q, uint32_t slot, int res, free_batch *b) noexcept nogil:
    cdef pyrtap_mbuf *m = q.slots[slot]
    if res < 0:
        # Counted as sent when accepted; the kernel refused it after all.
        q.st.errors += 1
        tx_count(&q.st, m, <uint64_t>-1)
    if q.tx.heap_iovs[slot] != NULL:
        free(q.tx.heap_iovs[slot])
        q.tx.heap_iovs[slot] = NULL
    batch_free_chain(b, m)
    q.slots[slot] = NULL
    q.tx.free_slots[q.tx.nb_free] = slot
    q.tx.nb_free += 1


cdef inline void utx_reap(uring_q *q) noexcept nogil:
    """Free the mbufs of every finished write (called on every burst)."""
    cdef io_uring_cqe *cqes[64]
    cdef free_batch b
    cdef uint32_t i, n
    if q.r.inflight == 0:
        return
    if q.r.defer:
        io_uring_get_events(&q.r.ring)
    batch_init(&b)
    while True:
        n = io_uring_peek_batch_cqe(&q.r.ring, cqes, 64)
        if n == 0:
            break
        for i in range(n):
            q.r.inflight -= 1
            utx_complete(q, <uint32_t>cqes[i].user_data, cqes[i].res, &b)
        io_uring_cq_advance(&q.r.ring, n)
    batch_flush(&b)


cdef uint16_t uring_tx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef uring_q *q = <uring_q *>qp
    cdef io_uring_sqe *sqe
    cdef pyrtap_mbuf *m
    cdef uint8_t *hdr
    cdef iovec *iov
    cdef uint32_t slot, nvec
    cdef uint16_t i
    cdef free_batch b
    cdef tx_undo u
    if uring_foreign(q):
        return 0
    utx_reap(q)
    batch_init(&b)
    i = 0
    if nb <= q.sync_max and q.r.inflight == 0:
        # A few packets and nothing in flight: a plain write() costs one system call per
        # packet, as io_uring's single enter does for so few, without the SQEs, the
        # completions and the reap (measured 1.4x faster at burst 1, docs/benchmarks.md).
        # Nothing in flight keeps the order of frames.
        while i < nb and pkts[i].nb_segs + 1 <= q.iov_per_slot:
            if not tx_write_now(&q.st, q.r.fd, pkts[i], q.tx.hdrs, q.iovs, q.iov_per_slot, q.tx.tx_ok):
                break               # the kernel's queue is full: the rest stay the caller's
            batch_free_chain(&b, pkts[i])
            i += 1
        if i == nb or pkts[i].nb_segs + 1 <= q.iov_per_slot:
            batch_flush(&b)
            return i
        # A chain longer than the inline vectors: it and the rest go through the ring.
    while i < nb:
        m = pkts[i]
        if q.tx.nb_free == 0 or io_uring_sq_space_left(&q.r.ring) == 0:
            break
        slot = q.tx.free_slots[q.tx.nb_free - 1]
        hdr = pyrtap_mbuf_data(m) - VNET_HDR_LEN if tx_hdr_in_headroom(m) else q.tx.hdrs + slot * 16
        if m.nb_segs + 1 > IOV_MAX_SEGS or tx_vnet_hdr(m, hdr, q.tx.tx_ok, &u) < 0:
            # The kernel would refuse it (too many segments), or it asks for an offload the
            # port was not configured for or its lengths do not fit: count it, drop it,
            # report it as taken (as DPDK drivers do with packets they drop).
            q.st.errors += 1
            batch_free_chain(&b, m)
            i += 1
            continue
        sqe = io_uring_get_sqe(&q.r.ring)
        q.tx.nb_free -= 1
        if hdr != q.tx.hdrs + slot * 16:
            io_uring_prep_write(sqe, q.r.sqe_fd, hdr, m.data_len + VNET_HDR_LEN, 0)
        else:
            if m.nb_segs + 1 <= q.iov_per_slot:
                iov = &q.iovs[slot * q.iov_per_slot]
            else:
                iov = <iovec *>malloc((m.nb_segs + 1) * sizeof(iovec))
                q.tx.heap_iovs[slot] = iov
            nvec = tx_fill_iov(m, hdr, iov)
            io_uring_prep_writev(sqe, q.r.sqe_fd, iov, nvec, 0)
        sqe.flags = q.r.sqe_flags
        io_uring_sqe_set_data64(sqe, slot)
        q.slots[slot] = m
        if pyrtap_refcnt_read(&m.refcnt) == 1:
            m.state = PYRTAP_MBUF_QUEUED    # the queue's until reaped: the application cannot free it
        q.r.inflight += 1
        q.r.pending += 1
        tx_count(&q.st, m)
        i += 1
    uring_submit(&q.r)
    batch_flush(&b)
    return i


cdef class UringTxQueue(TxQueue):
    """net_rtap transmit queue: one io_uring write per packet, completions reaped every burst."""
    cdef uring_q q

    def __cinit__(self, int fd, uint32_t nb_desc, uint16_t port_id=0, uint16_t queue_id=0,
                  unsigned flags=0):
        cdef uint32_t i
        self._bind(&self.q, &self.q.st, uring_tx_burst, port_id, queue_id)
        self.tx_ok = &self.q.tx.tx_ok
        uring_q_setup(&self.q, fd, nb_desc, flags, TX_IOV_INLINE)
        self.q.tx.free_slots = <uint32_t *>PyMem_Calloc(nb_desc, sizeof(uint32_t))
        self.q.tx.hdrs = <uint8_t *>PyMem_Calloc(nb_desc, 16)
        self.q.tx.heap_iovs = <iovec **>PyMem_Calloc(nb_desc, sizeof(iovec *))
        if self.q.tx.free_slots == NULL or self.q.tx.hdrs == NULL or self.q.tx.heap_iovs == NULL:
            raise MemoryError()
        for i in range(nb_desc):
            self.q.tx.free_slots[i] = nb_desc - 1 - i
        self.q.tx.nb_free = nb_desc

    def __dealloc__(self):
        uring_q_free(&self.q)

    def set_sync_max(self, uint32_t n):
        """Bursts of up to ``n`` packets use plain write() when nothing is in flight.
        0: io_uring for every burst."""
        self.q.sync_max = n

    @property
    def inflight(self):
        """Descriptors currently owned by the kernel."""
        return self.q.r.inflight

    @property
    def ring_fd(self):
        return self.q.r.ring.ring_fd if self.q.r.ready else -1

    def close(self):
        """Release the ring (the queue must be stopped)."""
        uring_close(&self.q.r)

    def start(self):
        return uring_q_up(&self.q, -1, False)

    def stop(self):
        """Cancel unfinished writes and return every mbuf to its pool."""
        left = uring_q_drain(&self.q, utx_complete)
        if left:
            raise RuntimeError("%d writes of queue %d did not complete after cancel" % (left, self.queue_id))


# ---- Rx, multishot variant (devarg rx=multishot) ----------------------------------------
#
# One IORING_OP_READ_MULTISHOT stays armed on the queue fd; the kernel picks each
# frame's buffer from a provided-buffer ring that holds the descriptors' mbufs (buffer
# id = slot). Re-posting a descriptor is then a store into that ring, not an SQE, and
# the file is polled once instead of once per read. Single-segment buffers only.

cdef inline void mshot_add(uring_q *q, uint32_t slot) noexcept nogil:
    io_uring_buf_ring_add(q.rx.ms.br, pyrtap_mbuf_data(q.slots[slot]) - VNET_HDR_LEN,
                          q.rx.rc.seg_room + VNET_HDR_LEN, <unsigned short>slot, q.rx.ms.br_mask,
                          q.rx.ms.added)
    q.rx.ms.added += 1


cdef inline void mshot_publish(uring_q *q) noexcept nogil:
    if q.rx.ms.added:
        io_uring_buf_ring_advance(q.rx.ms.br, q.rx.ms.added)
        q.rx.ms.added = 0


cdef inline void mshot_arm(uring_q *q) noexcept nogil:
    cdef io_uring_sqe *sqe = io_uring_get_sqe(&q.r.ring)
    io_uring_prep_rw(IORING_OP_READ_MULTISHOT, sqe, q.r.sqe_fd, NULL, 0, 0)
    sqe.buf_group = 0
    io_uring_sqe_set_flags(sqe, IOSQE_BUFFER_SELECT | q.r.sqe_flags)
    io_uring_sqe_set_data64(sqe, MSHOT_TAG)
    q.rx.ms.armed = True
    q.r.inflight += 1
    q.r.pending += 1


cdef uint16_t uring_mshot_rx_burst(void *qp, pyrtap_mbuf **pkts, uint16_t nb) noexcept nogil:
    cdef uring_q *q = <uring_q *>qp
    cdef io_uring_cqe *cqes[BURST_MAX]
    cdef pyrtap_mbuf *m
    cdef uint32_t i, n, slot, flags
    cdef int res
    cdef uint16_t nrx = 0
    if q.rx.rc.gone or uring_foreign(q):
        return 0
    if q.r.defer:
        io_uring_get_events(&q.r.ring)
    n = io_uring_peek_batch_cqe(&q.r.ring, cqes, nb)
    for i in range(n):
        res = cqes[i].res
        flags = cqes[i].flags
        if not (flags & IORING_CQE_F_MORE):
            # The request ended (out of buffers: -ENOBUFS, or an error): arm it again below.
            q.rx.ms.armed = False
            q.r.inflight -= 1
            if res == -EBADFD:
                rx_gone(&q.st, &q.rx.rc)   # not armed again
            elif res < 0 and res != -ENOBUFS:
                q.st.errors += 1
        if not (flags & IORING_CQE_F_BUFFER):
            continue
        slot = flags >> IORING_CQE_BUFFER_SHIFT
        m = rx_take(&q.st, &q.rx.rc, &q.slots[slot], res)
        if m != NULL:
            pkts[nrx] = m
            nrx += 1
        mshot_add(q, slot)      # back into the buffer ring: a fresh mbuf or the same one
    if n:
        io_uring_cq_advance(&q.r.ring, n)
    mshot_publish(q)
    if not q.rx.ms.armed and not q.rx.rc.gone:
        mshot_arm(q)
    uring_submit(&q.r)
    return nrx


cdef void mshot_ignore(uring_q *q, uint32_t slot, int res, free_batch *b) noexcept nogil:
    pass        # the buffers stay in q.slots; stop() frees them once the kernel let go


cdef class UringMultishotRxQueue(_UringRxQueue):
    """net_rtap receive queue: one multishot read into a provided-buffer ring of mbufs.

    A provided buffer is one mbuf, so frames must fit one: when they may not (a pool of
    small mbufs, an MTU raised at run time, LRO), the queue receives with batched
    non-waiting reads into mbuf chains instead (rx=auto's technique), and ``batched``
    says so.
    """
    cdef readonly bint batched

    def __cinit__(self, int fd, uint32_t nb_desc, Mempool pool, uint32_t max_frame,
                  uint16_t port_id=0, uint16_t queue_id=0, unsigned flags=0):
        cdef uint32_t entries = 1
        if nb_desc > 32768:
            raise ValueError("rx=multishot: at most 32768 descriptors")
        while entries < nb_desc:
            entries <<= 1
        self._setup_rx(fd, nb_desc, pool, max_frame, port_id, queue_id, flags, uring_mshot_rx_burst)
        self.q.rx.ms.br_entries = entries
        self.q.rx.ms.br_mask = io_uring_buf_ring_mask(entries)
        p = mmap(NULL, entries * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if p == MAP_FAILED:
            raise MemoryError("buffer ring")
        self.q.rx.ms.br = <io_uring_buf_ring *>p
        self._choose()

    cdef _choose(self):
        self.batched = self.q.rx.rc.segs > 1
        self.wakes_by_cqe = not self.batched
        self.q.rx.probe = True
        self.burst = uring_batch_rx_burst if self.batched else uring_mshot_rx_burst

    cdef _rx_resized(self):
        _UringRxQueue._rx_resized(self)
        self._choose()          # frames larger than one mbuf switch the queue to batched reads

    def __dealloc__(self):
        if self.q.rx.ms.br != NULL:
            munmap(self.q.rx.ms.br, self.q.rx.ms.br_entries * 16)

    def start(self):
        """Fill the buffer ring with one mbuf per descriptor and arm the multishot read."""
        cdef io_uring_buf_reg reg
        cdef uint32_t slot
        cdef int rc = self._ring_up()
        if rc < 0:
            return rc
        if self.batched:
            return self._batch_start()
        memset(&reg, 0, sizeof(reg))
        reg.ring_addr = <uint64_t><uintptr_t>self.q.rx.ms.br
        reg.ring_entries = self.q.rx.ms.br_entries
        reg.bgid = 0
        io_uring_buf_ring_init(self.q.rx.ms.br)
        rc = io_uring_register_buf_ring(&self.q.r.ring, &reg, 0)
        if rc < 0:
            raise OSError(-rc, "registering the buffer ring failed: " + os.strerror(-rc))
        self.q.rx.ms.registered = True
        for slot in range(self.q.nb_desc):
            if self._rx_buffer(&self.q.slots[slot]) < 0:      # one mbuf: segments is 1 here
                self._release_buffers()
                return -ENOMEM
            mshot_add(&self.q, slot)
        mshot_publish(&self.q)
        mshot_arm(&self.q)
        uring_submit(&self.q.r)
        return 0

    cdef _release_buffers(self):
        self._rx_release(self.q.slots, self.q.nb_desc)
        if self.q.rx.ms.registered:
            io_uring_unregister_buf_ring(&self.q.r.ring, 0)
            self.q.rx.ms.registered = False
        self.q.rx.ms.added = 0

    def stop(self):
        """Cancel the multishot read, then return every buffer to the pool."""
        left = uring_q_drain(&self.q, mshot_ignore)
        self.q.rx.ms.armed = False
        if left:
            raise RuntimeError("the multishot read of queue %d did not end after cancel" % self.queue_id)
        self._release_buffers()
