"""The ``rte_eth_*`` calls: port table, DPDK's port state machine, dispatch to driver ops.

This layer knows nothing of io_uring or TAP: a driver supplies an ``EthDevOps``
table and queue objects; the burst calls go straight to the Cython fast-path table
(``rte_eth_rx_burst``/``rte_eth_tx_burst``, published here on start).
"""
from __future__ import annotations

import errno
import logging
import operator

from . import _core, ethdev_types, events
from ._core import rte_eth_rx_burst, rte_eth_tx_burst
from .cycles import rte_get_timer_cycles
from .ethdev_driver import ENOTSUP, EthDev
from .ethdev_types import *  # noqa: F403  (the structures are part of this API: __all__ below)
from .ethdev_types import (
    RTE_ETH_ALL, RTE_ETH_LINK_AUTONEG, RTE_ETH_LINK_DOWN, RTE_ETH_LINK_FULL_DUPLEX,
    RTE_ETH_SPEED_NUM_NONE, RTE_ETH_SPEED_NUM_UNKNOWN, RTE_MAX_ETHPORTS, RTE_MAX_QUEUES_PER_PORT,
    rte_eth_conf, rte_eth_dev_info, rte_eth_rxconf, rte_eth_stats, rte_eth_txconf,
)

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers

_ports: list[EthDev | None] = [None] * RTE_MAX_ETHPORTS


# ---- port table (used by eal.py to attach and detach devices) -----------------------

def _allocate(name: str, ops) -> EthDev | None:
    """Take the lowest free port id for a new device (``rte_eth_dev_allocate``)."""
    for port_id, dev in enumerate(_ports):
        if dev is None:
            _ports[port_id] = EthDev(port_id, name, ops)
            return _ports[port_id]
    return None


def _release(dev: EthDev) -> None:
    _core.fp_ops_clear(dev.port_id)
    events.unwatch(dev)
    events.callbacks_drop_port(dev.port_id)
    for cbs in (dev.rx_callbacks, dev.tx_callbacks):
        for queue_id in list(cbs):
            cbs[queue_id] = []
            _core.set_burst_callbacks(cbs is dev.rx_callbacks, dev.port_id, queue_id, ())
    _ports[dev.port_id] = None


def _dev(port_id) -> EthDev | None:
    if not isinstance(port_id, int):
        try:
            port_id = operator.index(port_id)     # numpy integers too; never a float or a bool-like str
        except TypeError:
            return None
    if 0 <= port_id < RTE_MAX_ETHPORTS:
        return _ports[port_id]
    return None


def _ports_in_use() -> list[EthDev]:
    return [d for d in _ports if d is not None]


# ---- lookups -------------------------------------------------------------------------

def rte_eth_dev_is_valid_port(port_id: int) -> int:
    """1 if ``port_id`` names an attached port (``rte_eth_dev_is_valid_port``)."""
    return int(_dev(port_id) is not None)


def rte_eth_dev_count_avail() -> int:
    """Number of attached ports (``rte_eth_dev_count_avail``)."""
    return len(_ports_in_use())


def RTE_ETH_FOREACH_DEV():
    """Iterate over the ids of attached ports (DPDK's ``RTE_ETH_FOREACH_DEV`` macro)."""
    return iter([d.port_id for d in _ports_in_use()])


def rte_eth_dev_get_port_by_name(name: str) -> int:
    """Port id of the device ``name`` (e.g. ``net_rtap0``), or -ENODEV."""
    for d in _ports_in_use():
        if d.name == name:
            return d.port_id
    return -errno.ENODEV


def rte_eth_dev_get_name_by_port(port_id: int) -> str | None:
    """Device name of a port (``rte_eth_dev_get_name_by_port``), or None."""
    dev = _dev(port_id)
    return dev.name if dev else None


# ---- configuration and state machine --------------------------------------------------

