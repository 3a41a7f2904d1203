"""Mbufs: alloc/free, data views, length operations, chains, refcounts, clone, copy,
attributes, MbufBurst and RTE_MBUF_F_* flags (docs/api.md "Mempool and mbuf",
pyrtap/mbuf.py).

Tests whose name ends in ``_dpdk_semantics`` pin DPDK's behaviour where pyrtap once
differed; those whose docstring starts with "Regression" pin the fix of a bug found
earlier (each passes today).
"""
from __future__ import annotations

import errno

import numpy as np
import pytest

import pyrtap as rte
from helpers import assert_pool_intact, chain_from, mbuf_from, pattern, segments
from pyrtap import _core

DEFAULT = rte.RTE_MBUF_DEFAULT_BUF_SIZE
HEADROOM = rte.RTE_PKTMBUF_HEADROOM


def seg_bytes(m):
    return [bytes(rte.rte_pktmbuf_mtod(s)) for s in segments(m)]


# ---- flags and constants -------------------------------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("RTE_MBUF_F_RX_VLAN", 1 << 0),
    ("RTE_MBUF_F_RX_RSS_HASH", 1 << 1),
    ("RTE_MBUF_F_RX_L4_CKSUM_BAD", 1 << 3),
    ("RTE_MBUF_F_RX_IP_CKSUM_BAD", 1 << 4),
    ("RTE_MBUF_F_RX_VLAN_STRIPPED", 1 << 6),
    ("RTE_MBUF_F_RX_IP_CKSUM_GOOD", 1 << 7),
    ("RTE_MBUF_F_RX_L4_CKSUM_GOOD", 1 << 8),
    ("RTE_MBUF_F_RX_IP_CKSUM_NONE", (1 << 4) | (1 << 7)),
    ("RTE_MBUF_F_RX_L4_CKSUM_MASK", (1 << 3) | (1 << 8)),
    ("RTE_MBUF_F_RX_LRO", 1 << 16),
    ("RTE_MBUF_F_RX_QINQ_STRIPPED", 1 << 15),
    ("RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD", 1 << 22),
    ("RTE_MBUF_F_TX_OUTER_UDP_CKSUM", 1 << 41),
    ("RTE_MBUF_F_TX_UDP_SEG", 1 << 42),
    ("RTE_MBUF_F_TX_TUNNEL_VXLAN", 1 << 45),
    ("RTE_MBUF_F_TX_TUNNEL_MASK", 0xF << 45),
    ("RTE_MBUF_F_TX_QINQ", 1 << 49),
    ("RTE_MBUF_F_TX_TCP_SEG", 1 << 50),
    ("RTE_MBUF_F_TX_IEEE1588_TMST", 1 << 51),
    ("RTE_MBUF_F_TX_L4_NO_CKSUM", 0),
    ("RTE_MBUF_F_TX_TCP_CKSUM", 1 << 52),
    ("RTE_MBUF_F_TX_SCTP_CKSUM", 2 << 52),
    ("RTE_MBUF_F_TX_UDP_CKSUM", 3 << 52),
    ("RTE_MBUF_F_TX_L4_MASK", 3 << 52),
    ("RTE_MBUF_F_TX_IP_CKSUM", 1 << 54),
    ("RTE_MBUF_F_TX_IPV4", 1 << 55),
    ("RTE_MBUF_F_TX_IPV6", 1 << 56),
    ("RTE_MBUF_F_TX_VLAN", 1 << 57),
    ("RTE_MBUF_F_TX_OUTER_IP_CKSUM", 1 << 58),
    ("RTE_MBUF_F_TX_OUTER_IPV4", 1 << 59),
    ("RTE_MBUF_F_TX_OUTER_IPV6", 1 << 60),
    ("RTE_MBUF_F_EXTERNAL", 1 << 61),
    ("RTE_MBUF_F_INDIRECT", 1 << 62),
])
def test_ol_flag_values_match_dpdk(name, value):
    assert getattr(rte, name) == value


def test_mbuf_constants():
    assert rte.RTE_PKTMBUF_HEADROOM == 128
    assert rte.RTE_MBUF_DEFAULT_BUF_SIZE == 2176
    assert rte.RTE_MBUF_PORT_INVALID == 0xFFFF
    assert rte.RTE_MBUF_MAX_NB_SEGS == 0xFFFF


# ---- alloc / free --------------------------------------------------------------------------------

