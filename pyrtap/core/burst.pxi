# MbufBurst: DPDK's ``struct rte_mbuf *pkts[N]`` for Python.
#
# The handles are the metadata addresses, kept in a numpy uint64 array; Cython burst
# loops read and write that array directly, so a burst costs no Python object per packet.

cdef class MbufBurst:
    """Fixed-capacity array of mbuf handles, the fast path of rx/tx bursts and bulk calls.

    ``burst[i]`` is an ``Mbuf`` (or None), ``burst[a:b]`` a view sharing the same handles,
    ``len(burst)`` the capacity. ``count`` is set by the last call that filled it
    (``rte_eth_rx_burst``, ``rte_pktmbuf_alloc_bulk``).
    """
    cdef pyrtap_mbuf **ptrs
    cdef readonly Py_ssize_t size
    cdef readonly object handles
    cdef public Py_ssize_t count

    def __cinit__(self, Py_ssize_t size, handles=None):
        if handles is None:
            if size <= 0:
                raise ValueError("MbufBurst size must be positive, got %d" % size)
            handles = np.zeros(size, dtype=np.uint64)
        elif not (isinstance(handles, np.ndarray) and handles.dtype == np.uint64
                  and handles.ndim == 1 and handles.flags.c_contiguous):
            raise TypeError("handles must be a contiguous 1-d uint64 numpy array")
        self.handles = handles
        self.size = handles.shape[0]
        self.ptrs = <pyrtap_mbuf **>cnp.PyArray_DATA(handles)
        self.count = 0

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        cdef Py_ssize_t i
        if isinstance(idx, slice):
            start, stop, step = idx.indices(self.size)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return MbufBurst(0, self.handles[start:max(start, stop)]) if stop > start else []
        i = idx
        if i < 0:
            i += self.size
        if i < 0 or i >= self.size:
            raise IndexError("MbufBurst index %d out of range (size %d)" % (idx, self.size))
        return wrap(self.ptrs[i])

    def __setitem__(self, Py_ssize_t i, value):
        if i < 0:
            i += self.size
        if i < 0 or i >= self.size:
            raise IndexError("MbufBurst index out of range")
        self.ptrs[i] = NULL if value is None else unwrap(value)

    def __iter__(self):
        cdef Py_ssize_t i
        for i in range(self.size):
            yield wrap(self.ptrs[i])

    def __repr__(self):
        return "<MbufBurst size=%d count=%d>" % (self.size, self.count)

    def clear(self):
        """Forget every handle (does not free anything)."""
        self.handles[:] = 0
        self.count = 0


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
        rc = pool_get_bulk(&pool.pool, burst.ptrs, count)
        if rc == 0:
            burst.count = count
        return rc
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
