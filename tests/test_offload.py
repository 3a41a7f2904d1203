"""Offloads through the virtio-net header, checked at the far side.

Tx: a port sends packets asking for checksum offload or TSO; the kernel redirects
them (tc mirred) to a second TAP that has no offloads, so the kernel must finish
them in software before that TAP's reader (a plain net_tap port) sees them: every
checksum is verified there, and TSO segments are reassembled byte for byte.
Rx: frames injected with AF_PACKET get their packet type, header lengths and
checksum flags; a real TCP connection between two network namespaces, forwarded by
this process between two ports with LRO, gives LRO frames and checksum-partial ones.
"""
from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

import pyrtap as rte
from helpers import (DST_MAC, SRC_MAC, PacketSocket, chain_from, free_all, inet_checksum, ip, mbuf_bytes,
                     mbuf_from, rx_poll, setup_port, xstats_of)

TX_VARIANTS = [("net_rtap", ""), ("net_rtap", "sync=0"), ("net_tap", "")]
TX_IDS = ["net_rtap", "net_rtap:sync=0", "net_tap"]
MARK = b"pyrtap-offload"

ALL_TX = (rte.RTE_ETH_TX_OFFLOAD_TCP_TSO | rte.RTE_ETH_TX_OFFLOAD_TCP_CKSUM
          | rte.RTE_ETH_TX_OFFLOAD_UDP_CKSUM | rte.RTE_ETH_TX_OFFLOAD_IPV4_CKSUM
          | rte.RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
RX_CKSUM = rte.RTE_ETH_RX_OFFLOAD_TCP_CKSUM | rte.RTE_ETH_RX_OFFLOAD_UDP_CKSUM
F = rte   # flags


# ---- frames ---------------------------------------------------------------------------------

SRC4, DST4 = socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.2")
SRC6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
DST6 = socket.inet_pton(socket.AF_INET6, "2001:db8::2")


def _sum(data: bytes) -> int:
    """One's-complement sum, folded, not inverted (DPDK's rte_raw_cksum)."""
    return ~inet_checksum(data) & 0xFFFF


def phdr(v6: bool, proto: int, l4len: int | None) -> bytes:
    """The pseudo-header; ``l4len`` None leaves the length out (DPDK's TSO convention)."""
    n = 0 if l4len is None else l4len
    if v6:
        return SRC6 + DST6 + struct.pack("!IxxxB", n, proto)
    return SRC4 + DST4 + struct.pack("!BBH", 0, proto, n)


def l3(v6: bool, proto: int, l4: bytes, ip_csum: bool = True) -> bytes:
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + SRC6 + DST6 + l4
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 7, 0x4000, 64, proto, 0, SRC4, DST4)
    if ip_csum:
        h = h[:10] + struct.pack("!H", inet_checksum(h)) + h[12:]
    return h + l4


def eth(v6: bool, payload: bytes, vlan: int | None = None) -> bytes:
    et = struct.pack("!H", 0x86DD if v6 else 0x0800)
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return DST_MAC + SRC_MAC + tag + et + payload


