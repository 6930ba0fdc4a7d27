"""Change-point libraries on the same synthetic histories: which finds injected steps, and how
often one cries wolf (the measurement behind ``queuebench history``'s choice, docs/findings.md).

Each series is 40 runs' medians: noise resampled from real runs (the run-to-run spread of each
pair's median on this VM, ``noise`` below), with no step, or one step of 5%, 10% or 20% at a
random run between the 8th and the 32nd. A step is found when a change point lies within 2 runs
of it; any other change point is a false alarm. Seeded: every library sees the same series.

    python benchmarks/sim_change_points.py noise RUN_FOLDER... > noise.json   # needs queuebench
    python benchmarks/sim_change_points.py detect LIBRARY noise.json [SCALE]   # numpy + the library

SCALE multiplies the residuals (0.25: a machine four times quieter than this busy VM).

LIBRARY: ``ruptures`` (PELT, L2, the shipped rule: harness.history.changes), ``ruptures-raw``
(PELT alone, no rank test), ``otava`` (apache-otava's E-divisive with a t-test),
``spa`` (MongoDB's signal-processing-algorithms E-divisive). ``otava`` and ``spa`` need only
numpy and their library (each runs in a virtual environment of its own: neither installs
beside queuebench); ``ruptures`` runs queuebench's own code.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

LENGTH, SIZES, TOLERANCE, SERIES = 40, (0.0, 0.05, 0.10, 0.20), 2, 150


def noise_from_runs(folders: list[str]) -> list[float]:
    """Log residuals of each pair's run median about that pair's median over the runs."""
    from harness.history.series import gather

    history = gather([Path(f) for f in folders])
    out: list[float] = []
    for s in history.series:
        logs = [math.log(p.value) for p in s.points if p.value > 0]
        if len(logs) >= 3:
            mid = statistics.median(logs)
            out += [x - mid for x in logs]
    return out


def series(rng: random.Random, residuals: list[float], size: float) -> tuple[list[float], list[int]]:
    """A throughput-like series (higher is better), slower by ``size`` from a random run on."""
    at = rng.randint(8, 32) if size else -1
    values = [100 * math.exp(rng.choice(residuals)) / (1 + size if 0 <= at <= i else 1) for i in range(LENGTH)]
    return values, [at] if size else []


def _ruptures(values: list[float], test: bool) -> list[int]:
    """``test``: queuebench's own rule (harness.history.changes: PELT, then the rank test and the
    size floor), so this measures the code that ships; else PELT's splits alone."""
    if test:
        from harness.history import changes
        from harness.history.series import Key, Point, Series

        points = tuple(Point(Path("."), "", None, v, 1) for v in values)
        return [c.index for c in changes.find(Series(Key("m", "py", "s", "t", "throughput"), points), True)]
    from harness.history import changes

    return changes.splits([math.log(v) for v in values])


def _otava(values: list[float]) -> list[int]:
    from otava.analysis import compute_change_points  # type: ignore[import-not-found]

    points, _ = compute_change_points(values, window_len=50, max_pvalue=0.001, min_magnitude=0.0)
    return [int(cp.index) for cp in points]


def _spa(values: list[float]) -> list[int]:
    from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive  # type: ignore[import-not-found]

    return sorted(int(i) for i in e_divisive(values, pvalue=0.01, permutations=100))


DETECTORS: dict[str, Callable[[list[float]], list[int]]] = {
    "ruptures": lambda v: _ruptures(v, True),
    "ruptures-raw": lambda v: _ruptures(v, False),
    "otava": _otava,
    "spa": _spa,
}


def score(detect: Callable[[list[float]], list[int]], residuals: list[float]) -> dict[str, float]:
    rng = random.Random(20261206)
    out: dict[str, float] = {}
    began = time.perf_counter()
    count = 0
    for size in SIZES:
        found = alarms = 0
        for _ in range(SERIES):
            values, steps = series(rng, residuals, size)
            cuts = detect(values)
            count += 1
            found += any(abs(c - s) <= TOLERANCE for c in cuts for s in steps)
            alarms += any(all(abs(c - s) > TOLERANCE for s in steps) for c in cuts)
        if size:
            out[f"found {size:.0%}"] = found / SERIES
        out[f"false alarm, step {size:.0%}" if size else "false alarm, no step"] = alarms / SERIES
    out["ms per series"] = 1000 * (time.perf_counter() - began) / count
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["noise"]:
        json.dump(noise_from_runs(argv[1:]), sys.stdout)
        return
    if argv[:1] != ["detect"] or len(argv) not in (3, 4) or argv[1] not in DETECTORS:
        raise SystemExit(__doc__)
    scale = float(argv[3]) if len(argv) == 4 else 1.0
    residuals = [scale * r for r in json.loads(Path(argv[2]).read_text())]
    sd = statistics.pstdev(residuals)
    print(f"{argv[1]}: {len(residuals)} residuals from real runs, sd {sd:.3f} (log)")
    for name, value in score(DETECTORS[argv[1]], residuals).items():
        print(f"  {name}: {value:.3g}")


if __name__ == "__main__":
    main(sys.argv[1:])
