"""Fuzz sweep (issue 8): every public ``rte_*`` call, every ``Port`` method, the ``Mbuf``
attributes and the ``MbufBurst`` operations, called
with wrong types and out-of-range values, in forked children. Any exception is fine;
a signal (a crash) or a hang fails the test.

A seeded random sweep, not hypothesis: reproducible from the seed printed on failure
(``PYRTAP_FUZZ_SEED``), and ``PYRTAP_FUZZ_CALLS`` calls per function (default 60).
Each function runs in its own forked child that makes a fresh pool and a started port
of each driver first, so a crash or a hang names the function.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)

FUZZER = r'''
import errno, inspect, logging, os, random, signal, sys, time
import numpy as np
sys.path.insert(0, %(tests)r)
logging.disable(logging.CRITICAL)
import pyrtap as rte
from pyrtap.port import Port
from helpers import make_frame, mbuf_from

SEED, CALLS, TAG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# Calls that end the process or wait as long as they are told by design (DPDK's too):
# rte_exit exits, rte_panic aborts, the delays wait for any duration they are given.
BY_DESIGN = {"rte_exit", "rte_panic", "rte_delay_us", "rte_delay_ms", "rte_delay_us_block",
             "rte_delay_us_sleep"}
RTE = sorted(n for n in dir(rte) if n.startswith("rte_") and callable(getattr(rte, n))
             and not inspect.isclass(getattr(rte, n)) and n not in BY_DESIGN)
PORT_METHODS = sorted(n for n in dir(Port) if not n.startswith("_") and n != "probe")
# Calls that would end the child's set-up for every later call are still fuzzed: each
# function gets its own child.


def world(rnd):
    """A pool, mbufs in every state, bursts, and a started port of each driver."""
    mp = rte.rte_pktmbuf_pool_create("fz", 128, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE)
    small = rte.rte_pktmbuf_pool_create("fzs", 64, 0, 8, 128 + 64)
    ports = []
    for i, drv in enumerate(("net_rtap", "net_tap")):
        name = "%%s%%d" %% (drv, 80 + i)
        assert rte.rte_dev_probe("%%s,iface=fz%%s%%d" %% (name, TAG, i)) == 0
        p = rte.rte_eth_dev_get_port_by_name(name)
        assert rte.rte_eth_dev_configure(p, 1, 1, None) == 0
        assert rte.rte_eth_rx_queue_setup(p, 0, 16, 0, None, mp) == 0
        assert rte.rte_eth_tx_queue_setup(p, 0, 16, 0, None) == 0
        assert rte.rte_eth_dev_start(p) == 0
        ports.append(p)
    live = [mbuf_from(mp, make_frame(rnd.choice([18, 60, 1500]), seed=i)) for i in range(4)]
    chain = mbuf_from(mp, make_frame(100))
    rte.rte_pktmbuf_chain(chain, mbuf_from(mp, make_frame(60)))
    freed = mbuf_from(mp, make_frame(60))
    rte.rte_pktmbuf_free(freed)
    clone = rte.rte_pktmbuf_clone(live[0], small)
    burst = rte.MbufBurst(8)
    rte.rte_pktmbuf_alloc_bulk(mp, burst, 3)
    gone = rte.rte_pktmbuf_pool_create("fzg", 16, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE)
    dead = rte.rte_pktmbuf_alloc(gone)
    dead_burst = rte.MbufBurst(4)
    rte.rte_pktmbuf_alloc_bulk(gone, dead_burst, 4)
    rte.rte_mempool_free(gone)
    return mp, small, ports, live, chain, freed, clone, burst, gone, dead, dead_burst


def values(rnd, w):
    mp, small, ports, live, chain, freed, clone, burst, gone, dead, dead_burst = w
    scalars = [None, 0, 1, -1, 2, 7, 13, 31, 32, 33, 64, 255, 256, 511, 512, 1500, 4096,
               0xFFFF, 0x10000, 2**31 - 1, 2**31, 2**32, 2**63, 2**64, -2**63, -2**64,
               1.5, float("nan"), float("inf"), True, "x", "", "net_tap0", b"\x00" * 8,
               [], [None] * 4, (), {}, object(), np.int64(1), np.uint16(0), np.uint64(2**63),
               np.float32(2.0), np.zeros(4, np.uint64), np.zeros(8, np.uint8)]
    objs = [mp, small, gone, burst, dead_burst, rte.MbufBurst(1), burst[1:2], chain, freed,
            clone, dead, rte.rte_eth_stats(), rte.rte_eth_link(), rte.rte_eth_dev_info(),
            rte.rte_ether_addr() if hasattr(rte, "rte_ether_addr") else None,
            rte.rte_eth_conf() if hasattr(rte, "rte_eth_conf") else None,
            [rnd.choice(live), None], list(live[:2])] + live + ports
    return scalars, objs


def pick(rnd, scalars, objs, ports):
    r = rnd.random()
    if r < 0.25:
        return rnd.choice(ports)
    if r < 0.6:
        return rnd.choice(objs)
    return rnd.choice(scalars)


def arity(fn):
    try:
        ps = inspect.signature(fn).parameters.values()
        return len([p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        return 4


def run(name):
    rnd = random.Random("%%d/%%s" %% (SEED, name))
    w = world(rnd)
    scalars, objs = values(rnd, w)
    ports = w[2]
    if name.startswith("Port."):
        target = [Port(p) for p in ports]
        meth = name[5:]
    mbufs = [o for o in objs if isinstance(o, rte.Mbuf)]
    bursts = [o for o in objs if isinstance(o, rte.MbufBurst)]
    for i in range(CALLS):
        if name == "Mbuf.attributes":
            m = rnd.choice(mbufs)
            attr = rnd.choice(MBUF_ATTRS)
            try:
                setattr(m, attr, pick(rnd, scalars, objs, ports))
            except Exception:
                pass
            for attr in MBUF_ATTRS:
                try:
                    getattr(m, attr)
                except Exception:
                    pass
            try:
                bytes(m), len(m), repr(m), m.data
            except Exception:
                pass
            continue
        if name == "MbufBurst.operations":
            b = rnd.choice(bursts)
            op = rnd.randrange(6)
            try:
                if op == 0:
                    b[pick(rnd, scalars, objs, ports)] = pick(rnd, scalars, objs, ports)
                elif op == 1:
                    b[pick(rnd, scalars, objs, ports)]
                elif op == 2:
                    b.count = pick(rnd, scalars, objs, ports)
                elif op == 3:
                    b.handles[rnd.randrange(-2, 10)] = pick(rnd, scalars, objs, ports)
                elif op == 4:
                    rte.MbufBurst(0, np.array([rnd.getrandbits(64) for _ in range(4)], np.uint64))
                else:
                    list(b), repr(b), b[rnd.randrange(-3, 3):rnd.randrange(-3, 9)]
            except Exception:
                pass
            continue
    for i in range(CALLS if not name.startswith(("Mbuf.", "MbufBurst.")) else 0):
        if name.startswith("Port."):
            obj = rnd.choice(target)
            fn = getattr(obj, meth)
            if not callable(fn):
                continue
        else:
            fn = getattr(rte, name)
        n = arity(fn)
        n = max(0, n + rnd.choice([0, 0, 0, 0, -1, 1]))
        args = [pick(rnd, scalars, objs, ports) for _ in range(n)]
        try:
            fn(*args)
        except Exception:
            pass
        # Between calls, touch the data path: a corrupted mbuf or queue shows up here.
        b = rte.MbufBurst(8)
        for p in ports:
            k = rte.rte_eth_rx_burst(p, 0, b, 8)
            if k > 0:
                rte.rte_pktmbuf_free_bulk(b, k)
            rte.rte_eth_tx_burst(p, 0, [], 0)
    for m in w[3]:
        try:
            bytes(m)
        except Exception:
            pass


MBUF_ATTRS = ["next", "data_off", "data_len", "pkt_len", "nb_segs", "ol_flags", "packet_type",
              "port", "l2_len", "l3_len", "l4_len", "outer_l2_len", "outer_l3_len", "tso_segsz",
              "refcnt", "buf_len", "handle", "index", "pool"]
names = RTE + ["Port." + m for m in PORT_METHODS] + ["Mbuf.attributes", "MbufBurst.operations"]
failures = []
for name in names:
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)                       # a hang becomes SIGALRM: reported as one
        try:
            run(name)
            rte.rte_eal_cleanup()
        except BaseException as e:
            os.write(2, ("%%s: set-up or teardown raised %%r\n" %% (name, e)).encode())
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        failures.append("%%s: %%s" %% (name, signal.Signals(os.WTERMSIG(status)).name))
    elif os.WEXITSTATUS(status) != 0:
        failures.append("%%s: exit %%d" %% (name, os.WEXITSTATUS(status)))
    os.system("ip link del fz%%s0 2>/dev/null; ip link del fz%%s1 2>/dev/null" %% (TAG, TAG))
print("FUZZED %%d functions" %% len(names))
for f in failures:
    print("FAIL " + f)
'''


def test_fuzz_every_public_call(tap_required):
    seed = int(os.environ.get("PYRTAP_FUZZ_SEED", "8"))
    calls = os.environ.get("PYRTAP_FUZZ_CALLS", "60")
    tag = "%x" % (os.getpid() & 0xFFFF)
    try:
        r = subprocess.run([sys.executable, "-c", FUZZER % {"tests": TESTS}, str(seed), calls, tag],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("the fuzz sweep hung as a whole (seed %d)" % seed)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "FUZZED" in r.stdout, r.stderr[-3000:]
    fails = [line for line in r.stdout.splitlines() if line.startswith("FAIL")]
    assert not fails, "seed %d:\n%s\n%s" % (seed, "\n".join(fails), r.stderr[-3000:])
