"""``ab --repeat auto``: repeat until every pair is settled or a time budget is spent.

As pyperf and pytest-benchmark choose their own number of runs, ``ab`` can: it starts with
the fewest repeats a rank test can use (5 at alpha 0.01), and each time a round of repeats
ends it judges every pair so far (with the family-wise control) and adds one more round,
still interleaved (A B, B A by repeat), for the pairs that are not settled. A pair is settled when it has
a verdict (slower, faster, unchanged, broken) or its interval is narrower than the threshold
factor (more repeats would only narrow it further around a change too small to matter... or
too close to the limit to ever tell). It stops when every pair is settled, when the time
budget is spent, or at ``max_repeats``; the pairs still unsettled are named.

The added trials are appended to the running :class:`harness.suite.Prepared`'s trial list,
which its ``run`` loop reads as it goes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from harness import ab, rankstats, suite
from harness.verdicts import Verdict

SETTLED = (Verdict.SLOWER, Verdict.FASTER, Verdict.UNCHANGED, Verdict.BROKEN, Verdict.BROKEN_BOTH)


@dataclass
class AutoRepeat:
    prepared: suite.Prepared
    metric: str
    max_regression: float
    alpha: float
    budget_s: float = 600.0
    max_repeats: int = 30
    started: float = field(default_factory=time.monotonic)
    trials: list[dict[str, Any]] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    stopped: str = ""

    @staticmethod
    def first_repeats(alpha: float) -> int:
        return rankstats.min_repeats(alpha)

    def on_progress(self, planned: suite.Planned, trial: dict[str, Any] | None) -> None:
        """Hook for :meth:`harness.suite.Prepared.run`: after the last planned trial, maybe add a round."""
        if trial is None:
            return
        self.trials.append(trial)
        if planned is self.prepared.trials[-1]:
            self._next_round(planned.repeat + 1)

    def _doc(self) -> dict[str, Any]:
        opts = self.prepared.opts
        return {
            "status": "complete",
            "fingerprint": {},
            "options": {},
            "scenarios": {},
            "ab": opts.extra.get("ab", {"sides": {}}),
            "trials": self.trials,
        }

    def _next_round(self, repeat: int) -> None:
        report = ab.judge(self._doc(), self.metric, self.max_regression, self.alpha)
        limit = 1 + self.max_regression
        open_pairs = {
            (r.scenario, r.strategy)
            for r in report.rows
            if r.verdict not in SETTLED
            and not (math.isfinite(r.ci_low) and r.ci_low > 0 and r.ci_high / r.ci_low < limit)
        }
        self.unsettled = [f"{s}/{t}" for s, t in sorted(open_pairs)]
        if not open_pairs:
            self.stopped = f"every pair settled after {repeat} repeats"
        elif time.monotonic() - self.started > self.budget_s:
            self.stopped = f"time budget of {self.budget_s:g}s spent after {repeat} repeats"
        elif repeat >= self.max_repeats:
            self.stopped = f"--max-repeat {self.max_repeats} reached"
        if self.stopped:
            return
        more = [
            suite.Planned(loaded, name, repeat, False)
            for loaded in self.prepared.scenarios
            for name in suite.strategies_for(loaded, self.prepared.opts)
            if (loaded.scenario.name, name) in open_pairs
        ]
        self.prepared.trials.extend(suite.interleave_sides(more, ab.SIDES))  # A B or B A by repeat
