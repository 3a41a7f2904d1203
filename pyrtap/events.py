"""Events: the link-state listener (DPDK's interrupt thread) and the asyncio side of
Rx interrupts. docs/events.md describes the model.

Link-state change (``RTE_ETH_EVENT_INTR_LSC``) and removal (``RTE_ETH_EVENT_INTR_RMV``)
callbacks run on one thread per process, ``pyrtap-intr``, as DPDK's callbacks run on
its interrupt thread. The thread listens to ``RTMGRP_LINK`` on one netlink socket that
also hears the namespaces interfaces were moved into (``NETLINK_LISTEN_ALL_NSID``), and
serves every watched port by (namespace id, ifindex). A port is watched while it is
started with ``intr_conf.lsc`` or ``intr_conf.rmv`` set; the thread runs while at least
one port is watched, and ``rte_eal_cleanup`` (which stops every port) ends it, so no fd
stays behind.

The listener reads raw netlink messages and decodes only the fixed ``ifinfomsg``
header (ifindex and flags): a plain socket in a ``select`` loop with a wake-up pipe is
what lets a stop take effect at once, which pyroute2 0.9's synchronous socket (an
asyncio loop underneath) does not offer. The control calls themselves still go
through pyroute2 (``pyrtap.netlink``).

This module knows ports only through the ethdev layer's ``EthDev`` and the driver op
``intr_link_source`` (where the interface lives); it knows nothing of TAP or io_uring.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass

from .ethdev_types import (
    RTE_ETH_ALL, RTE_ETH_EVENT_INTR_LSC, RTE_ETH_EVENT_INTR_RMV, RTE_ETH_EVENT_MAX,
    RTE_ETH_LINK_DOWN, RTE_ETH_LINK_UP, rte_eth_link,
)

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers

RTMGRP_LINK = 1
RTM_NEWLINK = 16
RTM_DELLINK = 17
NLMSG_ERROR = 2
_NLMSG_HDR = struct.Struct("=IHHII")        # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")       # family, type, index, flags, change
_IFF_UP = 0x1
_IFF_RUNNING = 0x40


# ---- callbacks (DPDK: rte_eth_dev_callback_register/unregister/process) ---------------------

@dataclass(eq=False)
class _Callback:
    port_id: int
    event: int
    fn: object
    arg: object
    removed: bool = False


_cb_lock = threading.RLock()
_callbacks: list[_Callback] = []


def _valid_callback(event: int, fn) -> bool:
    return callable(fn) and isinstance(event, int) and 0 <= event < RTE_ETH_EVENT_MAX


def callback_register(port_id: int, event: int, fn, arg) -> int:
    if not _valid_callback(event, fn):
        return -errno.EINVAL
    with _cb_lock:
        for cb in _callbacks:
            if (cb.port_id, cb.event, cb.fn, cb.arg) == (port_id, event, fn, arg):
                return 0            # DPDK: registering the same callback twice is a no-op
        _callbacks.append(_Callback(port_id, event, fn, arg))
    return 0


def callback_unregister(port_id: int, event: int, fn, arg) -> int:
    if not _valid_callback(event, fn):
        return -errno.EINVAL
    with _cb_lock:
        for cb in _callbacks:
            if (cb.port_id, cb.event, cb.fn) == (port_id, event, fn) and cb.arg == arg:
                # Marked first: a dispatch in progress on the listener thread (maybe the
                # very callback calling us) skips it from now on.
                cb.removed = True
        _callbacks[:] = [cb for cb in _callbacks if not cb.removed]
    return 0


def callbacks_drop_port(port_id: int) -> None:
    """A released port's own callbacks go (not the RTE_ETH_ALL ones), as DPDK resets
    them when the port id is allocated again."""
    with _cb_lock:
        for cb in _callbacks:
            if cb.port_id == port_id:
                cb.removed = True
        _callbacks[:] = [cb for cb in _callbacks if not cb.removed]


def callback_process(port_id: int, event: int, ret_param=None) -> int:
    """Call every callback registered for ``event`` on ``port_id`` (or RTE_ETH_ALL), in
    registration order (DPDK's ``rte_eth_dev_callback_process``). A callback that raises
    is logged and the others still run. Returns the last callback's return value."""
    with _cb_lock:
        todo = [cb for cb in _callbacks
                if cb.event == event and cb.port_id in (port_id, RTE_ETH_ALL)]
    rc = 0
    for cb in todo:
        if cb.removed:
            continue
        try:
            r = cb.fn(port_id, event, cb.arg, ret_param)
            rc = r if isinstance(r, int) else 0
        except Exception:
            log.exception("port %d: event %d callback %r raised", port_id, event, cb.fn)
    return rc


# ---- the listener thread ----------------------------------------------------------------------
#
# One socket in our namespace, bound to RTMGRP_LINK with NETLINK_LISTEN_ALL_NSID: it
# also receives the link messages of every namespace that has an id (nsid) in ours,
# each tagged with that id. Moving an interface out gives its new namespace an id, so
# the listener follows a moved port without a socket inside that namespace, which
# would keep the namespace alive after `ip netns del` (every socket holds a
# reference). A namespace that goes away takes its interfaces with it, and sends no
# message we can see (its id is gone first), so ports living in other namespaces are
# also checked twice a second: the TAP fd says when its device is gone.

SOL_NETLINK = 270
NETLINK_LISTEN_ALL_NSID = 8
RTM_NEWNSID = 88
RTM_GETNSID = 90
NETNSA_NSID = 1
NETNSA_FD = 3
NLM_F_REQUEST = 1
NLM_F_ACK = 4
_NSID_NOT_ASSIGNED = -1
_ELSEWHERE_CHECK = 0.5          # seconds between checks of ports in other namespaces


@dataclass(eq=False)
class _Watch:
    dev: object                # ethdev_driver.EthDev
    lsc: bool
    rmv: bool
    ns: object = None          # nsid of the interface's namespace in ours; None: ours
    ns_ino: tuple = ()         # identity (st_dev, st_ino) of that namespace
    ifindex: int = 0
    status: int = RTE_ETH_LINK_DOWN
    fresh: bool = True         # where the interface lives must be (re)read


def _link_socket() -> socket.socket:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK,
                      socket.NETLINK_ROUTE)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setsockopt(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1)
        s.bind((0, RTMGRP_LINK))
    except OSError:
        s.close()
        raise
    return s


