#!/usr/bin/env python3
"""DPDK's link_status_interrupt sample, ported line by line.

L2 forwarding between pairs of ports (0<->1, 2<->3, ...) that registers an
RTE_ETH_EVENT_INTR_LSC callback on every port (``intr_conf.lsc = 1``) and prints the
new link state whenever the kernel link changes. Statistics, with each port's link
state, are printed every ``-T`` seconds (10 by default, 0: never).

    python examples/link_status_interrupt.py -l 0-1 --vdev=net_rtap0,iface=lsi0 \\
        --vdev=net_rtap1,iface=lsi1 -- -p 3 -T 2
    # -q 2: one lcore polls both ports (then -l 0 is enough)
    # in another shell: ip link set lsi0 down; ip link set lsi0 up

As in C, each enabled lcore (EAL ``-l``) polls up to ``-q`` ports and statistics are
printed by the main lcore. Differences from C: ``--seconds N`` (after the application
options) stops after N seconds, SIGINT/SIGTERM stop the loops (the C sample runs until
killed), and the statistics are printed a last time at exit; the callback runs on
pyrtap's ``pyrtap-intr`` thread (DPDK's interrupt thread); TSC cycles are nanoseconds
(``rte_get_tsc_hz()``).
"""
import signal
import sys

import pyrtap as rte

RTE_LOGTYPE_LSI = "LSI"

NB_MBUF = 8192

MAX_PKT_BURST = 32
BURST_TX_DRAIN_US = 100     # TX drain every ~100us

# Configurable number of RX/TX ring descriptors
RTE_TEST_RX_DESC_DEFAULT = 1024
RTE_TEST_TX_DESC_DEFAULT = 1024
nb_rxd = RTE_TEST_RX_DESC_DEFAULT
nb_txd = RTE_TEST_TX_DESC_DEFAULT

# ethernet addresses of ports
lsi_ports_eth_addr = {}

# mask of enabled ports
lsi_enabled_port_mask = 0

lsi_rx_queue_per_lcore = 1

# destination port for L2 forwarding
lsi_dst_ports = [0] * rte.RTE_MAX_ETHPORTS

MAX_RX_QUEUE_PER_LCORE = 16


class lcore_queue_conf:
    def __init__(self):
        self.n_rx_port = 0
        self.rx_port_list = [0] * MAX_RX_QUEUE_PER_LCORE


lcore_queue_conf_list = [lcore_queue_conf() for _ in range(rte.RTE_MAX_LCORE)]

tx_buffer = [None] * rte.RTE_MAX_ETHPORTS


def make_port_conf():
    port_conf = rte.rte_eth_conf()
    port_conf.intr_conf.lsc = 1     # lsc interrupt feature enabled
    return port_conf


lsi_pktmbuf_pool = None


class lsi_port_statistics:
    """Per-port statistics struct."""

    def __init__(self):
        self.tx = 0
        self.rx = 0
        self.dropped = [0]      # a uint64_t the Tx buffer's count callback adds to


port_statistics = [lsi_port_statistics() for _ in range(rte.RTE_MAX_ETHPORTS)]

# A tsc-based timer responsible for triggering statistics printout
TIMER_MILLISECOND = rte.rte_get_tsc_hz() // 1000    # C: 2000000ULL, around 1ms at 2 Ghz
MAX_TIMER_PERIOD = 86400    # 1 day max
timer_period = 10 * TIMER_MILLISECOND * 1000    # default period is 10 seconds

force_quit = False          # pyrtap addition: SIGINT/SIGTERM and --seconds stop the loops
run_seconds = 0.0