def udp(v6: bool, payload: bytes, csum: str) -> bytes:
    """UDP header + payload; ``csum``: 'full' (valid), 'phdr' (pseudo-header sum with
    length: what checksum offload wants), 'bad'."""
    n = 8 + len(payload)
    seg = struct.pack("!HHHH", 4000, 5000, n, 0) + payload
    if csum == "full":
        c = inet_checksum(phdr(v6, 17, n) + seg) or 0xFFFF
    elif csum == "phdr":
        c = _sum(phdr(v6, 17, n))
    else:
        c = (inet_checksum(phdr(v6, 17, n) + seg) ^ 0x5A5A) or 1
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(v6: bool, payload: bytes, csum: str, seq: int = 1000) -> bytes:
    """TCP header (20 bytes) + payload; ``csum``: 'full', 'phdr' (with length), 'tso'
    (pseudo-header sum without length, DPDK's TSO convention), 'bad'."""
    seg = struct.pack("!HHIIBBHHH", 4000, 80, seq, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
    n = len(seg)
    c = {"full": lambda: inet_checksum(phdr(v6, 6, n) + seg),
         "phdr": lambda: _sum(phdr(v6, 6, n)),
         "tso": lambda: _sum(phdr(v6, 6, None)),
         "bad": lambda: inet_checksum(phdr(v6, 6, n) + seg) ^ 0x00FF}[csum]()
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def parse(frame: bytes):
    """(v6, ip header bytes, proto, l4 bytes) of an Ethernet/IP frame."""
    if frame[12:14] == b"\x86\xdd":
        plen = struct.unpack("!H", frame[18:20])[0]
        return True, frame[14:54], frame[20], frame[54:54 + plen]
    ihl = (frame[14] & 0xF) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    return False, frame[14:14 + ihl], frame[23], frame[14 + ihl:14 + tot]


def check_frame(frame: bytes) -> bytes:
    """Assert the IP and L4 checksums of ``frame`` are right; returns the L4 payload."""
    v6, iph, proto, l4 = parse(frame)
    if not v6:
        assert inet_checksum(iph) == 0, "bad IPv4 header checksum"
    assert inet_checksum(phdr(v6, proto, len(l4)) + l4) == 0, f"bad L4 checksum (proto {proto})"
    return l4[8:] if proto == 17 else l4[(l4[12] >> 4) * 4:]


def is_marked(frame: bytes) -> bool:
    return MARK in frame[:200]


def is_ours(frame: bytes) -> bool:
    """An IPv4/IPv6 frame from our L4 source port (every TSO segment, not only the first)."""
    if frame[12:14] not in (b"\x08\x00", b"\x86\xdd") or len(frame) < 60:
        return False
    l4 = 54 if frame[12:14] == b"\x86\xdd" else 14 + (frame[14] & 0xF) * 4
    return frame[l4:l4 + 2] == b"\x0f\xa0"


# ---- a loop: A's Tx arrives on B's Rx ---------------------------------------------------------

class Loop:
    """Port ``a`` (under test) -> kernel (``tc`` redirect) -> TAP without offloads -> port ``b``."""

    def __init__(self, make_port, variant, pool, tx_offloads: int):
        self.a = make_port(*variant)
        self.b = make_port("net_tap")
        conf = rte.rte_eth_conf()
        conf.txmode.offloads = tx_offloads
        assert rte.rte_eth_dev_configure(self.a.port, 1, 1, conf) == 0
        assert rte.rte_eth_rx_queue_setup(self.a.port, 0, 16, 0, None, pool) == 0
        assert rte.rte_eth_tx_queue_setup(self.a.port, 0, 64, 0, None) == 0
        assert rte.rte_eth_dev_start(self.a.port) == 0
        setup_port(self.b.port, pool, nb_rxd=64, nb_txd=16)
        ip("link", "set", self.b.iface, "txqueuelen", "10000")
        subprocess.run(["tc", "qdisc", "add", "dev", self.a.iface, "ingress"], check=True)
        subprocess.run(["tc", "filter", "add", "dev", self.a.iface, "parent", "ffff:", "protocol", "all",
                        "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect",
                        "dev", self.b.iface], check=True)

    def send(self, mbufs) -> int:
        return rte.rte_eth_tx_burst(self.a.port, 0, mbufs, len(mbufs))

    def receive(self, want: int, timeout: float = 2.0) -> list[bytes]:
        pkts, _ = rx_poll(self.b.port, 0, want, match=is_ours, timeout=timeout, settle=0.05)
        data = [mbuf_bytes(m) for _, m in pkts]
        free_all(m for _, m in pkts)
        return data

    def xstats(self) -> dict:
        return xstats_of(self.a.port)


@pytest.fixture(params=TX_VARIANTS, ids=TX_IDS)
def tx_variant(request):
    return request.param


def _offload_mbuf(pool, frame: bytes, flags: int, l3len: int, l4len: int, segsz: int = 0, parts=None):
    m = chain_from(pool, parts) if parts else mbuf_from(pool, frame)
    m.ol_flags = flags
    m.l2_len, m.l3_len, m.l4_len, m.tso_segsz = 14, l3len, l4len, segsz
    return m


@pytest.mark.parametrize("burst", [1, 8])
def test_tx_checksum_offload(make_port, tx_variant, pool, burst):
    """UDP and TCP over IPv4 and IPv6 with checksum offload (and the IPv4 header checksum
    done by the driver): every checksum is right where the frame comes out, the payload
    is intact, and the xstats count the requests."""
    lp = Loop(make_port, tx_variant, pool, ALL_TX)
    mbufs, payloads = [], []
    for i in range(burst):
        v6, proto = bool(i & 1), (17, 6)[(i >> 1) & 1]
        payload = MARK + bytes((i * 31 + k) & 0xFF for k in range(100 + 37 * i))
        l4 = udp(v6, payload, "phdr") if proto == 17 else tcp(v6, payload, "phdr")
        frame = eth(v6, l3(v6, proto, l4, ip_csum=False))     # IPv4 header checksum left 0
        flags = (F.RTE_MBUF_F_TX_IPV6 if v6 else F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM) \
            | (F.RTE_MBUF_F_TX_UDP_CKSUM if proto == 17 else F.RTE_MBUF_F_TX_TCP_CKSUM)
        mbufs.append(_offload_mbuf(pool, frame, flags, 40 if v6 else 20, 8 if proto == 17 else 20))
        payloads.append(payload)
    assert lp.send(mbufs) == burst
    got = lp.receive(burst)
    assert len(got) == burst
    assert sorted(check_frame(f) for f in got) == sorted(payloads)
    xs = lp.xstats()
    assert xs["tx_q0_checksum_offload_packets"] == burst
    assert xs["tx_q0_tso_packets"] == 0
    assert xs["tx_good_packets"] == burst and xs["tx_errors"] == 0


@pytest.mark.parametrize("chained", [False, True], ids=["1seg", "chain"])
@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_tx_tso_20000_bytes(make_port, tx_variant, make_pool, chained, v6):
    """TSO of a 20,000-byte TCP payload with MSS 1000 (DPDK's pseudo-header convention:
    no length): 20 segments, each with correct checksums, carrying the payload in order."""
    if chained:
        mp = make_pool(n=512)
    else:
        mp = make_pool(n=128, data_room=128 + 20200)
    lp = Loop(make_port, tx_variant, mp, ALL_TX)
    payload = MARK + os.urandom(20000 - len(MARK))
    seq0 = 0x10203040
    frame = eth(v6, l3(v6, 6, tcp(v6, payload, "tso", seq0), ip_csum=False))
    flags = F.RTE_MBUF_F_TX_TCP_SEG | F.RTE_MBUF_F_TX_TCP_CKSUM \
        | (F.RTE_MBUF_F_TX_IPV6 if v6 else F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM)
    l3len = 40 if v6 else 20
    parts = None
    if chained:       # headers in the first segment, then 2000-byte pieces
        hl = 14 + l3len + 20
        parts = [frame[:hl + 500]] + [frame[i:i + 2000] for i in range(hl + 500, len(frame), 2000)]
    m = _offload_mbuf(mp, frame, flags, l3len, 20, 1000, parts)
    assert m.nb_segs == (len(parts) if parts else 1)
    assert lp.send([m]) == 1
    segs = lp.receive(20, timeout=3)
    assert len(segs) == 20, f"{len(segs)} segments"
    body = {}
    for f in segs:
        assert len(f) == 14 + l3len + 20 + 1000
        data = check_frame(f)
        seq = struct.unpack("!I", parse(f)[3][4:8])[0]
        body[seq] = data
    assert sorted(body) == [seq0 + 1000 * i for i in range(20)]
    assert b"".join(body[s] for s in sorted(body)) == payload
    xs = lp.xstats()
    assert xs["tx_q0_tso_packets"] == 1
    assert xs["tx_q0_multiseg_packets"] == (1 if chained else 0)
    assert xs["tx_good_packets"] == 1 and xs["tx_errors"] == 0


def test_tx_unconfigured_or_inconsistent_offload_dropped(make_port, tx_variant, pool):
    """A packet asking for an offload the port was not configured for, or whose lengths do
    not fit, is counted in oerrors and dropped: nothing corrupt reaches the wire."""
    lp = Loop(make_port, tx_variant, pool, rte.RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
    payload = MARK + bytes(range(64))
    tcp_frame = eth(False, l3(False, 6, tcp(False, payload, "tso")))
    udp_frame = eth(False, l3(False, 17, udp(False, payload, "phdr")))
    bad = [
        # TSO and TCP checksum were not configured
        _offload_mbuf(pool, tcp_frame,
                      F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_TCP_SEG | F.RTE_MBUF_F_TX_TCP_CKSUM, 20, 20, 16),
        _offload_mbuf(pool, tcp_frame, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_TCP_CKSUM, 20, 20),
        # IPv4 header checksum was not configured
        _offload_mbuf(pool, udp_frame,
                      F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_UDP_CKSUM, 20, 8),
        # SCTP checksum and VLAN insertion are never honoured
        _offload_mbuf(pool, udp_frame, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_SCTP_CKSUM, 20, 8),
        _offload_mbuf(pool, udp_frame, F.RTE_MBUF_F_TX_VLAN, 20, 8),
        # lengths that do not fit the frame, or no IPv4/IPv6 flag
        _offload_mbuf(pool, udp_frame, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_UDP_CKSUM, 200, 8),
        _offload_mbuf(pool, udp_frame, F.RTE_MBUF_F_TX_UDP_CKSUM, 20, 8),
    ]
    good = _offload_mbuf(pool, udp_frame, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_UDP_CKSUM, 20, 8)
    before = rte.rte_mempool_in_use_count(pool)
    assert lp.send(bad + [good]) == len(bad) + 1, "dropped packets are taken, not left to the caller"
    got = lp.receive(1, timeout=1)
    assert len(got) == 1 and check_frame(got[0]) == payload
    st = rte.rte_eth_stats()
    assert rte.rte_eth_stats_get(lp.a.port, st) == 0
    assert st.oerrors == len(bad) and st.opackets == 1
    rte.rte_eth_tx_burst(lp.a.port, 0, [], 0)     # reap finished sends (net_rtap)
    assert rte.rte_mempool_in_use_count(pool) == before - len(bad) - 1


def test_tx_offload_refused_at_configure(tap_port):
    """Offloads the driver does not advertise are refused by configure with -EINVAL."""
    info = rte.rte_eth_dev_info()
    assert rte.rte_eth_dev_info_get(tap_port.port, info) == 0
    assert info.tx_offload_capa == ALL_TX
    assert info.rx_offload_capa == (RX_CKSUM | rte.RTE_ETH_RX_OFFLOAD_TCP_LRO
                                    | rte.RTE_ETH_RX_OFFLOAD_SCATTER)
    for rx, tx in ((0, rte.RTE_ETH_TX_OFFLOAD_VLAN_INSERT), (rte.RTE_ETH_RX_OFFLOAD_VLAN_STRIP, 0),
                   (0, rte.RTE_ETH_TX_OFFLOAD_SCTP_CKSUM), (rte.RTE_ETH_RX_OFFLOAD_KEEP_CRC, 0)):
        conf = rte.rte_eth_conf()
        conf.rxmode.offloads, conf.txmode.offloads = rx, tx
        assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, conf) == -22
    conf = rte.rte_eth_conf()
    conf.rxmode.offloads, conf.txmode.offloads = info.rx_offload_capa, info.tx_offload_capa
    assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, conf) == 0
    # Rx offloads are per port (TUNSETOFFLOAD is per interface): not per queue.
    rxconf = rte.rte_eth_rxconf()
    conf = rte.rte_eth_conf()
    assert rte.rte_eth_dev_configure(tap_port.port, 1, 1, conf) == 0
    rxconf.offloads = rte.RTE_ETH_RX_OFFLOAD_TCP_LRO
    pool = rte.rte_pktmbuf_pool_create("ofl" + tap_port.iface[-8:], 64, 0, 0,
                                       rte.RTE_MBUF_DEFAULT_BUF_SIZE, -1)
    try:
        assert rte.rte_eth_rx_queue_setup(tap_port.port, 0, 16, 0, rxconf, pool) == -22
        txconf = rte.rte_eth_txconf()
        txconf.offloads = rte.RTE_ETH_TX_OFFLOAD_TCP_TSO       # Tx offloads may be per queue
        assert rte.rte_eth_tx_queue_setup(tap_port.port, 0, 16, 0, txconf) == 0
    finally:
        rte.rte_eth_dev_reset(tap_port.port)
        rte.rte_mempool_free(pool)


