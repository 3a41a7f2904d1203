# Pool memory and the O(1) free stack.
#
# A pool is one shared mapping (a memfd, so another process can map it):
#   [pyrtap_pool_hdr | pyrtap_mbuf[n] metadata | uint32 free stack[n] | data area]
# The free stack is guarded by a spinlock inside the mapping, which makes
# alloc/free safe between processes sharing the pool (DPDK's "stack" mempool
# driver works the same way). Bulk calls take the lock once per burst.
#
# Holds: Mempool and the mapping objects behind its numpy views, pool creation,
# pool_get_bulk / pool_put_bulk, and struct free_batch, through which every free goes
# (gathered per pool, one lock round trip).
#
# Uses: RTE_PKTMBUF_HEADROOM, RTE_MBUF_PORT_INVALID (mbuf.pxi) to reset an mbuf taken
# from the pool; _dyn_drop (dynfield.pxi) when a pool is released.

cdef object g_pool_objs = [None] * PYRTAP_MAX_POOLS   # pool id -> Mempool

# Mbufs in all live pools: no chain can be longer, so every chain walk stops there
# (a cycle made behind the API's back must not hang the process with the GIL held).
cdef uint64_t g_mbufs_total = 0

# Started queues receiving into each pool (by pool id), counted by fp_ops_set/clear:
# rte_mempool_free refuses such a pool with -EBUSY.
cdef uint32_t g_pool_users[PYRTAP_MAX_POOLS]


def rte_errno():
    """Positive errno of the last failed call that returns an object (DPDK's ``rte_errno``)."""
    return pyrtap_errno_value


def _set_errno(int value):
    global pyrtap_errno_value
    pyrtap_errno_value = value


