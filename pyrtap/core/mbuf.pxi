# Mbuf objects and the rte_pktmbuf_* calls (DPDK's rte_mbuf.h semantics).
#
# An Mbuf object is only a handle: the state lives in the pool's shared metadata
# (struct pyrtap_mbuf), so burst loops never need the Python object.
#
# Holds: Mbuf; the handle helpers (new_handle, wrap, unwrap, _live); chain walks,
# each bounded by the number of live mbufs so a cycle cannot hang the process; the
# rte_pktmbuf_* and rte_mbuf_refcnt_* calls.
#
# Uses: Mempool, pool_get, the free batches, g_mbufs_total, g_pool_objs (mempool.pxi).

cdef enum:
    RTE_PKTMBUF_HEADROOM = 128
    RTE_MBUF_PORT_INVALID = 0xFFFF
    RTE_MBUF_MAX_NB_SEGS = 0xFFFF


cdef class Mbuf:
    """Handle on one packet buffer (DPDK's ``struct rte_mbuf *``).

    Attributes read and write the buffer's metadata in pool memory; two handles on
    the same buffer compare equal.
    """
    cdef pyrtap_mbuf *m
    cdef Mempool _pool          # keeps the pool's mapping alive while the handle exists

    def __init__(self):
        raise TypeError("Mbuf objects come from rte_pktmbuf_alloc() and friends")

    def __eq__(self, other):
        return isinstance(other, Mbuf) and (<Mbuf>other).m == self.m

    def __hash__(self):
        return hash(<uintptr_t>self.m)

    def __repr__(self):
        return "<Mbuf pool=%r idx=%d data_off=%d data_len=%d pkt_len=%d nb_segs=%d refcnt=%d>" % (
            self._pool.name, self.m.idx, self.m.data_off, self.m.data_len, self.m.pkt_len,
            self.m.nb_segs, self.m.refcnt)

    def __len__(self):
        return self.m.pkt_len

    def __bytes__(self):
        return _read(unwrap(self), 0, self.m.pkt_len)

    @property
    def handle(self):
        """The address of the metadata: the value an MbufBurst stores for this buffer."""
        return <uintptr_t>self.m

    @property
    def index(self):
        """Index of the buffer in its pool."""
        return self.m.idx

    @property
    def data(self):
        """Writable numpy view of this segment's data (``rte_pktmbuf_mtod``)."""
        return _view(unwrap(self), 0, self.m.data_len)

    @property
    def pool(self):
        return self._pool

    @property
    def buf_len(self):
        return self.m.buf_len

    @property
    def refcnt(self):
        return pyrtap_refcnt_read(&self.m.refcnt)

    @property
    def next(self):
        return wrap(pyrtap_mbuf_next(self.m))

    @next.setter
    def next(self, value):
        cdef pyrtap_mbuf *m = _live(self)
        cdef pyrtap_mbuf *t
        if value is None:
            m.next = 0
            return
        t = unwrap(value)
        if chain_has(t, m):
            raise ValueError("linking mbuf %d to mbuf %d would make a cyclic chain" % (m.idx, t.idx))
        m.next = pyrtap_mbuf_ref(t)

    @property
    def data_off(self):
        return self.m.data_off

    @data_off.setter
    def data_off(self, uint16_t v):
        cdef pyrtap_mbuf *m = _live(self)
        if <uint32_t>v + m.data_len > m.buf_len:
            raise ValueError("data_off %d does not fit: data_len %d, buf_len %d"
                             % (v, m.data_len, m.buf_len))
        m.data_off = v

    @property
    def data_len(self):
        return self.m.data_len

    @data_len.setter
    def data_len(self, uint16_t v):
        cdef pyrtap_mbuf *m = _live(self)
        if <uint32_t>m.data_off + v > m.buf_len:
            raise ValueError("data_len %d does not fit: data_off %d, buf_len %d"
                             % (v, m.data_off, m.buf_len))
        m.data_len = v

    @property
    def pkt_len(self):
        return self.m.pkt_len

    @pkt_len.setter
    def pkt_len(self, uint32_t v):
        cdef pyrtap_mbuf *m = _live(self)
        cdef uint64_t total = 0
        if chain_walk(m, &total) == 0:
            raise ValueError("mbuf %d heads a cyclic chain" % m.idx)
        if v > total:
            raise ValueError("pkt_len %d is longer than the chain's data (%d bytes)" % (v, total))
        m.pkt_len = v

    @property
    def nb_segs(self):
        return self.m.nb_segs

    @nb_segs.setter
    def nb_segs(self, uint16_t v):
        _live(self).nb_segs = v

    @property
    def ol_flags(self):
        return self.m.ol_flags

    @ol_flags.setter
    def ol_flags(self, uint64_t v):
        _live(self).ol_flags = v

    @property
    def packet_type(self):
        return self.m.packet_type

    @packet_type.setter
    def packet_type(self, uint32_t v):
        _live(self).packet_type = v

    @property
    def port(self):
        return self.m.port

    @port.setter
    def port(self, uint16_t v):
        _live(self).port = v

    @property
    def l2_len(self):
        return self.m.l2_len

    @l2_len.setter
    def l2_len(self, uint16_t v):
        _live(self).l2_len = v

    @property
    def l3_len(self):
        return self.m.l3_len

    @l3_len.setter
    def l3_len(self, uint16_t v):
        _live(self).l3_len = v

    @property
    def l4_len(self):
        return self.m.l4_len

    @l4_len.setter
    def l4_len(self, uint16_t v):
        _live(self).l4_len = v

    @property
    def outer_l2_len(self):
        return self.m.outer_l2_len

    @outer_l2_len.setter
    def outer_l2_len(self, uint16_t v):
        _live(self).outer_l2_len = v

    @property
    def outer_l3_len(self):
        return self.m.outer_l3_len

    @outer_l3_len.setter
    def outer_l3_len(self, uint16_t v):
        _live(self).outer_l3_len = v

    @property
    def tso_segsz(self):
        return self.m.tso_segsz

    @tso_segsz.setter
    def tso_segsz(self, uint16_t v):
        _live(self).tso_segsz = v


