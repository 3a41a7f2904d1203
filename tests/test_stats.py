"""Basic and extended statistics, checked against known frames.

Frames of known sizes and destinations are injected with AF_PACKET (the kernel
transmits them on the TAP, the port receives them) and transmitted with
``rte_eth_tx_burst``; every counter must match exactly. Expected Rx values are
computed from *every* frame the port returned (test frames and any kernel frame
alike), so the counts stay exact even if the kernel sends something of its own.
Also: per-queue counters with 4 queues, imissed under an Rx flood, rx_nombuf with
an exhausted pool, xstats names/ids/sizing, reset, the ``Port`` dicts and
``python -m pyrtap stats``. Rx counting tests run over every Rx data path (the
``variant`` fixture of conftest: net_tap and net_rtap's rx=prepost|multishot|batch).
"""
from __future__ import annotations

import errno
import json
import re
import socket
import struct
import subprocess
import sys
import time

import pytest

import pyrtap as rte
from helpers import DST_MAC, MARKER, SRC_MAC, PacketSocket, chain_from, inet_checksum, ip, is_marked_udp, \
    is_test_frame, make_frame, mbuf_bytes, mbuf_from, setup_port, stats_of, udp_frame, xstats_of

EINVAL, ENODEV = errno.EINVAL, errno.ENODEV

GENERIC = ["rx_good_packets", "tx_good_packets", "rx_good_bytes", "tx_good_bytes",
           "rx_missed_errors", "rx_errors", "tx_errors", "rx_mbuf_allocation_errors"]
BINS = ["size_64_packets", "size_65_to_127_packets", "size_128_to_255_packets",
        "size_256_to_511_packets", "size_512_to_1023_packets", "size_1024_to_1518_packets",
        "size_1519_to_max_packets"]
CLASSES = ["broadcast_packets", "multicast_packets", "unicast_packets"]
RX_ONLY = ["checksum_good_packets", "checksum_bad_packets", "checksum_none_packets",
           "lro_packets", "mbuf_alloc_failed"]
TX_ONLY = ["tso_packets", "checksum_offload_packets", "multiseg_packets"]
RXQ = BINS + CLASSES + RX_ONLY          # the contract's per-queue names (order within a
TXQ = BINS + CLASSES + TX_ONLY          # queue is not part of the contract)

BCAST = b"\xff" * 6
MCASTS = [bytes.fromhex("01005e000001"), bytes.fromhex("333300000001"), bytes.fromhex("fffffffffffe")]
UCASTS = [bytes.fromhex("02000000aa01"), bytes.fromhex("0a1b2c3d4e5f")]


# ---- helpers -------------------------------------------------------------------------------

def kstats(iface: str) -> dict:
    """The kernel's counters of ``iface`` (``ip -j -s link show``: stats64)."""
    return json.loads(ip("-j", "-s", "link", "show", "dev", iface).stdout)[0]["stats64"]


def bin_of(length: int) -> str:
    # BINS has one more entry than limits: the open-ended last bin, returned after the loop.
    for limit, name in zip((64, 127, 255, 511, 1023, 1518), BINS, strict=False):
        if length <= limit:
            return name
    return BINS[-1]


def class_of(frame: bytes) -> str:
    if frame[:6] == BCAST:
        return "broadcast_packets"
    return "multicast_packets" if frame[0] & 1 else "unicast_packets"


def expected_counts(frames) -> dict[str, int]:
    """Size-bin and destination-class counts of ``frames``, as the contract defines them."""
    out = dict.fromkeys(BINS + CLASSES, 0)
    for f in frames:
        out[bin_of(len(f))] += 1
        out[class_of(f)] += 1
    return out


def drain(port: int, queues, want: int, match=is_test_frame, timeout: float = 2.0,
          settle: float = 0.05) -> list[tuple[int, bytes]]:
    """Poll ``queues`` until ``want`` frames matching ``match`` came (then ``settle`` more
    seconds); returns ``(queue, bytes)`` of *every* frame received, freeing the mbufs."""
    queues = [queues] if isinstance(queues, int) else list(queues)
    burst = rte.MbufBurst(32)
    got: list[tuple[int, bytes]] = []
    deadline, settle_end = time.monotonic() + timeout, None
    while True:
        n_any = 0
        for q in queues:
            n = rte.rte_eth_rx_burst(port, q, burst, 32)
            n_any += n
            for i in range(n):
                m = burst[i]
                data = mbuf_bytes(m)
                assert m.pkt_len == len(data)
                got.append((q, data))
                rte.rte_pktmbuf_free(m)
        now = time.monotonic()
        if settle_end is None and sum(1 for _, f in got if match(f)) >= want:
            settle_end = now + settle
        if (settle_end is not None and now >= settle_end) or now >= deadline:
            return got
        if not n_any:
            time.sleep(0.0005)


