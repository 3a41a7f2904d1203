#!/usr/bin/env python3
"""A minimal Rx/Tx loop as a DPDK C programmer writes it: echo every frame back.

Each received frame has its Ethernet source and destination swapped and is sent
back out of the port it came from (like testpmd's macswap mode).

    python examples/rxtx_loop.py --vdev=net_rtap0,iface=echo0 -- --seconds 10
"""
import argparse
import sys
import time

import pyrtap as rte

BURST_SIZE = 32


def macswap(m):
    eth = rte.rte_pktmbuf_mtod(m)
    if len(eth) >= 12:
        dst = eth[0:6].copy()
        eth[0:6] = eth[6:12]
        eth[6:12] = dst


def main(argv):
    ret = rte.rte_eal_init(argv)
    if ret < 0:
        sys.exit("Cannot init EAL")
    app = argparse.ArgumentParser(prog="rxtx_loop")
    app.add_argument("--seconds", type=float, default=10)
    args = app.parse_args(argv[ret + 1:])
    try:
        if rte.rte_eth_dev_count_avail() == 0:
            sys.exit("No ports: pass --vdev=net_rtap0 or --vdev=net_tap0")
        pool = rte.rte_pktmbuf_pool_create("mbuf_pool", 4096, 0, 0, rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
        for port in rte.RTE_ETH_FOREACH_DEV():
            if (rte.rte_eth_dev_configure(port, 1, 1, None) < 0
                    or rte.rte_eth_rx_queue_setup(port, 0, 512, 0, None, pool) < 0
                    or rte.rte_eth_tx_queue_setup(port, 0, 512, 0, None) < 0
                    or rte.rte_eth_dev_start(port) < 0):
                sys.exit("Cannot start port %d" % port)
        pkts = [None] * BURST_SIZE
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            for port in rte.RTE_ETH_FOREACH_DEV():
                nb_rx = rte.rte_eth_rx_burst(port, 0, pkts, BURST_SIZE)
                for i in range(nb_rx):
                    macswap(pkts[i])
                nb_tx = rte.rte_eth_tx_burst(port, 0, pkts, nb_rx)
                for i in range(nb_tx, nb_rx):
                    rte.rte_pktmbuf_free(pkts[i])
        for port in rte.RTE_ETH_FOREACH_DEV():
            stats = rte.rte_eth_stats()
            rte.rte_eth_stats_get(port, stats)
            print("port %d: rx %d tx %d" % (port, stats.ipackets, stats.opackets))
    finally:
        rte.rte_eal_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