# ---- Rx: packet types, lengths, checksum flags --------------------------------------------------

def test_rx_packet_type_and_checksum_flags(make_port, variant, pool):
    """Injected frames get DPDK's packet_type and header lengths; with Rx checksum offload
    the checksums the kernel did not vouch for are verified (GOOD/BAD), counted exactly."""
    tp = make_port(*variant)
    conf = rte.rte_eth_conf()
    conf.rxmode.offloads = RX_CKSUM
    assert rte.rte_eth_dev_configure(tp.port, 1, 1, conf) == 0
    assert rte.rte_eth_rx_queue_setup(tp.port, 0, 32, 0, None, pool) == 0
    assert rte.rte_eth_tx_queue_setup(tp.port, 0, 16, 0, None) == 0
    assert rte.rte_eth_dev_start(tp.port) == 0
    p = MARK + bytes(range(50))
    L2, V4, V6 = rte.RTE_PTYPE_L2_ETHER, rte.RTE_PTYPE_L3_IPV4, rte.RTE_PTYPE_L3_IPV6
    GOOD, BAD = rte.RTE_MBUF_F_RX_L4_CKSUM_GOOD, rte.RTE_MBUF_F_RX_L4_CKSUM_BAD
    cases = [  # frame, packet_type, (l2, l3, l4), L4 checksum flag
        (eth(False, l3(False, 17, udp(False, p, "full"))), L2 | V4 | rte.RTE_PTYPE_L4_UDP, (14, 20, 8), GOOD),
        (eth(False, l3(False, 17, udp(False, p, "bad"))), L2 | V4 | rte.RTE_PTYPE_L4_UDP, (14, 20, 8), BAD),
        (eth(False, l3(False, 6, tcp(False, p, "full"))), L2 | V4 | rte.RTE_PTYPE_L4_TCP, (14, 20, 20), GOOD),
        (eth(True, l3(True, 6, tcp(True, p, "full"))), L2 | V6 | rte.RTE_PTYPE_L4_TCP, (14, 40, 20), GOOD),
        (eth(True, l3(True, 6, tcp(True, p, "bad"))), L2 | V6 | rte.RTE_PTYPE_L4_TCP, (14, 40, 20), BAD),
        (eth(True, l3(True, 17, udp(True, p, "full"))), L2 | V6 | rte.RTE_PTYPE_L4_UDP, (14, 40, 8), GOOD),
        (eth(False, l3(False, 17, udp(False, p, "full")), vlan=42),
         rte.RTE_PTYPE_L2_ETHER_VLAN | V4 | rte.RTE_PTYPE_L4_UDP, (18, 20, 8), GOOD),
        (eth(False, l3(False, 1, b"\x08\x00\x00\x00" + p)), L2 | V4 | rte.RTE_PTYPE_L4_ICMP, (14, 20, 0), 0),
    ]
    with PacketSocket(tp.iface) as s:
        s.send_all([c[0] for c in cases])
        pkts, _ = rx_poll(tp.port, 0, len(cases), match=is_marked, settle=0.05)
    try:
        assert [mbuf_bytes(m) for _, m in pkts] == [c[0] for c in cases]
        for (_, m), (frame, ptype, lens, flag) in zip(pkts, cases, strict=True):
            assert m.packet_type == ptype, (rte.rte_get_ptype_name(m.packet_type), frame[12:16].hex())
            assert (m.l2_len, m.l3_len, m.l4_len) == lens
            assert m.ol_flags & rte.RTE_MBUF_F_RX_L4_CKSUM_MASK == flag
            assert not m.ol_flags & rte.RTE_MBUF_F_RX_LRO
    finally:
        free_all(m for _, m in pkts)
    xs = xstats_of(tp.port)
    assert xs["rx_q0_checksum_good_packets"] == 5
    assert xs["rx_q0_checksum_bad_packets"] == 2
    assert xs["rx_q0_checksum_none_packets"] == 0
    assert xs["rx_q0_lro_packets"] == 0


