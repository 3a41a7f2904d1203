"""Events (issue 11): link-state change and removal callbacks, an interface moved into
another network namespace, Rx interrupts with select/epoll, and the asyncio face.

Everything runs on real TAP interfaces; namespaces are made per test and removed in
finalizers. Timing bounds are the issue's (1 s for a callback, 100 ms for a wake-up)."""
from __future__ import annotations

import asyncio
import errno
import json
import os
import select
import threading
import time

import pytest

import pyrtap as rte
from pyrtap import events, netlink
from helpers import (PacketSocket, free_all, ip, is_test_frame, link_names, make_frame, mbuf_bytes,
                     rx_poll)

ENOTSUP = errno.EOPNOTSUPP


# ---- helpers ------------------------------------------------------------------------------

def _conf(lsc=0, rmv=0, rxq=0):
    c = rte.rte_eth_conf()
    c.intr_conf.lsc, c.intr_conf.rmv, c.intr_conf.rxq = lsc, rmv, rxq
    return c


def _start(port, pool, conf, nb_rxd=64):
    assert rte.rte_eth_dev_configure(port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(port, 0, nb_rxd, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0


class Recorder:
    """A callback that records (time, port, event, link status read inside, thread, arg)."""

    def __init__(self):
        self.calls = []
        self.cond = threading.Condition()

    def __call__(self, port, event, arg, ret_param):
        link = rte.rte_eth_link()
        rc = rte.rte_eth_link_get_nowait(port, link)
        with self.cond:
            self.calls.append((time.monotonic(), port, event, link.link_status if rc == 0 else rc,
                               threading.current_thread().name, arg))
            self.cond.notify_all()
        return 0

    def wait(self, pred, timeout=1.0):
        """The first recorded call matching ``pred``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for c in self.calls:
                    if pred(c):
                        return c
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def clear(self):
        with self.cond:
            self.calls.clear()


@pytest.fixture
def netns(unique_name):
    """Factory: a new network namespace; returns (name, fd). Removed at the end."""
    made = []

    def make():
        name = unique_name("ns")
        ip("netns", "add", name)
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        made.append((name, fd))
        return name, fd

    yield make
    for name, fd in made:
        os.close(fd)
        ip("netns", "del", name, check=False)


def _ip_n(ns, iface):
    r = ip("-n", ns, "-s", "-d", "-j", "link", "show", "dev", iface)
    return json.loads(r.stdout)[0]


# ---- link-state change ------------------------------------------------------------------------

def test_lsc_on_ip_link_and_set_link_down(make_port, driver, pool):
    tp = make_port(driver)
    _start(tp.port, pool, _conf(lsc=1))
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_LSC, rec, "arg") == 0
    assert events.listener_thread() is not None
    for how, expect in (("ip-down", rte.RTE_ETH_LINK_DOWN), ("ip-up", rte.RTE_ETH_LINK_UP),
                        ("api-down", rte.RTE_ETH_LINK_DOWN), ("api-up", rte.RTE_ETH_LINK_UP)):
        rec.clear()
        t0 = time.monotonic()
        if how.startswith("ip"):
            ip("link", "set", "dev", tp.iface, how[3:])
        elif how == "api-down":
            assert rte.rte_eth_dev_set_link_down(tp.port) == 0
        else:
            assert rte.rte_eth_dev_set_link_up(tp.port) == 0
        c = rec.wait(lambda c, expect=expect: c[3] == expect)
        assert c is not None, f"no LSC callback within 1 s of {how}: {rec.calls}"
        t, port, event, status, thread, arg = c
        assert t - t0 < 1.0
        assert (port, event, thread, arg) == (tp.port, rte.RTE_ETH_EVENT_INTR_LSC, "pyrtap-intr", "arg")
    # No callback after unregister.
    assert rte.rte_eth_dev_callback_unregister(tp.port, rte.RTE_ETH_EVENT_INTR_LSC, rec, "arg") == 0
    rec.clear()
    ip("link", "set", "dev", tp.iface, "down")
    ip("link", "set", "dev", tp.iface, "up")
    time.sleep(0.3)
    assert rec.calls == []
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert events.listener_thread() is None, "the listener outlived its last port"


def test_lsc_needs_intr_conf_and_all_ports(make_port, pool):
    """RTE_ETH_ALL serves every port; a port configured without intr_conf.lsc gives none."""
    a, b = make_port("net_rtap"), make_port("net_tap")
    _start(a.port, pool, _conf(lsc=1))
    _start(b.port, pool, _conf())
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(rte.RTE_ETH_ALL, rte.RTE_ETH_EVENT_INTR_LSC, rec, None) == 0
    try:
        ip("link", "set", "dev", b.iface, "down")
        ip("link", "set", "dev", a.iface, "down")
        assert rec.wait(lambda c: c[1] == a.port) is not None
        time.sleep(0.2)
        assert {c[1] for c in rec.calls} == {a.port}
    finally:
        assert rte.rte_eth_dev_callback_unregister(rte.RTE_ETH_ALL, rte.RTE_ETH_EVENT_INTR_LSC,
                                                   rec, None) == 0
    assert rte.rte_eth_dev_callback_register(99, rte.RTE_ETH_EVENT_INTR_LSC, rec, None) == -errno.EINVAL
    assert rte.rte_eth_dev_callback_register(a.port, rte.RTE_ETH_EVENT_MAX, rec, None) == -errno.EINVAL
    assert rte.rte_eth_dev_callback_register(a.port, rte.RTE_ETH_EVENT_INTR_LSC, None, None) == -errno.EINVAL


def test_raising_callback_and_unregister_inside(make_port, pool, caplog):
    tp = make_port("net_rtap")
    _start(tp.port, pool, _conf(lsc=1))
    calls = []

    def bad(port, event, arg, rp):
        calls.append("bad")
        raise RuntimeError("callback failure on purpose")

    def once(port, event, arg, rp):
        calls.append("once")
        assert rte.rte_eth_dev_callback_unregister(port, event, once, None) == 0
        return 0

    rec = Recorder()
    for cb in (bad, once, rec):
        assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_LSC, cb, None) == 0
    ip("link", "set", "dev", tp.iface, "down")
    assert rec.wait(lambda c: c[3] == rte.RTE_ETH_LINK_DOWN) is not None
    assert calls == ["bad", "once"]
    assert "callback failure on purpose" in caplog.text
    ip("link", "set", "dev", tp.iface, "up")
    assert rec.wait(lambda c: c[3] == rte.RTE_ETH_LINK_UP) is not None, "the listener died"
    assert calls == ["bad", "once", "bad"]      # 'once' is gone, 'bad' still called


# ---- removal ----------------------------------------------------------------------------------

def test_rmv_on_ip_link_del(make_port, variant, pool):
    tp = make_port(*variant)
    _start(tp.port, pool, _conf(lsc=1, rmv=1), nb_rxd=32)
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_RMV, rec, None) == 0
    t0 = time.monotonic()
    ip("link", "del", "dev", tp.iface)
    c = rec.wait(lambda c: c[2] == rte.RTE_ETH_EVENT_INTR_RMV)
    assert c is not None and c[0] - t0 < 1.0
    # Bursts return 0 and count errors (the queues' counters: stats_get is -ENODEV).
    dev = rte.ethdev_api._dev(tp.port)
    burst = rte.MbufBurst(8)
    for _ in range(3):
        assert rte.rte_eth_rx_burst(tp.port, 0, burst, 8) == 0
    m = rte.rte_pktmbuf_alloc(pool)
    rte.rte_pktmbuf_append(m, 60)
    if rte.rte_eth_tx_burst(tp.port, 0, [m], 1) != 1:     # refused: still ours
        rte.rte_pktmbuf_free(m)
    errors = dev.rx_queues[0].stats()["errors"] + dev.tx_queues[0].stats()["errors"]
    assert errors > 0
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert rte.rte_eth_dev_close(tp.port) == 0
    assert events.listener_thread() is None
    assert pool.in_use_count() == 0     # and the fd check runs after the test


def test_eal_cleanup_stops_listener(tap_required, unique_name):
    before = len(os.listdir("/proc/self/fd"))
    mp = rte.rte_pktmbuf_pool_create(unique_name("mp"), 256, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    iface = unique_name("pe")
    assert rte.rte_dev_probe(f"net_rtap77,iface={iface}") == 0
    port = rte.rte_eth_dev_get_port_by_name("net_rtap77")
    _start(port, mp, _conf(lsc=1))
    thread = events.listener_thread()
    assert thread is not None and thread.is_alive()
    assert rte.rte_eal_cleanup() == 0
    assert not thread.is_alive() and events.listener_thread() is None
    assert len(os.listdir("/proc/self/fd")) == before


# ---- an interface moved into a namespace --------------------------------------------------------

@pytest.mark.parametrize("drv", ["net_rtap", "net_tap"])
def test_namespace_move_keeps_control_and_events(make_port, drv, pool, netns):
    tp = make_port(drv)
    _start(tp.port, pool, _conf(lsc=1))
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_LSC, rec, None) == 0
    ns, nsfd = netns()
    ip("link", "set", "dev", tp.iface, "netns", ns)
    assert rec.wait(lambda c: c[3] == rte.RTE_ETH_LINK_DOWN) is not None   # moving downs it
    rec.clear()
    # LSC from inside the namespace.
    t0 = time.monotonic()
    ip("-n", ns, "link", "set", "dev", tp.iface, "up")
    c = rec.wait(lambda c: c[3] == rte.RTE_ETH_LINK_UP)
    assert c is not None and c[0] - t0 < 1.0, rec.calls
    # imissed: a 4-frame kernel queue and frames sent from inside the namespace.
    ip("-n", ns, "link", "set", "dev", tp.iface, "txqueuelen", "4")
    sock = netlink.run_in_netns(nsfd, lambda: PacketSocket(tp.iface))
    try:
        for i in range(20):
            sock.send(make_frame(60, seed=i))
    finally:
        sock.close()
    # The qdisc may still be handing the last frames over: compare once the kernel's
    # count stands still around our read.
    for _ in range(20):
        before = _ip_n(ns, tp.iface)["stats64"]["tx"]["dropped"]
        st = rte.rte_eth_stats()
        assert rte.rte_eth_stats_get(tp.port, st) == 0
        k = _ip_n(ns, tp.iface)
        if k["stats64"]["tx"]["dropped"] == before:
            break
        time.sleep(0.05)
    assert st.imissed == k["stats64"]["tx"]["dropped"] > 0
    # Link, MAC, promiscuous, MTU: read and set, as ip -n sees them.
    link = rte.rte_eth_link()
    assert rte.rte_eth_link_get_nowait(tp.port, link) == 0
    assert link.link_status == rte.RTE_ETH_LINK_UP and "UP" in k["flags"]
    mac = rte.rte_ether_addr()
    assert rte.rte_eth_macaddr_get(tp.port, mac) == 0 and str(mac) == k["address"]
    assert rte.rte_eth_dev_default_mac_addr_set(tp.port, rte.rte_ether_addr("02:00:00:00:11:22")) == 0
    assert rte.rte_eth_promiscuous_enable(tp.port) == 0
    assert rte.rte_eth_promiscuous_get(tp.port) == 1
    assert rte.rte_eth_dev_set_mtu(tp.port, 1400) == 0
    k = _ip_n(ns, tp.iface)
    assert rte.rte_eth_dev_get_mtu(tp.port) == k["mtu"] == 1400
    assert k["address"] == "02:00:00:00:11:22" and "PROMISC" in k["flags"]
    assert rte.rte_eth_dev_info_get(tp.port, rte.rte_eth_dev_info()) == 0
    # The data path still works: frames from inside the namespace are received (after
    # the ones the 4-frame queue held).
    pkts, _ = rx_poll(tp.port, 0, 4, timeout=1)
    free_all(m for _, m in pkts)
    sock = netlink.run_in_netns(nsfd, lambda: PacketSocket(tp.iface))
    try:
        sock.send(make_frame(80, seed=7))
        pkts, _ = rx_poll(tp.port, 0, 1, match=lambda f: is_test_frame(f) and len(f) == 80)
    finally:
        sock.close()
    free_all(m for _, m in pkts)
    assert len(pkts) == 1
    assert rte.rte_eth_dev_stop(tp.port) == 0


# ---- Rx interrupts ------------------------------------------------------------------------------

def _drain(port, burst):
    while True:
        n = rte.rte_eth_rx_burst(port, 0, burst, 32)
        if not n:
            return
        for i in range(n):
            rte.rte_pktmbuf_free(burst[i])


def test_rx_intr_select_wakes_and_stays_quiet(make_port, variant, pool):
    _check_rx_intr(make_port(*variant), pool)


@pytest.mark.parametrize("devargs", ["rx=prepost,uring=defer", "rx=multishot,uring=defer",
                                     "rx=prepost,uring=sqpoll"])
def test_rx_intr_with_ring_presets(make_port, pool, devargs):
    """The eventfd also wakes with DEFER_TASKRUN (completions posted only inside
    io_uring_enter) and SQPOLL rings."""
    _check_rx_intr(make_port("net_rtap", devargs), pool)


def _check_rx_intr(tp, pool):
    _start(tp.port, pool, _conf(rxq=1))
    fd = rte.rte_eth_dev_rx_intr_ctl_q_get_fd(tp.port, 0)
    assert fd >= 0
    assert rte.rte_eth_dev_rx_intr_ctl_q_get_fd(tp.port, 0) == fd      # the same fd every time
    burst = rte.MbufBurst(32)
    sock = PacketSocket(tp.iface)
    try:
        for round_ in range(3):
            _drain(tp.port, burst)
            assert rte.rte_eth_dev_rx_intr_enable(tp.port, 0) == 0
            assert select.select([fd], [], [], 0.15)[0] == [], "readable with no frame"
            t0 = time.monotonic()
            sock.send(make_frame(60, seed=round_))
            woke = select.select([fd], [], [], 1.0)[0]
            dt = time.monotonic() - t0
            assert woke == [fd] and dt < 0.1, f"round {round_}: woke={woke} after {dt * 1e3:.1f} ms"
            assert rte.rte_eth_dev_rx_intr_disable(tp.port, 0) == 0
            pkts, _ = rx_poll(tp.port, 0, 1, timeout=1)
            assert len(pkts) == 1
            free_all(m for _, m in pkts)
        # A frame that arrived before enable wakes at once.
        sock.send(make_frame(60, seed=9))
        time.sleep(0.05)
        assert rte.rte_eth_dev_rx_intr_enable(tp.port, 0) == 0
        assert select.select([fd], [], [], 0.1)[0] == [fd]
        rte.rte_eth_dev_rx_intr_disable(tp.port, 0)
        pkts, _ = rx_poll(tp.port, 0, 1, timeout=1)
        assert len(pkts) == 1
        free_all(m for _, m in pkts)
    finally:
        sock.close()


def test_rx_intr_errors(make_port, pool):
    tp = make_port("net_rtap", "rx=prepost")
    _start(tp.port, pool, _conf())
    assert rte.rte_eth_dev_rx_intr_ctl_q_get_fd(tp.port, 0) == -ENOTSUP
    assert rte.rte_eth_dev_rx_intr_enable(tp.port, 0) == -ENOTSUP
    assert rte.rte_eth_dev_rx_intr_enable(tp.port, 1) == -errno.EINVAL
    assert rte.rte_eth_dev_rx_intr_disable(99, 0) == -errno.ENODEV


def test_rx_intr_epoll_l3fwd_power_loop(make_port, pool):
    """DPDK's l3fwd-power pattern with epoll: poll while frames flow, sleep when idle."""
    tp = make_port("net_rtap", "rx=prepost")
    _start(tp.port, pool, _conf(rxq=1))
    ep = select.epoll()
    ep.register(rte.rte_eth_dev_rx_intr_ctl_q_get_fd(tp.port, 0), select.EPOLLIN)
    burst = rte.MbufBurst(32)
    got, sleeps = 0, 0
    sock = PacketSocket(tp.iface)

    def sender():
        for i in range(3):
            time.sleep(0.05)
            for j in range(10):
                sock.send(make_frame(60, seed=i * 10 + j))

    t = threading.Thread(target=sender)
    t.start()
    try:
        deadline = time.monotonic() + 3
        while got < 30 and time.monotonic() < deadline:
            n = rte.rte_eth_rx_burst(tp.port, 0, burst, 32)
            if n:
                for i in range(n):
                    rte.rte_pktmbuf_free(burst[i])
                got += n
                continue
            rte.rte_eth_dev_rx_intr_enable(tp.port, 0)
            if ep.poll(0.5):
                sleeps += 1
            rte.rte_eth_dev_rx_intr_disable(tp.port, 0)
    finally:
        t.join()
        sock.close()
        ep.close()
    assert got == 30 and 1 <= sleeps


# ---- asyncio ----------------------------------------------------------------------------------

def test_asyncio_receive_loop_gets_every_frame(make_port, variant, pool):
    tp = make_port(*variant)
    _start(tp.port, pool, _conf(rxq=1))
    port = rte.Port(tp.port)
    N = 40
    sock = PacketSocket(tp.iface)

    async def main():
        seeds = []
        ticks = 0

        async def ticker():     # another task keeps running while the loop sleeps
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async def sender():
            for i in range(N):
                sock.send(make_frame(60, seed=i))
                if i % 8 == 7:
                    await asyncio.sleep(0.02)

        async def receiver():
            async for pkts in port.rx_bursts(0):
                for m in pkts:
                    data = mbuf_bytes(m)
                    if is_test_frame(data):
                        seeds.append(int.from_bytes(data[14:18], "big"))
                    rte.rte_pktmbuf_free(m)
                if len(seeds) >= N:
                    return

        tick = asyncio.create_task(ticker())
        assert await port.wait_rx(0, timeout=0.05) is False       # nothing yet
        await asyncio.gather(asyncio.wait_for(receiver(), 5), sender())
        tick.cancel()
        return seeds, ticks

    try:
        seeds, ticks = asyncio.run(main())
    finally:
        sock.close()
    assert sorted(s for s in seeds) == list(range(N))
    assert ticks > 0


# ---- examples -----------------------------------------------------------------------------------

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example(name, *args, timeout=30):
    import subprocess
    import sys
    root = os.path.dirname(EXAMPLES)
    env = dict(os.environ, PYTHONPATH=root)    # this checkout's pyrtap, not an installed one
    return subprocess.Popen([sys.executable, os.path.join(EXAMPLES, name), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=root, env=env)


def test_example_link_status_interrupt(tap_required, unique_name):
    a, b = unique_name("li"), unique_name("li")
    p = _example("link_status_interrupt.py", "-l", "0-1", f"--vdev=net_rtap90,iface={a}",
                 f"--vdev=net_tap91,iface={b}", "--", "-p", "3", "-T", "0", "--seconds", "2.5")
    try:
        deadline = time.monotonic() + 10
        lines = []
        while time.monotonic() < deadline:      # wait until it polls
            line = p.stdout.readline()
            lines.append(line)
            if "entering main loop" in line or not line:
                break
        ip("link", "set", "dev", a, "down")
        out, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = "".join(lines) + out
    assert p.returncode == 0, out
    assert "Event type: LSC interrupt" in out and "Port 0 Link down" in out, out
    assert "Bye..." in out


def test_example_rx_sleep(tap_required, unique_name):
    iface = unique_name("rs")
    p = _example("rx_sleep.py", f"--vdev=net_rtap92,iface={iface}", "--", "--seconds", "2.2")
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0, out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) >= 2 and float(rows[-1][0]) >= 2.2, out
    assert float(rows[-1][3].rstrip("%")) < 2.0, out       # idle: under 2 % of a core


def test_namespace_move_onto_a_taken_ifindex(make_port, pool, netns, unique_name):
    """The kernel renumbers an interface whose ifindex is taken in the target namespace:
    control calls and link events follow it to the new index."""
    tp = make_port("net_rtap")
    _start(tp.port, pool, _conf(lsc=1))
    ns, nsfd = netns()
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tp.port, info) == 0
    old = info.if_index
    ip("-n", ns, "link", "add", unique_name("br"), "index", str(old), "type", "bridge")
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_LSC, rec, None) == 0
    ip("link", "set", "dev", tp.iface, "netns", ns)
    k = _ip_n(ns, tp.iface)
    assert k["ifindex"] != old
    assert rte.rte_eth_dev_set_mtu(tp.port, 1280) == 0
    assert rte.rte_eth_dev_get_mtu(tp.port) == _ip_n(ns, tp.iface)["mtu"] == 1280
    assert rte.rte_eth_dev_info_get(tp.port, info) == 0 and info.if_index == k["ifindex"]
    rec.clear()
    ip("-n", ns, "link", "set", "dev", tp.iface, "up")
    assert rec.wait(lambda c: c[3] == rte.RTE_ETH_LINK_UP) is not None
    assert rte.rte_eth_dev_stop(tp.port) == 0
    # Configured again: the new queue fds attach to the moved interface (they are opened
    # from inside its namespace), no namesake appears in ours.
    assert rte.rte_eth_dev_configure(tp.port, 2, 2, _conf(lsc=1)) == 0
    for q in range(2):
        assert rte.rte_eth_rx_queue_setup(tp.port, q, 32, 0, None, pool) == 0
        assert rte.rte_eth_tx_queue_setup(tp.port, q, 32, 0, None) == 0
    assert rte.rte_eth_dev_start(tp.port) == 0
    assert tp.iface not in link_names()
    assert _ip_n(ns, tp.iface)["linkinfo"]["info_data"]["numqueues"] == 2
    assert rte.rte_eth_dev_stop(tp.port) == 0


