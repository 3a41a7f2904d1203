"""Mempool: creation, look-up, counters, errors, shared memory and process safety.

Covers the "Mempool and mbuf" section of docs/api.md for pools, and every
function of pyrtap/mempool.py. Mbuf operations are in test_mbuf.py.
"""
from __future__ import annotations

import errno
import mmap
import os
import struct
import time

import numpy as np
import pytest

import pyrtap as rte
from helpers import assert_pool_intact
from pyrtap import _core, mempool

DEFAULT = rte.RTE_MBUF_DEFAULT_BUF_SIZE
POOL_MAGIC = 0x3170617472797030   # "0pyrtap1", PYRTAP_POOL_MAGIC in pyrtap_mbuf.h


def create(name, n=64, cache_size=0, priv_size=0, data_room=DEFAULT, socket_id=rte.SOCKET_ID_ANY):
    return rte.rte_pktmbuf_pool_create(name, n, cache_size, priv_size, data_room, socket_id)


# ---- constants and layout -------------------------------------------------------------------

def test_constants_match_dpdk():
    assert rte.RTE_PKTMBUF_HEADROOM == 128
    assert rte.RTE_MBUF_DEFAULT_BUF_SIZE == 2048 + 128 == 2176
    assert rte.RTE_MBUF_DEFAULT_DATAROOM == 2048
    assert rte.RTE_MBUF_PRIV_ALIGN == 8
    assert rte.RTE_MEMPOOL_CACHE_MAX_SIZE == 512
    assert rte.SOCKET_ID_ANY == -1


def test_metadata_is_one_cache_line():
    assert _core.MBUF_METADATA_SIZE == 64
    assert mempool.MBUF_DTYPE.itemsize == 64


def test_pool_layout_offsets():
    meta_off, stack_off, data_off, stride, total = _core._pool_layout(100, 16, DEFAULT)
    assert meta_off % 64 == 0 and meta_off >= _core.POOL_HEADER_SIZE
    assert stack_off == meta_off + 100 * 64
    assert data_off % 4096 == 0 and data_off >= stack_off + 100 * 4
    assert stride % 64 == 0 and stride >= 16 + DEFAULT
    assert total == data_off + 100 * stride


# ---- create and properties ------------------------------------------------------------------

def test_create_properties(unique_name):
    name = unique_name("mp")
    mp = create(name, n=100, cache_size=32, priv_size=16, data_room=1024)
    try:
        assert isinstance(mp, rte.Mempool)
        assert mp.name == name
        assert mp.size == 100
        assert mp.cache_size == 32
        assert mp.private_data_size == 16
        assert mp.data_room_size == 1024
        assert not mp.freed
        assert 0 <= mp.pool_id < 256
        assert mp.fd >= 0
        assert rte.rte_mempool_avail_count(mp) == mp.avail_count() == 100
        assert rte.rte_mempool_in_use_count(mp) == mp.in_use_count() == 0
        assert rte.rte_mempool_full(mp) == 1
        assert rte.rte_mempool_empty(mp) == 0
        assert name in repr(mp) and "avail=100" in repr(mp)
        st = mp.stats()
        assert st["size"] == 100 and st["avail"] == 100 and st["in_use"] == 0
        assert st["get_success_objs"] == st["put_objs"] == st["get_fail_objs"] == 0
    finally:
        rte.rte_mempool_free(mp)


def test_socket_id_is_optional_and_ignored(unique_name):
    mp = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, DEFAULT)
    mp2 = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, DEFAULT, 3)
    try:
        assert mp is not None and mp2 is not None
        assert mp.pool_id != mp2.pool_id
    finally:
        rte.rte_mempool_free(mp)
        rte.rte_mempool_free(mp2)


