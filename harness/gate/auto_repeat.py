"""``ab --repeat auto``: repeat until every pair is settled or a time budget is spent.

As pyperf and pytest-benchmark choose their own number of runs, ``ab`` can. Looking at the
verdicts as the repeats come in and stopping on the first one is *optional stopping*: every
look is another chance for noise to pass the test, so judging each of up to 26 looks at
alpha would say "slower" for identical code about five times as often as alpha promises
(benchmarks/sim_repeat_auto.py; tests/harness/gate/test_auto_repeat.py checks it). So the looks are planned
and the error is spent over them:

* the pairs are judged only at planned repeat counts, growing by a quarter each time
  (at alpha 0.01 and at most 30 repeats: 6, 8, 10, 13, 17, 22, 28, 30): :func:`looks`;
* each look tests at ``alpha / L`` (L looks), Holm over the pairs within the look. The chance
  that ANY look says "slower" (or "faster") for identical code is then at most alpha, by the
  union bound, however the looks depend on each other (Bonferroni over looks: conservative,
  simple, assumption-free). The final verdicts are the last look's, at the same level.

A pair is settled, as Pinpoint's SAME or DIFFERENT, when it is ``unchanged`` (its interval
inside ±threshold), ``slower`` or ``faster``; a broken pair is settled too (repeats cannot
mend it). Any other pair keeps going: between looks, the repeats for the pairs not yet settled
are added at once, still interleaved (A B, B A by repeat). It stops when every pair is
settled, at the last look, or before the time budget runs out: after every trial, when the
next one would likely end past the budget (its pair's slowest trial so far), the trials still
planned are dropped and the verdicts are judged on what was measured, at the same per-look
level (that judgement takes the place of a planned look never reached, so the union bound
holds); the pairs still unsettled are named.

The added trials are appended to the running :class:`harness.running.suite.Prepared`'s trial list,
which its ``run`` loop reads as it goes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.analysis import rankstats
from harness.gate import ab, sensitivity
from harness.gate.verdicts import Report, Row, Verdict
from harness.rundir.model import Run, Trial
from harness.running import suite

SETTLED = (Verdict.SLOWER, Verdict.FASTER, Verdict.UNCHANGED, Verdict.BROKEN, Verdict.BROKEN_BOTH)
#: Each look comes after a quarter more repeats than the one before (at least one more).
GROWTH = 1.25


def looks(alpha: float, max_repeats: int) -> tuple[int, ...]:
    """The repeat counts at which ``--repeat auto`` judges: the first is the fewest a rank test
    can use at ``alpha / L``, each next a quarter more, the last ``max_repeats`` (L = how many)."""
    count = 1
    plan: tuple[int, ...] = (rankstats.min_repeats(alpha),)
    for _ in range(32):  # L fixes the first look and the first look fixes L: settles in 2-3 steps
        first = rankstats.min_repeats(alpha / count)
        steps = [first]
        while steps[-1] < max_repeats:
            steps.append(min(max_repeats, max(steps[-1] + 1, math.ceil(steps[-1] * GROWTH))))
        plan = tuple(steps)
        if len(plan) == count:
            break
        count = len(plan)
    return plan


def short_budget(
    spent_s: float,
    per_repeat_s: float,
    repeats: int,
    open_pairs: int,
    family: int,
    budget_s: float,
    max_repeats: int,
    alpha: float,
) -> str:
    """After the first look: why the budget likely cannot reach a `slower` or `faster` verdict
    for the pairs still open ("" when it can). ``per_repeat_s``: what one more repeat of the open
    pairs costs (both sides, warm-ups left out); ``family``: the pairs Holm's first step divides
    the per-look level among."""
    if not open_pairs or repeats <= 0 or per_repeat_s <= 0 or family <= 0:
        return ""
    plan = looks(alpha, max_repeats)
    reach = min(max_repeats, repeats + int(max(budget_s - spent_s, 0.0) // per_repeat_s))
    why = sensitivity.unreachable(reach, family, alpha, len(plan))
    if why is None:
        return ""
    need = rankstats.min_repeats(alpha / len(plan) / family)
    # one repeat more than needed: the budget stops before a trial that would end past it
    wanted = math.ceil(spent_s + (need - repeats + 1) * per_repeat_s)
    return (
        f"--budget {budget_s:g}s likely reaches about {reach} repeats a side at the pace of the first {repeats} "
        f"({per_repeat_s:.1f}s a repeat of the {open_pairs} pair(s) still open): {why}. Those pairs can end only "
        f"unchanged or unjudged: give --budget {wanted}s or more, or measure fewer pairs"
    )


def settled(row: Row, max_regression: float) -> bool:
    """Does this pair need no more repeats: SAME (unchanged), DIFFERENT (slower, faster) or broken?"""
    return row.verdict in SETTLED


@dataclass
class AutoRepeat:
    prepared: suite.Prepared
    metric: str
    max_regression: float
    alpha: float  # for all looks together
    budget_s: float = 600.0
    max_repeats: int = 30
    clock: Callable[[], float] = time.monotonic
    started: float = math.nan  # the clock when made
    trials: list[Trial] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    stopped: str = ""
    looked: int = 0  # looks made so far
    #: (scenario, strategy) -> its slowest trial so far, seconds: what the next one may take
    slowest: dict[tuple[str, str], float] = field(default_factory=dict)
    #: (scenario, strategy) -> seconds its measured (not warm-up) trials took, both sides, end to end
    measured: dict[tuple[str, str], float] = field(default_factory=dict)
    _last_end: float = 0.0  # the clock when the last trial ended (or when made)
    #: said once, at the first look, when the budget likely cannot reach a verdict (see short_budget)
    budget_warning: str = ""
    warn: Callable[[str], None] | None = None  # where to say it at once (the CLI's console)

    def __post_init__(self) -> None:
        if math.isnan(self.started):
            self.started = self.clock()
        self._last_end = self.started

    @property
    def schedule(self) -> tuple[int, ...]:
        return looks(self.alpha, self.max_repeats)

    @property
    def alpha_per_look(self) -> float:
        """The level each look (and the final verdict) tests at: alpha spent evenly over the looks."""
        return self.alpha / len(self.schedule)

    @staticmethod
    def first_repeats(alpha: float, max_repeats: int = 30) -> int:
        return looks(alpha, max_repeats)[0]

    def describe(self) -> str:
        plan = self.schedule
        return (
            f"judged at up to {len(plan)} looks (after {', '.join(map(str, plan))} repeats), each at "
            f"alpha {self.alpha:g}/{len(plan)} = {self.alpha_per_look:.2g}, so that over all looks the chance "
            f"of a false verdict stays within {self.alpha:g}"
        )

    def judge(self, run: Run) -> Report:
        """The run's verdicts: the last look's, at the level each look tests at, with notes saying so."""
        report = ab.judge(run, self.metric, self.max_regression, self.alpha_per_look)
        report.looks = len(self.schedule)
        self.unsettled = [f"{r.scenario}/{r.strategy}" for r in report.rows if not settled(r, self.max_regression)]
        report.notes.append(f"--repeat auto: {self.describe()}")
        report.notes.append(f"--repeat auto: {self.stopped}")
        if self.unsettled:
            report.notes.append(f"--repeat auto: still unsettled: {', '.join(self.unsettled)}")
        if self.budget_warning:
            report.warnings.append(self.budget_warning)
        return report

    def on_progress(self, planned: suite.Planned, trial: dict[str, Any] | None) -> None:
        """Hook for :meth:`~harness.running.suite.Prepared.run`: after the last planned trial, look
        again; after any trial, stop before one that would likely end past the budget."""
        if trial is None:
            return
        key, now = (planned.loaded.scenario.name, planned.strategy), self.clock()
        # end to end, the time between trials included: what the next trial costs the budget
        self.slowest[key] = max(self.slowest.get(key, 0.0), now - self._last_end)
        if not trial.get("warmup"):
            self.measured[key] = self.measured.get(key, 0.0) + now - self._last_end
        self._last_end = now
        self.trials.append(Trial.from_dict(trial))
        if self.stopped:
            return
        done = len(self.trials)  # the run loop calls this for every planned trial, in order
        if planned is self.prepared.trials[-1]:
            self._look(planned.repeat + 1)
        if not self.stopped and done < len(self.prepared.trials):
            self._within_budget(done)

    def _within_budget(self, done: int) -> None:
        """Drop the trials still planned when the next would likely end past the budget."""
        upcoming = self.prepared.trials[done]
        key = (upcoming.loaded.scenario.name, upcoming.strategy)
        expected = self.slowest.get(key, max(self.slowest.values(), default=0.0))
        spent = self.clock() - self.started
        if spent + expected <= self.budget_s:
            return
        left = len(self.prepared.trials) - done
        del self.prepared.trials[done:]  # the run loop reads the list as it goes: it ends here
        self.stopped = (
            f"stopped within the time budget of {self.budget_s:g}s after {spent:.0f}s: the next trial would "
            f"likely have ended past it ({left} planned trial(s) not run); judged on what was measured"
        )

    def _run(self) -> Run:
        """The trials so far as a run (no fingerprint, options or definitions: ab.judge needs none)."""
        ab_record = self.prepared.opts.extra.get("ab", {"sides": {}})
        return Run(status="complete", fingerprint=None, trials=tuple(self.trials), ab=ab_record)

    def _look(self, repeats: int) -> None:
        self.looked += 1
        report = ab.judge(self._run(), self.metric, self.max_regression, self.alpha_per_look)
        open_pairs = {(r.scenario, r.strategy) for r in report.rows if not settled(r, self.max_regression)}
        self.unsettled = [f"{s}/{t}" for s, t in sorted(open_pairs)]
        later = [n for n in self.schedule if n > repeats]
        if not open_pairs:
            self.stopped = f"every pair settled after {repeats} repeats"
        elif self.clock() - self.started > self.budget_s:
            self.stopped = f"time budget of {self.budget_s:g}s spent after {repeats} repeats"
        elif not later:
            self.stopped = f"--max-repeat {self.max_repeats} reached"
        if self.stopped:
            return
        if self.looked == 1:
            per_repeat = sum(self.measured.get(k, 0.0) for k in open_pairs) / repeats
            family = report.family + len(report.too_few)  # as the verdicts' own "could see" counts it
            self.budget_warning = short_budget(
                self.clock() - self.started,
                per_repeat,
                repeats,
                len(open_pairs),
                family,
                self.budget_s,
                self.max_repeats,
                self.alpha,
            )
            if self.budget_warning and self.warn is not None:
                self.warn(self.budget_warning)
        more = [
            suite.Planned(loaded, name, repeat, False)
            for repeat in range(repeats, later[0])
            for loaded in self.prepared.scenarios
            for name in suite.strategies_for(loaded, self.prepared.opts)
            if (loaded.scenario.name, name) in open_pairs
        ]
        self.prepared.trials.extend(suite.interleave_sides(more, ab.SIDES))  # A B or B A by repeat
