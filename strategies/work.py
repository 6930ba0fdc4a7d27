"""Work primitives: what a writer or reader does per item.

Standard library only (runs inside measured processes).

* ``none`` — nothing.
* ``io`` — a sleep (``await asyncio.sleep`` in async strategies).
* ``cpu`` — a *fixed amount of work*, calibrated once per run to the requested
  milliseconds on an idle core. It never spins until a deadline: under contention
  that would measure waiting, not work. ``gil="hold"`` is a pure-Python loop;
  ``gil="release"`` hashes a buffer, which frees the GIL, so threads can overlap it.
* ``service`` — one request over local TCP to a contended server of ``capacity``
  (see :mod:`strategies.service`); ``ms`` is its service time at full speed.

Durations are fixed or drawn from a seeded generator keyed by (seed, role, writer),
so every strategy sees exactly the same sequence of delays.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
import time
from dataclasses import dataclass

from strategies import service

KINDS = ("none", "io", "cpu", "service")
DISTS = ("fixed", "uniform", "exponential")
GILS = ("hold", "release")
#: Buffer hashed by ``cpu``/``release`` work; hashlib drops the GIL above 2 KiB.
_CHUNK = b"\x5a" * (16 * 1024)


@dataclass(frozen=True)
class WorkSpec:
    kind: str = "none"
    ms: float = 0.0
    dist: str = "fixed"
    #: For ``uniform``: durations fall in ms * [1 - jitter, 1 + jitter].
    jitter: float = 0.5
    gil: str = "hold"
    #: ``service`` only: concurrent requests served at full speed, what happens beyond
    #: (``share`` or ``collapse``), how hard it collapses, and the server's port
    #: (set by the worker once it started the server; 0 = none running).
    capacity: int = 0
    model: str = "share"
    penalty: float = 0.5
    port: int = 0


@dataclass(frozen=True)
class Calibration:
    """Units of cpu work per millisecond on an idle core (measured per run)."""

    hold_per_ms: float = 20_000.0
    release_per_ms: float = 50.0


def durations(spec: WorkSpec, seed: int, role: str, writer: int, n: int) -> list[float]:
    """Per-item durations in seconds for one writer's ``n`` items."""
    if spec.kind == "none" or spec.ms <= 0:
        return [0.0] * n
    mean = spec.ms / 1000.0
    if spec.dist == "fixed":
        return [mean] * n
    rng = random.Random(f"{seed}/{role}/{writer}")
    if spec.dist == "uniform":
        lo, hi = mean * (1 - spec.jitter), mean * (1 + spec.jitter)
        return [rng.uniform(lo, hi) for _ in range(n)]
    return [rng.expovariate(1.0 / mean) for _ in range(n)]


def burn_hold(units: int) -> int:
    """Pure-Python loop holding the GIL; returns a value so it is not optimised away."""
    acc = 0
    for i in range(units):
        acc ^= i
    return acc


def burn_release(units: int) -> bytes:
    """Hash ``units`` buffers; hashlib releases the GIL while it works."""
    digest = b""
    for _ in range(units):
        digest = hashlib.sha256(_CHUNK).digest()
    return digest


def cpu_units(spec: WorkSpec, cal: Calibration, seconds: float) -> int:
    per_ms = cal.hold_per_ms if spec.gil == "hold" else cal.release_per_ms
    return max(1, round(seconds * 1000.0 * per_ms))


def perform(spec: WorkSpec, cal: Calibration, seconds: float) -> None:
    """Do one item's work synchronously."""
    if seconds <= 0.0 or spec.kind == "none":
        return
    if spec.kind == "io":
        time.sleep(seconds)
    elif spec.kind == "service":
        service.request(spec.port, seconds)
    elif spec.gil == "hold":
        burn_hold(cpu_units(spec, cal, seconds))
    else:
        burn_release(cpu_units(spec, cal, seconds))


async def aperform(spec: WorkSpec, cal: Calibration, seconds: float) -> None:
    """Do one item's work in a coroutine: io and service await, cpu runs inline (blocking the loop)."""
    if spec.kind == "io" and seconds > 0.0:
        await asyncio.sleep(seconds)
    elif spec.kind == "service" and seconds > 0.0:
        await service.arequest(spec.port, seconds)
    else:
        perform(spec, cal, seconds)


def _best_rate(fn: object, target_s: float = 0.05) -> float:
    """Units per ms of ``fn(units)``: the best of five timings of about ``target_s``.

    Timed in this thread's CPU time, not wall time: on a busy machine the thread is
    descheduled at times, which wall time would count as slower work (and then every
    "4 ms" item would do less work than 4 ms on an idle core).
    """
    # Windows' thread clock ticks every ~16 ms: too coarse, so wall time there.
    clock = time.perf_counter if sys.platform == "win32" else time.thread_time
    units = 64
    while True:
        t0 = clock()
        fn(units)  # type: ignore[operator]
        dt = clock() - t0
        if dt >= target_s / 4:
            break
        units *= 4
    best = dt
    for _ in range(4):
        t0 = clock()
        fn(units)  # type: ignore[operator]
        best = min(best, clock() - t0)
    return units / (max(best, 1e-9) * 1000.0)


def calibrate() -> Calibration:
    """Measure this interpreter's cpu work rates once (about 0.2 s)."""
    return Calibration(hold_per_ms=_best_rate(burn_hold), release_per_ms=_best_rate(burn_release))
