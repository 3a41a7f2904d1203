"""Control path of both drivers over a real TAP: device info, queue reconfiguration,
fd hygiene, persistent and renamed interfaces, the port state machine, bad input, and
rte_eal_init's --vdev handling (docs/api.md "EAL and devices", "Ethdev").
"""
from __future__ import annotations

import errno
import gc
import logging
import socket

import pytest

import pyrtap as rte
from conftest import make_unique_name
from helpers import (
    ETH_P_TEST, PacketSocket, dev_info, disable_ipv6, fd_count, free_all, ip, link_delete, link_exists,
    link_json, link_names, make_frame, make_non_tap, mbuf_bytes, mbuf_from, rx_poll, setup_port,
)

_seq = iter(range(500, 10_000))


def _devname(driver: str) -> str:
    return f"{driver}{next(_seq)}"


def check_traffic(port: int, iface: str, pool, nb_queues: int = 1, seed: int = 0,
                  nb_tx_queues: int | None = None) -> None:
    """Frames injected on ``iface`` reach the port (on some queue) exactly, and a frame
    sent on each Tx queue reaches ``iface`` exactly."""
    nb_tx = nb_queues if nb_tx_queues is None else nb_tx_queues
    rx_frames = [make_frame(90 + i, seed=seed + i) for i in range(4)]
    tx_frames = [make_frame(120 + q, seed=seed + 100 + q) for q in range(nb_tx)]
    with PacketSocket(iface, ETH_P_TEST) as s:
        s.send_all(rx_frames)
        pkts, _ = rx_poll(port, range(nb_queues), len(rx_frames), settle=0.02)
        try:
            assert sorted(mbuf_bytes(m) for _, m in pkts) == sorted(rx_frames)
            assert all(m.port == port for _, m in pkts)
        finally:
            free_all(m for _, m in pkts)
        for q, f in enumerate(tx_frames):
            assert rte.rte_eth_tx_burst(port, q, [mbuf_from(pool, f)], 1) == 1
        got = s.capture(len(tx_frames))
    assert sorted(got) == sorted(tx_frames)


# ---- information ------------------------------------------------------------------------------

def test_dev_info(tap_port, driver):
    info = dev_info(tap_port.port)
    assert info.driver_name == driver
    link = link_json(tap_port.iface)
    assert link is not None
    assert info.if_index == link["ifindex"] == socket.if_nametoindex(tap_port.iface)
    assert info.max_rx_queues == 128
    assert info.max_tx_queues == 128
    assert info.max_mac_addrs == 1
    assert info.nb_rx_queues == info.nb_tx_queues == 0
    assert info.min_mtu <= 1500 <= info.max_mtu
    assert info.max_rx_pktlen >= info.max_mtu + 14
    assert rte.rte_eth_dev_configure(tap_port.port, 2, 2, None) == 0
    info = dev_info(tap_port.port)
    assert (info.nb_rx_queues, info.nb_tx_queues) == (2, 2)


def test_names_and_lookup(tap_port):
    assert rte.rte_eth_dev_get_name_by_port(tap_port.port) == tap_port.devname
    assert rte.rte_eth_dev_get_port_by_name(tap_port.devname) == tap_port.port
    assert rte.rte_eth_dev_is_valid_port(tap_port.port) == 1
    assert tap_port.port in list(rte.RTE_ETH_FOREACH_DEV())
    assert rte.rte_eth_dev_get_port_by_name("net_rtap_nonexistent") == -errno.ENODEV
    # the same vdev name twice
    assert rte.rte_dev_probe(f"{tap_port.devname},iface={make_unique_name('pe')}") == -errno.EEXIST


def test_interface_up_on_start_down_on_stop(tap_port, pool):
    setup_port(tap_port.port, pool)
    assert "UP" in link_json(tap_port.iface)["flags"]
    assert rte.rte_eth_dev_stop(tap_port.port) == 0
    assert "UP" not in link_json(tap_port.iface)["flags"]


# ---- queue reconfiguration ----------------------------------------------------------------------

