"""pyrtap.net: header views, checksum helpers, ptype parser, tx_prepare, rx_offloads_to_tx.

Checksums are compared with an independent pure-Python reference (big-endian 16-bit
words, RFC 1071) on seeded random packets; most tests need no TAP interface.
"""
from __future__ import annotations

import errno
import random
import struct

import numpy as np
import pytest

import pyrtap as rte
from pyrtap import _core, ethdev_types, mbuf as mbuf_mod, net
from helpers import chain_from, mbuf_bytes, mbuf_from, setup_port

N_RANDOM = 300          # random packets per property test


# ---- reference checksums (pure Python, no pyrtap code) ----------------------------------

def ref_sum(data: bytes, start: int = 0) -> int:
    """Folded one's-complement sum of big-endian 16-bit words (odd byte padded), not inverted."""
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ref_ipv4_hdr_cksum(hdr: bytes) -> int:
    hdr = hdr[:10] + b"\0\0" + hdr[12:]
    return ~ref_sum(hdr) & 0xFFFF


def ref_phdr4(ip: bytes, l4_len: int, proto: int | None = None) -> int:
    proto = ip[9] if proto is None else proto
    return ref_sum(ip[12:20] + struct.pack("!BBH", 0, proto, l4_len))


def ref_phdr6(ip6: bytes, l4_len: int, proto: int | None = None) -> int:
    proto = ip6[6] if proto is None else proto
    return ref_sum(ip6[8:40] + struct.pack("!I3xB", l4_len, proto))


def ref_l4_cksum(phdr: int, l4: bytes) -> int:
    c = ~ref_sum(l4, phdr) & 0xFFFF
    return c or 0xFFFF


# ---- frame builders -----------------------------------------------------------------------

MAC_D = bytes.fromhex("020000000002")
MAC_S = bytes.fromhex("020000000001")
SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SRC6 = bytes.fromhex("fd000000000000000000000000000001")
DST6 = bytes.fromhex("fd000000000000000000000000000002")


def eth(ether_type: int, *vlans: int) -> bytes:
    """Ethernet header with VLAN tags of the given TPIDs (outer first) before ``ether_type``."""
    types = list(vlans) + [ether_type]
    out = MAC_D + MAC_S + struct.pack("!H", types[0])
    for t in types[1:]:
        out += struct.pack("!HH", 5, t)          # TCI, then the next protocol
    return out


def ipv4(proto: int, payload: bytes, options: bytes = b"", frag: int = 0x4000, cksum: bool = True,
         vhl: int | None = None) -> bytes:
    assert len(options) % 4 == 0
    vhl = 0x45 + len(options) // 4 if vhl is None else vhl
    h = struct.pack("!BBHHHBBH4s4s", vhl, 0, 20 + len(options) + len(payload), 7, frag, 64, proto, 0,
                    SRC4, DST4) + options
    if cksum:
        h = h[:10] + struct.pack("!H", ref_ipv4_hdr_cksum(h)) + h[12:]
    return h + payload


def ipv6(nh: int, payload: bytes, ext: bytes = b"") -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(payload), nh, 64, SRC6, DST6) + ext + payload


def ext_hdr(nh: int, units: int = 0) -> bytes:
    """A hop-by-hop/routing/destination-options header of (units+1)*8 bytes."""
    return struct.pack("!BB", nh, units) + bytes(6 + 8 * units)


def frag6_hdr(nh: int, offset: int = 0, more: bool = True) -> bytes:
    return struct.pack("!BBHI", nh, 0, (offset << 3) | int(more), 0x1234)


def tcp(payload: bytes = b"", doff: int = 5, cksum: int = 0) -> bytes:
    return (struct.pack("!HHIIBBHHH", 1234, 80, 1, 0, doff << 4, 0x18, 1024, cksum, 0)
            + bytes(4 * (doff - 5)) + payload)


def udp(payload: bytes = b"", cksum: int = 0) -> bytes:
    return struct.pack("!HHHH", 5000, 6000, 8 + len(payload), cksum) + payload


def with_l4_cksum(frame: bytes, l3off: int, v6: bool, proto: int, ext_len: int = 0) -> bytes:
    """``frame`` with a correct TCP/UDP checksum (reference computation)."""
    ip = frame[l3off:]
    l4off = l3off + (40 + ext_len if v6 else (ip[0] & 0xF) * 4)
    if v6:
        l4_len = struct.unpack("!H", ip[4:6])[0] - ext_len
        ph = ref_phdr6(ip, l4_len, proto)
    else:
        l4_len = struct.unpack("!H", ip[2:4])[0] - (ip[0] & 0xF) * 4
        ph = ref_phdr4(ip, l4_len, proto)
    co = l4off + (16 if proto == 6 else 6)
    zeroed = frame[:co] + b"\0\0" + frame[co + 2:]
    c = ref_l4_cksum(ph, zeroed[l4off:l4off + l4_len])
    return zeroed[:co] + struct.pack("!H", c) + zeroed[co + 2:]