def rte_eth_dev_configure(port_id: int, nb_rx_q: int, nb_tx_q: int, conf: rte_eth_conf | None) -> int:
    """Set the number of queues and the port configuration (``rte_eth_dev_configure``).

    The port must be stopped (-EBUSY otherwise). Queue counts must be 1..128 (-EINVAL).
    Queues beyond the new counts are released; every queue must be set up again.
    """
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    if dev.started:
        log.error("port %d: configure needs a stopped port", port_id)
        return -errno.EBUSY
    for what, n in (("Rx", nb_rx_q), ("Tx", nb_tx_q)):
        if not isinstance(n, int) or not 1 <= n <= RTE_MAX_QUEUES_PER_PORT:
            log.error("port %d: %s queue count %r must be between 1 and %d",
                      port_id, what, n, RTE_MAX_QUEUES_PER_PORT)
            return -errno.EINVAL
    conf = conf if conf is not None else rte_eth_conf()
    if conf.rxmode.mtu:
        rc = _check_mtu(dev, conf.rxmode.mtu)
        if rc < 0:
            return rc
    info = rte_eth_dev_info()
    rc = dev.ops.dev_infos_get(dev, info)
    if rc < 0:
        return rc
    for what, asked, capa in (("Rx", conf.rxmode.offloads, info.rx_offload_capa),
                              ("Tx", conf.txmode.offloads, info.tx_offload_capa)):
        if asked & ~capa:
            log.error("port %d: %s offloads 0x%x requested, 0x%x not supported (capabilities 0x%x)",
                      port_id, what, asked, asked & ~capa, capa)
            return -errno.EINVAL
    _release_queues(dev)
    old = (dev.nb_rx_queues, dev.nb_tx_queues, dev.conf)
    dev.nb_rx_queues, dev.nb_tx_queues = nb_rx_q, nb_tx_q
    dev.conf = conf
    rc = dev.ops.dev_configure(dev)
    if rc == 0 and conf.rxmode.mtu:
        rc = dev.ops.mtu_set(dev, conf.rxmode.mtu)
    if rc < 0:
        dev.nb_rx_queues, dev.nb_tx_queues, dev.conf = old
        dev.configured = False
        return rc
    dev.rx_queues = [None] * nb_rx_q
    dev.tx_queues = [None] * nb_tx_q
    dev.configured = True
    return 0


def _release_queues(dev: EthDev) -> None:
    for i in range(len(dev.rx_queues)):
        dev.ops.rx_queue_release(dev, i)
    for i in range(len(dev.tx_queues)):
        dev.ops.tx_queue_release(dev, i)
    dev.rx_queues, dev.tx_queues = [], []


def _check_queue_setup(dev: EthDev | None, queue_id: int, nb: int, what: str) -> int:
    if dev is None:
        return -errno.ENODEV
    if not dev.configured:
        log.error("port %d: configure it before setting up queues", dev.port_id)
        return -errno.EINVAL
    if not isinstance(queue_id, int) or not 0 <= queue_id < nb:
        log.error("port %d: %s queue %r does not exist (%d configured)", dev.port_id, what, queue_id, nb)
        return -errno.EINVAL
    if dev.started:
        log.error("port %d: stop the port before setting up queue %d", dev.port_id, queue_id)
        return -errno.EBUSY
    return 0


def _index(v):
    """``v`` as an int when it is an integer (numpy integers too, not bools' strings or
    floats), else None."""
    if isinstance(v, int):
        return v
    try:
        return operator.index(v)
    except TypeError:
        return None


def _check_conf_args(dev: EthDev, what: str, socket_id, qconf, conf_type) -> int:
    """socket_id an integer (SOCKET_ID_ANY = -1 or a node), the queue conf None or the
    right rte_eth_*conf: anything else was accepted silently."""
    sid = _index(socket_id)
    if sid is None or sid < -1:
        log.error("port %d: %s queue socket_id %r is not a NUMA node or SOCKET_ID_ANY",
                  dev.port_id, what, socket_id)
        return -errno.EINVAL
    if qconf is not None and not isinstance(qconf, conf_type):
        log.error("port %d: %s queue conf must be None or %s, not %s", dev.port_id, what,
                  conf_type.__name__, type(qconf).__name__)
        return -errno.EINVAL
    return 0


def _check_queue_offloads(dev: EthDev, what: str, qconf, port_offloads: int, queue_capa: int) -> int:
    """DPDK's rule: a queue may add only offloads of the queue-level capabilities."""
    extra = (getattr(qconf, "offloads", 0) or 0) & ~port_offloads
    if extra & ~queue_capa:
        log.error("port %d: %s queue offloads 0x%x are not per-queue capabilities (0x%x)",
                  dev.port_id, what, extra, queue_capa)
        return -errno.EINVAL
    return 0


def _ring_size(dev: EthDev, nb_desc: int, lim, default: int) -> int:
    if nb_desc == 0:
        return default
    if not isinstance(nb_desc, int) or not lim.nb_min <= nb_desc <= lim.nb_max:
        log.error("port %d: %r descriptors is outside %d..%d", dev.port_id, nb_desc, lim.nb_min, lim.nb_max)
        return -errno.EINVAL
    return nb_desc