def test_reconfigure_queue_counts(tap_port, make_pool, driver):
    """1 -> 4 -> 1 queues: each configuration carries traffic; fds come back (guard checks)."""
    mp = make_pool(n=1024)
    port, iface = tap_port.port, tap_port.iface
    setup_port(port, mp, nb_rxd=64)
    check_traffic(port, iface, mp, 1, seed=1)
    assert rte.rte_eth_dev_stop(port) == 0
    fds_1q = fd_count()

    setup_port(port, mp, nb_queues=4, nb_rxd=64)
    assert dev_info(port).nb_rx_queues == 4
    check_traffic(port, iface, mp, 4, seed=2)
    assert rte.rte_eth_dev_stop(port) == 0
    assert fd_count() > fds_1q, "4 queues should hold more fds than 1"

    setup_port(port, mp, nb_queues=1, nb_rxd=64)
    info = dev_info(port)
    assert (info.nb_rx_queues, info.nb_tx_queues) == (1, 1)
    # queue 1 no longer exists
    assert rte.rte_eth_tx_burst(port, 1, [], 0) == 0
    assert rte.rte_eth_rx_burst(port, 1, rte.MbufBurst(4), 4) == 0
    check_traffic(port, iface, mp, 1, seed=3)
    assert rte.rte_eth_dev_stop(port) == 0
    gc.collect()
    assert fd_count() == fds_1q, "fds of the released queues were not closed"
    assert mp.in_use_count() == 0


def test_queue_setup_twice_replaces_queue(tap_port, pool):
    """Setting a queue up again (stopped) replaces it without leaking its buffers or fds."""
    port = tap_port.port
    setup_port(port, pool, start=False)
    before = fd_count()
    for _ in range(3):
        assert rte.rte_eth_rx_queue_setup(port, 0, 128, 0, None, pool) == 0
        assert rte.rte_eth_tx_queue_setup(port, 0, 128, 0, None) == 0
    gc.collect()
    assert fd_count() == before
    assert rte.rte_eth_dev_start(port) == 0
    check_traffic(port, tap_port.iface, pool)
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


# ---- fds and interfaces over the port's life -------------------------------------------------------

def test_no_fd_leak_over_five_lifecycles(make_port, driver, pool):
    gc.collect()
    before = fd_count()
    ifaces = []
    for i in range(5):
        tp = make_port(driver)
        ifaces.append(tp.iface)
        setup_port(tp.port, pool, nb_queues=2, nb_rxd=32, nb_txd=32)
        if i == 0:
            check_traffic(tp.port, tp.iface, pool, 2, seed=i)
        assert rte.rte_eth_dev_stop(tp.port) == 0
        assert rte.rte_eth_dev_close(tp.port) == 0
        assert rte.rte_eth_dev_get_port_by_name(tp.devname) == -errno.ENODEV
        assert not link_exists(tp.iface), f"{tp.iface} still exists after close"
    gc.collect()
    assert fd_count() == before
    assert not set(ifaces) & link_names()
    assert pool.in_use_count() == 0


def test_remove_deletes_interface(tap_port, pool):
    setup_port(tap_port.port, pool)
    assert link_exists(tap_port.iface)
    assert rte.rte_dev_remove(tap_port.devname) == 0
    assert not link_exists(tap_port.iface)
    assert rte.rte_eth_dev_is_valid_port(tap_port.port) == 0
    assert rte.rte_dev_remove(tap_port.devname) == -errno.ENODEV
    assert pool.in_use_count() == 0


def test_persist_survives_close_and_reattaches(make_port, driver, pool, unique_name):
    iface = unique_name("pe")
    try:
        tp = make_port(driver, iface=iface, devargs="persist")
        ifindex = dev_info(tp.port).if_index
        setup_port(tp.port, pool)
        check_traffic(tp.port, iface, pool, seed=1)
        assert rte.rte_eth_dev_stop(tp.port) == 0
        assert rte.rte_eth_dev_close(tp.port) == 0
        assert rte.rte_eth_dev_is_valid_port(tp.port) == 0
        assert link_exists(iface), "a persistent interface disappeared on close"
        assert link_json(iface)["ifindex"] == ifindex

        tp2 = make_port(driver, iface=iface, devargs="persist")
        assert dev_info(tp2.port).if_index == ifindex, "probe created a new interface instead of attaching"
        setup_port(tp2.port, pool)
        check_traffic(tp2.port, iface, pool, seed=2)
        assert rte.rte_eth_dev_stop(tp2.port) == 0
        assert rte.rte_dev_remove(tp2.devname) == 0
        assert link_exists(iface)
    finally:
        for d in list(rte.RTE_ETH_FOREACH_DEV()):
            if rte.rte_eth_dev_get_name_by_port(d).startswith(driver):
                info = rte.rte_eth_dev_info()
                if rte.rte_eth_dev_info_get(d, info) == 0 and info.if_index == socket.if_nametoindex(iface):
                    rte.rte_dev_remove(rte.rte_eth_dev_get_name_by_port(d))
        link_delete(iface)
    assert not link_exists(iface)
    assert pool.in_use_count() == 0