def payload(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


# ---- constants ----------------------------------------------------------------------------

def test_c_constants_equal_python_constants():
    """Every rte_flags.h value equals the Python constant of the same name, and every
    Python RTE_MBUF_F_/RTE_PTYPE_/RTE_ETH_*_OFFLOAD_ name has a C twin."""
    c = _core.C_CONSTANTS
    py = {}
    for mod in (mbuf_mod, net, ethdev_types):
        py.update({k: v for k, v in vars(mod).items() if k.isupper()})
    py["PYRTAP_TX_OL_SUPPORTED"] = net.PYRTAP_TX_OL_SUPPORTED
    mismatched = {k: (v, py.get(k)) for k, v in c.items() if py.get(k) != v}
    assert not mismatched
    wanted = [k for k in py if k.startswith(("RTE_MBUF_F_", "RTE_PTYPE_", "RTE_ETH_RX_OFFLOAD_",
                                             "RTE_ETH_TX_OFFLOAD_"))]
    assert sorted(set(wanted) - set(c)) == []
    assert len(wanted) >= 160


def test_constants_spot_values_and_top_level_export():
    """A few DPDK values by hand, and the names reachable as ``rte.X``."""
    assert rte.RTE_ETH_TX_OFFLOAD_TCP_TSO == 0x20
    assert rte.RTE_ETH_RX_OFFLOAD_TCP_LRO == 0x10
    assert rte.RTE_ETH_RX_OFFLOAD_CHECKSUM == 0xE
    assert rte.RTE_PTYPE_L3_IPV6_EXT == 0xC0 and rte.RTE_PTYPE_L4_FRAG == 0x300
    assert rte.RTE_PTYPE_ALL_MASK == 0x0FFFFFFF
    # bit 53 = UDP's
    assert rte.PYRTAP_TX_OL_SUPPORTED & rte.RTE_MBUF_F_TX_SCTP_CKSUM == rte.RTE_MBUF_F_TX_SCTP_CKSUM
    assert not rte.PYRTAP_TX_OL_SUPPORTED & rte.RTE_MBUF_F_TX_VLAN
    for name in net.__all__:
        assert getattr(rte, name) is getattr(net, name)


def test_header_dtypes_sizes_and_field_order():
    sizes = {net.rte_ether_hdr: 14, net.rte_vlan_hdr: 4, net.rte_ipv4_hdr: 20, net.rte_ipv6_hdr: 40,
             net.rte_tcp_hdr: 20, net.rte_udp_hdr: 8}
    for dt, size in sizes.items():
        assert dt.itemsize == size
    assert net.rte_ipv4_hdr.names == ("version_ihl", "type_of_service", "total_length", "packet_id",
                                      "fragment_offset", "time_to_live", "next_proto_id", "hdr_checksum",
                                      "src_addr", "dst_addr")
    assert net.rte_tcp_hdr.fields["cksum"][1] == 16 and net.rte_udp_hdr.fields["dgram_cksum"][1] == 6


def test_header_views_read_and_write_the_mbuf(pool):
    frame = eth(0x0800) + ipv4(17, udp(b"hello"))
    m = mbuf_from(pool, frame)
    try:
        e = rte.rte_pktmbuf_mtod(m)[:14].view(rte.rte_ether_hdr)[0]
        assert e["ether_type"] == rte.RTE_ETHER_TYPE_IPV4
        assert bytes(e["dst_addr"]) == MAC_D
        ip = rte.rte_pktmbuf_mtod_offset(m, 14)[:20].view(rte.rte_ipv4_hdr)[0]
        assert ip["total_length"] == 20 + 8 + 5 and ip["next_proto_id"] == 17
        assert ip["src_addr"] == 0x0A000001
        u = rte.rte_pktmbuf_mtod_offset(m, 34)[:8].view(rte.rte_udp_hdr)[0]
        assert (u["src_port"], u["dst_port"], u["dgram_len"]) == (5000, 6000, 13)
        ip["time_to_live"] = 3                      # a view: writes the packet
        ip["hdr_checksum"] = rte.rte_ipv4_cksum(ip)
        data = mbuf_bytes(m)
        assert data[22] == 3
        assert struct.unpack("!H", data[24:26])[0] == ref_ipv4_hdr_cksum(data[14:34])
        assert ref_sum(data[14:34]) == 0xFFFF        # the header now checks
    finally:
        rte.rte_pktmbuf_free(m)


# ---- checksum helpers vs the reference ------------------------------------------------------

def test_ipv4_cksum_random_headers_and_argument_kinds():
    rng = random.Random(1)
    for _ in range(N_RANDOM):
        opt = rng.randrange(0, 11) * 4
        hdr = bytes([0x45 + opt // 4]) + payload(rng, 19 + opt)
        want = ref_ipv4_hdr_cksum(hdr)
        assert rte.rte_ipv4_cksum(hdr) == want
        arr = np.frombuffer(hdr, np.uint8)
        assert rte.rte_ipv4_cksum(arr) == want
        if not opt:
            assert rte.rte_ipv4_cksum(arr.view(rte.rte_ipv4_hdr)[0]) == want     # record
            assert rte.rte_ipv4_cksum(arr.view(rte.rte_ipv4_hdr)) == want        # array of the dtype
    with pytest.raises(ValueError):
        rte.rte_ipv4_cksum(b"\x46" + bytes(19))            # IHL says 24 bytes, 20 given
    with pytest.raises(ValueError):
        rte.rte_ipv4_cksum(bytes(10))


def test_phdr_cksum_random_with_and_without_tso():
    rng = random.Random(2)
    seg = rte.RTE_MBUF_F_TX_TCP_SEG
    for _ in range(N_RANDOM):
        l4_len = rng.randrange(0, 1500)
        proto = rng.choice([6, 17])
        ip = ipv4(proto, payload(rng, l4_len))[:20]
        ip = ip[:12] + payload(rng, 8) + ip[20:]
        assert rte.rte_ipv4_phdr_cksum(ip, 0) == ref_phdr4(ip, l4_len)
        assert rte.rte_ipv4_phdr_cksum(ip, seg) == ref_phdr4(ip, 0)
        assert rte.rte_ipv4_phdr_cksum(ip, rte.RTE_MBUF_F_TX_UDP_SEG) == ref_phdr4(ip, 0)
        ip6 = struct.pack("!IHBB", 0x60000000, l4_len, proto, 64) + payload(rng, 32)
        assert rte.rte_ipv6_phdr_cksum(ip6, 0) == ref_phdr6(ip6, l4_len)
        assert rte.rte_ipv6_phdr_cksum(ip6, seg) == ref_phdr6(ip6, 0)


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_udptcp_cksum_and_verify_random(v6):
    rng = random.Random(3 + v6)
    for i in range(N_RANDOM):
        proto = 6 if i % 2 else 17
        n = rng.randrange(0, 300)                         # odd lengths included
        l4 = (tcp(payload(rng, n)) if proto == 6 else udp(payload(rng, n)))
        if v6:
            ip = struct.pack("!IHBB", 0x60000000, len(l4), proto, 64) + payload(rng, 32)
            want = ref_l4_cksum(ref_phdr6(ip, len(l4)), l4)
            got = rte.rte_ipv6_udptcp_cksum(ip, l4)
        else:
            ip = ipv4(proto, l4)[:20]
            ip = ip[:12] + payload(rng, 8)
            want = ref_l4_cksum(ref_phdr4(ip, len(l4)), l4)
            got = rte.rte_ipv4_udptcp_cksum(np.frombuffer(ip, np.uint8), np.frombuffer(l4, np.uint8))
        assert got == want
        co = 16 if proto == 6 else 6
        good = l4[:co] + struct.pack("!H", got) + l4[co + 2:]
        bad = l4[:co] + struct.pack("!H", got ^ 0x0101) + l4[co + 2:]
        verify = rte.rte_ipv6_udptcp_cksum_verify if v6 else rte.rte_ipv4_udptcp_cksum_verify
        assert verify(ip, good) == 0
        assert verify(ip, bad) == -1


def test_udptcp_cksum_edge_cases():
    # a payload word that brings the sum to 0xFFFF makes the checksum 0, sent as 0xFFFF
    ip = ipv4(17, udp(b"\0\0"))[:20]
    s0 = ref_sum(udp(b"\0\0"), ref_phdr4(ip, 10))
    l4 = udp(struct.pack("!H", ~s0 & 0xFFFF))
    assert ref_sum(l4, ref_phdr4(ip, 10)) == 0xFFFF
    assert rte.rte_ipv4_udptcp_cksum(ip, l4) == 0xFFFF
    # UDP with no checksum (0) over IPv4 verifies; a view too short for the IP length does not
    assert rte.rte_ipv4_udptcp_cksum_verify(ipv4(17, udp(b"xyz"))[:20], udp(b"xyz")) == 0
    with pytest.raises(ValueError):
        rte.rte_ipv4_udptcp_cksum(ipv4(17, udp(b"xyz"))[:20], udp(b"xy"))
    with pytest.raises(ValueError):
        rte.rte_ipv6_udptcp_cksum(bytes(39), b"")


def test_raw_cksum_random_with_start():
    rng = random.Random(5)
    for _ in range(N_RANDOM):
        data = payload(rng, rng.randrange(0, 200))
        start = rng.randrange(0, 1 << 20)
        assert rte.rte_raw_cksum(data) == ref_sum(data)
        assert rte.rte_raw_cksum(data, start) == ref_sum(data, start)


def test_raw_cksum_mbuf_across_segments(pool):
    """Chains split at random (odd) points sum like the flat bytes, at any offset."""
    rng = random.Random(6)
    for _ in range(60):
        data = payload(rng, rng.randrange(3, 400))
        cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randrange(1, 4))))
        parts = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)], strict=True)]
        m = chain_from(pool, parts)
        try:
            off = rng.randrange(0, len(data))
            n = rng.randrange(0, len(data) - off + 1)
            assert rte.rte_raw_cksum_mbuf(m, off, n) == ref_sum(data[off:off + n])
            assert rte.rte_raw_cksum_mbuf(m, 0, len(data)) == ref_sum(data)
            assert rte.rte_raw_cksum_mbuf(m, off, len(data) - off + 1) == -1
        finally:
            rte.rte_pktmbuf_free(m)


