"""The ``cpu`` work kind: a *fixed amount* of CPU work per item.

The amount is a number of units, ``ms`` times the calibrated units per millisecond
(:class:`strategies.base.Calibration`, measured once per machine and interpreter and
reused, so two runs on one machine do the same work). It never spins until a deadline:
under contention that would measure waiting, not work.

* ``gil = "hold"``: a pure-Python loop of ``units`` iterations; it holds the GIL.
* ``gil = "release"``: **one** ``hashlib.sha256`` call over a buffer of ``units`` bytes.
  hashlib releases the GIL once for the whole call, as real GIL-releasing work does (a
  C extension, zlib, numpy): threads overlap it freely.

Each item's real CPU time (the thread's clock) is recorded beside it (``work_cpu``), so
the report says what the work cost, and the ideal bound uses it instead of ``ms``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from strategies.base import Calibration, WorkSpec
from strategies.kinds import Kind, Perform

GILS = ("hold", "release")
_buffer = bytearray()


def burn_hold(units: int) -> int:
    """Pure-Python loop holding the GIL; returns a value so it is not optimised away."""
    acc = 0
    for i in range(units):
        acc ^= i
    return acc


def _reserve(size: int) -> None:
    global _buffer
    if len(_buffer) < size:
        _buffer = bytearray(b"\x5a" * size)


def burn_release(units: int) -> bytes:
    """One sha256 over ``units`` bytes: one C call, the GIL released for all of it."""
    _reserve(units)
    return hashlib.sha256(memoryview(_buffer)[:units]).digest()


def units(seconds: float, per_ms: float) -> int:
    return max(1, round(seconds * 1000.0 * per_ms))


class Cpu(Kind):
    name = "cpu"
    summary = 'fixed CPU work of `ms` (calibrated): gil = "hold" (Python loop) or "release" (one hashlib call)'
    cpu_bound = True
    params: ClassVar[Mapping[str, Any]] = {"gil": "hold"}

    def check(self, spec: WorkSpec) -> None:
        if spec.param("gil", "hold") not in GILS:
            raise ValueError(f"gil: must be one of {', '.join(GILS)}")

    def prepare(self, spec: WorkSpec, cal: Calibration) -> Perform:
        hold = spec.param("gil", "hold") == "hold"
        burn: Callable[[int], object] = burn_hold if hold else burn_release
        per_ms = cal.hold_per_ms if hold else cal.release_per_ms
        if not hold:  # the buffer exists before the first item: its allocation is set-up, not work
            _reserve(units(2 * spec.ms / 1000.0, per_ms))

        def perform(seconds: float) -> object:
            return burn(max(1, round(seconds * 1000.0 * per_ms)))

        return perform


KIND = Cpu()


#: One timing's length: short, so that some timings fall between the machine's disturbances.
TIMING_S = 0.0005
#: How long each kind is timed for, back to back (the core stays busy, so its clock stays up).
BUDGET_S = 0.5
#: Which fastest timing counts: the ``RANK``-th fastest, so one odd reading cannot decide.
RANK = 3


def _best_rate(fn: Callable[[int], object], start: int) -> float:
    """Units per ms of ``fn(units)``: the least-disturbed of many short timings.

    Timed in this thread's CPU time, not wall time: on a busy machine the thread is
    descheduled at times, which wall time would count as slower work. A shared machine
    also slows a running thread for a while (a neighbour on the core, its caches, its
    clock), and a few long timings each catch some of it: eight back-to-back
    calibrations of five 12 ms timings spread 1.41x. So the work is timed in many
    ~0.5 ms slices, back to back for ``BUDGET_S``, and the ``RANK``-th fastest slice is
    the rate on an undisturbed core; a trial's items then cost at least their nominal time.
    """
    # Windows' thread clock ticks every ~16 ms: too coarse, so wall time there.
    clock = time.perf_counter if sys.platform == "win32" else time.thread_time
    target = TIMING_S if sys.platform != "win32" else 0.05
    n = start
    while True:  # grow the slice to its length; this also warms the loop up
        t0 = clock()
        fn(n)
        dt = clock() - t0
        if dt >= target:
            break
        n *= 2
    timings = [dt]
    t_end = time.perf_counter() + BUDGET_S
    while len(timings) < 4 * RANK or time.perf_counter() < t_end:
        t0 = clock()
        fn(n)
        timings.append(clock() - t0)
    timings.sort()
    return n / (max(timings[RANK - 1], 1e-9) * 1000.0)


def calibrate() -> Calibration:
    """Measure this interpreter's cpu work rates (about 2 × ``BUDGET_S``)."""
    return Calibration(hold_per_ms=_best_rate(burn_hold, 64), release_per_ms=_best_rate(burn_release, 4096))
