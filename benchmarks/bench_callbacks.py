#!/usr/bin/env python3
"""The cost of Rx callbacks: ``rte_eth_rx_burst`` on an idle net_tap port (one read()
that finds nothing), with no callback and with one empty Python callback, interleaved,
median of 5 runs. The difference is what a callback adds to every burst; the first
figure against an older build is what the callback support (one byte test) and the GIL
release cost a burst without callbacks.

Run as root: ``.venv/bin/python benchmarks/bench_callbacks.py``.
"""
from __future__ import annotations

import secrets
import statistics
import sys
import time

import pyrtap as rte

CALLS = 200_000


def main() -> int:
    iface = "cb" + secrets.token_hex(4)
    assert rte.rte_eal_init(["bench", "--vdev=net_tap0,iface=%s" % iface]) >= 0
    pool = rte.rte_pktmbuf_pool_create("cbp", 1024, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    try:
        assert rte.rte_eth_dev_configure(0, 1, 1, None) == 0
        assert rte.rte_eth_rx_queue_setup(0, 0, 64, 0, None, pool) == 0
        assert rte.rte_eth_tx_queue_setup(0, 0, 64, 0, None) == 0
        assert rte.rte_eth_dev_start(0) == 0
        burst = rte.MbufBurst(32)
        rx = rte.rte_eth_rx_burst

        def timed() -> float:
            t0 = time.perf_counter()
            for _ in range(CALLS):
                rx(0, 0, burst, 32)
            return (time.perf_counter() - t0) / CALLS * 1e9

        res = {"none": [], "empty": []}
        for _ in range(5):
            res["none"].append(timed())
            cb = rte.rte_eth_add_rx_callback(0, 0, lambda p, q, pkts, n, m, a: n, None)
            res["empty"].append(timed())
            rte.rte_eth_remove_rx_callback(0, 0, cb)
        none, empty = statistics.median(res["none"]), statistics.median(res["empty"])
        print("rte_eth_rx_burst on an idle port, median of 5 x %d calls:" % CALLS)
        print("  no callback      %7.0f ns per call" % none)
        print("  1 empty callback %7.0f ns per call (+%.0f ns)" % (empty, empty - none))
    finally:
        rte.rte_eal_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
