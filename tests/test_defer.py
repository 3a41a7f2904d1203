"""net_rtap with uring=defer (IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN) in DPDK's usual
layout: ports configured and started on the main thread, queues polled by a worker.

A defer ring is made disabled and enabled by the first burst after start, so the
polling thread becomes its only submitter; stop, MTU changes and close run on the main
thread and must get every buffer back from a ring they may not enter.
"""
from __future__ import annotations

import threading
import time

import pytest

import pyrtap as rte
from helpers import PacketSocket, frame_seed, is_test_frame, make_frame, mbuf_bytes, mbuf_from, setup_port

MODES = ["auto", "batch", "prepost", "multishot"]
N = 40          # frames each way
TX_BURST = 8    # above sync=4: the writes go through the ring


def _stats(port):
    s = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(port, s) == 0
    return s


class Worker(threading.Thread):
    """Polls queue 0 of ``port``: keeps a copy of each test frame received (the mbufs are
    freed at once) and sends what ``send`` holds, in bursts of TX_BURST, until ``stop``."""

    def __init__(self, port, pool, want=0, send=(), stop_when_done=True):
        super().__init__(daemon=True)
        self.port, self.pool, self.want, self.send = port, pool, want, list(send)
        self.stop_when_done = stop_when_done
        self.stop = threading.Event()
        self.got: list[bytes] = []
        self.sent = 0
        self.error: BaseException | None = None

    def run(self):
        try:
            self._loop()
        except BaseException as e:       # reported by the test
            self.error = e

    def _loop(self):
        b = rte.MbufBurst(32)
        deadline = time.monotonic() + 10
        while not self.stop.is_set() and time.monotonic() < deadline:
            n = rte.rte_eth_rx_burst(self.port, 0, b, 32)
            for i in range(n):
                data = mbuf_bytes(b[i])
                if is_test_frame(data):
                    self.got.append(data)
                rte.rte_pktmbuf_free(b[i])
            if self.sent < len(self.send):
                chunk = [mbuf_from(self.pool, f) for f in self.send[self.sent:self.sent + TX_BURST]]
                k = rte.rte_eth_tx_burst(self.port, 0, chunk, len(chunk))
                for m in chunk[max(k, 0):]:
                    rte.rte_pktmbuf_free(m)
                self.sent += max(k, 0)
            else:
                rte.rte_eth_tx_burst(self.port, 0, [], 0)      # reaps finished writes
            if self.stop_when_done and len(self.got) >= self.want and self.sent == len(self.send):
                return
            if not n:
                time.sleep(0.0005)


def _run(worker):
    worker.start()
    return worker


def _join(worker):
    worker.stop.set()
    worker.join(15)
    assert not worker.is_alive(), "the worker hung"
    if worker.error is not None:
        raise worker.error