def print_stats():
    """Print out statistics on packets dropped."""
    total_packets_dropped = 0
    total_packets_tx = 0
    total_packets_rx = 0

    clr = "\x1b[2J"
    topLeft = "\x1b[1;1H"

    # Clear screen and move to top left
    print("%s%s" % (clr, topLeft), end="")

    print("\nPort statistics ====================================", end="")

    for portid in range(rte.RTE_MAX_ETHPORTS):
        # skip ports that are not enabled
        if (lsi_enabled_port_mask & (1 << portid)) == 0:
            continue

        link = rte.rte_eth_link()
        link_get_err = rte.rte_eth_link_get_nowait(portid, link)
        print("\nStatistics for port %u ------------------------------"
              "\nLink status: %25s"
              "\nLink speed: %26s"
              "\nLink duplex: %25s"
              "\nPackets sent: %24u"
              "\nPackets received: %20u"
              "\nPackets dropped: %21u" % (
                  portid,
                  "Link get failed" if link_get_err < 0 else
                  ("Link up" if link.link_status else "Link down"),
                  "0" if link_get_err < 0 else rte.rte_eth_link_speed_to_str(link.link_speed),
                  "Link get failed" if link_get_err < 0 else
                  ("full-duplex" if link.link_duplex == rte.RTE_ETH_LINK_FULL_DUPLEX else "half-duplex"),
                  port_statistics[portid].tx,
                  port_statistics[portid].rx,
                  port_statistics[portid].dropped[0]), end="")

        total_packets_dropped += port_statistics[portid].dropped[0]
        total_packets_tx += port_statistics[portid].tx
        total_packets_rx += port_statistics[portid].rx

    print("\nAggregate statistics ==============================="
          "\nTotal packets sent: %18u"
          "\nTotal packets received: %14u"
          "\nTotal packets dropped: %15u" % (total_packets_tx, total_packets_rx,
                                              total_packets_dropped))
    print("\n====================================================", flush=True)


def lsi_simple_forward(m, portid):
    dst_port = lsi_dst_ports[portid]
    eth = rte.rte_pktmbuf_mtod(m)

    # 02:00:00:00:00:xx
    eth[0:6] = [0x02, 0, 0, 0, 0, dst_port & 0xFF]

    # src addr
    eth[6:12] = list(lsi_ports_eth_addr[dst_port].addr_bytes)

    buffer = tx_buffer[dst_port]
    sent = rte.rte_eth_tx_buffer(dst_port, 0, buffer, m)
    if sent:
        port_statistics[dst_port].tx += sent


def lsi_main_loop():
    """Main processing loop."""
    pkts_burst = rte.MbufBurst(MAX_PKT_BURST)
    US_PER_S = 1000000
    drain_tsc = (rte.rte_get_tsc_hz() + US_PER_S - 1) // US_PER_S * BURST_TX_DRAIN_US

    prev_tsc = 0
    timer_tsc = 0

    lcore_id = rte.rte_lcore_id()
    qconf = lcore_queue_conf_list[lcore_id]

    if qconf.n_rx_port == 0:
        rte.RTE_LOG("INFO", RTE_LOGTYPE_LSI, "lcore %u has nothing to do\n", lcore_id)
        return

    rte.RTE_LOG("INFO", RTE_LOGTYPE_LSI, "entering main loop on lcore %u\n", lcore_id)
    print("entering main loop on lcore %u" % lcore_id, flush=True)

    for i in range(qconf.n_rx_port):
        portid = qconf.rx_port_list[i]
        rte.RTE_LOG("INFO", RTE_LOGTYPE_LSI, " -- lcoreid=%u portid=%u\n", lcore_id, portid)

    start = rte.rte_rdtsc()
    while not force_quit:
        cur_tsc = rte.rte_rdtsc()
        if run_seconds and cur_tsc - start >= run_seconds * rte.rte_get_tsc_hz():
            break

        # TX burst queue drain
        diff_tsc = cur_tsc - prev_tsc
        if diff_tsc > drain_tsc:
            for i in range(qconf.n_rx_port):
                portid = lsi_dst_ports[qconf.rx_port_list[i]]
                buffer = tx_buffer[portid]
                sent = rte.rte_eth_tx_buffer_flush(portid, 0, buffer)
                if sent:
                    port_statistics[portid].tx += sent

            # if timer is enabled
            if timer_period > 0:
                # advance the timer
                timer_tsc += diff_tsc

                # if timer has reached its timeout
                if timer_tsc >= timer_period:
                    # do this only on main core
                    if lcore_id == rte.rte_get_main_lcore():
                        print_stats()
                        # reset the timer
                        timer_tsc = 0

            prev_tsc = cur_tsc

        # Read packet from RX queues
        for i in range(qconf.n_rx_port):
            portid = qconf.rx_port_list[i]
            nb_rx = rte.rte_eth_rx_burst(portid, 0, pkts_burst, MAX_PKT_BURST)

            port_statistics[portid].rx += nb_rx

            for j in range(nb_rx):
                m = pkts_burst[j]
                lsi_simple_forward(m, portid)