def test_alloc_fresh_state(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    assert isinstance(m, rte.Mbuf)
    assert m.pool is pool
    assert m.buf_len == DEFAULT
    assert m.data_off == HEADROOM
    assert m.data_len == 0 and m.pkt_len == 0 and len(m) == 0 and bytes(m) == b""
    assert m.nb_segs == 1 and m.next is None
    assert m.refcnt == 1 and rte.rte_mbuf_refcnt_read(m) == 1
    assert m.port == rte.RTE_MBUF_PORT_INVALID
    assert m.ol_flags == 0 and m.packet_type == 0
    assert (m.l2_len, m.l3_len, m.l4_len, m.outer_l2_len, m.outer_l3_len, m.tso_segsz) == (0,) * 6
    assert pool.in_use_count() == 1
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_realloc_resets_every_field(pool):
    m = mbuf_from(pool, b"x" * 100)
    other = mbuf_from(pool)
    m.ol_flags = rte.RTE_MBUF_F_TX_TCP_SEG
    m.packet_type = 0x11
    m.port = 3
    m.l2_len, m.l3_len, m.l4_len = 14, 20, 20
    m.outer_l2_len, m.outer_l3_len, m.tso_segsz = 1, 2, 1400
    rte.rte_pktmbuf_adj(m, 10)
    m.next = other                           # raw link, freed separately below
    rte.rte_pktmbuf_free_seg(m)
    m2 = rte.rte_pktmbuf_alloc(pool)         # LIFO: the same buffer comes back
    assert m2 == m
    assert m2.data_off == HEADROOM and m2.data_len == 0 and m2.pkt_len == 0
    assert m2.next is None and m2.nb_segs == 1 and m2.refcnt == 1
    assert m2.ol_flags == 0 and m2.packet_type == 0 and m2.port == 0xFFFF
    assert (m2.l2_len, m2.l3_len, m2.l4_len, m2.outer_l2_len, m2.outer_l3_len, m2.tso_segsz) == (0,) * 6
    rte.rte_pktmbuf_free(m2)
    rte.rte_pktmbuf_free(other)


def test_free_none_is_ignored(pool):
    rte.rte_pktmbuf_free(None)
    rte.rte_pktmbuf_free_seg(None)
    rte.rte_pktmbuf_free_bulk([None, None], 2)
    assert pool.in_use_count() == 0


def test_free_rejects_non_mbuf(pool):
    with pytest.raises(TypeError):
        rte.rte_pktmbuf_free(object())
    m = mbuf_from(pool)
    with pytest.raises(TypeError):
        rte.rte_pktmbuf_free_bulk([m, "x"], 2)
    assert pool.in_use_count() == 1          # nothing was freed
    rte.rte_pktmbuf_free(m)


def test_free_releases_whole_chain(pool):
    head = chain_from(pool, [b"a" * 10, b"b" * 20, b"c" * 30])
    assert pool.in_use_count() == 3
    rte.rte_pktmbuf_free(head)
    assert pool.in_use_count() == 0


def test_free_seg_releases_one_segment(pool):
    head = chain_from(pool, [b"a", b"b"])
    tail = head.next
    rte.rte_pktmbuf_free_seg(head)
    assert pool.in_use_count() == 1
    assert bytes(tail) == b"b"
    rte.rte_pktmbuf_free_seg(tail)
    assert pool.in_use_count() == 0


def test_mbuf_cannot_be_constructed():
    with pytest.raises(TypeError):
        rte.Mbuf()


# ---- bulk alloc / free ---------------------------------------------------------------------------

def test_alloc_bulk_list(pool):
    lst = [None] * 40
    assert rte.rte_pktmbuf_alloc_bulk(pool, lst, 32) == 0
    assert all(isinstance(m, rte.Mbuf) for m in lst[:32])
    assert lst[32:] == [None] * 8
    assert len({m.index for m in lst[:32]}) == 32
    assert all(m.data_off == HEADROOM and m.refcnt == 1 for m in lst[:32])
    assert pool.in_use_count() == 32
    rte.rte_pktmbuf_free_bulk(lst, 32)
    assert pool.in_use_count() == 0


def test_alloc_bulk_list_larger_than_stack_buffer(pool):
    lst = [None] * 200                      # > 64: the core's heap path
    assert rte.rte_pktmbuf_alloc_bulk(pool, lst, 200) == 0
    assert len({m.index for m in lst}) == 200
    rte.rte_pktmbuf_free_bulk(lst, 200)
    assert pool.in_use_count() == 0


def test_alloc_bulk_burst(pool):
    burst = rte.MbufBurst(64)
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst, 32) == 0
    assert burst.count == 32
    assert (burst.handles[:32] != 0).all() and (burst.handles[32:] == 0).all()
    assert [m.handle for m in burst[:32]] == burst.handles[:32].tolist()
    assert pool.in_use_count() == 32
    rte.rte_pktmbuf_free_bulk(burst, 32)
    assert pool.in_use_count() == 0


def test_alloc_bulk_zero(pool):
    assert rte.rte_pktmbuf_alloc_bulk(pool, [], 0) == 0
    assert rte.rte_pktmbuf_alloc_bulk(pool, rte.MbufBurst(4), 0) == 0
    rte.rte_pktmbuf_free_bulk([], 0)
    assert pool.in_use_count() == 0


def test_alloc_bulk_container_too_small(pool):
    assert rte.rte_pktmbuf_alloc_bulk(pool, [None] * 3, 4) == -errno.EINVAL
    assert rte.rte_pktmbuf_alloc_bulk(pool, rte.MbufBurst(3), 4) == -errno.EINVAL
    assert pool.in_use_count() == 0
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_free_bulk(rte.MbufBurst(3), 4)
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_free_bulk([None] * 3, 4)


@pytest.mark.parametrize("kind", ["list", "burst"])
def test_alloc_bulk_more_than_available_is_all_or_nothing(make_pool, kind):
    mp = make_pool(n=16)
    held = [mbuf_from(mp) for _ in range(10)]
    out = [None] * 8 if kind == "list" else rte.MbufBurst(8)
    assert rte.rte_pktmbuf_alloc_bulk(mp, out, 8) == -errno.ENOENT
    assert mp.avail_count() == 6 and mp.in_use_count() == 10
    if kind == "list":
        assert out == [None] * 8
    else:
        assert out.count == 0 and (out.handles == 0).all()
    assert rte.rte_pktmbuf_alloc_bulk(mp, out, 6) == 0      # exactly what is left: fine
    assert mp.avail_count() == 0
    rte.rte_pktmbuf_free_bulk(out, 6)
    rte.rte_pktmbuf_free_bulk(held, 10)
    assert_pool_intact(mp)


def test_free_bulk_frees_chains_and_skips_none(pool):
    pkts = [chain_from(pool, [b"a", b"b"]), None, mbuf_from(pool, b"c"), chain_from(pool, [b"d", b"e", b"f"])]
    assert pool.in_use_count() == 6
    rte.rte_pktmbuf_free_bulk(pkts, 4)
    assert pool.in_use_count() == 0


def test_free_bulk_partial_count(pool):
    lst = [None] * 8
    rte.rte_pktmbuf_alloc_bulk(pool, lst, 8)
    rte.rte_pktmbuf_free_bulk(lst, 5)
    assert pool.in_use_count() == 3
    rte.rte_pktmbuf_free_bulk(lst[5:], 3)
    assert pool.in_use_count() == 0


def test_free_bulk_across_pools(make_pool):
    a, b = make_pool(n=8), make_pool(n=8)
    mixed = [mbuf_from(a), mbuf_from(b), mbuf_from(a), mbuf_from(b), mbuf_from(b)]
    rte.rte_pktmbuf_free_bulk(mixed, 5)
    assert a.in_use_count() == 0 and b.in_use_count() == 0
    assert_pool_intact(a)
    assert_pool_intact(b)


# ---- double frees and other misuse ---------------------------------------------------------------

def test_double_free_raises_and_pool_intact(make_pool):
    mp = make_pool(n=8)
    keep = mbuf_from(mp)
    m = mbuf_from(mp)
    rte.rte_pktmbuf_free(m)
    with pytest.raises(RuntimeError, match="double free"):
        rte.rte_pktmbuf_free(m)
    with pytest.raises(RuntimeError, match="double free"):
        rte.rte_pktmbuf_free_seg(m)
    assert_pool_intact(mp, in_use=1)
    rte.rte_pktmbuf_free(keep)
    assert_pool_intact(mp)