def _nsid_request(mtype: int, flags: int, attrs: list[tuple[int, int]]) -> int | None:
    """One RTM_GETNSID/RTM_NEWNSID exchange; the NETNSA_NSID answered (GETNSID)."""
    body = struct.pack("=B3x", socket.AF_UNSPEC)
    for atype, value in attrs:
        body += struct.pack("=HHi", 8, atype, value)
    msg = _NLMSG_HDR.pack(_NLMSG_HDR.size + len(body), mtype, NLM_F_REQUEST | flags, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                       socket.NETLINK_ROUTE) as s:
        s.settimeout(0.5)
        s.bind((0, 0))
        s.send(msg)
        data = s.recv(65536)
    length, rtype = _NLMSG_HDR.unpack_from(data)[:2]
    if rtype == NLMSG_ERROR:
        err = struct.unpack_from("=i", data, _NLMSG_HDR.size)[0]
        if err:
            raise OSError(-err, "RTM_%sNSID: %s" % ("GET" if mtype == RTM_GETNSID else "NEW",
                                                   os.strerror(-err)))
        return None
    off = _NLMSG_HDR.size + 4
    while off + 4 <= length:
        alen, atype = struct.unpack_from("=HH", data, off)
        if atype == NETNSA_NSID and alen >= 8:
            return struct.unpack_from("=i", data, off + 4)[0]
        off += (alen + 3) & ~3
    return None


def _nsid_of(nsfd: int, assign: bool = True) -> int | None:
    """The id our namespace gives the namespace ``nsfd`` (assigned if it has none)."""
    nsid = _nsid_request(RTM_GETNSID, 0, [(NETNSA_FD, nsfd)])
    if (nsid is None or nsid == _NSID_NOT_ASSIGNED) and assign:
        _nsid_request(RTM_NEWNSID, NLM_F_ACK, [(NETNSA_FD, nsfd), (NETNSA_NSID, -1)])
        nsid = _nsid_request(RTM_GETNSID, 0, [(NETNSA_FD, nsfd)])
    return None if nsid is None or nsid == _NSID_NOT_ASSIGNED else nsid