def lsi_launch_one_lcore(dummy):
    lsi_main_loop()
    return 0


def lsi_usage(prgname):
    print("%s [EAL options] -- -p PORTMASK [-q NQ]\n"
          "  -p PORTMASK: hexadecimal bitmask of ports to configure\n"
          "  -q NQ: number of queue (=ports) per lcore (default is 1)\n"
          "  -T PERIOD: statistics will be refreshed each PERIOD seconds"
          " (0 to disable, 10 default, 86400 maximum)\n"
          "  --seconds N: stop after N seconds (pyrtap addition)" % prgname)


def lsi_parse_portmask(portmask):
    try:
        pm = int(portmask, 16)
    except ValueError:
        return 0
    return pm


def lsi_parse_nqueue(q_arg):
    try:
        n = int(q_arg)
    except ValueError:
        return 0
    if n == 0 or n >= MAX_RX_QUEUE_PER_LCORE:
        return 0
    return n


def lsi_parse_timer_period(q_arg):
    try:
        n = int(q_arg)
    except ValueError:
        return -1
    if n >= MAX_TIMER_PERIOD:
        return -1
    return n


def lsi_parse_args(argv):
    """Parse the argument given in the command line of the application."""
    global lsi_enabled_port_mask, lsi_rx_queue_per_lcore, timer_period, run_seconds
    prgname = argv[0]
    args = argv[1:]
    i = 0
    while i < len(args):
        opt = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if opt == "-p":             # portmask
            lsi_enabled_port_mask = lsi_parse_portmask(val or "")
            if lsi_enabled_port_mask == 0:
                print("invalid portmask")
                lsi_usage(prgname)
                return -1
        elif opt == "-q":           # nqueue
            lsi_rx_queue_per_lcore = lsi_parse_nqueue(val or "")
            if lsi_rx_queue_per_lcore == 0:
                print("invalid queue number")
                lsi_usage(prgname)
                return -1
        elif opt == "-T":           # timer period
            period = lsi_parse_timer_period(val or "")
            if period < 0:
                print("invalid timer period")
                lsi_usage(prgname)
                return -1
            timer_period = period * 1000 * TIMER_MILLISECOND
        elif opt == "--seconds":
            run_seconds = float(val or 0)
        else:
            lsi_usage(prgname)
            return -1
        i += 2
    return i


def lsi_event_callback(port_id, type, param, ret_param):
    """It will be called as the callback for specified port after a LSI interrupt
    has been fully handled. This callback needs to be implemented carefully as it
    will be called in the interrupt host thread which is different from the
    application main thread."""
    print("\n\nIn registered callback...")
    print("Event type: %s" % ("LSC interrupt" if type == rte.RTE_ETH_EVENT_INTR_LSC else "unknown event"))
    link = rte.rte_eth_link()
    ret = rte.rte_eth_link_get_nowait(port_id, link)
    if ret < 0:
        print("Failed link get on port %d: %s" % (port_id, rte.rte_strerror(-ret)))
        return ret
    link_status_text = rte.rte_eth_link_to_str(link)
    print("Port %d %s\n" % (port_id, link_status_text), flush=True)
    return 0


def check_all_ports_link_status(port_mask):
    """Check the link status of all ports in up to 9s, and print them finally."""
    CHECK_INTERVAL = 100    # 100ms
    MAX_CHECK_TIME = 90     # 9s (90 * 100ms) in total
    print_flag = 0

    print("\nChecking link status", end="", flush=True)
    for count in range(MAX_CHECK_TIME + 1):
        all_ports_up = 1
        for portid in rte.RTE_ETH_FOREACH_DEV():
            if (port_mask & (1 << portid)) == 0:
                continue
            link = rte.rte_eth_link()
            ret = rte.rte_eth_link_get_nowait(portid, link)
            if ret < 0:
                all_ports_up = 0
                if print_flag == 1:
                    print("Port %u link get failed: %s" % (portid, rte.rte_strerror(-ret)))
                continue
            # print link status if flag set
            if print_flag == 1:
                print("Port %d %s" % (portid, rte.rte_eth_link_to_str(link)))
                continue
            # clear all_ports_up flag if any link down
            if link.link_status == rte.RTE_ETH_LINK_DOWN:
                all_ports_up = 0
                break
        # after finally printing all link status, get out
        if print_flag == 1:
            break

        if all_ports_up == 0:
            print(".", end="", flush=True)
            rte.rte_delay_ms(CHECK_INTERVAL)

        # set the print_flag if all ports up or timeout
        if all_ports_up == 1 or count == (MAX_CHECK_TIME - 1):
            print_flag = 1
            print("done")


