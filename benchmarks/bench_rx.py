#!/usr/bin/env python3
"""Rx under a steady sender: another process writes frames as fast as it can into TAP
A, whose ingress the kernel redirects (tc mirred) to the port's interface; this
process only receives (``rte_eth_rx_burst`` + ``rte_pktmbuf_free_bulk``).

Unlike the loopback of ``pyrtap.compare`` (Tx and Rx in one thread, the queue always
holding exactly one burst), frames arrive here whenever the sender's core produces
them, so the receiver sees a queue that is sometimes empty, sometimes backed up: the
case that decides between waking armed reads, batching non-waiting ones and plain
read(). Reported per implementation: frames received per second, the share the
kernel dropped because the port fell behind (imissed), and the receiver's CPU
seconds per million frames. Cases run interleaved, ``--repeat`` times; medians.

Run as root: ``.venv/bin/python benchmarks/bench_rx.py [--seconds 2] [--repeat 3]``.
"""
from __future__ import annotations

import argparse
import resource
import secrets
import statistics
import subprocess
import sys
import time

import pyrtap as rte
from pyrtap import _rawbench
from pyrtap.drivers.tapdev import VNET_HDR_LEN, TapDevice

VARIANTS = ["net_tap", "net_rtap", "net_rtap/rx=batch", "net_rtap/rx=prepost", "net_rtap/rx=multishot"]


def _sender(iface: str, size: int, seconds: float) -> None:
    """Child process: write ``size``-byte frames into TAP ``iface`` for ``seconds``."""
    tap = TapDevice(iface, iface, persist=False)
    fd = tap.open_queues(1)[0]
    frame = bytes(VNET_HDR_LEN) + b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01\x88\xb5" + bytes(size - 14)
    print("ready", flush=True)
    sys.stdin.readline()
    written = _rawbench.tx_write(fd, frame, seconds)[0]
    print(written, flush=True)
    tap.close()


def run_case(variant: str, size: int, seconds: float, burst: int, nb_desc: int) -> dict:
    tok = secrets.token_hex(3)
    a, b = "brA" + tok, "brB" + tok
    driver, _, devargs = variant.partition("/")
    name = "%s%d" % (driver, int(tok, 16) % 1000)
    spec = "%s,iface=%s" % (name, b) + ("," + devargs if devargs else "")
    assert rte.rte_dev_probe(spec) == 0, spec
    port = rte.rte_eth_dev_get_port_by_name(name)
    pool = rte.rte_pktmbuf_pool_create("bp" + tok, 8192, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    sender = subprocess.Popen([sys.executable, __file__, "--sender", a, str(size), str(seconds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert sender.stdout.readline().strip() == "ready"
        subprocess.run(["ip", "link", "set", a, "up"], check=True)
        subprocess.run(["tc", "qdisc", "add", "dev", a, "ingress"], check=True)
        subprocess.run(["tc", "filter", "add", "dev", a, "parent", "ffff:", "protocol", "all", "u32",
                        "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", b],
                       check=True)
        assert rte.rte_eth_dev_configure(port, 1, 1, None) == 0
        assert rte.rte_eth_rx_queue_setup(port, 0, nb_desc, 0, None, pool) == 0
        assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
        assert rte.rte_eth_dev_start(port) == 0
        rte.rte_eth_stats_reset(port)
        bufs = rte.MbufBurst(burst)
        rx_burst, free_bulk = rte.rte_eth_rx_burst, rte.rte_pktmbuf_free_bulk
        got = 0
        sender.stdin.write("go\n")
        sender.stdin.flush()
        r0, t0 = resource.getrusage(resource.RUSAGE_THREAD), time.monotonic()
        end = t0 + seconds
        while True:
            for _ in range(64):
                n = rx_burst(port, 0, bufs, burst)
                if n:
                    free_bulk(bufs, n)
                    got += n
            if time.monotonic() >= end:
                break
        # Drain what is queued once the sender stops.
        written = int(sender.stdout.readline())
        r1, t1 = resource.getrusage(resource.RUSAGE_THREAD), time.monotonic()
        st = rte.rte_eth_stats()
        rte.rte_eth_stats_get(port, st)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        return {"variant": variant, "size": size, "rx_mpps": got / (t1 - t0) / 1e6,
                "written": written, "received": got, "imissed": st.imissed,
                "cpu_s_per_mframe": cpu / max(got, 1) * 1e6}
    finally:
        sender.stdin.close()
        sender.wait(10)
        rte.rte_eth_dev_stop(port)
        rte.rte_dev_remove(name)
        rte.rte_mempool_free(pool)
        subprocess.run(["ip", "link", "del", a], capture_output=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/bench_rx.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--burst", type=int, default=32)
    ap.add_argument("--nb-desc", type=int, default=1024)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--json", default="results/bench_rx.json")
    ap.add_argument("--sender", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sender:
        _sender(args.sender[0], int(args.sender[1]), float(args.sender[2]))
        return 0
    assert rte.rte_eal_init(["bench_rx"]) >= 0
    variants = args.variants.split(",")
    runs: dict = {}
    try:
        for _ in range(args.repeat):
            for size in map(int, args.sizes.split(",")):
                for v in variants:
                    run = run_case(v, size, args.seconds, args.burst, args.nb_desc)
                    runs.setdefault((v, size), []).append(run)
    finally:
        rte.rte_eal_cleanup()
    rows = []
    print("%-24s %5s %10s %9s %12s %9s"
          % ("implementation", "size", "rx Mpps", "dropped", "CPU s/Mfr", "vs tap"))
    for size in map(int, args.sizes.split(",")):
        base = (statistics.median(r["rx_mpps"] for r in runs[("net_tap", size)])
                if ("net_tap", size) in runs else None)
        for v in variants:
            rs = runs[(v, size)]
            med = {k: statistics.median(r[k] for r in rs) for k in ("rx_mpps", "cpu_s_per_mframe")}
            drop = statistics.median(r["imissed"] / max(r["written"], 1) for r in rs)
            ratio = med["rx_mpps"] / base if base else float("nan")
            rows.append({"variant": v, "size": size, **med, "dropped": drop, "vs_net_tap": ratio, "runs": rs})
            print("%-24s %5d %10.3f %8.1f%% %12.2f %9.2f" % (v, size, med["rx_mpps"], 100 * drop,
                                                          med["cpu_s_per_mframe"], ratio))
    if args.json:
        from pyrtap.compare import write_json_safely   # no symlink is followed
        write_json_safely(args.json, {"date": time.strftime("%Y-%m-%d %H:%M"), "args": vars(args),
                                      "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
