"""How long a run will take, learned from the runs this machine already made.

Every trial stores ``elapsed_s``: the harness's own clock from launching the trial to its
records analysed (a fresh worker process, its imports, the strategy, collecting). From the
newest :data:`RUNS` runs in the results folder (``--out``), per strategy:

* **overhead**: the median of ``elapsed_s − makespan_s``, what a trial costs beyond moving its
  items (start-up, shut-down, the harness around it);
* **slowdown**: the median of ``makespan_s / ideal_makespan_s``, how far from the ideal the
  strategy moves items here.

A planned trial is then estimated at ``overhead + slowdown × ideal`` (its ideal at its work's mean
durations, :func:`harness.running.preflight.ideal_seconds`); a strategy with no history here
falls back to the pre-flight's ideal + start-up. Each run stores its estimate and its actual
time (``run.json``'s ``timing``), so ``--dry-run`` can say how far off the last estimates were.
Reading history never fails a run: an unreadable file is passed over.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.running import preflight
from harness.scenario import LoadedScenario

#: How many of the newest runs to learn from.
RUNS = 30
#: A run.json larger than this is not read for history (a huge stress run: its medians are not needed).
MAX_BYTES = 20 * 2**20


@dataclass(frozen=True)
class Cost:
    overhead_s: float
    slowdown: float
    trials: int


@dataclass(frozen=True)
class History:
    costs: dict[str, Cost]
    runs: int
    #: earlier runs' (estimate, actual) seconds, newest first
    checks: tuple[tuple[float, float], ...] = ()

    @property
    def trials(self) -> int:
        return sum(c.trials for c in self.costs.values())

    def trial_seconds(self, loaded: LoadedScenario, strategy: str, timeout: float | None = None) -> float:
        ideal = preflight.ideal_seconds(loaded, timeout)
        cost = self.costs.get(strategy)
        if cost is None:
            return ideal + preflight.STARTUP_S
        return cost.overhead_s + cost.slowdown * ideal

    def estimate(self, trials: Iterable[tuple[LoadedScenario, str]], timeout: float | None = None) -> float:
        """Seconds for every planned (scenario, strategy) trial, one after another."""
        memo: dict[tuple[int, str], float] = {}
        total = 0.0
        for loaded, strategy in trials:
            key = (id(loaded), strategy)
            if key not in memo:
                memo[key] = self.trial_seconds(loaded, strategy, timeout)
            total += memo[key]
        return total

    def said(self) -> str:
        """Where the estimate comes from, and how far off the last ones were."""
        if not self.costs:
            return "no earlier runs to learn from here: each trial's ideal + start-up"
        text = f"learned from {self.trials:,} trials of {self.runs} earlier run(s)"
        if self.checks:
            ratios = [actual / est for est, actual in self.checks if est > 0]
            if ratios:
                text += f"; the last {len(ratios)} run(s) took {statistics.median(ratios):.2f}× their estimate (median)"
        return text


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def learn(out: Path, runs: int = RUNS) -> History:
    """The per-strategy costs from the newest ``runs`` run folders under ``out``."""
    try:
        files = sorted(out.glob("*/run.json"), key=lambda p: p.parent.name, reverse=True)[:runs]
    except OSError:
        return History({}, 0)
    over: dict[str, list[float]] = {}
    slow: dict[str, list[float]] = {}
    checks, used = [], 0
    for path in files:
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("trials"), list):
            continue
        found = False
        for t in doc["trials"]:
            if not isinstance(t, dict) or t.get("status") != "ok" or not isinstance(t.get("metrics"), dict):
                continue
            m = t["metrics"]
            elapsed, makespan, ideal = (
                _number(t.get("elapsed_s")),
                _number(m.get("makespan_s")),
                _number(m.get("ideal_makespan_s")),
            )
            if not all(math.isfinite(v) and v > 0 for v in (elapsed, makespan, ideal)) or makespan > elapsed:
                continue
            strategy = str(t.get("strategy"))
            over.setdefault(strategy, []).append(elapsed - makespan)
            slow.setdefault(strategy, []).append(makespan / ideal)
            found = True
        timing = doc.get("timing")
        if isinstance(timing, dict):
            est, actual = _number(timing.get("estimate_s")), _number(timing.get("actual_s"))
            if math.isfinite(est) and math.isfinite(actual) and est > 0 and actual > 0:
                checks.append((est, actual))
        used += found
    costs = {s: Cost(statistics.median(over[s]), statistics.median(slow[s]), len(over[s])) for s in over if over[s]}
    return History(costs, used, tuple(checks))
