"""``sweep --direct``: check the "100 images in T s" model against one direct run.

The push sweep's answer (:mod:`harness.sweeps.answer`) extrapolates each trial of a few items to
:data:`~harness.sweeps.answer.IMAGES` items: ``T = once + IMAGES × (total − once) / items``. A
long run can be slower than that (against a real engine, builds keep running while pushes do, so
each push costs more than in a short trial: the audit found the model 13–22% short). So after the
sweep, ``--direct`` runs the fastest strategy once at its best pool with ``IMAGES`` items (the
scenario's writers, ``ceil(IMAGES / writers)`` items each) and prints both, and the model's error;
``run.json`` keeps them under ``direct``. Any sweep over ``readers`` can check it this way: the
model is the same for any work kind.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from harness.rundir.model import Run
from harness.scenario import LoadedScenario, Scenario
from harness.sweeps.answer import IMAGES, trial_seconds
from harness.sweeps.findings import Finding


@dataclass(frozen=True)
class Check:
    strategy: str
    pool: int
    items: int
    model_s: float  # the model's T for IMAGES items at that strategy and pool
    direct_s: float = math.nan  # the direct run's total window, scaled to IMAGES items

    @property
    def error(self) -> float:
        """The model's error against the direct run: negative where the model is short."""
        return self.model_s / self.direct_s - 1 if self.direct_s > 0 else math.nan

    def line(self) -> str:
        if not math.isfinite(self.direct_s):
            pool = f"{self.strategy} with a pool of {self.pool}"
            return f"direct: {pool} did not pass; the model's {self.model_s:.0f} s is unchecked"
        side = "short" if self.error < 0 else "long"
        return (
            f"direct: {IMAGES} items by {self.strategy} with a pool of {self.pool} took {self.direct_s:.1f} s in one "
            f"run; the model said {self.model_s:.1f} s ({abs(self.error):.0%} {side})"
        )

    def record(self) -> dict[str, float | int | str]:
        return {
            "strategy": self.strategy,
            "pool": self.pool,
            "items": self.items,
            "model_s": self.model_s,
            "direct_s": self.direct_s,
        }


def target(run: Run, found: list[Finding]) -> Check | None:
    """The fastest strategy at its best pool (items/s) and the model's T there; None for a sweep
    not over ``readers``, or where no trial gave the model a figure."""
    sweep = run.swept
    if sweep.param != "readers" or sweep.groups:
        return None
    pooled = [f for f in found if not f.pool_independent]
    if not pooled:
        return None
    top = max(pooled, key=lambda f: f.best_throughput)
    point = next((name for name, values in sweep.points.items() if int(values["readers"]) == top.best), None)
    times = [trial_seconds(t.metrics) for t in run.passing if t.scenario == point and t.strategy == top.strategy]
    known = [t for t in times if math.isfinite(t)]
    if not known:
        return None
    return Check(top.strategy, top.best, IMAGES, statistics.median(known))


def scenario(base: LoadedScenario, check: Check) -> LoadedScenario:
    """The base scenario at the check's pool with IMAGES items (or the next multiple of its writers)."""
    sc = base.scenario
    per_writer = math.ceil(IMAGES / sc.writers)
    data = {
        **sc.model_dump(),
        "name": f"{sc.name}.direct-readers-{check.pool}",
        "readers": check.pool,
        "items_per_writer": per_writer,
        "repeats": 1,
        "warmup": 0,
        "strategies": [check.strategy],
    }
    return LoadedScenario(Scenario.model_validate(data), base.source)


def measured(check: Check, run: Run) -> Check:
    """The check with the direct run's figure: its total window, scaled to IMAGES items."""
    trials = [t for t in run.passing if t.strategy == check.strategy]
    totals = [(t.metric("total_s"), t.metric("expected")) for t in trials]
    known = [
        float(s) * IMAGES / float(n)
        for s, n in totals
        if isinstance(s, int | float) and isinstance(n, int | float) and n
    ]
    if not known:
        return check
    items = int(trials[0].metric("expected") or IMAGES)
    return Check(check.strategy, check.pool, items, check.model_s, statistics.median(known))
