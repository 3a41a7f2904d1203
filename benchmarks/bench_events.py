#!/usr/bin/env python3
"""Events: what sleeping costs and how fast it wakes (docs/events.md).

1. CPU time of an idle receive loop, for 3 s with no traffic: spinning on
   rte_eth_rx_burst, against DPDK's l3fwd-power pattern (burst; when empty, arm the Rx
   interrupt, select() on its fd, disarm) -- for every Rx mode.
2. Wake-up latency, injected frame -> burst: another process sends a frame carrying
   its CLOCK_MONOTONIC send time every few ms; the receiver sleeps in select(), bursts
   on wake-up and takes now - send time. Median and p99.
   The same through ``Port.rx_bursts`` in an asyncio loop.
3. LSC latency: rte_eth_dev_set_link_down/up called -> the callback runs on the
   listener thread. Median and p99.

    python benchmarks/bench_events.py [--samples 300] [--idle 3]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import select
import statistics
import struct
import subprocess
import sys
import threading
import time

import pyrtap as rte

MODES = [("net_rtap", "rx=auto"), ("net_rtap", "rx=batch"), ("net_rtap", "rx=prepost"),
         ("net_rtap", "rx=multishot"), ("net_tap", "")]

SENDER = r"""
import socket, struct, sys, time
iface, n, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
hdr = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5"
for i in range(n):
    time.sleep(gap)
    s.send(hdr + struct.pack("=d", time.monotonic()) + bytes(42))
"""


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def make(i, driver, devargs, pool, lsc=0):
    name, iface = "%s%d" % (driver, 40 + i), "bev%d" % i
    spec = "%s,iface=%s" % (name, iface) + ("," + devargs if devargs else "")
    assert rte.rte_dev_probe(spec) == 0, spec
    with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % iface, "w") as f:
        f.write("1")
    port = rte.rte_eth_dev_get_port_by_name(name)
    conf = rte.rte_eth_conf()
    conf.intr_conf.rxq = 1
    conf.intr_conf.lsc = lsc
    assert rte.rte_eth_dev_configure(port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(port, 0, 256, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 256, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    return port, iface


def drain(port, burst):
    n = rte.rte_eth_rx_burst(port, 0, burst, 32)
    for i in range(n):
        rte.rte_pktmbuf_free(burst[i])
    return n


def idle_cpu(port, seconds, sleep):
    """Share of one core used by the receive loop over ``seconds`` with no traffic."""
    burst = rte.MbufBurst(32)
    fd = rte.rte_eth_dev_rx_intr_ctl_q_get_fd(port, 0)
    c0, t0 = time.thread_time(), time.monotonic()
    polls = 0
    while time.monotonic() - t0 < seconds:
        if drain(port, burst):
            continue
        polls += 1
        if sleep:
            rte.rte_eth_dev_rx_intr_enable(port, 0)
            select.select([fd], [], [], 1.0)
            rte.rte_eth_dev_rx_intr_disable(port, 0)
    return (time.thread_time() - c0) / (time.monotonic() - t0), polls


def wake_latency(port, iface, samples, gap=0.004):
    burst = rte.MbufBurst(32)
    fd = rte.rte_eth_dev_rx_intr_ctl_q_get_fd(port, 0)
    lat = []
    p = subprocess.Popen([sys.executable, "-c", SENDER, iface, str(samples), str(gap)])
    deadline = time.monotonic() + samples * gap * 3 + 5
    while len(lat) < samples and time.monotonic() < deadline:
        n = rte.rte_eth_rx_burst(port, 0, burst, 32)
        if not n:
            rte.rte_eth_dev_rx_intr_enable(port, 0)
            select.select([fd], [], [], 0.5)
            rte.rte_eth_dev_rx_intr_disable(port, 0)
            continue
        now = time.monotonic()
        for i in range(n):
            data = bytes(burst[i])
            if data[12:14] == b"\x88\xb5":
                lat.append(now - struct.unpack_from("=d", data, 14)[0])
            rte.rte_pktmbuf_free(burst[i])
    p.wait()
    return lat


def async_latency(port, iface, samples, gap=0.004):
    """The same through Port.rx_bursts in an asyncio loop."""
    lat = []
    p = subprocess.Popen([sys.executable, "-c", SENDER, iface, str(samples), str(gap)])

    async def run():
        async for pkts in rte.Port(port).rx_bursts(0):
            now = time.monotonic()
            for m in pkts:
                data = bytes(m)
                if data[12:14] == b"\x88\xb5":
                    lat.append(now - struct.unpack_from("=d", data, 14)[0])
                rte.rte_pktmbuf_free(m)
            if len(lat) >= samples:
                return

    try:
        asyncio.run(asyncio.wait_for(run(), samples * gap * 3 + 5))
    except TimeoutError:
        pass
    p.wait()
    return lat


def lsc_latency(port, samples):
    lat, done = [], threading.Event()
    t0 = [0.0]

    def cb(port_id, event, arg, ret):
        lat.append(time.monotonic() - t0[0])
        done.set()
        return 0

    rte.rte_eth_dev_callback_register(port, rte.RTE_ETH_EVENT_INTR_LSC, cb, None)
    for i in range(samples):
        done.clear()
        t0[0] = time.monotonic()
        (rte.rte_eth_dev_set_link_down if i % 2 == 0 else rte.rte_eth_dev_set_link_up)(port)
        done.wait(1.0)
        time.sleep(0.005)
    rte.rte_eth_dev_callback_unregister(port, rte.RTE_ETH_EVENT_INTR_LSC, cb, None)
    return lat


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--idle", type=float, default=3.0)
    args = ap.parse_args()
    pool = rte.rte_pktmbuf_pool_create("bench_ev", 4096, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    print("kernel %s, %d CPUs" % (os.uname().release, os.cpu_count()))
    print("| driver | Rx mode | idle CPU, spinning | idle CPU, Rx interrupts (select calls) "
          "| frame -> burst median | p99 | asyncio rx_bursts median | p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (driver, devargs) in enumerate(MODES):
        port, iface = make(i, driver, devargs, pool)
        time.sleep(0.2)
        drain(port, rte.MbufBurst(32))
        spin, _ = idle_cpu(port, args.idle, False)
        sleep, wakes = idle_cpu(port, args.idle, True)
        lat = wake_latency(port, iface, args.samples)
        alat = async_latency(port, iface, args.samples)
        print("| %s | %s | %.0f %% | %.2f %% (%d) | %.0f us | %.0f us | %.0f us | %.0f us |" % (
            driver, devargs.partition("=")[2] or "-", spin * 100, sleep * 100, wakes,
            statistics.median(lat) * 1e6, pct(lat, 99) * 1e6,
            statistics.median(alat) * 1e6, pct(alat, 99) * 1e6), flush=True)
        rte.rte_eth_dev_stop(port)
        rte.rte_eth_dev_close(port)
    port, iface = make(9, "net_rtap", "", pool, lsc=1)
    lat = lsc_latency(port, min(args.samples, 200))
    print("\nLSC: rte_eth_dev_set_link_down/up -> callback, %d samples: median %.2f ms, p99 %.2f ms"
          % (len(lat), statistics.median(lat) * 1e3, pct(lat, 99) * 1e3))
    rte.rte_eal_cleanup()


if __name__ == "__main__":
    main()