def rte_eth_rx_queue_setup(port_id: int, rx_queue_id: int, nb_rx_desc: int, socket_id: int,
                           rx_conf, mb_pool) -> int:
    """Allocate an Rx queue filled from ``mb_pool`` (``rte_eth_rx_queue_setup``).

    ``nb_rx_desc == 0`` takes the driver's default ring size.
    """
    dev = _dev(port_id)
    rx_queue_id = _index(rx_queue_id) if _index(rx_queue_id) is not None else rx_queue_id
    nb_rx_desc = _index(nb_rx_desc) if _index(nb_rx_desc) is not None else nb_rx_desc
    rc = _check_queue_setup(dev, rx_queue_id, dev.nb_rx_queues if dev else 0, "Rx")
    if rc < 0:
        return rc
    rc = _check_conf_args(dev, "Rx", socket_id, rx_conf, rte_eth_rxconf)
    if rc < 0:
        return rc
    if not isinstance(mb_pool, _core.Mempool) or mb_pool.freed:
        log.error("port %d: Rx queue %d needs a valid mempool", port_id, rx_queue_id)
        return -errno.EINVAL
    info = rte_eth_dev_info()
    dev.ops.dev_infos_get(dev, info)
    nb = _ring_size(dev, nb_rx_desc, info.rx_desc_lim, info.default_rxportconf.ring_size)
    if nb < 0:
        return nb
    rc = _check_queue_offloads(dev, "Rx", rx_conf, dev.conf.rxmode.offloads, info.rx_queue_offload_capa)
    if rc < 0:
        return rc
    dev.ops.rx_queue_release(dev, rx_queue_id)
    return dev.ops.rx_queue_setup(dev, rx_queue_id, nb, rx_conf, mb_pool)


def rte_eth_tx_queue_setup(port_id: int, tx_queue_id: int, nb_tx_desc: int, socket_id: int, tx_conf) -> int:
    """Allocate a Tx queue (``rte_eth_tx_queue_setup``)."""
    dev = _dev(port_id)
    tx_queue_id = _index(tx_queue_id) if _index(tx_queue_id) is not None else tx_queue_id
    nb_tx_desc = _index(nb_tx_desc) if _index(nb_tx_desc) is not None else nb_tx_desc
    rc = _check_queue_setup(dev, tx_queue_id, dev.nb_tx_queues if dev else 0, "Tx")
    if rc < 0:
        return rc
    rc = _check_conf_args(dev, "Tx", socket_id, tx_conf, rte_eth_txconf)
    if rc < 0:
        return rc
    info = rte_eth_dev_info()
    dev.ops.dev_infos_get(dev, info)
    nb = _ring_size(dev, nb_tx_desc, info.tx_desc_lim, info.default_txportconf.ring_size)
    if nb < 0:
        return nb
    rc = _check_queue_offloads(dev, "Tx", tx_conf, dev.conf.txmode.offloads, info.tx_queue_offload_capa)
    if rc < 0:
        return rc
    dev.ops.tx_queue_release(dev, tx_queue_id)
    return dev.ops.tx_queue_setup(dev, tx_queue_id, nb, tx_conf)


def rte_eth_dev_start(port_id: int) -> int:
    """Start the port: Rx buffers are posted, bursts work (``rte_eth_dev_start``).

    Starting a started port returns 0; every queue must have been set up (-EINVAL).
    """
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    if not dev.configured:
        log.error("port %d: configure it before starting", port_id)
        return -errno.EINVAL
    if dev.started:
        return 0
    missing = [("Rx", i) for i, q in enumerate(dev.rx_queues) if q is None]
    missing += [("Tx", i) for i, q in enumerate(dev.tx_queues) if q is None]
    if missing:
        log.error("port %d: queues not set up: %s", port_id, ", ".join("%s %d" % m for m in missing))
        return -errno.EINVAL
    freed = [i for i, q in enumerate(dev.rx_queues) if q.pool.freed]
    if freed:
        log.error("port %d: the pool of Rx queue(s) %s was freed", port_id, freed)
        return -errno.EINVAL
    rc = dev.ops.dev_start(dev)
    if rc < 0:
        return rc
    _core.fp_ops_set(port_id, dev.rx_queues, dev.tx_queues)
    dev.started = True
    intr = dev.conf.intr_conf
    if intr.lsc or intr.rmv:
        # Link events are delivered while the port is started (DPDK's TAP drivers arm
        # their netlink interrupt on start and disarm it on stop).
        events.watch(dev, intr.lsc, intr.rmv)
    return 0


