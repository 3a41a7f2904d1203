"""Shared helpers of the tests: frames, AF_PACKET inject and capture, kernel interface
queries, mbufs and pools, port set-up, statistics and polling.

Frames the tests care about carry the test ethertype ``ETH_P_TEST`` (0x88b5, IEEE
"local experimental") or, for flow spreading, IPv4/UDP with ``MARKER`` at the start
of the UDP payload; everything else the kernel may emit is filtered out.
"""
from __future__ import annotations

import errno
import json
import os
import select
import socket
import struct
import subprocess
import time

import numpy as np

try:  # the kernel-interface helpers serve test_netlink.py even when the core is not built
    import pyrtap as rte
except ImportError:  # pragma: no cover - depends on the build
    rte = None

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_TEST = 0x88B5
PACKET_OUTGOING = 4          # sockaddr_ll.sll_pkttype of frames the host sends
MARKER = b"PYRTAPTEST"       # start of the UDP payload of test IPv4 frames

SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("ffffffffffff")

DRIVERS = ("net_rtap", "net_tap")


# ---- frames ------------------------------------------------------------------------------

def pattern(n: int, seed: int = 0) -> bytes:
    """``n`` deterministic bytes, different for each seed."""
    return bytes((seed * 31 + i * 7 + (i >> 8)) & 0xFF for i in range(n))


def make_frame(length: int, seed: int = 0, dst: bytes = DST_MAC, src: bytes = SRC_MAC) -> bytes:
    """An Ethernet frame of exactly ``length`` bytes with the test ethertype.

    The first 4 payload bytes hold ``seed`` so frames can be told apart.
    """
    assert length >= 18
    body = struct.pack("!I", seed) + pattern(length - 18, seed)
    return dst + src + struct.pack("!H", ETH_P_TEST) + body


def is_test_frame(frame: bytes) -> bool:
    return len(frame) >= 14 and frame[12:14] == struct.pack("!H", ETH_P_TEST)


def frame_seed(frame: bytes) -> int:
    return struct.unpack("!I", frame[14:18])[0]


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``: the inverted one's-complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src_ip: str, dst_ip: str, sport: int, dport: int, payload: bytes,
              dst: bytes = DST_MAC, src: bytes = SRC_MAC) -> bytes:
    """A valid Ethernet/IPv4/UDP frame (checksums filled in)."""
    sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    ulen = 8 + len(payload)
    pseudo = sip + dip + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    ucs = inet_checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", ucs) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
    return dst + src + struct.pack("!H", ETH_P_IP) + ip + udp


def is_marked_udp(frame: bytes) -> bool:
    return (len(frame) >= 42 + len(MARKER) and frame[12:14] == b"\x08\x00"
            and frame[23] == 17 and frame[42:42 + len(MARKER)] == MARKER)


# ---- AF_PACKET ----------------------------------------------------------------------------

class PacketSocket:
    """An AF_PACKET socket bound to one interface: ``send`` injects a frame towards the
    port (the kernel transmits it on the TAP), ``capture`` returns frames the port sent."""

    def __init__(self, iface: str, proto: int = ETH_P_ALL):
        self.iface = iface
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            self.sock.bind((iface, proto))
        except OSError:
            self.sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, frame: bytes) -> None:
        try:
            n = self.sock.send(frame)
        except OSError as e:
            # The interface went down (port stopped) since the socket was bound: the
            # socket reports that once; the interface may well be up again by now.
            if e.errno != errno.ENETDOWN:
                raise
            n = self.sock.send(frame)
        assert n == len(frame)

    def send_all(self, frames) -> None:
        for f in frames:
            self.send(f)

    def drain(self) -> None:
        """Drop whatever is queued on the socket."""
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65536)

    def capture(self, count: int, match=is_test_frame, timeout: float = 2.0,
                settle: float = 0.05) -> list[bytes]:
        """Frames the port transmitted (not our own sends) that ``match``: waits up to
        ``timeout`` seconds for ``count`` of them, then ``settle`` more seconds for any
        extra (duplicate) frames, which are returned too."""
        out: list[bytes] = []
        deadline = time.monotonic() + timeout
        while True:
            if len(out) >= count:
                deadline = min(deadline, time.monotonic() + settle)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                break
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError as e:
                if e.errno == errno.ENETDOWN:    # the port was stopped meanwhile
                    continue
                raise
            if addr[2] == PACKET_OUTGOING or not match(data):
                continue
            out.append(data)
        return out


# ---- kernel interfaces ---------------------------------------------------------------------

def disable_ipv6(iface: str) -> None:
    """Stop the kernel's IPv6 ND/MLD chatter on ``iface``."""
    path = f"/proc/sys/net/ipv6/conf/{iface}/disable_ipv6"
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write("1")


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``ip ARGS``; with ``check``, a failure raises CalledProcessError noting ip's stderr."""
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode:
        e = subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
        e.add_note(f"ip {' '.join(args)}: {r.stderr.strip()}")
        raise e
    return r


def link_names() -> set[str]:
    """Every interface name in this network namespace (``ip -j link show``)."""
    return {link["ifname"] for link in json.loads(ip("-j", "link", "show").stdout)}


def link_json(iface: str) -> dict | None:
    """``ip -d -j link show`` of ``iface`` (details: kind, min/max MTU, promiscuity), or None."""
    r = ip("-d", "-j", "link", "show", "dev", iface, check=False)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)[0]


def link_exists(iface: str) -> bool:
    return ip("link", "show", "dev", iface, check=False).returncode == 0


def link_delete(iface: str) -> None:
    ip("link", "del", "dev", iface, check=False)


