# mbuf dynamic fields and private areas (DPDK's rte_mbuf_dyn.h, rte_mbuf_to_priv).
#
# DPDK keeps dynamic fields in spare bytes of struct rte_mbuf. pyrtap's mbuf is one
# 64-byte cache line with no spare bytes, so each pool gets a side area of DYN_AREA
# bytes per mbuf, allocated the first time a dynamic field of one of its mbufs is used.
# The area is this process's (a secondary process sees its own), and is dropped with
# the pool. Offsets and flag bits are registered once per process, as in DPDK.
#
# Uses: Mempool, g_pool_objs (mempool.pxi); unwrap (mbuf.pxi); MbufBurst (burst.pxi).

cdef enum:
    DYN_AREA = 64              # bytes of dynamic fields per mbuf (DPDK has 36 + spare)

cdef uint8_t *g_dyn[PYRTAP_MAX_POOLS]
_dyn_arrays = [None] * PYRTAP_MAX_POOLS    # pool id -> numpy (n, DYN_AREA) uint8, keeps g_dyn alive


cdef object _dyn_area(uint16_t pool_id):
    """The pool's dynamic-field area, made on first use."""
    cdef pyrtap_pool *p = pyrtap_pools[pool_id]
    a = _dyn_arrays[pool_id]
    if a is None:
        if p == NULL:
            raise ValueError("the mbuf's pool was freed")
        a = np.zeros((p.n, DYN_AREA), dtype=np.uint8)
        _dyn_arrays[pool_id] = a
        g_dyn[pool_id] = <uint8_t *>cnp.PyArray_DATA(a)
    return a


cdef void _dyn_drop(uint16_t pool_id) noexcept:
    """A pool was released: its id may name another pool next."""
    g_dyn[pool_id] = NULL
    _dyn_arrays[pool_id] = None


def RTE_MBUF_DYNFIELD(m, int offset, dtype):
    """The dynamic field at ``offset`` of ``m`` as a writable one-element numpy array of
    ``dtype`` (DPDK's ``RTE_MBUF_DYNFIELD(m, offset, type *)``): ``f[0] = v`` is C's
    ``*RTE_MBUF_DYNFIELD(m, off, T *) = v``."""
    cdef pyrtap_mbuf *p = unwrap(m)
    dt = np.dtype(dtype)
    _dyn_check(offset, dt.itemsize)
    return _dyn_area(p.pool_id)[p.idx, offset:offset + dt.itemsize].view(dt)


cdef int _dyn_check(int offset, Py_ssize_t itemsize) except -1:
    if offset < 0 or offset + itemsize > DYN_AREA:
        raise ValueError("dynamic field offset %d (+%d bytes) outside the %d-byte area"
                         % (offset, itemsize, DYN_AREA))
    return 0


cdef inline uint8_t *_dyn_field(pyrtap_mbuf *m, unsigned int i, int offset) except NULL:
    """Where the dynamic field at ``offset`` of ``pkts[i]`` (``m``) is: an allocated mbuf
    is required; its pool's area is made on first use."""
    if m == NULL or m.state != PYRTAP_MBUF_ALLOCATED:
        raise ValueError("pkts[%d] is not an allocated mbuf" % i)
    if g_dyn[m.pool_id] == NULL:
        _dyn_area(m.pool_id)
    return g_dyn[m.pool_id] + <size_t>m.idx * DYN_AREA + offset


def dynfield_get(pkts, unsigned int nb_pkts, int offset, dtype):
    """The dynamic field at ``offset`` of ``pkts[0:nb_pkts]`` as a new numpy array of
    ``dtype`` (one C loop over an MbufBurst; a pyrtap addition, DPDK reads fields one
    packet at a time)."""
    cdef MbufBurst b = pkts if type(pkts) is MbufBurst else None
    cdef unsigned int i
    cdef Py_ssize_t size
    dt = np.dtype(dtype)
    size = dt.itemsize
    _dyn_check(offset, size)
    if b is None:
        return np.array([RTE_MBUF_DYNFIELD(pkts[i], offset, dt)[0] for i in range(nb_pkts)], dtype=dt)
    if nb_pkts > b.size:
        raise ValueError("nb_pkts %d exceeds the MbufBurst size %d" % (nb_pkts, b.size))
    out = np.empty(nb_pkts, dtype=dt)
    cdef uint8_t *dst = <uint8_t *>cnp.PyArray_DATA(out)
    for i in range(nb_pkts):
        memcpy(dst + i * size, _dyn_field(b.ptrs[i], i, offset), size)
    return out


def dynfield_set(pkts, unsigned int nb_pkts, int offset, values):
    """Write ``values`` (one per packet, or one for all) into the dynamic field at
    ``offset`` of ``pkts[0:nb_pkts]`` (a pyrtap addition: one C loop over an MbufBurst)."""
    cdef MbufBurst b = pkts if type(pkts) is MbufBurst else None
    cdef unsigned int i
    cdef Py_ssize_t size, step
    arr = np.ascontiguousarray(values)
    size = arr.dtype.itemsize
    _dyn_check(offset, size)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, nb_pkts)):
        raise ValueError("values must be one per packet (%d) or a single value" % nb_pkts)
    step = size if arr.ndim == 1 and arr.shape[0] == nb_pkts and nb_pkts > 1 else 0
    if b is None:
        for i in range(nb_pkts):
            RTE_MBUF_DYNFIELD(pkts[i], offset, arr.dtype)[0] = arr.reshape(-1)[i if step else 0]
        return 0
    if nb_pkts > b.size:
        raise ValueError("nb_pkts %d exceeds the MbufBurst size %d" % (nb_pkts, b.size))
    cdef const uint8_t *src = <const uint8_t *>cnp.PyArray_DATA(arr)
    for i in range(nb_pkts):
        memcpy(_dyn_field(b.ptrs[i], i, offset), src + i * step, size)
    return 0


def rte_mbuf_to_priv(m):
    """The mbuf's private area (``priv_size`` bytes, set at pool creation) as a writable
    numpy uint8 view (``rte_mbuf_to_priv``; empty when the pool has none)."""
    cdef pyrtap_mbuf *p = unwrap(m)
    cdef Mempool owner = <Mempool>g_pool_objs[p.pool_id]
    cdef Py_ssize_t start = <Py_ssize_t>p.idx * owner.pool.stride
    return owner.data[start:start + owner.pool.priv_size]


DYNFIELD_AREA_SIZE = DYN_AREA