@pytest.mark.parametrize("mode", MODES)
def test_worker_polls_queues_set_up_on_main(make_port, pool, mode):
    """Set up and started on the main thread, polled by a worker: every frame is received
    with its exact bytes and every frame sent reaches the wire; the worker exits, the main
    thread stops the port (twice, with a new worker in between) and closes it: the pool is
    full again (the fd check of conftest covers the rings and their sentinels)."""
    tp = make_port("net_rtap", f"uring=defer,rx={mode}")
    setup_port(tp.port, pool, nb_rxd=64, nb_txd=64)
    with PacketSocket(tp.iface) as sock:
        for round_ in range(2):
            rx = [make_frame(60 + 37 * i, seed=1000 * round_ + i) for i in range(N)]
            tx = [make_frame(64 + 29 * i, seed=5000 + 1000 * round_ + i) for i in range(N)]
            sock.send_all(rx[:N // 2])          # before the first poll: waits in the kernel
            w = _run(Worker(tp.port, pool, want=N, send=tx))
            time.sleep(0.05)
            sock.send_all(rx[N // 2:])
            sent = sock.capture(N, timeout=5)
            _join(w)
            assert sorted(w.got, key=frame_seed) == rx, "frames lost or changed on Rx"
            assert sorted(sent, key=frame_seed) == tx, "frames lost or changed on Tx"
            s = _stats(tp.port)
            assert (s.opackets, s.ierrors, s.oerrors) == (N, 0, 0) and s.ipackets >= N
            # The worker has exited: its rings are stopped from the main thread.
            assert rte.rte_eth_dev_stop(tp.port) == 0
            assert pool.in_use_count() == 0
            assert rte.rte_eth_stats_reset(tp.port) == 0
            if round_ == 0:
                assert rte.rte_eth_dev_start(tp.port) == 0     # the next worker owns the new rings
    assert rte.rte_eth_dev_close(tp.port) == 0
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("mode", MODES)
def test_mtu_change_and_stop_from_main_while_the_worker_polls(make_port, pool, mode):
    """A run-time MTU change restarts the Rx queue from the main thread while the worker
    (its ring's owner) keeps polling: frames of the new size arrive; then the port is
    stopped from the main thread under the running worker, with reads posted."""
    tp = make_port("net_rtap", f"uring=defer,rx={mode}")
    setup_port(tp.port, pool, nb_rxd=32, nb_txd=32)
    w = _run(Worker(tp.port, pool, want=10 ** 9))
    try:
        with PacketSocket(tp.iface) as sock:
            small = [make_frame(100, seed=i) for i in range(8)]
            sock.send_all(small)
            deadline = time.monotonic() + 5
            while len(w.got) < len(small) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sorted(w.got, key=frame_seed) == small
            assert rte.rte_eth_dev_set_mtu(tp.port, 3000) == 0       # Rx buffers grow: restarted
            big = [make_frame(3000, seed=100 + i) for i in range(8)]
            sock.send_all(big)
            deadline = time.monotonic() + 5
            while len(w.got) < len(small) + len(big) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sorted(w.got[len(small):], key=frame_seed) == big
            s = _stats(tp.port)
            assert s.ierrors == 0 and s.oerrors == 0
            assert rte.rte_eth_dev_stop(tp.port) == 0                # the worker still polls
            assert pool.in_use_count() == 0
    finally:
        _join(w)
    assert rte.rte_eth_dev_close(tp.port) == 0
    assert pool.in_use_count() == 0


def test_second_thread_on_an_owned_queue_fails_loudly(make_port, pool, caplog):
    """After a worker took the queues (its first bursts) and exited, a burst from another
    thread gets nothing and sends nothing, counts one error per queue and logs it; stopping
    from the main thread returns every mbuf, and after a restart the queues belong to
    whoever polls first."""
    tp = make_port("net_rtap", "uring=defer,rx=prepost")
    setup_port(tp.port, pool, nb_rxd=32, nb_txd=32)
    def first_poll():     # each queue (Rx 0, Tx 0) belongs to the thread that polls it first
        rte.rte_eth_rx_burst(tp.port, 0, rte.MbufBurst(32), 32)
        rte.rte_eth_tx_burst(tp.port, 0, [], 0)

    first = threading.Thread(target=first_poll)
    first.start()
    first.join(10)
    with PacketSocket(tp.iface) as sock:
        sock.send(make_frame(80, seed=1))
        time.sleep(0.05)
        results = {}

        def intruder():
            results["rx"] = rte.rte_eth_rx_burst(tp.port, 0, rte.MbufBurst(32), 32)
            pkts = [mbuf_from(pool, make_frame(60 + i)) for i in range(TX_BURST)]
            results["tx"] = rte.rte_eth_tx_burst(tp.port, 0, pkts, len(pkts))
            for m in pkts[results["tx"]:]:
                rte.rte_pktmbuf_free(m)

        t = threading.Thread(target=intruder)
        t.start()
        t.join(10)
        assert not t.is_alive(), "a burst from a second thread hung"
        assert results == {"rx": 0, "tx": 0}
        s = _stats(tp.port)
        assert s.ierrors == 1 and s.oerrors == 1 and s.ipackets == 0 and s.opackets == 0
        assert caplog.text.count("second thread") == 2       # once per queue
        assert sock.capture(1, timeout=0.2) == []
        # The main thread is a second thread too (the first poller exited).
        assert rte.rte_eth_rx_burst(tp.port, 0, rte.MbufBurst(32), 32) == 0
        assert _stats(tp.port).ierrors == 1            # counted (and logged) once per queue
        assert caplog.text.count("second thread") == 2
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0
    # After a restart the ring belongs to whoever polls first: here the main thread. The
    # frame the owner's posted read had taken was not lost: the read was cancelled with
    # the ring, and the frame stayed in the kernel's queue.
    assert rte.rte_eth_dev_start(tp.port) == 0
    with PacketSocket(tp.iface) as sock:
        sock.send(make_frame(90, seed=2))
        b = rte.MbufBurst(32)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            n = rte.rte_eth_rx_burst(tp.port, 0, b, 32)
            for i in range(n):
                got.append(mbuf_bytes(b[i]))
                rte.rte_pktmbuf_free(b[i])
        assert got == [make_frame(80, seed=1), make_frame(90, seed=2)]
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("mode", ["prepost", "multishot"])
def test_stop_before_the_first_poll(make_port, pool, mode):
    """Started and stopped without a burst: the reads start() prepared were never submitted,
    and every buffer comes back; a frame that waited meanwhile is received after restart."""
    tp = make_port("net_rtap", f"uring=defer,rx={mode}")
    setup_port(tp.port, pool, nb_rxd=32, nb_txd=32)
    with PacketSocket(tp.iface) as sock:
        sock.send(make_frame(70, seed=7))
        time.sleep(0.05)
        assert rte.rte_eth_dev_stop(tp.port) == 0
        assert pool.in_use_count() == 0
        assert rte.rte_eth_dev_start(tp.port) == 0
        w = _run(Worker(tp.port, pool, want=1))
        w.join(10)
        _join(w)
        assert w.got == [make_frame(70, seed=7)]
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0


def test_rx_intr_armed_before_the_first_poll_wakes_at_once(make_port, pool):
    """rx=prepost: no read is posted before the first burst, so an interrupt armed then
    would sleep through frames: arming wakes the waiter at once, and its poll posts them."""
    tp = make_port("net_rtap", "uring=defer,rx=prepost")
    conf = rte.rte_eth_conf()
    conf.intr_conf.rxq = 1
    assert rte.rte_eth_dev_configure(tp.port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(tp.port, 0, 32, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(tp.port, 0, 32, 0, None) == 0
    assert rte.rte_eth_dev_start(tp.port) == 0
    fd = rte.rte_eth_dev_rx_intr_ctl_q_get_fd(tp.port, 0)
    assert fd >= 0
    import select
    result = {}

    def lcore():
        assert rte.rte_eth_dev_rx_intr_enable(tp.port, 0) == 0
        result["woke"] = select.select([fd], [], [], 1.0)[0] == [fd]
        os_read(fd)
        assert rte.rte_eth_dev_rx_intr_disable(tp.port, 0) == 0
        b = rte.MbufBurst(32)
        result["first"] = rte.rte_eth_rx_burst(tp.port, 0, b, 32)      # posts the reads
        assert rte.rte_eth_dev_rx_intr_enable(tp.port, 0) == 0
        result["quiet"] = select.select([fd], [], [], 0.15)[0] == []
        result["ready"].set()
        result["woke2"] = select.select([fd], [], [], 2.0)[0] == [fd]
        assert rte.rte_eth_dev_rx_intr_disable(tp.port, 0) == 0
        deadline = time.monotonic() + 2
        n = 0
        while n == 0 and time.monotonic() < deadline:
            n = rte.rte_eth_rx_burst(tp.port, 0, b, 32)
        result["n"] = n
        for i in range(n):
            result.setdefault("frames", []).append(mbuf_bytes(b[i]))
            rte.rte_pktmbuf_free(b[i])

    def os_read(fd):
        import os
        try:
            os.read(fd, 8)
        except BlockingIOError:
            pass

    result["ready"] = threading.Event()
    t = threading.Thread(target=lcore)
    t.start()
    with PacketSocket(tp.iface) as sock:
        assert result["ready"].wait(5)
        sock.send(make_frame(60, seed=3))
        t.join(10)
    assert not t.is_alive()
    assert (result["woke"], result["first"], result["quiet"], result["woke2"], result["n"]) == \
        (True, 0, True, True, 1), result
    assert result["frames"] == [make_frame(60, seed=3)]
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert pool.in_use_count() == 0
