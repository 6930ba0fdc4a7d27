"""A history's change points as data: what ``history`` prints, ``--json`` writes and ``publish``
draws. One object per series with its points and change points, the machines, their arrivals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.history import changes
from harness.history.series import History, Series

#: Bumped when a field changes meaning or goes away.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Found:
    series: Series
    changes: tuple[changes.ChangePoint, ...]


def analyse(history: History) -> list[Found]:
    from harness.gate.verdicts import metric

    better = metric(history.metric).higher_is_better
    return [Found(s, tuple(changes.find(s, better))) for s in history.series]


def _commit(c: str | None) -> str | None:
    return c[:12] if c else None


def document(history: History, found: list[Found]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "queuebench history",
        "metric": history.metric,
        "method": {
            "library": "ruptures (PELT, L2 cost)",
            "penalty_per_log_n": changes.PENALTY,
            "min_runs": changes.MIN_RUNS,
            "alpha": changes.ALPHA,
            "min_change": changes.MIN_CHANGE,
        },
        "runs": [str(p) for p in history.runs],
        "skipped": list(history.skipped),
        "machines": [{"id": m.id, "label": m.label, "facts": dict(m.facts)} for m in history.machines],
        "machine_changes": [
            {
                "machine": a.machine,
                "after": a.after,
                "run": str(a.run),
                "started_at": a.started_at,
                "commit": _commit(a.commit),
                "differs": list(a.differs),
            }
            for a in history.arrivals
        ],
        "series": [
            {
                "machine": f.series.key.machine,
                "python": f.series.key.python,
                "scenario": f.series.key.scenario,
                "strategy": f.series.key.strategy,
                "metric": f.series.key.metric,
                "points": [
                    {
                        "run": str(p.run),
                        "started_at": p.started_at,
                        "commit": _commit(p.commit),
                        "value": p.value if math.isfinite(p.value) else None,
                        "n": p.n,
                    }
                    for p in f.series.points
                ],
                "change_points": [
                    {
                        "index": c.index,
                        "run": str(c.point.run),
                        "commit": _commit(c.point.commit),
                        "commit_before": _commit(c.before.commit),
                        "started_at": c.point.started_at,
                        "ratio": c.ratio,
                        "worse": c.worse,
                        "p": c.p_value,
                        "confidence": c.confidence,
                    }
                    for c in f.changes
                ],
            }
            for f in found
        ],
    }
