"""Data path of both drivers (net_rtap: io_uring, net_tap: read/write) over a real TAP:
Rx and Tx byte-exactness, scatter Rx, chained / cloned / headroom-less Tx, multi-queue
spreading, sustained Tx through a small pool, and the port counters.

Frames are injected with an AF_PACKET socket on the interface (the kernel transmits them
to the port) and captured on the same socket (frames the port transmits reach the kernel
as received frames). Only frames of the test ethertype, or IPv4/UDP frames with the test
marker, are considered.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

import pyrtap as rte
from helpers import (
    ETH_P_TEST, MARKER, PacketSocket, chain_from, free_all, ip, is_marked_udp,
    make_frame, mbuf_bytes, mbuf_from, rx_poll, segments, setup_port, stats_of, udp_frame,
)

RX_SIZES = [60, 64, 100, 128, 255, 256, 511, 512, 1000, 1023, 1024, 1400, 1514, 42, 18, 777]


@pytest.fixture
def rx_port(variant, make_port):
    """A probed port for each Rx data path: net_tap, net_rtap rx=prepost|multishot|batch."""
    return make_port(*variant)


def send_one(tap_port, m) -> list[bytes]:
    """Transmit one packet on queue 0 and return what the interface saw (one frame)."""
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [m], 1) == 1
        return s.capture(1)


def stop_all_back(tap_port, pool) -> None:
    """Stop the port: every mbuf handed to the driver is back in the pool."""
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert pool.in_use_count() == 0


# ---- Rx ------------------------------------------------------------------------------------

@pytest.mark.parametrize("container", ["MbufBurst", "list"])
def test_rx_exact_bytes(rx_port, pool, container):
    """Injected frames arrive byte for byte, in order, with port, pkt_len and data_len set."""
    setup_port(rx_port.port, pool)
    frames = [make_frame(n, seed=i) for i, n in enumerate(RX_SIZES)]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(rx_port.port, 0, len(frames), use_list=(container == "list"), settle=0.05)
    mbufs = [m for _, m in pkts]
    try:
        got = [mbuf_bytes(m) for m in mbufs]
        assert len(got) == len(frames)
        assert got == frames
        for m, f in zip(mbufs, frames, strict=True):
            assert m.port == rx_port.port
            assert m.pkt_len == len(f)
            assert m.data_len == len(f)
            assert m.nb_segs == 1 and m.next is None
            assert m.data_off == rte.RTE_PKTMBUF_HEADROOM
            assert rte.rte_mbuf_refcnt_read(m) == 1
            assert bytes(rte.rte_pktmbuf_mtod(m)) == f
            assert m.pool is pool
    finally:
        free_all(mbufs)
    assert rte.rte_eth_dev_stop(rx_port.port) == 0
    assert pool.in_use_count() == 0


def test_rx_burst_respects_nb_pkts(rx_port, pool):
    """rx_burst never returns more than nb_pkts; the rest waits for the next call."""
    setup_port(rx_port.port, pool)
    frames = [make_frame(80, seed=i) for i in range(10)]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        time.sleep(0.1)
    got = []
    burst = rte.MbufBurst(32)
    deadline = time.monotonic() + 2
    while len(got) < len(frames) and time.monotonic() < deadline:
        n = rte.rte_eth_rx_burst(rx_port.port, 0, burst, 3)
        assert 0 <= n <= 3
        assert burst.count == n
        got += [burst[i] for i in range(n)]
    try:
        data = [mbuf_bytes(m) for m in got]
        assert [d for d in data if d[12:14] == b"\x88\xb5"] == frames
    finally:
        free_all(got)


def test_rx_vlan_tagged_max_frame(rx_port, pool):
    """An 802.1Q-tagged frame of MTU + 18 bytes (the largest the port must take) arrives
    whole, tag included."""
    setup_port(rx_port.port, pool)
    mtu = rte.rte_eth_dev_get_mtu(rx_port.port)
    assert mtu == 1500
    inner = make_frame(mtu + 14, seed=77)
    tagged = inner[:12] + bytes.fromhex("81000064") + inner[12:]      # VLAN 100
    assert len(tagged) == mtu + 18
    with PacketSocket(rx_port.iface) as s:
        s.send(tagged)
        s.send(inner)
        pkts, _ = rx_poll(rx_port.port, 0, 2, settle=0.02,
                          match=lambda f: f[12:14] in (b"\x81\x00", b"\x88\xb5"))
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == [tagged, inner]
        assert stats_of(rx_port.port).ierrors == 0
    finally:
        free_all(m for _, m in pkts)


def test_rx_truncated_frame_is_an_error(rx_port, pool):
    """A frame longer than the Rx buffers (the MTU raised with ip after queue setup) is
    cut by the kernel; it counts in ierrors and is never delivered. Frames that fit
    still arrive whole, the longest included."""
    setup_port(rx_port.port, pool)
    ip("link", "set", "dev", rx_port.iface, "mtu", "3000")
    room = rte.RTE_MBUF_DEFAULT_BUF_SIZE - rte.RTE_PKTMBUF_HEADROOM
    frames = [make_frame(2500, seed=1), make_frame(room, seed=2),
              make_frame(room - 1, seed=3), make_frame(100, seed=4)]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(rx_port.port, 0, 2, settle=0.1)
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == frames[2:]
        assert stats_of(rx_port.port).ierrors == 2
    finally:
        free_all(m for _, m in pkts)


def test_rx_header_only_frames(rx_port, pool):
    """Frames of 14 to 17 bytes (no payload to speak of) are delivered as they are."""
    setup_port(rx_port.port, pool)
    frames = [make_frame(18, seed=i)[:n] for i, n in enumerate([14, 15, 16, 17])]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(rx_port.port, 0, len(frames), settle=0.02)
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == frames
        assert [m.pkt_len for _, m in pkts] == [14, 15, 16, 17]
    finally:
        free_all(m for _, m in pkts)


def test_rx_small_containers(rx_port, pool):
    """A list or MbufBurst shorter than nb_pkts is filled only up to its size."""
    setup_port(rx_port.port, pool)
    frames = [make_frame(70, seed=i) for i in range(7)]
    got = []
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        time.sleep(0.05)
        small_list, small_burst = [None] * 2, rte.MbufBurst(2)
        deadline = time.monotonic() + 2
        while len(got) < len(frames) and time.monotonic() < deadline:
            for c in (small_list, small_burst):
                n = rte.rte_eth_rx_burst(rx_port.port, 0, c, 32)
                assert 0 <= n <= 2
                got += [c[i] for i in range(n)]
    try:
        assert [mbuf_bytes(m) for m in got] == frames
    finally:
        free_all(got)


def test_rx_recovers_after_pool_exhaustion(rx_port, pool):
    """With the pool empty nothing is received and rx_nombuf counts it; once mbufs are
    back, reception resumes with exact, unduplicated frames."""
    port = rx_port.port
    setup_port(port, pool)
    held = [None] * pool.avail_count()
    assert rte.rte_pktmbuf_alloc_bulk(pool, held, len(held)) == 0
    first = [make_frame(100, seed=i) for i in range(3)]
    second = [make_frame(100, seed=10 + i) for i in range(3)]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        try:
            s.send_all(first)
            pkts, _ = rx_poll(port, 0, 1, timeout=0.2)
            assert pkts == [], "received a packet with no mbuf to replace its buffer"
            assert stats_of(port).rx_nombuf >= 1
        finally:
            free_all(held)
        s.send_all(second)
        pkts, _ = rx_poll(port, 0, 6, timeout=0.5)
    try:
        data = [mbuf_bytes(m) for _, m in pkts]
        assert len(set(data)) == len(data), "a frame was received twice"
        assert set(second) <= set(data), "reception did not resume"
        assert set(data) <= set(first) | set(second)
    finally:
        free_all(m for _, m in pkts)
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


def test_rx_imissed_counts_kernel_drops(make_port, variant, make_pool):
    """Frames the kernel drops because the port does not poll are counted in imissed:
    ipackets + imissed == frames injected."""
    mp = make_pool(n=2048)
    tp = make_port(*variant)
    setup_port(tp.port, mp)
    total = 1500                     # more than the TAP queue (txqueuelen 1000) holds
    frames = [make_frame(60, seed=i) for i in range(total)]
    with PacketSocket(tp.iface, ETH_P_TEST) as s:
        s.send_all(frames)
    missed = stats_of(tp.port).imissed
    assert missed > 0
    pkts, others = rx_poll(tp.port, 0, total - missed, timeout=2, settle=0.05)
    try:
        data = [mbuf_bytes(m) for _, m in pkts]
        assert len(set(data)) == len(data)
        assert set(data) <= set(frames)
        st = stats_of(tp.port)
        assert st.ipackets == len(data) + others
        assert st.ipackets + st.imissed == total + others
    finally:
        free_all(m for _, m in pkts)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert mp.in_use_count() == 0


def test_rx_scatter(make_port, variant, make_pool):
    """A pool with a 256-byte data room per mbuf receives 1000-byte frames as 4 segments
    (rx=multishot, whose buffers are single mbufs, switches to batched reads for this)."""
    mp = make_pool(n=1024, data_room=128 + 256)
    tp = make_port(*variant)
    setup_port(tp.port, mp, nb_rxd=64)
    sizes = [1000, 256, 257, 60, 1514, 768, 769]
    frames = [make_frame(n, seed=i) for i, n in enumerate(sizes)]
    with PacketSocket(tp.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(tp.port, 0, len(frames), settle=0.05)
    mbufs = [m for _, m in pkts]
    try:
        assert len(mbufs) == len(frames)
        for m, f in zip(mbufs, frames, strict=True):
            segs = segments(m)
            want_segs = -(-len(f) // 256)
            assert m.nb_segs == want_segs == len(segs), f"{len(f)}-byte frame"
            assert m.pkt_len == len(f)
            assert [s.data_len for s in segs] == [256] * (want_segs - 1) + [len(f) - 256 * (want_segs - 1)]
            assert rte.rte_pktmbuf_read(m, 0, len(f)) == f
            assert b"".join(bytes(rte.rte_pktmbuf_mtod(s)) for s in segs) == f
            # a read straddling segment boundaries
            if len(f) > 300:
                assert rte.rte_pktmbuf_read(m, 250, 50) == f[250:300]
            assert m.port == tp.port
        # the 1000-byte frame is the first one: 4 segments
        assert mbufs[0].nb_segs == 4
    finally:
        free_all(mbufs)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert mp.in_use_count() == 0


# ---- Tx ------------------------------------------------------------------------------------

@pytest.mark.parametrize("container", ["MbufBurst", "list"])
def test_tx_exact_bytes(tap_port, pool, container):
    """Frames built with rte_pktmbuf_append leave the port byte for byte; mbufs come back."""
    setup_port(tap_port.port, pool)
    frames = [make_frame(n, seed=100 + i) for i, n in enumerate(RX_SIZES)]
    mbufs = [mbuf_from(pool, f) for f in frames]
    if container == "MbufBurst":
        pkts = rte.MbufBurst(len(mbufs))
        for i, m in enumerate(mbufs):
            pkts[i] = m
    else:
        pkts = list(mbufs)
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        sent = rte.rte_eth_tx_burst(tap_port.port, 0, pkts, len(mbufs))
        free_all(mbufs[sent:])
        assert sent == len(frames)
        got = s.capture(len(frames))
    assert got == frames
    stop_all_back(tap_port, pool)


def test_tx_chain_of_three(tap_port, pool):
    """A 3-segment chain is sent as the concatenation of its segments."""
    setup_port(tap_port.port, pool)
    frame = make_frame(900, seed=7)
    parts = [frame[:14], frame[14:500], frame[500:]]
    m = chain_from(pool, parts)
    assert m.nb_segs == 3 and m.pkt_len == len(frame)
    assert send_one(tap_port, m) == [frame]
    stop_all_back(tap_port, pool)


def test_tx_chain_with_empty_and_tiny_segments(tap_port, pool):
    """Zero-length and 1-byte segments in a chain (even an empty head) do not change the frame."""
    setup_port(tap_port.port, pool)
    frame = make_frame(200, seed=8)
    m = rte.rte_pktmbuf_alloc(pool)
    assert rte.rte_pktmbuf_chain(m, chain_from(pool, [frame[:1], frame[1:14], frame[14:15], frame[15:]])) == 0
    empty = rte.rte_pktmbuf_alloc(pool)
    assert rte.rte_pktmbuf_chain(m, empty) == 0
    assert m.nb_segs == 6 and m.pkt_len == len(frame) and m.data_len == 0
    assert send_one(tap_port, m) == [frame]
    stop_all_back(tap_port, pool)


def test_tx_clone(tap_port, pool):
    """An indirect mbuf (clone) is sent exactly; the original stays usable and intact."""
    setup_port(tap_port.port, pool)
    frame = make_frame(300, seed=9)
    orig = mbuf_from(pool, frame)
    clone = rte.rte_pktmbuf_clone(orig, pool)
    assert clone is not None
    assert rte.rte_mbuf_refcnt_read(orig) == 2
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [clone], 1) == 1
        got = s.capture(1)
        assert got == [frame]
        # the original's data is untouched (no header written over a shared buffer)
        assert mbuf_bytes(orig) == frame
        assert rte.rte_pktmbuf_headroom(orig) == rte.RTE_PKTMBUF_HEADROOM
        # send the original too: still the same frame
        assert rte.rte_eth_dev_stop(tap_port.port) == 0
        assert rte.rte_mbuf_refcnt_read(orig) == 1, "the clone was not freed after sending"
        assert rte.rte_eth_dev_start(tap_port.port) == 0
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [orig], 1) == 1
        got = s.capture(1)
    assert got == [frame]
    stop_all_back(tap_port, pool)


def test_tx_clone_of_chain(tap_port, pool):
    """A clone of a 2-segment chain is sent exactly."""
    setup_port(tap_port.port, pool)
    frame = make_frame(600, seed=10)
    orig = chain_from(pool, [frame[:100], frame[100:]])
    clone = rte.rte_pktmbuf_clone(orig, pool)
    assert clone is not None and clone.nb_segs == 2
    assert send_one(tap_port, clone) == [frame]
    assert mbuf_bytes(orig) == frame
    rte.rte_pktmbuf_free(orig)
    stop_all_back(tap_port, pool)


@pytest.mark.parametrize("data_off", [0, 5, 9, 10])
def test_tx_small_headroom(tap_port, pool, data_off):
    """An mbuf whose data starts less than a virtio-net header from the buffer start
    (data_off < 10) is still sent exactly."""
    setup_port(tap_port.port, pool)
    frame = make_frame(150, seed=11 + data_off)
    m = rte.rte_pktmbuf_alloc(pool)
    head = rte.RTE_PKTMBUF_HEADROOM
    assert rte.rte_pktmbuf_prepend(m, head - data_off) is not None
    assert m.data_off == data_off
    grow = len(frame) - m.data_len
    assert rte.rte_pktmbuf_append(m, grow) is not None
    rte.rte_pktmbuf_mtod(m)[:] = np.frombuffer(frame, np.uint8)
    assert m.data_len == len(frame) and rte.rte_pktmbuf_headroom(m) == data_off
    assert send_one(tap_port, m) == [frame]
    stop_all_back(tap_port, pool)


def test_tx_mbuf_kept_by_refcnt(tap_port, pool):
    """An mbuf whose refcnt the caller raised is sent and stays the caller's, intact,
    and can be sent again (the retransmission idiom)."""
    setup_port(tap_port.port, pool)
    frame = make_frame(400, seed=13)
    m = mbuf_from(pool, frame)
    rte.rte_mbuf_refcnt_update(m, 1)
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [m], 1) == 1
        assert s.capture(1) == [frame]
        assert rte.rte_eth_dev_stop(tap_port.port) == 0
        assert rte.rte_mbuf_refcnt_read(m) == 1
        assert mbuf_bytes(m) == frame and m.data_off == rte.RTE_PKTMBUF_HEADROOM
        assert rte.rte_eth_dev_start(tap_port.port) == 0
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [m], 1) == 1
        assert s.capture(1) == [frame]
    stop_all_back(tap_port, pool)


def test_tx_partial_acceptance_keeps_order(tap_port, pool, driver):
    """With a 4-descriptor Tx ring, a burst may be taken in part: the first n are sent,
    the rest stay the caller's and go out, in order, on later bursts."""
    setup_port(tap_port.port, pool, nb_txd=4)
    frames = [make_frame(64 + i, seed=i) for i in range(16)]
    pending = [mbuf_from(pool, f) for f in frames]
    accepted = []
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        deadline = time.monotonic() + 2
        while pending and time.monotonic() < deadline:
            n = rte.rte_eth_tx_burst(tap_port.port, 0, pending, len(pending))
            assert 0 <= n <= len(pending)
            if driver == "net_rtap":
                assert n <= 4, "more packets in flight than Tx descriptors"
            accepted.append(n)
            pending = pending[n:]
        free_all(pending)
        got = s.capture(len(frames))
    assert got == frames
    assert sum(accepted) == len(frames)
    stop_all_back(tap_port, pool)


