"""Real TCP through a two-port forwarder: ping and iperf3 between two network namespaces.

Topology, per row (implementation)::

    ns1: A 10.200.0.1/24  <-- TAP -->  forwarder  <-- TAP -->  B 10.200.0.2/24 :ns2

The forwarder process creates two TAP interfaces A and B in the root namespace and
forwards every frame read on one to the other. Once it is ready, A is moved into a new
namespace ns1 and B into ns2 (``ip link set A netns ns1``, which sets it down), they get
their addresses and are brought up, so the forwarder is the only link between ns1 and
ns2. Then, from ns1: ``ping -c 20 -i 0.01`` (loss, mean and p99 RTT from the per-reply
times) and ``iperf3 -c`` against ``iperf3 -s`` in ns2 for ``--tcp-time`` seconds
(Gbit/s received, from iperf3's JSON). The forwarder is stopped with SIGINT (SIGKILL
after a timeout) and both namespaces are deleted.

Rows (``ROWS``):

* ``raw``: this module's own ~40-line ``os.read``/``os.write`` forwarder (``python -m
  pyrtap.tcpfwd raw A B``), TAPs opened with ``IFF_TAP|IFF_NO_PI|IFF_VNET_HDR`` and
  ``TUNSETOFFLOAD(TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6)``: the kernel hands over and takes
  64 KiB TSO frames with partial checksums, and the 10-byte virtio-net header is passed
  through untouched. The kernel's reference: what a forwarder with offloads can reach.
* ``raw/no-offload``: the same without ``TUNSETOFFLOAD``: every frame is MTU-sized and
  checksummed by the kernel, as the pyrtap drivers get them without offloads.
* ``net_tap``, ``net_rtap``, ``net_rtap/rx=MODE``: ``examples/l2fwd.py`` (DPDK's l2fwd,
  one lcore) with ``-p 3 --no-mac-updating -T 0`` on two ports of that driver/devargs.
* ``net_tap+offload``, ``net_rtap+offload``: the same with ``--offload`` (Rx LRO and
  checksum flags turned into Tx TSO/checksum requests).
* ``testpmd``: DPDK's C ``dpdk-testpmd`` (io forwarding) over DPDK's own ``net_tap``,
  without hugepages; skipped with a note when it is not installed.

A row that fails (forwarder cannot start, no connectivity, ...) is reported as
``error`` with a one-line reason; the other rows still run. Everything a row creates
(processes, namespaces, interfaces, DPDK runtime directory) is removed after it, also
when the run is interrupted (the caller's ``check`` raises; ``close()`` runs in a
``finally``).
"""
from __future__ import annotations

import collections
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "tf"                 # every interface and namespace we create is tf<token>...
NET = "10.200.0"              # the /24 between ns1 and ns2 (inside the namespaces only)
PING_COUNT = 20
PING_INTERVAL = 0.01
READY_TIMEOUT = 20.0          # forwarder start-up (python import + EAL init, testpmd init)
STOP_TIMEOUT = 5.0            # SIGINT, then SIGKILL
DPDK_RUNDIR = "/var/run/dpdk"

REPO = Path(__file__).resolve().parent.parent
L2FWD = REPO / "examples" / "l2fwd.py"


@dataclass(frozen=True)
class Row:
    key: str                  # table name, e.g. "net_rtap/rx=batch"
    kind: str                 # "raw" | "l2fwd" | "testpmd"
    driver: str = ""          # l2fwd: net_tap | net_rtap
    devargs: str = ""         # l2fwd: extra devargs
    offload: bool = True      # raw: TUNSETOFFLOAD; l2fwd: --offload
    what: str = ""
    lcores: int = 1           # l2fwd: 2 runs one lcore thread per port (-l 0-1 -q 1)


