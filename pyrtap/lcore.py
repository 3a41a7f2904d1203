"""Logical cores: DPDK's lcore model with Python threads (``rte_lcore.h``, ``rte_launch.h``).

``-l``/``-c``/``--lcores`` name the lcores and the CPUs they run on; ``--main-lcore``
picks the one ``rte_eal_init``'s caller is. Each other lcore is a worker thread, created
by ``rte_eal_init`` and pinned to its CPU (``os.sched_setaffinity`` from inside the
thread: on Linux it binds that thread only), waiting for ``rte_eal_remote_launch`` to
hand it a function, as DPDK's worker pthreads do. ``rte_lcore_id()`` answers per thread.

Differences from DPDK, all deliberate:

* without ``-l``/``-c``/``--lcores`` there is one lcore, 0, and nothing is pinned (DPDK
  takes every CPU and pins the main thread; a Python process's other threads and child
  processes inherit the main thread's affinity, so pyrtap pins only when asked);
* with them, the main thread is pinned to the main lcore's CPU, as in DPDK;
* an exception escaping an lcore function is logged with its traceback, and
  ``rte_eal_wait_lcore`` then returns -1.

Bursts release the GIL only where the ethdev docs say so (docs/lcores.md): one thread
per queue, as DPDK's rule is.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)  # pyrtap.<module>, listed in docs/api.md#loggers

RTE_MAX_LCORE = 128
LCORE_ID_ANY = 0xFFFFFFFF

# rte_rmt_call_main_t
SKIP_MAIN = 0
CALL_MAIN = 1

# enum rte_lcore_state_t
WAIT = 0
RUNNING = 1
FINISHED = 2      # kept for DPDK's enum; a finished lcore goes back to WAIT once waited for

_tls = threading.local()


class _Worker:
    """One worker lcore: a thread pinned to ``cpu`` that runs launched functions."""

    def __init__(self, lcore_id: int, cpu: int | None):
        self.lcore_id = lcore_id
        self.cpu = cpu
        self.cond = threading.Condition()
        self.job: tuple[Callable, object] | None = None
        self.state = WAIT
        self.ret = 0
        self.quit = False
        self.thread = threading.Thread(target=self._run, name="lcore-%d" % lcore_id, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        _tls.lcore_id = self.lcore_id
        if self.cpu is not None:
            try:
                os.sched_setaffinity(0, {self.cpu})
            except OSError as e:
                log.error("lcore %d: cannot pin to CPU %d: %s", self.lcore_id, self.cpu, e)
        while True:
            with self.cond:
                while self.job is None and not self.quit:
                    self.cond.wait()
                if self.quit:
                    return
                fn, arg = self.job
            ret = _call(self.lcore_id, fn, arg)
            with self.cond:
                self.ret = ret
                self.job = None
                self.state = FINISHED
                self.cond.notify_all()

    def launch(self, fn: Callable, arg) -> int:
        with self.cond:
            if self.state != WAIT:
                return -errno.EBUSY
            self.job = (fn, arg)
            self.state = RUNNING
            self.cond.notify_all()
        return 0

    def wait(self) -> int:
        with self.cond:
            if self.state == WAIT:
                return 0
            while self.state == RUNNING:
                self.cond.wait()
            self.state = WAIT
            return self.ret

    def stop(self) -> None:
        with self.cond:
            self.quit = True
            self.cond.notify_all()
        if self.state == WAIT:
            self.thread.join(1.0)


def _call(lcore_id: int, fn: Callable, arg) -> int:
    try:
        ret = fn(arg)
    except BaseException:   # noqa: BLE001 - an lcore function must not kill its thread silently
        log.exception("lcore %d: the launched function raised", lcore_id)
        return -1
    return ret if isinstance(ret, int) else 0


class _Lcores:
    def __init__(self):
        self.cpus: dict[int, int | None] = {0: None}     # lcore id -> CPU (None: not pinned)
        self.main = 0
        self.workers: dict[int, _Worker] = {}
        self.saved_affinity: set[int] | None = None    # the main thread's, before pinning


_state = _Lcores()


def parse_lcores(opts: dict[str, str]) -> tuple[dict[int, int | None], int]:
    """The lcore -> CPU map and the main lcore from EAL options; ValueError when malformed.

    ``-l 0-3,6`` (lcore = CPU), ``-c 0xf`` (coremask), ``--lcores 0@2,1@3,(4-5)@1``
    (lcore@CPU; a group of lcores on one CPU), ``--main-lcore N``.
    """
    cpus: dict[int, int | None] = {}
    if "--lcores" in opts:
        for item in _split_groups(opts["--lcores"]):
            lc, at, cpu = item.partition("@")
            ids = _ranges(lc.strip("()"))
            cpuset = _ranges(cpu.strip("()")) if at else None
            for i in ids:
                cpus[i] = (min(cpuset) if cpuset else i)
    elif "-l" in opts:
        for i in _ranges(opts["-l"]):
            cpus[i] = i
    elif "-c" in opts:
        mask = int(opts["-c"], 16)
        if mask <= 0:
            raise ValueError("coremask %r selects no core" % opts["-c"])
        cpus = {i: i for i in range(mask.bit_length()) if mask >> i & 1}
    else:
        return {0: None}, 0
    if not cpus or max(cpus) >= RTE_MAX_LCORE:
        raise ValueError("lcore ids must be 0..%d" % (RTE_MAX_LCORE - 1))
    online = os.sched_getaffinity(0)
    for lc, cpu in cpus.items():
        if cpu not in online:
            raise ValueError("lcore %d: CPU %s is not available (this process may use %s)"
                             % (lc, cpu, sorted(online)))
    main = int(opts["--main-lcore"]) if "--main-lcore" in opts else min(cpus)
    if main not in cpus:
        raise ValueError("main lcore %d is not among the lcores %s" % (main, sorted(cpus)))
    return cpus, main


def _split_groups(spec: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    return [s for s in out + [cur] if s]


def _ranges(spec: str) -> list[int]:
    out = []
    for part in filter(None, spec.split(",")):
        a, dash, b = part.partition("-")
        lo, hi = int(a), int(b) if dash else int(a)
        if lo < 0 or hi < lo:
            raise ValueError("bad range %r" % part)
        out.extend(range(lo, hi + 1))
    return out


def setup(cpus: dict[int, int | None], main: int) -> None:
    """Called by rte_eal_init: record the lcores, pin the main thread, start the workers."""
    shutdown()
    _state.cpus, _state.main = dict(cpus), main
    _tls.lcore_id = main
    if cpus[main] is not None:
        _state.saved_affinity = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpus[main]})
    for lc, cpu in sorted(cpus.items()):
        if lc != main:
            _state.workers[lc] = _Worker(lc, cpu)


def shutdown() -> None:
    """Called by rte_eal_cleanup: idle workers end, the main thread gets back the CPUs it
    had before rte_eal_init pinned it (threads and processes started later inherit them)."""
    for w in _state.workers.values():
        w.stop()
    _state.workers.clear()
    if _state.saved_affinity is not None:
        os.sched_setaffinity(0, _state.saved_affinity)
        _state.saved_affinity = None
    _state.cpus, _state.main = {0: None}, 0


# ---- rte_lcore.h ---------------------------------------------------------------------------

def rte_lcore_id() -> int:
    """The calling thread's lcore id, or ``LCORE_ID_ANY`` for a thread that is not an lcore
    (``rte_lcore_id``). The thread that called ``rte_eal_init`` is the main lcore."""
    lc = getattr(_tls, "lcore_id", None)
    if lc is None:
        return _state.main if threading.current_thread() is threading.main_thread() else LCORE_ID_ANY
    return lc


def rte_get_main_lcore() -> int:
    """The main lcore's id (``rte_get_main_lcore``)."""
    return _state.main


