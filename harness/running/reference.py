"""A cheap fixed reference workload, timed in the harness process at the start and end of
every run (``run.json``: ``reference: {start_s, end_s, units, repeats}``).

The same pure-Python loop the ``cpu`` kind burns (:func:`strategies.kinds.cpu.burn_hold`),
for a fixed number of units, so its wall time says how fast this machine ran plain Python
at that moment: a busier or throttled machine takes longer. :mod:`harness.gate.drift` compares
it across runs (and start against end) to tell "the code got slower" from "the machine did".
"""

from __future__ import annotations

import statistics
import time

from strategies.kinds.cpu import burn_hold

#: Loop iterations per timing (about 30 ms on a 2020s x86 core) and timings per reference.
UNITS = 500_000
REPEATS = 5


def time_reference(units: int = UNITS, repeats: int = REPEATS) -> float:
    """Median wall seconds of ``repeats`` timings of ``burn_hold(units)``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        burn_hold(units)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
