#!/usr/bin/env python3
"""Mempool / mbuf micro-benchmarks, driven from a Python loop.

Measures what a Python data path pays per mbuf:

  bulk_burst   rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk of 32 mbufs in an MbufBurst
  bulk_list    the same with a pre-sized Python list
  alloc_free   rte_pktmbuf_alloc + rte_pktmbuf_free of one mbuf (per pair)
  alloc        rte_pktmbuf_alloc alone (the pool is drained in batches, then refilled
               with one free_bulk outside the timed part)
  free         rte_pktmbuf_free alone (mbufs allocated with one alloc_bulk outside the
               timed part)
  clone_free   rte_pktmbuf_clone + rte_pktmbuf_free of the clone, for a 1-segment mbuf
  empty_loop   the bare ``for`` loop, to see how much of a figure is the loop itself

Each figure is the best of ``--repeat`` timed runs of about ``--seconds`` each, after a
warm-up run, timed with time.perf_counter. Not a test: it asserts only that nothing leaked.

    python benchmarks/bench_mempool.py [--seconds 1.0] [--repeat 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import pyrtap as rte  # noqa: E402

BURST = 32
POOL_SIZE = 8192
perf_counter = time.perf_counter


def _calibrate(run, seconds: float) -> int:
    """Number of loop iterations that takes roughly ``seconds``."""
    n = 64
    while True:
        t = run(n)
        if t >= 0.05 or n >= 1 << 26:
            return max(1, int(n * seconds / max(t, 1e-9)))
        n *= 4


def measure(run, seconds: float, repeat: int) -> tuple[float, int]:
    """Best (lowest) time per iteration of ``run(n)`` over ``repeat`` runs, and n."""
    n = _calibrate(run, seconds)
    run(n)                                # warm-up at full size
    best = min(run(n) for _ in range(repeat))
    return best / n, n


# ---- the loops: each returns the elapsed time of n iterations --------------------------------

def bulk_burst(mp):
    burst = rte.MbufBurst(BURST)
    alloc_bulk, free_bulk = rte.rte_pktmbuf_alloc_bulk, rte.rte_pktmbuf_free_bulk

    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            alloc_bulk(mp, burst, BURST)
            free_bulk(burst, BURST)
        return perf_counter() - t0
    return run


def bulk_list(mp):
    lst = [None] * BURST
    alloc_bulk, free_bulk = rte.rte_pktmbuf_alloc_bulk, rte.rte_pktmbuf_free_bulk

    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            alloc_bulk(mp, lst, BURST)
            free_bulk(lst, BURST)
        return perf_counter() - t0
    return run


def alloc_free(mp):
    alloc, free = rte.rte_pktmbuf_alloc, rte.rte_pktmbuf_free

    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            free(alloc(mp))
        return perf_counter() - t0
    return run


def alloc_only(mp):
    """Times rte_pktmbuf_alloc calls; batches of up to half the pool, refilled untimed."""
    alloc, free_bulk = rte.rte_pktmbuf_alloc, rte.rte_pktmbuf_free_bulk
    batch = POOL_SIZE // 2
    held = [None] * batch

    def run(n):
        total = 0.0
        done = 0
        while done < n:
            k = min(batch, n - done)
            t0 = perf_counter()
            for i in range(k):
                held[i] = alloc(mp)
            total += perf_counter() - t0
            free_bulk(held, k)
            done += k
        return total
    return run


def free_only(mp):
    """Times rte_pktmbuf_free calls; the mbufs come from an untimed alloc_bulk."""
    free, alloc_bulk = rte.rte_pktmbuf_free, rte.rte_pktmbuf_alloc_bulk
    batch = POOL_SIZE // 2
    held = [None] * batch

    def run(n):
        total = 0.0
        done = 0
        while done < n:
            k = min(batch, n - done)
            if alloc_bulk(mp, held, k) != 0:
                raise RuntimeError("pool exhausted")
            t0 = perf_counter()
            for i in range(k):
                free(held[i])
            total += perf_counter() - t0
            done += k
        return total
    return run


def clone_free(mp):
    clone, free = rte.rte_pktmbuf_clone, rte.rte_pktmbuf_free
    m = rte.rte_pktmbuf_alloc(mp)
    rte.rte_pktmbuf_append(m, 64)[:] = 0xAB

    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            free(clone(m, mp))
        return perf_counter() - t0
    run.cleanup = lambda: rte.rte_pktmbuf_free(m)
    return run


def empty_loop(mp):
    """The cost of the bare Python loop, for reference."""
    def run(n):
        t0 = perf_counter()
        for _ in range(n):
            pass
        return perf_counter() - t0
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="target length of one timed run (default 1.0)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs per figure; the best counts (default 3)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = ap.parse_args(argv)

    mp = rte.rte_pktmbuf_pool_create("bench_mempool", POOL_SIZE, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE,
                                     rte.SOCKET_ID_ANY)
    if mp is None:
        print(f"pool creation failed: errno {rte.rte_errno()}", file=sys.stderr)
        return 1
    cases = [
        ("bulk_burst", "alloc_bulk+free_bulk x32, MbufBurst", bulk_burst, BURST),
        ("bulk_list", "alloc_bulk+free_bulk x32, list", bulk_list, BURST),
        ("alloc_free", "alloc + free, one mbuf", alloc_free, 1),
        ("alloc", "alloc alone", alloc_only, 1),
        ("free", "free alone", free_only, 1),
        ("clone_free", "clone + free of the clone", clone_free, 1),
        ("empty_loop", "(empty Python loop, for reference)", empty_loop, 1),
    ]
    results = {}
    try:
        for key, label, make, per_iter in cases:
            run = make(mp)
            try:
                t_iter, n = measure(run, args.seconds, args.repeat)
            finally:
                getattr(run, "cleanup", lambda: None)()
            results[key] = {
                "label": label,
                "ns_per_mbuf": t_iter / per_iter * 1e9,
                "mbufs_per_s": per_iter / t_iter,
                "ns_per_iteration": t_iter * 1e9,
                "iterations": n,
            }
            if mp.in_use_count() != 0:
                raise RuntimeError(f"{key}: {mp.in_use_count()} mbufs leaked")
    finally:
        rte.rte_mempool_free(mp)

    print(f"pyrtap mempool benchmarks: best of {args.repeat} x ~{args.seconds:g} s, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"{'case':<40} {'ns/mbuf':>10} {'Mmbufs/s':>10} {'ns/iteration':>13}")
    for r in results.values():
        print(f"{r['label']:<40} {r['ns_per_mbuf']:>10.1f} {r['mbufs_per_s'] / 1e6:>10.2f} "
              f"{r['ns_per_iteration']:>13.1f}")
    if args.json:
        doc = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "seconds": args.seconds,
            "repeat": args.repeat,
            "burst": BURST,
            "results": results,
        }
        from pyrtap.compare import write_json_safely   # no symlink is followed
        write_json_safely(args.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