def test_default_iface_name(driver, tap_required, pool):
    """Without iface= the kernel names the interface from the driver's template."""
    name = _devname(driver)
    assert rte.rte_dev_probe(name) == 0
    try:
        port = rte.rte_eth_dev_get_port_by_name(name)
        ifindex = dev_info(port).if_index
        iface = socket.if_indextoname(ifindex)
        assert iface.startswith({"net_rtap": "rtap", "net_tap": "dtap"}[driver])
        assert iface[4:].isdigit()
        disable_ipv6(iface)
        setup_port(port, pool)
        check_traffic(port, iface, pool)
    finally:
        rte.rte_dev_remove(name)
    assert not link_exists(iface)
    assert pool.in_use_count() == 0


def test_attach_to_existing_multiqueue_tap(make_port, driver, pool, unique_name):
    """An interface made beforehand with ``ip tuntap add ... mode tap multi_queue`` is
    attached to, not replaced."""
    iface = unique_name("pe")
    ip("tuntap", "add", "dev", iface, "mode", "tap", "multi_queue")
    try:
        ifindex = socket.if_nametoindex(iface)
        tp = make_port(driver, iface=iface)
        assert dev_info(tp.port).if_index == ifindex
        setup_port(tp.port, pool, nb_queues=2)
        check_traffic(tp.port, iface, pool, 2)
        assert rte.rte_eth_dev_stop(tp.port) == 0
        assert rte.rte_dev_remove(tp.devname) == 0
    finally:
        link_delete(iface)
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("mode", [["tap"], ["tun", "multi_queue"]], ids=["single-queue-tap", "tun"])
def test_existing_incompatible_tun_refused(driver, tap_required, unique_name, mode):
    """A single-queue TAP or a TUN of that name cannot be attached: negative errno, and
    the interface is left alone."""
    iface = unique_name("pe")
    ip("tuntap", "add", "dev", iface, "mode", *mode)
    try:
        ifindex = socket.if_nametoindex(iface)
        name = _devname(driver)
        rc = rte.rte_dev_probe(f"{name},iface={iface}")
        assert rc < 0
        assert rte.rte_eth_dev_get_port_by_name(name) == -errno.ENODEV
        assert socket.if_nametoindex(iface) == ifindex
    finally:
        link_delete(iface)


def test_interface_deleted_while_started(tap_port, pool):
    """``ip link del`` under a started port: bursts return without raising, stop and
    close succeed, every mbuf and fd comes back (the guard checks fds)."""
    port = tap_port.port
    setup_port(port, pool)
    ip("link", "del", "dev", tap_port.iface)
    burst = rte.MbufBurst(32)
    for _ in range(5):
        n = rte.rte_eth_rx_burst(port, 0, burst, 32)
        rte.rte_pktmbuf_free_bulk(burst, n)
    m = mbuf_from(pool, make_frame(60))
    if rte.rte_eth_tx_burst(port, 0, [m], 1) == 0:
        rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0
    assert rte.rte_eth_dev_close(port) == 0
    assert rte.rte_eth_dev_is_valid_port(port) == 0


def test_rename_then_reconfigure(tap_port, pool, driver, unique_name):
    """Renamed while stopped and configured: configure with 2 queues, start, traffic on NEW."""
    port, old = tap_port.port, tap_port.iface
    ifindex = dev_info(port).if_index
    setup_port(port, pool, nb_rxd=64, start=False)
    new = unique_name("pe")
    ip("link", "set", "dev", old, "name", new)
    assert not link_exists(old) and link_exists(new)
    disable_ipv6(new)
    setup_port(port, pool, nb_queues=2, nb_rxd=64)
    assert dev_info(port).if_index == ifindex
    assert "UP" in link_json(new)["flags"]
    check_traffic(port, new, pool, 2, seed=4)
    assert rte.rte_eth_dev_stop(port) == 0
    assert rte.rte_eth_dev_close(port) == 0
    assert not link_exists(new)
    assert pool.in_use_count() == 0