# ---- packet types --------------------------------------------------------------------------

P = rte
FRAMES = {
    # name: (frame, ptype, l2_len, l3_len, l4_len)
    "ipv4_tcp": (eth(0x0800) + ipv4(6, tcp(b"data")),
                 P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV4 | P.RTE_PTYPE_L4_TCP, 14, 20, 20),
    "ipv4_tcp_opts": (eth(0x0800) + ipv4(6, tcp(b"x", doff=8)), 0x111, 14, 20, 32),
    "ipv4opt_udp": (eth(0x0800) + ipv4(17, udp(b"abc"), options=bytes(8)),
                    P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV4_EXT | P.RTE_PTYPE_L4_UDP, 14, 28, 8),
    "vlan_ipv4_udp": (eth(0x0800, 0x8100) + ipv4(17, udp(b"abc")),
                      P.RTE_PTYPE_L2_ETHER_VLAN | P.RTE_PTYPE_L3_IPV4 | P.RTE_PTYPE_L4_UDP, 18, 20, 8),
    "qinq_ipv6_tcp": (eth(0x86DD, 0x88A8, 0x8100) + ipv6(6, tcp(b"zz")),
                      P.RTE_PTYPE_L2_ETHER_QINQ | P.RTE_PTYPE_L3_IPV6 | P.RTE_PTYPE_L4_TCP, 22, 40, 20),
    "ipv6_ext_udp": (eth(0x86DD) + ipv6(0, udp(b"q"), ext=ext_hdr(43) + ext_hdr(60, 1) + ext_hdr(17)),
                     P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV6_EXT | P.RTE_PTYPE_L4_UDP, 14, 72, 8),
    "ipv6_frag": (eth(0x86DD) + ipv6(44, tcp(b"f"), ext=frag6_hdr(6)),
                  P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV6_EXT | P.RTE_PTYPE_L4_FRAG, 14, 48, 0),
    "ipv4_frag_mf": (eth(0x0800) + ipv4(17, udp(b"aaaa"), frag=0x2000),
                     P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV4 | P.RTE_PTYPE_L4_FRAG, 14, 20, 0),
    "ipv4_frag_off": (eth(0x0800) + ipv4(17, b"later bytes", frag=0x0010),
                      P.RTE_PTYPE_L2_ETHER | P.RTE_PTYPE_L3_IPV4 | P.RTE_PTYPE_L4_FRAG, 14, 20, 0),
    "ipv4_sctp": (eth(0x0800) + ipv4(132, bytes(16)), 0x1 | 0x10 | P.RTE_PTYPE_L4_SCTP, 14, 20, 12),
    "ipv4_icmp": (eth(0x0800) + ipv4(1, bytes(8)), 0x1 | 0x10 | P.RTE_PTYPE_L4_ICMP, 14, 20, 0),
    "ipv6_icmp": (eth(0x86DD) + ipv6(58, bytes(8)), 0x1 | 0x40 | P.RTE_PTYPE_L4_ICMP, 14, 40, 0),
    "ipv4_igmp": (eth(0x0800) + ipv4(2, bytes(8)), 0x1 | 0x10 | P.RTE_PTYPE_L4_IGMP, 14, 20, 0),
    "ipv4_gre": (eth(0x0800) + ipv4(47, bytes(8)), 0x1 | 0x10 | P.RTE_PTYPE_L4_NONFRAG, 14, 20, 0),
    "ipv6_nonext": (eth(0x86DD) + ipv6(60, b"", ext=ext_hdr(59)),
                    0x1 | P.RTE_PTYPE_L3_IPV6_EXT | P.RTE_PTYPE_L4_NONFRAG, 14, 48, 0),
    "arp": (eth(0x0806) + bytes(28), P.RTE_PTYPE_L2_ETHER_ARP, 14, 0, 0),
    "lldp": (eth(0x88CC) + bytes(30), P.RTE_PTYPE_L2_ETHER, 14, 0, 0),
    "tcp_truncated": (eth(0x0800) + ipv4(6, tcp())[:30], 0x1 | 0x10, 14, 20, 0),
    "bad_ip_version": (eth(0x0800) + ipv4(6, tcp(), vhl=0x65), P.RTE_PTYPE_L2_ETHER, 14, 0, 0),
    "runt": (bytes(12), P.RTE_PTYPE_UNKNOWN, 0, 0, 0),
}