@pytest.mark.parametrize("kind", ["list", "burst"])
def test_free_bulk_with_one_already_freed(make_pool, kind):
    mp = make_pool(n=8)
    lst = [None] * 4
    assert rte.rte_pktmbuf_alloc_bulk(mp, lst, 4) == 0
    rte.rte_pktmbuf_free(lst[2])
    if kind == "burst":
        burst = rte.MbufBurst(4)
        for i, m in enumerate(lst):
            burst[i] = m
        lst = burst
    with pytest.raises(RuntimeError, match="double free"):
        rte.rte_pktmbuf_free_bulk(lst, 4)
    assert mp.in_use_count() == 0             # the three others were freed
    assert_pool_intact(mp)


def test_free_bulk_same_mbuf_twice_in_one_call(make_pool):
    """Regression: the same mbuf twice in one free_bulk is pushed twice on the free stack.

    core/mempool.pxi batch_free_seg checks ``state`` but the state is only set to FREE
    in pool_put_bulk when the batch is flushed, so the second occurrence passes the check.
    """
    mp = make_pool(n=8)
    m = mbuf_from(mp)
    try:
        with pytest.raises(RuntimeError, match="double free"):
            rte.rte_pktmbuf_free_bulk([m, m], 2)
        assert mp.avail_count() == 8, "pool has more free mbufs than it has mbufs"
        assert_pool_intact(mp)
    finally:
        rte.rte_mempool_free(mp)             # the pool may be corrupt: do not let it out


def test_free_after_pool_freed_does_not_touch_a_new_pool(unique_name):
    """Regression: a stale mbuf of a freed pool is freed into the next pool that gets its id.

    rte_mempool_free clears pyrtap_pools[id]; the next pool reuses the id, and
    batch_add (core/mempool.pxi) looks the pool up by ``m.pool_id`` only, so the old
    mbuf's index is pushed on the new pool's free stack.
    """
    old = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, DEFAULT)
    m = mbuf_from(old)
    rte.rte_mempool_free(old)
    new = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, DEFAULT)
    try:
        assert new.pool_id == old.pool_id
        try:
            rte.rte_pktmbuf_free(m)          # DPDK: undefined; here it must not corrupt `new`
        except (RuntimeError, ValueError):
            pass
        assert new.avail_count() == 8 and new.in_use_count() == 0
        assert_pool_intact(new)
    finally:
        rte.rte_mempool_free(new)


STALE_SCRIPT = """
import pyrtap as rte
mp = rte.rte_pktmbuf_pool_create("stale", 8, 0, 0, 2176)
m = rte.rte_pktmbuf_alloc(mp)
rte.rte_pktmbuf_append(m, 4)
rte.rte_mempool_free(mp)
try:
    {call}
except (ValueError, RuntimeError):
    pass
print("survived")
"""


@pytest.mark.parametrize("call", ["rte.rte_pktmbuf_mtod(m)", "rte.rte_pktmbuf_read(m, 0, 4)", "bytes(m)"])
def test_using_mbuf_of_freed_pool_does_not_crash(call):
    """Regression: touching the data of an mbuf whose pool was freed segfaults the interpreter.

    rte_mempool_free sets pyrtap_pools[id] = NULL and g_pool_objs[id] = None; _view and
    _read (core/mbuf.pxi) then dereference the NULL pool (pyrtap_mbuf_buf in pyrtap_mbuf.h,
    ``owner.pool.data`` on None). DPDK calls this undefined; in Python it should raise.
    Run in a child interpreter so a crash does not take pytest down.
    """
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", STALE_SCRIPT.format(call=call)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "survived" in r.stdout, (
        f"child exited with {r.returncode} (negative = killed by that signal): {r.stderr[-500:]}")


def test_put_into_wrong_pool_leaves_both_intact(make_pool):
    a, b = make_pool(n=8), make_pool(n=8)
    m = mbuf_from(a)
    with pytest.raises(ValueError):
        rte.rte_mempool_put(b, m)
    assert_pool_intact(a, in_use=1)
    assert_pool_intact(b)
    rte.rte_pktmbuf_free(m)


# ---- mtod / views --------------------------------------------------------------------------------

def test_mtod_is_a_zero_copy_writable_view(pool):
    m = mbuf_from(pool, bytes(64))
    v = rte.rte_pktmbuf_mtod(m)
    assert isinstance(v, np.ndarray) and v.dtype == np.uint8
    assert v.shape == (64,) and v.flags.writeable
    v[:] = np.arange(64, dtype=np.uint8)
    assert rte.rte_pktmbuf_read(m, 0, 64) == bytes(range(64))
    v2 = rte.rte_pktmbuf_mtod(m)
    assert np.shares_memory(v, v2)
    v2[0] = 0xAB
    assert v[0] == 0xAB
    assert np.shares_memory(v, pool.data)
    assert np.shares_memory(m.data, v)
    rte.rte_pktmbuf_free(m)


def test_mtod_length_follows_data_len(pool):
    m = mbuf_from(pool)
    assert rte.rte_pktmbuf_mtod(m).size == 0
    rte.rte_pktmbuf_append(m, 10)
    assert rte.rte_pktmbuf_mtod(m).size == 10
    rte.rte_pktmbuf_prepend(m, 4)
    assert rte.rte_pktmbuf_mtod(m).size == 14
    rte.rte_pktmbuf_free(m)


def test_mtod_offset(pool):
    m = mbuf_from(pool, pattern(100))
    v = rte.rte_pktmbuf_mtod_offset(m, 30)
    assert v.size == 70 and bytes(v) == pattern(100)[30:]
    v[:5] = 0
    assert rte.rte_pktmbuf_read(m, 28, 8) == pattern(100)[28:30] + bytes(5) + pattern(100)[35:36]
    assert rte.rte_pktmbuf_mtod_offset(m, 100).size == 0
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_mtod_offset(m, 101)
    rte.rte_pktmbuf_free(m)


def test_mtod_of_chain_is_first_segment_only(pool):
    m = chain_from(pool, [b"1234", b"56789"])
    assert bytes(rte.rte_pktmbuf_mtod(m)) == b"1234"
    assert bytes(rte.rte_pktmbuf_mtod(m.next)) == b"56789"
    rte.rte_pktmbuf_free(m)


