# MbufBurst: DPDK's ``struct rte_mbuf *pkts[N]`` for Python.
#
# The handles are the metadata addresses, kept in a numpy uint64 array; Cython burst
# loops read and write that array directly, so a burst costs no Python object per packet.
#
# Uses: Mempool, pool_get_bulk, free_chains, g_pool_objs (mempool.pxi); new_handle,
# wrap, unwrap, _pool_arg (mbuf.pxi).

cdef class _HandleStore:
    """The memory behind an MbufBurst's handles, exported read-only: Python can look at
    the handles (``MbufBurst.handles``) but never write an arbitrary address there."""
    cdef uint64_t *buf
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t n):
        self.buf = <uint64_t *>PyMem_Calloc(n if n > 0 else 1, sizeof(uint64_t))
        if self.buf == NULL:
            raise MemoryError()
        self.n = n

    def __dealloc__(self):
        PyMem_Free(self.buf)

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        PyBuffer_FillInfo(buffer, self, self.buf, self.n * sizeof(uint64_t), 1, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        pass


cdef pyrtap_pool *pool_of_handle(uint64_t h) noexcept:
    """The live pool whose metadata array holds the mbuf at address ``h``, or NULL."""
    cdef int i
    cdef pyrtap_pool *p
    for i in range(PYRTAP_MAX_POOLS):
        p = pyrtap_pools[i]
        if (p != NULL and h >= <uint64_t><uintptr_t>p.meta
                and h < <uint64_t><uintptr_t>(p.meta + p.n)
                and (h - <uint64_t><uintptr_t>p.meta) % sizeof(pyrtap_mbuf) == 0):
            return p
    return NULL


cdef class MbufBurst:
    """Fixed-capacity array of mbuf handles, the fast path of rx/tx bursts and bulk calls.

    ``burst[i]`` is an ``Mbuf`` (or None), ``burst[a:b]`` a view sharing the same handles,
    ``len(burst)`` the capacity. ``count`` is set by the last call that filled it
    (``rte_eth_rx_burst``, ``rte_pktmbuf_alloc_bulk``). ``handles`` is a read-only numpy
    view of the handles; ``MbufBurst(0, handles)`` copies (and checks) a uint64 array of
    ``Mbuf.handle`` values. A burst keeps the pools of the mbufs it held mapped, so a
    handle left in it after ``rte_mempool_free`` is refused, never dereferenced in
    unmapped memory.
    """
    cdef pyrtap_mbuf **ptrs
    cdef readonly Py_ssize_t size
    cdef readonly object handles
    cdef Py_ssize_t _count
    cdef object _store
    cdef list _pins             # Mempools whose mappings the handles may point into (shared by slices)
    cdef pyrtap_pool *_pin_last

    def __cinit__(self, *args, **kwargs):
        self._pins = []

    def __init__(self, Py_ssize_t size, handles=None):
        cdef cnp.ndarray arr
        cdef Py_ssize_t i
        cdef uint64_t h
        cdef pyrtap_pool *p
        if self._store is not None:
            raise RuntimeError("MbufBurst is already initialised")
        if handles is None:
            if size <= 0:
                raise ValueError("MbufBurst size must be positive, got %d" % size)
            self._set_store(_HandleStore(size), 0, size)
            return
        if not (isinstance(handles, np.ndarray) and handles.dtype == np.uint64
                and handles.ndim == 1 and handles.flags.c_contiguous):
            raise TypeError("handles must be a contiguous 1-d uint64 numpy array")
        arr = handles
        store = _HandleStore(arr.shape[0])
        for i in range(arr.shape[0]):
            h = (<uint64_t *>cnp.PyArray_DATA(arr))[i]
            if h == 0:
                continue
            p = pool_of_handle(h)
            if p == NULL:
                raise ValueError("handles[%d] = 0x%x is not an mbuf of a live pool" % (i, h))
            self._pin(p)
            (<_HandleStore>store).buf[i] = h
        self._set_store(store, 0, arr.shape[0])

    cdef _set_store(self, _HandleStore store, Py_ssize_t start, Py_ssize_t n):
        self._store = store
        self.size = n
        self.ptrs = (<pyrtap_mbuf **>store.buf) + start
        self.handles = np.frombuffer(store, dtype=np.uint64, count=n, offset=start * sizeof(uint64_t))

    cdef int _pin(self, pyrtap_pool *p) except -1:
        """Keep pool ``p``'s mapping alive while this burst (or a slice of it) exists."""
        cdef object mp
        if p == self._pin_last or p == NULL:
            return 0
        mp = g_pool_objs[p.pool_id]
        if mp is not None and &(<Mempool>mp).pool == p:
            for other in self._pins:
                if other is mp:
                    break
            else:
                self._pins.append(mp)
        self._pin_last = p
        return 0

    cdef object _wrap(self, pyrtap_mbuf *m):
        """The Mbuf for a handle of this burst, its pool freed or not (its mapping is pinned)."""
        cdef pyrtap_pool *p
        if m == NULL:
            return None
        p = pyrtap_pools[m.pool_id]
        if p != NULL and m >= p.meta and m < p.meta + p.n:
            return wrap(m)
        for mp in self._pins:
            if m >= (<Mempool>mp).pool.meta and m < (<Mempool>mp).pool.meta + (<Mempool>mp).pool.n:
                return new_handle(m, <Mempool>mp)
        raise ValueError("stale mbuf handle")       # unreachable: every handle's pool is pinned

    cdef MbufBurst _slice(self, Py_ssize_t start, Py_ssize_t stop):
        cdef MbufBurst s = MbufBurst.__new__(MbufBurst)
        cdef _HandleStore store = <_HandleStore>self._store
        s._pins = self._pins
        s._set_store(store, (self.ptrs - <pyrtap_mbuf **>store.buf) + start, stop - start)
        return s

    @property
    def count(self):
        return self._count

    @count.setter
    def count(self, Py_ssize_t v):
        if v < 0 or v > self.size:
            raise ValueError("count %d is outside 0..%d" % (v, self.size))
        self._count = v

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        cdef Py_ssize_t i
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self.size)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._slice(start, stop) if stop > start else []
        i = idx
        if i < 0:
            i += self.size
        if i < 0 or i >= self.size:
            raise IndexError("MbufBurst index %d out of range (size %d)" % (idx, self.size))
        return self._wrap(self.ptrs[i])

    def __setitem__(self, Py_ssize_t i, value):
        cdef pyrtap_mbuf *m
        if i < 0:
            i += self.size
        if i < 0 or i >= self.size:
            raise IndexError("MbufBurst index out of range")
        if value is None:
            self.ptrs[i] = NULL
            return
        m = unwrap(value)
        self._pin(pyrtap_pools[m.pool_id])
        self.ptrs[i] = m

    def __iter__(self):
        cdef Py_ssize_t i
        for i in range(self.size):
            yield self._wrap(self.ptrs[i])

    def __repr__(self):
        return "<MbufBurst size=%d count=%d>" % (self.size, self._count)

    def clear(self):
        """Forget every handle (does not free anything)."""
        memset(self.ptrs, 0, self.size * sizeof(pyrtap_mbuf *))
        self._count = 0


