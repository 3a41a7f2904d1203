#!/usr/bin/env python3
"""What keeping the extended statistics costs: the same runs with counting on and off.

The burst loops count size bins, unicast/multicast/broadcast, checksum and offload
flags per packet (docs/xstats.md); ``pyrtap._core.xstats_counting(False)`` skips that
part (the basic counters stay). Each case alternates on/off runs, interleaved, and
reports the median packet rate of each and the cost ``1 - on/off``. Runs the Tx-only
and loopback workloads of ``pyrtap.compare`` (the same Session and loops) on net_tap
and net_rtap.

    .venv/bin/python benchmarks/bench_xstats.py [--seconds 2] [--repeat 3] [--json PATH]
"""
from __future__ import annotations

import argparse
import statistics
import sys

from rich.console import Console
from rich.table import Table

from pyrtap import _core
from pyrtap.compare import Session, check_tx_pool, run_case

IMPLS = (("net_tap", None), ("net_rtap", "uring=default"), ("net_rtap", "uring=default,rx=batch"))


def measure(seconds: float, repeat: int, sizes, burst: int = 32) -> list[dict]:
    session = Session()
    out = []
    try:
        session.open()
        impls = [session.add(kind, variant) for kind, variant in IMPLS]
        for size in sizes:
            check_tx_pool(session.tx_pool(size), size)
        for workload in ("tx", "loopback"):
            if workload == "loopback":
                for impl in impls:
                    session.redirect(impl.a.iface, impl.b.iface)
            for size in sizes:
                for impl in impls:
                    rates = {True: [], False: []}
                    for _ in range(repeat):
                        for on in (True, False):
                            _core.xstats_counting(on)
                            run_case(session, impl, workload, size, burst, 0.2)      # warm-up
                            rates[on].append(run_case(session, impl, workload, size, burst, seconds)["pps"])
                    on, off = statistics.median(rates[True]), statistics.median(rates[False])
                    out.append({"workload": workload, "size": size, "impl": impl.key,
                                "pps_on": on, "pps_off": off, "runs_on": rates[True],
                                "runs_off": rates[False], "cost": 1 - on / off})
            for impl in impls:
                session.unredirect(impl.a.iface)
    finally:
        _core.xstats_counting(True)
        problems = session.close()
        for p in problems:
            print("cleanup: " + p, file=sys.stderr)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sizes", default="64,1500")
    p.add_argument("--json", default="results/bench_xstats.json")
    args = p.parse_args(argv)
    rows = measure(args.seconds, args.repeat, [int(s) for s in args.sizes.split(",")])
    table = Table(title="xstats counting: packet rate with it on and off (median of %d)" % args.repeat)
    for col in ("workload", "size", "implementation", "Mpps on", "Mpps off", "cost"):
        table.add_column(col, justify="left" if col in ("workload", "implementation") else "right")
    for r in rows:
        table.add_row(r["workload"], str(r["size"]), r["impl"], "%.3f" % (r["pps_on"] / 1e6),
                      "%.3f" % (r["pps_off"] / 1e6), "%+.1f %%" % (100 * r["cost"]))
    Console().print(table)
    if args.json:
        from pyrtap.compare import write_json_safely   # no symlink is followed
        write_json_safely(args.json, rows)
        print("raw results: " + args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
