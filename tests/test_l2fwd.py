"""The ported samples (examples/l2fwd.py, rxtx_callbacks.py, link_status_interrupt.py)
and the tcp workload (pyrtap.tcpfwd) with real TCP traffic.

Each test builds the demo's topology with names of its own: the sample runs as a
subprocess with two TAP ports A and B, A is moved into a new network namespace ns1 and
B into ns2 (addresses 10.200.0.1/24 and .2), so the sample is the only link between
them. Finalizers stop it (SIGINT, then SIGKILL) and delete both namespaces; the tests
check that nothing is left behind.

Needs root, /dev/net/tun, ``ping`` and ``iperf3`` (scripts/prereqs.sh installs them):
the tests fail, not skip, when one is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from helpers import ip
from pyrtap import tcpfwd

L2FWD = tcpfwd.L2FWD
IP1, IP2 = tcpfwd.NET + ".1", tcpfwd.NET + ".2"
PORT = 5301
TRANSFER_BYTES = 2 << 20

# l2fwd --offload keeps LRO/TSO and checksum offloads end to end (rx_offloads_to_tx).
TRANSFER_ROWS = ("net_tap", "net_rtap", "net_tap+offload", "net_rtap+offload")


@pytest.fixture
def net_tools(tap_required):
    missing = [t for t in ("ping", "iperf3") if shutil.which(t) is None]
    if missing:
        pytest.fail("%s not found: the tcp workload and these tests need them; run "
                    "scripts/prereqs.sh (make setup) to install iperf3 and iputils-ping"
                    % " and ".join(missing), pytrace=False)


def netns_exists(ns: str) -> bool:
    return os.path.exists("/var/run/netns/" + ns)


@dataclass
class Topology:
    a: str
    b: str
    ns1: str
    ns2: str
    fw: tcpfwd.Forwarder

    def output(self) -> str:
        return "\n".join(self.fw.lines)


@pytest.fixture
def topology(net_tools, unique_name):
    """Factory ``topology(argv_tail, driver="net_tap")``: l2fwd between two new namespaces."""
    made: list[Topology] = []

    def make(driver: str = "net_tap", app_args=("-p", "3", "--no-mac-updating", "-T", "0"),
             devargs: str = "", eal_args=(), script=L2FWD, ready="entering main loop") -> Topology:
        a, b = unique_name("la"), unique_name("lb")
        ns1, ns2 = unique_name("ln"), unique_name("ln")
        extra = "," + devargs if devargs else ""
        argv = [sys.executable, str(script), "--vdev=%s0,iface=%s%s" % (driver, a, extra),
                "--vdev=%s1,iface=%s%s" % (driver, b, extra), *eal_args, "--", *app_args]
        topo = Topology(a, b, ns1, ns2, tcpfwd.Forwarder(argv, ready))
        made.append(topo)
        end = time.monotonic() + 20
        while not topo.fw.ready.is_set():
            if topo.fw.proc.poll() is not None:
                topo.fw.thread.join(1)
                pytest.fail("%s exited (%d) before its main loop:\n%s"
                            % (script.name, topo.fw.proc.returncode, topo.output()), pytrace=False)
            assert time.monotonic() < end, "%s not ready after 20 s:\n%s" % (script.name, topo.output())
            time.sleep(0.02)
        for iface, ns, addr in ((a, ns1, IP1), (b, ns2, IP2)):
            ip("netns", "add", ns)
            ip("link", "set", iface, "netns", ns)
            ip("-n", ns, "link", "set", iface, "addrgenmode", "none")
            ip("-n", ns, "addr", "add", addr + "/24", "dev", iface)
            ip("-n", ns, "link", "set", iface, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        return topo

    yield make
    problems = []
    for t in made:
        rc = t.fw.stop()
        if rc not in (0, None):
            problems.append("%s exit status %s:\n%s" % (t.fw.proc.args[1], rc, t.output()))
        for ns, iface in ((t.ns1, t.a), (t.ns2, t.b)):
            if netns_exists(ns):
                # The TAPs belong to l2fwd's fds: once it is gone, so are they.
                if ip("-n", ns, "link", "show", "dev", iface, check=False).returncode == 0:
                    problems.append("%s still exists in %s after l2fwd exited" % (iface, ns))
                ip("netns", "del", ns, check=False)
            if netns_exists(ns):
                problems.append("namespace %s could not be deleted" % ns)
    assert not problems, "\n".join(problems)


def ping(ns: str, dst: str, count: int = 5) -> tuple[int, int, str]:
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-c", str(count), "-i", "0.01",
                        "-W", "2", dst], capture_output=True, text=True, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", r.stdout)
    assert m, "no ping summary: %s %s" % (r.stdout, r.stderr)
    return int(m.group(1)), int(m.group(2)), r.stdout


SERVER = r"""
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(20)
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(20)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 16)
    if not d:
        break
    h.update(d)
    n += len(d)