cdef pyrtap_mbuf **_tmp_ptrs(Py_ssize_t n, pyrtap_mbuf **stack_buf, Py_ssize_t stack_n) except NULL:
    if n <= stack_n:
        return stack_buf
    cdef pyrtap_mbuf **p = <pyrtap_mbuf **>PyMem_Malloc(n * sizeof(pyrtap_mbuf *))
    if p == NULL:
        raise MemoryError()
    return p


def rte_pktmbuf_alloc_bulk(mp, mbufs, unsigned int count):
    """Allocate ``count`` mbufs into ``mbufs[0:count]``, all or nothing (``rte_pktmbuf_alloc_bulk``).

    ``mbufs`` is an MbufBurst (fast path) or a pre-sized list. Returns 0 or -ENOENT
    (-EINVAL when ``mbufs`` is too small).
    """
    cdef Mempool pool = _pool_arg(mp)
    cdef MbufBurst burst
    cdef pyrtap_mbuf *stack_buf[64]
    cdef pyrtap_mbuf **tmp
    cdef unsigned int i
    cdef int rc
    if type(mbufs) is MbufBurst:
        burst = <MbufBurst>mbufs
        if count > burst.size:
            return -EINVAL
        burst._pin(&pool.pool)
        rc = pool_get_bulk(&pool.pool, burst.ptrs, count)
        if rc == 0:
            burst._count = count
        return rc
    if type(mbufs) is not list:
        # Checked before taking anything: storing into a tuple would fail after the
        # mbufs left the pool.
        raise TypeError("mbufs must be an MbufBurst or a list, not %s" % type(mbufs).__name__)
    if len(mbufs) < count:
        return -EINVAL
    tmp = _tmp_ptrs(count, stack_buf, 64)
    try:
        rc = pool_get_bulk(&pool.pool, tmp, count)
        if rc == 0:
            for i in range(count):
                mbufs[i] = wrap(tmp[i])
        return rc
    finally:
        if tmp != stack_buf:
            PyMem_Free(tmp)


def rte_pktmbuf_free_bulk(mbufs, unsigned int count):
    """Free the packets ``mbufs[0:count]``, whole chains, None entries skipped (``rte_pktmbuf_free_bulk``).

    Raises RuntimeError on a double free (the other packets are still freed).
    """
    cdef MbufBurst burst
    cdef pyrtap_mbuf *stack_buf[64]
    cdef pyrtap_mbuf **tmp
    cdef unsigned int i, errors
    if type(mbufs) is MbufBurst:
        burst = <MbufBurst>mbufs
        if count > burst.size:
            raise ValueError("count %d exceeds the MbufBurst size %d" % (count, burst.size))
        errors = free_chains(burst.ptrs, count)
    else:
        if len(mbufs) < count:
            raise ValueError("count %d exceeds the list length %d" % (count, len(mbufs)))
        tmp = _tmp_ptrs(count, stack_buf, 64)
        try:
            for i in range(count):
                tmp[i] = NULL if mbufs[i] is None else unwrap(mbufs[i])
            errors = free_chains(tmp, count)
        finally:
            if tmp != stack_buf:
                PyMem_Free(tmp)
    if errors:
        raise RuntimeError("double free: %d mbuf(s) were already free" % errors)