def rte_lcore_count() -> int:
    """Number of enabled lcores (``rte_lcore_count``)."""
    return len(_state.cpus)


def rte_lcore_is_enabled(lcore_id: int) -> int:
    """1 if ``lcore_id`` was given to the EAL (``rte_lcore_is_enabled``)."""
    return int(lcore_id in _state.cpus)


def rte_get_next_lcore(i: int, skip_main: int, wrap: int) -> int:
    """The next enabled lcore after ``i`` (``rte_get_next_lcore``); ``RTE_MAX_LCORE`` when none.

    ``i = -1`` starts from the first; ``skip_main`` leaves the main lcore out; ``wrap``
    goes round to the start.
    """
    ids = sorted(c for c in _state.cpus if not (skip_main and c == _state.main))
    after = [c for c in ids if c > i]
    if after:
        return after[0]
    if wrap and ids:
        return ids[0]
    return RTE_MAX_LCORE


def RTE_LCORE_FOREACH() -> Iterator[int]:
    """Every enabled lcore id, main included (DPDK's ``RTE_LCORE_FOREACH`` macro)."""
    return iter(sorted(_state.cpus))


def RTE_LCORE_FOREACH_WORKER() -> Iterator[int]:
    """Every enabled lcore id but the main one (``RTE_LCORE_FOREACH_WORKER``)."""
    return iter(sorted(c for c in _state.cpus if c != _state.main))