def test_tx_link_down_counts_errors(tap_port, pool):
    """Frames the kernel refuses (interface down) count as oerrors, not opackets, and
    their mbufs go back to the pool."""
    port = tap_port.port
    setup_port(port, pool)
    assert rte.rte_eth_dev_set_link_down(port) == 0
    mbufs = [mbuf_from(pool, make_frame(80, seed=i)) for i in range(5)]
    n = rte.rte_eth_tx_burst(port, 0, mbufs, 5)
    free_all(mbufs[n:])
    assert rte.rte_eth_dev_stop(port) == 0
    st = stats_of(port)
    assert st.oerrors == n
    assert st.opackets == 0 and st.obytes == 0
    assert pool.in_use_count() == 0


def test_tx_adj_then_send(tap_port, pool):
    """After rte_pktmbuf_adj strips a prefix, only the remaining bytes are sent."""
    setup_port(tap_port.port, pool)
    frame = make_frame(120, seed=12)
    m = mbuf_from(pool, b"\xee" * 20 + frame)
    assert rte.rte_pktmbuf_adj(m, 20) is not None
    assert send_one(tap_port, m) == [frame]
    stop_all_back(tap_port, pool)


def test_tx_1023_segments_ok_1024_counted_as_error(tap_port, make_pool):
    """A chain of 1023 segments (1024 iovecs with the header) is sent; a longer one is
    dropped, counted in oerrors, and its mbufs go back to the pool."""
    mp = make_pool(n=2600, data_room=128 + 64)
    setup_port(tap_port.port, mp, nb_rxd=8)   # 8 receive chains of 24 segments
    base = rte.rte_mempool_in_use_count(mp)

    def long_chain(nseg, seed):
        frame = make_frame(nseg, seed=seed)
        return chain_from(mp, [frame[i:i + 1] for i in range(nseg)]), frame

    ok, ok_frame = long_chain(1023, 1)
    bad, _ = long_chain(1024, 2)
    assert ok.nb_segs == 1023 and bad.nb_segs == 1024
    with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
        assert rte.rte_eth_tx_burst(tap_port.port, 0, [ok], 1) == 1
        got = s.capture(1)
        assert got == [ok_frame]
        sent = rte.rte_eth_tx_burst(tap_port.port, 0, [bad], 1)
        assert sent == 1, "the oversized chain must be taken (and dropped), not left to the caller"
        assert s.capture(1, timeout=0.3) == []
    st = stats_of(tap_port.port)
    assert st.oerrors == 1
    assert st.opackets == 1
    assert rte.rte_mempool_in_use_count(mp) == base, "the dropped chain was not freed"
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert mp.in_use_count() == 0


