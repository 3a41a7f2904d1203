"""Tests for pyrtap.netlink against real TAP interfaces.

Must run as root with /dev/net/tun available; they fail (not skip) otherwise
(conftest's ``tap_required``). Every test creates its own TAP with a unique name;
the finalizer deletes it by ifindex, so it is removed even if the test renamed it
or failed. They use only helpers that need no Cython core (see _load_netlink).
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import importlib.util
import json
import os
import pathlib
import struct
import threading
import time

import pytest

from conftest import TUN_PATH, make_unique_name
from helpers import fd_count, ip, link_delete, link_json


def _load_netlink():
    # pyrtap.netlink is pure Python and imports nothing from the rest of
    # pyrtap, so if the package itself cannot be imported (e.g. the Cython
    # core is not built yet) load the module file directly.
    try:
        from pyrtap import netlink

        return netlink
    except ImportError:
        path = pathlib.Path(__file__).resolve().parents[1] / "pyrtap" / "netlink.py"
        spec = importlib.util.spec_from_file_location("pyrtap_netlink_standalone", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod


nl = _load_netlink()

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def ip_show(name: str) -> dict:
    """`ip -j -d link show dev NAME` parsed; the interface must exist."""
    link = link_json(name)
    assert link is not None, f"no interface {name}"
    return link


def ip_show_index(ifindex: int) -> dict | None:
    for link in json.loads(ip("-j", "link", "show").stdout):
        if link["ifindex"] == ifindex:
            return link
    return None


class Tap:
    def __init__(self, name: str, ifindex: int):
        self.name = name  # creation name; tests that rename update it
        self.ifindex = ifindex

    def __repr__(self):
        return f"Tap({self.name!r}, {self.ifindex})"


@pytest.fixture
def tap(request, tap_required):
    """A fresh persistent TAP interface (admin down, no process attached)."""
    name = make_unique_name("nl")
    ip("tuntap", "add", "dev", name, "mode", "tap")
    ifindex = ip_show(name)["ifindex"]
    t = Tap(name, ifindex)

    def cleanup():
        # Delete by ifindex: the test may have renamed the interface.
        link = ip_show_index(ifindex)
        if link is not None:
            link_delete(link["ifname"])

    request.addfinalizer(cleanup)
    return t


def attach(name: str) -> int:
    """Attach to TAP `name` through /dev/net/tun; returns the fd."""
    fd = os.open(TUN_PATH, os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    except BaseException:
        os.close(fd)
        raise
    return fd


# ---------------------------------------------------------------------------
# lookup / info
# ---------------------------------------------------------------------------


def test_ifindex_of(tap):
    assert nl.ifindex_of(tap.name) == tap.ifindex
    assert nl.ifindex_of("lo") == ip_show("lo")["ifindex"]
    assert nl.ifindex_of(make_unique_name("nx")) is None
    assert nl.ifindex_of("x" * 16) is None  # cannot be an interface name
    assert nl.ifindex_of("") is None


def test_link_info_matches_ip(tap):
    info = nl.link_info(tap.ifindex)
    j = ip_show(tap.name)
    assert info["ifindex"] == tap.ifindex == j["ifindex"]
    assert info["name"] == tap.name
    assert info["mtu"] == j["mtu"] == 1500
    assert info["min_mtu"] == j["min_mtu"]
    assert info["max_mtu"] == j["max_mtu"]
    assert info["address"] == j["address"]
    assert info["operstate"] == j["operstate"]
    assert info["kind"] == j["linkinfo"]["info_kind"] == "tun"
    assert isinstance(info["flags"], int)
    assert info["admin_up"] is False
    assert info["running"] is False
    assert info["carrier"] is False  # no process attached
    assert info["promisc"] is False
    assert info["allmulti"] is False
    assert info["promiscuity"] == j["promiscuity"] == 0


def test_link_info_lo(tap_required):
    info = nl.link_info(nl.ifindex_of("lo"))
    assert info["name"] == "lo"
    assert info["admin_up"] is True
    assert info["flags"] & nl.IFF_LOOPBACK
    assert info["kind"] is None  # loopback has no rtnl link ops


def test_link_info_all(tap):
    infos = nl.link_info_all()
    by_index = {i["ifindex"]: i for i in infos}
    assert by_index[tap.ifindex]["name"] == tap.name
    assert by_index[tap.ifindex]["kind"] == "tun"
    assert "lo" in {i["name"] for i in infos}


def test_attached_tap_has_carrier_and_counts(tap):
    fd = attach(tap.name)
    try:
        nl.set_admin_state(tap.ifindex, True)
        info = nl.link_info(tap.ifindex)
        assert info["admin_up"] and info["carrier"] is True and info["running"] is True
        assert info["operstate"] == "UP"

        before = nl.link_stats64(tap.ifindex)
        # A frame written by the process is *rx* from the kernel's view.
        frame = bytes.fromhex("ffffffffffff02000000000108060001") + bytes(44)
        os.write(fd, frame)
        after = nl.link_stats64(tap.ifindex)
        assert after["rx_packets"] == before["rx_packets"] + 1
        assert after["rx_bytes"] == before["rx_bytes"] + len(frame)
    finally:
        os.close(fd)
    # Process detached: carrier drops, admin state is kept.
    info = nl.link_info(tap.ifindex)
    assert info["admin_up"] is True
    assert info["carrier"] is False and info["running"] is False
    assert info["operstate"] == "DOWN"


# ---------------------------------------------------------------------------
# MTU
# ---------------------------------------------------------------------------


def test_set_mtu_via_module(tap):
    nl.set_mtu(tap.ifindex, 1400)
    assert ip_show(tap.name)["mtu"] == 1400
    assert nl.link_info(tap.ifindex)["mtu"] == 1400


def test_set_mtu_via_ip(tap):
    ip("link", "set", "dev", tap.name, "mtu", "9000")
    assert nl.link_info(tap.ifindex)["mtu"] == 9000


@pytest.mark.parametrize("which", ["below_min", "above_max", "negative", "zero"])
def test_set_mtu_out_of_range(tap, which):
    info = nl.link_info(tap.ifindex)
    mtu = {
        "below_min": info["min_mtu"] - 1,
        "above_max": info["max_mtu"] + 1,
        "negative": -1,
        "zero": 0,
    }[which]
    with pytest.raises(OSError) as ei:
        nl.set_mtu(tap.ifindex, mtu)
    assert ei.value.errno == errno.EINVAL
    assert ip_show(tap.name)["mtu"] == 1500


def test_set_mtu_bounds_accepted(tap):
    info = nl.link_info(tap.ifindex)
    for mtu in (info["min_mtu"], info["max_mtu"]):
        nl.set_mtu(tap.ifindex, mtu)
        assert ip_show(tap.name)["mtu"] == mtu


# ---------------------------------------------------------------------------
# MAC address
# ---------------------------------------------------------------------------


def test_set_address_via_module_str(tap):
    nl.set_address(tap.ifindex, "02:AB:cd:00:11:22")
    assert ip_show(tap.name)["address"] == "02:ab:cd:00:11:22"
    assert nl.link_info(tap.ifindex)["address"] == "02:ab:cd:00:11:22"


def test_set_address_via_module_bytes(tap):
    nl.set_address(tap.ifindex, bytes([0x02, 0, 0, 0xDE, 0xAD, 0x01]))
    assert ip_show(tap.name)["address"] == "02:00:00:de:ad:01"


def test_set_address_while_up(tap):
    nl.set_admin_state(tap.ifindex, True)
    nl.set_address(tap.ifindex, "02:00:00:00:00:07")  # TAP: IFF_LIVE_ADDR_CHANGE
    assert ip_show(tap.name)["address"] == "02:00:00:00:00:07"


def test_set_address_via_ip(tap):
    ip("link", "set", "dev", tap.name, "address", "02:11:22:33:44:55")
    assert nl.link_info(tap.ifindex)["address"] == "02:11:22:33:44:55"


@pytest.mark.parametrize(
    "mac",
    ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"],
    ids=["multicast", "broadcast", "zero"],
)
def test_set_address_rejected_by_kernel(tap, mac):
    _assert_address_refused(tap, mac, errno.EADDRNOTAVAIL)


@pytest.mark.parametrize(
    "mac", ["02:00:00", "02:00:00:00:00:00:00", "zz:00:00:00:00:01", "", b"\x02\x00\x00", b"\x02" * 7]
)
def test_set_address_malformed(tap, mac):
    _assert_address_refused(tap, mac, errno.EINVAL)


def _assert_address_refused(tap, mac, err: int) -> None:
    """set_address(mac) fails with ``err`` and leaves the address as it was."""
    old = ip_show(tap.name)["address"]
    with pytest.raises(OSError) as ei:
        nl.set_address(tap.ifindex, mac)
    assert ei.value.errno == err
    assert ip_show(tap.name)["address"] == old


# ---------------------------------------------------------------------------
# admin state
# ---------------------------------------------------------------------------


def test_admin_up_down_via_module(tap):
    nl.set_admin_state(tap.ifindex, True)
    j = ip_show(tap.name)
    assert "UP" in j["flags"]
    # No process attached -> no carrier: operstate stays DOWN.
    assert "NO-CARRIER" in j["flags"]
    info = nl.link_info(tap.ifindex)
    assert info["admin_up"] is True
    assert info["carrier"] is False
    assert info["running"] is False
    assert info["operstate"] == "DOWN"

    nl.set_admin_state(tap.ifindex, False)
    assert "UP" not in ip_show(tap.name)["flags"]
    assert nl.link_info(tap.ifindex)["admin_up"] is False


def test_admin_up_down_via_ip(tap):
    ip("link", "set", "dev", tap.name, "up")
    assert nl.link_info(tap.ifindex)["admin_up"] is True
    ip("link", "set", "dev", tap.name, "down")
    assert nl.link_info(tap.ifindex)["admin_up"] is False


# ---------------------------------------------------------------------------
# promisc / allmulti
# ---------------------------------------------------------------------------


def test_promisc_via_module(tap):
    nl.set_promisc(tap.ifindex, True)
    j = ip_show(tap.name)
    assert "PROMISC" in j["flags"]
    assert j["promiscuity"] == 1
    assert nl.link_info(tap.ifindex)["promisc"] is True

    # Idempotent: the request is a flag, not another reference.
    nl.set_promisc(tap.ifindex, True)
    assert ip_show(tap.name)["promiscuity"] == 1

    nl.set_promisc(tap.ifindex, False)
    j = ip_show(tap.name)
    assert "PROMISC" not in j["flags"]
    assert j["promiscuity"] == 0
    assert nl.link_info(tap.ifindex)["promisc"] is False


def test_promisc_via_ip(tap):
    ip("link", "set", "dev", tap.name, "promisc", "on")
    info = nl.link_info(tap.ifindex)
    assert info["promisc"] is True and info["promiscuity"] == 1
    ip("link", "set", "dev", tap.name, "promisc", "off")
    info = nl.link_info(tap.ifindex)
    assert info["promisc"] is False and info["promiscuity"] == 0


def test_promisc_shared_with_ip(tap):
    # `ip ... promisc on` and set_promisc() toggle the same kernel flag.
    ip("link", "set", "dev", tap.name, "promisc", "on")
    nl.set_promisc(tap.ifindex, True)
    assert ip_show(tap.name)["promiscuity"] == 1
    nl.set_promisc(tap.ifindex, False)
    assert "PROMISC" not in ip_show(tap.name)["flags"]


def test_allmulti_via_module(tap):
    nl.set_allmulti(tap.ifindex, True)
    assert "ALLMULTI" in ip_show(tap.name)["flags"]
    assert nl.link_info(tap.ifindex)["allmulti"] is True
    nl.set_allmulti(tap.ifindex, False)
    assert "ALLMULTI" not in ip_show(tap.name)["flags"]
    assert nl.link_info(tap.ifindex)["allmulti"] is False


def test_allmulti_via_ip(tap):
    ip("link", "set", "dev", tap.name, "allmulticast", "on")
    assert nl.link_info(tap.ifindex)["allmulti"] is True
    ip("link", "set", "dev", tap.name, "allmulticast", "off")
    assert nl.link_info(tap.ifindex)["allmulti"] is False


def test_flag_setters_leave_other_flags_alone(tap):
    nl.set_admin_state(tap.ifindex, True)
    nl.set_allmulti(tap.ifindex, True)
    nl.set_promisc(tap.ifindex, True)
    assert {"UP", "ALLMULTI", "PROMISC"} <= set(ip_show(tap.name)["flags"])

    nl.set_promisc(tap.ifindex, False)
    flags = set(ip_show(tap.name)["flags"])
    assert {"UP", "ALLMULTI"} <= flags and "PROMISC" not in flags

    nl.set_admin_state(tap.ifindex, False)
    flags = set(ip_show(tap.name)["flags"])
    assert "ALLMULTI" in flags and "UP" not in flags

    nl.set_allmulti(tap.ifindex, False)
    nl.set_admin_state(tap.ifindex, True)
    flags = set(ip_show(tap.name)["flags"])
    assert "UP" in flags and "ALLMULTI" not in flags and "PROMISC" not in flags
    assert {"BROADCAST", "MULTICAST"} <= flags


# ---------------------------------------------------------------------------
# rename
# ---------------------------------------------------------------------------


def test_rename_via_ip_then_operate_by_ifindex(tap):
    new = make_unique_name("nr")
    ip("link", "set", "dev", tap.name, "name", new)
    old = tap.name
    tap.name = new

    assert nl.ifindex_of(old) is None
    assert nl.ifindex_of(new) == tap.ifindex
    assert nl.link_info(tap.ifindex)["name"] == new

    nl.set_mtu(tap.ifindex, 1280)
    nl.set_admin_state(tap.ifindex, True)
    nl.set_promisc(tap.ifindex, True)
    j = ip_show(new)
    assert j["mtu"] == 1280 and "UP" in j["flags"] and "PROMISC" in j["flags"]
    assert isinstance(nl.link_stats64(tap.ifindex)["rx_packets"], int)


def test_set_name_via_module(tap):
    new = make_unique_name("nr")
    nl.set_name(tap.ifindex, new)
    tap.name = new
    j = ip_show(new)
    assert j["ifindex"] == tap.ifindex
    assert nl.link_info(tap.ifindex)["name"] == new


def test_set_name_errors(tap):
    with pytest.raises(OSError) as ei:
        nl.set_name(tap.ifindex, "lo")
    assert ei.value.errno == errno.EEXIST
    for bad in ("", "x" * 16, "a/b"):
        with pytest.raises(OSError) as ei:
            nl.set_name(tap.ifindex, bad)
        assert ei.value.errno == errno.EINVAL, bad
    assert nl.link_info(tap.ifindex)["name"] == tap.name


# ---------------------------------------------------------------------------
# stats
# ---------------------------------------------------------------------------


def test_stats64_ints(tap):
    stats = nl.link_stats64(tap.ifindex)
    required = {
        "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors",
        "tx_errors", "rx_dropped", "tx_dropped", "multicast",
    }
    assert required <= stats.keys()
    for k, v in stats.items():
        assert type(v) is int and v >= 0, (k, v)


# ---------------------------------------------------------------------------
# deleted / invalid interfaces
# ---------------------------------------------------------------------------

_ALL_BY_INDEX = {
    "link_info": lambda i: nl.link_info(i),
    "link_stats64": lambda i: nl.link_stats64(i),
    "set_admin_state": lambda i: nl.set_admin_state(i, True),
    "set_mtu": lambda i: nl.set_mtu(i, 1400),
    "set_address": lambda i: nl.set_address(i, "02:00:00:00:00:01"),
    "set_promisc": lambda i: nl.set_promisc(i, True),
    "set_allmulti": lambda i: nl.set_allmulti(i, True),
    "set_name": lambda i: nl.set_name(i, "nlgone0"),
    "delete_link": lambda i: nl.delete_link(i),
}


@pytest.mark.parametrize("op", sorted(_ALL_BY_INDEX))
def test_deleted_interface_enodev(tap, op):
    ip("link", "del", "dev", tap.name)
    with pytest.raises(OSError) as ei:
        _ALL_BY_INDEX[op](tap.ifindex)
    assert ei.value.errno == errno.ENODEV
    assert ip_show_index(tap.ifindex) is None


@pytest.mark.parametrize("ifindex", [0, -1, 2**31])
def test_impossible_ifindex_enodev(ifindex):
    with pytest.raises(OSError) as ei:
        nl.link_info(ifindex)
    assert ei.value.errno == errno.ENODEV


def test_bad_ifindex_type():
    with pytest.raises(TypeError):
        nl.link_info("1")
    with pytest.raises(TypeError):
        nl.link_info(True)


def test_delete_link(tap):
    nl.delete_link(tap.ifindex)
    assert ip_show_index(tap.ifindex) is None
    assert nl.ifindex_of(tap.name) is None
    with pytest.raises(OSError) as ei:
        nl.delete_link(tap.ifindex)
    assert ei.value.errno == errno.ENODEV


def test_error_message_carries_kernel_text(tap):
    with pytest.raises(OSError) as ei:
        nl.set_mtu(tap.ifindex, 10)
    assert "set_mtu" in str(ei.value)
    assert "mtu" in ei.value.strerror


# ---------------------------------------------------------------------------
# resources / calling contexts
# ---------------------------------------------------------------------------


def test_no_fd_leak(tap):
    # Warm up (lazy imports inside pyroute2 may open files once).
    nl.link_info(tap.ifindex)
    before = fd_count()
    threads_before = threading.active_count()
    for _ in range(5):
        nl.ifindex_of(tap.name)
        nl.link_info(tap.ifindex)
        nl.link_stats64(tap.ifindex)
        nl.set_mtu(tap.ifindex, 1400)
        nl.set_address(tap.ifindex, "02:00:00:00:00:09")
        nl.set_admin_state(tap.ifindex, True)
        nl.set_promisc(tap.ifindex, True)
        nl.set_allmulti(tap.ifindex, True)
        nl.set_promisc(tap.ifindex, False)
        nl.set_admin_state(tap.ifindex, False)
        nl.link_info_all()
        with pytest.raises(OSError):
            nl.set_mtu(tap.ifindex, 1)  # error path must close too
        with pytest.raises(OSError):
            nl.link_info(2**31 - 1)  # ENODEV from the kernel
    assert fd_count() == before
    assert threading.active_count() == threads_before


def test_works_inside_running_event_loop(tap):
    # pyroute2's sync IPRoute cannot run inside a running asyncio loop;
    # the module must cope (it hops to a worker thread).
    async def main():
        nl.set_mtu(tap.ifindex, 1300)
        return nl.link_info(tap.ifindex)

    before = fd_count()
    assert asyncio.run(main())["mtu"] == 1300
    with pytest.raises(OSError) as ei:
        asyncio.run(_async_enodev())
    assert ei.value.errno == errno.ENODEV
    assert fd_count() == before


async def _async_enodev():
    nl.link_info(2**31 - 1)


def test_works_from_threads(tap):
    results, errors = [], []

    def worker():
        try:
            for _ in range(10):
                results.append(nl.link_info(tap.ifindex)["ifindex"])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [tap.ifindex] * 40


def test_call_latency_reported(tap):
    """Not a benchmark: a sanity bound (per-call socket open is ~1 ms)."""
    nl.link_info(tap.ifindex)
    n = 50
    t0 = time.perf_counter()
    for _ in range(n):
        nl.link_info(tap.ifindex)
    per_call = (time.perf_counter() - t0) / n
    print(f"link_info: {per_call * 1e3:.3f} ms/call")
    assert per_call < 0.05