def main(argv):
    global lsi_pktmbuf_pool

    # init EAL
    ret = rte.rte_eal_init(argv)
    if ret < 0:
        rte.rte_exit(1, "rte_eal_init failed")
    argv = argv[ret:]

    def signal_handler(signum, frame):      # pyrtap addition
        global force_quit
        force_quit = True

    signal.signal(signal.SIGINT, signal_handler)
    signal.signal(signal.SIGTERM, signal_handler)

    # parse application arguments (after the EAL ones)
    ret = lsi_parse_args(argv)
    if ret < 0:
        rte.rte_exit(1, "Invalid arguments")

    # create the mbuf pool
    lsi_pktmbuf_pool = rte.rte_pktmbuf_pool_create("mbuf_pool", NB_MBUF, 32, 0,
                                                   rte.RTE_MBUF_DEFAULT_BUF_SIZE, rte.rte_socket_id())
    if lsi_pktmbuf_pool is None:
        rte.rte_exit(1, "Cannot init mbuf pool")

    nb_ports = rte.rte_eth_dev_count_avail()
    if nb_ports == 0:
        rte.rte_exit(1, "No Ethernet port - bye")

    # Each logical core is assigned a dedicated TX queue on each port.
    portid_last = 0
    nb_ports_in_mask = 0
    for portid in rte.RTE_ETH_FOREACH_DEV():
        # skip ports that are not enabled
        if (lsi_enabled_port_mask & (1 << portid)) == 0:
            continue

        # save the destination port id
        if nb_ports_in_mask % 2:
            lsi_dst_ports[portid] = portid_last
            lsi_dst_ports[portid_last] = portid
        else:
            portid_last = portid

        nb_ports_in_mask += 1
    if nb_ports_in_mask < 2 or nb_ports_in_mask % 2:
        rte.rte_exit(1, "Current enabled port number is %u, but it should be even and at least 2\n",
                     nb_ports_in_mask)

    rx_lcore_id = 0
    qconf = lcore_queue_conf_list[rx_lcore_id]

    # Initialize the port/queue configuration of each logical core
    for portid in rte.RTE_ETH_FOREACH_DEV():
        # skip ports that are not enabled
        if (lsi_enabled_port_mask & (1 << portid)) == 0:
            continue

        # get the lcore_id for this port
        while (rte.rte_lcore_is_enabled(rx_lcore_id) == 0
               or lcore_queue_conf_list[rx_lcore_id].n_rx_port == lsi_rx_queue_per_lcore):
            rx_lcore_id += 1
            if rx_lcore_id >= rte.RTE_MAX_LCORE:
                rte.rte_exit(1, "Not enough cores\n")
        if qconf is not lcore_queue_conf_list[rx_lcore_id]:
            # Assigned a new logical core in the loop above.
            qconf = lcore_queue_conf_list[rx_lcore_id]

        qconf.rx_port_list[qconf.n_rx_port] = portid
        qconf.n_rx_port += 1
        print("Lcore %u: RX port %u" % (rx_lcore_id, portid))

    # Initialise each port
    for portid in rte.RTE_ETH_FOREACH_DEV():
        local_port_conf = make_port_conf()

        # skip ports that are not enabled
        if (lsi_enabled_port_mask & (1 << portid)) == 0:
            print("Skipping disabled port %u" % portid)
            continue

        # init port
        print("Initializing port %u... " % portid, end="", flush=True)

        dev_info = rte.rte_eth_dev_info()
        ret = rte.rte_eth_dev_info_get(portid, dev_info)
        if ret != 0:
            rte.rte_exit(1, "Error during getting device (port %u) info: %s\n",
                         portid, rte.rte_strerror(-ret))

        if dev_info.tx_offload_capa & rte.RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE:
            local_port_conf.txmode.offloads |= rte.RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE
        # Configure RX and TX queues. 8<
        ret = rte.rte_eth_dev_configure(portid, 1, 1, local_port_conf)
        if ret < 0:
            rte.rte_exit(1, "Cannot configure device: err=%d, port=%u\n", ret, portid)
        # >8 End of configure RX and TX queues.

        ret, nb_rxd_port, nb_txd_port = rte.rte_eth_dev_adjust_nb_rx_tx_desc(portid, nb_rxd, nb_txd)
        if ret < 0:
            rte.rte_exit(1, "Cannot adjust number of descriptors: err=%d, port=%u\n", ret, portid)

        # register lsi interrupt callback, need to be after
        # rte_eth_dev_configure(). if (intr_conf.lsc == 0), no
        # lsc interrupt will be present, and below callback to
        # be registered will never be called.
        rte.rte_eth_dev_callback_register(portid, rte.RTE_ETH_EVENT_INTR_LSC,
                                          lsi_event_callback, None)

        lsi_ports_eth_addr[portid] = rte.rte_ether_addr()
        ret = rte.rte_eth_macaddr_get(portid, lsi_ports_eth_addr[portid])
        if ret < 0:
            rte.rte_exit(1, "rte_eth_macaddr_get: err=%d, port=%u\n", ret, portid)

        # init one RX queue
        rxq_conf = dev_info.default_rxconf
        rxq_conf.offloads = local_port_conf.rxmode.offloads
        ret = rte.rte_eth_rx_queue_setup(portid, 0, nb_rxd_port, rte.rte_eth_dev_socket_id(portid),
                                         rxq_conf, lsi_pktmbuf_pool)
        if ret < 0:
            rte.rte_exit(1, "rte_eth_rx_queue_setup: err=%d, port=%u\n", ret, portid)

        # init one TX queue logical core on each port
        txq_conf = dev_info.default_txconf
        txq_conf.offloads = local_port_conf.txmode.offloads
        ret = rte.rte_eth_tx_queue_setup(portid, 0, nb_txd_port, rte.rte_eth_dev_socket_id(portid),
                                         txq_conf)
        if ret < 0:
            rte.rte_exit(1, "rte_eth_tx_queue_setup: err=%d,port=%u\n", ret, portid)

        # Initialize TX buffers
        tx_buffer[portid] = rte.rte_eth_dev_tx_buffer()
        rte.rte_eth_tx_buffer_init(tx_buffer[portid], MAX_PKT_BURST)

        ret = rte.rte_eth_tx_buffer_set_err_callback(tx_buffer[portid],
                                                     rte.rte_eth_tx_buffer_count_callback,
                                                     port_statistics[portid].dropped)
        if ret < 0:
            rte.rte_exit(1, "Cannot set error callback for tx buffer on port %u\n", portid)

        # Start device
        ret = rte.rte_eth_dev_start(portid)
        if ret < 0:
            rte.rte_exit(1, "rte_eth_dev_start: err=%d, port=%u\n", ret, portid)
        print("done:")

        ret = rte.rte_eth_promiscuous_enable(portid)
        if ret != 0:
            rte.rte_exit(1, "rte_eth_promiscuous_enable: err=%s, port=%u\n",
                         rte.rte_strerror(-ret), portid)

        print("Port %u, MAC address: %s\n" % (portid, lsi_ports_eth_addr[portid]))

        # initialize port stats
        port_statistics[portid].tx = port_statistics[portid].rx = 0
        port_statistics[portid].dropped[0] = 0

    check_all_ports_link_status(lsi_enabled_port_mask)

    # launch per-lcore init on every lcore
    rte.rte_eal_mp_remote_launch(lsi_launch_one_lcore, None, rte.CALL_MAIN)
    for lcore_id in rte.RTE_LCORE_FOREACH_WORKER():
        if rte.rte_eal_wait_lcore(lcore_id) < 0:
            return -1

    # pyrtap addition: the C sample never gets here (it runs until killed)
    print_stats()       # the final figures, whatever -T says
    for portid in rte.RTE_ETH_FOREACH_DEV():
        if (lsi_enabled_port_mask & (1 << portid)) == 0:
            continue
        print("Closing port %d..." % portid, end="")
        ret = rte.rte_eth_dev_stop(portid)
        if ret != 0:
            print("rte_eth_dev_stop: err=%d, port=%d" % (ret, portid))
        rte.rte_eth_dev_close(portid)
        print(" Done")

    # clean up the EAL
    rte.rte_eal_cleanup()
    print("Bye...")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