def test_callback_stops_and_closes_its_port(make_port, pool):
    """A callback may stop and close its own port: the listener, stopping with its last
    port, does not wait for itself, and every fd is released (the fd check)."""
    tp = make_port("net_tap")
    _start(tp.port, pool, _conf(lsc=1, rmv=1))
    rcs, done = [], threading.Event()

    def on_rmv(port, event, arg, rp):
        rcs.extend([rte.rte_eth_dev_stop(port), rte.rte_eth_dev_close(port)])
        done.set()
        return 0

    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_RMV, on_rmv, None) == 0
    thread = events.listener_thread()
    ip("link", "del", "dev", tp.iface)
    assert done.wait(1.0)
    assert rcs == [0, 0]
    thread.join(1.0)
    assert not thread.is_alive() and events.listener_thread() is None
    assert rte.rte_eth_dev_is_valid_port(tp.port) == 0


def test_rmv_when_its_namespace_goes_away(make_port, pool, unique_name):
    """ip netns del takes the interfaces inside with it: RMV, though no link message
    reaches us (the listener holds nothing in that namespace that would keep it alive)."""
    tp = make_port("net_rtap")
    _start(tp.port, pool, _conf(lsc=1, rmv=1))
    rec = Recorder()
    assert rte.rte_eth_dev_callback_register(tp.port, rte.RTE_ETH_EVENT_INTR_RMV, rec, None) == 0
    ns = unique_name("ns")
    ip("netns", "add", ns)
    try:
        ip("link", "set", "dev", tp.iface, "netns", ns)
        assert rte.rte_eth_dev_get_mtu(tp.port) > 0         # followed there
        time.sleep(0.1)
    finally:
        ip("netns", "del", ns)
    t0 = time.monotonic()
    c = rec.wait(lambda c: c[2] == rte.RTE_ETH_EVENT_INTR_RMV, timeout=3.0)
    assert c is not None, "no RMV after the namespace was deleted"
    assert c[0] - t0 < 1.5
    assert rte.rte_eth_dev_get_mtu(tp.port) == -errno.ENODEV
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert rte.rte_eth_dev_close(tp.port) == 0