@pytest.mark.parametrize("scatter", [False, True], ids=["1seg", "scatter"])
def test_forward_received_mbufs_between_ports(make_port, variant, make_pool, scatter):
    """Received mbufs sent as they are on another port (testpmd's io forwarding) leave
    it byte for byte: the Rx side's headroom and segment layout are fit for Tx."""
    mp = make_pool(n=1024, data_room=(128 + 256) if scatter else rte.RTE_MBUF_DEFAULT_BUF_SIZE)
    a = make_port(*variant)
    b = make_port("net_tap" if variant[0] == "net_rtap" else "net_rtap")
    setup_port(a.port, mp)
    setup_port(b.port, mp)
    assert a.port != b.port
    frames = [make_frame(n, seed=i) for i, n in enumerate([60, 300, 1000, 1514, 257])]
    with PacketSocket(a.iface, ETH_P_TEST) as sa, PacketSocket(b.iface, ETH_P_TEST) as sb:
        sa.send_all(frames)
        pkts, _ = rx_poll(a.port, 0, len(frames), settle=0.02)
        mbufs = [m for _, m in pkts]
        assert [m.port for m in mbufs] == [a.port] * len(frames)
        if scatter:
            assert max(m.nb_segs for m in mbufs) == 6
        n = rte.rte_eth_tx_burst(b.port, 0, mbufs, len(mbufs))
        free_all(mbufs[n:])
        assert n == len(frames)
        got = sb.capture(len(frames))
        assert sa.capture(1, timeout=0.1) == []      # nothing went back out of port A
    assert got == frames
    assert rte.rte_eth_dev_stop(a.port) == 0
    assert rte.rte_eth_dev_stop(b.port) == 0
    assert mp.in_use_count() == 0