def _check_ptype(m, want):
    frame, ptype, l2, l3, l4 = want
    hl = rte.rte_net_hdr_lens()
    got = rte.rte_net_get_ptype(m, hl, rte.RTE_PTYPE_ALL_MASK)
    assert (rte.rte_get_ptype_name(got), hl.l2_len, hl.l3_len, hl.l4_len) == \
        (rte.rte_get_ptype_name(ptype), l2, l3, l4)
    assert got == ptype
    assert hl.tunnel_len == hl.inner_l2_len == hl.inner_l3_len == hl.inner_l4_len == 0
    assert rte.rte_net_get_ptype(m, None, rte.RTE_PTYPE_ALL_MASK) == ptype


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_get_ptype_single_and_two_segments(pool, name):
    want = FRAMES[name]
    frame = want[0]
    m = mbuf_from(pool, frame)
    try:
        _check_ptype(m, want)
    finally:
        rte.rte_pktmbuf_free(m)
    for cut in sorted({1, 7, 13, 14, 15, 17, 20, 23, 30, 37, 50, 61, len(frame) - 1}):
        if not 0 < cut < len(frame):
            continue
        m = chain_from(pool, [frame[:cut], frame[cut:]])
        try:
            _check_ptype(m, want)
        finally:
            rte.rte_pktmbuf_free(m)


