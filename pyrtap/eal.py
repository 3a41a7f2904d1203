"""EAL: ``rte_eal_init`` argument parsing, virtual devices, cleanup.

Only what a TAP-based application needs: ``--vdev``, ``--file-prefix``,
``--proc-type``, ``-l``/``-c``/``--lcores``/``--main-lcore`` (lcore threads, see
lcore.py), and the common no-op options DPDK samples pass (``-n``, ``--no-pci``,
``--no-huge``, ``--in-memory``, ...).
"""
from __future__ import annotations

import errno
import logging
import os
import sys
import traceback

from . import ethdev_api as eth
from . import events, lcore, mempool
from .drivers import driver_for

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers


class _EalState:
    def __init__(self):
        self.initialized = False
        self.file_prefix = "rte"
        self.proc_type = "primary"
        self.lcores = "0"
        self.vdevs: list[str] = []


eal = _EalState()

# Options taking a value, and flags, that DPDK accepts and pyrtap records or ignores.
_VALUE_OPTS = {"--vdev", "--file-prefix", "--proc-type", "-l", "--lcores", "-c", "-n",
               "--log-level", "-a", "--allow", "-b", "--block", "--socket-mem", "-m",
               "--main-lcore", "--iova-mode", "--huge-dir", "--base-virtaddr"}
_FLAG_OPTS = {"--no-pci", "--no-huge", "--in-memory", "--no-telemetry", "--no-shconf",
              "--no-hpet", "-v", "--legacy-mem", "--single-file-segments"}


def _parse_devargs(devargs: str) -> tuple[str, dict[str, str]]:
    name, _, rest = devargs.partition(",")
    args = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        args[key.strip()] = value.strip()
    return name.strip(), args


def _iface_user(iface: str | None):
    """The port whose TAP is the interface called ``iface`` now, or None."""
    if not iface:
        return None
    for other in eth._ports_in_use():
        tap = getattr(other.ops, "tap", None)
        try:
            if tap is not None and tap.name == iface:
                return other
        except OSError:         # that port's interface is gone
            continue
    return None


def rte_dev_probe(devargs: str) -> int:
    """Create one virtual device, e.g. ``"net_rtap0,iface=rt0,persist"`` (``rte_dev_probe``).

    Returns 0, -EEXIST for a name in use, -EINVAL for an unknown driver or devargs
    key (logged with the key), or the kernel's -errno when the TAP cannot be made.
    """
    if not isinstance(devargs, str):
        log.error("rte_dev_probe: devargs must be a string, got %r", devargs)
        return -errno.EINVAL
    name, args = _parse_devargs(devargs)
    driver = driver_for(name)
    if driver is None:
        log.error("%s: no driver for this device (known: net_rtap, net_tap)", name)
        return -errno.EINVAL
    if eth.rte_eth_dev_get_port_by_name(name) >= 0:
        log.error("%s: device exists", name)
        return -errno.EEXIST
    if _iface_user(args.get("iface")) is not None:
        # Checked before opening anything: even a moment attached would take frames.
        other = _iface_user(args.get("iface"))
        log.error("%s: interface %s is already used by port %d (%s)", name, args["iface"],
                  other.port_id, other.name)
        return -errno.EBUSY
    try:
        ops = driver(name, args)
    except KeyError as e:
        log.error("%s: unknown devargs key %r (accepted: %s)", name, e.args[0],
                  ", ".join(driver.devargs_keys))
        return -errno.EINVAL
    except ValueError as e:
        log.error("%s: %s", name, e)
        return -errno.EINVAL
    except OSError as e:
        log.error("%s: %s", name, e)
        return -(e.errno or errno.EIO)
    for other in eth._ports_in_use():
        tap = getattr(other.ops, "tap", None)
        if tap is not None and tap.ifindex == ops.tap.ifindex:
            # Two ports on one interface would split its traffic between them.
            ops.tap.close()
            log.error("%s: interface %s is already used by port %d (%s)", name, ops.tap.created_name,
                      other.port_id, other.name)
            return -errno.EBUSY
    if eth._allocate(name, ops) is None:
        ops.tap.close()
        log.error("%s: no free port id (at most %d ports)", name, eth.RTE_MAX_ETHPORTS)
        return -errno.ENOSPC
    return 0


def rte_dev_remove(name: str) -> int:
    """Stop, close and detach the device ``name`` (``rte_dev_remove``)."""
    port_id = eth.rte_eth_dev_get_port_by_name(name)
    if port_id < 0:
        return -errno.ENODEV
    eth.rte_eth_dev_stop(port_id)
    return eth.rte_eth_dev_close(port_id)