def test_echo_on_same_port(rx_port, pool):
    """Frames received and sent back on the same port come out unchanged."""
    setup_port(rx_port.port, pool)
    frames = [make_frame(n, seed=40 + i) for i, n in enumerate([64, 128, 1514])]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(rx_port.port, 0, len(frames), settle=0.02)
        mbufs = [m for _, m in pkts]
        n = rte.rte_eth_tx_burst(rx_port.port, 0, mbufs, len(mbufs))
        free_all(mbufs[n:])
        assert n == len(frames)
        assert s.capture(len(frames)) == frames
    assert rte.rte_eth_dev_stop(rx_port.port) == 0
    assert pool.in_use_count() == 0


# ---- multi-queue ---------------------------------------------------------------------------

def test_multiqueue_spread(make_port, variant, make_pool):
    """With 4 queues the kernel spreads IPv4/UDP flows over several queues; every frame
    is received exactly once in total."""
    mp = make_pool(n=2048)
    tp = make_port(*variant)
    setup_port(tp.port, mp, nb_queues=4, nb_rxd=128)
    frames = {}
    k = 0
    for a in range(8):
        for b in range(8):
            payload = MARKER + k.to_bytes(4, "big") + bytes(30)
            frames[k] = udp_frame(f"10.{a}.1.{b + 1}", f"10.99.{b}.{a + 1}",
                                  1000 + 17 * k, 2000 + 3 * k, payload)
            k += 1
    with PacketSocket(tp.iface) as s:
        s.send_all(frames.values())
        pkts, others = rx_poll(tp.port, range(4), len(frames), match=is_marked_udp, settle=0.1)
    try:
        ids = [int.from_bytes(mbuf_bytes(m)[42 + len(MARKER):46 + len(MARKER)], "big") for _, m in pkts]
        assert sorted(ids) == sorted(frames), "frames lost or received twice"
        for (_q, m), i in zip(pkts, ids, strict=True):
            assert mbuf_bytes(m) == frames[i]
            assert m.port == tp.port
        per_queue = {q: sum(1 for qq, _ in pkts if qq == q) for q in range(4)}
        assert sum(1 for n in per_queue.values() if n) > 1, f"all flows on one queue: {per_queue}"
        st = stats_of(tp.port)
        assert others == 0, "unexpected non-test frames"
        for q in range(4):
            assert st.q_ipackets[q] == per_queue[q]
    finally:
        free_all(m for _, m in pkts)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert mp.in_use_count() == 0


