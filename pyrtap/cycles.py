"""Time in cycles, as DPDK's ``rte_cycles.h``: ``rte_rdtsc``, ``rte_get_tsc_hz``, delays.

The "TSC" here is the kernel's monotonic clock in nanoseconds (``CLOCK_MONOTONIC``
through ``time.monotonic_ns``), so ``rte_get_tsc_hz()`` is 10**9: samples that compute
``timer_period = seconds * rte_get_timer_hz()`` and compare ``rte_rdtsc()``
differences with it work unchanged, and the clock never jumps with the wall time or
differs between CPUs, which the real TSC of a VM may.
"""
from __future__ import annotations

import time

_HZ = 1_000_000_000
# Delays shorter than this spin (sleeping would overshoot by the scheduler's latency);
# longer ones sleep, so another thread can have the GIL meanwhile.
_SPIN_NS = 200_000


def rte_rdtsc() -> int:
    """Cycles of the monotonic clock, i.e. nanoseconds (``rte_rdtsc``)."""
    return time.monotonic_ns()


def rte_rdtsc_precise() -> int:
    """Same as ``rte_rdtsc`` (the clock read is already ordered; DPDK adds a barrier)."""
    return time.monotonic_ns()


def rte_get_tsc_cycles() -> int:
    """``rte_get_tsc_cycles``: ``rte_rdtsc()``."""
    return time.monotonic_ns()


def rte_get_tsc_hz() -> int:
    """Cycles per second of ``rte_rdtsc``: 10**9 (``rte_get_tsc_hz``)."""
    return _HZ


def rte_get_timer_cycles() -> int:
    """The EAL timer's cycles, the same clock (``rte_get_timer_cycles``)."""
    return time.monotonic_ns()


def rte_get_timer_hz() -> int:
    """Cycles per second of ``rte_get_timer_cycles``: 10**9 (``rte_get_timer_hz``)."""
    return _HZ


def rte_delay_us(us: int) -> None:
    """Wait ``us`` microseconds (``rte_delay_us``): a spin below 200 us, a sleep above."""
    ns = int(us * 1000)
    if ns <= 0:
        return
    end = time.monotonic_ns() + ns
    if ns > _SPIN_NS:
        time.sleep((ns - _SPIN_NS) / 1e9)
    while time.monotonic_ns() < end:
        pass


def rte_delay_ms(ms: int) -> None:
    """Wait ``ms`` milliseconds (``rte_delay_ms``)."""
    rte_delay_us(ms * 1000)


def rte_delay_us_block(us: int) -> None:
    """``rte_delay_us_block``: the same as ``rte_delay_us``."""
    rte_delay_us(us)


def rte_delay_us_sleep(us: int) -> None:
    """Sleep ``us`` microseconds without spinning (``rte_delay_us_sleep``)."""
    if us > 0:
        time.sleep(us / 1e6)


__all__ = ["rte_rdtsc", "rte_rdtsc_precise", "rte_get_tsc_cycles", "rte_get_tsc_hz",
           "rte_get_timer_cycles", "rte_get_timer_hz", "rte_delay_us", "rte_delay_ms",
           "rte_delay_us_block", "rte_delay_us_sleep"]