def test_views_of_neighbouring_mbufs_do_not_overlap(pool):
    a = mbuf_from(pool, bytes(DEFAULT - HEADROOM))
    b = mbuf_from(pool, bytes(DEFAULT - HEADROOM))
    rte.rte_pktmbuf_mtod(a)[:] = 0x11
    rte.rte_pktmbuf_mtod(b)[:] = 0x22
    assert set(bytes(a)) == {0x11} and set(bytes(b)) == {0x22}
    assert not np.shares_memory(rte.rte_pktmbuf_mtod(a), rte.rte_pktmbuf_mtod(b))
    rte.rte_pktmbuf_free(a)
    rte.rte_pktmbuf_free(b)


# ---- append / prepend / adj / trim ---------------------------------------------------------------

def test_append(pool):
    m = mbuf_from(pool)
    v = rte.rte_pktmbuf_append(m, 10)
    assert v.size == 10 and v.flags.writeable
    v[:] = 7
    assert m.data_len == 10 and m.pkt_len == 10
    v2 = rte.rte_pktmbuf_append(m, 5)
    v2[:] = 8
    assert bytes(m) == b"\x07" * 10 + b"\x08" * 5
    assert rte.rte_pktmbuf_tailroom(m) == DEFAULT - HEADROOM - 15
    rte.rte_pktmbuf_free(m)


def test_append_up_to_tailroom_then_none(pool):
    m = mbuf_from(pool, b"abc")
    room = rte.rte_pktmbuf_tailroom(m)
    assert rte.rte_pktmbuf_append(m, room + 1) is None
    assert m.data_len == 3 and m.pkt_len == 3        # unchanged
    assert rte.rte_pktmbuf_append(m, room).size == room
    assert rte.rte_pktmbuf_tailroom(m) == 0
    assert rte.rte_pktmbuf_append(m, 1) is None
    assert m.data_len == 3 + room
    assert rte.rte_pktmbuf_append(m, 0).size == 0
    rte.rte_pktmbuf_free(m)


def test_append_on_chain_grows_last_segment(pool):
    m = chain_from(pool, [b"h" * 100, b"t" * 50])
    v = rte.rte_pktmbuf_append(m, 10)
    v[:] = ord("z")
    assert m.pkt_len == 160 and m.data_len == 100 and m.next.data_len == 60
    assert bytes(m)[-11:] == b"t" + b"z" * 10
    room = DEFAULT - HEADROOM - 60
    assert rte.rte_pktmbuf_append(m, room + 1) is None
    assert m.pkt_len == 160 and m.next.data_len == 60
    rte.rte_pktmbuf_free(m)


def test_prepend(pool):
    m = mbuf_from(pool, b"payload")
    v = rte.rte_pktmbuf_prepend(m, 14)
    assert v.size == 14
    v[:] = np.frombuffer(b"ETHERNETHEADER", np.uint8)
    assert bytes(m) == b"ETHERNETHEADERpayload"
    assert m.data_off == HEADROOM - 14 and m.data_len == 21 and m.pkt_len == 21
    assert rte.rte_pktmbuf_headroom(m) == HEADROOM - 14
    rte.rte_pktmbuf_free(m)


def test_prepend_past_headroom_returns_none(pool):
    m = mbuf_from(pool, b"x")
    assert rte.rte_pktmbuf_prepend(m, HEADROOM + 1) is None
    assert m.data_off == HEADROOM and m.data_len == 1 and m.pkt_len == 1
    assert rte.rte_pktmbuf_prepend(m, HEADROOM).size == HEADROOM
    assert rte.rte_pktmbuf_headroom(m) == 0
    assert rte.rte_pktmbuf_prepend(m, 1) is None
    assert m.pkt_len == HEADROOM + 1
    rte.rte_pktmbuf_free(m)


def test_prepend_on_chain(pool):
    m = chain_from(pool, [b"bb", b"cc"])
    rte.rte_pktmbuf_prepend(m, 2)[:] = ord("a")
    assert bytes(m) == b"aabbcc"
    assert m.pkt_len == 6 and m.data_len == 4 and m.next.data_len == 2
    rte.rte_pktmbuf_free(m)


def test_adj(pool):
    m = mbuf_from(pool, b"0123456789")
    v = rte.rte_pktmbuf_adj(m, 4)
    assert bytes(v) == b"456789"
    assert m.data_off == HEADROOM + 4 and m.data_len == 6 and m.pkt_len == 6
    assert rte.rte_pktmbuf_adj(m, 7) is None
    assert m.data_len == 6 and m.pkt_len == 6
    assert rte.rte_pktmbuf_adj(m, 6).size == 0
    assert m.data_len == 0 and m.pkt_len == 0
    rte.rte_pktmbuf_free(m)


def test_adj_on_chain_only_first_segment(pool):
    m = chain_from(pool, [b"abcd", b"efgh"])
    assert rte.rte_pktmbuf_adj(m, 5) is None            # more than the first segment
    assert m.pkt_len == 8
    assert bytes(rte.rte_pktmbuf_adj(m, 3)) == b"d"
    assert bytes(m) == b"defgh" and m.pkt_len == 5 and m.next.data_len == 4
    rte.rte_pktmbuf_free(m)


def test_trim(pool):
    m = mbuf_from(pool, b"0123456789")
    assert rte.rte_pktmbuf_trim(m, 3) == 0
    assert bytes(m) == b"0123456" and m.data_len == 7
    assert rte.rte_pktmbuf_trim(m, 8) == -1
    assert m.data_len == 7 and m.pkt_len == 7
    assert rte.rte_pktmbuf_trim(m, 7) == 0
    assert m.pkt_len == 0
    rte.rte_pktmbuf_free(m)


def test_trim_on_chain_only_last_segment(pool):
    m = chain_from(pool, [b"a" * 100, b"b" * 10])
    assert rte.rte_pktmbuf_trim(m, 11) == -1            # more than the last segment
    assert m.pkt_len == 110 and m.next.data_len == 10
    assert rte.rte_pktmbuf_trim(m, 4) == 0
    assert m.pkt_len == 106 and m.data_len == 100 and m.next.data_len == 6
    assert bytes(m) == b"a" * 100 + b"b" * 6
    rte.rte_pktmbuf_free(m)


# ---- headroom / tailroom / lengths ---------------------------------------------------------------

def test_headroom_tailroom_lengths(pool):
    m = mbuf_from(pool)
    assert rte.rte_pktmbuf_headroom(m) == HEADROOM
    assert rte.rte_pktmbuf_tailroom(m) == DEFAULT - HEADROOM
    rte.rte_pktmbuf_append(m, 100)
    rte.rte_pktmbuf_prepend(m, 20)
    assert rte.rte_pktmbuf_headroom(m) == HEADROOM - 20
    assert rte.rte_pktmbuf_tailroom(m) == DEFAULT - HEADROOM - 100
    assert rte.rte_pktmbuf_pkt_len(m) == 120 == len(m)
    assert rte.rte_pktmbuf_data_len(m) == 120
    rte.rte_pktmbuf_free(m)