def test_metadata_view_initial_state(pool):
    meta = pool.meta
    assert meta.dtype == mempool.MBUF_DTYPE
    assert len(meta) == pool.size
    assert (meta["idx"] == np.arange(pool.size)).all()
    assert (meta["pool_id"] == pool.pool_id).all()
    assert (meta["buf_len"] == DEFAULT).all()
    assert (meta["refcnt"] == 1).all()
    assert (meta["state"] == 0).all()
    assert pool.data.dtype == np.uint8
    stride = _core._pool_layout(pool.size, 0, DEFAULT)[3]
    assert pool.data.size == pool.size * stride


def test_metadata_view_follows_mbuf(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    rte.rte_pktmbuf_append(m, 77)
    m.port = 5
    m.ol_flags = rte.RTE_MBUF_F_TX_IPV4
    row = pool.meta[m.index]
    assert row["state"] == 1
    assert row["data_len"] == 77 and row["pkt_len"] == 77
    assert row["port"] == 5 and row["ol_flags"] == rte.RTE_MBUF_F_TX_IPV4
    assert row["data_off"] == 128
    rte.rte_pktmbuf_free(m)
    assert pool.meta[m.index]["state"] == 0


def test_allocation_walks_data_area_in_order(pool):
    ms = [rte.rte_pktmbuf_alloc(pool) for _ in range(4)]
    assert [m.index for m in ms] == [0, 1, 2, 3]
    rte.rte_pktmbuf_free_bulk(ms, 4)


def test_data_offsets_include_private_area(make_pool):
    mp = make_pool(n=8, data_room=512, priv_size=64)
    _, _, _, stride, _ = _core._pool_layout(8, 64, 512)
    m0 = rte.rte_pktmbuf_alloc(mp)
    m1 = rte.rte_pktmbuf_alloc(mp)
    rte.rte_pktmbuf_append(m1, 4)[:] = [1, 2, 3, 4]
    start = m1.index * stride + 64 + m1.data_off
    assert bytes(mp.data[start:start + 4]) == b"\x01\x02\x03\x04"
    assert m1.buf_len == 512
    rte.rte_pktmbuf_free(m0)
    rte.rte_pktmbuf_free(m1)


def test_small_data_room(make_pool):
    mp = make_pool(n=4, data_room=256)
    m = rte.rte_pktmbuf_alloc(mp)
    assert m.buf_len == 256
    assert rte.rte_pktmbuf_headroom(m) == 128
    assert rte.rte_pktmbuf_tailroom(m) == 128
    rte.rte_pktmbuf_free(m)


def test_data_room_equal_to_headroom_leaves_no_tailroom(make_pool):
    mp = make_pool(n=4, data_room=rte.RTE_PKTMBUF_HEADROOM)
    m = rte.rte_pktmbuf_alloc(mp)
    assert m.data_off == 128
    assert rte.rte_pktmbuf_tailroom(m) == 0
    assert rte.rte_pktmbuf_append(m, 1) is None
    assert rte.rte_pktmbuf_prepend(m, 128) is not None
    rte.rte_pktmbuf_free(m)


# ---- lookup, list, free ---------------------------------------------------------------------

def test_lookup(unique_name):
    name = unique_name("mp")
    mp = create(name)
    try:
        assert rte.rte_mempool_lookup(name) is mp
    finally:
        rte.rte_mempool_free(mp)
    assert rte.rte_mempool_lookup(name) is None
    assert rte.rte_errno() == errno.ENOENT


def test_lookup_unknown_sets_enoent(unique_name):
    mp = create(unique_name("mp"))
    try:
        rte.rte_pktmbuf_pool_create(mp.name, 8, 0, 0, DEFAULT)     # errno = EEXIST
        assert rte.rte_mempool_lookup(unique_name("no")) is None
        assert rte.rte_errno() == errno.ENOENT
    finally:
        rte.rte_mempool_free(mp)


def test_list(unique_name):
    before = rte.rte_mempool_list()
    a, b = create(unique_name("mp")), create(unique_name("mp"))
    try:
        now = rte.rte_mempool_list()
        assert len(now) == len(before) + 2
        assert any(x is a for x in now) and any(x is b for x in now)
        rte.rte_mempool_free(a)
        assert not any(x is a for x in rte.rte_mempool_list())
        assert any(x is b for x in rte.rte_mempool_list())
    finally:
        rte.rte_mempool_free(a)
        rte.rte_mempool_free(b)
    assert len(rte.rte_mempool_list()) == len(before)


def test_free_releases_name_fd_and_id(unique_name):
    name = unique_name("mp")
    mp = create(name)
    fd, pid = mp.fd, mp.pool_id
    assert os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:pyrtap-pool-" + name)
    rte.rte_mempool_free(mp)
    assert mp.freed and mp.fd == -1
    assert not os.path.exists(f"/proc/self/fd/{fd}") or not os.readlink(
        f"/proc/self/fd/{fd}").startswith("/memfd:pyrtap-pool-" + name)
    assert "avail=-1" in repr(mp)
    again = create(name)          # the name is free again at once
    try:
        assert again is not None and again is not mp
        assert again.pool_id == pid  # and so is the id
    finally:
        rte.rte_mempool_free(again)


def test_free_none_and_twice(unique_name):
    rte.rte_mempool_free(None)
    mp = create(unique_name("mp"))
    rte.rte_mempool_free(mp)
    rte.rte_mempool_free(mp)      # idempotent
    assert mp.freed


def test_free_does_not_drop_a_newer_pool_of_the_same_name(unique_name):
    name = unique_name("mp")
    old = create(name)
    rte.rte_mempool_free(old)
    new = create(name)
    try:
        rte.rte_mempool_free(old)          # stale object: must not unregister the new pool
        assert rte.rte_mempool_lookup(name) is new
    finally:
        rte.rte_mempool_free(new)


def test_alloc_from_freed_pool_raises(unique_name):
    mp = create(unique_name("mp"))
    rte.rte_mempool_free(mp)
    with pytest.raises(ValueError, match="freed"):
        rte.rte_pktmbuf_alloc(mp)
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_alloc_bulk(mp, [None] * 4, 4)


def test_wrong_argument_types():
    with pytest.raises(TypeError):
        rte.rte_pktmbuf_alloc("not a pool")
    with pytest.raises(TypeError):
        rte.rte_pktmbuf_alloc(None)


# ---- counters ---------------------------------------------------------------------------------

def test_avail_in_use_full_empty_through_exhaustion(make_pool):
    mp = make_pool(n=8)
    got = []
    for i in range(8):
        assert rte.rte_mempool_full(mp) == (1 if i == 0 else 0)
        assert rte.rte_mempool_empty(mp) == 0
        got.append(rte.rte_pktmbuf_alloc(mp))
        assert rte.rte_mempool_avail_count(mp) == 7 - i
        assert rte.rte_mempool_in_use_count(mp) == i + 1
    assert rte.rte_mempool_empty(mp) == 1
    assert rte.rte_mempool_full(mp) == 0
    rte.rte_pktmbuf_free_bulk(got, 8)
    assert rte.rte_mempool_full(mp) == 1
    assert rte.rte_mempool_empty(mp) == 0


def test_exhausted_pool_alloc_returns_none_enoent(make_pool):
    mp = make_pool(n=4)
    got = [rte.rte_pktmbuf_alloc(mp) for _ in range(4)]
    _core._set_errno(0)
    assert rte.rte_pktmbuf_alloc(mp) is None
    assert rte.rte_errno() == errno.ENOENT
    assert mp.avail_count() == 0 and mp.in_use_count() == 4
    rte.rte_pktmbuf_free(got.pop())
    m = rte.rte_pktmbuf_alloc(mp)            # works again once one is back
    assert m is not None
    got.append(m)
    rte.rte_pktmbuf_free_bulk(got, 4)
    assert_pool_intact(mp)


def test_stats_count_gets_puts_and_failures(make_pool):
    mp = make_pool(n=16)
    burst = rte.MbufBurst(32)
    assert rte.rte_pktmbuf_alloc_bulk(mp, burst, 10) == 0
    assert rte.rte_pktmbuf_alloc_bulk(mp, burst, 10) == -errno.ENOENT
    rte.rte_pktmbuf_free_bulk(burst, 10)
    st = mp.stats()
    assert st["get_success_bulk"] == 1 and st["get_success_objs"] == 10
    assert st["get_fail_bulk"] == 1 and st["get_fail_objs"] == 10
    assert st["put_objs"] == 10
    assert st["avail"] == 16 and st["in_use"] == 0


# ---- creation errors --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, why", [
    (dict(n=0), "n=0"),
    (dict(n=-1), "negative n"),
    (dict(n=1 << 24), "n too large"),
    (dict(data_room=rte.RTE_PKTMBUF_HEADROOM - 1), "data room smaller than the headroom"),
    (dict(data_room=0), "no data room"),
    (dict(data_room=65536), "data room beyond uint16"),
    (dict(priv_size=4), "priv_size not a multiple of 8"),
    (dict(priv_size=12), "priv_size not a multiple of 8"),
    (dict(priv_size=-8), "negative priv_size"),
    (dict(n=100, cache_size=68), "cache larger than n / 1.5"),
    (dict(n=4096, cache_size=513), "cache larger than RTE_MEMPOOL_CACHE_MAX_SIZE"),
    (dict(cache_size=-1), "negative cache"),
])
def test_create_rejects_bad_sizes_with_einval(unique_name, kwargs, why):
    before = len(rte.rte_mempool_list())
    _core._set_errno(0)
    assert create(unique_name("mp"), **kwargs) is None, why
    assert rte.rte_errno() == errno.EINVAL, why
    assert len(rte.rte_mempool_list()) == before