def test_multiqueue_tx_every_queue(make_port, driver, make_pool):
    """Each of 4 Tx queues sends its frames."""
    mp = make_pool(n=1024)
    tp = make_port(driver)
    setup_port(tp.port, mp, nb_queues=4, nb_rxd=64)
    frames = [make_frame(100 + q, seed=q) for q in range(4)]
    with PacketSocket(tp.iface, ETH_P_TEST) as s:
        for q, f in enumerate(frames):
            assert rte.rte_eth_tx_burst(tp.port, q, [mbuf_from(mp, f)], 1) == 1
        got = s.capture(4)
    assert sorted(got) == sorted(frames)
    st = stats_of(tp.port)
    assert st.q_opackets[:4] == [1, 1, 1, 1]
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert mp.in_use_count() == 0


# ---- sustained Tx ----------------------------------------------------------------------------

def test_tx_no_stall_small_pool(make_port, driver, make_pool):
    """20,000 packets through a 512-mbuf pool: Tx must give mbufs back as it sends."""
    mp = make_pool(n=512)
    tp = make_port(driver)
    setup_port(tp.port, mp, nb_rxd=64, nb_txd=256)
    total, sent, alloc_fail = 20000, 0, 0
    burst = rte.MbufBurst(32)
    frame = np.frombuffer(make_frame(60, seed=5), np.uint8)
    deadline = time.monotonic() + 20
    while sent < total:
        assert time.monotonic() < deadline, f"stalled after {sent} packets ({alloc_fail} failed allocations)"
        n = min(32, total - sent)
        if rte.rte_pktmbuf_alloc_bulk(mp, burst, n) != 0:
            alloc_fail += 1
            rte.rte_eth_tx_burst(tp.port, 0, burst, 0)   # DPDK idiom: let the driver reap
            time.sleep(0.0001)
            continue
        for i in range(n):
            rte.rte_pktmbuf_append(burst[i], 60)[:] = frame
        k = rte.rte_eth_tx_burst(tp.port, 0, burst, n)
        if k < n:
            rte.rte_pktmbuf_free_bulk(burst[k:n], n - k)
        sent += k
    assert sent == total
    st = stats_of(tp.port)
    assert st.opackets + st.oerrors == total
    assert st.opackets == total
    assert st.obytes == total * 60
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert mp.avail_count() == mp.size == 512