def test_tailroom_of_chain_last_segment(pool):
    m = chain_from(pool, [b"h" * 100, b"t" * 1000])
    assert rte.rte_pktmbuf_tailroom(rte.rte_pktmbuf_lastseg(m)) == DEFAULT - HEADROOM - 1000
    assert rte.rte_pktmbuf_headroom(m.next) == HEADROOM
    rte.rte_pktmbuf_free(m)


def test_tailroom_of_chain_head_dpdk_semantics(pool):
    """pyrtap deviation: DPDK's rte_pktmbuf_tailroom(m) is m's own segment's tailroom.

    DPDK: ``m->buf_len - rte_pktmbuf_headroom(m) - m->data_len``; pyrtap's
    (core/mbuf.pxi) walks to the last segment first.
    """
    m = chain_from(pool, [b"h" * 100, b"t" * 1000])
    try:
        assert rte.rte_pktmbuf_tailroom(m) == DEFAULT - HEADROOM - 100
    finally:
        rte.rte_pktmbuf_free(m)


# ---- chain / read --------------------------------------------------------------------------------

def test_chain(pool):
    head = mbuf_from(pool, b"head")
    tail = mbuf_from(pool, b"tail!")
    assert rte.rte_pktmbuf_chain(head, tail) == 0
    assert head.nb_segs == 2 and head.pkt_len == 9
    assert head.next == tail and tail.next is None
    assert tail.pkt_len == 5
    assert rte.rte_pktmbuf_is_contiguous(head) == 0
    assert rte.rte_pktmbuf_is_contiguous(tail) == 1
    assert rte.rte_pktmbuf_lastseg(head) == tail
    assert bytes(head) == b"headtail!"
    rte.rte_pktmbuf_free(head)
    assert pool.in_use_count() == 0


def test_chain_of_chains(pool):
    a = chain_from(pool, [b"1", b"22"])
    b = chain_from(pool, [b"333", b"4444", b"55555"])
    assert rte.rte_pktmbuf_chain(a, b) == 0
    assert a.nb_segs == 5 and a.pkt_len == 15
    assert b.pkt_len == b.data_len == 3          # DPDK: the old tail head keeps only its own length
    assert seg_bytes(a) == [b"1", b"22", b"333", b"4444", b"55555"]
    assert rte.rte_pktmbuf_lastseg(a) == rte.rte_pktmbuf_lastseg(b)
    rte.rte_pktmbuf_free(a)
    assert pool.in_use_count() == 0


def test_chain_overflow(pool):
    head = mbuf_from(pool, b"a")
    tail = mbuf_from(pool, b"b")
    head.nb_segs = rte.RTE_MBUF_MAX_NB_SEGS
    assert rte.rte_pktmbuf_chain(head, tail) == -errno.EOVERFLOW
    assert head.next is None and head.pkt_len == 1 and tail.pkt_len == 1
    head.nb_segs = 1
    rte.rte_pktmbuf_free(head)
    rte.rte_pktmbuf_free(tail)


def test_chain_to_itself_rejected(pool):
    m = mbuf_from(pool)
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_chain(m, m)
    assert m.next is None and m.nb_segs == 1
    rte.rte_pktmbuf_free(m)


def test_read_across_segments(pool):
    data = pattern(300)
    m = chain_from(pool, [data[:100], data[100:101], data[101:250], data[250:]])
    assert rte.rte_pktmbuf_read(m, 0, 300) == data
    assert rte.rte_pktmbuf_read(m, 95, 10) == data[95:105]      # spans three segments
    assert rte.rte_pktmbuf_read(m, 100, 1) == data[100:101]
    assert rte.rte_pktmbuf_read(m, 250, 50) == data[250:]
    assert rte.rte_pktmbuf_read(m, 300, 0) == b""
    assert rte.rte_pktmbuf_read(m, 299, 2) is None
    assert rte.rte_pktmbuf_read(m, 301, 0) is None
    assert bytes(m) == data
    rte.rte_pktmbuf_free(m)


def test_read_skips_empty_segments(pool):
    m = chain_from(pool, [b"abc", b"", b"def"])
    assert rte.rte_pktmbuf_read(m, 2, 3) == b"cde"
    assert rte.rte_pktmbuf_read(m, 3, 3) == b"def"
    rte.rte_pktmbuf_free(m)


# ---- refcnt --------------------------------------------------------------------------------------

def test_refcnt_read_update_set(pool):
    m = mbuf_from(pool)
    assert rte.rte_mbuf_refcnt_read(m) == 1
    assert rte.rte_mbuf_refcnt_update(m, 2) == 3
    assert m.refcnt == 3
    assert rte.rte_mbuf_refcnt_update(m, -1) == 2
    rte.rte_mbuf_refcnt_set(m, 5)
    assert rte.rte_mbuf_refcnt_read(m) == 5 and m.refcnt == 5
    rte.rte_mbuf_refcnt_set(m, 1)
    rte.rte_pktmbuf_free(m)


def test_free_with_refcnt_above_one_only_drops_a_reference(pool):
    m = mbuf_from(pool, b"keep")
    rte.rte_mbuf_refcnt_update(m, 1)
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 1 and m.refcnt == 1
    assert bytes(m) == b"keep"
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_pktmbuf_refcnt_update_on_chain(pool):
    m = chain_from(pool, [b"a", b"b", b"c"])
    rte.rte_pktmbuf_refcnt_update(m, 2)
    assert [s.refcnt for s in segments(m)] == [3, 3, 3]
    rte.rte_pktmbuf_refcnt_update(m, -1)
    assert [s.refcnt for s in segments(m)] == [2, 2, 2]
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 3
    assert [s.refcnt for s in segments(m)] == [1, 1, 1]
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_refcnt_update_only_touches_one_segment(pool):
    m = chain_from(pool, [b"a", b"b"])
    rte.rte_mbuf_refcnt_update(m, 1)
    assert (m.refcnt, m.next.refcnt) == (2, 1)
    rte.rte_pktmbuf_free(m)                    # head survives, tail goes
    assert pool.in_use_count() == 1
    rte.rte_pktmbuf_free_seg(m)
    assert pool.in_use_count() == 0


# ---- clone ---------------------------------------------------------------------------------------

