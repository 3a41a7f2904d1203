#!/usr/bin/env python3
"""DPDK's rxtx_callbacks sample, ported line by line.

basicfwd (every packet received on port 2k goes out of port 2k+1 and back) with two
callbacks on each port: an Rx callback stamps every received packet with the time it
arrived (a dynamic mbuf field plus a dynamic flag, as the C sample does), and a Tx
callback, just before the packets leave, adds up how long each spent in the
application; the average is printed every ``--report`` packets.

    python examples/rxtx_callbacks.py --vdev=net_rtap0,iface=cb0 --vdev=net_rtap1,iface=cb1

Options after ``--``: ``-t`` (hardware timestamps in the C sample; a TAP has none, so it
is refused), ``--report N`` (print the average latency every N packets; the C sample
uses 100 million), ``--seconds N`` (stop after N seconds; the C sample runs until
killed). The callbacks work on the whole burst at once (``dynfield_set`` /
``dynfield_get``), where C loops over the packets.
"""
import argparse
import signal
import sys

import numpy as np

import pyrtap as rte
from pyrtap import rte_exit

RX_RING_SIZE = 1024
TX_RING_SIZE = 1024
NUM_MBUFS = 8191
MBUF_CACHE_SIZE = 250
BURST_SIZE = 32

hwts_dynfield_offset = -1
hwts_dynflag_rx = 0           # hwts_dynflag in the C sample: set by the Rx callback


class LatencyNumbers:
    """``static struct { uint64_t total_cycles; uint64_t total_queue_cycles; uint64_t total_pkts; }``"""
    total_cycles = 0
    total_pkts = 0
    # pyrtap addition, never reset: what the Tx callback saw, and how many carried the
    # Rx callback's flag (printed at exit, so a test can check every packet was stamped)
    seen = 0
    stamped = 0


latency_numbers = LatencyNumbers()
tx_dropped = [0] * rte.RTE_MAX_ETHPORTS    # pyrtap addition: packets the Tx queue refused
report_every = 100 * 1000 * 1000
force_quit = False


def add_timestamps(port, qidx, pkts, nb_pkts, max_pkts, user_param):
    """Rx callback: stamp every packet with the current TSC (add_timestamps)."""
    now = rte.rte_rdtsc()
    rte.dynfield_set(pkts, nb_pkts, hwts_dynfield_offset, np.uint64(now))
    for i in range(nb_pkts):
        m = pkts[i]
        m.ol_flags |= hwts_dynflag_rx
    return nb_pkts


