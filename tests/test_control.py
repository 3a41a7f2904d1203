"""Control plane over netlink: device info, link, promiscuous / all-multicast, MAC, MTU.

Every setting is changed through the API and checked with ``ip -j link show`` (JSON),
then changed with ``ip link set`` and checked through the API: the getters must read
the kernel, not a cache. Also: a port whose interface is deleted from outside, invalid
port ids, and the Pythonic ``Port`` wrapper's errors and context manager.
"""
from __future__ import annotations

import errno
import time

import pytest

import pyrtap as rte
from helpers import ETH_P_TEST, PacketSocket, free_all, ip, link_exists, link_json, make_frame, mbuf_bytes, \
    mbuf_from, rx_poll, segments, setup_port

ENODEV, EINVAL = errno.ENODEV, errno.EINVAL


def flags(iface: str) -> list[str]:
    return link_json(iface)["flags"]


def link_of(port: int, nowait: bool = False) -> rte.rte_eth_link:
    link = rte.rte_eth_link()
    fn = rte.rte_eth_link_get_nowait if nowait else rte.rte_eth_link_get
    assert fn(port, link) == 0
    return link


def mac_of(port: int) -> str:
    addr = rte.rte_ether_addr()
    assert rte.rte_eth_macaddr_get(port, addr) == 0
    return str(addr)


# ---- device info -------------------------------------------------------------------------

def test_dev_info(tap_port, driver, pool):
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tap_port.port, info) == 0
    kernel = link_json(tap_port.iface)
    assert info.driver_name == driver
    assert info.if_index == kernel["ifindex"]
    assert info.max_rx_queues == 128 and info.max_tx_queues == 128
    assert info.max_mac_addrs == 1
    assert 68 <= info.min_mtu < info.max_mtu
    assert info.min_mtu >= kernel["min_mtu"] and info.max_mtu <= kernel["max_mtu"]
    # A frame of max_mtu bytes of payload plus the Ethernet header must be receivable.
    assert info.max_rx_pktlen >= info.max_mtu + 14
    assert (info.nb_rx_queues, info.nb_tx_queues) == (0, 0)

    setup_port(tap_port.port, pool, nb_queues=2, nb_rxd=32, nb_txd=32, start=False)
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tap_port.port, info) == 0
    assert (info.nb_rx_queues, info.nb_tx_queues) == (2, 2)


def test_dev_info_nb_queues_unequal(make_port, pool):
    """net_tap accepts unequal queue counts; dev_info reports each."""
    p = make_port("net_tap")
    setup_port(p.port, pool, nb_queues=3, nb_tx_queues=1, nb_rxd=16, nb_txd=16, start=False)
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(p.port, info) == 0
    assert (info.nb_rx_queues, info.nb_tx_queues) == (3, 1)


# ---- link ----------------------------------------------------------------------------------

def test_link_down_before_start_up_after(tap_port, pool):
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_DOWN
    assert "UP" not in flags(tap_port.iface)
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    for nowait in (False, True):
        link = link_of(tap_port.port, nowait)
        assert link.link_status == rte.RTE_ETH_LINK_UP
        assert link.link_speed == rte.RTE_ETH_SPEED_NUM_10G == 10000
        assert link.link_duplex == rte.RTE_ETH_LINK_FULL_DUPLEX
    f = flags(tap_port.iface)
    assert "UP" in f and "LOWER_UP" in f     # carrier: the queue fds are attached