ROWS = {r.key: r for r in (
    Row("raw", "raw", offload=True, what="os.read/os.write, IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4|TSO6)"),
    Row("raw/no-offload", "raw", offload=False, what="os.read/os.write, IFF_VNET_HDR, no TUNSETOFFLOAD"),
    Row("net_tap", "l2fwd", "net_tap", offload=False, what="examples/l2fwd.py, net_tap"),
    Row("net_rtap", "l2fwd", "net_rtap", offload=False, what="examples/l2fwd.py, net_rtap default devargs"),
    Row("net_rtap/rx=prepost", "l2fwd", "net_rtap", "rx=prepost", offload=False,
        what="l2fwd, net_rtap rx=prepost"),
    Row("net_rtap/rx=batch", "l2fwd", "net_rtap", "rx=batch", offload=False, what="l2fwd, net_rtap rx=batch"),
    Row("net_rtap/rx=multishot", "l2fwd", "net_rtap", "rx=multishot", offload=False,
        what="l2fwd, net_rtap rx=multishot"),
    Row("net_tap+offload", "l2fwd", "net_tap", offload=True, what="l2fwd --offload, net_tap"),
    Row("net_rtap+offload", "l2fwd", "net_rtap", offload=True, what="l2fwd --offload, net_rtap"),
    Row("testpmd", "testpmd", offload=False, what="dpdk-testpmd io forwarding, DPDK's C net_tap"),
    Row("net_tap/2 lcores", "l2fwd", "net_tap", offload=False, lcores=2,
        what="l2fwd -l 0-1 -q 1: one lcore thread per port, net_tap"),
    Row("net_rtap/2 lcores", "l2fwd", "net_rtap", offload=False, lcores=2,
        what="l2fwd -l 0-1 -q 1: one lcore thread per port, net_rtap"),
)}
ALL_ROWS = tuple(ROWS)
# make demo runs every single-lcore row (net_rtap's default is rx=auto; rx=prepost is the
# C driver's design); the 2-lcore rows are in benchmarks/bench_tcp.py.
DEFAULT_ROWS = tuple(k for k, r in ROWS.items() if r.lcores == 1)


class RowError(RuntimeError):
    """A row could not be measured; the message is the one-line reason."""


def testpmd_path() -> str | None:
    return shutil.which("dpdk-testpmd") or (
        "/usr/bin/dpdk-testpmd" if os.access("/usr/bin/dpdk-testpmd", os.X_OK) else None)


def _child_env() -> dict:
    """Children import the same pyrtap as we do (the worktree, not an editable install)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():  # preexec_fn: a forwarder never outlives the harness
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def unused_token(prefix: str) -> str | None:
    """Four random hex digits that no interface or network namespace name starting with
    ``prefix`` uses yet (None after 100 tries): the names a run creates are then its own."""
    existing = set(os.listdir("/sys/class/net"))
    try:
        existing |= set(os.listdir("/var/run/netns"))
    except OSError:
        pass
    for _ in range(100):
        tok = secrets.token_hex(2)
        if not any(n.startswith(prefix + tok) for n in existing):
            return tok
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode:
        raise RowError("ip %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r


def _exists(iface: str) -> bool:
    return os.path.exists("/sys/class/net/%s" % iface)


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# ---- the forwarder process -------------------------------------------------------------

class Forwarder:
    """One forwarder subprocess with its output collected by a thread."""

    def __init__(self, cmd: list[str], ready: str, keep_stdin: bool = False):
        self.cmd = cmd
        self.ready_marker = ready
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE if keep_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            env=_child_env(), cwd=str(REPO), start_new_session=True, preexec_fn=_die_with_parent)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if self.ready_marker in line:
                self.ready.set()

    def reason(self) -> str:
        """The most telling line of the output: the last error, else the last line."""
        lines = [ln.strip() for ln in self.lines if ln.strip()]
        # DPDK's net_tap warns about its multiq qdisc on every start: not the reason.
        lines = [ln for ln in lines if not re.search(r"multiq|rte flow support", ln)] or lines
        for ln in reversed(lines):
            if re.search(r"Error|error|Cause:|cannot|Cannot|failed|FATAL", ln):
                return ln
        return lines[-1] if lines else "no output"

    def stop(self) -> int | None:
        """SIGINT, then SIGKILL after STOP_TIMEOUT; returns the exit status."""
        p = self.proc
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGINT)
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p.stdin:
            try:
                p.stdin.close()
            except OSError:
                pass
        self.thread.join(2)
        if not self.thread.is_alive():
            p.stdout.close()
        return p.returncode


def forwarder_command(row: Row, a: str, b: str, token: str) -> tuple[list[str], str, bool]:
    """(argv, ready marker on stdout, keep stdin open) of ``row``'s forwarder."""
    if row.kind == "raw":
        argv = [sys.executable, "-m", "pyrtap.tcpfwd", "raw", a, b]
        if not row.offload:
            argv.append("--no-offload")
        return argv, "tcpfwd raw: forwarding", False
    if row.kind == "l2fwd":
        extra = ("," + row.devargs) if row.devargs else ""
        argv = [sys.executable, str(L2FWD),
                "--vdev=%s0,iface=%s%s" % (row.driver, a, extra),
                "--vdev=%s1,iface=%s%s" % (row.driver, b, extra),
                *(("-l", "0-%d" % (row.lcores - 1)) if row.lcores > 1 else ()),
                "--", "-p", "3", "--no-mac-updating", "-T", "0",
                *(("-q", "1") if row.lcores > 1 else ())]
        if row.offload:
            argv.append("--offload")
        return argv, "entering main loop", False
    if row.kind == "testpmd":
        exe = testpmd_path()
        if exe is None:
            raise RowError("skipped: dpdk-testpmd not installed (package dpdk-dev)")
        # --in-memory cannot go with --no-huge (it implies --legacy-mem): a private
        # --file-prefix instead, its run directory removed afterwards. Stdin stays open
        # (testpmd exits on EOF after "Press enter to exit"); SIGINT stops it.
        # testpmd's printf output is block-buffered into our pipe: stdbuf makes it line
        # buffered so "Press enter to exit" (forwarding has started) reaches us at once.
        stdbuf = shutil.which("stdbuf")
        argv = ([stdbuf, "-oL"] if stdbuf else []) + [
                exe, "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--no-telemetry",
                "--file-prefix", PREFIX + token, "--log-level", "lib.eal:error",
                "--vdev=net_tap0,iface=%s" % a, "--vdev=net_tap1,iface=%s" % b,
                "--", "--forward-mode=io", "--auto-start", "--total-num-mbufs=16384",
                "--rxd=1024", "--txd=1024", "--burst=32"]
        return argv, "Press enter to exit", True
    raise ValueError(row.kind)