def transmit(port: int, pool, frames, queue: int = 0) -> None:
    """Send ``frames`` (bytes, or mbufs already built) on ``queue``; all must be taken."""
    mbufs = [mbuf_from(pool, f) if isinstance(f, bytes) else f for f in frames]
    n = rte.rte_eth_tx_burst(port, queue, mbufs, len(mbufs))
    for m in mbufs[n:]:
        rte.rte_pktmbuf_free(m)
    assert n == len(mbufs)


def exchange(port: int, iface: str, pool, frames) -> list:
    """Inject ``frames`` (the port must receive exactly them, in order) and transmit them
    back (the interface must see them all). Returns every (queue, frame) received."""
    with PacketSocket(iface) as s:
        s.send_all(frames)
        got = drain(port, 0, len(frames))
        assert [f for _, f in got if is_test_frame(f)] == frames
        transmit(port, pool, frames)
        assert len(s.capture(len(frames), timeout=1)) == len(frames)
    return got


def wait_kernel_settled(iface: str, timeout: float = 2.0) -> dict:
    """Kernel counters once they stop changing (frames in flight have landed)."""
    prev = kstats(iface)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.03)
        cur = kstats(iface)
        if cur == prev:
            return cur
        prev = cur
    return prev


def frame_to(dst: bytes, length: int, seed: int = 0) -> bytes:
    return make_frame(length, seed=seed, dst=dst)


# ---- basic statistics -------------------------------------------------------------------------

RX_SIZES = [60, 64, 100, 300, 1000, 1500, 1514]
TX_SIZES = [60, 100, 300, 1000, 1514, 64]


def test_basic_stats_exact(make_port, variant, pool):
    tp = make_port(variant[0], devargs=variant[1])
    port, iface = tp.port, tp.iface
    setup_port(port, pool, nb_rxd=64, nb_txd=64)
    st = stats_of(port)
    assert (st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed) == (0, 0, 0, 0, 0)
    k0 = kstats(iface)
    rx_frames = [make_frame(n, seed=i) for i, n in enumerate(RX_SIZES)]
    tx_frames = [make_frame(n, seed=100 + i) for i, n in enumerate(TX_SIZES)]
    with PacketSocket(iface) as s:
        s.send_all(rx_frames)
        got = drain(port, 0, len(rx_frames))
        assert [f for _, f in got if is_test_frame(f)] == rx_frames
        transmit(port, pool, tx_frames)
        assert s.capture(len(tx_frames), timeout=1) == tx_frames
    st = stats_of(port)
    assert st.ipackets == len(got)
    assert st.ibytes == sum(len(f) for _, f in got)      # no virtio-net header counted
    assert st.opackets == len(tx_frames)
    assert st.obytes == sum(map(len, tx_frames))
    assert (st.imissed, st.ierrors, st.oerrors, st.rx_nombuf) == (0, 0, 0, 0)
    assert (st.q_ipackets[0], st.q_ibytes[0]) == (st.ipackets, st.ibytes)
    assert (st.q_opackets[0], st.q_obytes[0]) == (st.opackets, st.obytes)
    assert st.q_ipackets[1:] == [0] * 15 and st.q_opackets[1:] == [0] * 15
    # The kernel saw the same: its tx is our Rx, its rx our Tx.
    k1 = wait_kernel_settled(iface)
    assert k1["tx"]["packets"] - k0["tx"]["packets"] == st.ipackets
    assert k1["tx"]["bytes"] - k0["tx"]["bytes"] == st.ibytes
    assert k1["rx"]["packets"] - k0["rx"]["packets"] == st.opackets
    assert k1["rx"]["bytes"] - k0["rx"]["bytes"] == st.obytes
    # The generic xstats are the same numbers.
    xs = xstats_of(port)
    assert [xs[n] for n in GENERIC] == [st.ipackets, st.opackets, st.ibytes, st.obytes,
                                        st.imissed, st.ierrors, st.oerrors, st.rx_nombuf]