def test_link_set_down_up_through_api(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    assert rte.rte_eth_dev_set_link_down(tap_port.port) == 0
    assert "UP" not in flags(tap_port.iface)
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_DOWN
    assert link_of(tap_port.port, nowait=True).link_status == rte.RTE_ETH_LINK_DOWN
    assert rte.rte_eth_dev_set_link_up(tap_port.port) == 0
    assert "UP" in flags(tap_port.iface)
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_UP


def test_link_set_down_up_with_ip(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    ip("link", "set", "dev", tap_port.iface, "down")
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_DOWN
    assert link_of(tap_port.port, nowait=True).link_status == rte.RTE_ETH_LINK_DOWN
    ip("link", "set", "dev", tap_port.iface, "up")
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_UP
    assert link_of(tap_port.port, nowait=True).link_status == rte.RTE_ETH_LINK_UP


def test_link_down_after_stop(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert "UP" not in flags(tap_port.iface)
    assert link_of(tap_port.port).link_status == rte.RTE_ETH_LINK_DOWN


# ---- promiscuous / all-multicast -------------------------------------------------------------

MODES = {
    # name: (enable, disable, get, flag in `ip -j link`, `ip link set` keyword, `ip -d` counter)
    "promiscuous": (rte.rte_eth_promiscuous_enable, rte.rte_eth_promiscuous_disable,
                    rte.rte_eth_promiscuous_get, "PROMISC", "promisc", "promiscuity"),
    "allmulticast": (rte.rte_eth_allmulticast_enable, rte.rte_eth_allmulticast_disable,
                     rte.rte_eth_allmulticast_get, "ALLMULTI", "allmulticast", "allmulti"),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_mode_api_to_kernel(tap_port, mode):
    enable, disable, get, flag, _, counter = MODES[mode]
    assert get(tap_port.port) == 0
    assert flag not in flags(tap_port.iface)
    assert enable(tap_port.port) == 0
    assert flag in flags(tap_port.iface)
    assert get(tap_port.port) == 1
    # Enabling twice is one request, not two: one disable undoes it.
    assert enable(tap_port.port) == 0
    assert link_json(tap_port.iface)[counter] == 1
    assert disable(tap_port.port) == 0
    assert flag not in flags(tap_port.iface)
    assert link_json(tap_port.iface)[counter] == 0
    assert get(tap_port.port) == 0


@pytest.mark.parametrize("mode", sorted(MODES))
def test_mode_kernel_to_api(tap_port, mode):
    _, _, get, _, keyword, _ = MODES[mode]
    ip("link", "set", "dev", tap_port.iface, keyword, "on")
    assert get(tap_port.port) == 1
    ip("link", "set", "dev", tap_port.iface, keyword, "off")
    assert get(tap_port.port) == 0


def test_promiscuous_and_allmulticast_independent(tap_port):
    assert rte.rte_eth_promiscuous_enable(tap_port.port) == 0
    assert rte.rte_eth_allmulticast_get(tap_port.port) == 0
    assert rte.rte_eth_allmulticast_enable(tap_port.port) == 0
    assert rte.rte_eth_promiscuous_disable(tap_port.port) == 0
    f = flags(tap_port.iface)
    assert "ALLMULTI" in f and "PROMISC" not in f
    assert (rte.rte_eth_promiscuous_get(tap_port.port), rte.rte_eth_allmulticast_get(tap_port.port)) == (0, 1)


# ---- MAC address ----------------------------------------------------------------------------

def test_macaddr_get_matches_kernel(tap_port):
    assert mac_of(tap_port.port) == link_json(tap_port.iface)["address"]


def test_default_mac_addr_set(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)     # allowed while up (live change)
    new = "02:11:22:33:44:55"
    assert rte.rte_eth_dev_default_mac_addr_set(tap_port.port, rte.rte_ether_addr(new)) == 0
    assert link_json(tap_port.iface)["address"] == new
    assert mac_of(tap_port.port) == new


def test_mac_changed_with_ip(tap_port):
    ip("link", "set", "dev", tap_port.iface, "address", "02:aa:bb:cc:dd:0e")
    assert mac_of(tap_port.port) == "02:aa:bb:cc:dd:0e"
    addr = rte.rte_ether_addr()
    assert rte.rte_eth_macaddr_get(tap_port.port, addr) == 0
    assert addr.addr_bytes == bytes.fromhex("02aabbccdd0e")


@pytest.mark.parametrize("bad", ["01:00:5e:00:00:01", "33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff",
                                 "00:00:00:00:00:00"])
def test_default_mac_addr_set_invalid(tap_port, bad):
    before = link_json(tap_port.iface)["address"]
    assert rte.rte_eth_dev_default_mac_addr_set(tap_port.port, rte.rte_ether_addr(bad)) == -EINVAL
    assert link_json(tap_port.iface)["address"] == before
    assert mac_of(tap_port.port) == before


def test_ether_addr_round_trip():
    text = "0a:1b:2c:3d:4e:5f"
    a = rte.rte_ether_addr(text)
    assert a.addr_bytes == bytes([0x0A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F])
    assert str(a) == text
    assert rte.rte_ether_addr(str(a)) == a
    assert rte.rte_ether_addr(a.addr_bytes) == a
    assert str(rte.rte_ether_addr("AA:BB:CC:DD:EE:FF")) == "aa:bb:cc:dd:ee:ff"
    assert rte.rte_ether_addr().addr_bytes == bytes(6)
    assert rte.rte_ether_addr("02:00:00:00:00:01") != rte.rte_ether_addr("02:00:00:00:00:02")
    for bad in ("0a:1b:2c:3d:4e", "0a:1b:2c:3d:4e:5f:60", "zz:1b:2c:3d:4e:5f", b"\x01\x02"):
        with pytest.raises(ValueError):
            rte.rte_ether_addr(bad)


# ---- MTU ----------------------------------------------------------------------------------

def test_set_mtu_seen_by_kernel(tap_port):
    assert rte.rte_eth_dev_get_mtu(tap_port.port) == link_json(tap_port.iface)["mtu"] == 1500
    assert rte.rte_eth_dev_set_mtu(tap_port.port, 1400) == 0
    assert link_json(tap_port.iface)["mtu"] == 1400
    assert rte.rte_eth_dev_get_mtu(tap_port.port) == 1400


def test_mtu_changed_with_ip(tap_port):
    ip("link", "set", "dev", tap_port.iface, "mtu", "1280")
    assert rte.rte_eth_dev_get_mtu(tap_port.port) == 1280


def test_mtu_limits(tap_port):
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tap_port.port, info) == 0
    assert rte.rte_eth_dev_set_mtu(tap_port.port, info.min_mtu) == 0
    assert link_json(tap_port.iface)["mtu"] == info.min_mtu
    assert rte.rte_eth_dev_set_mtu(tap_port.port, info.max_mtu) == 0     # no Rx queue yet
    assert link_json(tap_port.iface)["mtu"] == info.max_mtu


@pytest.mark.parametrize("bad", [0, 10, 67, 65536, 70000, -1])
def test_mtu_out_of_range(tap_port, bad):
    assert rte.rte_eth_dev_set_mtu(tap_port.port, bad) == -EINVAL
    assert link_json(tap_port.iface)["mtu"] == 1500
    assert rte.rte_eth_dev_get_mtu(tap_port.port) == 1500


def test_mtu_9000_on_started_port(variant, make_port, pool):
    """DPDK's rtap test: set_mtu(9000) on a started port with 2 KB mbufs succeeds, reaches
    the kernel, and from then on 9000-byte frames arrive whole as chains (every Rx mode)."""
    tp = make_port(*variant)
    setup_port(tp.port, pool, nb_rxd=16, nb_txd=16)
    with PacketSocket(tp.iface) as s:
        s.send(make_frame(1000, 1))            # received with the old buffers
        first, _ = rx_poll(tp.port, 0, 1)
    assert len(first) == 1 and first[0][1].nb_segs == 1
    free_all(m for _, m in first)
    assert rte.rte_eth_dev_set_mtu(tp.port, 9000) == 0
    assert link_json(tp.iface)["mtu"] == 9000
    assert rte.rte_eth_dev_get_mtu(tp.port) == 9000
    frames = [make_frame(9014, 3), make_frame(60, 4), make_frame(9014, 5)]
    with PacketSocket(tp.iface) as s:
        s.send_all(frames)
        pkts, _ = rx_poll(tp.port, 0, 3)
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == frames
        assert [m.nb_segs for _, m in pkts] == [5, 1, 5]      # 9014 bytes in 2048-byte segments
        st = rte.rte_eth_stats()
        assert rte.rte_eth_stats_get(tp.port, st) == 0
        assert st.ierrors == 0
    finally:
        free_all(m for _, m in pkts)
    # Back down: buffers are big enough already, nothing to redo.
    assert rte.rte_eth_dev_set_mtu(tp.port, 1500) == 0
    assert link_json(tp.iface)["mtu"] == 1500
    assert rte.rte_eth_dev_stop(tp.port) == 0
    assert rte.rte_mempool_avail_count(pool) == pool.size


def test_mtu_beyond_64_segments_refused(tap_port, make_pool):
    """Receive buffers are chains of at most 64 mbufs: an MTU needing more is -EINVAL, and
    the started port keeps its MTU and keeps receiving."""
    small = make_pool(n=512, data_room=128 + 256)
    setup_port(tap_port.port, small, nb_rxd=8, nb_txd=8)
    assert rte.rte_eth_dev_set_mtu(tap_port.port, 20000) == -EINVAL     # 79 segments
    assert rte.rte_eth_dev_get_mtu(tap_port.port) == 1500
    frame = make_frame(1500, 9)
    with PacketSocket(tap_port.iface) as s:
        s.send(frame)
        pkts, _ = rx_poll(tap_port.port, 0, 1)
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == [frame]
    finally:
        free_all(m for _, m in pkts)
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert rte.rte_mempool_avail_count(small) == small.size


def test_rxmode_mtu_gives_scatter_rx(tap_port, pool):
    port = tap_port.port
    conf = rte.rte_eth_conf()
    conf.rxmode.mtu = 3000
    assert rte.rte_eth_dev_configure(port, 1, 1, conf) == 0
    assert link_json(tap_port.iface)["mtu"] == 3000
    assert rte.rte_eth_dev_get_mtu(port) == 3000
    assert rte.rte_eth_rx_queue_setup(port, 0, 16, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(port, 0, 16, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    frame = bytes.fromhex("ffffffffffff020000000001") + ETH_P_TEST.to_bytes(2, "big") \
        + bytes((i * 13 + 7) & 0xFF for i in range(2500 - 14))
    with PacketSocket(tap_port.iface) as s:
        s.send(frame)
        pkts, _ = rx_poll(port, 0, 1)
    assert len(pkts) == 1
    m = pkts[0][1]
    try:
        assert m.pkt_len == 2500
        assert m.nb_segs == 2
        segs = segments(m)
        assert len(segs) == 2
        assert segs[0].data_len == rte.RTE_MBUF_DEFAULT_BUF_SIZE - rte.RTE_PKTMBUF_HEADROOM == 2048
        assert segs[1].data_len == 2500 - 2048
        assert mbuf_bytes(m) == frame
    finally:
        rte.rte_pktmbuf_free(m)
    st = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(port, st) == 0
    assert st.ibytes >= 2500 and st.q_ibytes[0] == st.ibytes     # the chain counts 2500
    big = [None]
    assert rte.rte_eth_xstats_get_by_id(port, [rte.rte_eth_xstats_get_id_by_name(
        port, "rx_q0_size_1519_to_max_packets")], big, 1) == 1
    assert big == [1]


@pytest.mark.parametrize("bad", ["above_max", 67, 10])
def test_configure_rxmode_mtu_out_of_range(tap_port, bad):
    """rte_eth_dev_configure validates rxmode.mtu against dev_info's min/max, as
    rte_eth_dev_set_mtu does (DPDK: eth_dev_validate_mtu), and leaves the MTU alone."""
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tap_port.port, info) == 0
    conf = rte.rte_eth_conf()
    conf.rxmode.mtu = info.max_mtu + 1 if bad == "above_max" else bad
    assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, conf) == -EINVAL
    assert link_json(tap_port.iface)["mtu"] == 1500


# ---- interface deleted from outside ----------------------------------------------------------

def test_interface_deleted_from_outside(make_port, variant, pool):
    tap_port = make_port(variant[0], devargs=variant[1])
    port = tap_port.port
    setup_port(port, pool, nb_queues=2, nb_rxd=32, nb_txd=32)
    # Unreaped Tx writes and posted Rx buffers in flight when the interface goes.
    tx = [mbuf_from(pool, make_frame(100, seed=i)) for i in range(4)]
    assert rte.rte_eth_tx_burst(port, 0, tx, 4) == 4
    ip("link", "del", "dev", tap_port.iface)
    assert not link_exists(tap_port.iface)
    t0 = time.monotonic()
    assert rte.rte_eth_stats_get(port, rte.rte_eth_stats()) == -ENODEV
    assert rte.rte_eth_dev_get_mtu(port) == -ENODEV
    assert rte.rte_eth_link_get(port, rte.rte_eth_link()) == -ENODEV
    assert rte.rte_eth_link_get_nowait(port, rte.rte_eth_link()) == -ENODEV
    assert rte.rte_eth_promiscuous_get(port) == -ENODEV
    assert rte.rte_eth_allmulticast_get(port) == -ENODEV
    assert rte.rte_eth_macaddr_get(port, rte.rte_ether_addr()) == -ENODEV
    assert rte.rte_eth_dev_info_get(port, rte.rte_eth_dev_info()) == -ENODEV
    assert rte.rte_eth_xstats_get_names(port, None, 0) == -ENODEV
    # Bursts on the dead queues must not hang or crash.
    rte.rte_eth_rx_burst(port, 0, rte.MbufBurst(8), 8)
    assert rte.rte_eth_dev_stop(port) == 0
    assert rte.rte_eth_dev_close(port) == 0
    assert time.monotonic() - t0 < 5
    assert pool.in_use_count() == 0
    assert rte.rte_eth_dev_is_valid_port(port) == 0


# ---- invalid port ids ------------------------------------------------------------------------

def _xstat_names(n=4):
    return [rte.rte_eth_xstat_name() for _ in range(n)]


CONTROL_CALLS = {
    "dev_info_get": lambda p: rte.rte_eth_dev_info_get(p, rte.rte_eth_dev_info()),
    "configure": lambda p: rte.rte_eth_dev_configure(p, 1, 1, None),
    "start": rte.rte_eth_dev_start,
    "stop": rte.rte_eth_dev_stop,
    "close": rte.rte_eth_dev_close,
    "reset": rte.rte_eth_dev_reset,
    "tx_queue_setup": lambda p: rte.rte_eth_tx_queue_setup(p, 0, 16, 0, None),
    "link_get": lambda p: rte.rte_eth_link_get(p, rte.rte_eth_link()),
    "link_get_nowait": lambda p: rte.rte_eth_link_get_nowait(p, rte.rte_eth_link()),
    "set_link_up": rte.rte_eth_dev_set_link_up,
    "set_link_down": rte.rte_eth_dev_set_link_down,
    "promiscuous_enable": rte.rte_eth_promiscuous_enable,
    "promiscuous_disable": rte.rte_eth_promiscuous_disable,
    "promiscuous_get": rte.rte_eth_promiscuous_get,
    "allmulticast_enable": rte.rte_eth_allmulticast_enable,
    "allmulticast_disable": rte.rte_eth_allmulticast_disable,
    "allmulticast_get": rte.rte_eth_allmulticast_get,
    "macaddr_get": lambda p: rte.rte_eth_macaddr_get(p, rte.rte_ether_addr()),
    "default_mac_addr_set": lambda p: rte.rte_eth_dev_default_mac_addr_set(
        p, rte.rte_ether_addr("02:00:00:00:00:01")),
    "get_mtu": rte.rte_eth_dev_get_mtu,
    "set_mtu": lambda p: rte.rte_eth_dev_set_mtu(p, 1500),
    "stats_get": lambda p: rte.rte_eth_stats_get(p, rte.rte_eth_stats()),
    "stats_reset": rte.rte_eth_stats_reset,
    "xstats_get_names": lambda p: rte.rte_eth_xstats_get_names(p, None, 0),
    "xstats_get": lambda p: rte.rte_eth_xstats_get(p, None, 0),
    "xstats_get_by_id": lambda p: rte.rte_eth_xstats_get_by_id(p, None, None, 0),
    "xstats_get_names_by_id": lambda p: rte.rte_eth_xstats_get_names_by_id(p, _xstat_names(), 4, [0]),
    "xstats_get_id_by_name": lambda p: rte.rte_eth_xstats_get_id_by_name(p, "rx_good_packets"),
    "xstats_reset": rte.rte_eth_xstats_reset,
}


@pytest.mark.parametrize("call", sorted(CONTROL_CALLS))
def test_invalid_port_id(call, tap_required):
    used = set(rte.RTE_ETH_FOREACH_DEV())
    unused = next(p for p in range(rte.RTE_MAX_ETHPORTS - 1, -1, -1) if p not in used)
    for port in (unused, -1, rte.RTE_MAX_ETHPORTS, 1 << 16):
        assert CONTROL_CALLS[call](port) == -ENODEV, (call, port)


def test_removed_port_id_is_invalid(tap_port, pool):
    setup_port(tap_port.port, pool, nb_rxd=16, nb_txd=16)
    assert rte.rte_dev_remove(tap_port.devname) == 0
    for call, fn in CONTROL_CALLS.items():
        assert fn(tap_port.port) == -ENODEV, call
    assert rte.rte_eth_rx_queue_setup(tap_port.port, 0, 16, 0, None, pool) == -ENODEV


# ---- Pythonic Port ----------------------------------------------------------------------------

def test_port_error_for_bad_mtu(tap_port):
    p = rte.Port(tap_port.port)
    with pytest.raises(rte.PortError) as ei:
        p.mtu = 10
    assert ei.value.errno == EINVAL
    assert isinstance(ei.value, OSError)
    assert p.mtu == 1500 == link_json(tap_port.iface)["mtu"]
    p.mtu = 1400
    assert link_json(tap_port.iface)["mtu"] == 1400


def test_port_error_for_bad_mac(tap_port):
    p = rte.Port(tap_port.port)
    with pytest.raises(rte.PortError) as ei:
        p.mac = "01:00:5e:00:00:01"
    assert ei.value.errno == EINVAL
    p.mac = "02:12:34:56:78:9a"
    assert link_json(tap_port.iface)["address"] == "02:12:34:56:78:9a" == p.mac


def test_port_settings_round_trip(tap_port):
    p = rte.Port(tap_port.port)
    p.promiscuous = True
    assert "PROMISC" in flags(tap_port.iface) and p.promiscuous is True
    ip("link", "set", "dev", tap_port.iface, "promisc", "off")
    assert p.promiscuous is False
    p.allmulticast = True
    assert "ALLMULTI" in flags(tap_port.iface) and p.allmulticast is True
    p.set_link(True)
    assert "UP" in flags(tap_port.iface)
    p.set_link(False)
    assert "UP" not in flags(tap_port.iface) and p.link["status"] is False
    assert p.info.if_index == link_json(tap_port.iface)["ifindex"]


def test_port_invalid_id():
    with pytest.raises(rte.PortError) as ei:
        rte.Port(rte.RTE_MAX_ETHPORTS)
    assert ei.value.errno == ENODEV


@pytest.mark.parametrize("driver_name", ["net_rtap", "net_tap"])
def test_port_context_manager_removes_port(driver_name, tap_required, unique_name, pool):
    iface = unique_name("pc")
    devname = driver_name + "77"
    with rte.Port.probe(f"{devname},iface={iface}") as p:
        assert link_exists(iface)
        assert p.name == devname
        assert rte.rte_eth_dev_get_port_by_name(devname) == p.port_id
        p.configure(1, 1)
        p.setup_rx_queue(0, 16, pool)
        p.setup_tx_queue(0, 16)
        p.start()
        assert p.link["status"] is True
    assert rte.rte_eth_dev_get_port_by_name(devname) == -ENODEV
    assert not link_exists(iface)
    assert pool.in_use_count() == 0


def test_port_probe_failure(tap_required):
    with pytest.raises(rte.PortError) as ei:
        rte.Port.probe("net_bogus0,iface=x")
    assert ei.value.errno == EINVAL
