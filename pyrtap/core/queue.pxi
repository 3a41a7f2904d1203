# Driver queue objects and their counters.
#
# Queue is the base of every driver queue: its C state, the burst function the
# fast-path table calls with it, its counters. RxQueue (receive buffers: pool,
# segments, max frame; taking and releasing them) and TxQueue (the configured Tx
# offloads) extend it, and each driver's queues extend those. struct qstats holds the
# counters, rx_count / tx_count are the burst loops' per-packet counting, XSTATS_TABLE
# the one list of extended statistics. struct rxq_conf is what every Rx path needs to
# turn a finished read into a packet.
#
# Uses: Mempool, the free batches (mempool.pxi); RTE_PKTMBUF_HEADROOM (mbuf.pxi);
# alloc_rx_chain, rx_full_read (vnet_rxtx.pxi).

cdef enum:
    RX_MAX_SEGS = 64           # mbufs per receive buffer: a 64 KB LRO frame in 1 KB mbufs

# What the fast-path table calls (core/ethdev_fp.pxi): a driver's burst on its queue's C state.
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
    """One Rx or Tx queue of a port: a driver's C state plus its burst function.

    A driver's queue class binds its C state first thing in ``__cinit__`` (``_bind``);
    the fast-path table then calls ``burst`` with ``cstate``. A bare Queue binds
    nothing: published in the table, its bursts do nothing.
    """
    cdef qstats *st           # points into the subclass's C state
    cdef void *cstate
    cdef burst_fn burst
    cdef readonly uint16_t port_id
    cdef readonly uint16_t queue_id

    cdef _bind(self, void *cstate, qstats *st, burst_fn burst, uint16_t port_id, uint16_t queue_id):
        self.cstate = cstate
        self.st = st
        self.burst = burst
        self.port_id = port_id
        self.queue_id = queue_id

    def start(self):
        """Make the queue ready for bursts (the port is starting): 0 or a negative errno."""
        return 0

    def stop(self):
        """Return every mbuf the queue holds to its pool (the port is stopping)."""

    def close(self):
        """Release what the queue holds in the kernel (the queue must be stopped)."""

    @property
    def inflight(self):
        """Descriptors currently owned by the kernel."""
        return 0

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
        return False


cdef class RxQueue(Queue):
    """A receive queue: frames of up to ``max_frame`` bytes read into buffers of
    ``segments`` mbufs from ``pool``. Every driver's Rx queue extends it."""
    cdef rxq_conf *rc         # the receive-buffer configuration, in the driver's C state
    cdef readonly Mempool pool

    @property
    def is_rx(self):
        return True

    cdef _rx_init(self, rxq_conf *rc, Mempool pool, uint32_t max_frame):
        """Size the receive buffers for ``max_frame``-byte frames from ``pool`` (after _bind)."""
        self.rc = rc
        self.pool = pool
        rc.pool = &pool.pool
        rc.port_id = self.port_id
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

    cdef _rx_resized(self):
        """The receive buffers' size changed: a driver adapts what depends on it."""

    def set_rx_max_frame(self, uint32_t max_frame):
        """Receive buffers for frames up to ``max_frame`` bytes (the queue must be stopped)."""
        self._rx_size(max_frame)
        self._rx_resized()

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

    cdef int _rx_buffer(self, pyrtap_mbuf **buf) noexcept:
        """A receive buffer in ``*buf``, unless it holds one already: 0, or -ENOMEM
        (counted in rx_nombuf) when the pool cannot provide it."""
        if buf[0] == NULL and alloc_rx_chain(self.rc.pool, self.rc.segs, buf) < 0:
            self.st.nombuf += 1
            return -ENOMEM
        return 0

    cdef void _rx_release(self, pyrtap_mbuf **bufs, uint32_t n) noexcept:
        """Return the receive buffers ``bufs[0:n]`` to their pool (the kernel must be done
        with them); the entries become NULL."""
        cdef free_batch b
        cdef uint32_t i
        batch_init(&b)
        for i in range(n):
            if bufs[i] != NULL:
                batch_free_chain(&b, bufs[i])
                bufs[i] = NULL
        batch_flush(&b)


cdef class TxQueue(Queue):
    """A transmit queue. Every driver's Tx queue extends it."""
    cdef uint64_t *tx_ok      # the RTE_ETH_TX_OFFLOAD_* set the port was configured for, in the C state

    def set_tx_offloads(self, uint64_t offloads):
        """The Tx offloads (``RTE_ETH_TX_OFFLOAD_*``) configured for this queue; packets whose
        ``RTE_MBUF_F_TX_*`` requests need others are dropped and counted in oerrors."""
        self.tx_ok[0] = offloads
