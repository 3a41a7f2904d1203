#!/usr/bin/env python3
"""TCP benchmark: every row of the tcp workload, with longer iperf3 runs.

The same code as ``python -m pyrtap.compare --workloads tcp`` (pyrtap/tcpfwd.py), with
every row (``pyrtap.tcpfwd.ALL_ROWS``: the raw forwarder with and without offloads,
examples/l2fwd.py on net_tap and on net_rtap with each Rx mode, both with and without
``--offload``, and DPDK's testpmd) and 10 s of iperf3 per row. Every option of compare
works here too, e.g. ``--tcp-time 30`` or ``--tcp-rows raw,net_tap``.

Run as root: ``.venv/bin/python benchmarks/bench_tcp.py`` (``make bench``).
Results: ``results/bench_tcp.json``; see docs/benchmarks.md.
"""
from __future__ import annotations

import sys

from pyrtap.compare import main
from pyrtap.tcpfwd import ALL_ROWS

if __name__ == "__main__":
    sys.exit(main(
        sys.argv[1:],
        prog="benchmarks/bench_tcp.py",
        workloads=("tcp",),
        tcp_rows=ALL_ROWS,
        tcp_time=10.0,
        json="results/bench_tcp.json",
    ))