@pytest.mark.parametrize("name", ["", "x" * rte.RTE_MEMPOOL_NAMESIZE, None, 7])
def test_create_rejects_bad_names(name):
    _core._set_errno(0)
    assert create(name) is None
    assert rte.rte_errno() == errno.EINVAL


def test_longest_name_accepted():
    name = "L" * (rte.RTE_MEMPOOL_NAMESIZE - 1)
    mp = create(name)
    try:
        assert mp is not None and mp.name == name
    finally:
        rte.rte_mempool_free(mp)


def test_valid_boundaries_accepted(unique_name):
    made = [create(unique_name("mp"), n=1),
            create(unique_name("mp"), n=8, priv_size=8, data_room=0xFFFF),
            create(unique_name("mp"), n=96, cache_size=64)]
    try:
        assert all(mp is not None for mp in made)
    finally:
        for mp in made:
            rte.rte_mempool_free(mp)


def test_duplicate_name_eexist_and_original_intact(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    _core._set_errno(0)
    assert create(pool.name, n=8) is None
    assert rte.rte_errno() == errno.EEXIST
    assert rte.rte_mempool_lookup(pool.name) is pool
    assert pool.avail_count() == pool.size - 1 and pool.in_use_count() == 1
    rte.rte_pktmbuf_free(m)
    assert_pool_intact(pool)


def test_too_many_pools_fails_cleanly(unique_name):
    made = []
    try:
        for _ in range(300):
            mp = create(unique_name("mp"), n=1, data_room=256)
            if mp is None:
                break
            made.append(mp)
        assert mp is None, "more than 256 pools were created"
        assert rte.rte_errno() in (errno.ENOMEM, errno.ENOSPC)
        assert len(made) <= 256
    finally:
        for mp in made:
            rte.rte_mempool_free(mp)
    mp = create(unique_name("mp"), n=1)        # and ids are available again
    assert mp is not None
    rte.rte_mempool_free(mp)


# ---- rte_mempool_get / rte_mempool_put ---------------------------------------------------------

def test_mempool_get_put_round_trip(make_pool):
    mp = make_pool(n=4)
    m = rte.rte_mempool_get(mp)
    assert isinstance(m, rte.Mbuf) and m.pool is mp
    assert mp.in_use_count() == 1
    rte.rte_mempool_put(mp, m)
    assert mp.in_use_count() == 0
    with pytest.raises(RuntimeError, match="double free"):
        rte.rte_mempool_put(mp, m)
    assert_pool_intact(mp)


def test_mempool_put_into_wrong_pool_raises(make_pool):
    a, b = make_pool(n=8), make_pool(n=8)
    m = rte.rte_pktmbuf_alloc(a)
    with pytest.raises(ValueError, match="belongs to pool"):
        rte.rte_mempool_put(b, m)
    assert a.avail_count() == 7 and a.in_use_count() == 1
    assert b.avail_count() == 8 and b.in_use_count() == 0
    rte.rte_mempool_put(a, m)
    assert_pool_intact(a)
    assert_pool_intact(b)


# ---- shared memory ------------------------------------------------------------------------------

def test_pool_memory_is_a_shareable_memfd(make_pool):
    mp = make_pool(n=16, priv_size=8, data_room=1024)
    meta_off, stack_off, data_off, stride, total = _core._pool_layout(16, 8, 1024)
    target = os.readlink(f"/proc/self/fd/{mp.fd}")
    assert target.startswith("/memfd:pyrtap-pool-" + mp.name)
    assert os.fstat(mp.fd).st_size == total

    m0 = rte.rte_pktmbuf_alloc(mp)
    m = rte.rte_pktmbuf_alloc(mp)
    payload = bytes(range(40, 140))
    rte.rte_pktmbuf_append(m, len(payload))[:] = np.frombuffer(payload, np.uint8)

    # A second, independent mapping of the same memory (what a secondary process does).
    fd2 = os.open(f"/proc/self/fd/{mp.fd}", os.O_RDWR)
    try:
        with mmap.mmap(fd2, total, mmap.MAP_SHARED) as mm:
            assert struct.unpack_from("<Q", mm, 0)[0] == POOL_MAGIC
            start = data_off + m.index * stride + 8 + m.data_off
            assert mm[start:start + len(payload)] == payload
            assert payload in mm[data_off:]
            # the metadata is there too, at its offset
            row = np.frombuffer(mm, dtype=mempool.MBUF_DTYPE, count=16, offset=meta_off)[m.index].copy()
            assert row["data_len"] == len(payload) and row["idx"] == m.index and row["state"] == 1
            del row
            # and writes through the other mapping are seen through the mbuf
            mm[start:start + 4] = b"ABCD"
            assert rte.rte_pktmbuf_read(m, 0, 4) == b"ABCD"
            assert bytes(rte.rte_pktmbuf_mtod(m)[:4]) == b"ABCD"
            # the free stack is in the mapping as well: 14 indices left
            top_stack = struct.unpack_from("<14I", mm, stack_off)
            assert m0.index not in top_stack and m.index not in top_stack
    finally:
        os.close(fd2)
    rte.rte_pktmbuf_free(m0)
    rte.rte_pktmbuf_free(m)


def test_view_outlives_freed_pool(unique_name):
    """A numpy view keeps the mapping alive after rte_mempool_free (no dangling memory)."""
    mp = create(unique_name("mp"), n=4)
    m = rte.rte_pktmbuf_alloc(mp)
    view = rte.rte_pktmbuf_append(m, 8)
    view[:] = 9
    rte.rte_pktmbuf_free(m)
    rte.rte_mempool_free(mp)
    del mp, m
    import gc
    gc.collect()
    assert view.tolist() == [9] * 8
    view[:] = 1                      # still writable, still mapped
    assert view.sum() == 8


def test_alloc_free_is_process_safe(make_pool):
    """A forked child and the parent hammer the same pool; nothing is lost or handed out twice."""
    mp = make_pool(n=64)
    iterations = 20_000
    burst_n = 4

    def hammer(marker: int) -> int:
        """Alloc/mark/check/free in a loop; returns the number of mbufs seen owned by another."""
        bad = 0
        lst = [None] * burst_n
        for i in range(iterations):
            if i & 1:
                m = rte.rte_pktmbuf_alloc(mp)
                if m is None:
                    continue
                rte.rte_pktmbuf_append(m, 8)[:] = marker
                if rte.rte_pktmbuf_read(m, 0, 8) != bytes([marker]) * 8:
                    bad += 1
                rte.rte_pktmbuf_free(m)
            else:
                if rte.rte_pktmbuf_alloc_bulk(mp, lst, burst_n) != 0:
                    continue
                for m in lst:
                    rte.rte_pktmbuf_append(m, 8)[:] = marker
                for m in lst:
                    if rte.rte_pktmbuf_read(m, 0, 8) != bytes([marker]) * 8:
                        bad += 1
                rte.rte_pktmbuf_free_bulk(lst, burst_n)
        return bad

    st0 = mp.stats()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # child: never returns into pytest
        code = 99
        try:
            os.close(r)
            os.write(w, b"R")                      # ready: the parent starts with us
            t0 = time.monotonic()
            bad = hammer(0xC1)
            os.write(w, b"%d %r %r" % (bad, t0, time.monotonic()))
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    try:
        assert os.read(r, 1) == b"R"
        t0 = time.monotonic()
        bad_parent = hammer(0x7A)
        t1 = time.monotonic()
    finally:
        _, status = os.waitpid(pid, 0)
        out = os.read(r, 200)
        os.close(r)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child failed: status {status}"
    bad_child, c0, c1 = out.split()
    assert bad_parent == 0 and int(bad_child) == 0, "an mbuf was owned by both processes at once"
    assert float(c0) < t1 and t0 < float(c1), "the two processes did not run at the same time"
    assert mp.avail_count() == mp.size
    assert mp.in_use_count() == 0
    st = mp.stats()
    # Both processes' counters land in the shared header, updated under the lock.
    assert st["put_objs"] - st0["put_objs"] == st["get_success_objs"] - st0["get_success_objs"]
    # At most 2 * burst_n mbufs are ever out, so no allocation can fail: the counts are exact.
    assert st["get_success_objs"] - st0["get_success_objs"] == 2 * (iterations // 2) * (1 + burst_n)
    assert st["get_fail_objs"] == st0["get_fail_objs"]
    assert sorted(mp.meta["idx"]) == list(range(64))
    assert (mp.meta["state"] == 0).all()
    assert_pool_intact(mp)


def test_mbuf_dtype_is_the_c_layout():
    """numpy's view of the metadata is built from the C compiler's offsets; every field of
    struct pyrtap_mbuf in pyrtap_mbuf.h (but the reserved padding) is in it, at the same
    offset and size, so a field added or moved in C cannot silently drift."""
    import re
    from pathlib import Path
    from pyrtap import _core
    from pyrtap.mempool import MBUF_DTYPE
    header = (Path(__file__).resolve().parent.parent / "pyrtap" / "includes" / "pyrtap_mbuf.h").read_text()
    body = re.search(r"typedef struct pyrtap_mbuf \{(.*?)\} pyrtap_mbuf;", header, re.S).group(1)
    fields = []
    for ctype, names in re.findall(r"^\s*(uint\d+_t)\s+([^;]+);", body, re.M):
        for n in names.split(","):
            fields.append((n.strip(), int(ctype[4:-2]) // 8))
    fields = [f for f in fields if f[0] != "reserved"]
    assert [(n, s) for n, _, s in _core.MBUF_LAYOUT] == fields
    assert MBUF_DTYPE.itemsize == _core.MBUF_METADATA_SIZE == 64
    for name, off, size in _core.MBUF_LAYOUT:
        dt, dt_off = MBUF_DTYPE.fields[name][:2]
        assert (dt_off, dt.itemsize) == (off, size), name


def test_pool_mapping_failure_is_oserror():
    """A pool mapping that cannot be made raises OSError with the mmap errno (the C errno,
    not an attribute lookup on it)."""
    from pyrtap import _core
    with pytest.raises(OSError) as e:
        _core._Mapping(-1, 4096)
    assert e.value.errno == errno.EBADF