class _Listener:
    """One RTMGRP_LINK listener serving every watched port."""

    def __init__(self):
        self.lock = threading.Lock()
        self.watches: dict[int, _Watch] = {}
        self.stopping = False
        self.sock = _link_socket()
        try:
            # Our own namespace may have an id for itself: its messages then carry it.
            with open("/proc/self/ns/net", "rb") as f:
                self.self_nsid = _nsid_of(f.fileno(), assign=False)
            self.wake_r, self.wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        except BaseException:
            self.sock.close()
            raise
        self.last_check = 0.0
        self.thread = threading.Thread(target=self._run, name="pyrtap-intr", daemon=True)

    def wake(self) -> None:
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    # -- on the listener thread --

    def _run(self) -> None:
        try:
            while True:
                with self.lock:
                    if self.stopping:
                        break
                self._locate()
                # After _locate: a port found in another namespace just now must be
                # checked from this very wait on.
                with self.lock:
                    elsewhere = any(w.ns is not None for w in self.watches.values())
                try:
                    ready = select.select([self.wake_r, self.sock], [], [],
                                          _ELSEWHERE_CHECK if elsewhere else None)[0]
                except (OSError, ValueError):
                    continue
                if self.wake_r in ready:
                    try:
                        while os.read(self.wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                if self.sock in ready:
                    self._read()
                if elsewhere and time.monotonic() - self.last_check >= _ELSEWHERE_CHECK:
                    self._check_elsewhere()
        except Exception:
            log.exception("pyrtap-intr: listener failed")
        finally:
            self.sock.close()
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _locate(self) -> None:
        """Find where each new or moved port's interface lives (namespace id and
        ifindex); then read its link state (events between the move and now may have
        been missed, the namespace may have had no id yet)."""
        with self.lock:
            todo = [w for w in self.watches.values() if w.fresh]
        for w in todo:
            src = w.dev.ops.intr_link_source(w.dev)
            if src == -errno.ENODEV:
                self._gone(w)
                continue
            if isinstance(src, int):
                log.error("port %d: no link events (%s)", w.dev.port_id, os.strerror(-src))
                w.fresh = False
                w.ifindex = -1
                continue
            nsfd, ifindex = src
            ns, ino = None, ()
            if nsfd is not None:
                try:
                    st = os.fstat(nsfd)
                    ino = (st.st_dev, st.st_ino)
                    if ino == w.ns_ino:
                        ns = w.ns   # the same namespace (a DELLINK there, e.g. while it dies)
                    else:
                        ns = _nsid_of(nsfd)
                        if ns == self.self_nsid:
                            ns = None
                except OSError as e:
                    log.error("port %d: cannot follow the link events of its namespace: %s",
                              w.dev.port_id, e)
                    ns = -2         # matches no message; the liveness check still runs
                finally:
                    os.close(nsfd)
            w.ns, w.ns_ino, w.ifindex, w.fresh = ns, ino, ifindex, False
            self._refresh(w)

    def _check_elsewhere(self) -> None:
        """Ports in other namespaces: deleted with their namespace, or moved on?"""
        self.last_check = time.monotonic()
        with self.lock:
            ws = [w for w in self.watches.values() if w.ns is not None and not w.fresh]
        for w in ws:
            src = w.dev.ops.intr_link_source(w.dev)
            if src == -errno.ENODEV:
                self._gone(w)
            elif not isinstance(src, int):
                nsfd, ifindex = src
                if nsfd is None or ifindex != w.ifindex:
                    w.fresh = True          # back home, or renumbered: locate again
                if nsfd is not None:
                    os.close(nsfd)

    def _refresh(self, w: _Watch) -> None:
        link = rte_eth_link()
        if w.dev.ops.link_update(w.dev, link, False) == 0:
            self._status(w, link.link_status)

    def _status(self, w: _Watch, status: int) -> None:
        if status == w.status:
            return
        w.status = status
        if w.lsc and self._watched(w):
            callback_process(w.dev.port_id, RTE_ETH_EVENT_INTR_LSC)

    def _watched(self, w: _Watch) -> bool:
        with self.lock:
            return self.watches.get(w.dev.port_id) is w

    def _gone(self, w: _Watch) -> None:
        with self.lock:
            if self.watches.get(w.dev.port_id) is not w:
                return
            del self.watches[w.dev.port_id]     # a removed port has no more events
        if w.rmv:
            callback_process(w.dev.port_id, RTE_ETH_EVENT_INTR_RMV)

    def _read(self) -> None:
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(4))
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == errno.ENOBUFS:      # we fell behind: read every state again
                    with self.lock:
                        ws = list(self.watches.values())
                    for w in ws:
                        self._refresh(w)
                    continue
                raise
            ns = None
            for level, ctype, cdata in anc:
                if level == SOL_NETLINK and ctype == NETLINK_LISTEN_ALL_NSID and len(cdata) >= 4:
                    ns = struct.unpack_from("=i", cdata)[0]
            if ns == self.self_nsid:
                ns = None
            off = 0
            while off + _NLMSG_HDR.size <= len(data):
                length, mtype = _NLMSG_HDR.unpack_from(data, off)[:2]
                if length < _NLMSG_HDR.size:
                    break
                if mtype in (RTM_NEWLINK, RTM_DELLINK) and length >= _NLMSG_HDR.size + _IFINFOMSG.size:
                    _, _, index, flags, _ = _IFINFOMSG.unpack_from(data, off + _NLMSG_HDR.size)
                    self._event(ns, mtype, index, flags)
                off += (length + 3) & ~3

    def _event(self, ns, mtype: int, index: int, flags: int) -> None:
        with self.lock:
            ws = [w for w in self.watches.values()
                  if w.ns == ns and w.ifindex == index and not w.fresh]
        for w in ws:
            if mtype == RTM_NEWLINK:
                up = flags & _IFF_UP and flags & _IFF_RUNNING
                self._status(w, RTE_ETH_LINK_UP if up else RTE_ETH_LINK_DOWN)
            else:
                # Deleted, or moved to another namespace (the old one sees a DELLINK):
                # the TAP fd tells which. A moved link is down until set up there.
                self._status(w, RTE_ETH_LINK_DOWN)
                w.fresh = True