def test_rename_then_restart_without_reconfigure(tap_port, pool, unique_name):
    port = tap_port.port
    setup_port(port, pool)
    assert rte.rte_eth_dev_stop(port) == 0
    new = unique_name("pe")
    ip("link", "set", "dev", tap_port.iface, "name", new)
    assert rte.rte_eth_dev_start(port) == 0
    check_traffic(port, new, pool, seed=5)
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


# ---- bad input --------------------------------------------------------------------------------

BAD_PORTS = [31, 32, 1000, -1, 65535, 65536]
BAD_QUEUES = [1, 127, 128, 1000, -1]


def test_bursts_with_invalid_ids_return_zero(tap_port, pool):
    port = tap_port.port
    setup_port(port, pool)
    m = mbuf_from(pool, make_frame(60))
    try:
        for p in BAD_PORTS:
            if rte.rte_eth_dev_is_valid_port(p):
                continue
            for q in (0, 1):
                assert rte.rte_eth_rx_burst(p, q, rte.MbufBurst(8), 8) == 0
                assert rte.rte_eth_rx_burst(p, q, [None] * 8, 8) == 0
                assert rte.rte_eth_tx_burst(p, q, [m], 1) == 0
        for q in BAD_QUEUES:
            assert rte.rte_eth_rx_burst(port, q, rte.MbufBurst(8), 8) == 0
            assert rte.rte_eth_rx_burst(port, q, [None] * 8, 8) == 0
            assert rte.rte_eth_tx_burst(port, q, [m], 1) == 0
            b = rte.MbufBurst(1)
            b[0] = m
            assert rte.rte_eth_tx_burst(port, q, b, 1) == 0
        # nb_pkts 0 or negative
        assert rte.rte_eth_tx_burst(port, 0, [m], 0) == 0
        assert rte.rte_eth_tx_burst(port, 0, [m], -5) == 0
        assert rte.rte_eth_rx_burst(port, 0, [None] * 4, -1) == 0
        assert rte.rte_mbuf_refcnt_read(m) == 1, "a refused mbuf must stay the caller's"
        # and the mbuf is still sendable after all that
        with PacketSocket(tap_port.iface, ETH_P_TEST) as s:
            assert rte.rte_eth_tx_burst(port, 0, [m], 1) == 1
            m = None
            assert s.capture(1) == [make_frame(60)]
    finally:
        rte.rte_pktmbuf_free(m)
    assert rte.rte_eth_dev_stop(port) == 0
    assert pool.in_use_count() == 0


@pytest.mark.parametrize("nb_rx, nb_tx", [(0, 0), (129, 129), (0, 1), (1, 0), (129, 1), (1, 129)])
def test_configure_bad_queue_counts(tap_port, nb_rx, nb_tx):
    assert rte.rte_eth_dev_configure(tap_port.port, nb_rx, nb_tx, None) == -errno.EINVAL


def test_configure_max_queue_count(tap_port):
    """128 queues (the maximum) are accepted and can all be set up."""
    assert rte.rte_eth_dev_configure(tap_port.port, 128, 128, None) == 0
    assert dev_info(tap_port.port).nb_rx_queues == 128
    assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, None) == 0


def test_unequal_queue_counts(tap_port, driver, make_pool):
    rc = rte.rte_eth_dev_configure(tap_port.port, 2, 1, None)
    if driver == "net_rtap":
        assert rc == -errno.EINVAL
        assert rte.rte_eth_dev_configure(tap_port.port, 1, 2, None) == -errno.EINVAL
        return
    assert rc == 0
    mp = make_pool(n=512)
    setup_port(tap_port.port, mp, nb_queues=2, nb_tx_queues=1, nb_rxd=64)
    check_traffic(tap_port.port, tap_port.iface, mp, 2, nb_tx_queues=1)
    assert rte.rte_eth_dev_stop(tap_port.port) == 0