def rte_eth_dev_stop(port_id: int) -> int:
    """Stop the port; every in-flight mbuf goes back to its pool (``rte_eth_dev_stop``)."""
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    if not dev.started:
        return 0
    events.unwatch(dev)
    _core.fp_ops_clear(port_id)
    dev.started = False
    return dev.ops.dev_stop(dev)


def rte_eth_dev_close(port_id: int) -> int:
    """Release the port (``rte_eth_dev_close``): its id becomes invalid.

    A started port must be stopped first (-EINVAL), as in DPDK. A non-persistent
    kernel interface disappears.
    """
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    if dev.started:
        log.error("port %d: cannot close a started port", port_id)
        return -errno.EINVAL
    rc = dev.ops.dev_close(dev)
    _release(dev)
    return rc


def rte_eth_dev_reset(port_id: int) -> int:
    """Stop the port and drop its configuration and queues (``rte_eth_dev_reset``).

    The port stays attached; configure and set up queues again to use it.
    """
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    rte_eth_dev_stop(port_id)
    _release_queues(dev)
    dev.configured = False
    dev.nb_rx_queues = dev.nb_tx_queues = 0
    return 0


# ---- information, link, settings ------------------------------------------------------

def _op(port_id: int, op: str, *args) -> int:
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    return getattr(dev.ops, op)(dev, *args)


def rte_eth_dev_info_get(port_id: int, dev_info) -> int:
    """Fill ``dev_info`` (``rte_eth_dev_info_get``)."""
    return _op(port_id, "dev_infos_get", dev_info)


def rte_eth_link_get(port_id: int, link) -> int:
    """Fill ``link`` from the kernel's state (``rte_eth_link_get``)."""
    return _op(port_id, "link_update", link, True)


def rte_eth_link_get_nowait(port_id: int, link) -> int:
    """Fill ``link`` without waiting (``rte_eth_link_get_nowait``)."""
    return _op(port_id, "link_update", link, False)


def rte_eth_dev_set_link_up(port_id: int) -> int:
    """Set the kernel interface administratively up (``rte_eth_dev_set_link_up``)."""
    return _op(port_id, "dev_set_link_up")


def rte_eth_dev_set_link_down(port_id: int) -> int:
    """Set the kernel interface administratively down (``rte_eth_dev_set_link_down``)."""
    return _op(port_id, "dev_set_link_down")


def rte_eth_promiscuous_enable(port_id: int) -> int:
    """``rte_eth_promiscuous_enable``."""
    return _op(port_id, "promiscuous_set", True)


def rte_eth_promiscuous_disable(port_id: int) -> int:
    """``rte_eth_promiscuous_disable``."""
    return _op(port_id, "promiscuous_set", False)


def rte_eth_promiscuous_get(port_id: int) -> int:
    """1, 0, or -errno (``rte_eth_promiscuous_get``), read from the kernel."""
    return _op(port_id, "promiscuous_get")


def rte_eth_allmulticast_enable(port_id: int) -> int:
    """``rte_eth_allmulticast_enable``."""
    return _op(port_id, "allmulticast_set", True)


def rte_eth_allmulticast_disable(port_id: int) -> int:
    """``rte_eth_allmulticast_disable``."""
    return _op(port_id, "allmulticast_set", False)


def rte_eth_allmulticast_get(port_id: int) -> int:
    """1, 0, or -errno (``rte_eth_allmulticast_get``), read from the kernel."""
    return _op(port_id, "allmulticast_get")


def rte_eth_macaddr_get(port_id: int, mac_addr) -> int:
    """Fill ``mac_addr`` with the interface's address (``rte_eth_macaddr_get``)."""
    return _op(port_id, "mac_addr_get", mac_addr)


def rte_eth_dev_default_mac_addr_set(port_id: int, mac_addr) -> int:
    """Set the interface's address; multicast or all-zero gives -EINVAL."""
    return _op(port_id, "mac_addr_set", mac_addr)


def rte_eth_dev_get_mtu(port_id: int) -> int:
    """The interface's MTU, or -errno (``rte_eth_dev_get_mtu``)."""
    return _op(port_id, "mtu_get")


def rte_eth_dev_set_mtu(port_id: int, mtu: int) -> int:
    """Set the MTU (``rte_eth_dev_set_mtu``): -EINVAL outside the device's min/max."""
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    rc = _check_mtu(dev, mtu)
    if rc < 0:
        return rc
    if not dev.started:
        return dev.ops.mtu_set(dev, mtu)
    # The driver may restart Rx queues and change how they receive (their burst
    # function): withdraw the port from the burst table meanwhile (bursts in other
    # threads return 0), then publish it again.
    _core.fp_ops_clear(port_id)
    try:
        return dev.ops.mtu_set(dev, mtu)
    finally:
        _core.fp_ops_set(port_id, dev.rx_queues, dev.tx_queues)