def rte_lcore_to_socket_id(lcore_id: int) -> int:
    """NUMA socket of an lcore: 0 on this single-node machine (``rte_lcore_to_socket_id``)."""
    return 0


def rte_socket_id() -> int:
    """NUMA socket of the calling lcore: 0 (``rte_socket_id``)."""
    return 0


def rte_lcore_to_cpu_id(lcore_id: int) -> int:
    """The CPU an lcore is pinned to, or -1 when unknown or not pinned (``rte_lcore_to_cpu_id``)."""
    cpu = _state.cpus.get(lcore_id)
    return -1 if cpu is None else cpu


def rte_eal_get_lcore_state(lcore_id: int) -> int:
    """``WAIT``, ``RUNNING`` or ``FINISHED`` for a worker lcore (``rte_eal_get_lcore_state``)."""
    w = _state.workers.get(lcore_id)
    return w.state if w else WAIT


# ---- rte_launch.h --------------------------------------------------------------------------

def rte_eal_remote_launch(f: Callable, arg, worker_id: int) -> int:
    """Run ``f(arg)`` on worker lcore ``worker_id`` (``rte_eal_remote_launch``).

    0; -EINVAL for the main lcore or an lcore that is not enabled; -EBUSY when that
    lcore has not been waited for since its last launch.
    """
    w = _state.workers.get(worker_id) if isinstance(worker_id, int) else None
    if w is None or not callable(f):
        return -errno.EINVAL
    return w.launch(f, arg)


def rte_eal_mp_remote_launch(f: Callable, arg, call_main: int) -> int:
    """Run ``f(arg)`` on every worker lcore, and on the main one with ``CALL_MAIN``
    (``rte_eal_mp_remote_launch``). 0, or -EBUSY when a worker is still busy (nothing is
    launched then). With ``CALL_MAIN`` it returns once the main lcore's call returns."""
    if not callable(f):
        return -errno.EINVAL
    if any(w.state != WAIT for w in _state.workers.values()):
        return -errno.EBUSY
    for w in _state.workers.values():
        w.launch(f, arg)
    if call_main == CALL_MAIN:
        _call(_state.main, f, arg)
    return 0


def rte_eal_wait_lcore(worker_id: int) -> int:
    """Wait for worker ``worker_id``'s function to return; its return value, 0 when the
    lcore was idle (``rte_eal_wait_lcore``)."""
    w = _state.workers.get(worker_id)
    return w.wait() if w else 0


def rte_eal_mp_wait_lcore() -> None:
    """Wait for every worker lcore (``rte_eal_mp_wait_lcore``)."""
    for w in list(_state.workers.values()):
        w.wait()


__all__ = [
    "RTE_MAX_LCORE", "LCORE_ID_ANY", "SKIP_MAIN", "CALL_MAIN", "WAIT", "RUNNING", "FINISHED",
    "rte_lcore_id", "rte_get_main_lcore", "rte_lcore_count", "rte_lcore_is_enabled",
    "rte_get_next_lcore", "RTE_LCORE_FOREACH", "RTE_LCORE_FOREACH_WORKER", "rte_lcore_to_socket_id",
    "rte_socket_id", "rte_lcore_to_cpu_id", "rte_eal_get_lcore_state", "rte_eal_remote_launch",
    "rte_eal_mp_remote_launch", "rte_eal_wait_lcore", "rte_eal_mp_wait_lcore",
]
