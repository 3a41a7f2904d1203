"""mbuf dynamic fields and flags (rte_mbuf_dyn.h) and the private area (rte_mbuf_to_priv)."""
from __future__ import annotations

import errno
import os
import secrets
import subprocess
import sys

import numpy as np

import pyrtap as rte
from helpers import PacketSocket, make_frame, rx_poll, setup_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _name(prefix: str) -> str:
    return prefix + secrets.token_hex(4)      # registrations last for the process


def test_register_and_lookup():
    name = _name("ts")
    off = rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(name, 8, 8))
    assert off >= 0 and off % 8 == 0
    assert rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(name, 8, 8)) == off
    assert rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(name, 4, 4)) == -1
    assert rte.rte_errno() == errno.EEXIST
    desc = rte.rte_mbuf_dynfield()
    assert rte.rte_mbuf_dynfield_lookup(name, desc) == off and (desc.size, desc.align) == (8, 8)
    assert rte.rte_mbuf_dynfield_lookup(_name("none"), None) == -1 and rte.rte_errno() == errno.ENOENT
    for bad in (rte.rte_mbuf_dynfield("", 4, 4), rte.rte_mbuf_dynfield(_name("b"), 0, 1),
                rte.rte_mbuf_dynfield(_name("b"), 4, 3), rte.rte_mbuf_dynfield(_name("b"), 65, 1)):
        assert rte.rte_mbuf_dynfield_register(bad) == -1 and rte.rte_errno() == errno.EINVAL
    flag = _name("fl")
    bit = rte.rte_mbuf_dynflag_register(rte.rte_mbuf_dynflag(flag))
    assert bit >= 0 and rte.rte_mbuf_dynflag_register(rte.rte_mbuf_dynflag(flag)) == bit
    assert rte.rte_mbuf_dynflag_lookup(flag, None) == bit
    used = 0
    for n in dir(rte):
        if n.startswith("RTE_MBUF_F_") and isinstance(getattr(rte, n), int):
            used |= getattr(rte, n)
    assert not used >> bit & 1, "a dynamic flag must not collide with an RTE_MBUF_F_* flag"


def test_area_and_flags_run_out_cleanly():
    """64 bytes of fields and 21 flag bits: then ENOENT, nothing overlaps."""
    r = subprocess.run([sys.executable, "-c", """
import pyrtap as rte
offs = [rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield("f%d" % i, 4, 4)) for i in range(17)]
bits = [rte.rte_mbuf_dynflag_register(rte.rte_mbuf_dynflag("g%d" % i)) for i in range(22)]
print(sorted(offs[:16]) == list(range(0, 64, 4)), offs[16], rte.rte_errno() == 2,
      len(set(bits[:21])) == 21, bits[21])
"""], capture_output=True, text=True, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO), timeout=30)
    assert r.stdout.split() == ["True", "-1", "True", "True", "-1"], r.stdout + r.stderr


def test_fields_per_mbuf_and_burst_access(make_pool):
    mp = make_pool(n=64)
    off = rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(_name("seq"), 4, 4))
    burst = rte.MbufBurst(8)
    assert rte.rte_pktmbuf_alloc_bulk(mp, burst, 8) == 0
    try:
        rte.dynfield_set(burst, 8, off, np.arange(100, 108, dtype=np.uint32))
        assert list(rte.dynfield_get(burst, 8, off, np.uint32)) == list(range(100, 108))
        assert int(rte.RTE_MBUF_DYNFIELD(burst[3], off, np.uint32)[0]) == 103
        rte.RTE_MBUF_DYNFIELD(burst[3], off, np.uint32)[0] = 7      # C: *RTE_MBUF_DYNFIELD(...) = 7
        assert rte.dynfield_get(burst, 8, off, np.uint32)[3] == 7
        rte.dynfield_set([burst[0], burst[1]], 2, off, np.uint32(9))  # a list, one value for all
        assert list(rte.dynfield_get(burst, 2, off, np.uint32)) == [9, 9]
        assert bytes(burst[0]) == b""                                # the packet data is untouched
    finally:
        rte.rte_pktmbuf_free_bulk(burst, 8)


def test_private_area(make_pool):
    mp = make_pool(n=16, priv_size=24)
    a, b = rte.rte_pktmbuf_alloc(mp), rte.rte_pktmbuf_alloc(mp)
    try:
        pa, pb = rte.rte_mbuf_to_priv(a), rte.rte_mbuf_to_priv(b)
        assert pa.shape == (24,) and pb.shape == (24,)
        pa[:] = 0xAA
        pb[:] = 0x55
        view = rte.rte_pktmbuf_append(a, 10)
        view[:] = 1
        assert bytes(rte.rte_mbuf_to_priv(a)) == b"\xaa" * 24 and bytes(pb) == b"\x55" * 24
        assert bytes(a) == b"\x01" * 10
    finally:
        rte.rte_pktmbuf_free(a)
        rte.rte_pktmbuf_free(b)
    plain = make_pool(n=4)
    m = rte.rte_pktmbuf_alloc(plain)
    assert rte.rte_mbuf_to_priv(m).shape == (0,)
    rte.rte_pktmbuf_free(m)