# ---- measurements ----------------------------------------------------------------------

def _wait(proc: subprocess.Popen, timeout: float, check) -> None:
    end = time.monotonic() + timeout
    while proc.poll() is None:
        check()
        if time.monotonic() > end:
            proc.kill()
            proc.wait()
            raise RowError("%s timed out after %.0f s" % (os.path.basename(proc.args[4]), timeout))
        time.sleep(0.05)


def parse_ping(out: str) -> dict:
    """Loss %, mean and p99 (nearest rank) of the per-reply times of ``ping`` output."""
    times = [float(x) for x in re.findall(r"time[=<]([\d.]+) ms", out)]
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", out)
    if not m:
        raise RowError("ping: no summary line in its output")
    sent, recv = int(m.group(1)), int(m.group(2))
    times.sort()
    res = {"ping_sent": sent, "ping_received": recv,
           "ping_loss_pct": 100.0 * (sent - recv) / sent if sent else 100.0,
           "ping_mean_ms": sum(times) / len(times) if times else None,
           "ping_p99_ms": times[max(0, -(-99 * len(times) // 100) - 1)] if times else None,
           "ping_times_ms": times}
    return res


def run_ping(ns: str, dst: str, check) -> dict:
    # -i 0.01 needs root (below 2 ms ping refuses without CAP_NET_RAW... root has it).
    p = subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-n", "-c", str(PING_COUNT),
                          "-i", str(PING_INTERVAL), "-W", "1", dst],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=_die_with_parent)
    _wait(p, PING_COUNT * PING_INTERVAL + 5, check)
    return parse_ping(p.stdout.read())


def run_iperf(ns_srv: str, ns_cli: str, dst: str, seconds: float, check, on_start=None) -> dict:
    # --forceflush: its stdout is a pipe, and "Server listening" must reach us at once.
    srv = subprocess.Popen(["ip", "netns", "exec", ns_srv, "iperf3", "-s", "-1", "-B", dst, "--forceflush"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           preexec_fn=_die_with_parent)
    listening = threading.Event()
    srv_lines: list[str] = []

    def read_srv():
        for line in srv.stdout:
            srv_lines.append(line.strip())
            if "listening" in line:
                listening.set()

    srv_reader = threading.Thread(target=read_srv, daemon=True)
    srv_reader.start()
    try:
        # Wait until it listens, so the client's connect cannot race it.
        end = time.monotonic() + 5
        while not listening.wait(0.05):
            check()
            if srv.poll() is not None or time.monotonic() > end:
                raise RowError("iperf3 -s did not start listening: %s"
                               % (" ".join(srv_lines[-2:]) or "exit %s" % srv.returncode))
        if on_start:
            on_start()
        cli = subprocess.Popen(["ip", "netns", "exec", ns_cli, "iperf3", "-c", dst, "-t", "%g" % seconds,
                                "-J", "--connect-timeout", "3000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_die_with_parent)
        out_chunks: list[str] = []
        reader = threading.Thread(target=lambda: out_chunks.append(cli.stdout.read()), daemon=True)
        reader.start()
        try:
            _wait(cli, seconds + 10, check)
        finally:
            if cli.poll() is None:
                cli.kill()
                cli.wait()
            reader.join(2)
        out = "".join(out_chunks)
        try:
            j = json.loads(out)
        except ValueError:
            raise RowError("iperf3 -c: no JSON (%s)" % ((cli.stderr.read() or out).strip()[:120] or
                                                          "exit %d" % cli.returncode)) from None
        if "error" in j:
            raise RowError("iperf3 -c: %s" % j["error"])
        end = j.get("end", {})
        rcv = end.get("sum_received", {})
        snd = end.get("sum_sent", {})
        return {"gbps": rcv.get("bits_per_second", 0.0) / 1e9,
                "gbps_sent": snd.get("bits_per_second", 0.0) / 1e9,
                "retransmits": snd.get("retransmits"),
                "iperf_seconds": rcv.get("seconds")}
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait()
        srv_reader.join(1)


# ---- one run of rows ---------------------------------------------------------------------

@dataclass
class TcpSession:
    """Owns every process, namespace and interface of the TCP rows; ``close()`` removes them."""
    token: str = ""
    forwarders: list = field(default_factory=list)
    namespaces: list = field(default_factory=list)
    n: int = 0

    def __post_init__(self):
        if not self.token:
            self.token = self._token()

    @staticmethod
    def _token() -> str:
        tok = unused_token(PREFIX)
        if tok is None:
            raise RowError("cannot find an unused name prefix")
        return tok

    def names(self) -> tuple[str, str, str, str]:
        """Fresh (iface A, iface B, ns1, ns2) for the next row: tf<tok><n>a, ...n1."""
        self.n += 1
        base = "%s%s%d" % (PREFIX, self.token, self.n)
        names = (base + "a", base + "b", base + "n1", base + "n2")
        assert all(len(x) <= 15 for x in names), names
        return names

    def leftovers(self) -> list[str]:
        prefix = PREFIX + self.token
        out = sorted(n for n in os.listdir("/sys/class/net") if n.startswith(prefix))
        try:
            out += sorted("netns " + n for n in os.listdir("/var/run/netns") if n.startswith(prefix))
        except OSError:
            pass
        return out

    def stop_forwarders(self) -> list[str]:
        problems = []
        for fw in self.forwarders:
            try:
                fw.stop()
            except Exception as e:  # noqa: BLE001 - keep cleaning
                problems.append("stopping %s: %s" % (fw.cmd[0], e))
        self.forwarders = []
        shutil.rmtree(os.path.join(DPDK_RUNDIR, PREFIX + self.token), ignore_errors=True)
        return problems

    def delete_namespaces(self) -> list[str]:
        problems = []
        for ns in self.namespaces:
            r = _ip("netns", "del", ns, check=False)
            if r.returncode and os.path.exists("/var/run/netns/" + ns):
                problems.append("ip netns del %s: %s" % (ns, r.stderr.strip()))
        self.namespaces = []
        return problems

    def close(self) -> list[str]:
        """Stop every forwarder, delete every namespace and interface we made."""
        problems = self.stop_forwarders()
        problems += self.delete_namespaces()
        # Non-persistent TAPs vanish with their process; wait a little for the kernel.
        end = time.monotonic() + 3
        while self.leftovers() and time.monotonic() < end:
            time.sleep(0.05)
        for name in self.leftovers():
            problems.append("%s was still there; deleting it" % name)
            if name.startswith("netns "):
                _ip("netns", "del", name[6:], check=False)
            else:
                _ip("link", "del", name, check=False)
        return problems

    def run_row(self, row: Row, seconds: float, check=lambda: None, ping_only: bool = False) -> dict:
        """Measure one row; raises RowError with a one-line reason when it cannot."""
        a, b, ns1, ns2 = self.names()
        rec: dict = {"impl": row.key, "kind": row.kind, "what": row.what,
                     "ifaces": [a, b], "namespaces": [ns1, ns2]}
        argv, marker, keep_stdin = forwarder_command(row, a, b, self.token)
        rec["command"] = " ".join(argv)
        t0 = time.monotonic()
        fw = Forwarder(argv, marker, keep_stdin)
        self.forwarders.append(fw)
        try:
            end = time.monotonic() + READY_TIMEOUT
            while not (fw.ready.is_set() and _exists(a) and _exists(b)):
                check()
                # testpmd that cannot start here (no memory without hugepages, an
                # EAL that refuses the machine, ...) is skipped with the reason.
                skip = "skipped: dpdk-testpmd cannot run here: " if row.kind == "testpmd" else ""
                if fw.proc.poll() is not None:
                    fw.thread.join(1)
                    raise RowError("%sforwarder exited (%d) before it was ready: %s"
                                   % (skip, fw.proc.returncode, fw.reason()))
                if time.monotonic() > end:
                    raise RowError("%sforwarder not ready after %.0f s: %s"
                                   % (skip, READY_TIMEOUT, fw.reason()))
                time.sleep(0.02)
            rec["startup_s"] = round(time.monotonic() - t0, 2)
            for ns in (ns1, ns2):
                _ip("netns", "add", ns)
                self.namespaces.append(ns)
            ip1, ip2 = NET + ".1", NET + ".2"
            for iface, ns, addr in ((a, ns1, ip1), (b, ns2, ip2)):
                _ip("link", "set", iface, "netns", ns)          # sets it down
                _ip("-n", ns, "link", "set", iface, "addrgenmode", "none")  # no IPv6 chatter
                _ip("-n", ns, "addr", "add", addr + "/24", "dev", iface)
                _ip("-n", ns, "link", "set", iface, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
            check()
            # One unmeasured ping first: it resolves ARP, which would otherwise be the
            # slowest of the 20 measured replies (the p99).
            warm = subprocess.run(["ip", "netns", "exec", ns1, "ping", "-n", "-c", "1", "-W", "2", ip2],
                                  capture_output=True, text=True)
            rec["warmup_ping_ok"] = warm.returncode == 0
            rec.update(run_ping(ns1, ip2, check))
            if rec["ping_received"] == 0:
                raise RowError("no ping reply through the forwarder (%d sent)" % rec["ping_sent"])
            if not ping_only:
                cpu = {}
                rec.update(run_iperf(ns2, ns1, ip2, seconds, check,
                                     on_start=lambda: cpu.setdefault("t0", _cpu_seconds(fw.proc.pid))))
                c1 = _cpu_seconds(fw.proc.pid)
                if c1 is not None and cpu.get("t0") is not None and rec.get("iperf_seconds"):
                    rec["forwarder_cpus"] = round((c1 - cpu["t0"]) / rec["iperf_seconds"], 2)
            if fw.proc.poll() is not None:
                raise RowError("forwarder died during the run: %s" % fw.reason())
        finally:
            rc = fw.stop()
            if fw in self.forwarders:
                self.forwarders.remove(fw)
            rec["forwarder_exit"] = rc
            rec["forwarder_tail"] = list(fw.lines)[-20:]
            shutil.rmtree(os.path.join(DPDK_RUNDIR, PREFIX + self.token), ignore_errors=True)
            problems = self.delete_namespaces()
            if problems:
                rec["problems"] = problems
        return rec


STALE_AGE = 600.0             # seconds: no row keeps its namespaces that long


def sweep_stale_namespaces() -> list[str]:
    """Delete ``tf*`` namespaces left by a run that was killed (SIGKILL leaves them):
    older than STALE_AGE and with no process inside. Returns what was removed."""
    removed = []
    try:
        names = os.listdir("/var/run/netns")
    except OSError:
        return removed
    now = time.time()
    for ns in names:
        if not ns.startswith(PREFIX):
            continue
        try:
            age = now - os.stat("/var/run/netns/" + ns).st_mtime
        except OSError:
            continue
        if age < STALE_AGE or _ip("netns", "pids", ns, check=False).stdout.strip():
            continue
        if _ip("netns", "del", ns, check=False).returncode == 0:
            removed.append("removed namespace %s left by an earlier run (%.0f min old)" % (ns, age / 60))
    return removed


def run_rows(rows: list[str], seconds: float, check=lambda: None, progress=None,
             ping_only: bool = False) -> tuple[list[dict], list[str]]:
    """Measure each row in turn; returns (records, problems). A failing row gives a record
    with ``error`` set. ``progress(label)`` is called before each row."""
    problems = sweep_stale_namespaces()
    session = TcpSession()
    out = []
    blocked = None
    try:
        for key in rows:
            check()
            row = ROWS[key]
            if progress:
                progress(key)
            t0 = time.monotonic()
            try:
                rec = session.run_row(row, seconds, check, ping_only=ping_only)
            except RowError as e:
                rec = {"impl": key, "kind": row.kind, "what": row.what, "error": str(e)}
            rec["row_seconds"] = round(time.monotonic() - t0, 2)
            out.append(rec)
    finally:
        # Nothing may cut the clean-up short: signals wait until it is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
        try:
            problems += session.close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return out, problems


def render(records: list[dict], seconds: float, console) -> None:
    from rich.table import Table

    t = Table(title="pyrtap: TCP between two namespaces through a forwarder "
                    "(ping -c %d -i %g, iperf3 -t %g)" % (PING_COUNT, PING_INTERVAL, seconds))
    t.add_column("implementation", no_wrap=True)
    t.add_column("ping loss %", justify="right")
    t.add_column("ping mean ms", justify="right")
    t.add_column("ping p99 ms", justify="right")
    t.add_column("iperf3 Gbit/s", justify="right")
    t.add_column("notes")
    for r in records:
        if "error" in r:
            skipped = r["error"].startswith("skipped")
            t.add_row(r["impl"], "-", "-", "-", "skipped" if skipped else "[red]error[/red]", r["error"])
            continue
        notes = []
        if r.get("retransmits"):
            notes.append("%d retransmits" % r["retransmits"])
        if r.get("forwarder_cpus") is not None:
            notes.append("forwarder %.2f CPU" % r["forwarder_cpus"])
        fmt = lambda v, f="%.3f": f % v if v is not None else "-"  # noqa: E731
        t.add_row(r["impl"], "%.0f" % r["ping_loss_pct"], fmt(r["ping_mean_ms"]), fmt(r["ping_p99_ms"]),
                  fmt(r.get("gbps"), "%.2f"), ", ".join(notes))
    console.print(t)


# ---- the raw forwarder: python -m pyrtap.tcpfwd raw A B [--no-offload] --------------------

def raw_forwarder(a: str, b: str, offload: bool = True) -> int:
    """Forward frames A <-> B with os.read/os.write, the virtio-net header untouched."""
    import fcntl
    import struct

    # Only the kernel's constants come from pyrtap (the core compiles them from
    # <linux/if_tun.h>); the data path is plain Python.
    from pyrtap.drivers.tapdev import (IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUN_F_CSUM, TUN_F_TSO4,
                                       TUN_F_TSO6, TUNSETIFF, TUNSETOFFLOAD)

    def open_tap(name):
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
        if offload:   # the kernel may hand us (and accept) TSO frames with partial checksums
            fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
        return fd

    fa, fb = open_tap(a), open_tap(b)

    def pump(src, dst, counts):
        while True:
            frame = os.read(src, 65536 + 64)      # one frame (up to a 64 KiB TSO one) + header
            try:
                os.write(dst, frame)
                counts[0] += 1
            except OSError:                        # e.g. EIO while the other side is down
                counts[1] += 1

    ab, ba = [0, 0], [0, 0]
    for src, dst, c in ((fa, fb, ab), (fb, fa, ba)):
        threading.Thread(target=pump, args=(src, dst, c), daemon=True).start()
    done = threading.Event()
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: done.set())
    print("tcpfwd raw: forwarding %s <-> %s (offloads %s)" % (a, b, "on" if offload else "off"), flush=True)
    while not done.wait(0.2):
        pass
    print("tcpfwd raw: %s->%s %d frames (%d dropped), %s->%s %d frames (%d dropped)"
          % (a, b, ab[0], ab[1], b, a, ba[0], ba[1]), flush=True)
    os.close(fa)       # the pump threads are daemons, blocked in read(): exiting ends them
    os.close(fb)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) >= 3 and argv[0] == "raw":
        return raw_forwarder(argv[1], argv[2], offload="--no-offload" not in argv[3:])
    print("usage: python -m pyrtap.tcpfwd raw IFACE_A IFACE_B [--no-offload]\n"
          "(the measurements run from python -m pyrtap.compare --workloads tcp)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