def make_non_tap(iface: str) -> str:
    """Create a kernel interface that is not a TAP (dummy, else bridge/ifb); returns its kind."""
    for kind in ("dummy", "bridge", "ifb"):
        if ip("link", "add", iface, "type", kind, check=False).returncode == 0:
            return kind
    raise RuntimeError("cannot create a dummy, bridge or ifb interface here")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# ---- ports ----------------------------------------------------------------------------------

class TapPort:
    """A probed port: ``port`` id, vdev ``devname``, kernel ``iface`` name, ``driver``."""

    def __init__(self, driver: str, devname: str, iface: str, port: int):
        self.driver, self.devname, self.iface, self.port = driver, devname, iface, port

    def __repr__(self):
        return f"TapPort({self.devname} port {self.port} iface {self.iface})"


def setup_port(port: int, pool, nb_queues: int = 1, nb_rxd: int = 64, nb_txd: int = 256,
               start: bool = True, nb_tx_queues: int | None = None) -> None:
    """configure + queue set-up (+ start), asserting every step returns 0."""
    nb_tx = nb_queues if nb_tx_queues is None else nb_tx_queues
    assert rte.rte_eth_dev_configure(port, nb_queues, nb_tx, None) == 0
    for q in range(nb_queues):
        assert rte.rte_eth_rx_queue_setup(port, q, nb_rxd, 0, None, pool) == 0
    for q in range(nb_tx):
        assert rte.rte_eth_tx_queue_setup(port, q, nb_txd, 0, None) == 0
    if start:
        assert rte.rte_eth_dev_start(port) == 0


def mbuf_bytes(m) -> bytes:
    """The whole packet of ``m`` (all segments)."""
    data = rte.rte_pktmbuf_read(m, 0, m.pkt_len)
    assert data is not None
    return bytes(data)


def segments(m) -> list:
    """The segments of the chain that starts at ``m``."""
    out = []
    while m is not None:
        out.append(m)
        m = m.next
    return out


def mbuf_from(pool, frame: bytes = b""):
    """A single-segment mbuf holding ``frame`` (written through ``rte_pktmbuf_append``)."""
    m = rte.rte_pktmbuf_alloc(pool)
    assert m is not None, f"alloc failed: errno {rte.rte_errno()}"
    view = rte.rte_pktmbuf_append(m, len(frame))
    assert view is not None
    view[:] = np.frombuffer(frame, np.uint8)
    return m


def chain_from(pool, parts: list[bytes]):
    """A chain of ``len(parts)`` segments, built with ``rte_pktmbuf_chain``."""
    head = mbuf_from(pool, parts[0])
    for p in parts[1:]:
        assert rte.rte_pktmbuf_chain(head, mbuf_from(pool, p)) == 0
    return head


def rx_poll(port: int, queues, want: int, match=is_test_frame, timeout: float = 2.0,
            use_list: bool = False, burst: int = 32, settle: float = 0.0):
    """Poll the Rx ``queues`` until ``want`` matching packets arrived or ``timeout``.

    Returns ``(pkts, others)``: ``pkts`` a list of ``(queue, Mbuf)`` of matching packets,
    in arrival order, still owned by the caller; ``others`` how many non-matching
    packets were received (they are freed). After reaching ``want``, keeps polling for
    ``settle`` seconds to catch duplicates.
    """
    if isinstance(queues, int):
        queues = [queues]
    pkts, others = [], 0
    container = [None] * burst if use_list else rte.MbufBurst(burst)
    deadline = time.monotonic() + timeout
    settle_end = None
    while True:
        got = 0
        for q in queues:
            n = rte.rte_eth_rx_burst(port, q, container, burst)
            got += n
            for i in range(n):
                m = container[i]
                if match(mbuf_bytes(m)):
                    pkts.append((q, m))
                else:
                    others += 1
                    rte.rte_pktmbuf_free(m)
        now = time.monotonic()
        if len(pkts) >= want and settle_end is None:
            settle_end = now + settle
        if settle_end is not None and now >= settle_end:
            break
        if now >= deadline:
            break
        if not got:
            time.sleep(0.0005)
    return pkts, others


def free_all(mbufs) -> None:
    for m in mbufs:
        rte.rte_pktmbuf_free(m)


# ---- pools ----------------------------------------------------------------------------------

def assert_pool_intact(mp, in_use: int = 0) -> None:
    """Counts add up, and every free mbuf can be allocated once and given back."""
    assert mp.in_use_count() == in_use
    assert mp.avail_count() == mp.size - in_use
    lst = [None] * mp.avail_count()
    assert rte.rte_pktmbuf_alloc_bulk(mp, lst, len(lst)) == 0
    assert len({m.index for m in lst}) == len(lst), "an mbuf is on the free stack twice"
    assert rte.rte_pktmbuf_alloc(mp) is None
    rte.rte_pktmbuf_free_bulk(lst, len(lst))
    assert mp.avail_count() == mp.size - in_use


# ---- device information and statistics ------------------------------------------------------

def dev_info(port: int) -> rte.rte_eth_dev_info:
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(port, info) == 0
    return info


def stats_of(port: int) -> rte.rte_eth_stats:
    st = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(port, st) == 0
    return st


def xstats_of(port: int) -> dict[str, int]:
    """Every extended statistic of ``port`` by name, checking ids and names are consistent."""
    n = rte.rte_eth_xstats_get_names(port, None, 0)
    assert n > 0
    names = [rte.rte_eth_xstat_name() for _ in range(n)]
    values = [rte.rte_eth_xstat() for _ in range(n)]
    assert rte.rte_eth_xstats_get_names(port, names, n) == n
    assert rte.rte_eth_xstats_get(port, values, n) == n
    assert [v.id for v in values] == list(range(n))
    out = {names[v.id].name: v.value for v in values}
    assert len(out) == n, "duplicate xstat names"
    return out