def _probe_refused(name: str, spec: str, iface: str, caplog, token: str) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        rc = rte.rte_dev_probe(spec)
    assert rc == -errno.EINVAL, spec
    assert any(token in r.getMessage() for r in caplog.records), \
        f"no log record names {token!r}: {[r.getMessage() for r in caplog.records]}"
    assert rte.rte_eth_dev_get_port_by_name(name) == -errno.ENODEV
    assert not link_exists(iface)


@pytest.mark.parametrize("arg, token", [("bogus_key=1", "bogus_key"), ("bogusflag", "bogusflag"),
                                        ("IFACE=x", "IFACE")])
def test_unknown_devargs_key(driver, tap_required, unique_name, caplog, arg, token):
    """An unknown key: -EINVAL, a log record naming it, no port, no interface."""
    iface = unique_name("pe")
    name = _devname(driver)
    _probe_refused(name, f"{name},iface={iface},{arg}", iface, caplog, token)


def test_rtap_only_devargs_refused_by_net_tap(tap_required, unique_name, caplog):
    for arg, token in (("uring=defer", "uring"), ("rx=batch", "rx"), ("sync=4", "sync")):
        iface = unique_name("pe")
        name = _devname("net_tap")
        _probe_refused(name, f"{name},iface={iface},{arg}", iface, caplog, token)


def test_rtap_bad_devarg_values(tap_required, unique_name, caplog):
    for arg, token in (("uring=fastest", "fastest"), ("rx=nonsense", "nonsense"), ("sync=many", "many"),
                       ("sync=-1", "-1"), ("sync=513", "513")):
        iface = unique_name("pe")
        name = _devname("net_rtap")
        _probe_refused(name, f"{name},iface={iface},{arg}", iface, caplog, token)


def test_unknown_driver(tap_required):
    assert rte.rte_dev_probe("net_bogus0,iface=x") == -errno.EINVAL


@pytest.mark.parametrize("iface", ["pe" + "x" * 14, "pe" + "y" * 40, "pe/bad", "pe bad", "pe:bad"],
                         ids=["16-chars", "42-chars", "slash", "space", "colon"])
def test_iface_name_invalid(driver, tap_required, iface):
    name = _devname(driver)
    rc = rte.rte_dev_probe(f"{name},iface={iface}")
    assert rc < 0
    assert rte.rte_eth_dev_get_port_by_name(name) == -errno.ENODEV
    assert not link_exists(iface[:15])


def test_iface_of_15_chars_is_fine(make_port, driver):
    iface = make_unique_name("pe")
    assert len(iface) == 15
    tp = make_port(driver, iface=iface)
    assert link_exists(iface)
    assert dev_info(tp.port).if_index == socket.if_nametoindex(iface)


def test_iface_is_existing_non_tap(driver, tap_required, unique_name):
    iface = unique_name("pe")
    kind = make_non_tap(iface)
    try:
        name = _devname(driver)
        rc = rte.rte_dev_probe(f"{name},iface={iface}")
        assert rc < 0, f"probe attached to a {kind} interface"
        assert rte.rte_eth_dev_get_port_by_name(name) == -errno.ENODEV
        link = link_json(iface)
        assert link is not None, "the existing interface was deleted"
        assert link.get("linkinfo", {}).get("info_kind") == kind
    finally:
        link_delete(iface)


# ---- state machine ------------------------------------------------------------------------------

