"""Shared fixtures and per-test resource checks for pyrtap's test suite.

Every test runs inside ``_resource_guard`` (autouse): it snapshots the process's
resources before the test and checks them after. The checks are a list of
``ResourceCheck`` objects (``RESOURCE_CHECKS``); the built-in ones cover open file
descriptors and mempools. Another subsystem adds its own with ``register_check``
from its test module or a conftest, e.g. for ethdev ports::

    from conftest import ResourceCheck, register_check
    register_check(ResourceCheck("ports", snapshot=..., verify=...))

A check's ``verify(before)`` returns a list of problem strings (empty when all is
well) and may clean up what the test leaked, so one leaking test does not make
every later test fail.
"""
from __future__ import annotations

import errno
import gc
import itertools
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

try:  # the netlink tests run even when the Cython core is not built
    import pyrtap as rte
    from pyrtap import mempool as _mempool
except ImportError:  # pragma: no cover - depends on the build
    rte = None
    _mempool = None

IFNAMSIZ = 16          # Linux: interface names are at most 15 characters
TUN_PATH = "/dev/net/tun"


# ---- resource checks -----------------------------------------------------------------

@dataclass
class ResourceCheck:
    """One kind of resource to compare before and after each test."""
    name: str
    snapshot: Callable[[], Any]
    verify: Callable[[Any], list[str]]


RESOURCE_CHECKS: list[ResourceCheck] = []


def register_check(check: ResourceCheck) -> None:
    """Add a check run around every test (replaces one of the same name)."""
    RESOURCE_CHECKS[:] = [c for c in RESOURCE_CHECKS if c.name != check.name]
    RESOURCE_CHECKS.append(check)


def _fd_table() -> dict[int, str]:
    """This process's open fds and what they refer to."""
    out = {}
    for entry in os.listdir("/proc/self/fd"):
        try:
            out[int(entry)] = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:     # the directory fd of listdir itself, already closed
            pass
    return out


def _fd_snapshot() -> dict[int, str]:
    return _fd_table()


def _fd_verify(before: dict[int, str]) -> list[str]:
    # Objects waiting for the collector may still hold fds: retry briefly.
    for delay in (0.0, 0.01, 0.05, 0.1, 0.25):
        if delay:
            time.sleep(delay)
        gc.collect()
        now = _fd_table()
        if len(now) == len(before):
            return []
    leaked = {fd: what for fd, what in now.items() if before.get(fd) != what}
    gone = {fd: what for fd, what in before.items() if now.get(fd) != what}
    msg = f"open fds: {len(before)} before the test, {len(now)} after"
    if leaked:
        msg += "; new: " + ", ".join(f"{fd} -> {what}" for fd, what in sorted(leaked.items()))
    if gone:
        msg += "; closed: " + ", ".join(f"{fd} -> {what}" for fd, what in sorted(gone.items()))
    return [msg]


def _pool_snapshot() -> dict[int, tuple[Any, int]]:
    return {id(mp): (mp, mp.avail_count()) for mp in _mempool.rte_mempool_list()}


def _pool_verify(before: dict[int, tuple[Any, int]]) -> list[str]:
    problems = []
    now = {id(mp): mp for mp in _mempool.rte_mempool_list()}
    for key, (mp, avail) in before.items():
        if key not in now:
            problems.append(f"pool {mp.name!r} existed before the test and was freed by it")
        elif mp.avail_count() != avail:
            problems.append(f"pool {mp.name!r}: avail_count {avail} before the test, "
                            f"{mp.avail_count()} after (mbufs leaked or freed twice)")
    for key, mp in now.items():
        if key not in before:
            problems.append(f"pool {mp.name!r} was created by the test and not freed "
                            f"(in use: {mp.in_use_count()}); freed it now")
            _mempool.rte_mempool_free(mp)
    return problems


register_check(ResourceCheck("fds", _fd_snapshot, _fd_verify))
if _mempool is not None:
    register_check(ResourceCheck("mempools", _pool_snapshot, _pool_verify))


