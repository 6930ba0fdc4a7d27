"""What the dashboard exports share: the measured, passing trials of a run, by pair."""

from __future__ import annotations

import math

from harness.rundir.model import Run


def by_pair(run: Run, key: str) -> dict[str, list[float]]:
    """'<scenario>/<strategy>' -> the finite ``key`` values of its measured trials that passed
    (an ab run's sides apart: ``<scenario>/<strategy>@A``)."""
    out: dict[str, list[float]] = {}
    for t in run.passing:
        v = t.metric(key)
        if v is not None and math.isfinite(v):
            out.setdefault(f"{t.scenario}/{t.label}", []).append(float(v))
    return out