def test_a_new_pool_starts_with_clear_fields(unique_name):
    off = rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(_name("c"), 8, 8))
    mp = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    m = rte.rte_pktmbuf_alloc(mp)
    rte.RTE_MBUF_DYNFIELD(m, off, np.uint64)[0] = 0xDEAD
    rte.rte_pktmbuf_free(m)
    assert rte.rte_mempool_free(mp) == 0
    mp2 = rte.rte_pktmbuf_pool_create(unique_name("mp"), 8, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    try:
        m2 = rte.rte_pktmbuf_alloc(mp2)
        assert int(rte.RTE_MBUF_DYNFIELD(m2, off, np.uint64)[0]) == 0     # the id may be reused
        rte.rte_pktmbuf_free(m2)
    finally:
        rte.rte_mempool_free(mp2)


def test_field_written_in_rx_callback_is_read_in_tx_callback(make_port, pool):
    """DPDK's rxtx_callbacks pattern: the Rx callback stamps each packet (a dynamic field
    and a dynamic flag), the Tx callback of the port it is forwarded to reads both."""
    a, b = make_port("net_rtap"), make_port("net_tap")
    setup_port(a.port, pool, nb_rxd=32)
    setup_port(b.port, pool, nb_rxd=16)
    off = rte.rte_mbuf_dynfield_register(rte.rte_mbuf_dynfield(_name("stamp"), 8, 8))
    flag = 1 << rte.rte_mbuf_dynflag_register(rte.rte_mbuf_dynflag(_name("stamped")))
    counter = [1000]
    seen = []

    def stamp(port, queue, pkts, n, max_pkts, param):
        rte.dynfield_set(pkts, n, off, np.arange(counter[0], counter[0] + n, dtype=np.uint64))
        counter[0] += n
        for i in range(n):
            pkts[i].ol_flags |= flag
        return n

    def check(port, queue, pkts, n, param):
        seen.extend((int(v), bool(pkts[i].ol_flags & flag))
                    for i, v in enumerate(rte.dynfield_get(pkts, n, off, np.uint64)))
        return n

    rte.rte_eth_add_rx_callback(a.port, 0, stamp, None)
    rte.rte_eth_add_tx_callback(b.port, 0, check, None)
    frames = [make_frame(80, seed=i) for i in range(6)]
    with PacketSocket(a.iface) as s:
        s.send_all(frames)
        got, _ = rx_poll(a.port, 0, 6)
    burst = rte.MbufBurst(8)
    for i, (_, m) in enumerate(got):
        burst[i] = m
    assert rte.rte_eth_tx_burst(b.port, 0, burst, len(got)) == 6
    assert seen == [(1000 + i, True) for i in range(6)]
    assert rte.rte_eth_dev_stop(a.port) == 0 and rte.rte_eth_dev_stop(b.port) == 0
    assert pool.in_use_count() == 0


def test_rxtx_callbacks_example(unique_name):
    """examples/rxtx_callbacks.py forwards port 0 -> 1 unchanged and reports the latency
    its Rx callback's timestamps give in the Tx callback (a dynamic field and flag)."""
    import time
    a, b = unique_name("ra"), unique_name("rb")
    proc = subprocess.Popen([sys.executable, os.path.join(REPO, "examples", "rxtx_callbacks.py"),
                             "--vdev=net_rtap0,iface=%s" % a, "--vdev=net_tap1,iface=%s" % b, "--",
                             "--report", "10", "--seconds", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                            env=dict(os.environ, PYTHONPATH=REPO))
    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, "rxtx_callbacks exited early:\n" + "".join(lines)
            lines.append(line)
            if "forwarding packets" in line:
                break
        frames = [make_frame(100, seed=i) for i in range(15)]
        with PacketSocket(a) as sa, PacketSocket(b) as sb:
            time.sleep(0.2)
            sa.send_all(frames)
            got = sb.capture(15, timeout=3)
        assert got == frames
        out, _ = proc.communicate(timeout=15)
        lines.append(out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    assert proc.returncode == 0, text
    reports = [int(line.split()[2]) for line in text.splitlines() if line.startswith("Latency = ")]
    assert reports and all(0 < r < 10 ** 9 for r in reports), text
