#!/usr/bin/env python3
"""DPDK's skeleton/basicfwd sample, ported line for line.

Forwards every packet received on port 2k to port 2k+1 and back.

    python examples/skeleton.py --vdev=net_rtap0,iface=sk0 --vdev=net_rtap1,iface=sk1
    python examples/skeleton.py --vdev=net_tap0 --vdev=net_tap1 -- --seconds 5

Options after ``--`` belong to the application: ``--seconds N`` stops after N seconds
(the C sample runs until killed).
"""
import argparse
import signal
import sys
import time

import pyrtap as rte

RX_RING_SIZE = 1024
TX_RING_SIZE = 1024
NUM_MBUFS = 8191
MBUF_CACHE_SIZE = 250
BURST_SIZE = 32

force_quit = False


def port_init(port, mbuf_pool):
    """Initialise a port with one Rx and one Tx queue (basicfwd's port_init)."""
    port_conf = rte.rte_eth_conf()
    rx_rings = tx_rings = 1
    if not rte.rte_eth_dev_is_valid_port(port):
        return -1
    dev_info = rte.rte_eth_dev_info()
    retval = rte.rte_eth_dev_info_get(port, dev_info)
    if retval != 0:
        print("Error during getting device (port %u) info" % port)
        return retval
    retval = rte.rte_eth_dev_configure(port, rx_rings, tx_rings, port_conf)
    if retval != 0:
        return retval
    for q in range(rx_rings):
        retval = rte.rte_eth_rx_queue_setup(port, q, RX_RING_SIZE, 0, None, mbuf_pool)
        if retval < 0:
            return retval
    txconf = rte.rte_eth_txconf()
    txconf.offloads = port_conf.txmode.offloads
    for q in range(tx_rings):
        retval = rte.rte_eth_tx_queue_setup(port, q, TX_RING_SIZE, 0, txconf)
        if retval < 0:
            return retval
    retval = rte.rte_eth_dev_start(port)
    if retval < 0:
        return retval
    addr = rte.rte_ether_addr()
    retval = rte.rte_eth_macaddr_get(port, addr)
    if retval != 0:
        return retval
    print("Port %u MAC: %s" % (port, addr))
    retval = rte.rte_eth_promiscuous_enable(port)
    if retval != 0:
        return retval
    return 0


def lcore_main(seconds):
    """Receive on each port and send on its pair (basicfwd's lcore_main)."""
    bufs = rte.MbufBurst(BURST_SIZE)
    ports = list(rte.RTE_ETH_FOREACH_DEV())
    print("\nCore 0 forwarding packets. [Ctrl+C to quit]")
    deadline = time.monotonic() + seconds if seconds else None
    forwarded = 0
    while not force_quit and (deadline is None or time.monotonic() < deadline):
        for port in ports:
            nb_rx = rte.rte_eth_rx_burst(port, 0, bufs, BURST_SIZE)
            if nb_rx == 0:
                continue
            nb_tx = rte.rte_eth_tx_burst(port ^ 1, 0, bufs, nb_rx)
            forwarded += nb_tx
            if nb_tx < nb_rx:
                rte.rte_pktmbuf_free_bulk(bufs[nb_tx:nb_rx], nb_rx - nb_tx)
    return forwarded


def main(argv):
    global force_quit
    ret = rte.rte_eal_init(argv)
    if ret < 0:
        sys.exit("Error with EAL initialization")
    app = argparse.ArgumentParser(prog="skeleton")
    app.add_argument("--seconds", type=float, default=0)
    args = app.parse_args(argv[ret + 1:])

    def on_signal(signum, frame):
        global force_quit
        force_quit = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        nb_ports = rte.rte_eth_dev_count_avail()
        if nb_ports < 2 or nb_ports & 1:
            sys.exit("Error: number of ports must be even")
        mbuf_pool = rte.rte_pktmbuf_pool_create("MBUF_POOL", NUM_MBUFS * nb_ports, MBUF_CACHE_SIZE, 0,
                                                rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
        if mbuf_pool is None:
            sys.exit("Cannot create mbuf pool")
        for portid in rte.RTE_ETH_FOREACH_DEV():
            if port_init(portid, mbuf_pool) != 0:
                sys.exit("Cannot init port %d" % portid)
        forwarded = lcore_main(args.seconds)
        print("forwarded %d packets" % forwarded)
    finally:
        rte.rte_eal_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