def test_get_ptype_layers_mask(pool):
    frame = eth(0x0800, 0x8100) + ipv4(6, tcp())
    m = mbuf_from(pool, frame)
    try:
        hl = rte.rte_net_hdr_lens()
        assert rte.rte_net_get_ptype(m, hl, rte.RTE_PTYPE_L2_MASK) == rte.RTE_PTYPE_L2_ETHER_VLAN
        assert hl.l3_len == 0
        assert rte.rte_net_get_ptype(m, hl, rte.RTE_PTYPE_L2_MASK | rte.RTE_PTYPE_L3_MASK) == 0x16
        assert (hl.l3_len, hl.l4_len) == (20, 0)
        assert rte.rte_net_get_ptype(m, hl, 0) == 0
        assert rte.rte_net_get_ptype(m, hl, rte.RTE_PTYPE_ALL_MASK) == 0x116
        assert "L2_ETHER_VLAN L3_IPV4 L4_TCP" == rte.rte_get_ptype_name(0x116)
    finally:
        rte.rte_pktmbuf_free(m)


# ---- Rx checksum check (C helper behind the Rx path) ------------------------------------------

def test_l4_cksum_check_good_bad_unknown(pool):
    rng = random.Random(7)
    cases = []
    for _ in range(40):
        n = rng.randrange(0, 200)
        f4 = with_l4_cksum(eth(0x0800) + ipv4(6, tcp(payload(rng, n))), 14, False, 6)
        f6 = with_l4_cksum(eth(0x86DD) + ipv6(0, udp(payload(rng, n)), ext=ext_hdr(17)), 14, True, 17, 8)
        cases += [(f4, 0x111, 14, 20), (f6, 0x2C1, 14, 48)]
    for frame, ptype, l2, l3 in cases:
        cut = rng.randrange(1, len(frame))
        m = chain_from(pool, [frame[:cut], frame[cut:]])
        try:
            assert rte.rte_net_l4_cksum_check(m, ptype, l2, l3) == 1
            last = m.next                     # flip the last byte (second segment): now bad
            last.data[last.data_len - 1] ^= 0x5A
            assert rte.rte_net_l4_cksum_check(m, ptype, l2, l3) == 0
        finally:
            rte.rte_pktmbuf_free(m)
    # Ethernet padding past the IP length is not summed
    frame = with_l4_cksum(eth(0x0800) + ipv4(17, udp(b"pad me")), 14, False, 17) + bytes(12)
    m = mbuf_from(pool, frame)
    try:
        assert rte.rte_net_l4_cksum_check(m, 0x211, 14, 20) == 1
        assert rte.rte_net_l4_cksum_check(m, 0x311, 14, 20) == -1          # fragment
        assert rte.rte_net_l4_cksum_check(m, 0x511, 14, 20) == -1          # ICMP
    finally:
        rte.rte_pktmbuf_free(m)
    # UDP checksum 0 over IPv4 = none = good; IP length past the packet = unknown
    for frame, want in ((eth(0x0800) + ipv4(17, udp(b"nocsum")), 1),
                        (eth(0x0800) + ipv4(17, udp(b"cut short"))[:-3], -1)):
        m = mbuf_from(pool, frame)
        try:
            assert rte.rte_net_l4_cksum_check(m, 0x211, 14, 20) == want
        finally:
            rte.rte_pktmbuf_free(m)


# ---- tx_prepare ------------------------------------------------------------------------------

F = rte  # flags namespace

V4_TCP = eth(0x0800) + ipv4(6, tcp(b"payload-of-odd-len"))
V6_TCP = eth(0x86DD) + ipv6(6, tcp(b"x" * 100))
V6EXT_UDP = eth(0x86DD) + ipv6(0, udp(b"y" * 33), ext=ext_hdr(17))
V4_UDP = eth(0x0800) + ipv4(17, udp(b"z" * 21), options=bytes(4))


def _mk(pool, frame, ol, l2=14, l3=20, l4=20, segsz=0, parts=None):
    m = chain_from(pool, parts) if parts else mbuf_from(pool, frame)
    m.ol_flags, m.l2_len, m.l3_len, m.l4_len, m.tso_segsz = ol, l2, l3, l4, segsz
    return m


PREPARE_OK = {
    # name: frame, ol_flags, (l2, l3, l4, segsz), l3off, v6, proto, ext, tso
    "v4_ipcksum_tcpcksum": (V4_TCP,
                            F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_TCP_CKSUM,
                            (14, 20, 20, 0), 14, False, 6, 0, False),
    "v4_tso": (V4_TCP, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_TCP_SEG,
               (14, 20, 20, 1000), 14, False, 6, 0, True),
    "v6_tso_tcpcksum": (V6_TCP, F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_TCP_SEG | F.RTE_MBUF_F_TX_TCP_CKSUM,
                        (14, 40, 20, 1400), 14, True, 6, 0, True),
    "v6ext_udp": (V6EXT_UDP, F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_UDP_CKSUM,
                  (14, 48, 8, 0), 14, True, 17, 8, False),
    "v4opt_udp": (V4_UDP, F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_UDP_CKSUM,
                  (14, 24, 8, 0), 14, False, 17, 0, False),
}