cdef inline Mbuf new_handle(pyrtap_mbuf *m, Mempool pool):
    """A handle on ``m`` (not NULL) keeping ``pool``, the owner of its mapping, alive."""
    cdef Mbuf o = Mbuf.__new__(Mbuf)
    o.m = m
    o._pool = pool
    return o


cdef inline object wrap(pyrtap_mbuf *m):
    """The Mbuf handle for ``m`` (None for NULL)."""
    if m == NULL:
        return None
    return new_handle(m, <Mempool>g_pool_objs[m.pool_id])


STATE_NAMES = ("free", "allocated", "owned by a queue", "of a freed pool")


cdef inline pyrtap_mbuf *_live(Mbuf o) except NULL:
    """The metadata of an mbuf the application owns: allocated, its pool alive."""
    cdef pyrtap_mbuf *m = unwrap(o)
    if m.state != PYRTAP_MBUF_ALLOCATED:
        raise ValueError("mbuf %d of pool %r is %s" % (m.idx, o._pool.name, STATE_NAMES[m.state & 3]))
    return m


cdef inline pyrtap_mbuf *unwrap_live(object o) except NULL:
    if type(o) is not Mbuf:
        raise TypeError("expected an Mbuf, got %s" % type(o).__name__)
    return _live(<Mbuf>o)


cdef uint32_t chain_walk(pyrtap_mbuf *m, uint64_t *data_bytes) noexcept nogil:
    """Segments in the chain from ``m`` (adding their data_len to ``data_bytes``), or 0
    when the walk exceeds every mbuf in existence: a cycle."""
    cdef uint64_t left = g_mbufs_total + 1
    cdef uint32_t n = 0
    while m != NULL:
        if left == 0:
            return 0
        left -= 1
        n += 1
        data_bytes[0] += m.data_len
        m = pyrtap_mbuf_next(m)
    return n


cdef bint chain_has(pyrtap_mbuf *m, pyrtap_mbuf *x) noexcept nogil:
    """Whether ``x`` is a segment of the chain from ``m`` (True too for a cyclic chain)."""
    cdef uint64_t left = g_mbufs_total + 1
    while m != NULL:
        if m == x or left == 0:
            return True
        left -= 1
        m = pyrtap_mbuf_next(m)
    return False