cdef class _Mapping:
    """A MAP_SHARED mapping of a file descriptor, exported through the buffer protocol.

    It is unmapped only when the last numpy view (or mbuf) referring to it is gone, so a
    view can never point at unmapped memory.
    """
    cdef uint8_t *addr
    cdef readonly size_t size

    def __cinit__(self, int fd, size_t size):
        cdef void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)
        cdef int err = errno
        if p == MAP_FAILED:
            raise OSError(err, "mmap of pool memory failed: " + os.strerror(err))
        self.addr = <uint8_t *>p
        self.size = size

    def __dealloc__(self):
        if self.addr != NULL:
            munmap(self.addr, self.size)

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        PyBuffer_FillInfo(buffer, self, self.addr, self.size, 0, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        pass


cdef class _ReadOnlyMapping:
    """The same memory as a _Mapping, exported read-only: numpy views made from it
    (``Mempool.meta``) cannot be made writable again, so Python cannot write a
    metadata field behind the checks (a data_off past the buffer, a raw next link)."""
    cdef readonly _Mapping mapping

    def __cinit__(self, _Mapping mapping):
        self.mapping = mapping

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        PyBuffer_FillInfo(buffer, self, self.mapping.addr, self.mapping.size, 1, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        pass


cdef class Mempool:
    """A packet-mbuf pool (DPDK's ``struct rte_mempool``). Create with ``rte_pktmbuf_pool_create``."""
    cdef pyrtap_pool pool
    cdef readonly _Mapping mapping
    cdef readonly str name
    cdef readonly int fd            # memfd backing the pool (shared with secondaries)
    cdef readonly object data       # numpy uint8 view of the whole data area
    cdef public object meta         # numpy structured view of the metadata (set by mempool.py)
    cdef readonly bint freed

    @property
    def pool_id(self):
        return self.pool.pool_id

    @property
    def size(self):
        """Number of mbufs in the pool (``mp->size``)."""
        return self.pool.n

    @property
    def data_room_size(self):
        return self.pool.data_room

    @property
    def private_data_size(self):
        return self.pool.priv_size

    @property
    def cache_size(self):
        return self.pool.hdr.cache_size

    def avail_count(self):
        if self.freed:
            raise ValueError("mempool %r was freed" % self.name)
        return self.pool.hdr.top

    def in_use_count(self):
        if self.freed:
            raise ValueError("mempool %r was freed" % self.name)
        return self.pool.n - self.pool.hdr.top

    @property
    def users(self):
        """Started Rx queues receiving into this pool (rte_mempool_free refuses it meanwhile)."""
        return 0 if self.freed else g_pool_users[self.pool.pool_id]

    def stats(self):
        """Per-pool counters (DPDK's ``rte_mempool_dump`` figures) as a dict."""
        cdef pyrtap_pool_hdr *h = self.pool.hdr
        return {
            "size": h.n, "avail": h.top, "in_use": h.n - h.top,
            "get_success_bulk": h.get_success_bulk, "get_success_objs": h.get_success_objs,
            "get_fail_bulk": h.get_fail_bulk, "get_fail_objs": h.get_fail_objs,
            "put_bulk": h.put_bulk, "put_objs": h.put_objs,
        }

    def __repr__(self):
        return "<Mempool %r id=%d size=%d avail=%d>" % (
            self.name, self.pool.pool_id, self.pool.n, self.pool.hdr.top if not self.freed else -1)

    def _clones_elsewhere(self):
        """Mbufs of other live pools that are clones of this pool's mbufs (their data is
        here): freeing this pool would leave them pointing at released buffers."""
        cdef int i
        cdef uint32_t k, n = 0
        cdef pyrtap_pool *p
        cdef pyrtap_mbuf *m
        cdef uint32_t me = self.pool.pool_id + 1
        for i in range(PYRTAP_MAX_POOLS):
            p = pyrtap_pools[i]
            if p == NULL or p == &self.pool:
                continue
            for k in range(p.n):
                m = &p.meta[k]
                if (m.attached and m.state != PYRTAP_MBUF_FREE and ((m.attached >> 32) & 0xFFFF) == me
                        and (m.attached >> 48) == self.pool.gen):
                    n += 1
        return n

    def _release(self):
        """Forget the pool: its id becomes free and its memfd is closed.

        The mapping itself lives on while any view or Mbuf refers to it.
        """
        global g_mbufs_total
        cdef uint32_t i
        if self.freed:
            return
        self.freed = True
        # Mbufs still referred to (an Mbuf, an MbufBurst keep the mapping) are dead now:
        # every free, Tx and mutating call checks the state byte and refuses them.
        for i in range(self.pool.n):
            self.pool.meta[i].state = PYRTAP_MBUF_DEAD
        g_mbufs_total -= self.pool.n
        pyrtap_pools[self.pool.pool_id] = NULL
        g_pool_objs[self.pool.pool_id] = None
        _dyn_drop(self.pool.pool_id)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


cdef int _free_pool_id() except -2:
    cdef int i
    for i in range(PYRTAP_MAX_POOLS):
        if pyrtap_pools[i] == NULL and g_pool_objs[i] is None:
            return i
    return -1


def _pool_layout(uint32_t n, uint32_t priv_size, uint32_t data_room):
    """Offsets of the pool's parts in its mapping: (meta_off, stack_off, data_off, stride, total)."""
    cdef uint64_t meta_off = (sizeof(pyrtap_pool_hdr) + 63) & ~63ULL
    cdef uint64_t stack_off = meta_off + <uint64_t>n * sizeof(pyrtap_mbuf)
    cdef uint64_t data_off = (stack_off + <uint64_t>n * 4 + 4095) & ~4095ULL
    cdef uint64_t stride = (priv_size + data_room + 63) & ~63ULL
    return meta_off, stack_off, data_off, stride, data_off + n * stride


cdef Mempool _attach_pool(int fd, bint init, str name, uint32_t n, uint32_t cache_size,
                          uint32_t priv_size, uint32_t data_room, int pool_id):
    """Map a pool's memfd and register it; with ``init`` lay out a new pool first."""
    global g_mbufs_total, pyrtap_pool_gen_next
    cdef uint64_t meta_off, stack_off, data_off, stride, total
    meta_off, stack_off, data_off, stride, total = _pool_layout(n, priv_size, data_room)
    cdef Mempool mp = Mempool.__new__(Mempool)
    mp.mapping = _Mapping(fd, total)
    mp.fd = fd
    mp.name = name
    cdef uint8_t *base = mp.mapping.addr
    cdef pyrtap_pool_hdr *h = <pyrtap_pool_hdr *>base
    cdef pyrtap_mbuf *m
    cdef uint32_t i
    cdef bytes bname = name.encode()[:63]
    if init:
        memset(h, 0, sizeof(pyrtap_pool_hdr))
        memcpy(h.name, <char *>bname, len(bname))
        h.n = n
        h.data_room = data_room
        h.priv_size = priv_size
        h.stride = stride
        h.meta_off = meta_off
        h.stack_off = stack_off
        h.data_off = data_off
        h.total_size = total
        h.pool_id = pool_id
        h.cache_size = cache_size
        h.gen = pyrtap_pool_gen_next
        pyrtap_pool_gen_next = <uint16_t>(pyrtap_pool_gen_next + 1) or 1
    elif h.magic != PYRTAP_POOL_MAGIC:
        raise ValueError("memory of pool %r is not a pyrtap pool" % name)
    mp.pool.hdr = h
    mp.pool.meta = <pyrtap_mbuf *>(base + meta_off)
    mp.pool.stack = <uint32_t *>(base + stack_off)
    mp.pool.data = base + data_off
    mp.pool.n = n
    mp.pool.stride = stride
    mp.pool.priv_size = priv_size
    mp.pool.data_room = data_room
    mp.pool.pool_id = pool_id
    mp.pool.gen = <uint16_t>h.gen
    if init:
        for i in range(n):
            m = &mp.pool.meta[i]
            memset(m, 0, sizeof(pyrtap_mbuf))
            m.idx = i
            m.pool_id = pool_id
            m.buf_len = data_room
            m.refcnt = 1
            m.state = PYRTAP_MBUF_FREE
            # Lowest index on top: allocation walks the data area in order.
            mp.pool.stack[i] = n - 1 - i
        h.top = n
        h.magic = PYRTAP_POOL_MAGIC
    mp.data = np.frombuffer(mp.mapping, dtype=np.uint8, count=n * stride, offset=data_off)
    pyrtap_pools[pool_id] = &mp.pool
    g_pool_objs[pool_id] = mp
    g_pool_users[pool_id] = 0
    g_mbufs_total += n
    return mp


def _create_pool(int fd, str name, uint32_t n, uint32_t cache_size, uint32_t priv_size,
                 uint32_t data_room):
    """Lay out and register a new pool in the memfd ``fd`` (already sized by the caller)."""
    pool_id = _free_pool_id()
    if pool_id < 0:
        raise RuntimeError("too many pools: at most %d per process" % PYRTAP_MAX_POOLS)
    return _attach_pool(fd, True, name, n, cache_size, priv_size, data_room, pool_id)


# ---- allocation and free: the hot part -----------------------------------------------

cdef inline void mbuf_reset(pyrtap_mbuf *m) noexcept nogil:
    """DPDK's rte_pktmbuf_reset, for a buffer coming out of the pool."""
    m.ol_flags = 0
    m.next = 0
    m.attached = 0
    m.pkt_len = 0
    m.packet_type = 0
    m.data_off = RTE_PKTMBUF_HEADROOM if m.buf_len > RTE_PKTMBUF_HEADROOM else m.buf_len
    m.data_len = 0
    m.nb_segs = 1
    m.refcnt = 1
    m.port = RTE_MBUF_PORT_INVALID
    m.tso_segsz = 0
    m.l2_len = 0
    m.l3_len = 0
    m.l4_len = 0
    m.outer_l2_len = 0
    m.outer_l3_len = 0
    m.state = PYRTAP_MBUF_ALLOCATED


cdef int pool_get_bulk(pyrtap_pool *p, pyrtap_mbuf **out, uint32_t n) noexcept nogil:
    """Take ``n`` mbufs, all or nothing (rte_pktmbuf_alloc_bulk). 0 or -ENOENT."""
    cdef pyrtap_pool_hdr *h = p.hdr
    cdef uint32_t i, top
    pyrtap_spin_lock(&h.lock)
    top = h.top
    if top < n:
        h.get_fail_bulk += 1
        h.get_fail_objs += n
        pyrtap_spin_unlock(&h.lock)
        return -ENOENT
    for i in range(n):
        out[i] = &p.meta[p.stack[top - 1 - i]]
    h.top = top - n
    h.get_success_bulk += 1
    h.get_success_objs += n
    pyrtap_spin_unlock(&h.lock)
    for i in range(n):
        out[i].buf_len = p.data_room     # a former clone borrowed another buffer's length
        mbuf_reset(out[i])
    return 0


cdef inline pyrtap_mbuf *pool_get(pyrtap_pool *p) noexcept nogil:
    cdef pyrtap_mbuf *m
    if pool_get_bulk(p, &m, 1) < 0:
        return NULL
    return m


cdef void pool_put_bulk(pyrtap_pool *p, pyrtap_mbuf **objs, uint32_t n) noexcept nogil:
    """Return ``n`` mbufs of pool ``p`` to its free stack (state already checked)."""
    cdef pyrtap_pool_hdr *h = p.hdr
    cdef uint32_t i, top
    for i in range(n):
        objs[i].state = PYRTAP_MBUF_FREE
    pyrtap_spin_lock(&h.lock)
    top = h.top
    for i in range(n):
        p.stack[top + i] = objs[i].idx
    h.top = top + n
    h.put_bulk += 1
    h.put_objs += n
    pyrtap_spin_unlock(&h.lock)


# Frees are gathered per pool and pushed with one lock round trip.
cdef enum:
    FREE_BATCH = 64

ctypedef struct free_batch:
    pyrtap_pool *pool
    uint32_t n
    uint32_t errors            # double frees seen (mbuf already in its pool)
    bint owned                 # a driver's free: mbufs owned by its queue (QUEUED) too
    pyrtap_mbuf *objs[FREE_BATCH]


cdef inline void batch_init(free_batch *b, bint owned=True) noexcept nogil:
    """A batch of frees; ``owned`` (drivers) also accepts mbufs a queue owns. The
    application's frees pass False: an mbuf posted for Rx or in flight is not theirs."""
    b.pool = NULL
    b.n = 0
    b.errors = 0
    b.owned = owned


cdef inline void batch_flush(free_batch *b) noexcept nogil:
    if b.n:
        pool_put_bulk(b.pool, b.objs, b.n)
        b.n = 0


cdef inline void batch_add(free_batch *b, pyrtap_mbuf *m) noexcept nogil:
    cdef pyrtap_pool *p = pyrtap_pools[m.pool_id]
    if p == NULL or m < p.meta or m >= p.meta + p.n:
        b.errors += 1       # its pool was freed (and maybe the id reused): nowhere to return it
        return
    if p != b.pool or b.n == FREE_BATCH:
        batch_flush(b)
        b.pool = p
    b.objs[b.n] = m
    b.n += 1


cdef void batch_free_seg(free_batch *b, pyrtap_mbuf *m) noexcept nogil:
    """DPDK's rte_pktmbuf_prefree_seg + put: drop one reference to segment ``m``.

    The segment goes back to its pool when its last reference is gone; an indirect
    segment (a clone) also drops its reference on the direct mbuf holding the data.
    """
    cdef pyrtap_mbuf *d
    if m.state != PYRTAP_MBUF_ALLOCATED and not (b.owned and m.state == PYRTAP_MBUF_QUEUED):
        b.errors += 1
        return
    if pyrtap_refcnt_read(&m.refcnt) != 1 and pyrtap_refcnt_add(&m.refcnt, -1) != 0:
        return
    m.refcnt = 1
    m.next = 0
    m.nb_segs = 1
    m.state = PYRTAP_MBUF_FREE      # now, not at flush: the same mbuf twice in a batch is caught
    if m.attached:
        d = pyrtap_mbuf_deref(m.attached)
        m.attached = 0
        m.ol_flags = 0
        if d != NULL:
            batch_free_seg(b, d)
    batch_add(b, m)


cdef void batch_free_chain(free_batch *b, pyrtap_mbuf *m) noexcept nogil:
    """rte_pktmbuf_free: every segment of the chain starting at ``m``."""
    cdef pyrtap_mbuf *nxt
    cdef uint64_t left = g_mbufs_total + 1     # the head, then at most every live mbuf
    while m != NULL and left:
        nxt = pyrtap_mbuf_next(m)
        batch_free_seg(b, m)
        m = nxt
        left -= 1


cdef void discard_chain(pyrtap_mbuf *m) noexcept nogil:
    """Give back a chain pyrtap allocated and never handed out (a clone or a copy that
    ran out of mbufs half-way)."""
    cdef free_batch b
    batch_init(&b)
    batch_free_chain(&b, m)
    batch_flush(&b)


cdef uint32_t free_chains(pyrtap_mbuf **pkts, uint32_t n) noexcept nogil:
    """Free ``n`` packets (whole chains) for the application; returns the number of
    double frees seen (free, dead, or owned by a queue)."""
    cdef free_batch b
    cdef uint32_t i
    batch_init(&b, False)
    for i in range(n):
        if pkts[i] != NULL:
            batch_free_chain(&b, pkts[i])
    batch_flush(&b)
    return b.errors
