#!/usr/bin/env python3
"""Ethdev throughput benchmark: net_rtap (every io_uring variant) vs net_tap vs raw C.

The same code as ``python -m pyrtap.compare`` (the implementation lives there), with
longer defaults: 3 interleaved runs of every case (the median is reported), every
``uring=`` preset of net_rtap, its non-default ``rx=`` modes when the driver has them,
and the ``os.write`` Python-loop baseline for Tx only. Every option of compare works
here too (``--help``); e.g. ``--seconds 5 --repeat 5`` or ``--rtap 'uring=defer'``.

Run as root: ``.venv/bin/python benchmarks/bench_ethdev.py`` (``make bench``).
Results: ``results/bench_ethdev.json``; see docs/benchmarks.md for how to read them.
"""
from __future__ import annotations

import sys

from pyrtap.compare import ALL_PRESETS, main
from pyrtap.drivers.rtap import RtapDriver


def rtap_variants() -> str:
    """Every uring= preset with the default Rx mode, then each other rx= mode (if the
    driver has any) with the default and the defer rings."""
    variants = ["uring=%s" % p for p in ALL_PRESETS]
    modes = [m for m in RtapDriver.rx_modes if m != RtapDriver.default_rx_mode]
    for mode in modes:
        variants += ["uring=default,rx=%s" % mode, "uring=defer,rx=%s" % mode]
    return ";".join(variants)


if __name__ == "__main__":
    sys.exit(main(
        sys.argv[1:],
        prog="benchmarks/bench_ethdev.py",
        seconds=2.0,
        warmup=0.3,
        repeat=3,
        workloads=("tx", "loopback"),        # the tcp rows are benchmarks/bench_tcp.py
        impls=("raw", "raw-uring", "os.write", "net_tap", "net_rtap"),
        rtap=rtap_variants(),
        json="results/bench_ethdev.json",
    ))