_listener: _Listener | None = None
_listener_lock = threading.Lock()


def watch(dev, lsc: bool, rmv: bool) -> None:
    """Deliver LSC (and/or RMV) events of a started port."""
    global _listener
    with _listener_lock:
        if _listener is None:
            try:
                _listener = _Listener()
            except OSError as e:
                # The port works without events; say why none will come.
                log.error("port %d: no link events: cannot listen to netlink: %s", dev.port_id, e)
                return
            _listener.thread.start()
        lst = _listener
        w = _Watch(dev, bool(lsc), bool(rmv))
        # The state now is the reference: an event is a change from it.
        link = rte_eth_link()
        if dev.ops.link_update(dev, link, False) == 0:
            w.status = link.link_status
        with lst.lock:
            lst.watches[dev.port_id] = w
    lst.wake()


def unwatch(dev) -> None:
    """No more events for ``dev``; the listener ends with its last port. Called from
    the listener thread itself (a callback stopping its port), it does not wait."""
    global _listener
    with _listener_lock:
        lst = _listener
        if lst is None:
            return
        with lst.lock:
            lst.watches.pop(dev.port_id, None)
            if lst.watches:
                lst = None
            else:
                lst.stopping = True
                _listener = None
    if lst is not None:
        lst.wake()
        if threading.current_thread() is not lst.thread:
            lst.thread.join()


def stop_listener() -> None:
    """End the listener thread, closing its sockets (``rte_eal_cleanup``)."""
    global _listener
    with _listener_lock:
        lst, _listener = _listener, None
        if lst is None:
            return
        with lst.lock:
            lst.watches.clear()
            lst.stopping = True
    lst.wake()
    if threading.current_thread() is not lst.thread:
        lst.thread.join()


def listener_thread() -> threading.Thread | None:
    """The running listener thread, if any (for tests and diagnostics)."""
    lst = _listener
    return lst.thread if lst is not None else None


# ---- Rx interrupts from asyncio ---------------------------------------------------------------

async def wait_readable(fd: int, timeout: float | None = None) -> bool:
    """Wait in the running asyncio loop until ``fd`` is readable: True, or False after
    ``timeout`` seconds. The loop's selector watches the fd (epoll): no thread, no spin."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def ready():
        if not fut.done():
            fut.set_result(True)

    loop.add_reader(fd, ready)
    try:
        if timeout is None:
            return await fut
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return False
    finally:
        loop.remove_reader(fd)