print(n, h.hexdigest(), flush=True)
"""

CLIENT = r"""
import socket, sys
data = sys.stdin.buffer.read()
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
c.recv(1)
c.close()
"""


def tcp_transfer(topo: Topology, nbytes: int = TRANSFER_BYTES) -> None:
    """Send ``nbytes`` random bytes from ns1 to a server in ns2; the server's SHA-256 must match."""
    data = os.urandom(nbytes)
    srv = subprocess.Popen(["ip", "netns", "exec", topo.ns2, sys.executable, "-c", SERVER, IP2, str(PORT)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "listening", srv.stderr.read()
        cli = subprocess.run(["ip", "netns", "exec", topo.ns1, sys.executable, "-c", CLIENT, IP2, str(PORT)],
                             input=data, capture_output=True, timeout=30)
        assert cli.returncode == 0, "client failed: %s\nl2fwd:\n%s" % (cli.stderr.decode(), topo.output())
        out, err = srv.communicate(timeout=30)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.communicate()
        srv.stdout.close()
        srv.stderr.close()
    n, digest = out.split()
    assert int(n) == nbytes, "server got %s of %d bytes" % (n, nbytes)
    assert digest == hashlib.sha256(data).hexdigest(), "SHA-256 differs: the bytes were corrupted"


@pytest.mark.parametrize("row", TRANSFER_ROWS)
def test_l2fwd_carries_ping_and_tcp(topology, row):
    """ping, then 2 MB over TCP from ns1 to ns2 through l2fwd, verified by SHA-256."""
    driver, _, flag = row.partition("+")
    args = ["-p", "3", "--no-mac-updating", "-T", "0"]
    if flag == "offload":
        args.append("--offload")
    topo = topology(driver, args)
    sent, received, out = ping(topo.ns1, IP2)
    assert received == sent == 5, "ping through l2fwd (%s): %s\nl2fwd:\n%s" % (row, out, topo.output())
    tcp_transfer(topo)


def test_l2fwd_sigint_final_stats_and_cleanup(topology):
    """MAC updating on (the numpy path), stats every second; SIGINT stops l2fwd cleanly
    with its final statistics, and its interfaces are gone."""
    topo = topology("net_rtap", ["-p", "3", "-T", "1"], devargs="rx=batch")
    # With MAC updating, frames out of port 1 (B) go to 02:00:00:00:00:01 and frames out
    # of port 0 (A) to 02:00:00:00:00:00: give the namespace ends those addresses.
    ip("-n", topo.ns1, "link", "set", topo.a, "address", "02:00:00:00:00:00")
    ip("-n", topo.ns2, "link", "set", topo.b, "address", "02:00:00:00:00:01")
    sent, received, out = ping(topo.ns1, IP2, count=10)
    assert received == sent == 10, "ping with MAC updating: %s\nl2fwd:\n%s" % (out, topo.output())
    time.sleep(1.1)                                      # at least one periodic print
    topo.fw.proc.send_signal(signal.SIGINT)
    assert topo.fw.proc.wait(10) == 0, topo.output()
    topo.fw.thread.join(2)
    text = topo.output()
    assert "Signal 2 received, preparing to exit..." in text
    assert "Closing port 0... Done" in text and "Closing port 1... Done" in text
    assert text.rstrip().endswith("Bye...")
    ports = sample_port_counts("l2fwd", text)
    assert sorted(ports) == [0, 1] and ports[0][0] >= 10 and ports[1][0] >= 10, text
    assert (ports[0][1], ports[1][1]) == (ports[1][0], ports[0][0]), \
        "every frame received on one port is sent on the other:\n" + text
    assert text.count("Port statistics") >= 2, "no periodic statistics with -T 1:\n" + text
    for ns, iface in ((topo.ns1, topo.a), (topo.ns2, topo.b)):
        assert ip("-n", ns, "link", "show", "dev", iface, check=False).returncode != 0, \
            "%s still exists in %s after l2fwd exited" % (iface, ns)
        assert not os.path.exists("/sys/class/net/" + iface)


def test_tcpfwd_raw_row_end_to_end(net_tools):
    """One row of the demo's tcp workload (the raw forwarder), ping and a 1 s iperf3;
    every process, namespace and interface of the row is gone afterwards."""
    records, problems = tcpfwd.run_rows(["raw"], 1.0)
    assert problems == []
    (rec,) = records
    assert "error" not in rec, rec.get("error")
    assert rec["ping_received"] == rec["ping_sent"] == tcpfwd.PING_COUNT
    assert rec["ping_loss_pct"] == 0 and rec["ping_mean_ms"] > 0 and rec["ping_p99_ms"] >= rec["ping_mean_ms"]
    assert rec["gbps"] > 0.05, rec
    assert rec["forwarder_exit"] == 0, rec["forwarder_tail"]
    for iface in rec["ifaces"]:
        assert not os.path.exists("/sys/class/net/" + iface)
    for ns in rec["namespaces"]:
        assert not netns_exists(ns)


def test_tcpfwd_failing_row_is_an_error_not_a_crash(net_tools):
    """A forwarder that cannot start makes its row an error with a one-line reason."""
    bad = tcpfwd.Row("bad", "l2fwd", "net_bogus", offload=False)
    tcpfwd.ROWS["bad"] = bad
    try:
        records, problems = tcpfwd.run_rows(["bad"], 1.0)
    finally:
        del tcpfwd.ROWS["bad"]
    assert problems == []
    (rec,) = records
    assert "forwarder exited" in rec["error"] and "\n" not in rec["error"], rec


@pytest.mark.parametrize("driver", ["net_tap", "net_rtap"])
def test_l2fwd_on_two_lcores(topology, driver):
    """-l 0-1 and -q 1: port 0 on lcore 0 (the main thread), port 1 on lcore 1 (a worker
    thread pinned to CPU 1), each running the forwarding loop; ping and TCP cross."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("this test needs 2 CPUs (l2fwd -l 0-1)", pytrace=False)
    topo = topology(driver, ("-p", "3", "-q", "1", "--no-mac-updating", "-T", "0"), eal_args=("-l", "0-1"))
    sent, received, out = ping(topo.ns1, IP2)
    assert received == sent == 5, "ping through l2fwd on 2 lcores: %s\n%s" % (out, topo.output())
    tcp_transfer(topo)
    log = topo.output()
    assert "Lcore 0: RX port 0 TX port 1" in log and "Lcore 1: RX port 1 TX port 0" in log, log
    assert "entering main loop on lcore 0" in log and "entering main loop on lcore 1" in log, log


# ---- the ported samples between two namespaces, counted against the kernel ---------------

EXAMPLES = L2FWD.parent
# sample -> (script, line printed when it polls, application options, rewrites MACs)
SAMPLES = {
    "l2fwd": (L2FWD, "entering main loop", ("-p", "3", "-T", "0"), True),
    "rxtx_callbacks": (EXAMPLES / "rxtx_callbacks.py", "forwarding packets", (), False),
    # -q 2: one lcore polls both ports, as l2fwd's default does with one lcore
    "link_status_interrupt": (EXAMPLES / "link_status_interrupt.py", "entering main loop",
                              ("-p", "3", "-q", "2", "-T", "0"), True),
}


def kernel_packets(ns: str, iface: str) -> tuple[int, int]:
    """(rx, tx) packets of ``iface`` as its namespace's kernel counts them.

    rx includes the frames the kernel took and dropped: in the set-up, the sample may
    forward a frame (IPv6 multicast from the other TAP, still in the root namespace) to
    a TAP that is down while it moves into its namespace; the write fails with EIO, the
    kernel counts it in rx_dropped (drop reason DEV_READY), and DPDK's Tx count
    includes it (a burst counts the packets it consumed)."""
    (link,) = json.loads(ip("-n", ns, "-s", "-j", "link", "show", "dev", iface).stdout)
    rx, tx = link["stats64"]["rx"], link["stats64"]["tx"]
    return rx["packets"] + rx["dropped"], tx["packets"]


def sample_port_counts(sample: str, out: str) -> dict[int, tuple[int, int, int]]:
    """port -> (received, handed to the kernel, refused by the Tx queue) from the sample's
    output at exit. l2fwd and link_status_interrupt count what tx_burst consumed, which
    includes a write the kernel failed (counted in the port's oerrors); rxtx_callbacks
    prints the port's opackets and oerrors, added up here to the same thing."""
    if sample == "rxtx_callbacks":
        return {int(p): (int(rx), int(tx) + int(oerr), int(drop)) for p, rx, tx, oerr, drop in
                re.findall(r"Port (\d+): ipackets (\d+) opackets (\d+) imissed \d+ "
                           r"oerrors (\d+) tx_dropped (\d+)", out)}
    final = out[out.rindex("Port statistics"):]
    blocks = re.findall(r"Statistics for port (\d+)[\s\S]*?Packets sent:\s+(\d+)\s+"
                        r"Packets received:\s+(\d+)\s+Packets dropped:\s+(\d+)", final)
    return {int(p): (int(rx), int(tx), int(drop)) for p, tx, rx, drop in blocks}


@pytest.mark.parametrize("driver", ["net_tap", "net_rtap"])
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_sample_forwards_ping_and_iperf3(topology, sample, driver):
    """Each ported sample (interfaces it creates, moved into two namespaces) carries ping
    and a 1 s iperf3; at exit its per-port counts equal the kernel's counters of the two
    interfaces, and l2fwd / link_status_interrupt rewrite the destination MAC: ns1 sends
    to a MAC nobody has, and only the rewrite to 02:00:00:00:00:01 gets it into ns2."""
    script, ready, args, rewrites = SAMPLES[sample]
    topo = topology(driver, args, script=script, ready=ready)
    mac = {topo.a: "02:00:00:00:00:00", topo.b: "02:00:00:00:00:01"}
    for ns, iface in ((topo.ns1, topo.a), (topo.ns2, topo.b)):
        ip("-n", ns, "link", "set", iface, "address", mac[iface])
    # Static neighbours: no ARP, so the only frames are ping's and iperf3's.
    ip("-n", topo.ns1, "neigh", "replace", IP2, "dev", topo.a, "nud", "permanent",
       "lladdr", "02:00:00:00:00:99" if rewrites else mac[topo.b])
    ip("-n", topo.ns2, "neigh", "replace", IP1, "dev", topo.b, "nud", "permanent",
       "lladdr", "02:00:00:00:00:98" if rewrites else mac[topo.a])

    def alive():
        if topo.fw.proc.poll() is not None:
            raise AssertionError("%s exited:\n%s" % (sample, topo.output()))

    p = tcpfwd.run_ping(topo.ns1, IP2, alive)
    assert p["ping_received"] == p["ping_sent"] == tcpfwd.PING_COUNT, (p, topo.output())
    r = tcpfwd.run_iperf(topo.ns2, topo.ns1, IP2, 1.0, alive)
    assert r["gbps"] > 0.01, r
    # Quiet first: the last frames forwarded, the Tx buffers drained, and the stragglers
    # of iperf3's end (its server's sockets close as it exits) through.
    kernel = None
    for _ in range(30):
        time.sleep(0.3)
        prev, kernel = kernel, {0: kernel_packets(topo.ns1, topo.a), 1: kernel_packets(topo.ns2, topo.b)}
        if kernel == prev:
            break
    topo.fw.proc.send_signal(signal.SIGINT)
    assert topo.fw.proc.wait(15) == 0, topo.output()
    topo.fw.thread.join(2)
    out = topo.output()
    ports = sample_port_counts(sample, out)
    assert sorted(ports) == [0, 1], out
    for port, (k_rx, k_tx) in kernel.items():
        # what the kernel sent into the TAP is what the port received, and back
        assert ports[port][:2] == (k_tx, k_rx), "port %d counted (rx, tx) %s, kernel %s\n%s" % (
            port, ports[port][:2], (k_tx, k_rx), out)
    for rx, tx in ((0, 1), (1, 0)):
        # every frame received is sent on, or counted as dropped (DPDK's samples drop
        # what a full Tx queue refuses)
        assert ports[rx][0] == ports[tx][1] + ports[tx][2], "frames unaccounted for: %s\n%s" % (ports, out)
        assert ports[tx][2] <= ports[rx][0] // 1000, "too many drops: %s\n%s" % (ports, out)
    assert ports[0][0] > tcpfwd.PING_COUNT and ports[1][0] > tcpfwd.PING_COUNT, ports
    if sample == "rxtx_callbacks":
        seen, stamped = map(int, re.search(r"Tx callback saw (\d+) packets, (\d+) stamped", out).groups())
        assert seen == stamped == ports[0][0] + ports[1][0], out
