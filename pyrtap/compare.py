"""Compare net_rtap (io_uring), net_tap (read/write) and the kernel's raw limit.

``python -m pyrtap.compare`` (``make demo``) creates its own TAP interfaces, runs two
packet-rate workloads on every implementation and frame size and a TCP workload
through forwarders, prints tables and writes the raw results as JSON. Everything it
creates (interfaces, ``tc`` rules, network namespaces, processes) is removed at the
end, also on Ctrl-C, SIGTERM or SIGHUP. Run it as root.

Workloads (one thread, burst 32 by default):

* ``tx``: Tx only. The port is up and nothing reads the frames: each loop iteration
  is ``rte_pktmbuf_alloc_bulk`` into an ``MbufBurst``, set the lengths of the
  (pre-filled) buffers, ``rte_eth_tx_burst(port, 0, burst, 32)``, and
  ``rte_pktmbuf_free_bulk`` of what the driver did not take. Counted: packets the
  driver accepted per second.
* ``loopback``: Tx on port A; the kernel redirects A's ingress to B's egress
  (``tc ... action mirred egress redirect dev B``); ``rte_eth_rx_burst`` on B frees
  what it gets. One loop: tx_burst on A, then rx_burst on B. Counted: packets received
  on B per second.
* ``tcp``: real TCP between two network namespaces whose only link is a two-port
  forwarder process (``examples/l2fwd.py`` on net_tap or net_rtap, DPDK's C testpmd,
  or a raw ``os.read``/``os.write`` forwarder): ping loss and RTT, iperf3 Gbit/s. Its
  rows are chosen with ``--tcp-rows`` and timed with ``--tcp-time``; see
  ``pyrtap/tcpfwd.py``.

Implementations (tx, loopback):

* ``raw``: ``pyrtap._rawbench``, a C loop of ``write()`` (Tx only) or ``write()`` on A
  and ``read()`` until EAGAIN on B (loopback) on TAP queue fds opened the way the
  drivers open them: the kernel's limit for this machine.
* ``raw-uring``: ``pyrtap._rawbench`` again, 32 io_uring WRITEs per
  ``io_uring_submit_and_wait`` in C (Tx only): io_uring's own cost, without the driver.
* ``os.write``: a Python loop of ``os.write(fd, frame)`` (Tx only; not in the default set).
* ``net_tap``: the read/write driver through the public rte_* API.
* ``net_rtap/VARIANT``: the io_uring driver with extra devargs, e.g. ``net_rtap/defer``
  is ``uring=defer`` (``--presets``), and ``--rtap 'uring=defer,rx=multishot'`` measures
  any other combination the driver accepts.

``benchmarks/bench_ethdev.py`` is the same code with longer runs, repeats and every
preset; see docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import errno
import gc
import json
import os
import platform
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import pyrtap as rte
from pyrtap import _core, _rawbench, netlink, tcpfwd
from pyrtap.drivers.tapdev import VNET_HDR_LEN, TapDevice
from pyrtap.mempool import MBUF_DTYPE

WORKLOADS = ("tx", "loopback", "tcp")
PPS_WORKLOADS = ("tx", "loopback")      # packet-rate workloads, run in this process
IMPLS = ("raw", "raw-uring", "os.write", "net_tap", "net_rtap")
DEFAULT_IMPLS = ("raw", "raw-uring", "net_tap", "net_rtap")
TX_ONLY_IMPLS = ("raw-uring", "os.write")
# net_rtap with its default devargs (rx=auto), and its other Rx modes: per-burst batches
# of non-waiting reads, one read posted per descriptor (DPDK's C driver's design), and
# one multishot read.
DEFAULT_RTAP = ("uring=default", "rx=batch", "rx=prepost", "rx=multishot")
ALL_PRESETS = tuple(_core.URING_PRESETS)

TX_POOL_SIZE = 8192        # shared by every Tx port of one frame size
RX_POOL_SIZE = 4096        # per port pair, at least: two full Rx rings plus bursts in hand
DEFAULT_RING = 512         # the drivers' default ring size (nb_desc 0)
MIN_FRAME = 14 + 20 + 8    # Ethernet + IPv4 + UDP headers
SQPOLL_COOLDOWN = 1.2      # > the kernel's default sq_thread_idle of 1 s
IFACE_PREFIX = "pc"        # every interface we create is pc<token><role>


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Raised at the next safe point after SIGINT/SIGTERM/SIGHUP, so clean-ups run."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# Signals received (by main()'s handler). The handler only records the first one; the
# measuring loops call check_interrupt() at least every 0.2 s and raise there. Raising
# from the handler itself would interrupt whatever runs at that instant, and some code
# swallows that: a KeyboardInterrupt that lands in a pyrtap.netlink call (pyroute2's
# asyncio loop) is lost about 2% of the time. A second signal raises at once.
_pending: list[int] = []


def _handler(signum, frame):
    _pending.append(signum)
    if len(_pending) > 1:
        raise Interrupted(_pending[0])


def check_interrupt() -> None:
    """Raise Interrupted if a signal came in."""
    if _pending:
        raise Interrupted(_pending[0])


class BenchError(RuntimeError):
    """A set-up step failed (message says which)."""


# ---- frames ----------------------------------------------------------------------------

def _csum(data: bytes) -> int:
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def make_frame(size: int) -> bytes:
    """A ``size``-byte Ethernet/IPv4/UDP frame (no FCS) to a MAC no interface has.

    The destination is a locally administered unicast address, so a kernel that gets the
    frame on a TAP's ingress drops it early (PACKET_OTHERHOST) instead of routing it.
    """
    if not MIN_FRAME <= size <= 0xFFFF:
        raise ValueError("frame size %d outside %d..65535" % (size, MIN_FRAME))
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, size - 14, 0, 0x4000, 64, 17, 0,
                               socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.0.2")))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    udp = struct.pack("!HHHH", 9, 9, size - 34, 0)
    payload = bytes((i & 0xFF) for i in range(size - MIN_FRAME))
    return eth + bytes(ip) + udp + payload


# ---- the environment: interfaces, tc rules, ports, pools --------------------------------

def _sysfs_stats(name: str, *keys: str) -> dict:
    out = {}
    for k in keys:
        try:
            with open("/sys/class/net/%s/statistics/%s" % (name, k)) as f:
                out[k] = int(f.read())
        except OSError:
            out[k] = 0
    return out


def _cpu_busy() -> float:
    """Seconds of CPU time the whole machine spent not idle, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _disable_ipv6(name: str) -> None:
    """No IPv6 autoconf chatter (ND, MLD) on our interfaces; best effort."""
    try:
        with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name, "w") as f:
            f.write("1")
    except OSError:
        pass


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode:
        raise BenchError("%s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))
    return r


def impl_key(kind: str, variant: str | None) -> str:
    """Display name: ``net_rtap/defer`` for variant ``uring=defer``."""
    if not variant:
        return kind
    return "%s/%s" % (kind, variant.replace("uring=", ""))


@dataclass
class Endpoint:
    """One interface of an implementation: a port (drivers) or a raw TAP queue fd."""
    iface: str
    port: int = -1                 # ethdev port id (drivers)
    vdev: str = ""                 # vdev name (drivers)
    tap: TapDevice | None = None   # raw
    fd: int = -1                   # raw queue fd


@dataclass
class Impl:
    """One implementation under test, with its two interfaces (A sends, B receives)."""
    key: str                       # "raw", "os.write", "net_tap", "net_rtap/defer"
    kind: str                      # "raw" | "os.write" | "net_tap" | "net_rtap"
    variant: str | None            # extra devargs of net_rtap, e.g. "uring=defer"
    a: Endpoint
    b: Endpoint
    rx_pool: object = None


class Session:
    """Owns everything the benchmark creates; ``close()`` removes all of it.

    Interfaces are non-persistent TAPs, so even after a SIGKILL nothing stays behind: the
    kernel deletes them (and their tc rules) once the process's fds and io_uring rings
    are gone (measured: 0.1 s, once 9 s while the dying process tore its rings down).
    """

    def __init__(self, nb_desc: int = 0):
        self.token = self._token()
        self.nb_desc = nb_desc
        self.eal_owner = False
        self.vdevs: list[str] = []
        self.pools: list = []
        self.raw_taps: list[TapDevice] = []
        self.tc_devs: list[str] = []
        self.impls: dict[str, Impl] = {}
        self.tx_pools: dict[int, object] = {}
        self._n = 0

    @staticmethod
    def _token() -> str:
        tok = tcpfwd.unused_token(IFACE_PREFIX)
        if tok is None:
            raise BenchError("cannot find an unused interface name prefix")
        return tok

    def iface(self, role: str) -> str:
        name = "%s%s%s" % (IFACE_PREFIX, self.token, role)
        assert len(name) < 16, name
        return name

    def open(self) -> None:
        rc = rte.rte_eal_init(["pyrtap.compare", "--no-pci"])
        if rc == -errno.EALREADY:
            self.eal_owner = False     # someone else's EAL: we only remove what we add
        elif rc < 0:
            raise BenchError("rte_eal_init failed: %s" % os.strerror(-rc))
        else:
            self.eal_owner = True

    # -- pools ----------------------------------------------------------------------

    def _pool(self, name: str, n: int):
        mp = rte.rte_pktmbuf_pool_create("%s%s" % (name, self.token), n, 0, 0,
                                         rte.RTE_MBUF_DEFAULT_BUF_SIZE, 0)
        if mp is None:
            raise BenchError("rte_pktmbuf_pool_create(%s) failed: %s" % (name, os.strerror(rte.rte_errno())))
        self.pools.append(mp)
        return mp

    def tx_pool(self, size: int):
        """A pool whose every buffer already holds the ``size``-byte frame at data_off."""
        mp = self.tx_pools.get(size)
        if mp is not None:
            return mp
        mp = self._pool("tx%d" % size, TX_POOL_SIZE)
        frame = np.frombuffer(make_frame(size), dtype=np.uint8)
        b = rte.MbufBurst(TX_POOL_SIZE)
        if rte.rte_pktmbuf_alloc_bulk(mp, b, TX_POOL_SIZE) != 0:
            raise BenchError("cannot allocate the whole Tx pool to pre-fill it")
        for i in range(TX_POOL_SIZE):
            rte.rte_pktmbuf_append(b[i], size)[:] = frame
        rte.rte_pktmbuf_free_bulk(b, TX_POOL_SIZE)
        self.tx_pools[size] = mp
        return mp

    # -- implementations --------------------------------------------------------------

    def _port(self, kind: str, variant: str | None, iface: str, rx_pool) -> Endpoint:
        vdev = "%s%d" % (kind, self._n)
        self._n += 1
        devargs = "%s,iface=%s" % (vdev, iface)
        if variant:
            devargs += "," + variant
        rc = rte.rte_dev_probe(devargs)
        if rc < 0:
            raise BenchError("rte_dev_probe(%r) failed: %s" % (devargs, os.strerror(-rc)))
        self.vdevs.append(vdev)
        port = rte.rte_eth_dev_get_port_by_name(vdev)
        _disable_ipv6(iface)

        def check(what, rc):
            if rc < 0:
                raise BenchError("%s: rte_eth_%s failed: %s" % (vdev, what, os.strerror(-rc)))

        check("dev_configure", rte.rte_eth_dev_configure(port, 1, 1, rte.rte_eth_conf()))
        check("rx_queue_setup", rte.rte_eth_rx_queue_setup(port, 0, self.nb_desc, 0, None, rx_pool))
        check("tx_queue_setup", rte.rte_eth_tx_queue_setup(port, 0, self.nb_desc, 0, None))
        check("dev_start", rte.rte_eth_dev_start(port))      # also sets the link up
        return Endpoint(iface=iface, port=port, vdev=vdev)

    def _raw(self, iface: str) -> Endpoint:
        tap = TapDevice(iface, "rawtap%d", persist=False)
        self.raw_taps.append(tap)
        fd = tap.open_queues(1)[0]
        _disable_ipv6(iface)
        netlink.set_admin_state(tap.ifindex, True)
        return Endpoint(iface=iface, tap=tap, fd=fd)

    def add(self, kind: str, variant: str | None = None) -> Impl:
        key = impl_key(kind, variant)
        if key in self.impls:
            return self.impls[key]
        if kind in TX_ONLY_IMPLS:          # share the raw TAPs
            raw = self.add("raw")
            impl = Impl(key, kind, None, raw.a, raw.b)
        elif kind == "raw":
            impl = Impl(key, kind, None, self._raw(self.iface("wa")), self._raw(self.iface("wb")))
        else:
            tag = "t" if kind == "net_tap" else "r%d" % len(self.impls)
            # A's and B's Rx rings are both filled from this pool: it must hold both
            # rings and still have buffers to replace the ones handed out.
            ring = self.nb_desc or DEFAULT_RING
            rx_pool = self._pool("rx%s" % tag, max(RX_POOL_SIZE, 2 * ring + 2048))
            impl = Impl(key, kind, variant,
                        self._port(kind, variant, self.iface(tag + "a"), rx_pool),
                        self._port(kind, variant, self.iface(tag + "b"), rx_pool),
                        rx_pool)
        self.impls[key] = impl
        return impl

    # -- tc ---------------------------------------------------------------------------

    def redirect(self, a: str, b: str) -> None:
        """Send everything entering ``a`` out of ``b`` (kernel-side loopback)."""
        self.tc_devs.append(a)
        _run(["tc", "qdisc", "add", "dev", a, "ingress"])
        _run(["tc", "filter", "add", "dev", a, "parent", "ffff:", "protocol", "all", "u32",
              "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", b])

    def unredirect(self, a: str) -> None:
        if a in self.tc_devs:
            _run(["tc", "qdisc", "del", "dev", a, "ingress"], check=False)
            self.tc_devs.remove(a)

    # -- teardown ---------------------------------------------------------------------

    def leftovers(self) -> list[str]:
        prefix = IFACE_PREFIX + self.token
        return sorted(n for n in os.listdir("/sys/class/net") if n.startswith(prefix))

    def close(self) -> list[str]:
        """Remove every tc rule, port, pool and interface we made. Returns problems seen."""
        problems = []
        for dev in list(self.tc_devs):
            try:
                self.unredirect(dev)
            except Exception as e:  # noqa: BLE001 - keep cleaning
                problems.append("tc on %s: %s" % (dev, e))
        for vdev in self.vdevs:
            try:
                rc = rte.rte_dev_remove(vdev)
                if rc < 0 and rc != -errno.ENODEV:
                    problems.append("rte_dev_remove(%s): %s" % (vdev, os.strerror(-rc)))
            except Exception as e:  # noqa: BLE001
                problems.append("rte_dev_remove(%s): %s" % (vdev, e))
        self.vdevs = []
        for tap in self.raw_taps:
            try:
                tap.close()
            except OSError as e:
                problems.append("close raw TAP: %s" % e)
        self.raw_taps = []
        for mp in self.pools:
            rte.rte_mempool_free(mp)
        self.pools, self.tx_pools, self.impls = [], {}, {}
        if self.eal_owner:
            rte.rte_eal_cleanup()
            self.eal_owner = False
        for name in self.leftovers():       # should not happen: non-persistent TAPs
            problems.append("interface %s was still there; deleting it" % name)
            _run(["ip", "link", "del", name], check=False)
        return problems


# ---- the measured loops ------------------------------------------------------------------

_DL_OFF = MBUF_DTYPE.fields["data_len"][1]
_PL_OFF = MBUF_DTYPE.fields["pkt_len"][1]


def _length_setter(burst, size: int):
    return _rawbench.LengthSetter(burst.handles, _DL_OFF, _PL_OFF, size)


def check_tx_pool(mp, size: int) -> None:
    """Make sure a pre-filled burst with lengths set is exactly our frame (public API view)."""
    b = rte.MbufBurst(4)
    if rte.rte_pktmbuf_alloc_bulk(mp, b, 4) != 0:
        raise BenchError("Tx pool empty")
    try:
        _length_setter(b, size)(4)
        frame = make_frame(size)
        for i in range(4):
            m = b[i]
            if m.data_len != size or m.pkt_len != size or bytes(m) != frame:
                raise BenchError("pre-filled mbuf %d is not the frame (data_len %d pkt_len %d)"
                                 % (i, m.data_len, m.pkt_len))
    finally:
        rte.rte_pktmbuf_free_bulk(b, 4)


def _tx_burst_loop(port: int, pool, size: int, burst: int, seconds: float, tick) -> dict:
    """Tx only through the public API; returns counts."""
    alloc = rte.rte_pktmbuf_alloc_bulk
    tx = rte.rte_eth_tx_burst
    free = rte.rte_pktmbuf_free_bulk
    clock = time.perf_counter
    b = rte.MbufBurst(burst)
    setlen = _length_setter(b, size)
    sent = nomem = 0
    t0 = clock()
    end = t0 + seconds
    next_tick = t0 + 0.2
    while True:
        if alloc(pool, b, burst) == 0:
            setlen(burst)
            n = tx(port, 0, b, burst)
            if n < burst:
                free(b[n:], burst - n)
            sent += n
        else:
            nomem += 1
        now = clock()
        if now >= next_tick:
            if now >= end:
                break
            tick(now - t0)
            next_tick = min(now + 0.2, end)
    return {"packets": sent, "sent": sent, "nomem": nomem, "elapsed": now - t0}


def _loopback_loop(pa: int, pb: int, pool, size: int, burst: int, seconds: float, tick) -> dict:
    """Tx on A, Rx on B, one loop, public API; returns counts."""
    alloc = rte.rte_pktmbuf_alloc_bulk
    tx = rte.rte_eth_tx_burst
    rx = rte.rte_eth_rx_burst
    free = rte.rte_pktmbuf_free_bulk
    clock = time.perf_counter
    b = rte.MbufBurst(burst)
    rb = rte.MbufBurst(burst)
    setlen = _length_setter(b, size)
    sent = received = nomem = 0
    t0 = clock()
    end = t0 + seconds
    next_tick = t0 + 0.2
    while True:
        if alloc(pool, b, burst) == 0:
            setlen(burst)
            n = tx(pa, 0, b, burst)
            if n < burst:
                free(b[n:], burst - n)
            sent += n
        else:
            nomem += 1
        n = rx(pb, 0, rb, burst)
        if n:
            free(rb, n)
            received += n
        now = clock()
        if now >= next_tick:
            if now >= end:
                break
            tick(now - t0)
            next_tick = min(now + 0.2, end)
    return {"packets": received, "sent": sent, "received": received, "nomem": nomem,
            "elapsed": now - t0}


def _drain_port(port: int, seconds: float = 0.05) -> int:
    """Receive and free whatever is still on its way to ``port``; returns the count."""
    rb = rte.MbufBurst(64)
    got = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        n = rte.rte_eth_rx_burst(port, 0, rb, 64)
        if n:
            rte.rte_pktmbuf_free_bulk(rb, n)
            got += n
        else:
            time.sleep(0.002)
    return got


def _verify_loopback(pa: int, pb: int, pool, size: int) -> tuple[int, int]:
    """Send 8 frames A -> B after a run; returns (frames arrived, frames exactly ours)."""
    _drain_port(pb)
    b, rb = rte.MbufBurst(8), rte.MbufBurst(8)
    if rte.rte_pktmbuf_alloc_bulk(pool, b, 8) != 0:
        return 0, 0
    _length_setter(b, size)(8)
    n = rte.rte_eth_tx_burst(pa, 0, b, 8)
    if n < 8:
        rte.rte_pktmbuf_free_bulk(b[n:], 8 - n)
    frame, good, seen = make_frame(size), 0, 0
    end = time.perf_counter() + 0.5
    while seen < n and time.perf_counter() < end:
        k = rte.rte_eth_rx_burst(pb, 0, rb, 8)
        for i in range(k):
            good += bytes(rb[i]) == frame
        if k:
            rte.rte_pktmbuf_free_bulk(rb, k)
        else:
            time.sleep(0.001)
        seen += k
    return seen, good


def _raw_slices(fn, seconds: float, tick) -> tuple[list, float]:
    """Run a _rawbench call in 0.1 s slices (signals and progress between slices)."""
    totals = None
    clock = time.perf_counter
    t0 = clock()
    while True:
        left = t0 + seconds - clock()
        if left <= 0:
            break
        r = fn(min(0.1, left))
        totals = list(r) if totals is None else [x + y for x, y in zip(totals, r, strict=True)]
        tick(clock() - t0)
    return totals, clock() - t0


def _os_write_loop(fd: int, buf: bytes, burst: int, seconds: float, tick) -> dict:
    w = os.write
    clock = time.perf_counter
    sent = errors = 0
    rng = range(burst)
    t0 = clock()
    end = t0 + seconds
    next_tick = t0 + 0.2
    while True:
        for _ in rng:
            try:
                w(fd, buf)
                sent += 1
            except BlockingIOError:
                errors += 1
        now = clock()
        if now >= next_tick:
            if now >= end:
                break
            tick(now - t0)
            next_tick = min(now + 0.2, end)
    return {"packets": sent, "sent": sent, "errors": errors, "elapsed": now - t0}


_STAT_KEYS = ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf")


def _port_stats(port: int, base: dict | None = None) -> dict:
    """rte_eth_stats_get counters (minus ``base``)."""
    st = rte.rte_eth_stats()
    rte.rte_eth_stats_get(port, st)
    out = {k: getattr(st, k) for k in _STAT_KEYS}
    if base:
        out = {k: v - base[k] for k, v in out.items()}
    return out


def run_case(session: Session, impl: Impl, workload: str, size: int, burst: int,
             seconds: float, tick=lambda t: None, raw_burst: int | None = None) -> dict:
    """One timed run; returns a result record (packets, rate and diagnostics)."""
    a, b = impl.a, impl.b
    wire = bytes(VNET_HDR_LEN) + make_frame(size)
    rb = raw_burst or burst
    # Kernel counters. For a TAP, rx = what the kernel got from us, tx = what it gave us.
    ka0 = _sysfs_stats(a.iface, "rx_packets", "rx_dropped")
    kb0 = _sysfs_stats(b.iface, "tx_packets", "tx_dropped")
    if impl.kind in ("net_tap", "net_rtap"):
        sa0, sb0 = _port_stats(a.port), _port_stats(b.port)
    busy0 = _cpu_busy()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    frame_ok = None
    extra = {}
    if impl.kind == "raw":
        if workload == "tx":
            (w, eagain, err, _), el = _raw_slices(lambda s: _rawbench.tx_write(a.fd, wire, s), seconds, tick)
            res = {"packets": w, "sent": w, "errors": err + eagain, "elapsed": el}
        else:
            _rawbench.drain(b.fd)
            (w, r, bad, err, _), el = _raw_slices(
                lambda s: _rawbench.loopback(a.fd, b.fd, wire, s, rb), seconds, tick)
            res = {"packets": r, "sent": w, "received": r, "errors": err, "elapsed": el}
            frame_ok = bad == 0
            extra["bad_frames"] = bad
        extra["raw_burst"] = rb
    elif impl.kind in TX_ONLY_IMPLS:
        if workload != "tx":
            raise ValueError("%s is a Tx-only baseline" % impl.kind)
        if impl.kind == "os.write":
            res = _os_write_loop(a.fd, wire, burst, seconds, tick)
        else:
            (w, eagain, err, _), el = _raw_slices(
                lambda s: _rawbench.tx_uring(a.fd, wire, s, burst), seconds, tick)
            res = {"packets": w, "sent": w, "errors": err + eagain, "elapsed": el}
    else:
        pool = session.tx_pool(size)
        if workload == "tx":
            res = _tx_burst_loop(a.port, pool, size, burst, seconds, tick)
        else:
            _drain_port(b.port)
            res = _loopback_loop(a.port, b.port, pool, size, burst, seconds, tick)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    busy1 = _cpu_busy()
    ka1 = _sysfs_stats(a.iface, "rx_packets", "rx_dropped")
    kb1 = _sysfs_stats(b.iface, "tx_packets", "tx_dropped")
    if impl.kind in ("net_tap", "net_rtap"):
        extra["port_stats"] = {"a": _port_stats(a.port, sa0), "b": _port_stats(b.port, sb0)}
        if workload == "loopback":
            arrived, good = _verify_loopback(a.port, b.port, session.tx_pool(size), size)
            frame_ok = arrived == good == 8
            extra["verify"] = "%d/8 frames arrived, %d exact" % (arrived, good)
    el = res["elapsed"]
    rec = {
        "workload": workload, "impl": impl.key, "kind": impl.kind, "devargs": impl.variant,
        "size": size, "burst": burst, "seconds": round(el, 4),
        **res,
        "pps": res["packets"] / el if el > 0 else 0.0,
        "sent_pps": res.get("sent", 0) / el if el > 0 else 0.0,
        "kernel": {
            "a_rx_packets": ka1["rx_packets"] - ka0["rx_packets"],   # frames the kernel took from A
            "a_rx_dropped": ka1["rx_dropped"] - ka0["rx_dropped"],
            "b_tx_packets": kb1["tx_packets"] - kb0["tx_packets"],   # frames handed to B's reader
            "b_tx_dropped": kb1["tx_dropped"] - kb0["tx_dropped"],   # B's queue was full
        },
        "cpu_user": round(ru1.ru_utime - ru0.ru_utime, 4),
        "cpu_sys": round(ru1.ru_stime - ru0.ru_stime, 4),
        # CPU the rest of the machine used meanwhile (other processes, softirqs elsewhere):
        # the noise indicator. In CPUs, e.g. 1.0 = one of the cores was busy with others.
        "others_cpus": None,
        "frame_ok": frame_ok,
        **extra,
    }
    ours = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    rec["others_cpus"] = round(max(0.0, (busy1 - busy0) - ours) / el, 2) if el > 0 else None
    rec["gbps"] = rec["pps"] * size * 8 / 1e9
    return rec


# ---- the plan, the run, the report -------------------------------------------------------

@dataclass
class Plan:
    workloads: tuple = WORKLOADS
    sizes: tuple = (64, 1500)
    impls: tuple = DEFAULT_IMPLS
    rtap: tuple = DEFAULT_RTAP       # net_rtap devargs variants
    burst: int = 32
    raw_burst: int | None = None
    seconds: float = 2.0
    warmup: float = 0.2
    repeat: int = 1
    nb_desc: int = 0
    tcp_rows: tuple = tcpfwd.DEFAULT_ROWS
    tcp_time: float = 3.0
    cases: list = field(default_factory=list)

    def impl_keys(self) -> list[tuple[str, str | None]]:
        out = []
        for kind in self.impls:
            if kind == "net_rtap":
                out += [("net_rtap", v) for v in self.rtap]
            else:
                out.append((kind, None))
        return out

    def build(self) -> list[tuple[str, int, str, str | None]]:
        """(workload, size, kind, variant), implementations interleaved per size so the
        ratios compare runs made seconds apart."""
        cases = []
        for w in self.workloads:
            if w not in PPS_WORKLOADS:
                continue
            for size in self.sizes:
                for kind, variant in self.impl_keys():
                    if kind in TX_ONLY_IMPLS and w != "tx":
                        continue
                    cases.append((w, size, kind, variant))
        self.cases = cases
        return cases


def _summarise(samples: list[dict]) -> dict:
    """One record per case: the median run, with every run's rate kept."""
    s = sorted(samples, key=lambda r: r["pps"])
    mid = dict(s[len(s) // 2])
    mid["runs_pps"] = [r["pps"] for r in samples]
    if len(samples) > 1:
        mid["pps_min"], mid["pps_max"] = s[0]["pps"], s[-1]["pps"]
    return mid


def add_ratios(results: list[dict]) -> None:
    """vs_net_tap and vs_raw, within the same workload and size of this run."""
    by = {(r["workload"], r["size"], r["impl"]): r for r in results}
    for r in results:
        tap = by.get((r["workload"], r["size"], "net_tap"))
        raw = by.get((r["workload"], r["size"], "raw"))
        r["vs_net_tap"] = r["pps"] / tap["pps"] if tap and tap["pps"] else None
        r["vs_raw"] = r["pps"] / raw["pps"] if raw and raw["pps"] else None


def run(plan: Plan, progress=None) -> dict:
    """Create the interfaces, run every case, clean up; returns the JSON-able report."""
    cases = plan.build()
    session = Session(plan.nb_desc)
    samples: dict[tuple, list] = {}
    started = _dt.datetime.now().astimezone()
    problems: list[str] = []
    task = None
    try:
        if cases:
            session.open()
        for _w, size, kind, variant in cases:       # everything exists before the first run
            check_interrupt()
            session.add(kind, variant)
            if kind in ("net_tap", "net_rtap"):
                check_tx_pool(session.tx_pool(size), size)
        if progress is not None:
            task = progress.add_task("setting up", total=len(cases) * plan.repeat)
        done = 0
        for rep in range(plan.repeat):
            for w in plan.workloads:
                if w not in PPS_WORKLOADS:
                    continue
                redirected = []
                if w == "loopback":          # A -> B in the kernel, for every pair in use
                    for key in dict.fromkeys(impl_key(k, v) for (cw, _, k, v) in cases if cw == w):
                        impl = session.impls[key]
                        session.redirect(impl.a.iface, impl.b.iface)
                        redirected.append(impl.a.iface)
                for (cw, size, kind, variant) in cases:
                    if cw != w:
                        continue
                    impl = session.add(kind, variant)
                    label = "%-8s %4d B  %-16s" % (w, size, impl.key)
                    if plan.repeat > 1:
                        label += " run %d/%d" % (rep + 1, plan.repeat)

                    def tick(t, base=done, label=label):
                        check_interrupt()
                        if progress is not None:
                            progress.update(task, completed=base + min(t / plan.seconds, 0.999),
                                            description=label)
                            progress.refresh()

                    tick(0)
                    gc.collect()
                    gc.disable()          # no collector pauses inside a timed loop
                    try:
                        if plan.warmup > 0:
                            run_case(session, impl, w, size, plan.burst, plan.warmup,
                                     lambda t: check_interrupt(), raw_burst=plan.raw_burst)
                        rec = run_case(session, impl, w, size, plan.burst, plan.seconds, tick,
                                       raw_burst=plan.raw_burst)
                    finally:
                        gc.enable()
                    rec["run"] = rep
                    if impl.variant and "sqpoll" in impl.variant:
                        # SQPOLL kernel threads spin for sq_thread_idle (1 s) after the
                        # last submission: let them sleep before the next case runs.
                        time.sleep(SQPOLL_COOLDOWN)
                    check_interrupt()
                    samples.setdefault((w, size, impl.key), []).append(rec)
                    done += 1
                    if progress is not None:
                        progress.update(task, completed=done)
                for dev in redirected:
                    session.unredirect(dev)
                check_interrupt()
        if progress is not None:
            progress.update(task, description="cleaning up")
    finally:
        # Nothing may cut the clean-up short: signals are held until it is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            problems += session.close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    results = [_summarise(v) for v in samples.values()]
    add_ratios(results)
    tcp_records = []
    if "tcp" in plan.workloads and plan.tcp_rows:
        # After the packet-rate session is closed: the rows run in their own processes
        # and namespaces, and clean up after themselves (also when interrupted).
        tcp_task = None
        if progress is not None:
            tcp_task = progress.add_task("tcp", total=len(plan.tcp_rows))

        rows_started = 0

        def row_started(key):
            nonlocal rows_started
            if progress is not None:
                progress.update(tcp_task, completed=rows_started, description="tcp      %-16s" % key)
                progress.refresh()
            rows_started += 1

        tcp_records, tcp_problems = tcpfwd.run_rows(list(plan.tcp_rows), plan.tcp_time,
                                                    check_interrupt, row_started)
        problems += tcp_problems
        if progress is not None:
            progress.update(tcp_task, completed=len(plan.tcp_rows))
    return {
        "meta": {
            "date": started.isoformat(timespec="seconds"),
            "host": platform.node(),
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "pyrtap": rte.__version__,
            "frame": "Ethernet/IPv4/UDP, size = frame bytes without FCS, plus a 10-byte "
                     "virtio-net header per write/read",
            "plan": {k: v for k, v in plan.__dict__.items() if k != "cases"},
            "problems": problems,
        },
        "results": results,
        "tcp": tcp_records,
    }


def headline_ratios(results: list[dict]) -> list[tuple[str, float]]:
    """The two ratios the comparison exists for, per net_rtap variant and size."""
    out = []
    for r in results:
        if r["kind"] != "net_rtap":
            continue
        if r["workload"] == "tx" and r["vs_raw"] is not None:
            out.append(("%s Tx-only / raw write(), %d B" % (r["impl"], r["size"]), r["vs_raw"]))
        if r["workload"] == "loopback" and r["vs_net_tap"] is not None:
            out.append(("%s loopback / net_tap loopback, %d B" % (r["impl"], r["size"]), r["vs_net_tap"]))
    return out


def render(report: dict, console) -> None:
    from rich.table import Table

    results = report["results"]
    if not results:
        _render_tcp(report, console)
        return
    multi = any(len(r.get("runs_pps", [])) > 1 for r in results)
    t = Table(title="pyrtap: packets per second (burst %d, %s s per run%s)" % (
        report["meta"]["plan"]["burst"], report["meta"]["plan"]["seconds"],
        ", median of %d" % report["meta"]["plan"]["repeat"] if multi else ""))
    t.add_column("workload")
    t.add_column("size", justify="right")
    t.add_column("implementation", no_wrap=True)
    t.add_column("Mpps", justify="right")
    if multi:
        t.add_column("min-max", justify="right")
    t.add_column("Gbit/s", justify="right")
    t.add_column("vs net_tap", justify="right")
    t.add_column("vs raw", justify="right")
    t.add_column("notes")
    prev = None
    for r in results:
        if prev is not None and (r["workload"], r["size"]) != prev:
            t.add_section()
        prev = (r["workload"], r["size"])
        notes = []
        if r["workload"] == "loopback":
            notes.append("sent %.3f M/s" % (r["sent_pps"] / 1e6))
            k = r["kernel"]
            if r["sent"]:
                lost = k["b_tx_dropped"]
                if lost:
                    notes.append("B queue drops %.0f%%" % (100.0 * lost / max(1, k["a_rx_packets"])))
        kp = r["kernel"]["a_rx_packets"]
        if r["workload"] == "tx" and r["sent"] and abs(kp - r["sent"]) > 0.01 * r["sent"]:
            notes.append("kernel took %d of %d" % (kp, r["sent"]))
        if r.get("others_cpus") is not None and r["others_cpus"] > 0.5:
            notes.append("others busy %.1f CPU" % r["others_cpus"])
        if r.get("frame_ok") is False:
            notes.append("[red]check failed: %s[/red]" % r.get("verify", "bad frames"))
        nombuf = r.get("port_stats", {}).get("b", {}).get("rx_nombuf", 0)
        if nombuf:
            notes.append("[red]B rx_nombuf %d[/red]" % nombuf)
        if r.get("nomem"):
            notes.append("alloc failed %d" % r["nomem"])
        if r.get("errors"):
            notes.append("errors %d" % r["errors"])
        row = [r["workload"], str(r["size"]), r["impl"], "%.3f" % (r["pps"] / 1e6)]
        if multi:
            row.append("%.3f-%.3f" % (r.get("pps_min", r["pps"]) / 1e6, r.get("pps_max", r["pps"]) / 1e6))
        row += ["%.2f" % r["gbps"],
                "%.2f" % r["vs_net_tap"] if r["vs_net_tap"] is not None else "-",
                "%.2f" % r["vs_raw"] if r["vs_raw"] is not None else "-",
                ", ".join(notes)]
        t.add_row(*row)
    console.print(t)
    for label, v in headline_ratios(results):
        console.print("  %-52s %.2f" % (label, v))
    _render_tcp(report, console, problems=False)
    for p in report["meta"]["problems"]:
        console.print("[yellow]warning:[/yellow] %s" % p)


def _render_tcp(report: dict, console, problems: bool = True) -> None:
    if report.get("tcp"):
        tcpfwd.render(report["tcp"], report["meta"]["plan"]["tcp_time"], console)
    if problems:
        for p in report["meta"]["problems"]:
            console.print("[yellow]warning:[/yellow] %s" % p)


# ---- command line ------------------------------------------------------------------------

def _csv(conv=str, allowed=None):
    def parse(s):
        items = tuple(conv(x) for x in s.split(",") if x)
        if allowed:
            bad = [x for x in items if x not in allowed]
            if bad:
                raise argparse.ArgumentTypeError("unknown: %s (choose from %s)" % (
                    ", ".join(map(str, bad)), ", ".join(allowed)))
        return items
    return parse


def build_parser(prog: str = "python -m pyrtap.compare", **defaults) -> argparse.ArgumentParser:
    d = dict(seconds=1.5, warmup=0.2, repeat=1, sizes=(64, 1500), workloads=WORKLOADS,
             impls=DEFAULT_IMPLS, presets=None, burst=32, raw_burst=None,
             nb_desc=0, json="results/compare.json", tcp_rows=tcpfwd.DEFAULT_ROWS, tcp_time=2.0)
    d.update(defaults)
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=d["seconds"],
                   help="length of each timed run (default %(default)s)")
    p.add_argument("--warmup", type=float, default=d["warmup"],
                   help="untimed run before each (default %(default)s s)")
    p.add_argument("--repeat", type=int, default=d["repeat"],
                   help="runs per case; the median is reported (default %(default)s)")
    p.add_argument("--sizes", type=_csv(int), default=d["sizes"],
                   help="frame sizes in bytes (default 64,1500)")
    p.add_argument("--workloads", type=_csv(allowed=WORKLOADS), default=d["workloads"],
                   help="from %s (default %%(default)s)" % ",".join(WORKLOADS))
    p.add_argument("--impls", type=_csv(allowed=IMPLS), default=d["impls"],
                   help="implementations, from %s (default %s)" % (",".join(IMPLS), ",".join(d["impls"])))
    p.add_argument("--presets", type=_csv(allowed=ALL_PRESETS), default=d["presets"],
                   help="net_rtap variants given as uring= presets only, from %s" % ",".join(ALL_PRESETS))
    p.add_argument("--rtap", default=d.get("rtap"), metavar="'DEVARGS;DEVARGS'",
                   help="net_rtap variants as devargs, ';'-separated, "
                        "e.g. 'uring=defer;uring=defer,rx=multishot' (default '%s')" % ";".join(DEFAULT_RTAP))
    p.add_argument("--burst", type=int, default=d["burst"], help="burst size (default %(default)s)")
    p.add_argument("--raw-burst", type=int, default=d["raw_burst"],
                   help="writes per read-drain in the raw loopback (default: --burst)")
    p.add_argument("--nb-desc", type=int, default=d["nb_desc"],
                   help="ring size per queue, 0 = driver default")
    p.add_argument("--tcp-rows", type=_csv(allowed=tcpfwd.ALL_ROWS), default=d["tcp_rows"],
                   help="rows of the tcp workload, from %s (default %s)" % (
                       ",".join(tcpfwd.ALL_ROWS), ",".join(d["tcp_rows"])))
    p.add_argument("--tcp-time", type=float, default=d["tcp_time"],
                   help="iperf3 seconds per tcp row (default %(default)s)")
    p.add_argument("--json", default=d["json"], metavar="PATH",
                   help="raw results (default %(default)s; '' for none)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def write_json_safely(path: str, obj) -> None:
    """Write ``obj`` as JSON to ``path`` without ever following a symlink planted there.

    The data goes to a fresh temporary file (O_EXCL, O_NOFOLLOW) in the same directory,
    which then replaces ``path`` by rename(): rename replaces a symlink itself, never
    its target, so as root in a directory another user can write, no file elsewhere
    can be overwritten.
    """
    path = os.path.abspath(path)
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, ".%s.%d.%s.tmp" % (os.path.basename(path), os.getpid(), os.urandom(4).hex()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv: list[str] | None = None, prog: str = "python -m pyrtap.compare", **defaults) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    args = build_parser(prog, **defaults).parse_args(argv)
    out, err = Console(width=None if sys.stdout.isatty() else 132), Console(stderr=True)
    if os.geteuid() != 0:
        err.print("[red]error:[/red] run as root (creating TAP interfaces and tc rules needs CAP_NET_ADMIN)")
        return 1
    if not 1 <= args.burst <= 512 or args.seconds <= 0 or args.repeat < 1:
        err.print("[red]error:[/red] need 1 <= --burst <= 512, --seconds > 0, --repeat >= 1")
        return 2
    if min(args.sizes) < MIN_FRAME or max(args.sizes) > 1514:
        err.print("[red]error:[/red] --sizes must be within %d..1514 (MTU 1500)" % MIN_FRAME)
        return 2
    if args.presets:
        rtap = tuple("uring=%s" % p for p in args.presets)
    elif args.rtap:
        rtap = tuple(v.strip() for v in args.rtap.split(";") if v.strip())
    else:
        rtap = DEFAULT_RTAP
    if "tcp" in args.workloads:
        if args.tcp_time <= 0:
            err.print("[red]error:[/red] need --tcp-time > 0")
            return 2
        missing = [t for t in ("iperf3", "ping") if shutil.which(t) is None]
        if missing:
            err.print("[red]error:[/red] the tcp workload needs %s: run scripts/prereqs.sh (make setup), "
                      "or leave it out with --workloads tx,loopback" % " and ".join(missing))
            return 1
    plan = Plan(workloads=args.workloads, sizes=args.sizes, impls=args.impls, rtap=rtap,
                burst=args.burst, raw_burst=args.raw_burst, seconds=args.seconds,
                warmup=args.warmup, repeat=args.repeat, nb_desc=args.nb_desc,
                tcp_rows=args.tcp_rows if "tcp" in args.workloads else (), tcp_time=args.tcp_time)
    n = len(plan.build()) * plan.repeat
    n_tcp = len(plan.tcp_rows)
    # A tcp row costs about 1 s more than its iperf3 time (forwarder start, namespaces,
    # pings, stop); testpmd's 2 s more.
    err.print("pyrtap compare: %d runs of %.1f s (+%.1f s)%s, about %.0f s" % (
        n, plan.seconds, plan.warmup, ", %d tcp rows of %g s" % (n_tcp, plan.tcp_time) if n_tcp else "",
        (n * (plan.seconds + plan.warmup) + 2 if n else 0) + n_tcp * (plan.tcp_time + 1.2)))
    sigs = _SIGNALS
    _pending.clear()
    old = {s: signal.signal(s, _handler) for s in sigs}
    progress = None
    if not args.no_progress:
        progress = Progress(TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.completed:>4.1f}/{task.total:.0f}"),
                            TimeElapsedColumn(), TimeRemainingColumn(),
                            console=err, auto_refresh=False, transient=True)
    try:
        try:
            if progress is not None:
                with progress:
                    report = run(plan, progress)
            else:
                report = run(plan)
        finally:
            # The clean-up in run() has finished here; ignore further signals until we
            # restore the old handlers so a second Ctrl-C cannot break the report.
            for s in sigs:
                signal.signal(s, signal.SIG_IGN)
    except KeyboardInterrupt as e:
        for s, h in old.items():
            signal.signal(s, h)
        name = e.args[0] if isinstance(e, Interrupted) else "SIGINT"
        err.print("interrupted (%s): interfaces, namespaces, processes and tc rules removed" % name)
        return 128 + (e.signum if isinstance(e, Interrupted) else signal.SIGINT)
    except BenchError as e:
        for s, h in old.items():
            signal.signal(s, h)
        err.print("[red]error:[/red] %s" % e)
        return 1
    for s, h in old.items():
        signal.signal(s, h)
    render(report, out)
    if args.json:
        write_json_safely(args.json, report)
        err.print("raw results: %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