cdef inline pyrtap_mbuf *unwrap(object o) except NULL:
    cdef pyrtap_mbuf *m
    cdef pyrtap_pool *p
    if type(o) is not Mbuf:
        raise TypeError("expected an Mbuf, got %s" % type(o).__name__)
    m = (<Mbuf>o).m
    p = pyrtap_pools[m.pool_id]
    if p == NULL or m < p.meta or m >= p.meta + p.n:
        raise ValueError("mbuf %d: its pool was freed" % m.idx)
    return m


cdef object _view(pyrtap_mbuf *m, uint32_t off, uint32_t length):
    """Writable numpy view of ``length`` bytes at data offset ``off`` of segment ``m``."""
    cdef pyrtap_mbuf *d = pyrtap_mbuf_deref(m.attached) if m.attached else m
    if d == NULL:
        raise ValueError("mbuf %d is a clone of an mbuf whose pool was freed" % m.idx)
    cdef Mempool owner = <Mempool>g_pool_objs[d.pool_id]
    cdef Py_ssize_t start = <Py_ssize_t>(pyrtap_mbuf_buf(m) - owner.pool.data) + m.data_off + off
    return owner.data[start:start + length]


cdef uint32_t chain_copy(const pyrtap_mbuf *m, uint32_t off, uint32_t length, uint8_t *dst) noexcept nogil:
    """Copy ``length`` bytes from packet offset ``off`` of the chain from ``m`` to ``dst``
    (DPDK's rte_pktmbuf_read). Returns how many were not copied because the chain ended
    first; a walk longer than every mbuf in existence (a cycle) ends it too."""
    cdef uint32_t n
    cdef uint64_t left = g_mbufs_total + 1
    while m != NULL and off >= m.data_len and left:
        off -= m.data_len
        m = pyrtap_mbuf_next(m)
        left -= 1
    while m != NULL and length and left:
        left -= 1
        n = m.data_len - off
        if n > length:
            n = length
        memcpy(dst, pyrtap_mbuf_data(m) + off, n)
        dst += n
        length -= n
        off = 0
        m = pyrtap_mbuf_next(m)
    return length


cdef bytes _read(pyrtap_mbuf *m, uint32_t off, uint32_t length):
    """Copy ``length`` bytes from packet offset ``off`` across segments (zeros past the chain's end)."""
    cdef bytearray out = bytearray(length)
    chain_copy(m, off, length, out)
    return bytes(out)


cdef inline pyrtap_mbuf *last_seg(pyrtap_mbuf *m) noexcept nogil:
    cdef pyrtap_mbuf *n = pyrtap_mbuf_next(m)
    cdef uint64_t left = g_mbufs_total
    while n != NULL and left:
        m = n
        n = pyrtap_mbuf_next(m)
        left -= 1
    return m


cdef inline Mempool _pool_arg(object mp):
    if type(mp) is not Mempool:
        raise TypeError("expected a Mempool, got %s" % type(mp).__name__)
    if (<Mempool>mp).freed:
        raise ValueError("mempool %r was freed" % (<Mempool>mp).name)
    return <Mempool>mp


def rte_pktmbuf_alloc(mp):
    """Allocate one mbuf (``rte_pktmbuf_alloc``); None with ``rte_errno() == ENOENT`` when empty."""
    global pyrtap_errno_value
    cdef Mempool pool = _pool_arg(mp)
    cdef pyrtap_mbuf *m = pool_get(&pool.pool)
    if m == NULL:
        pyrtap_errno_value = ENOENT
        return None
    return new_handle(m, pool)


cdef inline int _app_free(object m, bint seg) except -1:
    """The application frees ``m``: its whole chain, or with ``seg`` that segment only.
    None is ignored; a double free raises RuntimeError."""
    if m is None:
        return 0
    cdef pyrtap_mbuf *p = unwrap(m)
    cdef free_batch b
    batch_init(&b, False)
    if seg:
        batch_free_seg(&b, p)
    else:
        batch_free_chain(&b, p)
    batch_flush(&b)
    if b.errors:
        raise RuntimeError("double free: mbuf %d of pool %r (or a segment) is not the application's: %s"
                           % (p.idx, (<Mbuf>m)._pool.name, STATE_NAMES[p.state & 3]))
    return 0


def rte_pktmbuf_free(m):
    """Free a whole chain (``rte_pktmbuf_free``); None is ignored.

    Raises RuntimeError on a double free; the pool is left as it was.
    """
    _app_free(m, False)


