"""Link control over rtnetlink, addressed by interface index.

This is the control-plane layer used by the ethdev drivers: it reads and
changes the kernel state of one network interface (admin state, MTU, MAC
address, promiscuous / all-multicast flags, name, statistics) through
rtnetlink, using pyroute2.

Design rules:

* Every function takes an **ifindex**, never a name, so an interface renamed
  behind our back (``ip link set X name Y``) keeps working.  The only
  name-based entry point is :func:`ifindex_of`, meant to be used once at
  attach time.
* A netlink socket is opened and closed per call (``with IPRoute()``), so no
  file descriptor stays open between calls and every call is independent
  (thread-safe, fork-safe).  One call costs about 1.2-2 ms, of which
  ~0.65 ms is opening and closing the socket and the private asyncio loop
  that pyroute2 0.9 creates for it.
* Every value is read from the kernel at call time; nothing is cached.
* Kernel errors are raised as ``OSError(errno, message)`` carrying the
  kernel's errno (e.g. ``ENODEV`` for a deleted interface, ``EINVAL`` for an
  out-of-range MTU, ``EADDRNOTAVAIL`` for a multicast MAC).  Note that
  ``OSError(errno, ...)`` instantiates the matching subclass for some errnos
  (``EPERM`` -> ``PermissionError``, ``EEXIST`` -> ``FileExistsError``);
  ``exc.errno`` is always set.  The caller converts it to DPDK's ``-errno``.
  Invalid arguments detected before talking to the kernel raise
  ``OSError(EINVAL)`` (or ``OSError(ENODEV)`` for an ifindex <= 0);
  wrong argument *types* raise ``TypeError``.

This module deliberately imports nothing from the rest of pyrtap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import operator
import os
import threading

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

__all__ = [
    "IFF_UP",
    "IFF_BROADCAST",
    "IFF_LOOPBACK",
    "IFF_POINTOPOINT",
    "IFF_RUNNING",
    "IFF_NOARP",
    "IFF_PROMISC",
    "IFF_ALLMULTI",
    "IFF_MULTICAST",
    "IFF_LOWER_UP",
    "IFF_DORMANT",
    "ifindex_of",
    "link_info",
    "link_info_all",
    "link_stats64",
    "set_admin_state",
    "set_mtu",
    "set_address",
    "set_promisc",
    "set_allmulti",
    "set_name",
    "delete_link",
    "netns",
    "run_in_netns",
]

# <linux/if.h> net_device_flags
IFF_UP = 0x1
IFF_BROADCAST = 0x2
IFF_LOOPBACK = 0x8
IFF_POINTOPOINT = 0x10
IFF_RUNNING = 0x40
IFF_NOARP = 0x80
IFF_PROMISC = 0x100
IFF_ALLMULTI = 0x200
IFF_MULTICAST = 0x1000
IFF_LOWER_UP = 0x10000
IFF_DORMANT = 0x20000

IFNAMSIZ = 16  # includes the trailing NUL: names are at most 15 bytes
_ETH_ALEN = 6
_IFINDEX_MAX = 0x7FFFFFFF  # ifi_index is a signed 32-bit int
_U32_MAX = 0xFFFFFFFF
# IFLA_EXT_MASK bit: leave the per-address-family statistics (IPv6 ICMP/IP
# MIB counters in IFLA_AF_SPEC) out of RTM_GETLINK replies.  IFLA_STATS64
# is still reported.  Cuts the reply by ~25% and pyroute2 decode time.
_RTEXT_FILTER_SKIP_STATS = 1 << 3

# IFLA_STATS64 counters, in struct rtnl_link_stats64 order (the subset that
# pyroute2 decodes).
_STATS64_KEYS = (
    "rx_packets",
    "tx_packets",
    "rx_bytes",
    "tx_bytes",
    "rx_errors",
    "tx_errors",
    "rx_dropped",
    "tx_dropped",
    "multicast",
    "collisions",
    "rx_length_errors",
    "rx_over_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "rx_fifo_errors",
    "rx_missed_errors",
    "tx_aborted_errors",
    "tx_carrier_errors",
    "tx_fifo_errors",
    "tx_heartbeat_errors",
    "tx_window_errors",
    "rx_compressed",
    "tx_compressed",
    "rx_nohandler",
    "rx_otherhost_dropped",
)


# ---------------------------------------------------------------------------
# plumbing
# ---------------------------------------------------------------------------


def _open():
    # groups=0: do not subscribe to rtnetlink multicast groups (pyroute2's
    # default subscribes to link/addr/route events, which a one-shot
    # request/response socket never reads).
    # ext_ack=True: the kernel then attaches its extended-ACK text
    # ("mtu less than device minimum", ...) to errors; we put it in the
    # OSError message.
    return IPRoute(groups=0, ext_ack=True)


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# ---------------------------------------------------------------------------
# network namespaces
# ---------------------------------------------------------------------------
#
# A netlink socket talks to the namespace it was created in, and a thread can
# enter another namespace (setns(2) changes only the calling thread).  So a
# call for an interface that lives in another namespace runs in a short-lived
# thread that enters it first; the caller's own thread never changes
# namespace.

_CLONE_NEWNET = 0x40000000
_tls = threading.local()
_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


@contextlib.contextmanager
def netns(fd: int | None):
    """Make this thread's netlink calls inside the block address the network
    namespace ``fd`` (an open ``/proc/*/ns/net`` or ``TUNGETDEVNETNS`` fd;
    None: the thread's own).  The fd stays the caller's to close."""
    old = getattr(_tls, "netns", None)
    _tls.netns = fd
    try:
        yield
    finally:
        _tls.netns = old


def run_in_netns(fd: int | None, fn):
    """Return ``fn()`` run in a short-lived thread that first enters the network
    namespace ``fd`` (without ``fd``, a thread of the caller's namespace: the
    way out of a running asyncio loop).  Sockets ``fn`` creates belong to that
    namespace for their whole life.  Exceptions are re-raised here."""
    box = {}

    def target():
        try:
            if fd is not None:
                _setns(fd)
            box["result"] = fn()
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=target, name="pyrtap-netlink", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _call(what: str, fn):
    """Run ``fn(ipr)`` on a fresh netlink socket; map NetlinkError to OSError.

    ``what`` describes the operation for error messages.
    """

    def run():
        try:
            with _open() as ipr:
                return fn(ipr)
        except NetlinkError as e:
            code = int(e.code) if e.code else errno.EIO
            text = str(e.args[1]) if len(e.args) > 1 and e.args[1] else ""
            strerror = os.strerror(code)
            if text and text != strerror:
                msg = f"{what}: {text} ({strerror})"
            else:
                msg = f"{what}: {strerror}"
            raise OSError(code, msg) from e

    ns = getattr(_tls, "netns", None)
    if ns is None and not _in_running_loop():
        return run()

    # Another namespace: see run_in_netns.  And pyroute2 >= 0.9 implements the
    # synchronous IPRoute on top of asyncio: it reuses the thread's *running*
    # event loop if there is one and then fails with "This event loop is
    # already running".  So when we are called from a coroutine (e.g. an
    # asyncio application using the ethdev API synchronously), do the netlink
    # exchange in a short-lived worker thread, which has no loop and gets a
    # private one.
    return run_in_netns(ns, run)


def _ifindex(ifindex) -> int:
    if isinstance(ifindex, bool):
        raise TypeError("ifindex must be an int, not bool")
    try:
        idx = operator.index(ifindex)
    except TypeError:
        raise TypeError(
            f"ifindex must be an int, not {type(ifindex).__name__}"
        ) from None
    if idx <= 0 or idx > _IFINDEX_MAX:
        # No interface can have this index (the kernel would answer EINVAL
        # for 0, which would hide the real meaning: there is no such device).
        raise OSError(errno.ENODEV, f"ifindex {idx}: No such device")
    return idx


def _is_ifname(name) -> bool:
    """True for a possible interface name: 1..15 bytes, no NUL (TypeError if not str)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be str, not {type(name).__name__}")
    raw = name.encode()
    return bool(raw) and len(raw) < IFNAMSIZ and b"\0" not in raw


def _get_msg(ipr, idx):
    msgs = ipr.link("get", index=idx, ext_mask=_RTEXT_FILTER_SKIP_STATS)
    if not msgs:  # not expected: the kernel answers with a message or errno
        raise NetlinkError(errno.ENODEV)
    return msgs[0]


def _parse_link(msg) -> dict:
    flags = int(msg["flags"])
    carrier = msg.get("IFLA_CARRIER")
    linkinfo = msg.get("IFLA_LINKINFO")
    kind = linkinfo.get("IFLA_INFO_KIND") if linkinfo else None
    return {
        "ifindex": int(msg["index"]),
        "name": msg.get("IFLA_IFNAME"),
        "mtu": msg.get("IFLA_MTU"),
        "min_mtu": msg.get("IFLA_MIN_MTU"),
        "max_mtu": msg.get("IFLA_MAX_MTU"),
        "address": msg.get("IFLA_ADDRESS"),
        "admin_up": bool(flags & IFF_UP),
        # The kernel computes IFF_RUNNING at dump time: set iff the device
        # is admin up and operstate is UP or UNKNOWN.  A TAP with no
        # process attached has no carrier, so it is not RUNNING even when
        # admin up.
        "running": bool(flags & IFF_RUNNING),
        "operstate": msg.get("IFLA_OPERSTATE"),
        "carrier": None if carrier is None else bool(carrier),
        # IFF_PROMISC / IFF_ALLMULTI in ifi_flags are the *administratively
        # requested* bits (dev->gflags): set by SIOCSIFFLAGS / RTM_NEWLINK
        # (i.e. `ip link set X promisc on` or set_promisc()), idempotent, and
        # NOT set by other users such as a packet socket in promiscuous mode
        # (tcpdump).  The effective state is the reference counter below.
        "promisc": bool(flags & IFF_PROMISC),
        "allmulti": bool(flags & IFF_ALLMULTI),
        "promiscuity": msg.get("IFLA_PROMISCUITY"),
        # IFLA_ALLMULTI (counter) exists since Linux 6.0; None before.
        "allmulti_count": msg.get("IFLA_ALLMULTI"),
        "kind": kind,
        "flags": flags,
    }


def _parse_mac(mac) -> str:
    """Normalise a MAC address to lower-case 'aa:bb:cc:dd:ee:ff'."""
    if isinstance(mac, (bytes, bytearray, memoryview)):
        octets = bytes(mac)
        if len(octets) != _ETH_ALEN:
            raise OSError(
                errno.EINVAL,
                f"MAC address must be {_ETH_ALEN} bytes, got {len(octets)}",
            )
        return ":".join(f"{b:02x}" for b in octets)
    if isinstance(mac, str):
        parts = mac.strip().replace("-", ":").split(":")
        try:
            if len(parts) != _ETH_ALEN or not all(
                1 <= len(p) <= 2 for p in parts
            ):
                raise ValueError
            octets = bytes(int(p, 16) for p in parts)
        except ValueError:
            raise OSError(errno.EINVAL, f"invalid MAC address {mac!r}") from None
        return ":".join(f"{b:02x}" for b in octets)
    raise TypeError(
        f"MAC address must be str or bytes, not {type(mac).__name__}"
    )


def _set_flag(what: str, ifindex, flag: int, on: bool) -> None:
    idx = _ifindex(ifindex)
    # Always send a non-zero change mask: the kernel treats ifi_change == 0
    # as ~0 ("bugwards compatibility"), i.e. it would overwrite *every*
    # flag with ifi_flags.  With change=flag only that bit is touched.
    _call(
        f"{what}(ifindex={idx}, {bool(on)})",
        lambda ipr: ipr.link(
            "set", index=idx, flags=flag if on else 0, change=flag
        ),
    )


# ---------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------


def ifindex_of(name: str) -> int | None:
    """Return the ifindex of interface ``name``, or None if there is none.

    The kernel also resolves alternative names (``ip link property add
    altname``) of at most 15 bytes.  Names that cannot be interface names
    (empty, longer than 15 bytes, containing NUL) give None.  Other kernel
    errors raise OSError.
    """
    if not _is_ifname(name):
        return None

    def fn(ipr):
        try:
            return int(ipr.link("get", ifname=name)[0]["index"])
        except NetlinkError as e:
            if e.code == errno.ENODEV:
                return None
            raise
        except IndexError:
            return None

    return _call(f"ifindex_of({name!r})", fn)


def link_info(ifindex: int) -> dict:
    """Return the current kernel state of interface ``ifindex``.

    Keys: ``ifindex, name, mtu, min_mtu, max_mtu, address`` (lower-case
    'aa:bb:cc:dd:ee:ff', None for devices without a link-layer address),
    ``admin_up`` (IFF_UP), ``running`` (IFF_RUNNING), ``operstate`` ('UP',
    'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN', ...), ``carrier`` (bool, or None if
    not reported), ``promisc`` (IFF_PROMISC), ``allmulti`` (IFF_ALLMULTI),
    ``kind`` (IFLA_INFO_KIND, 'tun' for TUN/TAP, None for devices without
    rtnl link ops), ``flags`` (raw ifi_flags).

    Extra keys: ``promiscuity`` (kernel promiscuity reference count; > 0
    means the device is effectively promiscuous, also when only e.g. a
    packet socket asked for it) and ``allmulti_count`` (same for allmulti,
    None on kernels < 6.0).

    Raises OSError(ENODEV) if the interface does not exist.
    """
    idx = _ifindex(ifindex)
    return _call(
        f"link_info(ifindex={idx})", lambda ipr: _parse_link(_get_msg(ipr, idx))
    )


def link_info_all() -> list[dict]:
    """Return :func:`link_info` dicts for every interface in the namespace."""
    return _call(
        "link_info_all()",
        lambda ipr: [
            _parse_link(m)
            for m in ipr.link("dump", ext_mask=_RTEXT_FILTER_SKIP_STATS)
        ],
    )


def link_stats64(ifindex: int) -> dict:
    """Return the IFLA_STATS64 counters of ``ifindex`` as a dict of ints.

    Keys: rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors,
    rx_dropped, tx_dropped, multicast, collisions, rx_length_errors,
    rx_over_errors, rx_crc_errors, rx_frame_errors, rx_fifo_errors,
    rx_missed_errors, tx_aborted_errors, tx_carrier_errors, tx_fifo_errors,
    tx_heartbeat_errors, tx_window_errors, rx_compressed, tx_compressed (and
    rx_nohandler / rx_otherhost_dropped if the installed pyroute2 decodes
    them).

    For a TAP, "rx" is traffic the kernel received from the userspace
    process (our tx), "tx" is what the kernel sent to it (our rx).
    """
    idx = _ifindex(ifindex)

    def fn(ipr):
        msg = _get_msg(ipr, idx)
        stats = msg.get("IFLA_STATS64")
        if stats is None:
            # Every device reports IFLA_STATS64 since Linux 2.6.35; fall
            # back to the 32-bit counters just in case.
            stats = msg.get("IFLA_STATS")
        if stats is None:
            raise NetlinkError(errno.EOPNOTSUPP, "no statistics reported")
        return {k: int(stats[k]) for k in _STATS64_KEYS if k in stats}

    return _call(f"link_stats64(ifindex={idx})", fn)


# ---------------------------------------------------------------------------
# setters
# ---------------------------------------------------------------------------


def set_admin_state(ifindex: int, up: bool) -> None:
    """Set (IFF_UP) or clear the administrative up state of ``ifindex``.

    Only IFF_UP is changed.  Note that a TAP with no process attached stays
    operstate DOWN / NO-CARRIER after being set up.
    """
    _set_flag("set_admin_state", ifindex, IFF_UP, up)


def set_mtu(ifindex: int, mtu: int) -> None:
    """Set the MTU of ``ifindex``.

    The kernel rejects values outside [min_mtu, max_mtu] with EINVAL
    (TAP: 68..65521).
    """
    idx = _ifindex(ifindex)
    if isinstance(mtu, bool):
        raise TypeError("mtu must be an int, not bool")
    mtu = operator.index(mtu)
    if not 0 <= mtu <= _U32_MAX:  # IFLA_MTU is a u32
        raise OSError(errno.EINVAL, f"set_mtu(ifindex={idx}, mtu={mtu}): "
                      "MTU out of range")
    _call(
        f"set_mtu(ifindex={idx}, mtu={mtu})",
        lambda ipr: ipr.link("set", index=idx, mtu=mtu),
    )


def set_address(ifindex: int, mac) -> None:
    """Set the MAC address of ``ifindex``.

    ``mac`` is 'aa:bb:cc:dd:ee:ff' (or with '-') or 6 bytes.  The kernel
    rejects multicast and all-zero addresses with EADDRNOTAVAIL.  A TAP
    allows changing the address while up (IFF_LIVE_ADDR_CHANGE); other
    devices may answer EBUSY.
    """
    idx = _ifindex(ifindex)
    # Validate the length ourselves: the kernel only rejects addresses
    # *shorter* than dev->addr_len and silently truncates longer ones.
    addr = _parse_mac(mac)
    _call(
        f"set_address(ifindex={idx}, {addr})",
        lambda ipr: ipr.link("set", index=idx, address=addr),
    )


def set_promisc(ifindex: int, on: bool) -> None:
    """Request (or drop the request for) promiscuous mode on ``ifindex``.

    This toggles the administrative IFF_PROMISC bit, exactly like
    ``ip link set X promisc on|off``: it is idempotent (setting it twice
    adds one reference to the promiscuity counter, not two) and shared with
    ``ip``, so ``ip link set X promisc off`` also undoes our request.
    """
    _set_flag("set_promisc", ifindex, IFF_PROMISC, on)


def set_allmulti(ifindex: int, on: bool) -> None:
    """Request (or drop the request for) all-multicast mode on ``ifindex``.

    Same semantics as :func:`set_promisc`, for IFF_ALLMULTI.
    """
    _set_flag("set_allmulti", ifindex, IFF_ALLMULTI, on)


def set_name(ifindex: int, name: str) -> None:
    """Rename interface ``ifindex`` to ``name``.

    The kernel answers EEXIST if the name is taken, EINVAL for invalid
    names ('/', ':', whitespace, '.', '..').  Kernels before 6.2 refuse to
    rename an interface that is up (EBUSY).
    """
    idx = _ifindex(ifindex)
    if not _is_ifname(name):
        # Checked here because the kernel's answer for an over-long name is
        # ERANGE from attribute policy validation, which is less helpful.
        raise OSError(
            errno.EINVAL,
            f"set_name(ifindex={idx}, {name!r}): "
            f"interface names are 1..{IFNAMSIZ - 1} bytes",
        )
    _call(
        f"set_name(ifindex={idx}, {name!r})",
        lambda ipr: ipr.link("set", index=idx, ifname=name),
    )


def delete_link(ifindex: int) -> None:
    """Delete interface ``ifindex`` (RTM_DELLINK).

    For a persistent TAP this removes it even if a process still has it
    open (its read()/write() then fail with EBADFD).  Devices without rtnl
    link ops (e.g. physical NICs) answer EOPNOTSUPP.
    """
    idx = _ifindex(ifindex)
    _call(
        f"delete_link(ifindex={idx})",
        lambda ipr: ipr.link("del", index=idx),
    )