@pytest.mark.parametrize("name", sorted(PREPARE_OK))
def test_tx_prepare_fixups_byte_for_byte(pool, name):
    frame, ol, (l2, l3, l4, segsz), l3off, v6, proto, ext, tso = PREPARE_OK[name]
    # dirty checksum fields, so the fix-up is visible
    l4off = l3off + l3
    co = l4off + (16 if proto == 6 else 6)
    dirty = bytearray(frame)
    dirty[co:co + 2] = b"\xAB\xCD"
    if not v6:
        dirty[l3off + 10:l3off + 12] = b"\x12\x34"
    m = _mk(pool, bytes(dirty), ol, l2, l3, l4, segsz)
    try:
        assert _core._tx_prepare_one(m) == 0
        out = mbuf_bytes(m)
        ip = out[l3off:]
        if v6:
            l4_len = struct.unpack("!H", ip[4:6])[0] - ext
            want = ref_phdr6(ip, 0 if tso else l4_len, proto)
        else:
            l4_len = struct.unpack("!H", ip[2:4])[0] - l3
            want = ref_phdr4(ip, 0 if tso else l4_len, proto)
        expect = bytearray(dirty)
        expect[co:co + 2] = struct.pack("!H", want)
        if ol & F.RTE_MBUF_F_TX_IP_CKSUM:
            expect[l3off + 10:l3off + 12] = b"\0\0"
        assert out == bytes(expect)
        # what the NIC (or the kernel) then does gives the reference checksum
        if not tso:
            c = ~ref_sum(out[l4off:l4off + l4_len]) & 0xFFFF or 0xFFFF
            good = with_l4_cksum(frame, l3off, v6, proto, ext)
            assert struct.pack("!H", c) == good[co:co + 2]
    finally:
        rte.rte_pktmbuf_free(m)


def test_tx_prepare_outer_lengths_shift_the_headers(pool):
    """With OUTER_IPV4 the inner headers sit at outer_l2 + outer_l3 + l2_len."""
    inner = eth(0x0800) + ipv4(6, tcp(b"inner"))
    outer_payload = udp(bytes(8) + inner)                 # UDP + VXLAN + inner frame
    frame = eth(0x0800) + ipv4(17, outer_payload)
    m = _mk(pool, frame, F.RTE_MBUF_F_TX_OUTER_IPV4 | F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_IP_CKSUM
            | F.RTE_MBUF_F_TX_TCP_CKSUM, l2=8 + 8 + 14, l3=20, l4=20)
    m.outer_l2_len, m.outer_l3_len = 14, 20
    try:
        assert _core._tx_prepare_one(m) == 0
        out = mbuf_bytes(m)
        l3off = 14 + 20 + 30
        assert out[l3off + 10:l3off + 12] == b"\0\0"
        assert struct.unpack("!H", out[l3off + 36:l3off + 38])[0] == ref_phdr4(out[l3off:], 25, 6)
        assert out[:l3off] == frame[:l3off]               # outer headers untouched
    finally:
        rte.rte_pktmbuf_free(m)


def test_tx_prepare_no_request_is_a_no_op(pool):
    m = _mk(pool, V4_TCP, F.RTE_MBUF_F_TX_IPV4, l2=0, l3=0, l4=0)
    try:
        assert _core._tx_prepare_one(m) == 0
        assert mbuf_bytes(m) == V4_TCP
    finally:
        rte.rte_pktmbuf_free(m)


ENOTSUP_FLAGS = ["SCTP_CKSUM", "VLAN", "UDP_SEG", "TUNNEL_VXLAN", "OUTER_IP_CKSUM", "QINQ",
                 "IEEE1588_TMST", "OUTER_UDP_CKSUM"]

V4 = F.RTE_MBUF_F_TX_IPV4
EINVAL_CASES = {
    # name: frame, ol_flags, l2, l3, l4, segsz, parts
    "ipcksum_without_ipv4": (V6_TCP, F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_IP_CKSUM, 14, 40, 20, 0, None),
    "ipv4_and_ipv6": (V4_TCP, V4 | F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 20, 0, None),
    "l4_without_ip_version": (V4_TCP, F.RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 20, 0, None),
    "tso_without_segsz": (V4_TCP, V4 | F.RTE_MBUF_F_TX_TCP_SEG, 14, 20, 20, 0, None),
    "tso_without_ip_version": (V4_TCP, F.RTE_MBUF_F_TX_TCP_SEG, 14, 20, 20, 1000, None),
    "tso_with_udp": (V4_TCP, V4 | F.RTE_MBUF_F_TX_TCP_SEG | F.RTE_MBUF_F_TX_UDP_CKSUM,
                     14, 20, 20, 1000, None),
    "lengths_past_packet": (V4_TCP, V4 | F.RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 200, 0, None),
    "l3_not_ipv6": (V4_TCP, F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_TCP_CKSUM, 14, 40, 20, 0, None),
    "l3_not_at_l2_len": (V4_TCP, V4 | F.RTE_MBUF_F_TX_IP_CKSUM, 18, 20, 20, 0, None),
    "l3_len_not_ihl": (V4_UDP, V4 | F.RTE_MBUF_F_TX_UDP_CKSUM, 14, 20, 8, 0, None),
    "l4_proto_mismatch": (V4_TCP, V4 | F.RTE_MBUF_F_TX_UDP_CKSUM, 14, 20, 8, 0, None),
    "headers_split": (V4_TCP, V4 | F.RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 20, 0, [V4_TCP[:40], V4_TCP[40:]]),
    "zero_l3_len": (V4_TCP, V4 | F.RTE_MBUF_F_TX_IP_CKSUM, 14, 0, 0, 0, None),
}


