"""What DPDK's samples call besides ethdev: lcores, timers, Tx buffers, logging, EAL exits,
MAC address helpers, port set-up helpers.

Everything that needs ``rte_eal_init`` with lcores runs in a child process: pinning the
main thread there would pin pytest (and every process it starts) to one CPU.
"""
from __future__ import annotations

import ctypes
import errno
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import pyrtap as rte
from helpers import PacketSocket, make_frame, mbuf_from, setup_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with pyrtap importable; a crash fails the test."""
    env = dict(os.environ, PYTHONPATH=REPO)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=timeout, env=env, cwd=REPO)
    return r


LCORE_CHILD = r"""
import os, threading
import pyrtap as rte
assert os.cpu_count() >= 2, "needs 2 CPUs"
ret = rte.rte_eal_init(["app", "-l", "0-1", "--"])
assert ret == 3, ret
assert rte.rte_lcore_count() == 2 and rte.rte_get_main_lcore() == 0
assert list(rte.RTE_LCORE_FOREACH()) == [0, 1] and list(rte.RTE_LCORE_FOREACH_WORKER()) == [1]
assert rte.rte_lcore_id() == 0 and os.sched_getaffinity(0) == {0}
assert rte.rte_lcore_is_enabled(1) == 1 and rte.rte_lcore_is_enabled(2) == 0
assert rte.rte_get_next_lcore(-1, 0, 0) == 0 and rte.rte_get_next_lcore(0, 1, 0) == 1
assert rte.rte_get_next_lcore(1, 0, 0) == rte.RTE_MAX_LCORE and rte.rte_get_next_lcore(1, 0, 1) == 0
assert rte.rte_lcore_to_cpu_id(1) == 1 and rte.rte_lcore_to_socket_id(1) == 0 == rte.rte_socket_id()
seen = {}
gate = threading.Event()
def work(arg):
    seen[rte.rte_lcore_id()] = (arg, sorted(os.sched_getaffinity(0)), threading.current_thread().name)
    gate.wait(5)
    return 40 + rte.rte_lcore_id()
assert rte.rte_eal_remote_launch(work, "x", 1) == 0
assert rte.rte_eal_remote_launch(work, "y", 1) == -16          # -EBUSY until waited for
assert rte.rte_eal_remote_launch(work, "y", 0) == -22          # the main lcore: -EINVAL
assert rte.rte_eal_remote_launch(work, "y", 7) == -22
assert rte.rte_eal_get_lcore_state(1) == rte.RUNNING
gate.set()
assert rte.rte_eal_wait_lcore(1) == 41
assert rte.rte_eal_wait_lcore(1) == 0                          # idle lcore: 0
assert seen[1] == ("x", [1], "lcore-1"), seen
gate.clear(); gate.set(); seen.clear()
assert rte.rte_eal_mp_remote_launch(work, "z", rte.CALL_MAIN) == 0
rte.rte_eal_mp_wait_lcore()
assert seen == {0: ("z", [0], "MainThread"), 1: ("z", [1], "lcore-1")}, seen
def boom(arg):
    raise RuntimeError("lcore function failed")
assert rte.rte_eal_remote_launch(boom, None, 1) == 0
assert rte.rte_eal_wait_lcore(1) == -1
out = []
t = threading.Thread(target=lambda: out.append(rte.rte_lcore_id())); t.start(); t.join()
assert out == [rte.LCORE_ID_ANY]
assert rte.rte_eal_cleanup() == 0
assert not any(th.name.startswith("lcore-") and th.is_alive() for th in threading.enumerate())
print("OK")
"""


def test_lcores_run_pinned_with_their_ids():
    """-l 0-1: a worker thread pinned to CPU 1 runs launched functions with rte_lcore_id() 1;
    the main lcore is the caller, pinned to CPU 0; launch/wait return codes are DPDK's."""
    r = run_child(LCORE_CHILD)
    assert r.returncode == 0 and r.stdout.strip().endswith("OK"), r.stdout + r.stderr


