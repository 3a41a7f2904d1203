"""Python-safety (issue 8): misuse from Python becomes an exception or a negative errno,
never a crash, a hang, memory corruption, a leaked buffer or a TAP open to other users.

Each test asserts the error *and* that the pool counts, the fds and the port are intact
afterwards (the conftest checks pools and fds around every test too). Cases that used
to crash the process run in a child interpreter (``run_child``): a regression then
fails the test with the child's signal instead of killing the suite.
"""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import pyrtap as rte
from helpers import (
    PacketSocket, fd_count, ip, link_delete, link_exists, make_frame, mbuf_bytes,
    mbuf_from, rx_poll, setup_port,
)

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
DEFAULT = rte.RTE_MBUF_DEFAULT_BUF_SIZE

# A child's set-up: a started port of driver argv[1] on interface argv[2], its pool, and
# intact(): the port still sends, the pool holds what it should, no fd appeared.
CHILD_PRELUDE = '''
import errno, os, sys, time
import numpy as np
sys.path.insert(0, %(tests)r)
import pyrtap as rte
from helpers import fd_count, make_frame, mbuf_from, setup_port
drv, iface = sys.argv[1], sys.argv[2]
dev = drv + "90"
assert rte.rte_dev_probe("%%s,iface=%%s,%%s" %% (dev, iface, sys.argv[3]) if sys.argv[3] else
                         "%%s,iface=%%s" %% (dev, iface)) == 0
port = rte.rte_eth_dev_get_port_by_name(dev)
mp = rte.rte_pktmbuf_pool_create("child", 256, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE)
setup_port(port, mp, nb_rxd=32, nb_txd=64)
fds = fd_count()
posted = mp.in_use_count()          # buffers the Rx queue holds


def reap(pool, want, timeout=2.0):
    deadline = time.monotonic() + timeout
    while pool.in_use_count() != want and time.monotonic() < deadline:
        rte.rte_eth_tx_burst(port, 0, [], 0)        # net_rtap frees sent mbufs on a burst
        time.sleep(0.001)
    return pool.in_use_count()


def intact(held=0):
    m = mbuf_from(mp, make_frame(60))
    assert rte.rte_eth_tx_burst(port, 0, [m], 1) == 1, "the port no longer sends"
    got = reap(mp, posted + held)
    assert got == posted + held, "pool: %%d in use, expected %%d" %% (got, posted + held)
    assert fd_count() == fds, "fds: %%d, expected %%d" %% (fd_count(), fds)
'''