@pytest.mark.parametrize("flag", ENOTSUP_FLAGS)
def test_tx_prepare_enotsup(pool, flag):
    """A request the TAP drivers cannot do; SCTP shares bits with UDP in the L4 field."""
    l4 = 0 if flag == "SCTP_CKSUM" else F.RTE_MBUF_F_TX_TCP_CKSUM
    m = _mk(pool, V4_TCP, V4 | l4 | getattr(F, "RTE_MBUF_F_TX_" + flag))
    try:
        assert _core._tx_prepare_one(m) == -errno.ENOTSUP
        assert mbuf_bytes(m) == V4_TCP
    finally:
        rte.rte_pktmbuf_free(m)


@pytest.mark.parametrize("name", sorted(EINVAL_CASES))
def test_tx_prepare_einval(pool, name):
    frame, ol, l2, l3, l4, segsz, parts = EINVAL_CASES[name]
    m = _mk(pool, frame, ol, l2, l3, l4, segsz, parts)
    try:
        assert _core._tx_prepare_one(m) == -errno.EINVAL
        assert mbuf_bytes(m) == frame                     # nothing written on failure
    finally:
        rte.rte_pktmbuf_free(m)


FAKE_PORT = rte.RTE_MAX_ETHPORTS - 1


@pytest.fixture
def fake_tx_port():
    """A port id published in the burst table with two Tx queues that are never polled:
    rte_eth_tx_prepare only needs the table to say the port is started."""
    assert rte.rte_eth_dev_is_valid_port(FAKE_PORT) == 0, "the fake port id is in use"
    _core.fp_ops_set(FAKE_PORT, [], [_core.Queue(), _core.Queue()])
    yield FAKE_PORT
    _core.fp_ops_clear(FAKE_PORT)


@pytest.mark.parametrize("as_burst", [False, True], ids=["list", "burst"])
def test_eth_tx_prepare_stops_at_first_failure(pool, fake_tx_port, as_burst):
    good = dict(ol=V4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_TCP_CKSUM)
    pkts = [_mk(pool, V4_TCP, **good), _mk(pool, V4_TCP, **good),
            _mk(pool, V4_TCP, V4 | F.RTE_MBUF_F_TX_SCTP_CKSUM), _mk(pool, V4_TCP, **good)]
    arg = pkts
    if as_burst:
        arg = rte.MbufBurst(8)
        for i, p in enumerate(pkts):
            arg[i] = p
    try:
        _core._set_errno(0)
        assert rte.rte_eth_tx_prepare(fake_tx_port, 1, arg, 4) == 2
        assert rte.rte_errno() == errno.ENOTSUP
        assert mbuf_bytes(pkts[0])[24:26] == b"\0\0"          # the first two were fixed up
        assert mbuf_bytes(pkts[3]) == V4_TCP                 # the one after the failure was not
        pkts[2].ol_flags = V4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_IPV6
        assert rte.rte_eth_tx_prepare(fake_tx_port, 0, arg, 4) == 2
        assert rte.rte_errno() == errno.EINVAL
        pkts[2].ol_flags = 0
        assert rte.rte_eth_tx_prepare(fake_tx_port, 0, arg, 4) == 4
        assert mbuf_bytes(pkts[3])[24:26] == b"\0\0"
        assert rte.rte_eth_tx_prepare(fake_tx_port, 0, arg, 0) == 0
    finally:
        for p in pkts:
            rte.rte_pktmbuf_free(p)


def test_eth_tx_prepare_bad_port_or_queue(pool, fake_tx_port):
    m = _mk(pool, V4_TCP, V4 | F.RTE_MBUF_F_TX_IP_CKSUM)
    try:
        for port, queue, err in ((FAKE_PORT - 1, 0, errno.ENODEV), (999, 0, errno.ENODEV),
                                 (-1, 0, errno.ENODEV), (FAKE_PORT, 2, errno.EINVAL),
                                 (FAKE_PORT, -1, errno.EINVAL)):
            _core._set_errno(0)
            assert rte.rte_eth_tx_prepare(port, queue, [m], 1) == 0
            assert rte.rte_errno() == err
        assert mbuf_bytes(m) == V4_TCP
    finally:
        rte.rte_pktmbuf_free(m)