@pytest.mark.parametrize("args, lcores, main, cpus", [
    (["-c", "0x3"], [0, 1], 0, {0: 0, 1: 1}),
    (["--lcores", "0@1,1@0"], [0, 1], 0, {0: 1, 1: 0}),
    (["-l", "0-1", "--main-lcore", "1"], [0, 1], 1, {0: 0, 1: 1}),
    (["--lcores", "(0-1)@0"], [0, 1], 0, {0: 0, 1: 0}),
])
def test_lcore_options(args, lcores, main, cpus):
    r = run_child("""
        import pyrtap as rte
        assert rte.rte_eal_init(["app"] + %r) == %d
        print(list(rte.RTE_LCORE_FOREACH()), rte.rte_get_main_lcore(),
              {l: rte.rte_lcore_to_cpu_id(l) for l in rte.RTE_LCORE_FOREACH()}, rte.rte_lcore_id())
        rte.rte_eal_cleanup()
    """ % (args, len(args)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "%s %d %s %d" % (lcores, main, cpus, main)


@pytest.mark.parametrize("args", [["-l", "0-300"], ["-l", "5000"], ["-c", "0x0"], ["-l", "3-1"],
                                  ["-l", "0", "--main-lcore", "1"], ["-l", "x"]])
def test_bad_lcore_options_refused(args):
    """Malformed lcore lists, unknown CPUs, a main lcore that is not an lcore: -EINVAL."""
    r = run_child("""
        import pyrtap as rte
        print(rte.rte_eal_init(["app"] + %r))
    """ % args)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(-errno.EINVAL)


def test_cleanup_gives_the_main_thread_its_cpus_back():
    """rte_eal_init with -l pins the calling thread (DPDK's main lcore); rte_eal_cleanup
    undoes it, so what the process starts afterwards is not confined to one CPU."""
    r = run_child("""
        import os, pyrtap as rte
        before = os.sched_getaffinity(0)
        assert rte.rte_eal_init(["app", "-l", "0"]) == 2
        pinned = os.sched_getaffinity(0)
        rte.rte_eal_cleanup()
        print(pinned == {0}, os.sched_getaffinity(0) == before)
    """)
    assert r.stdout.strip() == "True True", r.stdout + r.stderr


def test_no_lcore_option_pins_nothing():
    """Without -l/-c/--lcores there is one lcore and the process keeps its CPUs."""
    r = run_child("""
        import os, pyrtap as rte
        before = os.sched_getaffinity(0)
        assert rte.rte_eal_init(["app"]) == 0
        print(rte.rte_lcore_count(), rte.rte_lcore_id(), os.sched_getaffinity(0) == before)
    """)
    assert r.stdout.strip() == "1 0 True", r.stdout + r.stderr


# ---- timers ---------------------------------------------------------------------------------

def test_cycles_and_delays():
    assert rte.rte_get_tsc_hz() == rte.rte_get_timer_hz() == 10 ** 9
    t0 = rte.rte_rdtsc()
    rte.rte_delay_us(300)
    t1 = rte.rte_rdtsc_precise()
    rte.rte_delay_ms(3)
    t2 = rte.rte_get_timer_cycles()
    assert t1 - t0 >= 300_000
    assert t2 - t1 >= 3_000_000
    assert t2 - t0 < 1_000_000_000


# ---- uring=defer: set up on the main lcore, polled by a worker --------------------------------

DEFER_CHILD = r"""
import os, sys, time
sys.path.insert(0, os.path.join(%(repo)r, "tests"))
import pyrtap as rte
from helpers import PacketSocket, frame_seed, is_test_frame, make_frame, mbuf_bytes, mbuf_from, setup_port
assert rte.rte_eal_init(["app", "-l", "0-1", "--vdev=net_rtap0,iface=%(iface)s,uring=defer,rx=%(mode)s"]) >= 0
mp = rte.rte_pktmbuf_pool_create("mp", 512, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, rte.SOCKET_ID_ANY)
setup_port(0, mp, nb_rxd=64, nb_txd=64)            # on the main lcore
rx = [make_frame(64 + 11 * i, seed=i) for i in range(32)]
tx = [make_frame(70 + 13 * i, seed=100 + i) for i in range(32)]
got = []

def lcore_main(arg):                                 # on lcore 1, DPDK's l2fwd layout
    b = rte.MbufBurst(32)
    deadline = time.monotonic() + 10
    while len(got) < len(rx) and time.monotonic() < deadline:
        n = rte.rte_eth_rx_burst(0, 0, b, 32)
        for i in range(n):
            if is_test_frame(mbuf_bytes(b[i])):        # not the kernel's IPv6 chatter
                got.append(mbuf_bytes(b[i]))
            rte.rte_pktmbuf_free(b[i])
    pkts = [mbuf_from(mp, f) for f in tx]
    assert rte.rte_eth_tx_burst(0, 0, pkts, len(pkts)) == len(pkts)
    return rte.rte_lcore_id()

with PacketSocket("%(iface)s") as sock:
    assert rte.rte_eal_remote_launch(lcore_main, None, 1) == 0
    sock.send_all(rx)
    sent = sock.capture(len(tx), timeout=5)
    assert rte.rte_eal_wait_lcore(1) == 1
assert got == rx, "Rx frames lost or changed"
assert sorted(sent, key=frame_seed) == tx, "Tx frames lost or changed"
st = rte.rte_eth_stats()
assert rte.rte_eth_stats_get(0, st) == 0 and st.ierrors == 0 and st.oerrors == 0
assert rte.rte_eth_dev_stop(0) == 0                  # back on the main lcore
assert rte.rte_eth_dev_close(0) == 0
assert mp.in_use_count() == 0, mp.in_use_count()
rte.rte_mempool_free(mp)
assert rte.rte_eal_cleanup() == 0
print("OK")
"""


@pytest.mark.parametrize("mode", ["auto", "prepost"])
def test_defer_queues_set_up_on_main_polled_by_a_worker_lcore(tap_required, unique_name, mode):
    """uring=defer in the samples' layout, with rte_eal_remote_launch: configure and start
    on the main lcore, receive and send on lcore 1, stop and close on the main lcore."""
    iface = unique_name("pe")
    r = run_child(DEFER_CHILD % {"repo": REPO, "iface": iface, "mode": mode}, timeout=40)
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stderr[-3000:]


# ---- Tx buffers ------------------------------------------------------------------------------

def test_tx_buffer_flushes_when_full_and_counts_unsent(tap_port, pool):
    """rte_eth_tx_buffer sends nothing until the buffer is full, then the whole burst;
    flush sends the rest; what the queue refuses goes to the error callback, counted
    exactly by rte_eth_tx_buffer_count_callback, and the mbufs return to the pool."""
    port = tap_port.port
    setup_port(port, pool, nb_rxd=16, nb_txd=64)
    buf = rte.rte_eth_dev_tx_buffer()
    assert rte.rte_eth_tx_buffer_init(buf, 4) == 0
    dropped = ctypes.c_uint64(0)
    assert rte.rte_eth_tx_buffer_set_err_callback(buf, rte.rte_eth_tx_buffer_count_callback, dropped) == 0
    frames = [make_frame(80, seed=i) for i in range(6)]
    with PacketSocket(tap_port.iface) as s:
        assert [rte.rte_eth_tx_buffer(port, 0, buf, mbuf_from(pool, f)) for f in frames[:4]] == [0, 0, 0, 4]
        assert buf.length == 0
        for f in frames[4:]:
            assert rte.rte_eth_tx_buffer(port, 0, buf, mbuf_from(pool, f)) == 0
        assert buf.length == 2
        assert rte.rte_eth_tx_buffer_flush(port, 0, buf) == 2
        assert rte.rte_eth_tx_buffer_flush(port, 0, buf) == 0
        assert s.capture(6) == frames
    # A stopped port takes nothing: the flush hands everything to the error callback.
    for f in frames[:3]:
        rte.rte_eth_tx_buffer(port, 0, buf, mbuf_from(pool, f))
    assert rte.rte_eth_dev_stop(port) == 0
    in_use = rte.rte_mempool_in_use_count(pool)
    assert rte.rte_eth_tx_buffer_flush(port, 0, buf) == 0
    assert dropped.value == 3
    assert rte.rte_mempool_in_use_count(pool) == in_use - 3
    counter = [0]
    assert rte.rte_eth_tx_buffer_set_err_callback(buf, rte.rte_eth_tx_buffer_count_callback, counter) == 0
    rte.rte_eth_tx_buffer(port, 0, buf, mbuf_from(pool, frames[0]))
    assert rte.rte_eth_tx_buffer_flush(port, 0, buf) == 0 and counter == [1]
    assert rte.rte_eth_tx_buffer_init(buf, 0) == -errno.EINVAL
    assert rte.rte_eth_tx_buffer_init(buf, 100000) == -errno.EINVAL
    assert rte.rte_eth_tx_buffer_set_err_callback(buf, None, None) == -errno.EINVAL
    assert rte.RTE_ETH_TX_BUFFER_SIZE(32) == 24 + 32 * 8


# ---- logging, errors, exits ------------------------------------------------------------------

def test_rte_log(caplog):
    caplog.set_level(logging.DEBUG, logger="pyrtap")
    try:
        assert rte.RTE_LOG("INFO", "USER1", "port %d up\n", 3) == 0
        assert rte.RTE_LOG(rte.RTE_LOG_ERR, rte.RTE_LOGTYPE_USER2, "bad") == 0
        rte.rte_log_set_global_level(rte.RTE_LOG_ERR)
        assert rte.rte_log_get_global_level() == rte.RTE_LOG_ERR
        assert rte.RTE_LOG("DEBUG", "USER1", "dropped") == -1
    finally:
        rte.rte_log_set_global_level(rte.RTE_LOG_DEBUG)
    msgs = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("pyrtap.USER")]
    assert msgs == [("pyrtap.USER1", logging.INFO, "USER1: port 3 up"),
                    ("pyrtap.USER2", logging.ERROR, "USER2: bad")]
    with pytest.raises(ValueError):
        rte.RTE_LOG("LOUD", "USER1", "x")
    assert rte.rte_strerror(-errno.EINVAL) == rte.rte_strerror(errno.EINVAL) == os.strerror(errno.EINVAL)


def test_rte_exit_cleans_up_and_exits(unique_name):
    iface = unique_name("pe")
    r = run_child("""
        import pyrtap as rte
        assert rte.rte_eal_init(["app", "--vdev=net_tap0,iface=%s"]) == 1
        try:
            rte.rte_exit(3, "Cannot init port %%d\\n", 0)
        finally:
            import socket
            print("closed" if "%s" not in dict(socket.if_nameindex()).values() else "left")
    """ % (iface, iface))
    assert r.returncode == 3
    assert "Cannot init port 0" in r.stderr
    assert r.stdout.strip() == "closed"


def test_rte_panic_aborts():
    r = run_child("""
        import pyrtap as rte
        rte.rte_panic("no memory for %s", "mbufs")
    """)
    assert r.returncode == -6          # SIGABRT
    assert "PANIC: no memory for mbufs" in r.stderr


# ---- addresses and port set-up helpers ---------------------------------------------------------

def test_ether_addr_helpers():
    a = rte.rte_ether_addr("02:00:00:00:00:0a")
    b = rte.rte_ether_addr()
    assert rte.rte_is_zero_ether_addr(b)
    rte.rte_ether_addr_copy(a, b)
    assert rte.rte_is_same_ether_addr(a, b) and b is not a
    b.addr_bytes[5] = 0x0B                            # mutable in place, as in C
    assert str(b) == "02:00:00:00:00:0b" and not rte.rte_is_same_ether_addr(a, b)
    assert rte.rte_ether_format_addr(a) == "02:00:00:00:00:0A"
    assert rte.RTE_ETHER_ADDR_PRT_FMT % rte.RTE_ETHER_ADDR_BYTES(b) == "02:00:00:00:00:0B"
    seen = set()
    for _ in range(20):
        rte.rte_eth_random_addr(b)
        assert rte.rte_is_valid_assigned_ether_addr(b) and b.addr_bytes[0] & 2
        seen.add(bytes(b.addr_bytes))
    assert len(seen) == 20
    with pytest.raises(ValueError):
        b.addr_bytes = b"\x01\x02"
    assert rte.rte_is_broadcast_ether_addr(rte.rte_ether_addr("ff:ff:ff:ff:ff:ff"))
    assert rte.rte_is_unicast_ether_addr(a)


def test_port_setup_helpers(tap_port):
    port = tap_port.port
    assert rte.rte_eth_dev_adjust_nb_rx_tx_desc(port, 0, 100000) == (0, 1, 4096)
    assert rte.rte_eth_dev_adjust_nb_rx_tx_desc(port, 1024, 1024) == (0, 1024, 1024)
    assert rte.rte_eth_dev_adjust_nb_rx_tx_desc(99, 1, 1)[0] == -errno.ENODEV
    assert rte.rte_eth_dev_socket_id(port) == 0
    assert rte.rte_eth_dev_socket_id(99) == -1 and rte.rte_errno() == errno.EINVAL
    assert rte.rte_eth_dev_set_ptypes(port, rte.RTE_PTYPE_UNKNOWN, None, 0) == 0
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(port, info) == 0
    assert info.default_rxconf.offloads == 0 and info.default_txconf.offloads == 0
    conf = rte.rte_eth_conf()
    assert conf.rxmode.mq_mode == rte.RTE_ETH_MQ_RX_NONE and conf.txmode.mq_mode == rte.RTE_ETH_MQ_TX_NONE
    link = rte.rte_eth_link()
    assert rte.rte_eth_link_get_nowait(port, link) == 0
    assert rte.rte_eth_link_to_str(link) == "Link down"
    link.link_status = rte.RTE_ETH_LINK_UP
    assert rte.rte_eth_link_to_str(link) == "Link up at 10 Gbps FDX Fixed"
    assert len(rte.rte_eth_link_to_str(link)) < rte.RTE_ETH_LINK_MAX_STR_LEN
    assert rte.rte_eth_link_speed_to_str(100) == "100 Mbps"
    assert rte.rte_eth_link_speed_to_str(rte.RTE_ETH_SPEED_NUM_NONE) == "None"
    c0 = rte.rte_eth_read_clock(port)
    assert 0 < c0 <= rte.rte_eth_read_clock(port)
    assert rte.rte_eth_read_clock(99) == -errno.ENODEV