def test_stats_reset(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, pool, nb_rxd=64, nb_txd=64)
    with PacketSocket(iface) as s:
        s.send_all([make_frame(100, seed=i) for i in range(5)])
        drain(port, 0, 5)
    transmit(port, pool, [make_frame(200, seed=9)] * 3)
    st = stats_of(port)
    assert st.ipackets >= 5 and st.opackets == 3
    k_before = kstats(iface)
    assert rte.rte_eth_stats_reset(port) == 0
    st = stats_of(port)
    for attr in ("ipackets", "opackets", "ibytes", "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf"):
        assert getattr(st, attr) == 0, attr
    for attr in ("q_ipackets", "q_opackets", "q_ibytes", "q_obytes", "q_errors"):
        assert getattr(st, attr) == [0] * rte.RTE_ETHDEV_QUEUE_STAT_CNTRS, attr
    assert all(v == 0 for v in xstats_of(port).values())
    # The kernel's counters are not touched.
    k_after = kstats(iface)
    assert k_after["tx"]["packets"] == k_before["tx"]["packets"]
    assert k_after["rx"]["packets"] == k_before["rx"]["packets"]
    # Counting restarts from zero.
    with PacketSocket(iface) as s:
        s.send_all([make_frame(77, seed=1), make_frame(88, seed=2)])
        got = drain(port, 0, 2)
    transmit(port, pool, [make_frame(99, seed=3)])
    st = stats_of(port)
    assert (st.ipackets, st.ibytes) == (len(got), sum(len(f) for _, f in got))
    assert (st.opackets, st.obytes) == (1, 99)


def _flows(count: int) -> list[bytes]:
    """IPv4/UDP frames of ``count`` different flows and different sizes."""
    out = []
    for k in range(count):
        payload = MARKER + k.to_bytes(4, "big") + bytes(3 * k)
        out.append(udp_frame(f"10.{k % 7}.1.{k + 1}", f"10.99.{k // 7}.{k % 5 + 1}",
                             1000 + 17 * k, 2000 + 3 * k, payload))
    return out


def test_per_queue_counts_4_queues(make_port, variant, make_pool):
    mp = make_pool(n=1024)
    tp = make_port(variant[0], devargs=variant[1])
    port = tp.port
    setup_port(port, mp, nb_queues=4, nb_rxd=64, nb_txd=64)
    frames = _flows(64)
    with PacketSocket(tp.iface) as s:
        s.send_all(frames)
        got = drain(port, range(4), len(frames), match=is_marked_udp)
    assert sorted(f for _, f in got if is_marked_udp(f)) == sorted(frames)
    per_q = {q: [f for qq, f in got if qq == q] for q in range(4)}
    assert sum(1 for fs in per_q.values() if fs) >= 2, "the kernel put every flow on one queue"
    # Tx: a different number of frames on each queue.
    tx = {q: [make_frame(100 + 10 * q + i, seed=q * 10 + i) for i in range(q + 1)] for q in range(4)}
    for q, fs in tx.items():
        transmit(port, mp, fs, queue=q)
    st = stats_of(port)
    for q in range(4):
        assert st.q_ipackets[q] == len(per_q[q]), q
        assert st.q_ibytes[q] == sum(map(len, per_q[q])), q
        assert st.q_opackets[q] == len(tx[q]), q
        assert st.q_obytes[q] == sum(map(len, tx[q])), q
    assert st.q_ipackets[4:] == [0] * 12 and st.q_opackets[4:] == [0] * 12
    assert st.ipackets == sum(st.q_ipackets) == len(got)
    assert st.ibytes == sum(st.q_ibytes)
    assert st.opackets == sum(st.q_opackets) == 10
    assert st.obytes == sum(st.q_obytes)
    xs = xstats_of(port)
    for q in range(4):
        want = expected_counts(per_q[q])
        for name in BINS + CLASSES:
            assert xs[f"rx_q{q}_{name}"] == want[name], (q, name)
        want = expected_counts(tx[q])
        for name in BINS + CLASSES:
            assert xs[f"tx_q{q}_{name}"] == want[name], (q, name)


# ---- imissed ---------------------------------------------------------------------------------

FLOOD = 3000


def test_imissed_under_rx_flood(make_port, variant, pool):
    tp = make_port(variant[0], devargs=variant[1])
    port, iface = tp.port, tp.iface
    # A short kernel queue makes drops certain for both drivers: net_tap holds up to
    # txqueuelen frames in the kernel, net_rtap also the 16 its posted reads consumed.
    ip("link", "set", "dev", iface, "txqueuelen", "20")
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    k0 = kstats(iface)
    assert stats_of(port).imissed == 0
    flood = [make_frame(80, seed=i) for i in range(FLOOD)]
    with PacketSocket(iface) as s:
        s.send_all(flood)                    # nobody polls the port meanwhile
        k1 = wait_kernel_settled(iface)
        st = stats_of(port)
        drops = k1["tx"]["dropped"] - k0["tx"]["dropped"]
        assert st.imissed > 0
        assert st.imissed == drops
        assert xstats_of(port)["rx_missed_errors"] == st.imissed
        got = drain(port, 0, FLOOD - st.imissed, timeout=2)
    received = sum(1 for _, f in got if is_test_frame(f))
    assert received + st.imissed == FLOOD, "a frame was neither received nor counted as missed"
    assert received <= 16 + 20 + 2
    st = stats_of(port)
    assert st.ipackets == len(got) and st.imissed == drops
    # Reset: imissed restarts at 0; the kernel's counter stays.
    assert rte.rte_eth_stats_reset(port) == 0
    assert stats_of(port).imissed == 0
    assert kstats(iface)["tx"]["dropped"] == k1["tx"]["dropped"]
    # ... and counts the next drops from there.
    with PacketSocket(iface) as s:
        s.send_all(flood[:500])
        k2 = wait_kernel_settled(iface)
        st = stats_of(port)
        assert st.imissed == k2["tx"]["dropped"] - k1["tx"]["dropped"] > 0
        drain(port, 0, 500 - st.imissed, timeout=1)
    assert rte.rte_eth_xstats_reset(port) == 0
    assert xstats_of(port)["rx_missed_errors"] == 0 == stats_of(port).imissed


