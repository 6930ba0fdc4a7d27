"""Was the machine quiet enough to trust the timings? One plain sentence when it was not.

Two signs, both from the fingerprint (measured when the run started): the measured
``effective_parallelism`` (how many cores a burst of CPU work actually got) far below the
``usable_cores``, or a 1-minute load average above the usable cores. Either means other work
was competing for the CPUs: every strategy is slowed and the spread between repeats widens,
so rankings and efficiencies may not hold on a quiet machine.
"""

from __future__ import annotations

import math
from typing import Any

from harness.rundir.model import Run

#: Measured parallelism below this share of the usable cores marks the machine as busy. The probe
#: is a 0.15 s burst: on an idle 2-core VM it read 1.15-1.9, so anything stricter cries wolf.
BUSY_SHARE = 0.5


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def busy_reasons(parallelism: Any, usable: Any, load: Any) -> list[str]:
    """Why the machine looked busy (empty: it looked quiet enough, or nothing was recorded)."""
    par, cores = _number(parallelism), _number(usable)
    one_minute = _number(load[0]) if isinstance(load, list | tuple) and load else math.nan
    reasons = []
    if math.isfinite(par) and math.isfinite(cores) and par < BUSY_SHARE * cores:
        reasons.append(f"effective parallelism {par:g} of {cores:g} usable cores")
    if math.isfinite(one_minute) and math.isfinite(cores) and one_minute > cores:
        reasons.append(f"1-minute load average {one_minute:g} above {cores:g} usable cores")
    return reasons


def busy_warning(parallelism: Any, usable: Any, load: Any, repeats: int = 0) -> str | None:
    """The warning to print at the top of a table or report, or None when the machine looked quiet.

    ``repeats``: the run's repeats per cell, when known, so that the advice asks for more than it had."""
    reasons = busy_reasons(parallelism, usable, load)
    if not reasons:
        return None
    return (
        f"The machine was too busy to trust these timings ({'; '.join(reasons)}): other work was using "
        "the CPUs, so every strategy ran slower and noisier than it would alone, and rankings, "
        "efficiencies and cpu∥ may not hold on a quiet machine. Close other work and rerun, or add "
        f"repeats ({more_repeats(repeats)}) so that the rank test can separate the strategies."
    )


def more_repeats(had: int) -> str:
    """Advice for more repeats that asks for more than the run had: ``e.g. -r 10`` when it is
    unknown or below 10, else double, e.g. ``this run had 10; e.g. -r 20``."""
    if had < 10:
        return "e.g. -r 10"
    return f"this run had {had}; e.g. -r {2 * had}"


def run_warning(run: Run) -> str | None:
    """:func:`busy_warning` for a stored run (its fingerprint)."""
    fp = run.fingerprint
    if fp is None:
        return None
    repeats = 1 + max((t.repeat for t in run.measured), default=-1)
    return busy_warning(fp.effective_parallelism, fp.usable_cores, fp.load_average, repeats)


def probe_warning(probe: dict[str, Any]) -> str | None:
    """:func:`busy_warning` for the worker probe ``run`` makes before its first trial."""
    machine = probe.get("machine") or {}
    return busy_warning(probe.get("effective_parallelism"), machine.get("usable_cores"), machine.get("load_average"))