def rte_pktmbuf_free_seg(m):
    """Free one segment, ignoring its ``next`` (``rte_pktmbuf_free_seg``)."""
    _app_free(m, True)


def rte_pktmbuf_mtod(m):
    """Writable zero-copy numpy view of the first segment's data (``rte_pktmbuf_mtod``)."""
    cdef pyrtap_mbuf *p = unwrap(m)
    return _view(p, 0, p.data_len)


def rte_pktmbuf_mtod_offset(m, uint32_t off):
    """View of the first segment's data from ``off`` (``rte_pktmbuf_mtod_offset``)."""
    cdef pyrtap_mbuf *p = unwrap(m)
    if off > p.data_len:
        raise ValueError("offset %d is beyond data_len %d" % (off, p.data_len))
    return _view(p, off, p.data_len - off)


def rte_pktmbuf_headroom(m):
    """Bytes free before the data of the first segment (``rte_pktmbuf_headroom``)."""
    return unwrap(m).data_off


def rte_pktmbuf_tailroom(m):
    """Bytes free after the data of segment ``m`` (``rte_pktmbuf_tailroom``)."""
    cdef pyrtap_mbuf *p = unwrap(m)
    return p.buf_len - p.data_off - p.data_len


def rte_pktmbuf_pkt_len(m):
    return unwrap(m).pkt_len


def rte_pktmbuf_data_len(m):
    return unwrap(m).data_len


def rte_pktmbuf_append(m, uint32_t n):
    """Grow the packet at its tail (``rte_pktmbuf_append``): view of the new bytes, or None."""
    cdef pyrtap_mbuf *head = unwrap_live(m)
    cdef pyrtap_mbuf *last = last_seg(head)
    cdef uint32_t off = last.data_len
    if n > <uint32_t>(last.buf_len - last.data_off - last.data_len):
        return None
    last.data_len += n
    head.pkt_len += n
    return _view(last, off, n)


def rte_pktmbuf_prepend(m, uint32_t n):
    """Grow the packet at its head (``rte_pktmbuf_prepend``): view of the new bytes, or None."""
    cdef pyrtap_mbuf *p = unwrap_live(m)
    if n > p.data_off:
        return None
    p.data_off -= n
    p.data_len += n
    p.pkt_len += n
    return _view(p, 0, n)


def rte_pktmbuf_adj(m, uint32_t n):
    """Remove ``n`` bytes from the start of the first segment (``rte_pktmbuf_adj``).

    Returns a view of the first segment's remaining data, or None if ``n`` exceeds it.
    """
    cdef pyrtap_mbuf *p = unwrap_live(m)
    if n > p.data_len:
        return None
    p.data_off += n
    p.data_len -= n
    p.pkt_len -= n
    return _view(p, 0, p.data_len)


def rte_pktmbuf_trim(m, uint32_t n):
    """Remove ``n`` bytes from the end of the last segment (``rte_pktmbuf_trim``): 0 or -1."""
    cdef pyrtap_mbuf *head = unwrap_live(m)
    cdef pyrtap_mbuf *last = last_seg(head)
    if n > last.data_len:
        return -1
    last.data_len -= n
    head.pkt_len -= n
    return 0


def rte_pktmbuf_chain(head, tail):
    """Append chain ``tail`` to chain ``head`` (``rte_pktmbuf_chain``): 0 or -EOVERFLOW."""
    cdef pyrtap_mbuf *h = unwrap_live(head)
    cdef pyrtap_mbuf *t = unwrap_live(tail)
    if h == t:
        raise ValueError("cannot chain an mbuf to itself")
    if chain_has(t, h) or chain_has(h, t):
        return -EINVAL          # the link would close a cycle (or share a segment)
    if <uint32_t>h.nb_segs + t.nb_segs > RTE_MBUF_MAX_NB_SEGS:
        return -EOVERFLOW
    last_seg(h).next = pyrtap_mbuf_ref(t)
    h.nb_segs += t.nb_segs
    h.pkt_len += t.pkt_len
    t.pkt_len = t.data_len
    return 0