def test_eth_tx_prepare_on_a_real_port(tap_port, pool):
    """Started port: packets prepared; stopped port: ENODEV."""
    setup_port(tap_port.port, pool)
    m = _mk(pool, V4_TCP, V4 | F.RTE_MBUF_F_TX_IP_CKSUM | F.RTE_MBUF_F_TX_TCP_SEG, segsz=500)
    try:
        assert rte.rte_eth_tx_prepare(tap_port.port, 0, [m], 1) == 1
        assert mbuf_bytes(m)[50:52] == struct.pack("!H", ref_phdr4(V4_TCP[14:], 0))
        assert rte.rte_eth_dev_stop(tap_port.port) == 0
        _core._set_errno(0)
        assert rte.rte_eth_tx_prepare(tap_port.port, 0, [m], 1) == 0
        assert rte.rte_errno() == errno.ENODEV
    finally:
        rte.rte_pktmbuf_free(m)


# ---- rx_offloads_to_tx ---------------------------------------------------------------------

def _rx(pool, frame, ol, ptype, lens=(14, 20, 20), segsz=0):
    m = mbuf_from(pool, frame)
    m.ol_flags, m.packet_type, m.tso_segsz = ol, ptype, segsz
    m.l2_len, m.l3_len, m.l4_len = lens
    return m


def test_rx_offloads_to_tx_lro_and_partial_checksums(pool):
    lro = _rx(pool, V4_TCP,
              F.RTE_MBUF_F_RX_LRO | F.RTE_MBUF_F_RX_L4_CKSUM_NONE | F.RTE_MBUF_F_RX_IP_CKSUM_GOOD,
              0x111, segsz=1448)
    part6 = _rx(pool, V6EXT_UDP, F.RTE_MBUF_F_RX_L4_CKSUM_NONE | F.RTE_MBUF_F_RX_RSS_HASH, 0x2C1, (14, 48, 8))
    good = _rx(pool, V4_TCP, F.RTE_MBUF_F_RX_L4_CKSUM_GOOD | F.RTE_MBUF_F_RX_IP_CKSUM_GOOD, 0x111)
    frag = _rx(pool, V4_TCP, F.RTE_MBUF_F_RX_L4_CKSUM_NONE, 0x311)
    lro_udp = _rx(pool, V4_UDP, F.RTE_MBUF_F_RX_LRO, 0x231, (14, 24, 8), segsz=500)
    pkts = [lro, part6, good, frag, lro_udp]
    try:
        assert rte.rx_offloads_to_tx(pkts, len(pkts)) == len(pkts)
        assert lro.ol_flags == F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_TCP_CKSUM | F.RTE_MBUF_F_TX_TCP_SEG
        assert lro.tso_segsz == 1448
        assert mbuf_bytes(lro)[50:52] == struct.pack("!H", ref_phdr4(V4_TCP[14:], 0))   # TSO: no length
        assert part6.ol_flags == F.RTE_MBUF_F_TX_IPV6 | F.RTE_MBUF_F_TX_UDP_CKSUM
        ip6 = V6EXT_UDP[14:]
        assert mbuf_bytes(part6)[14 + 48 + 6:14 + 48 + 8] == struct.pack("!H", ref_phdr6(ip6, 8 + 33, 17))
        assert good.ol_flags == 0 and mbuf_bytes(good) == V4_TCP
        assert frag.ol_flags == 0 and mbuf_bytes(frag) == V4_TCP
        assert lro_udp.ol_flags == F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_UDP_CKSUM   # no UDP_SEG
        # the result is what rte_eth_tx_prepare accepts as is
        for p in pkts:
            assert _core._tx_prepare_one(p) == 0
    finally:
        for p in pkts:
            rte.rte_pktmbuf_free(p)


def test_rx_offloads_to_tx_reparses_missing_lengths_and_keeps_generic_flags(pool):
    frame = eth(0x0800, 0x8100) + ipv4(17, udp(b"vlan-udp"), options=bytes(4))
    m = _rx(pool, frame, F.RTE_MBUF_F_RX_L4_CKSUM_NONE, 0, (0, 0, 0))
    clone = rte.rte_pktmbuf_clone(m, pool)
    b = rte.MbufBurst(4)
    b[0] = clone
    try:
        clone.ol_flags |= F.RTE_MBUF_F_RX_L4_CKSUM_NONE
        clone.packet_type = 0
        clone.l2_len = clone.l3_len = clone.l4_len = 0
        assert rte.rx_offloads_to_tx(b, 1) == 1
        assert (clone.l2_len, clone.l3_len, clone.l4_len) == (18, 24, 8)
        assert clone.packet_type == (rte.RTE_PTYPE_L2_ETHER_VLAN | rte.RTE_PTYPE_L3_IPV4_EXT
                                     | rte.RTE_PTYPE_L4_UDP)
        assert clone.ol_flags == F.RTE_MBUF_F_INDIRECT | F.RTE_MBUF_F_TX_IPV4 | F.RTE_MBUF_F_TX_UDP_CKSUM
        assert mbuf_bytes(m)[18 + 24 + 6:18 + 24 + 8] == struct.pack("!H", ref_phdr4(frame[18:], 16))
        assert rte.rx_offloads_to_tx(b, 0) == 0
    finally:
        rte.rte_pktmbuf_free(clone)
        rte.rte_pktmbuf_free(m)