# ---- Rx LRO from a real TCP connection, forwarded with offloads kept -----------------------------

SERVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
"""

CLIENT = r"""
import socket, sys
data = open(sys.argv[3], "rb").read()
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.sendall(data); c.close()
"""


def _ns(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


@pytest.fixture
def two_namespaces(unique_name):
    made = []

    def make():
        names = [unique_name("ns"), unique_name("ns")]
        for n in names:
            _ns("netns", "add", n)
            made.append(n)
        return names
    yield make
    for n in made:
        _ns("netns", "del", n, check=False)


LRO_VARIANTS = [("net_rtap", ""), ("net_rtap", "rx=batch"), ("net_rtap", "rx=prepost"),
                ("net_rtap", "rx=multishot"), ("net_tap", "")]


@pytest.mark.parametrize("lro_variant", LRO_VARIANTS,
                         ids=[d + (":" + a if a else "") for d, a in LRO_VARIANTS])
def test_rx_lro_forwarded_with_offloads(make_port, make_pool, two_namespaces, tmp_path, lro_variant):
    """A real TCP connection between two namespaces whose only link is this process,
    forwarding between two ports with LRO and checksum offloads: the kernel hands over
    64 KB super-frames (RX_LRO, tso_segsz, L4_CKSUM_NONE, TCP packet type and lengths),
    they are sent on whole with TSO, and the receiver gets every byte (SHA-256)."""
    mp = make_pool(n=8192)
    ports = [make_port(*lro_variant), make_port(*lro_variant)]
    for tp in ports:
        conf = rte.rte_eth_conf()
        conf.rxmode.offloads = RX_CKSUM | rte.RTE_ETH_RX_OFFLOAD_TCP_LRO | rte.RTE_ETH_RX_OFFLOAD_SCATTER
        conf.txmode.offloads = ALL_TX
        assert rte.rte_eth_dev_configure(tp.port, 1, 1, conf) == 0
        assert rte.rte_eth_rx_queue_setup(tp.port, 0, 64, 0, None, mp) == 0
        assert rte.rte_eth_tx_queue_setup(tp.port, 0, 256, 0, None) == 0
        assert rte.rte_eth_dev_start(tp.port) == 0
    nsa, nsb = two_namespaces()
    net = "10.%d.%d." % (100 + os.getpid() % 100, int.from_bytes(os.urandom(1), "big"))
    for ns, tp, host in ((nsa, ports[0], 1), (nsb, ports[1], 2)):
        _ns("link", "set", tp.iface, "netns", ns)
        _ns("-n", ns, "addr", "add", f"{net}{host}/24", "dev", tp.iface)
        _ns("-n", ns, "link", "set", tp.iface, "up")
    seen = {"pkts": 0, "lro": 0, "none": 0, "bad_meta": 0, "segsz": set()}
    stop = threading.Event()

    def forward():
        bufs = [None] * 32
        while not stop.is_set():
            for src, dst in ((0, 1), (1, 0)):
                n = rte.rte_eth_rx_burst(ports[src].port, 0, bufs, 32)
                for m in bufs[:n]:
                    seen["pkts"] += 1
                    if m.ol_flags & rte.RTE_MBUF_F_RX_LRO:
                        seen["lro"] += 1
                        seen["segsz"].add(m.tso_segsz)
                        ok = (m.packet_type & rte.RTE_PTYPE_L4_MASK == rte.RTE_PTYPE_L4_TCP
                              and m.l2_len == 14 and m.l3_len == 20 and m.l4_len >= 20
                              and (m.ol_flags & rte.RTE_MBUF_F_RX_L4_CKSUM_MASK
                                   == rte.RTE_MBUF_F_RX_L4_CKSUM_NONE)
                              and m.pkt_len > 1514 and m.nb_segs > 1)
                        seen["bad_meta"] += not ok
                    if m.ol_flags & rte.RTE_MBUF_F_RX_L4_CKSUM_MASK == rte.RTE_MBUF_F_RX_L4_CKSUM_NONE:
                        seen["none"] += 1
                if n:
                    rte.rx_offloads_to_tx(bufs, n)
                    sent = rte.rte_eth_tx_burst(ports[dst].port, 0, bufs, n)
                    for m in bufs[sent:n]:
                        rte.rte_pktmbuf_free(m)
            if not n:
                time.sleep(0)

    data = os.urandom(4 << 20)
    path = tmp_path / "data"
    path.write_bytes(data)
    fwd = threading.Thread(target=forward, daemon=True)
    fwd.start()
    server = subprocess.Popen(["ip", "netns", "exec", nsb, sys.executable, "-c", SERVER, f"{net}2", "5201"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        client = subprocess.run(["ip", "netns", "exec", nsa, sys.executable, "-c", CLIENT, f"{net}2", "5201",
                                 str(path)], capture_output=True, text=True, timeout=30)
        assert client.returncode == 0, client.stderr
        out, _ = server.communicate(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        stop.set()
        fwd.join(5)
    n, digest = out.split()
    assert int(n) == len(data) and digest == hashlib.sha256(data).hexdigest()
    assert seen["lro"] > 0, f"no LRO frame in {seen['pkts']} packets"
    assert seen["bad_meta"] == 0
    assert seen["none"] >= seen["lro"]
    assert all(0 < s <= 1500 for s in seen["segsz"])
    # Back in this namespace, the counters of the receiving port say the same.
    _ns("-n", nsa, "link", "set", ports[0].iface, "netns", "1")
    xs = {}
    n = rte.rte_eth_xstats_get_names(ports[0].port, None, 0)
    if n > 0:
        names, vals = [rte.rte_eth_xstat_name() for _ in range(n)], [rte.rte_eth_xstat() for _ in range(n)]
        if (rte.rte_eth_xstats_get_names(ports[0].port, names, n) == n
                and rte.rte_eth_xstats_get(ports[0].port, vals, n) == n):
            xs = {k.name: v.value for k, v in zip(names, vals, strict=True)}
    assert xs, "xstats unavailable after moving the interface back"
    assert xs["rx_q0_lro_packets"] > 0
    assert xs["tx_errors"] == 0