def test_new_port_on_persistent_interface_starts_at_zero(make_port, driver, pool, unique_name):
    """The kernel keeps a persistent interface's counters; a newly probed port's do not
    include what happened before it existed (imissed included)."""
    iface = unique_name("pp")
    tp = make_port(driver, iface=iface, devargs="persist")
    ip("link", "set", "dev", iface, "txqueuelen", "10")
    setup_port(tp.port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(iface) as s:
        s.send_all([make_frame(80, seed=i) for i in range(300)])
        wait_kernel_settled(iface)
        drain(tp.port, 0, 1, timeout=1, settle=0.05)
    assert stats_of(tp.port).imissed > 0
    assert rte.rte_dev_remove(tp.devname) == 0
    assert kstats(iface)["tx"]["dropped"] > 0                 # the interface stayed
    tp2 = make_port(driver, iface=iface)                      # attaches to the persistent one
    st = stats_of(tp2.port)
    assert (st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed) == (0, 0, 0, 0, 0)
    assert all(v == 0 for v in xstats_of(tp2.port).values())
    assert rte.rte_dev_remove(tp2.devname) == 0
    assert kstats(iface)["tx"]["dropped"] > 0                 # still there: it was not ours
    ip("link", "del", "dev", iface)


# ---- rx_nombuf ---------------------------------------------------------------------------------

def test_rx_nombuf_pool_exhausted(make_port, variant, make_pool):
    """Pool exactly the ring size, received mbufs held: no replacement can be allocated,
    so each further frame is dropped and counted once in rx_nombuf."""
    ring, extra = 16, 8
    mp = make_pool(n=ring)
    tp = make_port(variant[0], devargs=variant[1])
    port = tp.port
    setup_port(port, mp, nb_rxd=ring, nb_txd=16)
    held = []
    frames = [make_frame(60, seed=i) for i in range(ring + extra)]
    burst = [None] * 32
    try:
        with PacketSocket(tp.iface) as s:
            s.send_all(frames)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:       # keep polling, holding what arrives
                n = rte.rte_eth_rx_burst(port, 0, burst, 32)
                held += burst[:n]
                time.sleep(0.001)
        st = stats_of(port)
        xs = xstats_of(port)
        assert st.rx_nombuf > 0
        assert st.ipackets == len(held)
        assert len(held) + st.rx_nombuf == len(frames), (
            f"{len(held)} received + {st.rx_nombuf} rx_nombuf != {len(frames)} frames injected")
        assert xs["rx_mbuf_allocation_errors"] == xs["rx_q0_mbuf_alloc_failed"] == st.rx_nombuf
    finally:
        for m in held:
            rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(port) == 0
    assert mp.in_use_count() == 0


def test_rx_nombuf_not_counted_without_frames(make_port, variant, make_pool):
    """Polling an idle queue whose pool is empty drops no frame: rx_nombuf stays 0."""
    mp = make_pool(n=32)
    tp = make_port(variant[0], devargs=variant[1])
    port = tp.port
    setup_port(port, mp, nb_rxd=16, nb_txd=16)
    grabbed = [None] * mp.avail_count()
    assert rte.rte_pktmbuf_alloc_bulk(mp, grabbed, len(grabbed)) == 0
    try:
        for _ in range(50):
            assert rte.rte_eth_rx_burst(port, 0, [None] * 8, 8) == 0
        assert stats_of(port).rx_nombuf == 0
    finally:
        for m in grabbed:
            rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(port) == 0


# ---- xstats: names, sizing, ids ---------------------------------------------------------------

def expected_names(nb_rx: int, nb_tx: int) -> list[str]:
    return (GENERIC + [f"rx_q{q}_{n}" for q in range(nb_rx) for n in RXQ]
            + [f"tx_q{q}_{n}" for q in range(nb_tx) for n in TXQ])


def _names(port: int) -> list[str]:
    n = rte.rte_eth_xstats_get_names(port, None, 0)
    names = [rte.rte_eth_xstat_name() for _ in range(n)]
    assert rte.rte_eth_xstats_get_names(port, names, n) == n
    return [x.name for x in names]


def _check_name_order(names: list[str], nb_rx: int, nb_tx: int) -> None:
    assert names[:8] == GENERIC
    groups = [f"rx_q{q}_" for q in range(nb_rx)] + [f"tx_q{q}_" for q in range(nb_tx)]
    pos = 8
    for prefix, suffixes in zip(groups, [RXQ] * nb_rx + [TXQ] * nb_tx, strict=True):
        chunk = names[pos:pos + len(suffixes)]
        assert sorted(chunk) == sorted(prefix + s for s in suffixes), prefix
        pos += len(suffixes)
    assert pos == len(names)
    assert len(set(names)) == len(names)
    assert all(len(n) < rte.RTE_ETH_XSTATS_NAME_SIZE for n in names)


def test_xstats_names_and_sizing(tap_port, pool):
    port = tap_port.port
    setup_port(port, pool, nb_queues=2, nb_rxd=16, nb_txd=16)
    n = len(expected_names(2, 2))
    assert n == 8 + 2 * 15 + 2 * 13
    assert rte.rte_eth_xstats_get_names(port, None, 0) == n
    assert rte.rte_eth_xstats_get_names(port, None, 1000) == n
    small = [rte.rte_eth_xstat_name() for _ in range(n)]
    assert rte.rte_eth_xstats_get_names(port, small, n - 1) == n         # size too small
    assert all(x.name == "" for x in small), "filled although size was too small"
    short = [rte.rte_eth_xstat_name() for _ in range(n - 1)]
    assert rte.rte_eth_xstats_get_names(port, short, n) == -EINVAL        # list shorter than size
    names = _names(port)
    _check_name_order(names, 2, 2)

    assert rte.rte_eth_xstats_get(port, None, 0) == n
    vals = [rte.rte_eth_xstat() for _ in range(n)]
    for v in vals:
        v.id, v.value = 12345, 12345
    assert rte.rte_eth_xstats_get(port, vals, n - 1) == n
    assert all(v.id == 12345 for v in vals), "filled although n was too small"
    assert rte.rte_eth_xstats_get(port, [rte.rte_eth_xstat() for _ in range(n - 1)], n) == -EINVAL
    assert rte.rte_eth_xstats_get(port, vals, n) == n
    assert [v.id for v in vals] == list(range(n))
    # A longer list than needed is fine.
    big = [rte.rte_eth_xstat_name() for _ in range(n + 5)]
    assert rte.rte_eth_xstats_get_names(port, big, n + 5) == n
    assert [x.name for x in big[:n]] == names


def test_xstats_names_follow_queue_counts(make_port, pool):
    p = make_port("net_tap")
    setup_port(p.port, pool, nb_queues=3, nb_tx_queues=1, nb_rxd=16, nb_txd=16, start=False)
    names = _names(p.port)
    assert len(names) == 8 + 3 * 15 + 13
    _check_name_order(names, 3, 1)
    setup_port(p.port, pool, nb_queues=1, nb_rxd=16, nb_txd=16, start=False)
    names = _names(p.port)
    assert len(names) == 8 + 15 + 13
    _check_name_order(names, 1, 1)


def test_xstats_by_id(tap_port, pool):
    port = tap_port.port
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    transmit(port, pool, [make_frame(100), make_frame(700)])
    names = _names(port)
    n = len(names)
    xs = xstats_of(port)
    all_values = [xs[name] for name in names]
    assert sum(all_values) > 0

    vals = [None] * n
    assert rte.rte_eth_xstats_get_by_id(port, None, vals, n) == n
    assert vals == all_values
    assert rte.rte_eth_xstats_get_by_id(port, None, None, 0) == n
    assert rte.rte_eth_xstats_get_by_id(port, None, [None] * n, n - 1) == n

    ids = [names.index("tx_good_packets"), names.index("tx_good_bytes"),
           names.index("tx_q0_size_512_to_1023_packets"), n - 1, 0]
    vals = [None] * len(ids)
    assert rte.rte_eth_xstats_get_by_id(port, ids, vals, len(ids)) == len(ids)
    assert vals[:3] == [2, 800, 1]
    assert vals == [all_values[i] for i in ids]
    for bad in ([n], [-1], [0, n + 7]):
        assert rte.rte_eth_xstats_get_by_id(port, bad, [None] * len(bad), len(bad)) == -EINVAL, bad
    assert rte.rte_eth_xstats_get_by_id(port, [0, 1, 2], [None] * 2, 3) == -EINVAL

    nm = [rte.rte_eth_xstat_name() for _ in ids]
    assert rte.rte_eth_xstats_get_names_by_id(port, nm, len(ids), ids) == len(ids)
    assert [x.name for x in nm] == [names[i] for i in ids]
    nm = [rte.rte_eth_xstat_name() for _ in range(n)]
    assert rte.rte_eth_xstats_get_names_by_id(port, nm, n, None) == n
    assert [x.name for x in nm] == names
    assert rte.rte_eth_xstats_get_names_by_id(port, [rte.rte_eth_xstat_name()], 1, [n]) == -EINVAL

    for i, name in enumerate(names):
        assert rte.rte_eth_xstats_get_id_by_name(port, name) == i
    for bad in ("no_such_counter", "", "rx_q1_size_64_packets", "RX_GOOD_PACKETS"):
        assert rte.rte_eth_xstats_get_id_by_name(port, bad) == -EINVAL, bad


# ---- xstats: values ------------------------------------------------------------------------------

BIN_SIZES = [60, 64, 65, 100, 127, 128, 255, 256, 300, 511, 512, 1000, 1023, 1024, 1500, 1518,
             1519, 2014]


def test_xstats_size_bins(make_port, variant, pool):
    tp = make_port(variant[0], devargs=variant[1])
    port, iface = tp.port, tp.iface
    conf = rte.rte_eth_conf()
    conf.rxmode.mtu = 2000                # frames up to 2014 bytes, still one 2048-byte mbuf
    assert rte.rte_eth_dev_configure(port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    frames = [make_frame(n, seed=i) for i, n in enumerate(BIN_SIZES)]
    got = exchange(port, iface, pool, frames)
    xs = xstats_of(port)
    rx_want = expected_counts(f for _, f in got)
    tx_want = expected_counts(frames)
    assert tx_want[BINS[0]] == 2 and tx_want[BINS[-1]] == 2 and all(tx_want[b] for b in BINS)
    for b in BINS:
        assert xs["rx_q0_" + b] == rx_want[b], b
        assert xs["tx_q0_" + b] == tx_want[b], b
    assert sum(xs["rx_q0_" + b] for b in BINS) == xs["rx_good_packets"] == len(got)
    assert sum(xs["tx_q0_" + b] for b in BINS) == xs["tx_good_packets"] == len(frames)
    assert xs["tx_good_bytes"] == sum(BIN_SIZES)


def test_xstats_destination_classes(make_port, variant, pool):
    tp = make_port(variant[0], devargs=variant[1])
    port, iface = tp.port, tp.iface
    setup_port(port, pool, nb_rxd=64, nb_txd=64)
    own = bytes.fromhex(link_mac(iface))
    dsts = [BCAST] * 3 + MCASTS + MCASTS[:1] + UCASTS + [own] * 2
    frames = [frame_to(d, 64 + 10 * i, seed=i) for i, d in enumerate(dsts)]
    want = {"broadcast_packets": 3, "multicast_packets": 4, "unicast_packets": 4}
    got = exchange(port, iface, pool, frames)
    xs = xstats_of(port)
    rx_want = expected_counts(f for _, f in got)
    for c in CLASSES:
        assert xs["rx_q0_" + c] == rx_want[c] >= want[c], c
        assert xs["tx_q0_" + c] == want[c], c


def link_mac(iface: str) -> str:
    return json.loads(ip("-j", "link", "show", "dev", iface).stdout)[0]["address"].replace(":", "")


def test_tx_multiseg_counter(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, pool, nb_rxd=16, nb_txd=64)
    whole = make_frame(300, seed=7)
    chain2 = chain_from(pool, [whole[:100], whole[100:]])
    chain3 = chain_from(pool, [whole[:20], whole[20:150], whole[150:]])
    single = mbuf_from(pool, make_frame(120, seed=8))
    assert (chain2.nb_segs, chain3.nb_segs, single.nb_segs) == (2, 3, 1)
    with PacketSocket(iface) as s:
        assert rte.rte_eth_tx_burst(port, 0, [chain2, single, chain3], 3) == 3
        got = s.capture(3, timeout=1)
    assert sorted(got) == sorted([whole, whole, make_frame(120, seed=8)])
    xs = xstats_of(port)
    assert xs["tx_q0_multiseg_packets"] == 2
    assert xs["tx_good_packets"] == 3 and xs["tx_good_bytes"] == 720
    assert xs["tx_q0_size_256_to_511_packets"] == 2      # a chain is binned by pkt_len
    assert xs["tx_q0_size_65_to_127_packets"] == 1


def test_tx_refused_frame_counted_as_error_only(tap_port, pool):
    """A frame the kernel refuses (shorter than an Ethernet header) is a tx error: not in
    opackets/obytes, and not in the Tx size bins or destination classes either."""
    port = tap_port.port
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    runt = mbuf_from(pool, make_frame(60)[:10])
    transmit(port, pool, [runt, make_frame(100, seed=1)])
    time.sleep(0.05)
    transmit(port, pool, [make_frame(100, seed=2)])      # net_rtap reaps earlier writes here
    time.sleep(0.05)
    st = stats_of(port)
    assert st.oerrors == 1
    assert (st.opackets, st.obytes) == (2, 200)
    assert st.q_errors[0] == 1
    xs = xstats_of(port)
    assert xs["tx_errors"] == 1
    assert sum(xs["tx_q0_" + b] for b in BINS) == xs["tx_good_packets"] == 2
    assert sum(xs["tx_q0_" + c] for c in CLASSES) == 2
    assert xs["tx_q0_size_64_packets"] == 0


def test_tx_error_counted_after_empty_burst(tap_port, pool):
    """A zero-packet rte_eth_tx_burst lets the driver collect finished writes (DPDK
    drivers clean up Tx on every call): a refused frame then shows as an error."""
    port = tap_port.port
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    base = pool.in_use_count()          # posted Rx buffers
    transmit(port, pool, [mbuf_from(pool, make_frame(60)[:10])])
    deadline = time.monotonic() + 1
    while True:
        assert rte.rte_eth_tx_burst(port, 0, [], 0) == 0
        st = stats_of(port)
        if st.oerrors or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert (st.oerrors, st.opackets, st.obytes) == (1, 0, 0)
    assert pool.in_use_count() == base, "the refused frame's mbuf was not freed"


def test_counters_survive_stop_start(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(iface) as s:
        s.send_all([make_frame(100, seed=i) for i in range(3)])
        got = drain(port, 0, 3)
    transmit(port, pool, [make_frame(200)] * 2)
    before = stats_of(port)
    xs_before = xstats_of(port)
    assert rte.rte_eth_dev_stop(port) == 0
    assert rte.rte_eth_dev_start(port) == 0
    after = stats_of(port)
    assert (after.ipackets, after.ibytes) == (len(got), sum(len(f) for _, f in got))
    assert (after.opackets, after.obytes) == (2, 400)
    assert vars(after) == vars(before)
    assert xstats_of(port) == xs_before


def _sum16(data: bytes) -> int:
    """The one's-complement sum of ``data``, not inverted."""
    return ~inet_checksum(data) & 0xFFFF


def _ipv4(proto: int, l4: bytes, src="192.0.2.1", dst="192.0.2.2") -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", ~_sum16(hdr) & 0xFFFF) + hdr[12:] + l4


def _phdr_sum(proto: int, l4len: int | None) -> int:
    """DPDK's rte_ipv4_phdr_cksum: the pseudo-header sum (not inverted); TSO leaves out the length."""
    ph = socket.inet_aton("192.0.2.1") + socket.inet_aton("192.0.2.2") + struct.pack("!BB", 0, proto)
    ph += struct.pack("!H", l4len) if l4len is not None else b"\0\0"
    return _sum16(ph)


def test_tx_offload_counters(tap_port, pool):
    port = tap_port.port
    conf = rte.rte_eth_conf()
    conf.txmode.offloads = (rte.RTE_ETH_TX_OFFLOAD_TCP_TSO | rte.RTE_ETH_TX_OFFLOAD_TCP_CKSUM
                            | rte.RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
    assert rte.rte_eth_dev_configure(port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(port, 0, 16, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    eth = DST_MAC + SRC_MAC + b"\x08\x00"
    udp_payload = bytes(range(40))
    udp = (struct.pack("!HHHH", 1234, 5678, 8 + len(udp_payload), _phdr_sum(17, 8 + len(udp_payload)))
           + udp_payload)
    tcp_payload = bytes(i & 0xFF for i in range(250))
    tcp = struct.pack("!HHIIBBHHH", 1234, 80, 1, 0, 5 << 4, 0x18, 65535, _phdr_sum(6, None), 0) + tcp_payload
    m_udp = mbuf_from(pool, eth + _ipv4(17, udp))
    m_udp.ol_flags = rte.RTE_MBUF_F_TX_IPV4 | rte.RTE_MBUF_F_TX_UDP_CKSUM
    m_tso = mbuf_from(pool, eth + _ipv4(6, tcp))
    m_tso.ol_flags = rte.RTE_MBUF_F_TX_IPV4 | rte.RTE_MBUF_F_TX_TCP_CKSUM | rte.RTE_MBUF_F_TX_TCP_SEG
    m_tso.tso_segsz = 100
    m_plain = mbuf_from(pool, make_frame(100))
    for m, l4 in ((m_udp, 8), (m_tso, 20)):
        m.l2_len, m.l3_len, m.l4_len = 14, 20, l4
    assert rte.rte_eth_tx_burst(port, 0, [m_udp, m_tso, m_plain], 3) == 3
    xs = xstats_of(port)
    assert xs["tx_q0_tso_packets"] == 1
    assert xs["tx_q0_checksum_offload_packets"] == 2
    assert xs["tx_q0_multiseg_packets"] == 0
    assert xs["tx_good_packets"] == 3 and xs["tx_errors"] == 0


def test_xstats_reset_zeroes_every_value(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    ip("link", "set", "dev", iface, "txqueuelen", "10")
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(iface) as s:
        s.send_all([frame_to(d, 300, seed=i) for i, d in enumerate([BCAST] * 200 + UCASTS + MCASTS)])
        wait_kernel_settled(iface)
        drain(port, 0, 1, timeout=1, settle=0.1)
    whole = make_frame(1200, seed=3)
    transmit(port, pool, [chain_from(pool, [whole[:600], whole[600:]]), make_frame(60)])
    xs = xstats_of(port)
    nonzero = {k for k, v in xs.items() if v}
    assert {"rx_good_packets", "tx_good_packets", "rx_missed_errors", "rx_q0_broadcast_packets",
            "rx_q0_size_256_to_511_packets", "tx_q0_multiseg_packets",
            "tx_q0_size_1024_to_1518_packets"} <= nonzero
    assert rte.rte_eth_xstats_reset(port) == 0
    xs = xstats_of(port)
    assert {k: v for k, v in xs.items() if v} == {}
    st = stats_of(port)
    assert (st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed) == (0, 0, 0, 0, 0)


# ---- Port wrapper --------------------------------------------------------------------------------

def test_port_stats_and_xstats_dicts(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(iface) as s:
        s.send_all([make_frame(100 + i, seed=i) for i in range(4)])
        drain(port, 0, 4)
    transmit(port, pool, [make_frame(500)])
    p = rte.Port(port)
    d = p.stats()
    st = stats_of(port)
    for attr, value in vars(st).items():
        assert d[attr] == value, attr
    assert d["ipackets"] >= 4 and d["opackets"] == 1 and d["obytes"] == 500
    xd = p.xstats()
    assert xd == xstats_of(port)
    assert list(xd) == _names(port)
    assert xd["tx_q0_size_256_to_511_packets"] == 1
    p.reset_stats()
    assert all(v == 0 for v in p.xstats().values())
    assert p.stats()["ipackets"] == 0


def test_port_stats_after_delete_raises(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    p = rte.Port(tap_port.port)
    ip("link", "del", "dev", tap_port.iface)
    with pytest.raises(rte.PortError) as ei:
        p.stats()
    assert ei.value.errno == ENODEV
    with pytest.raises(rte.PortError):
        p.xstats()


# ---- python -m pyrtap stats -----------------------------------------------------------------------

def _cli(*args, timeout=30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyrtap", "stats", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_cli_stats(tap_port, pool):
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(iface) as s:
        s.send_all([make_frame(100, seed=i) for i in range(7)])
        drain(port, 0, 7)
    transmit(port, pool, [make_frame(100)] * 3)
    k = wait_kernel_settled(iface)
    r = _cli(iface, "--count", "2", "--interval", "0.1")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for key in ("rx_packets", "rx_bytes", "tx_packets", "tx_dropped"):
        assert key in out, key

    def total(key):
        m = re.findall(r"\b%s\b\s*\W\s*([\d,]+)" % key, out)
        assert m, f"no value for {key} in:\n{out}"
        return int(m[-1].replace(",", ""))

    assert total("tx_packets") == k["tx"]["packets"] >= 7       # kernel tx = port Rx
    assert total("rx_packets") == k["rx"]["packets"] == 3


def test_cli_stats_no_such_interface(tap_required, unique_name):
    name = unique_name("nx")
    r = _cli(name, "--count", "1", "--interval", "0.1")
    assert r.returncode == 1
    assert name in r.stderr


def test_xstats_doc_names_every_counter():
    """docs/xstats.md documents every per-queue counter of the one table the queues read."""
    from pathlib import Path
    from pyrtap import _core
    doc = (Path(__file__).resolve().parent.parent / "docs" / "xstats.md").read_text()
    missing = [n for n, _, _ in _core.XSTATS_TABLE if "_" + n + "`" not in doc]
    assert not missing, "docs/xstats.md does not name: %s" % missing
    assert _core.RXQ_XSTATS[:10] == _core.TXQ_XSTATS[:10]