def rte_eal_init(argv: list[str]) -> int:
    """Parse EAL arguments and create the ``--vdev`` devices (``rte_eal_init``).

    Returns the number of arguments consumed after ``argv[0]`` (up to and including
    ``--``), so ``argv = argv[ret:]`` leaves the application's arguments with a
    placeholder in ``argv[0]``, as in C. -EALREADY if called twice, -EINVAL on a bad
    argument.
    """
    if eal.initialized:
        return -errno.EALREADY
    if isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple)) \
            or not all(isinstance(a, str) for a in argv):
        log.error("EAL: argv must be a list of strings, got %r", argv)
        return -errno.EINVAL
    i, vdevs, opts = 1, [], {}
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        key, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if key in _FLAG_OPTS:
            i += 1
            continue
        if key in _VALUE_OPTS or (arg[:2] in ("-l", "-c", "-n", "-a", "-b", "-m") and len(arg) > 2):
            if not eq and key in _VALUE_OPTS:
                if i + 1 >= len(argv):
                    log.error("EAL: option %s needs a value", key)
                    return -errno.EINVAL
                value = argv[i + 1]
                i += 1
            elif not eq:
                key, value = arg[:2], arg[2:]
            i += 1
            if key == "--vdev":
                vdevs.append(value)
            else:
                opts[key] = value
            continue
        if arg.startswith("-"):
            log.error("EAL: unknown option %s", arg)
            return -errno.EINVAL
        break         # first application argument
    proc_type = opts.get("--proc-type", "primary")
    if proc_type not in ("primary", "secondary", "auto"):
        log.error("EAL: --proc-type must be primary, secondary or auto, not %r", proc_type)
        return -errno.EINVAL
    eal.file_prefix = opts.get("--file-prefix", "rte")
    eal.proc_type = "primary" if proc_type == "auto" else proc_type
    eal.lcores = opts.get("-l", opts.get("--lcores", "0"))
    try:
        cpus, main_lcore = lcore.parse_lcores(opts)
    except ValueError as e:
        log.error("EAL: lcores: %s", e)
        return -errno.EINVAL
    created = []
    for vdev in vdevs:
        rc = rte_dev_probe(vdev)
        if rc < 0:
            for name in created:
                rte_dev_remove(name)
            return rc
        created.append(_parse_devargs(vdev)[0])
    eal.vdevs = created
    lcore.setup(cpus, main_lcore)
    eal.initialized = True
    return i - 1


def rte_eal_cleanup() -> int:
    """Stop and close every port, end the event thread and free every pool (``rte_eal_cleanup``).

    Afterwards ``rte_eal_init`` may be called again (DPDK does not allow that; a Python
    process running several tests wants it).
    """
    for port_id in list(eth.RTE_ETH_FOREACH_DEV()):
        eth.rte_eth_dev_stop(port_id)
        eth.rte_eth_dev_close(port_id)
    events.stop_listener()      # the link-event thread and its sockets
    for mp in mempool.rte_mempool_list():
        if mempool.rte_mempool_free(mp) < 0:
            # Clones in another pool use its buffers: everything goes now, and every mbuf
            # left anywhere is dead, so nothing can reach the released buffers.
            mempool._pools.pop(mp.name, None)
            mp._release()
    lcore.shutdown()
    eal.__init__()
    return 0


def rte_eal_process_type() -> str:
    """``"primary"`` or ``"secondary"`` (``rte_eal_process_type``)."""
    return eal.proc_type


def rte_exit(exit_code: int, fmt: str = "", *args) -> None:
    """Print the message, release everything (``rte_eal_cleanup``), and exit with
    ``exit_code`` (``rte_exit``). Raises SystemExit, so ``finally`` blocks run."""
    if fmt:
        sys.stderr.write("EAL: Error - exiting with code: %d\n  Cause: %s" % (
            exit_code, (fmt % args) if args else fmt))
        if not fmt.endswith("\n"):
            sys.stderr.write("\n")
    rte_eal_cleanup()
    raise SystemExit(exit_code)


def rte_panic(fmt: str = "", *args) -> None:
    """Print the message and a stack trace, then abort the process (``rte_panic``): as in
    DPDK nothing is cleaned up (non-persistent TAPs still vanish with the process)."""
    sys.stderr.write("PANIC: " + ((fmt % args) if args else fmt) + "\n")
    traceback.print_stack(file=sys.stderr)
    sys.stderr.flush()
    os.abort()