def test_clone_shares_data(pool):
    m = mbuf_from(pool, pattern(64))
    m.port, m.packet_type, m.l2_len, m.l3_len, m.tso_segsz = 2, 0x21, 14, 20, 1000
    m.ol_flags = rte.RTE_MBUF_F_TX_IPV4
    c = rte.rte_pktmbuf_clone(m, pool)
    assert c is not None and c != m
    assert bytes(c) == pattern(64)
    assert np.shares_memory(rte.rte_pktmbuf_mtod(c), rte.rte_pktmbuf_mtod(m))
    rte.rte_pktmbuf_mtod(m)[:4] = [1, 2, 3, 4]          # write in the original ...
    assert rte.rte_pktmbuf_read(c, 0, 4) == b"\x01\x02\x03\x04"  # ... seen in the clone
    rte.rte_pktmbuf_mtod(c)[4] = 0xEE                    # and the other way round
    assert rte.rte_pktmbuf_read(m, 4, 1) == b"\xee"
    assert m.refcnt == 2 and c.refcnt == 1
    assert c.ol_flags == rte.RTE_MBUF_F_TX_IPV4 | rte.RTE_MBUF_F_INDIRECT
    assert not rte.RTE_MBUF_DIRECT(c) and rte.RTE_MBUF_DIRECT(m)
    assert (c.port, c.packet_type, c.l2_len, c.l3_len, c.tso_segsz) == (2, 0x21, 14, 20, 1000)
    assert c.data_off == m.data_off and c.buf_len == m.buf_len
    assert c.pkt_len == m.pkt_len and c.nb_segs == 1
    rte.rte_pktmbuf_free(c)
    rte.rte_pktmbuf_free(m)


def test_clone_has_its_own_offsets(pool):
    m = mbuf_from(pool, b"0123456789")
    c = rte.rte_pktmbuf_clone(m, pool)
    rte.rte_pktmbuf_adj(c, 4)
    rte.rte_pktmbuf_trim(c, 2)
    assert bytes(c) == b"4567" and bytes(m) == b"0123456789"
    assert m.data_off == HEADROOM
    rte.rte_pktmbuf_free(m)
    rte.rte_pktmbuf_free(c)


def test_clone_of_chain_refcounts_per_segment(pool):
    m = chain_from(pool, [b"a" * 10, b"b" * 20, b"c" * 30])
    c = rte.rte_pktmbuf_clone(m, pool)
    assert pool.in_use_count() == 6
    assert c.nb_segs == 3 and c.pkt_len == 60
    assert [s.refcnt for s in segments(m)] == [2, 2, 2]
    assert [s.refcnt for s in segments(c)] == [1, 1, 1]
    assert [s.data_len for s in segments(c)] == [10, 20, 30]
    assert all(s.ol_flags & rte.RTE_MBUF_F_INDIRECT for s in segments(c))
    assert bytes(c) == bytes(m)
    rte.rte_pktmbuf_mtod(m.next.next)[:] = ord("X")
    assert bytes(c)[-30:] == b"X" * 30
    rte.rte_pktmbuf_free(m)
    rte.rte_pktmbuf_free(c)
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("first", ["original", "clone"])
def test_clone_free_order(pool, first):
    m = chain_from(pool, [b"x" * 10, b"y" * 10])
    c = rte.rte_pktmbuf_clone(m, pool)
    assert pool.in_use_count() == 4
    a, b = (m, c) if first == "original" else (c, m)
    rte.rte_pktmbuf_free(a)
    if first == "original":
        assert pool.in_use_count() == 4             # data still referenced by the clone
    else:
        assert pool.in_use_count() == 2             # the clone's own two mbufs are back
    # the survivor still holds the data
    assert bytes(b) == b"x" * 10 + b"y" * 10
    assert [s.refcnt for s in segments(m)] == [1, 1]
    rte.rte_pktmbuf_free(b)
    assert pool.in_use_count() == 0
    assert_pool_intact(pool)


def test_clone_into_another_pool(make_pool):
    src, dst = make_pool(n=8), make_pool(n=8, data_room=256)
    m = mbuf_from(src, pattern(1000))
    c = rte.rte_pktmbuf_clone(m, dst)
    assert c.pool is dst and dst.in_use_count() == 1
    assert c.buf_len == DEFAULT                      # the borrowed buffer's length
    assert bytes(c) == pattern(1000)
    rte.rte_pktmbuf_free(m)
    assert src.in_use_count() == 1                   # data kept alive by the clone
    rte.rte_pktmbuf_free(c)
    assert src.in_use_count() == 0 and dst.in_use_count() == 0
    again = mbuf_from(dst)                               # the clone's buffer is its own again
    assert again.buf_len == 256
    rte.rte_pktmbuf_free(again)


def test_clone_of_clone_references_the_direct_buffer(pool):
    m = mbuf_from(pool, b"data")
    c1 = rte.rte_pktmbuf_clone(m, pool)
    c2 = rte.rte_pktmbuf_clone(c1, pool)
    assert m.refcnt == 3 and c1.refcnt == 1 and c2.refcnt == 1
    rte.rte_pktmbuf_mtod(m)[0] = ord("D")
    assert bytes(c2) == b"Data"
    for x in (c1, m, c2):
        rte.rte_pktmbuf_free(x)
    assert pool.in_use_count() == 0


def test_clone_from_exhausted_pool(make_pool, pool):
    small = make_pool(n=1)
    m = chain_from(pool, [b"a", b"b"])                   # needs two mbufs, only one free
    _core._set_errno(0)
    assert rte.rte_pktmbuf_clone(m, small) is None
    assert rte.rte_errno() == errno.ENOENT
    assert [s.refcnt for s in segments(m)] == [1, 1]  # references given back
    assert small.avail_count() == 1
    held = mbuf_from(small)
    assert rte.rte_pktmbuf_clone(m, small) is None
    rte.rte_pktmbuf_free(held)
    rte.rte_pktmbuf_free(m)
    assert_pool_intact(small)


# ---- copy ----------------------------------------------------------------------------------------

