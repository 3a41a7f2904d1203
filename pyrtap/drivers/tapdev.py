"""The kernel side of a TAP port: creating the interface and opening its queues.

Shared by net_rtap and net_tap, which differ only in their data path. The interface
is created with ``IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE``; every frame
crossing a queue fd is preceded by a 10-byte ``struct virtio_net_hdr``.
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
import threading

from .. import _core, netlink

# The kernel's <linux/if_tun.h> values, compiled into the core (its only definition).
_TUN = _core.TUN_CONSTANTS
TUNSETIFF = _TUN["TUNSETIFF"]
TUNGETIFF = _TUN["TUNGETIFF"]
TUNGETDEVNETNS = _TUN["TUNGETDEVNETNS"]    # Linux 5.2: an fd of the device's namespace
TUNSETPERSIST = _TUN["TUNSETPERSIST"]
TUNSETOFFLOAD = _TUN["TUNSETOFFLOAD"]
TUNSETVNETHDRSZ = _TUN["TUNSETVNETHDRSZ"]
TUNSETQUEUE = _TUN["TUNSETQUEUE"]
TUNSETOWNER = _TUN["TUNSETOWNER"]
TUNSETGROUP = _TUN["TUNSETGROUP"]

IFF_TAP = _TUN["IFF_TAP"]
IFF_NO_PI = _TUN["IFF_NO_PI"]
IFF_MULTI_QUEUE = _TUN["IFF_MULTI_QUEUE"]
IFF_VNET_HDR = _TUN["IFF_VNET_HDR"]
IFF_ATTACH_QUEUE = _TUN["IFF_ATTACH_QUEUE"]
IFF_DETACH_QUEUE = _TUN["IFF_DETACH_QUEUE"]

# TUNSETOFFLOAD bits: what the kernel may hand to the reader unfinished (checksum-
# partial, GSO super-frames). Frames written to the TAP may use any of them regardless.
TUN_F_CSUM = _TUN["TUN_F_CSUM"]
TUN_F_TSO4 = _TUN["TUN_F_TSO4"]
TUN_F_TSO6 = _TUN["TUN_F_TSO6"]
TUN_F_TSO_ECN = _TUN["TUN_F_TSO_ECN"]

TAP_FLAGS = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE
VNET_HDR_LEN = _core.C_LIMITS["VNET_HDR_LEN"]    # sizeof(struct virtio_net_hdr), defined once in the core
IFNAMSIZ = 16
MAX_QUEUES = 128


def tap_owner(name: str) -> tuple[int, int]:
    """The (uid, gid) a TAP interface is restricted to, -1 for none (sysfs)."""
    out = []
    for what in ("owner", "group"):
        try:
            with open("/sys/class/net/%s/%s" % (name, what)) as f:
                out.append(int(f.read()))
        except (OSError, ValueError):
            out.append(-1)
    return out[0], out[1]


def _ifreq(name: str, flags: int) -> bytes:
    return struct.pack("16sH22x", name.encode(), flags)


def _open_queue(name: str) -> tuple[int, str]:
    """Open /dev/net/tun and attach to (or create) the TAP called ``name``.

    Returns the fd and the interface's name (the kernel fills in a ``%d`` template)."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        res = fcntl.ioctl(fd, TUNSETIFF, _ifreq(name, TAP_FLAGS))
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET_HDR_LEN))
    except OSError:
        os.close(fd)
        raise
    return fd, res[:IFNAMSIZ].rstrip(b"\0").decode()


_own_netns = None


def _own_netns_id() -> tuple[int, int]:
    """Identity (st_dev, st_ino) of the process's network namespace."""
    global _own_netns
    if _own_netns is None:
        st = os.stat("/proc/self/ns/net")
        _own_netns = (st.st_dev, st.st_ino)
    return _own_netns