def run_child(body: str, driver: str = "net_tap", iface: str = "", devargs: str = "",
              timeout: float = 30.0) -> str:
    """Run ``body`` after CHILD_PRELUDE in a fresh interpreter; fail on a signal, a timeout
    or a failed assertion. Returns the child's stdout."""
    code = CHILD_PRELUDE % {"tests": TESTS} + textwrap.dedent(body) + \
        "\nrte.rte_eal_cleanup()\nprint('CHILD-OK')\n"
    try:
        r = subprocess.run([sys.executable, "-c", code, driver, iface, devargs], cwd=ROOT,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("the child hung (more than %.0f s)" % timeout)
    finally:
        if iface and link_exists(iface):
            link_delete(iface)
    if r.returncode < 0:
        pytest.fail("the child died of signal %s\n%s"
                    % (signal.Signals(-r.returncode).name, r.stderr[-3000:]))
    assert r.returncode == 0 and "CHILD-OK" in r.stdout, r.stderr[-3000:]
    return r.stdout


@pytest.fixture(params=["net_rtap", "net_tap"])
def child_driver(request, tap_required):
    return request.param


# ---- crashes ------------------------------------------------------------------------------------

def test_tx_burst_beyond_filled_count_is_refused(child_driver, unique_name):
    out = run_child('''
        b = rte.MbufBurst(32)
        assert rte.rte_pktmbuf_alloc_bulk(mp, b, 5) == 0
        for i in range(5):
            rte.rte_pktmbuf_append(b[i], 60)
        assert rte.rte_eth_tx_burst(port, 0, b, 32) == -errno.EINVAL     # slots 5..31 are empty
        try:
            rte.rte_eth_tx_burst(port, 0, [b[0], None], 2)
            raise AssertionError("None in a Tx list was accepted")
        except TypeError:
            pass
        intact(held=5)                                                     # nothing was taken
        assert rte.rte_eth_tx_burst(port, 0, b, b.count) == 5
        intact()
        print("refused")
    ''', child_driver, unique_name("sf"))
    assert "refused" in out


def test_port_tx_burst_sends_count_not_capacity(child_driver, unique_name):
    run_child('''
        from pyrtap.port import Port
        p = Port(port)
        b = rte.MbufBurst(32)
        assert rte.rte_pktmbuf_alloc_bulk(mp, b, 3) == 0
        for i in range(3):
            rte.rte_pktmbuf_append(b[i], 60)
        assert p.tx_burst(b) == 3                   # the count, not the capacity of 32
        b.clear()
        b2 = rte.MbufBurst(4)
        assert rte.rte_pktmbuf_alloc_bulk(mp, b2, 1) == 0
        try:
            p.tx_burst(b2, 4)                       # an explicit count past the filled slots
            raise AssertionError("Port.tx_burst sent empty slots")
        except ValueError:
            pass
        intact(held=1)
        assert rte.rte_eth_tx_burst(port, 0, b2, 1) == 1
        intact()
    ''', child_driver, unique_name("sf"))


def test_burst_survives_its_pool_being_freed(child_driver, unique_name):
    run_child('''
        mp2 = rte.rte_pktmbuf_pool_create("gone", 64, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE)
        b = rte.MbufBurst(8)
        assert rte.rte_pktmbuf_alloc_bulk(mp2, b, 8) == 0
        assert rte.rte_mempool_free(mp2) == 0
        del mp2
        mp3 = rte.rte_pktmbuf_pool_create("new", 64, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE)
        assert rte.rte_eth_tx_burst(port, 0, b, 8) == -errno.EINVAL
        try:
            rte.rte_pktmbuf_free_bulk(b, 8)
            raise AssertionError("freeing mbufs of a freed pool succeeded")
        except RuntimeError:
            pass
        m = b[0]
        assert m is not None
        for call in (lambda: rte.rte_pktmbuf_append(m, 10), lambda: bytes(m),
                     lambda: rte.rte_pktmbuf_free(m)):
            try:
                call()
                raise AssertionError("a call on an mbuf of a freed pool succeeded")
            except ValueError:
                pass
        assert mp3.in_use_count() == 0 and mp3.avail_count() == 64
        rte.rte_mempool_free(mp3)
        intact()
        rte.rte_eal_cleanup()                       # every pool and port gone
        assert rte.rte_eth_tx_burst(port, 0, b, 8) == 0
        try:
            rte.rte_pktmbuf_free_bulk(b, 8)
            raise AssertionError("freeing after rte_eal_cleanup succeeded")
        except RuntimeError:
            pass
    ''', child_driver, unique_name("sf"))


def test_raw_handles_are_checked_and_read_only(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    for bad in (1, 0xDEADBEEF000, m.handle + 1, m.handle + 64 * 10 ** 6):
        h = np.zeros(4, np.uint64)
        h[1] = bad
        with pytest.raises(ValueError):
            rte.MbufBurst(0, h)
    h = np.array([0, m.handle], np.uint64)
    b = rte.MbufBurst(0, h)
    h[1] = 12345                                    # the burst copied the handles
    assert b[1] == m
    with pytest.raises(ValueError):
        b.handles[0] = 1
    with pytest.raises(ValueError):
        b.handles.setflags(write=True)
    with pytest.raises(ValueError):
        b.count = 5                                 # larger than the burst
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_mempool_free_of_a_started_ports_pool_is_busy(tap_port, make_pool):
    mp = make_pool(n=128)
    setup_port(tap_port.port, mp, nb_rxd=32)
    in_use = mp.in_use_count()
    assert rte.rte_mempool_free(mp) == -errno.EBUSY
    assert not mp.freed and mp.in_use_count() == in_use
    assert rte.rte_mempool_lookup(mp.name) is mp
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert mp.users == 0 and mp.in_use_count() == 0
    assert rte.rte_eth_dev_start(tap_port.port) == 0      # the port still works
    assert rte.rte_eth_dev_stop(tap_port.port) == 0


def test_port_stopped_by_a_sequence_during_tx_burst(child_driver, unique_name):
    run_child('''
        class Evil:
            def __init__(self, ms):
                self.ms = ms
            def __len__(self):
                return len(self.ms)
            def __getitem__(self, i):
                if i == 1:
                    rte.rte_eth_dev_stop(port)      # the queue's state is released here
                return self.ms[i]
        ms = [mbuf_from(mp, make_frame(60)) for _ in range(4)]
        assert rte.rte_eth_tx_burst(port, 0, Evil(ms), 4) == 0
        posted = 0                                   # the port is stopped
        assert mp.in_use_count() == 4
        for m in ms:
            rte.rte_pktmbuf_free(m)
        assert rte.rte_eth_dev_start(port) == 0
        posted = mp.in_use_count()
        intact()
    ''', child_driver, unique_name("sf"))


def test_port_stopped_and_started_by_another_thread_during_bursts(child_driver, unique_name):
    run_child('''
        import threading
        stop = threading.Event()
        errors = []

        def poller():
            b = rte.MbufBurst(32)
            try:
                while not stop.is_set():
                    n = rte.rte_eth_rx_burst(port, 0, b, 32)
                    if n > 0:
                        rte.rte_pktmbuf_free_bulk(b, n)
                    m = mbuf_from(mp, make_frame(60))
                    if rte.rte_eth_tx_burst(port, 0, [m], 1) != 1:
                        rte.rte_pktmbuf_free(m)
            except Exception as e:
                errors.append(e)

        t = threading.Thread(target=poller)
        t.start()
        for _ in range(30):                          # the queues' C state is released each time
            assert rte.rte_eth_dev_stop(port) == 0
            assert rte.rte_eth_dev_start(port) == 0
            time.sleep(0.002)
        stop.set()
        t.join(10)
        assert not t.is_alive() and not errors, errors
        assert rte.rte_eth_dev_stop(port) == 0 and mp.in_use_count() == 0
        assert rte.rte_eth_dev_start(port) == 0
        posted = mp.in_use_count()
        intact()
    ''', child_driver, unique_name("sf"))


# ---- hangs --------------------------------------------------------------------------------------

def test_cyclic_chains_are_refused(pool):
    a, b, c = (mbuf_from(pool, make_frame(60, seed=i)) for i in range(3))
    assert rte.rte_pktmbuf_chain(a, b) == 0
    assert rte.rte_pktmbuf_chain(a, b) == -errno.EINVAL        # b is already in a's chain
    assert rte.rte_pktmbuf_chain(b, a) == -errno.EINVAL        # closes a cycle
    with pytest.raises(ValueError):
        a.next = a
    with pytest.raises(ValueError):
        b.next = a
    assert rte.rte_pktmbuf_chain(a, c) == 0
    assert a.nb_segs == 3 and a.pkt_len == 180
    assert rte.rte_pktmbuf_append(a, 10) is not None and rte.rte_pktmbuf_trim(a, 10) == 0
    assert len(mbuf_bytes(a)) == 180
    rte.rte_pktmbuf_free(a)
    assert pool.in_use_count() == 0


def test_defer_ring_polled_from_another_thread_fails_loudly(make_port, pool, caplog):
    tp = make_port("net_rtap", "uring=defer,rx=batch")
    setup_port(tp.port, pool, nb_rxd=32)
    # The first burst on each queue gives its ring to this thread (tests/test_defer.py).
    assert rte.rte_eth_rx_burst(tp.port, 0, rte.MbufBurst(32), 32) == 0
    assert rte.rte_eth_tx_burst(tp.port, 0, [], 0) == 0
    results = {}

    def worker():
        b = rte.MbufBurst(32)
        results["rx"] = rte.rte_eth_rx_burst(tp.port, 0, b, 32)       # rx=batch used to hang here
        m = mbuf_from(pool, make_frame(60))
        results["tx"] = rte.rte_eth_tx_burst(tp.port, 0, [m], 1)
        if results["tx"] == 0:
            rte.rte_pktmbuf_free(m)

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert not t.is_alive(), "a burst from another thread hung"
    assert results == {"rx": 0, "tx": 0}                 # nothing reported as sent
    stats = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(tp.port, stats) == 0
    assert stats.ierrors >= 1 and stats.oerrors >= 1
    assert "second thread" in caplog.text
    m = mbuf_from(pool, make_frame(60))                   # the owning thread still sends
    assert rte.rte_eth_tx_burst(tp.port, 0, [m], 1) == 1
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


# ---- wrong packets and memory corruption -----------------------------------------------------

def test_nb_segs_must_match_the_chain(child_driver, unique_name):
    run_child('''
        a = mbuf_from(mp, make_frame(60))
        segs = [mbuf_from(mp, make_frame(100, seed=i)) for i in range(40)]
        prev = a
        for s in segs:                               # linked by hand: nb_segs stays 1
            prev.next = s
            prev = s
        assert a.nb_segs == 1
        assert rte.rte_eth_tx_burst(port, 0, [a], 1) == -errno.EINVAL
        a.nb_segs = 3
        assert rte.rte_eth_tx_burst(port, 0, [a], 1) == -errno.EINVAL
        intact(held=41)
        a.nb_segs = 41
        a.pkt_len = 60 + 40 * 100
        assert rte.rte_eth_tx_burst(port, 0, [a], 1) == 1    # derived right: sent
        intact()
    ''', child_driver, unique_name("sf"))


def test_length_setters_keep_data_inside_the_buffer(pool):
    m = mbuf_from(pool, make_frame(100))
    before = bytes(m)
    with pytest.raises(ValueError):
        m.data_off = m.buf_len - 50              # 100 bytes of data would run past the buffer
    with pytest.raises(ValueError):
        m.data_len = m.buf_len
    with pytest.raises(ValueError):
        m.pkt_len = 101                          # longer than the chain's data
    with pytest.raises(OverflowError):
        m.data_off = -1
    assert bytes(m) == before and m.data_off == 128 and m.data_len == 100 and m.pkt_len == 100
    m.pkt_len = 50                               # shorter is allowed (DPDK's trim of the view)
    assert len(bytes(m)) == 50
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_stale_links_of_a_freed_pool_do_not_reach_a_new_pool(pool, unique_name):
    old = rte.rte_pktmbuf_pool_create(unique_name("mp"), 16, 0, 0, DEFAULT)
    a = rte.rte_pktmbuf_alloc(pool)
    b = rte.rte_pktmbuf_alloc(old)
    a.next = b
    old_id = old.pool_id
    assert rte.rte_mempool_free(old) == 0
    new = rte.rte_pktmbuf_pool_create(unique_name("mp"), 16, 0, 0, DEFAULT)
    try:
        assert new.pool_id == old_id                     # the id was reused at once
        c = rte.rte_pktmbuf_alloc(new)                   # same (pool id, index) as b
        assert c.index == b.index
        assert a.next is None                            # the stale link resolves to nothing
        rte.rte_pktmbuf_free(a)
        assert new.in_use_count() == 1 and c.refcnt == 1  # c was not freed through a
        rte.rte_pktmbuf_free(c)
    finally:
        rte.rte_mempool_free(new)
    assert pool.in_use_count() == 0


def test_use_after_free_is_refused(pool):
    m = mbuf_from(pool, make_frame(60))
    head = mbuf_from(pool, b"x" * 60)                    # before the free: it would reuse m
    rte.rte_pktmbuf_free(m)
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_append(m, 10)
    with pytest.raises(ValueError):
        m.data_len = 10
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_chain(head, m)
    with pytest.raises(ValueError):
        head.next = head                             # a cycle: refused too
    with pytest.raises(RuntimeError):
        rte.rte_pktmbuf_free(m)
    with pytest.raises(RuntimeError):
        rte.rte_pktmbuf_free_bulk([m], 1)
    assert head.next is None and head.nb_segs == 1
    assert pool.in_use_count() == 1                      # only the head
    rte.rte_pktmbuf_free(head)
    assert pool.in_use_count() == 0


def test_free_of_a_sent_mbuf_is_refused(variant, make_port, pool):
    tp = make_port(*variant)
    setup_port(tp.port, pool, nb_rxd=32)
    posted = pool.in_use_count()
    ms = [mbuf_from(pool, make_frame(60, seed=i)) for i in range(8)]
    assert rte.rte_eth_tx_burst(tp.port, 0, ms, 8) == 8
    for m in ms:
        with pytest.raises(RuntimeError):               # the queue's (in flight) or already free
            rte.rte_pktmbuf_free(m)
    held = [rte.rte_pktmbuf_alloc(pool) for _ in range(8)]
    deadline = time.monotonic() + 2
    while pool.in_use_count() != posted + 8 and time.monotonic() < deadline:
        rte.rte_eth_tx_burst(tp.port, 0, [], 0)
        time.sleep(0.001)
    assert pool.in_use_count() == posted + 8             # the reap freed only what it owned
    assert all(h.refcnt == 1 and h.data_len == 0 for h in held)
    for h in held:
        rte.rte_pktmbuf_free(h)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


def test_second_free_of_a_received_mbuf_is_refused(variant, make_port, pool):
    tp = make_port(*variant)
    setup_port(tp.port, pool, nb_rxd=32)
    with PacketSocket(tp.iface) as sock:
        sock.send(make_frame(100, seed=1))
        (_, m), = rx_poll(tp.port, 0, 1)[0]
        rte.rte_pktmbuf_free(m)                          # back to the pool, on top
        sock.send(make_frame(200, seed=2))
        (_, m2), = rx_poll(tp.port, 0, 1)[0]             # the queue's refill takes m again
        assert m2 != m
        in_use = pool.in_use_count()
        with pytest.raises(RuntimeError):                 # m is the queue's (or free): refused
            rte.rte_pktmbuf_free(m)
        assert pool.in_use_count() == in_use
        sock.send(make_frame(300, seed=3))
        (_, m3), = rx_poll(tp.port, 0, 1)[0]
        assert mbuf_bytes(m2) == make_frame(200, seed=2)  # not overwritten by the next frame
        assert mbuf_bytes(m3) == make_frame(300, seed=3)
    rte.rte_pktmbuf_free(m2)
    rte.rte_pktmbuf_free(m3)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


def test_two_ports_on_one_interface_are_refused(tap_port, pool, driver):
    other = "net_tap" if driver == "net_rtap" else "net_rtap"
    assert rte.rte_dev_probe(f"{other}95,iface={tap_port.iface}") == -errno.EBUSY
    assert rte.rte_eth_dev_get_port_by_name(f"{other}95") < 0
    assert link_exists(tap_port.iface)                   # the first port's interface is intact
    setup_port(tap_port.port, pool)
    m = mbuf_from(pool, make_frame(60))
    assert rte.rte_eth_tx_burst(tap_port.port, 0, [m], 1) == 1
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert pool.in_use_count() == 0


def test_truncation_is_detected_without_slack(variant, make_port, make_pool):
    tp = make_port(*variant)
    exact = make_pool(n=256, data_room=128 + 1518)        # one mbuf holds exactly MTU + 18
    setup_port(tp.port, exact, nb_rxd=32)
    ip("link", "set", "dev", tp.iface, "mtu", "4000")     # raised from outside
    with PacketSocket(tp.iface) as sock:
        sock.send_all([make_frame(3990, seed=1), make_frame(1500, seed=2)])
        pkts, _ = rx_poll(tp.port, 0, 2, timeout=1.0)
    got = [mbuf_bytes(m) for _, m in pkts]
    assert make_frame(1500, seed=2) in got
    assert all(g in (make_frame(3990, seed=1), make_frame(1500, seed=2)) for g in got)   # never truncated
    stats = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(tp.port, stats) == 0
    if len(got) == 1:
        assert stats.ierrors >= 1                          # the big frame was counted, not cut
    for _, m in pkts:
        rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert exact.in_use_count() == 0


def test_deleted_interface_counts_one_error(variant, make_port, pool):
    tp = make_port(*variant)
    setup_port(tp.port, pool, nb_rxd=32)
    link_delete(tp.iface)
    b = rte.MbufBurst(32)
    for _ in range(200):
        assert rte.rte_eth_rx_burst(tp.port, 0, b, 32) == 0
    stats = rte.rte_eth_stats()
    # -ENODEV: the kernel's counters are gone with the interface; the queues' are filled in.
    assert rte.rte_eth_stats_get(tp.port, stats) in (0, -errno.ENODEV)
    assert stats.ierrors == 1                              # once, not once per dead read
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


# ---- leaks --------------------------------------------------------------------------------------

def test_failed_start_undoes_the_queue_starts(variant, make_port, pool, monkeypatch):
    tp = make_port(*variant)
    setup_port(tp.port, pool, nb_rxd=32, start=False)
    dev = rte.ethdev_api._dev(tp.port)
    monkeypatch.setattr(dev.ops, "dev_set_link_up", lambda d: -errno.ENODEV)   # interface gone meanwhile
    assert rte.rte_eth_dev_start(tp.port) == -errno.ENODEV
    assert pool.in_use_count() == 0                     # the posted buffers are back
    monkeypatch.undo()
    assert rte.rte_eth_dev_start(tp.port) == 0
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


def test_wrong_containers_are_refused_before_taking_mbufs(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=32)
    posted = pool.in_use_count()
    with PacketSocket(tap_port.iface) as sock:
        sock.send_all([make_frame(100, seed=i) for i in range(2)])
        time.sleep(0.05)
        with pytest.raises(TypeError):
            rte.rte_eth_rx_burst(tap_port.port, 0, (None,) * 4, 4)
        with pytest.raises(TypeError):
            rte.rte_pktmbuf_alloc_bulk(pool, (None,) * 4, 4)
        assert pool.in_use_count() == posted
        pkts, _ = rx_poll(tap_port.port, 0, 2)          # the frames are still there
    assert len(pkts) == 2
    for _, m in pkts:
        rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("n, priv, room, err", [
    (512, 1 << 31, DEFAULT, errno.EINVAL),
    (512, 1 << 16, DEFAULT, errno.EINVAL),
    ((1 << 24) - 1, 0, 0xFFFF, errno.ENOMEM),
    (512.0, 0, DEFAULT, errno.EINVAL),
    (512, 0, 2176.5, errno.EINVAL),
    ("512", 0, DEFAULT, errno.EINVAL),
])
def test_pool_sizes_are_bounded_before_allocating(unique_name, n, priv, room, err):
    fds = fd_count()
    t0 = time.monotonic()
    assert rte.rte_pktmbuf_pool_create(unique_name("mp"), n, 0, priv, room) is None
    assert rte.rte_errno() == err
    assert time.monotonic() - t0 < 1.0                   # nothing was faulted in
    assert fd_count() == fds and rte.rte_mempool_lookup(unique_name.__name__) is None
    mp = rte.rte_pktmbuf_pool_create(unique_name("mp"), np.int64(64), 0, 0, DEFAULT)
    assert mp is not None and mp.size == 64              # numpy integers are integers
    rte.rte_mempool_free(mp)


# ---- security -----------------------------------------------------------------------------------

def test_created_tap_is_owned_by_us(tap_port):
    with open(f"/sys/class/net/{tap_port.iface}/owner") as f:
        assert int(f.read()) == os.geteuid()


@pytest.mark.parametrize("driver", ["net_rtap", "net_tap"])
def test_group_devarg_restricts_the_tap_to_a_group(tap_required, unique_name, driver):
    """group=NAME|GID: a created TAP is restricted to our user and that group (sysfs shows
    both); an unknown group name is refused with -EINVAL and creates nothing."""
    import grp
    gid = os.getegid()
    for i, spec in enumerate((str(gid), grp.getgrgid(gid).gr_name)):
        iface = unique_name("sg")
        name = f"{driver}9{i}"
        assert rte.rte_dev_probe(f"{name},iface={iface},group={spec}") == 0
        try:
            with open(f"/sys/class/net/{iface}/group") as f:
                assert int(f.read()) == gid
            with open(f"/sys/class/net/{iface}/owner") as f:
                assert int(f.read()) == os.geteuid()
        finally:
            assert rte.rte_dev_remove(name) == 0
    iface = unique_name("sg")
    fds = fd_count()
    assert rte.rte_dev_probe(f"{driver}93,iface={iface},group=no-such-group-x") == -errno.EINVAL
    assert not link_exists(iface) and fd_count() == fds


def test_tap_owned_by_another_user_is_refused(tap_required, unique_name):
    iface = unique_name("so")
    ip("tuntap", "add", "dev", iface, "mode", "tap", "multi_queue", "vnet_hdr", "user", "65534")
    try:
        fds = fd_count()
        assert rte.rte_dev_probe(f"net_tap96,iface={iface}") == -errno.EPERM
        assert rte.rte_eth_dev_get_port_by_name("net_tap96") < 0 and fd_count() == fds
        assert link_exists(iface)
    finally:
        link_delete(iface)


def test_result_json_does_not_follow_a_symlink(tmp_path):
    from pyrtap.compare import write_json_safely
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "compare.json"
    link.symlink_to(victim)
    write_json_safely(str(link), {"a": 1})
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text().startswith("{")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["compare.json"]


# ---- smaller validation gaps -----------------------------------------------------------------

def test_eal_and_probe_argument_types():
    for argv in ("a string", ["app", 5], None, 5):
        assert rte.rte_eal_init(argv) == -errno.EINVAL
    assert rte.rte_dev_probe(None) == -errno.EINVAL
    assert rte.rte_dev_probe(5) == -errno.EINVAL


def test_numpy_port_ids_are_accepted(tap_port, pool):
    setup_port(tap_port.port, pool)
    assert rte.rte_eth_dev_is_valid_port(np.uint16(tap_port.port)) == 1
    stats = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(np.int64(tap_port.port), stats) == 0
    assert rte.rte_eth_dev_is_valid_port(float(tap_port.port)) == 0
    assert rte.rte_eth_dev_stop(np.int32(tap_port.port)) == 0
    assert pool.in_use_count() == 0


def test_refcnt_cannot_reach_zero_or_wrap(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    with pytest.raises(ValueError):
        rte.rte_mbuf_refcnt_set(m, 0)
    with pytest.raises(ValueError):
        rte.rte_mbuf_refcnt_update(m, -1)
    with pytest.raises(ValueError):
        rte.rte_mbuf_refcnt_update(m, 0xFFFF)
    with pytest.raises(ValueError):
        rte.rte_pktmbuf_refcnt_update(m, -1)
    assert m.refcnt == 1
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_persist_0_is_not_persistent(tap_required, unique_name):
    iface = unique_name("sp")
    assert rte.rte_dev_probe(f"net_tap97,iface={iface},persist=0") == 0
    assert rte.rte_dev_remove("net_tap97") == 0
    assert not link_exists(iface)
    assert rte.rte_dev_probe(f"net_tap97,iface={iface},persist=maybe") == -errno.EINVAL
    assert not link_exists(iface)


def test_avail_count_of_a_freed_pool_raises(unique_name):
    mp = rte.rte_pktmbuf_pool_create(unique_name("mp"), 16, 0, 0, DEFAULT)
    assert rte.rte_mempool_avail_count(mp) == 16
    assert rte.rte_mempool_free(mp) == 0
    with pytest.raises(ValueError):
        rte.rte_mempool_avail_count(mp)
    with pytest.raises(ValueError):
        mp.in_use_count()
    assert rte.rte_mempool_free(mp) == 0                 # a second free is harmless


def test_queue_setup_refuses_junk_conf_and_socket(tap_port, pool):
    port = tap_port.port
    assert rte.rte_eth_dev_configure(port, 1, 1, None) == 0
    for sid, conf in (("0", None), (1.5, None), (-2, None), (0, {"offloads": 0}), (0, "x"),
                      (0, rte.rte_eth_txconf())):
        assert rte.rte_eth_rx_queue_setup(port, 0, 64, sid, conf, pool) == -errno.EINVAL
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, rte.rte_eth_rxconf()) == -errno.EINVAL
    assert pool.in_use_count() == 0
    assert rte.rte_eth_rx_queue_setup(np.uint16(port), np.int64(0), np.int32(64), np.int8(-1),
                                      rte.rte_eth_rxconf(), pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


def test_pool_metadata_view_is_read_only(pool):
    m = rte.rte_pktmbuf_alloc(pool)
    with pytest.raises(ValueError):
        pool.meta["data_off"][m.index] = 0xFFFF
    with pytest.raises(ValueError):
        pool.meta.setflags(write=True)
    assert m.data_off == 128
    rte.rte_pktmbuf_free(m)
    assert pool.in_use_count() == 0


def test_tx_prepare_refuses_mbufs_the_application_does_not_own(tap_port, pool):
    setup_port(tap_port.port, pool)
    m = mbuf_from(pool, make_frame(60))
    rte.rte_pktmbuf_free(m)
    b = rte.MbufBurst(4)
    b[0] = m
    assert rte.rte_eth_tx_prepare(tap_port.port, 0, b, 1) == 0 and rte.rte_errno() == errno.EINVAL
    assert rte.rte_eth_tx_prepare(tap_port.port, 0, [m], 1) == 0 and rte.rte_errno() == errno.EINVAL
    assert rte.rte_eth_tx_prepare(tap_port.port, 0, b, 4) == 0         # empty slots too
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert pool.in_use_count() == 0


def test_pool_with_clones_elsewhere_is_busy(pool, unique_name):
    direct_pool = rte.rte_pktmbuf_pool_create(unique_name("mp"), 16, 0, 0, DEFAULT)
    d = mbuf_from(direct_pool, make_frame(100))
    c = rte.rte_pktmbuf_clone(d, pool)                  # c's data is in direct_pool
    rte.rte_pktmbuf_free(d)
    assert rte.rte_mempool_free(direct_pool) == -errno.EBUSY
    assert mbuf_bytes(c) == make_frame(100)             # still readable: nothing was released
    rte.rte_pktmbuf_free(c)
    assert rte.rte_mempool_free(direct_pool) == 0
    assert pool.in_use_count() == 0