def test_copy_is_deep(pool):
    m = mbuf_from(pool, pattern(200))
    m.ol_flags = rte.RTE_MBUF_F_TX_UDP_CKSUM
    m.port, m.l2_len, m.l3_len, m.l4_len = 1, 14, 20, 8
    c = rte.rte_pktmbuf_copy(m, pool, 0, 0xFFFFFFFF)
    assert bytes(c) == pattern(200) and c.pkt_len == 200 and c.nb_segs == 1
    assert not np.shares_memory(rte.rte_pktmbuf_mtod(c), rte.rte_pktmbuf_mtod(m))
    rte.rte_pktmbuf_mtod(m)[:] = 0
    assert bytes(c) == pattern(200)
    assert c.ol_flags == rte.RTE_MBUF_F_TX_UDP_CKSUM
    assert (c.port, c.l2_len, c.l3_len, c.l4_len) == (1, 14, 20, 8)
    assert m.refcnt == 1 and c.refcnt == 1
    rte.rte_pktmbuf_free(c)
    rte.rte_pktmbuf_free(m)


def test_copy_default_arguments_copy_everything(pool):
    m = chain_from(pool, [b"abc", b"def"])
    c = rte.rte_pktmbuf_copy(m, pool)
    assert bytes(c) == b"abcdef" and c.nb_segs == 1
    rte.rte_pktmbuf_free(c)
    rte.rte_pktmbuf_free(m)


@pytest.mark.parametrize("off, length", [(0, 10), (10, 50), (99, 1), (150, 1000), (0, 0), (299, 0xFFFFFFFF)])
def test_copy_offset_and_length_across_segments(pool, off, length):
    data = pattern(300, seed=3)
    m = chain_from(pool, [data[:100], data[100:160], data[160:]])
    c = rte.rte_pktmbuf_copy(m, pool, off, length)
    assert c is not None
    assert bytes(c) == data[off:off + length]
    assert c.pkt_len == len(data[off:off + length])
    rte.rte_pktmbuf_free(c)
    rte.rte_pktmbuf_free(m)


def test_copy_offset_past_end(pool):
    m = mbuf_from(pool, b"abc")
    _core._set_errno(0)
    assert rte.rte_pktmbuf_copy(m, pool, 3, 1) is None
    assert rte.rte_errno() == errno.EINVAL
    assert pool.in_use_count() == 1
    rte.rte_pktmbuf_free(m)


def test_copy_into_small_data_room_is_multi_segment(make_pool, pool):
    small = make_pool(n=32, data_room=HEADROOM + 100)   # 100 bytes of data per mbuf
    data = pattern(1000, seed=11)
    m = chain_from(pool, [data[:333], data[333:]])
    c = rte.rte_pktmbuf_copy(m, small, 50, 900)
    assert c is not None and c.pool is small
    assert c.nb_segs == 9 and c.pkt_len == 900
    assert [s.data_len for s in segments(c)] == [100] * 9
    assert all(s.pool is small for s in segments(c))
    assert bytes(c) == data[50:950]
    assert small.in_use_count() == 9
    rte.rte_pktmbuf_free(c)
    rte.rte_pktmbuf_free(m)


def test_copy_runs_out_midway(make_pool, pool):
    small = make_pool(n=4, data_room=HEADROOM + 100)
    m = mbuf_from(pool, pattern(1000))
    _core._set_errno(0)
    assert rte.rte_pktmbuf_copy(m, small) is None
    assert rte.rte_errno() == errno.ENOENT
    assert_pool_intact(small)
    rte.rte_pktmbuf_free(m)


def test_copy_of_clone_is_direct(pool):
    m = mbuf_from(pool, b"hello")
    c = rte.rte_pktmbuf_clone(m, pool)
    d = rte.rte_pktmbuf_copy(c, pool)
    assert rte.RTE_MBUF_DIRECT(d) and bytes(d) == b"hello"
    assert m.refcnt == 2                       # copy takes no reference
    for x in (d, c, m):
        rte.rte_pktmbuf_free(x)
    assert pool.in_use_count() == 0


def test_copy_past_an_empty_middle_segment(pool):
    """Regression: rte_pktmbuf_copy copies the wrong bytes when ``off`` skips past an empty
    segment.

    core/mbuf.pxi: the skip loop ``while ... off >= src.data_len and src.data_len`` stops at
    the empty segment with ``off`` > 0; ``n = src.data_len - off`` then underflows (uint32)
    and the copy reads from the empty segment's buffer.
    """
    a = mbuf_from(pool, b"0123456789")
    b = mbuf_from(pool, b"\xee" * 20)
    rte.rte_pktmbuf_trim(b, 20)                # empty, but its buffer holds 0xEE
    c = mbuf_from(pool, b"ABCDEFGHIJ")
    rte.rte_pktmbuf_chain(a, b)
    rte.rte_pktmbuf_chain(a, c)
    assert rte.rte_pktmbuf_read(a, 15, 5) == b"FGHIJ"
    cp = rte.rte_pktmbuf_copy(a, pool, 15, 5)
    try:
        assert bytes(cp) == b"FGHIJ"
    finally:
        rte.rte_pktmbuf_free(cp)
        rte.rte_pktmbuf_free(a)


# ---- attributes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("attr, value", [
    ("ol_flags", rte.RTE_MBUF_F_TX_TCP_SEG | rte.RTE_MBUF_F_TX_IPV4 | rte.RTE_MBUF_F_TX_IP_CKSUM),
    ("ol_flags", (1 << 64) - 1),
    ("packet_type", 0xFFFFFFFF),
    ("l2_len", 14),
    ("l3_len", 40),
    ("l4_len", 20),
    ("outer_l2_len", 14),
    ("outer_l3_len", 20),
    ("tso_segsz", 1448),
    ("port", 7),
    ("nb_segs", 3),
    ("pkt_len", 1000),          # no longer than the chain's data (1500 appended below)
    ("data_len", 1500),
    ("data_off", 64),
])
def test_writable_attribute(pool, attr, value):
    m = mbuf_from(pool)
    if attr == "pkt_len":
        rte.rte_pktmbuf_append(m, 1500)
    setattr(m, attr, value)
    assert getattr(m, attr) == value
    assert pool.meta[m.index][attr] == value          # written to the shared metadata
    other = burst_handle(m)
    assert getattr(other, attr) == value              # and seen through any handle
    m.nb_segs, m.data_off, m.data_len = 1, HEADROOM, 0
    rte.rte_pktmbuf_free(m)


def burst_handle(m):
    b = rte.MbufBurst(1)
    b[0] = m
    return b[0]


@pytest.mark.parametrize("attr", ["l2_len", "port", "tso_segsz", "data_len", "nb_segs", "data_off"])
def test_uint16_attributes_reject_out_of_range(pool, attr):
    m = mbuf_from(pool)
    before = getattr(m, attr)
    with pytest.raises(OverflowError):
        setattr(m, attr, 1 << 16)
    with pytest.raises(OverflowError):
        setattr(m, attr, -1)
    assert getattr(m, attr) == before
    rte.rte_pktmbuf_free(m)