def rte_pktmbuf_read(m, uint32_t off, uint32_t length):
    """Packet bytes ``[off, off+length)`` across segments (``rte_pktmbuf_read``), or None."""
    cdef pyrtap_mbuf *p = unwrap(m)
    if <uint64_t>off + length > p.pkt_len:
        return None
    return _read(p, off, length)


def rte_mbuf_refcnt_read(m):
    """Reference count of one segment (``rte_mbuf_refcnt_read``)."""
    return pyrtap_refcnt_read(&unwrap(m).refcnt)


def rte_mbuf_refcnt_set(m, uint16_t v):
    """Set one segment's reference count (``rte_mbuf_refcnt_set``).

    0 is refused (ValueError): the mbuf could then never be freed."""
    cdef pyrtap_mbuf *p = unwrap_live(m)
    if v == 0:
        raise ValueError("a reference count of 0 would leak mbuf %d" % p.idx)
    p.refcnt = v


def rte_mbuf_refcnt_update(m, int v):
    """Add ``v`` to one segment's reference count, returning the new value (``rte_mbuf_refcnt_update``).

    A result below 1 or above 65535 is refused (ValueError): it would leak the mbuf or
    wrap the count."""
    cdef pyrtap_mbuf *p = unwrap_live(m)
    cdef int now = pyrtap_refcnt_read(&p.refcnt)
    if now + v < 1 or now + v > 0xFFFF:
        raise ValueError("reference count %d%+d of mbuf %d is out of range 1..65535" % (now, v, p.idx))
    return pyrtap_refcnt_add(&p.refcnt, v)


def rte_pktmbuf_refcnt_update(m, int v):
    """Add ``v`` to the reference count of every segment (``rte_pktmbuf_refcnt_update``)."""
    cdef pyrtap_mbuf *p = unwrap_live(m)
    cdef pyrtap_mbuf *s = p
    cdef uint64_t left = g_mbufs_total
    while s != NULL and left:
        if pyrtap_refcnt_read(&s.refcnt) + v < 1 or pyrtap_refcnt_read(&s.refcnt) + v > 0xFFFF:
            raise ValueError("reference count %d%+d of a segment is out of range 1..65535"
                             % (pyrtap_refcnt_read(&s.refcnt), v))
        s = pyrtap_mbuf_next(s)
        left -= 1
    left = g_mbufs_total
    while p != NULL and left:
        pyrtap_refcnt_add(&p.refcnt, v)
        p = pyrtap_mbuf_next(p)
        left -= 1


cdef void _copy_offload_fields(pyrtap_mbuf *dst, pyrtap_mbuf *src) noexcept nogil:
    dst.port = src.port
    dst.packet_type = src.packet_type
    dst.l2_len = src.l2_len
    dst.l3_len = src.l3_len
    dst.l4_len = src.l4_len
    dst.outer_l2_len = src.outer_l2_len
    dst.outer_l3_len = src.outer_l3_len
    dst.tso_segsz = src.tso_segsz


cdef void _attach(pyrtap_mbuf *mi, pyrtap_mbuf *m) noexcept nogil:
    """rte_pktmbuf_attach: make ``mi`` an indirect mbuf sharing ``m``'s data."""
    cdef pyrtap_mbuf *d = pyrtap_mbuf_deref(m.attached) if m.attached else m
    pyrtap_refcnt_add(&d.refcnt, 1)
    mi.attached = pyrtap_mbuf_ref(d)
    mi.buf_len = m.buf_len
    mi.data_off = m.data_off
    mi.data_len = m.data_len
    mi.pkt_len = mi.data_len
    mi.nb_segs = 1
    mi.ol_flags = m.ol_flags | RTE_MBUF_F_INDIRECT
    _copy_offload_fields(mi, m)


