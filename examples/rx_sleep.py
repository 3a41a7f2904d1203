#!/usr/bin/env python3
"""A receive loop that sleeps when idle: DPDK's l3fwd-power idea in a few dozen lines.

Busy-polls while packets flow; after ``IDLE_POLLS`` empty bursts it arms the queue's
Rx interrupt (``intr_conf.rxq = 1``), sleeps in epoll until its fd is readable, and
disarms it. Every second it prints the packets received next to the CPU time the loop
used, so the saving is visible; ``--spin`` never sleeps, for comparison.

    python examples/rx_sleep.py --vdev=net_rtap0,iface=rs0 -- --seconds 10
    python examples/rx_sleep.py --vdev=net_tap0,iface=rs0 -- --spin
    # traffic from another shell: ping -I rs0 -b 255.255.255.255, or any sender
"""
import argparse
import select
import sys
import time

import pyrtap as rte

BURST = 32
IDLE_POLLS = 16         # empty bursts in a row before sleeping (l3fwd-power counts too)


def report(elapsed, packets, sleeps, cpu):
    print("%8.1f %10d %8d %9.1f%%" % (elapsed, packets, sleeps, 100 * cpu / elapsed), flush=True)


def main(argv):
    ret = rte.rte_eal_init(argv)
    if ret < 0:
        sys.exit("Error with EAL initialization")
    app = argparse.ArgumentParser(prog="rx_sleep")
    app.add_argument("--seconds", type=float, default=0, help="stop after N seconds")
    app.add_argument("--spin", action="store_true", help="never sleep (compare the CPU time)")
    args = app.parse_args(argv[ret + 1:])
    try:
        if rte.rte_eth_dev_count_avail() < 1:
            sys.exit("give one port: --vdev=net_rtap0,iface=rs0")
        port = 0
        pool = rte.rte_pktmbuf_pool_create("rx_sleep", 2048, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
        conf = rte.rte_eth_conf()
        conf.intr_conf.rxq = 1                     # Rx interrupts wanted
        if (rte.rte_eth_dev_configure(port, 1, 1, conf) < 0
                or rte.rte_eth_rx_queue_setup(port, 0, 512, 0, None, pool) < 0
                or rte.rte_eth_tx_queue_setup(port, 0, 512, 0, None) < 0
                or rte.rte_eth_dev_start(port) < 0):
            sys.exit("cannot set up port %d" % port)
        ep = select.epoll()
        ep.register(rte.rte_eth_dev_rx_intr_ctl_q_get_fd(port, 0), select.EPOLLIN)

        bufs = rte.MbufBurst(BURST)
        packets = sleeps = idle = 0
        start = last = time.monotonic()
        cpu0 = time.process_time()
        print("%8s %10s %8s %10s" % ("seconds", "packets", "sleeps", "CPU %"))
        while not args.seconds or time.monotonic() - start < args.seconds:
            n = rte.rte_eth_rx_burst(port, 0, bufs, BURST)
            if n:
                packets += n
                rte.rte_pktmbuf_free_bulk(bufs, n)
                idle = 0
            else:
                idle += 1
                if idle >= IDLE_POLLS and not args.spin:
                    rte.rte_eth_dev_rx_intr_enable(port, 0)
                    ep.poll(0.5)                    # sleep until packets (or a tick)
                    rte.rte_eth_dev_rx_intr_disable(port, 0)
                    sleeps += 1
                    idle = 0
            now = time.monotonic()
            if now - last >= 1.0:
                report(now - start, packets, sleeps, time.process_time() - cpu0)
                last = now
        now = time.monotonic()
        report(now - start, packets, sleeps, time.process_time() - cpu0)
        ep.close()
    except KeyboardInterrupt:
        pass
    finally:
        rte.rte_eal_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