def test_tx_tight_pool_empty_burst_reaps(make_port, driver, make_pool):
    """A pool barely larger than the Rx ring: when allocation fails, an empty
    rte_eth_tx_burst (as in DPDK, the driver is called even for 0 packets) must let the
    driver reap finished writes, or the sender stalls for good."""
    mp = make_pool(n=100)
    tp = make_port(driver)
    setup_port(tp.port, mp, nb_rxd=64)
    total, sent = 1000, 0
    burst = rte.MbufBurst(32)
    frame = np.frombuffer(make_frame(60, seed=6), np.uint8)
    deadline = time.monotonic() + 2
    while sent < total and time.monotonic() < deadline:
        n = min(32, total - sent)
        if rte.rte_pktmbuf_alloc_bulk(mp, burst, n) != 0:
            rte.rte_eth_tx_burst(tp.port, 0, burst, 0)
            time.sleep(0.0002)
            continue
        for i in range(n):
            rte.rte_pktmbuf_append(burst[i], 60)[:] = frame
        k = rte.rte_eth_tx_burst(tp.port, 0, burst, n)
        if k < n:
            rte.rte_pktmbuf_free_bulk(burst[k:n], n - k)
        sent += k
    stuck = mp.in_use_count()
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert sent == total, f"stalled after {sent} packets with {stuck} mbufs in use"
    assert mp.in_use_count() == 0