@pytest.fixture(autouse=True)
def _resource_guard():
    """Fail a test that leaks fds or pools, or changes pools it did not create."""
    # Fds are counted last before the test and first after it, so the other
    # checks' own clean-up (freeing a leaked pool closes its memfd) is seen.
    checks = sorted(RESOURCE_CHECKS, key=lambda c: c.name == "fds")
    before = [(c, c.snapshot()) for c in checks]
    yield
    problems = []
    for check, snap in before:
        if check.name == "fds":
            continue
        problems += check.verify(snap)
    for check, snap in before:
        if check.name == "fds":
            problems += check.verify(snap)
    if problems:
        pytest.fail("resource check after the test:\n  " + "\n  ".join(problems), pytrace=False)


# ---- TAP prerequisites -----------------------------------------------------------------

_TUN_PROBLEM: str | None = None


def _probe_tun() -> str | None:
    """Why TAP interfaces cannot be created here, or None when /dev/net/tun works."""
    if not os.path.exists(TUN_PATH):
        return (f"{TUN_PATH} is missing: TAP tests need the tun module "
                "(modprobe tun) and, in a container, the device passed in")
    try:
        fd = os.open(TUN_PATH, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        denied = e.errno in (errno.EACCES, errno.EPERM)
        hint = " (run the tests as root or with CAP_NET_ADMIN)" if denied else ""
        return f"{TUN_PATH} cannot be opened: {e.strerror}{hint}"
    os.close(fd)
    return None


def pytest_sessionstart(session):
    global _TUN_PROBLEM
    _TUN_PROBLEM = _probe_tun()


def pytest_report_header(config):
    return f"pyrtap: {TUN_PATH}: {_TUN_PROBLEM or 'usable'}"


@pytest.fixture
def tap_required():
    """Fail (not skip) the test when TAP interfaces cannot be created."""
    if _TUN_PROBLEM is not None:
        pytest.fail(_TUN_PROBLEM, pytrace=False)


# ---- names ------------------------------------------------------------------------------

_used_names: set[str] = set()


def make_unique_name(prefix: str = "pt") -> str:
    """``prefix`` + random hex, at most 15 characters, never returned twice in a run."""
    room = IFNAMSIZ - 1 - len(prefix)
    if room < 4:
        raise ValueError(f"prefix {prefix!r} is too long: at most {IFNAMSIZ - 5} characters")
    while True:
        name = prefix + secrets.token_hex((room + 1) // 2)[:room]
        if name not in _used_names:
            _used_names.add(name)
            return name


@pytest.fixture
def unique_name():
    """A function ``unique_name(prefix="pt")`` giving unique interface (or pool) names."""
    return make_unique_name


# ---- pools ------------------------------------------------------------------------------

POOL_SIZE = 256


def _free_checked(mp) -> None:
    try:
        assert mp.in_use_count() == 0, (
            f"pool {mp.name!r}: {mp.in_use_count()} mbuf(s) still allocated at the end of the test")
    finally:
        rte.rte_mempool_free(mp)


def _create_pool(n=POOL_SIZE, data_room=None, priv_size=0, cache_size=0):
    if data_room is None:
        data_room = rte.RTE_MBUF_DEFAULT_BUF_SIZE
    mp = rte.rte_pktmbuf_pool_create(make_unique_name("mp"), n, cache_size, priv_size,
                                     data_room, rte.SOCKET_ID_ANY)
    assert mp is not None, f"pool creation failed: errno {rte.rte_errno()}"
    return mp


@pytest.fixture
def pool():
    """A 256-mbuf pool of default buffers; every mbuf must be back at the end of the test."""
    mp = _create_pool()
    yield mp
    _free_checked(mp)


@pytest.fixture
def make_pool():
    """Factory ``make_pool(n=..., data_room=..., priv_size=..., cache_size=...)`` for extra pools.

    Each pool must have every mbuf back at the end of the test; all are freed.
    """
    made = []

    def make(n=POOL_SIZE, data_room=None, priv_size=0, cache_size=0):
        mp = _create_pool(n, data_room, priv_size, cache_size)
        made.append(mp)
        return mp

    yield make
    errors = []
    for mp in made:
        if mp.freed:        # the test freed it itself
            continue
        try:
            _free_checked(mp)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "; ".join(errors)


# ---- ethdev ports (added for test_ethdev.py / test_rxtx.py) -------------------------------
#
# Two more resource checks: ports left attached (removed, so their mbufs go back before
# the pool check runs) and kernel interfaces, named by ``unique_name``, left behind.

def _ports_snapshot() -> set[int]:
    return set(rte.RTE_ETH_FOREACH_DEV())


def _ports_verify(before: set[int]) -> list[str]:
    leaked = set(rte.RTE_ETH_FOREACH_DEV()) - before
    names = [rte.rte_eth_dev_get_name_by_port(p) for p in sorted(leaked)]
    for name in names:
        rte.rte_dev_remove(name)
    return [f"ports left attached (removed now): {', '.join(names)}"] if names else []


def _our_links() -> set[str]:
    return {name for _, name in socket.if_nameindex()} & _used_names


def _links_verify(before: set[str]) -> list[str]:
    leaked = _our_links() - before
    for name in leaked:
        subprocess.run(["ip", "link", "del", "dev", name], capture_output=True)
    return [f"kernel interfaces left behind (deleted now): {', '.join(sorted(leaked))}"] if leaked else []


if rte is not None:
    # First, so a leaked port returns its mbufs before the mempool check looks.
    RESOURCE_CHECKS.insert(0, ResourceCheck("ports", _ports_snapshot, _ports_verify))
register_check(ResourceCheck("links", _our_links, _links_verify))

_vdev_seq = itertools.count(100)


@pytest.fixture(params=["net_rtap", "net_tap"])
def driver(request):
    """Each driver in turn."""
    return request.param


@pytest.fixture
def make_port(tap_required, unique_name, pool, make_pool):
    """Factory ``make_port(driver, devargs="", iface=None)`` -> ``helpers.TapPort``.

    ``make_port(*variant)`` works: ``variant`` is ``(driver, devargs)``.

    Probes ``{driver}{N},iface=NAME[,devargs]`` on a unique interface name, disables
    IPv6 on it, and removes every port it made at the end. It depends on ``pool`` and
    ``make_pool`` so that ports are removed (their mbufs returned) before pools are freed.
    """
    from helpers import TapPort, disable_ipv6
    made = []

    def make(driver, devargs="", iface=None):
        iface = iface or unique_name("pe")
        devname = f"{driver}{next(_vdev_seq)}"
        spec = f"{devname},iface={iface}" + (f",{devargs}" if devargs else "")
        rc = rte.rte_dev_probe(spec)
        assert rc == 0, f"rte_dev_probe({spec!r}) = {rc}"
        made.append(devname)
        disable_ipv6(iface)
        port = rte.rte_eth_dev_get_port_by_name(devname)
        assert port >= 0
        return TapPort(driver, devname, iface, port)

    yield make
    for devname in made:
        if rte.rte_eth_dev_get_port_by_name(devname) >= 0:
            rte.rte_dev_remove(devname)


@pytest.fixture
def tap_port(driver, make_port):
    """A probed (not configured) port of ``driver`` on a fresh interface."""
    return make_port(driver)


# ---- Rx data-path variants (added for test_control.py / test_stats.py) --------------------------
#
# Counting and tear-down live in each data path's own code: net_tap's read() loop and
# net_rtap's Rx modes (devarg rx=auto|batch|prepost|multishot; "" is the default, auto).

RX_VARIANTS = [("net_rtap", ""), ("net_rtap", "rx=batch"), ("net_rtap", "rx=prepost"),
               ("net_rtap", "rx=multishot"), ("net_tap", "")]


@pytest.fixture(params=RX_VARIANTS, ids=[d + (":" + a if a else "") for d, a in RX_VARIANTS])
def variant(request):
    """``(driver, extra devargs)`` for each Rx data path in turn:
    ``make_port(variant[0], devargs=variant[1])``."""
    return request.param