def test_state_machine(tap_port, pool):
    port = tap_port.port
    # nothing before configure
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, pool) == -errno.EINVAL
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == -errno.EINVAL
    assert rte.rte_eth_dev_start(port) == -errno.EINVAL
    assert rte.rte_eth_dev_configure(port, 1, 1, None) == 0
    # start before queue set-up
    assert rte.rte_eth_dev_start(port) == -errno.EINVAL
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, pool) == 0
    assert rte.rte_eth_dev_start(port) == -errno.EINVAL      # Tx queue missing
    # queue ids beyond the configured count, bad pools, bad ring sizes
    assert rte.rte_eth_rx_queue_setup(port, 1, 64, 0, None, pool) == -errno.EINVAL
    assert rte.rte_eth_tx_queue_setup(port, 1, 64, 0, None) == -errno.EINVAL
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, None) == -errno.EINVAL
    assert rte.rte_eth_tx_queue_setup(port, 0, 100000, 0, None) == -errno.EINVAL
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == 0
    assert rte.rte_eth_dev_start(port) == 0
    assert rte.rte_eth_dev_start(port) == 0                  # already started
    # while started: no reconfiguration, no close
    assert rte.rte_eth_dev_configure(port, 1, 1, None) == -errno.EBUSY
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, pool) == -errno.EBUSY
    assert rte.rte_eth_dev_close(port) == -errno.EINVAL
    assert rte.rte_eth_dev_is_valid_port(port) == 1
    check_traffic(port, tap_port.iface, pool)                # the refused calls changed nothing
    assert rte.rte_eth_dev_stop(port) == 0
    assert rte.rte_eth_dev_stop(port) == 0                   # already stopped
    assert pool.in_use_count() == 0
    assert rte.rte_eth_dev_close(port) == 0
    # everything on a closed port: -ENODEV
    assert rte.rte_eth_dev_is_valid_port(port) == 0
    assert rte.rte_eth_dev_get_name_by_port(port) is None
    assert rte.rte_eth_dev_get_port_by_name(tap_port.devname) == -errno.ENODEV
    assert rte.rte_eth_dev_configure(port, 1, 1, None) == -errno.ENODEV
    assert rte.rte_eth_rx_queue_setup(port, 0, 64, 0, None, pool) == -errno.ENODEV
    assert rte.rte_eth_tx_queue_setup(port, 0, 64, 0, None) == -errno.ENODEV
    assert rte.rte_eth_dev_start(port) == -errno.ENODEV
    assert rte.rte_eth_dev_stop(port) == -errno.ENODEV
    assert rte.rte_eth_dev_close(port) == -errno.ENODEV
    assert rte.rte_eth_dev_reset(port) == -errno.ENODEV
    assert rte.rte_eth_dev_info_get(port, rte.rte_eth_dev_info()) == -errno.ENODEV
    assert rte.rte_eth_stats_get(port, rte.rte_eth_stats()) == -errno.ENODEV
    assert rte.rte_eth_stats_reset(port) == -errno.ENODEV
    assert rte.rte_eth_link_get(port, rte.rte_eth_link()) == -errno.ENODEV
    assert rte.rte_eth_dev_get_mtu(port) == -errno.ENODEV
    assert rte.rte_eth_dev_set_mtu(port, 1500) == -errno.ENODEV
    assert rte.rte_eth_promiscuous_get(port) == -errno.ENODEV
    assert rte.rte_eth_macaddr_get(port, rte.rte_ether_addr()) == -errno.ENODEV
    assert rte.rte_eth_rx_burst(port, 0, rte.MbufBurst(4), 4) == 0
    assert rte.rte_eth_tx_burst(port, 0, [], 0) == 0
    assert not link_exists(tap_port.iface)


def test_start_with_pool_too_small_for_rings(make_port, variant, make_pool):
    """A pool that cannot fill the Rx rings: start fails with -ENOMEM where the mode posts a
    buffer per descriptor (net_rtap rx=prepost|multishot; rx=auto|batch and net_tap take
    buffers as bursts need them), gives every mbuf back, leaves the port stopped; smaller
    rings then work."""
    mp = make_pool(n=100)
    tp = make_port(*variant)
    port = tp.port
    setup_port(port, mp, nb_queues=2, nb_rxd=64, start=False)
    rc = rte.rte_eth_dev_start(port)
    if variant[1] in ("rx=prepost", "rx=multishot"):
        assert rc == -errno.ENOMEM
    else:
        assert rc in (0, -errno.ENOMEM)
    if rc < 0:
        assert mp.in_use_count() == 0, "a failed start kept mbufs"
        assert rte.rte_eth_rx_burst(port, 0, rte.MbufBurst(4), 4) == 0
        assert "UP" not in link_json(tp.iface)["flags"]
    else:
        assert rte.rte_eth_dev_stop(port) == 0
    for q in range(2):
        assert rte.rte_eth_rx_queue_setup(port, q, 16, 0, None, mp) == 0
    assert rte.rte_eth_dev_start(port) == 0
    check_traffic(port, tp.iface, mp, 2)
    assert rte.rte_eth_dev_stop(port) == 0
    assert mp.in_use_count() == 0