class TapDevice:
    """A TAP interface held open by a keep-alive fd, tracked by ifindex.

    The keep-alive fd is detached from the queue set (TUNSETQUEUE IFF_DETACH_QUEUE)
    so the kernel never steers frames to it; a detached queue still keeps the
    interface alive. Queue fds are opened by the *current* name of the ifindex, so
    a rename by ``ip link set ... name`` does not break reconfiguration.
    """

    def __init__(self, iface: str | None, default_template: str, persist: bool,
                 group: int | None = None):
        name = iface or default_template
        if len(name.encode()) >= IFNAMSIZ:
            raise ValueError("interface name %r is longer than %d characters" % (name, IFNAMSIZ - 1))
        idx = None
        if iface:
            idx = netlink.ifindex_of(iface)
            if idx is not None:
                kind = netlink.link_info(idx)["kind"]
                if kind != "tun":
                    raise ValueError("interface %r exists and is a %s interface, not a TAP"
                                     % (iface, kind or "non-TAP"))
                uid, gid = tap_owner(iface)
                if (uid != -1 and uid != os.geteuid()) or (uid == -1 and gid != -1
                                                           and gid not in os.getgroups()
                                                           and gid != os.getegid()):
                    # Even root may attach; but another user's TAP is theirs to read.
                    raise PermissionError(1, "interface %r belongs to uid %d / gid %d, not to us"
                                          % (iface, uid, gid))
        try:
            self.keepalive, self.created_name = _open_queue(name)
        except OSError as e:
            raise OSError(e.errno, "cannot create TAP interface %r: %s (an existing TUN or "
                          "single-queue TAP of that name cannot be attached)" % (name, e.strerror)) from None
        try:
            self.ifindex = socket.if_nametoindex(self.created_name)
            if idx is None:
                # Created here: only this user may attach queues to it (or make it persistent);
                # with a group, the kernel also requires membership of it (tun_not_capable).
                fcntl.ioctl(self.keepalive, TUNSETOWNER, os.geteuid())
                if group is not None:
                    fcntl.ioctl(self.keepalive, TUNSETGROUP, group)
            fcntl.ioctl(self.keepalive, TUNSETQUEUE, _ifreq("", IFF_DETACH_QUEUE))
            # Only ever set persistence, as DPDK's TAP driver: clearing it would make
            # closing the port delete a persistent interface someone else created.
            self.persist = False
            if persist:
                self.set_persist(True)
        except OSError:
            os.close(self.keepalive)
            raise
        self.queue_fds: list[int] = []
        self._follow_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The interface's current name (it may have been renamed)."""
        return socket.if_indextoname(self.ifindex)

    # ---- following the interface into another network namespace -----------------
    #
    # ``ip link set IFACE netns X`` moves the interface; our fds stay attached and the
    # data path keeps working, but netlink in our namespace no longer sees it. The TAP
    # fd knows where its device lives (TUNGETDEVNETNS, also on the detached keep-alive
    # fd), so every control call asks it first and talks to that namespace.

    def netns_fd(self) -> int | None:
        """A new fd of the namespace the interface lives in (the caller closes it), or
        None when it lives in ours. OSError(ENODEV) once the interface is deleted."""
        try:
            fd = fcntl.ioctl(self.keepalive, TUNGETDEVNETNS)
        except OSError as e:
            if e.errno in (errno.EBADFD, errno.EBADF):
                raise OSError(errno.ENODEV, "TAP interface %d was deleted" % self.ifindex) from None
            if e.errno in (errno.ENOTTY, errno.EINVAL):   # kernel < 5.2: assume it stayed
                return None
            raise
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == _own_netns_id():
            os.close(fd)
            return None
        return fd

    def _follow(self, ns_id, nsfd) -> None:
        """The interface is in another namespace than at the last call. Its ifindex there
        is usually the same (the kernel keeps it unless it is taken); look it up by name
        (TUNGETIFF) to be sure."""
        name = self._name_from_fd()
        if name is not None:
            with netlink.netns(nsfd):
                idx = netlink.ifindex_of(name)
            if idx is not None:
                self.ifindex = idx
        self._ns_id = ns_id         # last: another thread must not use the old ifindex

    def _name_from_fd(self) -> str | None:
        # TUNGETIFF answers on the detached keep-alive fd too (a configured port or not).
        for fd in [self.keepalive] + self.queue_fds:
            try:
                res = fcntl.ioctl(fd, TUNGETIFF, bytes(40))
                return res[:IFNAMSIZ].rstrip(b"\0").decode()
            except OSError:
                continue
        return None

    def locate(self) -> tuple[int | None, int]:
        """Where the interface is now: (a new fd of its namespace, None when it is ours;
        its ifindex there). The caller closes the fd. OSError(ENODEV) once deleted."""
        nsfd = self.netns_fd()
        try:
            ns_id = _own_netns_id() if nsfd is None else self.netns_id_of(nsfd)
            if ns_id != getattr(self, "_ns_id", _own_netns_id()):
                # The application and the event thread may both get here after a move.
                with self._follow_lock:
                    if ns_id != getattr(self, "_ns_id", _own_netns_id()):
                        self._follow(ns_id, nsfd)
        except BaseException:
            if nsfd is not None:
                os.close(nsfd)
            raise
        return nsfd, self.ifindex

    def netlink(self, fn, *args):
        """``fn(ifindex, *args)`` (a pyrtap.netlink function) addressed to the interface
        wherever it lives now. OSError(ENODEV) when it was deleted."""
        nsfd, ifindex = self.locate()
        try:
            with netlink.netns(nsfd):
                return fn(ifindex, *args)
        finally:
            if nsfd is not None:
                os.close(nsfd)

    @staticmethod
    def netns_id_of(fd: int) -> tuple[int, int]:
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino)

    def set_persist(self, on: bool) -> None:
        fcntl.ioctl(self.keepalive, TUNSETPERSIST, int(on))
        self.persist = on

    def open_queues(self, n: int) -> list[int]:
        """Replace the queue fds by ``n`` new ones (one per queue pair)."""
        self.close_queues()
        nsfd = self.netns_fd()
        try:
            if nsfd is None:
                name = self.name
                for _ in range(n):
                    self.queue_fds.append(_open_queue(name)[0])
            else:
                # TUNSETIFF looks the name up in the namespace of the opener: open the
                # queues from a thread inside the interface's namespace (a moved port
                # can be configured again).
                def open_there():
                    name = socket.if_indextoname(self.ifindex)
                    for _ in range(n):
                        self.queue_fds.append(_open_queue(name)[0])
                netlink.run_in_netns(nsfd, open_there)
        except OSError:
            self.close_queues()
            raise
        finally:
            if nsfd is not None:
                os.close(nsfd)
        return self.queue_fds

    def set_offload(self, flags: int) -> None:
        """TUNSETOFFLOAD on the interface (any attached queue fd carries it; the
        keep-alive fd is detached and may not)."""
        fcntl.ioctl(self.queue_fds[0], TUNSETOFFLOAD, flags)

    def close_queues(self) -> None:
        for fd in self.queue_fds:
            os.close(fd)
        self.queue_fds = []

    def close(self) -> None:
        """Close every fd: a non-persistent interface disappears with the last one."""
        self.close_queues()
        if self.keepalive >= 0:
            os.close(self.keepalive)
            self.keepalive = -1