def test_data_off_and_data_len_must_fit_the_buffer(pool):
    m = mbuf_from(pool)
    with pytest.raises(ValueError):
        m.data_off = DEFAULT + 1
    with pytest.raises(ValueError):
        m.data_len = DEFAULT - HEADROOM + 1
    m.data_len = DEFAULT - HEADROOM
    assert rte.rte_pktmbuf_tailroom(m) == 0
    m.data_len = 0
    rte.rte_pktmbuf_free(m)


def test_next_attribute(pool):
    a, b = mbuf_from(pool, b"a"), mbuf_from(pool, b"b")
    assert a.next is None
    a.next = b
    assert a.next == b and isinstance(a.next, rte.Mbuf)
    a.next = None
    assert a.next is None
    with pytest.raises(TypeError):
        a.next = "b"
    rte.rte_pktmbuf_free(a)
    rte.rte_pktmbuf_free(b)


def test_readonly_attributes(pool):
    m = mbuf_from(pool)
    assert m.buf_len == DEFAULT
    assert m.pool is pool
    assert m.refcnt == 1
    assert m.index == pool.meta["idx"][m.index]
    assert "data_len=0" in repr(m) and pool.name in repr(m)
    rte.rte_pktmbuf_free(m)


def test_equality_of_handles(pool):
    a, b = mbuf_from(pool), mbuf_from(pool)
    burst = rte.MbufBurst(2)
    burst[0] = a
    a2 = burst[0]
    assert a2 is not a
    assert a2 == a and not (a2 != a)
    assert hash(a2) == hash(a)
    assert a != b
    assert a != a.handle and a != None  # noqa: E711
    assert len({a, a2, b}) == 2
    assert a.handle == a2.handle == int(burst.handles[0])
    rte.rte_pktmbuf_free(a)
    rte.rte_pktmbuf_free(b)


# ---- MbufBurst -----------------------------------------------------------------------------------

def test_burst_basics(pool):
    burst = rte.MbufBurst(8)
    assert len(burst) == 8 and burst.size == 8 and burst.count == 0
    assert burst.handles.dtype == np.uint64 and burst.handles.shape == (8,)
    assert list(burst) == [None] * 8
    assert "size=8" in repr(burst)
    with pytest.raises(ValueError):
        rte.MbufBurst(0)
    with pytest.raises(TypeError):
        rte.MbufBurst(4, handles=[0, 0, 0, 0])
    with pytest.raises(TypeError):
        rte.MbufBurst(4, handles=np.zeros(4, np.int64))


def test_burst_indexing_and_setitem(pool):
    burst = rte.MbufBurst(4)
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst, 3) == 0
    ms = [burst[i] for i in range(3)]
    assert all(isinstance(m, rte.Mbuf) for m in ms) and burst[3] is None
    assert burst[-4] == ms[0] and burst[-2] == ms[2]
    with pytest.raises(IndexError):
        burst[4]
    with pytest.raises(IndexError):
        burst[-5]
    burst[3] = ms[0]
    assert burst[3] == ms[0] and burst.handles[3] == burst.handles[0]
    burst[-1] = None
    assert burst[3] is None and burst.handles[3] == 0
    with pytest.raises(IndexError):
        burst[4] = ms[0]
    with pytest.raises(TypeError):
        burst[0] = "mbuf"
    assert burst[0] == ms[0]
    rte.rte_pktmbuf_free_bulk(burst, 3)


def test_burst_slicing_shares_handles(pool):
    burst = rte.MbufBurst(16)
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst, 16) == 0
    ms = list(burst)
    s = burst[4:8]
    assert isinstance(s, rte.MbufBurst) and len(s) == 4
    assert list(s) == ms[4:8]
    assert np.shares_memory(s.handles, burst.handles)
    s[0] = ms[0]
    assert burst[4] == ms[0]
    s[0] = ms[4]
    assert burst[-3:][0] == ms[13] and len(burst[-3:]) == 3
    assert burst[::4] == [ms[0], ms[4], ms[8], ms[12]]
    assert len(burst[5:5]) == 0 and len(burst[10:2]) == 0
    rte.rte_pktmbuf_free_bulk(burst[0:8], 8)          # a slice is accepted like a burst
    assert pool.in_use_count() == 8
    rte.rte_pktmbuf_free_bulk(burst[8:], 8)
    assert pool.in_use_count() == 0


def test_burst_alloc_into_slice(pool):
    burst = rte.MbufBurst(16)
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst[8:], 8) == 0
    assert (burst.handles[:8] == 0).all() and (burst.handles[8:] != 0).all()
    rte.rte_pktmbuf_free_bulk(burst[8:], 8)
    assert pool.in_use_count() == 0


def test_burst_iteration_count_and_clear(pool):
    burst = rte.MbufBurst(8)
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst, 5) == 0
    assert burst.count == 5
    items = [m for m in burst]
    assert len(items) == 8 and items[5:] == [None] * 3
    assert [m.index for m in items[:5]] == [burst[i].index for i in range(5)]
    burst.count = 2                                        # public, as rx_burst sets it
    assert burst.count == 2
    keep = list(burst)[:5]
    burst.clear()
    assert burst.count == 0 and list(burst) == [None] * 8
    assert pool.in_use_count() == 5                        # clear frees nothing
    rte.rte_pktmbuf_free_bulk(keep, 5)


def test_burst_built_on_existing_handles(pool):
    handles = np.zeros(4, dtype=np.uint64)
    m = mbuf_from(pool)
    handles[2] = m.handle
    burst = rte.MbufBurst(0, handles=handles)
    assert len(burst) == 4 and burst[2] == m and burst[0] is None
    rte.rte_pktmbuf_free(m)


def test_burst_and_list_interchangeable(pool):
    burst = rte.MbufBurst(8)
    lst = [None] * 8
    assert rte.rte_pktmbuf_alloc_bulk(pool, burst, 8) == 0
    assert rte.rte_pktmbuf_alloc_bulk(pool, lst, 8) == 0
    for i in range(8):                                     # swap contents: frees still work
        burst[i], lst[i] = lst[i], burst[i]
    rte.rte_pktmbuf_free_bulk(lst, 8)
    rte.rte_pktmbuf_free_bulk(burst, 8)
    assert pool.in_use_count() == 0