# ---- statistics --------------------------------------------------------------------------------

def test_stats_counts_and_reset(rx_port, pool):
    """ipackets/ibytes/opackets/obytes count exactly what crossed the port; reset zeroes them."""
    port = rx_port.port
    setup_port(port, pool)
    st = stats_of(port)
    assert (st.ipackets, st.opackets, st.ibytes, st.obytes) == (0, 0, 0, 0)
    rx_frames = [make_frame(n, seed=i) for i, n in enumerate([60, 100, 200, 1514, 64, 333])]
    tx_frames = [make_frame(n, seed=50 + i) for i, n in enumerate([70, 80, 90, 1000, 1514])]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(rx_frames)
        pkts, others = rx_poll(port, 0, len(rx_frames), settle=0.05)
        assert others == 0, "unexpected non-test frames (IPv6 not disabled?)"
        assert [mbuf_bytes(m) for _, m in pkts] == rx_frames
        free_all(m for _, m in pkts)
        tx = [mbuf_from(pool, f) for f in tx_frames]
        assert rte.rte_eth_tx_burst(port, 0, tx, len(tx_frames)) == len(tx_frames)
        assert s.capture(len(tx_frames)) == tx_frames
    st = stats_of(port)
    assert st.ipackets == len(rx_frames)
    assert st.ibytes == sum(map(len, rx_frames))
    assert st.opackets == len(tx_frames)
    assert st.obytes == sum(map(len, tx_frames))
    assert st.q_ipackets[0] == len(rx_frames) and st.q_opackets[0] == len(tx_frames)
    assert st.q_ibytes[0] == st.ibytes and st.q_obytes[0] == st.obytes
    assert st.ierrors == st.oerrors == st.rx_nombuf == 0
    assert rte.rte_eth_stats_reset(port) == 0
    st = stats_of(port)
    assert (st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed) == (0, 0, 0, 0, 0)
    assert st.q_ipackets[0] == st.q_opackets[0] == 0
    # counting restarts from zero
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send(rx_frames[0])
        pkts, _ = rx_poll(port, 0, 1, settle=0.02)
        free_all(m for _, m in pkts)
    st = stats_of(port)
    assert st.ipackets == 1 and st.ibytes == len(rx_frames[0])
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