def _check_mtu(dev: EthDev, mtu) -> int:
    """0 when ``mtu`` is within the device's min/max (DPDK's eth_dev_validate_mtu), else -errno."""
    info = rte_eth_dev_info()
    rc = dev.ops.dev_infos_get(dev, info)
    if rc < 0:
        return rc
    if not isinstance(mtu, int) or not info.min_mtu <= mtu <= info.max_mtu:
        log.error("port %d: MTU %r outside %d..%d", dev.port_id, mtu, info.min_mtu, info.max_mtu)
        return -errno.EINVAL
    return 0


def rte_eth_dev_adjust_nb_rx_tx_desc(port_id: int, nb_rx_desc: int, nb_tx_desc: int):
    """Clamp descriptor counts to the device's limits (``rte_eth_dev_adjust_nb_rx_tx_desc``).

    C updates two in/out pointers; Python returns ``(ret, nb_rx_desc, nb_tx_desc)``.
    """
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV, nb_rx_desc, nb_tx_desc
    info = rte_eth_dev_info()
    rc = dev.ops.dev_infos_get(dev, info)
    if rc < 0:
        return rc, nb_rx_desc, nb_tx_desc

    def clamp(n, lim):
        n = max(lim.nb_min, min(lim.nb_max, n))
        return -(-n // lim.nb_align) * lim.nb_align
    return 0, clamp(nb_rx_desc, info.rx_desc_lim), clamp(nb_tx_desc, info.tx_desc_lim)


def rte_eth_dev_socket_id(port_id: int) -> int:
    """NUMA socket of a port: 0, or -1 (``SOCKET_ID_ANY``) with rte_errno EINVAL for an
    invalid port (``rte_eth_dev_socket_id``)."""
    if _dev(port_id) is None:
        _core._set_errno(errno.EINVAL)
        return -1
    return 0


def rte_eth_dev_set_ptypes(port_id: int, ptype_mask: int, set_ptypes=None, num: int = 0) -> int:
    """Packet types the application needs (``rte_eth_dev_set_ptypes``): 0. The TAP drivers
    parse every received packet (docs/offloads.md), so nothing is disabled; when
    ``set_ptypes`` is a list it is filled with ``RTE_PTYPE_UNKNOWN`` ends as in DPDK."""
    if _dev(port_id) is None:
        return -errno.ENODEV
    if set_ptypes is not None and num > 0:
        set_ptypes[0] = 0
    return 0


def rte_eth_link_speed_to_str(link_speed: int) -> str:
    """``"10 Gbps"``, ``"100 Mbps"``, ``"None"`` or ``"Unknown"`` (``rte_eth_link_speed_to_str``)."""
    if link_speed == RTE_ETH_SPEED_NUM_NONE:
        return "None"
    if link_speed == RTE_ETH_SPEED_NUM_UNKNOWN:
        return "Unknown"
    if link_speed >= 1000 and link_speed % 1000 == 0:
        return "%d Gbps" % (link_speed // 1000)
    if link_speed >= 1000:
        return "%.1f Gbps" % (link_speed / 1000)
    return "%d Mbps" % link_speed


def rte_eth_link_to_str(eth_link) -> str:
    """``"Link up at 10 Gbps FDX Fixed"`` / ``"Link down"`` (``rte_eth_link_to_str``; C fills
    a buffer of ``RTE_ETH_LINK_MAX_STR_LEN``, Python returns the string)."""
    if eth_link.link_status == RTE_ETH_LINK_DOWN:
        return "Link down"
    return "Link up at %s %s %s" % (rte_eth_link_speed_to_str(eth_link.link_speed),
                                    "FDX" if eth_link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX else "HDX",
                                    "Autoneg" if eth_link.link_autoneg == RTE_ETH_LINK_AUTONEG else "Fixed")


def rte_eth_read_clock(port_id: int) -> int:
    """The device clock, in cycles of ``rte_get_timer_hz()`` (``rte_eth_read_clock``; C's
    out-parameter is returned): TAP frames have no hardware timestamp, so this is the EAL
    timer. -ENODEV for an invalid port."""
    if _dev(port_id) is None:
        return -errno.ENODEV
    return rte_get_timer_cycles()


# ---- Rx/Tx callbacks ---------------------------------------------------------------------

class rte_eth_rxtx_callback:
    """A registered burst callback (DPDK's ``struct rte_eth_rxtx_callback``): the handle
    ``rte_eth_add_*_callback`` returns and ``rte_eth_remove_*_callback`` takes."""

    __slots__ = ("fn", "param")

    def __init__(self, fn, param):
        self.fn, self.param = fn, param

    def __repr__(self):
        return "<rte_eth_rxtx_callback %r>" % (self.fn,)


def _add_callback(port_id, queue_id, fn, user_param, rx: bool, first: bool):
    dev = _dev(port_id)
    if dev is None:
        _core._set_errno(errno.ENODEV)
        return None
    nb = dev.nb_rx_queues if rx else dev.nb_tx_queues
    if not isinstance(queue_id, int) or not 0 <= queue_id < nb or not callable(fn):
        _core._set_errno(errno.EINVAL)
        return None
    cbs = (dev.rx_callbacks if rx else dev.tx_callbacks).setdefault(queue_id, [])
    cb = rte_eth_rxtx_callback(fn, user_param)
    cbs.insert(0, cb) if first else cbs.append(cb)
    _core.set_burst_callbacks(rx, port_id, queue_id, tuple((c.fn, c.param) for c in cbs))
    return cb


def _remove_callback(port_id, queue_id, user_cb, rx: bool) -> int:
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    cbs = (dev.rx_callbacks if rx else dev.tx_callbacks).get(queue_id, [])
    if user_cb not in cbs:
        return -errno.EINVAL
    cbs.remove(user_cb)
    _core.set_burst_callbacks(rx, port_id, queue_id, tuple((c.fn, c.param) for c in cbs))
    return 0


def rte_eth_add_rx_callback(port_id: int, queue_id: int, fn, user_param):
    """Call ``fn(port_id, queue_id, pkts, nb_pkts, max_pkts, user_param)`` after every Rx
    burst of the queue, last in line; it returns the packet count to hand on
    (``rte_eth_add_rx_callback``). A handle, or None with rte_errno ENODEV/EINVAL."""
    return _add_callback(port_id, queue_id, fn, user_param, True, False)


def rte_eth_add_first_rx_callback(port_id: int, queue_id: int, fn, user_param):
    """As ``rte_eth_add_rx_callback``, first in line (``rte_eth_add_first_rx_callback``)."""
    return _add_callback(port_id, queue_id, fn, user_param, True, True)


def rte_eth_add_tx_callback(port_id: int, queue_id: int, fn, user_param):
    """Call ``fn(port_id, queue_id, pkts, nb_pkts, user_param)`` before every Tx burst of
    the queue; it returns how many packets to send (it frees those it drops)
    (``rte_eth_add_tx_callback``). A handle, or None with rte_errno ENODEV/EINVAL."""
    return _add_callback(port_id, queue_id, fn, user_param, False, False)


def rte_eth_remove_rx_callback(port_id: int, queue_id: int, user_cb) -> int:
    """Remove an Rx callback (``rte_eth_remove_rx_callback``): 0, -ENODEV, -EINVAL."""
    return _remove_callback(port_id, queue_id, user_cb, True)


def rte_eth_remove_tx_callback(port_id: int, queue_id: int, user_cb) -> int:
    """Remove a Tx callback (``rte_eth_remove_tx_callback``): 0, -ENODEV, -EINVAL."""
    return _remove_callback(port_id, queue_id, user_cb, False)


# ---- statistics ----------------------------------------------------------------------

def rte_eth_stats_get(port_id: int, stats) -> int:
    """Fill ``stats`` with the port's basic counters (``rte_eth_stats_get``)."""
    return _op(port_id, "stats_get", stats)


def rte_eth_stats_reset(port_id: int) -> int:
    """Restart the counters at zero (``rte_eth_stats_reset``); the kernel's are untouched."""
    return _op(port_id, "stats_reset")


def _xstats(port_id: int):
    """All extended statistics of a port as (name, value) pairs, or -errno."""
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    st = rte_eth_stats()
    rc = dev.ops.stats_get(dev, st)
    if rc < 0:
        return rc
    generic = [("rx_good_packets", st.ipackets), ("tx_good_packets", st.opackets),
               ("rx_good_bytes", st.ibytes), ("tx_good_bytes", st.obytes),
               ("rx_missed_errors", st.imissed), ("rx_errors", st.ierrors),
               ("tx_errors", st.oerrors), ("rx_mbuf_allocation_errors", st.rx_nombuf)]
    return generic + dev.ops.xstats_get(dev)


def rte_eth_xstats_get_names(port_id: int, xstats_names, size: int) -> int:
    """Names of the extended statistics (``rte_eth_xstats_get_names``).

    With ``xstats_names`` None or ``size`` too small, returns the count needed;
    otherwise fills ``xstats_names[i].name`` and returns the count.
    """
    xs = _xstats(port_id)
    if isinstance(xs, int):
        return xs
    if xstats_names is None or size < len(xs):
        return len(xs)
    if len(xstats_names) < len(xs):
        return -errno.EINVAL
    for i, (name, _) in enumerate(xs):
        xstats_names[i].name = name
    return len(xs)


def rte_eth_xstats_get(port_id: int, xstats, n: int) -> int:
    """Values of the extended statistics (``rte_eth_xstats_get``); same sizing rule as names."""
    xs = _xstats(port_id)
    if isinstance(xs, int):
        return xs
    if xstats is None or n < len(xs):
        return len(xs)
    if len(xstats) < len(xs):
        return -errno.EINVAL
    for i, (_, value) in enumerate(xs):
        xstats[i].id = i
        xstats[i].value = value
    return len(xs)


def rte_eth_xstats_get_by_id(port_id: int, ids, values, size: int) -> int:
    """Values of chosen statistics (``rte_eth_xstats_get_by_id``).

    ``ids`` None means all (then ``size`` must hold them, else the count is returned);
    fills ``values`` by index; -EINVAL for an unknown id or a short ``values``.
    """
    xs = _xstats(port_id)
    if isinstance(xs, int):
        return xs
    if ids is None:
        if values is None or size < len(xs):
            return len(xs)
        ids = range(len(xs))
    if values is None or len(values) < len(ids) or size < len(ids):
        return -errno.EINVAL
    for i, xid in enumerate(ids):
        if not isinstance(xid, int) or not 0 <= xid < len(xs):
            return -errno.EINVAL
        values[i] = xs[xid][1]
    return len(ids)


def rte_eth_xstats_get_names_by_id(port_id: int, xstats_names, size: int, ids) -> int:
    """Names of chosen statistics (``rte_eth_xstats_get_names_by_id``)."""
    xs = _xstats(port_id)
    if isinstance(xs, int):
        return xs
    if ids is None:
        return rte_eth_xstats_get_names(port_id, xstats_names, size)
    if xstats_names is None or len(xstats_names) < len(ids) or size < len(ids):
        return -errno.EINVAL
    for i, xid in enumerate(ids):
        if not isinstance(xid, int) or not 0 <= xid < len(xs):
            return -errno.EINVAL
        xstats_names[i].name = xs[xid][0]
    return len(ids)


def rte_eth_xstats_get_id_by_name(port_id: int, xstat_name: str) -> int:
    """Id of the statistic called ``xstat_name``, or -EINVAL (C returns it through a pointer)."""
    xs = _xstats(port_id)
    if isinstance(xs, int):
        return xs
    for i, (name, _) in enumerate(xs):
        if name == xstat_name:
            return i
    return -errno.EINVAL


def rte_eth_xstats_reset(port_id: int) -> int:
    """Zero every extended statistic, the generic ones included (``rte_eth_xstats_reset``)."""
    return rte_eth_stats_reset(port_id)


# ---- events and Rx interrupts (docs/events.md) ------------------------------------------

def rte_eth_dev_callback_register(port_id: int, event: int, cb_fn, cb_arg) -> int:
    """Call ``cb_fn(port_id, event, cb_arg, ret_param)`` on ``event`` of a port, or of every
    port with ``RTE_ETH_ALL`` (``rte_eth_dev_callback_register``).

    Events: ``RTE_ETH_EVENT_INTR_LSC`` (link status changed; the port must be configured
    with ``intr_conf.lsc = 1``) and ``RTE_ETH_EVENT_INTR_RMV`` (the interface was deleted;
    ``intr_conf.rmv = 1``), delivered while the port is started. Callbacks run on the
    ``pyrtap-intr`` thread. Registering the same (port, event, function, argument) twice
    is a no-op. -EINVAL for an invalid port, event or non-callable.
    """
    if port_id != RTE_ETH_ALL and _dev(port_id) is None:
        return -errno.EINVAL
    return events.callback_register(port_id, event, cb_fn, cb_arg)


def rte_eth_dev_callback_unregister(port_id: int, event: int, cb_fn, cb_arg) -> int:
    """Remove a callback registered with the same arguments
    (``rte_eth_dev_callback_unregister``). Works from inside a callback, even the one
    being removed: it is not called again. 0 (also when nothing matched), -EINVAL for
    an invalid port or event."""
    if port_id != RTE_ETH_ALL and _dev(port_id) is None:
        return -errno.EINVAL
    return events.callback_unregister(port_id, event, cb_fn, cb_arg)


def _rx_intr(port_id: int, queue_id: int, op: str) -> int:
    dev = _dev(port_id)
    if dev is None:
        return -errno.ENODEV
    if not isinstance(queue_id, int) or not 0 <= queue_id < dev.nb_rx_queues:
        log.error("port %d: Rx queue %r does not exist", port_id, queue_id)
        return -errno.EINVAL
    return getattr(dev.ops, op)(dev, queue_id)


def rte_eth_dev_rx_intr_enable(port_id: int, queue_id: int) -> int:
    """Arm the Rx interrupt of a queue (``rte_eth_dev_rx_intr_enable``): its fd (from
    ``rte_eth_dev_rx_intr_ctl_q_get_fd``) becomes readable when packets wait, also ones
    that arrived before this call. Needs ``intr_conf.rxq = 1`` (-ENOTSUP otherwise)."""
    return _rx_intr(port_id, queue_id, "rx_queue_intr_enable")


def rte_eth_dev_rx_intr_disable(port_id: int, queue_id: int) -> int:
    """Disarm the Rx interrupt of a queue (``rte_eth_dev_rx_intr_disable``), as after a
    wake-up, before polling again."""
    return _rx_intr(port_id, queue_id, "rx_queue_intr_disable")


def rte_eth_dev_rx_intr_ctl_q_get_fd(port_id: int, queue_id: int) -> int:
    """The pollable fd of a queue's Rx interrupt (``rte_eth_dev_rx_intr_ctl_q_get_fd``):
    use it with select/poll/epoll or asyncio. It is the TAP queue fd or an eventfd of the
    queue's io_uring, depending on the driver and Rx mode (docs/events.md); it belongs to
    the port, do not close it. -errno on error (DPDK returns -1)."""
    return _rx_intr(port_id, queue_id, "rx_queue_intr_fd")


# The calls, then the structures and constants they take (the literal list and `+=` of
# another module's __all__ are the forms static analysers follow).
__all__ = [
    "ENOTSUP", "rte_eth_rx_burst", "rte_eth_tx_burst", "rte_eth_dev_is_valid_port",
    "rte_eth_dev_count_avail", "RTE_ETH_FOREACH_DEV", "rte_eth_dev_get_port_by_name",
    "rte_eth_dev_get_name_by_port", "rte_eth_dev_configure", "rte_eth_rx_queue_setup",
    "rte_eth_tx_queue_setup", "rte_eth_dev_start", "rte_eth_dev_stop", "rte_eth_dev_close",
    "rte_eth_dev_reset", "rte_eth_dev_info_get", "rte_eth_link_get", "rte_eth_link_get_nowait",
    "rte_eth_dev_set_link_up", "rte_eth_dev_set_link_down", "rte_eth_promiscuous_enable",
    "rte_eth_promiscuous_disable", "rte_eth_promiscuous_get", "rte_eth_allmulticast_enable",
    "rte_eth_allmulticast_disable", "rte_eth_allmulticast_get", "rte_eth_macaddr_get",
    "rte_eth_dev_default_mac_addr_set", "rte_eth_dev_get_mtu", "rte_eth_dev_set_mtu",
    "rte_eth_dev_adjust_nb_rx_tx_desc", "rte_eth_dev_socket_id", "rte_eth_dev_set_ptypes",
    "rte_eth_link_speed_to_str", "rte_eth_link_to_str", "rte_eth_read_clock",
    "rte_eth_rxtx_callback", "rte_eth_add_rx_callback", "rte_eth_add_first_rx_callback",
    "rte_eth_add_tx_callback", "rte_eth_remove_rx_callback", "rte_eth_remove_tx_callback",
    "rte_eth_stats_get", "rte_eth_stats_reset", "rte_eth_xstats_get_names", "rte_eth_xstats_get",
    "rte_eth_xstats_get_by_id", "rte_eth_xstats_get_names_by_id", "rte_eth_xstats_get_id_by_name",
    "rte_eth_xstats_reset", "rte_eth_dev_callback_register", "rte_eth_dev_callback_unregister",
    "rte_eth_dev_rx_intr_enable", "rte_eth_dev_rx_intr_disable",
    "rte_eth_dev_rx_intr_ctl_q_get_fd",
]
__all__ += ethdev_types.__all__