def calc_latency(port, qidx, pkts, nb_pkts, user_param):
    """Tx callback: add each stamped packet's time in the application (calc_latency)."""
    now = rte.rte_rdtsc()
    stamps = rte.dynfield_get(pkts, nb_pkts, hwts_dynfield_offset, np.uint64)
    cycles = 0
    for i in range(nb_pkts):
        if pkts[i].ol_flags & hwts_dynflag_rx:
            cycles += now - int(stamps[i])
            latency_numbers.stamped += 1
    latency_numbers.seen += nb_pkts
    latency_numbers.total_cycles += cycles
    latency_numbers.total_pkts += nb_pkts
    if latency_numbers.total_pkts > report_every:
        print("Latency = %d cycles" % (latency_numbers.total_cycles // latency_numbers.total_pkts),
              flush=True)
        latency_numbers.total_cycles = latency_numbers.total_pkts = 0
    return nb_pkts


def port_init(port, mbuf_pool):
    """One Rx and one Tx queue, started, promiscuous, with the two callbacks (port_init)."""
    port_conf = rte.rte_eth_conf()
    rx_rings = tx_rings = 1
    nb_rxd, nb_txd = RX_RING_SIZE, TX_RING_SIZE
    if not rte.rte_eth_dev_is_valid_port(port):
        return -1
    dev_info = rte.rte_eth_dev_info()
    retval = rte.rte_eth_dev_info_get(port, dev_info)
    if retval != 0:
        print("Error during getting device (port %u) info: %s" % (port, rte.rte_strerror(-retval)))
        return retval
    retval = rte.rte_eth_dev_configure(port, rx_rings, tx_rings, port_conf)
    if retval != 0:
        return retval
    retval, nb_rxd, nb_txd = rte.rte_eth_dev_adjust_nb_rx_tx_desc(port, nb_rxd, nb_txd)
    if retval != 0:
        return retval
    for q in range(rx_rings):
        retval = rte.rte_eth_rx_queue_setup(port, q, nb_rxd, rte.rte_eth_dev_socket_id(port), None, mbuf_pool)
        if retval < 0:
            return retval
    txconf = dev_info.default_txconf
    txconf.offloads = port_conf.txmode.offloads
    for q in range(tx_rings):
        retval = rte.rte_eth_tx_queue_setup(port, q, nb_txd, rte.rte_eth_dev_socket_id(port), txconf)
        if retval < 0:
            return retval
    retval = rte.rte_eth_dev_start(port)
    if retval < 0:
        return retval
    addr = rte.rte_ether_addr()
    retval = rte.rte_eth_macaddr_get(port, addr)
    if retval < 0:
        print("Failed to get MAC address on port %u: %s" % (port, rte.rte_strerror(-retval)))
        return retval
    print("Port %u MAC: %s" % (port, rte.RTE_ETHER_ADDR_PRT_FMT % rte.RTE_ETHER_ADDR_BYTES(addr)))
    retval = rte.rte_eth_promiscuous_enable(port)
    if retval != 0:
        return retval
    rte.rte_eth_add_rx_callback(port, 0, add_timestamps, None)
    rte.rte_eth_add_tx_callback(port, 0, calc_latency, None)
    return 0


def lcore_main(seconds):
    """basicfwd's loop: receive on each port, send on its pair."""
    bufs = rte.MbufBurst(BURST_SIZE)
    end = rte.rte_rdtsc() + int(seconds * rte.rte_get_tsc_hz()) if seconds else None
    print("\nCore %u forwarding packets. [Ctrl+C to quit]" % rte.rte_lcore_id(), flush=True)
    while not force_quit and (end is None or rte.rte_rdtsc() < end):
        for port in rte.RTE_ETH_FOREACH_DEV():
            nb_rx = rte.rte_eth_rx_burst(port, 0, bufs, BURST_SIZE)
            if nb_rx == 0:
                continue
            nb_tx = rte.rte_eth_tx_burst(port ^ 1, 0, bufs, nb_rx)
            if nb_tx < nb_rx:
                tx_dropped[port ^ 1] += nb_rx - nb_tx
                rte.rte_pktmbuf_free_bulk(bufs[nb_tx:nb_rx], nb_rx - nb_tx)


def main(argv):
    global hwts_dynfield_offset, hwts_dynflag_rx, report_every
    ret = rte.rte_eal_init(argv)
    if ret < 0:
        rte_exit(1, "Error with EAL initialization\n")
    app = argparse.ArgumentParser(prog="rxtx_callbacks")
    app.add_argument("-t", action="store_true", help="hardware timestamps (not on a TAP)")
    app.add_argument("--report", type=int, default=report_every)
    app.add_argument("--seconds", type=float, default=0)
    args = app.parse_args(argv[ret + 1:])
    report_every = args.report
    if args.t:
        rte_exit(1, "Ports do not support hardware timestamping (TAP interfaces have none)\n")

    def on_signal(signum, frame):
        global force_quit
        force_quit = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    nb_ports = rte.rte_eth_dev_count_avail()
    if nb_ports < 2 or nb_ports & 1:
        rte_exit(1, "Error: number of ports must be even\n")
    mbuf_pool = rte.rte_pktmbuf_pool_create("MBUF_POOL", NUM_MBUFS * nb_ports, MBUF_CACHE_SIZE, 0,
                                            rte.RTE_MBUF_DEFAULT_BUF_SIZE, rte.rte_socket_id())
    if mbuf_pool is None:
        rte_exit(1, "Cannot create mbuf pool\n")
    # The C sample registers DPDK's timestamp field and a "timestamp valid" flag.
    hwts_dynfield_offset = rte.rte_mbuf_dynfield_register(
        rte.rte_mbuf_dynfield("rte_dynfield_timestamp", 8, 8))
    if hwts_dynfield_offset < 0:
        rte_exit(1, "Failed to register timestamp field\n")
    bit = rte.rte_mbuf_dynflag_register(rte.rte_mbuf_dynflag("rte_dynflag_rx_timestamp"))
    if bit < 0:
        rte_exit(1, "Failed to register timestamp flag\n")
    hwts_dynflag_rx = 1 << bit
    for portid in rte.RTE_ETH_FOREACH_DEV():
        if port_init(portid, mbuf_pool) != 0:
            rte_exit(1, "Cannot init port %d\n" % portid)
    if rte.rte_lcore_count() > 1:
        print("\nWARNING: Too much enabled lcores - App uses only 1 lcore")
    lcore_main(args.seconds)
    print("forwarded; %d packets since the last report" % latency_numbers.total_pkts, flush=True)
    # pyrtap addition: what the callbacks and the ports counted, to compare with the kernel
    print("Tx callback saw %d packets, %d stamped by the Rx callback"
          % (latency_numbers.seen, latency_numbers.stamped))
    for portid in rte.RTE_ETH_FOREACH_DEV():
        stats = rte.rte_eth_stats()
        rte.rte_eth_stats_get(portid, stats)
        print("Port %u: ipackets %u opackets %u imissed %u oerrors %u tx_dropped %u"
              % (portid, stats.ipackets, stats.opackets, stats.imissed, stats.oerrors,
                 tx_dropped[portid]))
    sys.stdout.flush()
    rte.rte_eal_cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