def test_stop_returns_inflight_mbufs(rx_port, pool):
    """Stop returns posted Rx buffers and unreaped Tx mbufs; received mbufs stay valid."""
    setup_port(rx_port.port, pool, nb_rxd=64)
    frames = [make_frame(100, seed=i) for i in range(4)]
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(rx_port.port, 0, len(frames), settle=0.02)
        assert rte.rte_eth_tx_burst(rx_port.port, 0, [mbuf_from(pool, frames[0])], 1) == 1
    held = [m for _, m in pkts]
    assert rte.rte_eth_dev_stop(rx_port.port) == 0
    assert pool.in_use_count() == len(held)
    assert [mbuf_bytes(m) for m in held] == frames
    free_all(held)
    assert pool.in_use_count() == 0


def test_stop_start_with_frames_in_flight(rx_port, pool):
    """Stopping while frames arrive and starting again loses at most those frames:
    nothing is duplicated or corrupted, and every buffer comes back."""
    port = rx_port.port
    setup_port(port, pool)
    sent = []
    with PacketSocket(rx_port.iface, ETH_P_TEST) as s:
        for cycle in range(3):
            batch = [make_frame(100 + cycle, seed=1000 * cycle + i) for i in range(20)]
            s.send_all(batch)
            sent += batch
            # take a few, leave the rest in flight
            pkts, _ = rx_poll(port, 0, 3, timeout=0.5)
            rx_early = [mbuf_bytes(m) for _, m in pkts]
            free_all(m for _, m in pkts)
            assert set(rx_early) <= set(sent)
            assert rte.rte_eth_dev_stop(port) == 0
            assert pool.in_use_count() == 0
            assert rte.rte_eth_dev_start(port) == 0
        last = [make_frame(200, seed=9000 + i) for i in range(5)]
        s.send_all(last)
        deadline = time.monotonic() + 2
        got = []
        while not set(last) <= set(got) and time.monotonic() < deadline:
            pkts, _ = rx_poll(port, 0, 1, timeout=0.1)
            got += [mbuf_bytes(m) for _, m in pkts]
            free_all(m for _, m in pkts)
    assert set(last) <= set(got), "reception did not resume after stop/start"
    assert set(got) <= set(sent) | set(last), "a received frame is corrupted"
    assert len(got) == len(set(got)), "a frame was received twice"
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


def test_bursts_on_stopped_port_return_zero(tap_port, pool):
    """After stop, rx/tx bursts return 0 and leave the mbufs to the caller."""
    setup_port(tap_port.port, pool)
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    m = mbuf_from(pool, make_frame(60))
    assert rte.rte_eth_tx_burst(tap_port.port, 0, [m], 1) == 0
    assert rte.rte_eth_rx_burst(tap_port.port, 0, rte.MbufBurst(4), 4) == 0
    assert rte.rte_mbuf_refcnt_read(m) == 1
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0