def rte_pktmbuf_clone(m, mp):
    """Indirect copy sharing ``m``'s data, segments allocated from ``mp`` (``rte_pktmbuf_clone``).

    Each direct segment's reference count goes up by one; None with ENOENT when ``mp`` runs out.
    """
    global pyrtap_errno_value
    cdef pyrtap_mbuf *md = unwrap_live(m)
    cdef Mempool pool = _pool_arg(mp)
    cdef uint64_t total = 0
    if chain_walk(md, &total) == 0:
        raise ValueError("mbuf %d heads a cyclic chain" % md.idx)
    cdef pyrtap_mbuf *head = pool_get(&pool.pool)
    cdef pyrtap_mbuf *mi = head
    cdef pyrtap_mbuf *seg = md
    cdef pyrtap_mbuf *nxt
    if head == NULL:
        pyrtap_errno_value = ENOENT
        return None
    while True:
        if seg.attached and pyrtap_mbuf_deref(seg.attached) == NULL:
            discard_chain(head)
            raise ValueError("mbuf %d is a clone of an mbuf whose pool was freed" % seg.idx)
        _attach(mi, seg)
        seg = pyrtap_mbuf_next(seg)
        if seg == NULL:
            break
        nxt = pool_get(&pool.pool)
        if nxt == NULL:
            discard_chain(head)
            pyrtap_errno_value = ENOENT
            return None
        mi.next = pyrtap_mbuf_ref(nxt)
        mi = nxt
    head.pkt_len = md.pkt_len
    head.nb_segs = md.nb_segs
    return wrap(head)


def rte_pktmbuf_copy(m, mp, uint32_t off=0, uint32_t length=0xFFFFFFFF):
    """Deep copy of ``length`` bytes from ``off`` into new mbufs of ``mp`` (``rte_pktmbuf_copy``).

    Returns None when ``off`` is past the packet or ``mp`` runs out (``rte_errno()`` says which).
    """
    global pyrtap_errno_value
    cdef pyrtap_mbuf *src = unwrap_live(m)
    cdef Mempool pool = _pool_arg(mp)
    cdef pyrtap_mbuf *head
    cdef pyrtap_mbuf *dst
    cdef pyrtap_mbuf *nxt
    cdef uint32_t n, room, avail
    cdef uint64_t total = 0
    if chain_walk(src, &total) == 0:
        raise ValueError("mbuf %d heads a cyclic chain" % src.idx)
    # Copy what the chain holds, even when pkt_len claims more.
    avail = src.pkt_len if src.pkt_len < total else <uint32_t>total
    if off >= avail and not (off == 0 and avail == 0):
        pyrtap_errno_value = EINVAL
        return None
    if length > avail - off:
        length = avail - off
    head = pool_get(&pool.pool)
    if head == NULL:
        pyrtap_errno_value = ENOENT
        return None
    head.ol_flags = src.ol_flags & ~RTE_MBUF_F_INDIRECT
    _copy_offload_fields(head, src)
    dst = head
    while src != NULL and off >= src.data_len:
        off -= src.data_len
        src = pyrtap_mbuf_next(src)
    while length and src != NULL:
        room = dst.buf_len - dst.data_off - dst.data_len
        if room == 0:
            nxt = pool_get(&pool.pool)
            if nxt == NULL:
                discard_chain(head)
                pyrtap_errno_value = ENOENT
                return None
            dst.next = pyrtap_mbuf_ref(nxt)
            head.nb_segs += 1
            dst = nxt
            continue
        n = src.data_len - off
        if n > room:
            n = room
        if n > length:
            n = length
        memcpy(pyrtap_mbuf_data(dst) + dst.data_len, pyrtap_mbuf_data(src) + off, n)
        dst.data_len += n
        head.pkt_len += n
        length -= n
        off += n
        if off == src.data_len:
            off = 0
            src = pyrtap_mbuf_next(src)
    return wrap(head)


def rte_mempool_get(mp):
    """Take one raw object from ``mp`` (``rte_mempool_get``): an Mbuf, or None with ENOENT."""
    return rte_pktmbuf_alloc(mp)


def rte_mempool_put(mp, m):
    """Return one mbuf segment straight to ``mp`` (``rte_mempool_put``), ignoring refcnt and chain.

    Raises ValueError when ``m`` belongs to another pool and RuntimeError when it is
    already free; the pools are untouched in both cases.
    """
    cdef Mempool pool = _pool_arg(mp)
    cdef pyrtap_mbuf *p = unwrap(m)
    if p.pool_id != pool.pool.pool_id:
        raise ValueError("mbuf %d belongs to pool %r, not %r" % (p.idx, (<Mbuf>m)._pool.name, pool.name))
    if p.state != PYRTAP_MBUF_ALLOCATED:
        raise RuntimeError("double free: mbuf %d of pool %r is already free" % (p.idx, pool.name))
    p.next = 0
    p.attached = 0
    pool_put_bulk(&pool.pool, &p, 1)