def test_rx_queue_setup_pool_unfit(tap_port, make_pool):
    """A pool whose mbufs cannot hold an Ethernet header, or that would need more than
    64 segments per frame, is refused with -EINVAL."""
    assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, None) == 0
    tiny = make_pool(n=64, data_room=128 + 8)
    assert rte.rte_eth_rx_queue_setup(tap_port.port, 0, 16, 0, None, tiny) == -errno.EINVAL
    small = make_pool(n=64, data_room=128 + 16)      # 1518 / 16 -> 95 segments
    assert rte.rte_eth_rx_queue_setup(tap_port.port, 0, 16, 0, None, small) == -errno.EINVAL
    assert rte.rte_eth_dev_start(tap_port.port) == -errno.EINVAL


def test_reset_requires_reconfigure(tap_port, pool):
    port = tap_port.port
    setup_port(port, pool)
    assert rte.rte_eth_dev_reset(port) == 0
    assert pool.in_use_count() == 0
    assert rte.rte_eth_dev_is_valid_port(port) == 1
    assert rte.rte_eth_dev_start(port) == -errno.EINVAL
    setup_port(port, pool)
    check_traffic(port, tap_port.iface, pool)
    assert rte.rte_eth_dev_stop(port) == 0


# ---- EAL ----------------------------------------------------------------------------------------

def _no_pools_alive():
    """rte_eal_cleanup frees every pool: make sure it cannot take another test's."""
    from pyrtap import mempool
    if mempool.rte_mempool_list():
        pytest.fail("pools exist before an rte_eal_cleanup test: "
                    + ", ".join(mp.name for mp in mempool.rte_mempool_list()))


def test_eal_init_vdevs(tap_required, unique_name):
    """--vdev args create ports; the return value counts consumed args; a second call
    gives -EALREADY; rte_eal_cleanup removes everything."""
    _no_pools_alive()
    i1, i2 = unique_name("pe"), unique_name("pe")
    d1, d2 = _devname("net_rtap"), _devname("net_tap")
    argv = ["prog", f"--vdev={d1},iface={i1}", "--vdev", f"{d2},iface={i2}", "-l", "0", "--", "app-arg"]
    try:
        rc = rte.rte_eal_init(argv)
        assert rc == 6, rc
        assert argv[rc + 1:] == ["app-arg"]
        p1, p2 = rte.rte_eth_dev_get_port_by_name(d1), rte.rte_eth_dev_get_port_by_name(d2)
        assert p1 >= 0 and p2 >= 0 and p1 != p2
        assert dev_info(p1).driver_name == "net_rtap" and dev_info(p2).driver_name == "net_tap"
        assert link_exists(i1) and link_exists(i2)
        assert dev_info(p1).if_index == socket.if_nametoindex(i1)
        assert rte.rte_eal_init(["prog"]) == -errno.EALREADY
        assert rte.rte_eal_init(argv) == -errno.EALREADY
    finally:
        rte.rte_eal_cleanup()
    assert rte.rte_eth_dev_get_port_by_name(d1) == -errno.ENODEV
    assert rte.rte_eth_dev_get_port_by_name(d2) == -errno.ENODEV
    assert not link_exists(i1) and not link_exists(i2)


def test_eal_init_without_separator(tap_required, unique_name):
    _no_pools_alive()
    i1 = unique_name("pe")
    d1 = _devname("net_tap")
    argv = ["prog", "--no-pci", f"--vdev={d1},iface={i1}", "app-arg", "--app-opt"]
    try:
        rc = rte.rte_eal_init(argv)
        assert rc == 2
        assert rte.rte_eth_dev_get_port_by_name(d1) >= 0
    finally:
        rte.rte_eal_cleanup()
    assert not link_exists(i1)


def test_eal_init_bad_vdev_creates_nothing(tap_required, unique_name):
    _no_pools_alive()
    i1, i2 = unique_name("pe"), unique_name("pe")
    d1 = _devname("net_rtap")
    argv = ["prog", f"--vdev={d1},iface={i1}", f"--vdev={_devname('net_tap')},iface={i2},nope=1"]
    try:
        assert rte.rte_eal_init(argv) == -errno.EINVAL
        assert rte.rte_eth_dev_get_port_by_name(d1) == -errno.ENODEV
        assert not link_exists(i1)
    finally:
        rte.rte_eal_cleanup()
