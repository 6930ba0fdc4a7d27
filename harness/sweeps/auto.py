"""``sweep --auto``: find the best pool size in fewer trials than a full sweep.

The swept range (``--vary readers=1..8``) is the candidates; the search measures some of them:

1. **A first look**: one repeat at the first value, doubling from it, and the last (1, 2, 4, 8
   of 1..8: :func:`first_look`), after each strategy's warmups at the first value.
2. **Then, per strategy, where it narrows the answer** (:func:`decide`): one repeat at the
   integers next to the best value measured so far, and at the integers around the Universal
   Scalability Law's N* (:mod:`harness.sweeps.usl`) where the law fits, until the best value's
   neighbours are all measured (a climb: a new best brings its own neighbours).
3. **Then repeats where they decide**: the best and its neighbours get the run's repeats (at
   least the rank test's least); a best not yet separated from a neighbour by the rank test
   (:func:`harness.analysis.ranking.distinguishable`) gets :data:`MORE` more repeat at itself
   and that neighbour and is tested again (one at a time: the search stops as soon as it can),
   up to ``max_repeats`` a point, unless the neighbour's median is within 5% of the best's (the
   knee's tolerance): a tie that more repeats would not turn into another pool to pick.

A strategy is settled when its best value is separated from every measured neighbour, when its
line is flat (every value within 5% of the best: nothing to find), or when its points have every
repeat allowed. The search stops when every strategy is settled or the time budget is spent
(looked at after each round), and says which points it measured and why (``run.json``'s
``auto``). Strategies that run no pool (``sequential``) are measured at the first value only, as
in every sweep over ``readers``. Added points run no warmup (every trial is a fresh process;
the first look's warmups warmed the machine's caches).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.analysis import rankstats
from harness.analysis.ranking import ALPHA, distinguishable
from harness.running import suite
from harness.scenario import LoadedScenario
from harness.sweeps.findings import KNEE
from harness.sweeps.planning import pool_independent
from harness.sweeps.usl import fit_points

#: Repeats added at a best value and a neighbour it is not yet separated from, before it is tested
#: again. One: in simulation (benchmarks/sim_sweep_auto.py, 200 seeds, 8% noise a trial) two at a
#: time kept 173 searches of 200 on a capacity-5 collapse within half a full sweep's trials, one at
#: a time 185, naming the best as often (200); on the law-shaped curve, whose 3 and 4 lie 4.4%
#: apart, 81 against 99, naming 3 a little less often (143 against 138: more looks, more chances
#: to call noise a difference).
MORE = 1
#: At most this many times the run's repeats at one point.
MAX_REPEATS_FACTOR = 3


def first_look(values: list[int]) -> list[int]:
    """The first value, doubling from it, and the last: 1, 2, 4, 8 of 1..8; 1, 2, 4, 6 of 1..6."""
    out = [values[0]]
    while (nxt := max(out[-1] * 2, out[-1] + 1)) < values[-1]:
        out.append(min((v for v in values if v >= nxt), default=values[-1]))
    if values[-1] not in out:
        out.append(values[-1])
    return sorted(set(out))


@dataclass(frozen=True)
class Step:
    """What to measure next for one strategy: value -> repeats to add, and why, in words."""

    add: dict[int, int]
    why: str
    settled: bool = False


def decide(samples: dict[int, list[float]], values: list[int], repeats: int, max_repeats: int) -> Step:
    """The next step for one strategy's ``samples`` (value -> its passing repeats' items/s) over the
    candidate ``values``: a new point is measured once; the best and its neighbours then get
    ``repeats`` each (the rank test's least at the least), then :data:`MORE` more at a time up to
    ``max_repeats`` while the best is not separated from a neighbour."""
    medians = {v: statistics.median(xs) for v, xs in samples.items() if xs}
    if not medians:
        return Step({}, "nothing passed", settled=True)
    best = max(medians, key=lambda v: medians[v])
    if len(medians) > 1 and all(m >= KNEE * medians[best] for m in medians.values()):
        return Step({}, f"flat: every value measured within {1 - KNEE:.0%} of the best", settled=True)
    i = values.index(best)
    neighbours = [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]
    wanted = {v: f"next to the best so far, {best}" for v in neighbours if v not in samples}  # tried: measured
    neighbours = [v for v in neighbours if v not in wanted and samples[v]]  # a value whose trials failed: out
    fit = fit_points("", "readers", samples, best)
    if fit.fitted and math.isfinite(fit.peak):
        for v in sorted({math.floor(fit.peak), math.ceil(fit.peak)}):
            near = min(values, key=lambda c: abs(c - v))
            if near not in samples and near not in wanted:
                wanted[near] = f"around the USL's N* {fit.peak:.1f}"
    if wanted:
        why = "; ".join(f"{v} ({reason})" for v, reason in sorted(wanted.items()))
        return Step(dict.fromkeys(wanted, 1), f"measure {why}")
    least = max(repeats, rankstats.min_repeats(ALPHA))  # what distinguishable() needs, not the ★'s crown
    short = {v: least - len(samples[v]) for v in (best, *neighbours) if len(samples[v]) < least}
    if short:
        return Step(short, f"repeats at {', '.join(map(str, sorted(short)))} ({least} each): the best so far is {best}")
    mine = samples[best]
    open_ = [v for v in neighbours if not distinguishable(mine, samples[v])]
    if not open_:
        said = f"separated from {', '.join(map(str, neighbours))} by the rank test" if neighbours else "no neighbour"
        return Step({}, f"best {best}, {said}", settled=True)
    # A neighbour within the knee's tolerance of the best is a tie in practice: more repeats might
    # separate a 1% difference, but the pool to pick would not change (the smaller pool is within
    # 5% of the best), and such near-ties cost most of a search's repeats. Repeats go only where a
    # real difference may be hiding.
    far = [v for v in open_ if medians[v] < KNEE * medians[best]]
    if not far:
        ties = ", ".join(map(str, open_))
        return Step(
            {},
            f"best {best}, a tie with {ties}: within {1 - KNEE:.0%} of it, "
            "so more repeats would not change the pool to pick",
            settled=True,
        )
    add = {v: min(MORE, max_repeats - len(samples[v])) for v in (best, *far)}
    add = {v: n for v, n in add.items() if n > 0}
    if not add:
        return Step({}, f"best {best}, not separated from {', '.join(map(str, far))} at {max_repeats} repeats", True)
    more = "one more repeat" if MORE == 1 else f"{MORE} more repeats"
    return Step(add, f"{more} at {', '.join(map(str, sorted(add)))}: {best} not yet separated")


def first_round(points: dict[int, LoadedScenario], opts: suite.Options) -> list[suite.Planned]:
    """The first look's trials: each strategy's warmups at the first value, then one repeat at each
    :func:`first_look` value (a strategy that runs no pool: its repeats at the first value only),
    interleaved as a sweep's rounds are."""
    values = sorted(points)
    first = points[values[0]]
    warmups = first.scenario.warmup if opts.warmup is None else opts.warmup
    repeats = first.scenario.repeats if opts.repeat is None else opts.repeat
    names = suite.strategies_for(first, opts)
    out = [suite.Planned(first, name, r, True) for r in range(-warmups, 0) for name in names]
    looks = first_look(values)
    rows = []
    for k, name in enumerate(names):
        if pool_independent(name, "readers"):
            rows += [((r, 0, k), suite.Planned(first, name, r, False)) for r in range(repeats)]
        else:
            rows += [
                ((0, (i + k) % len(looks), k), suite.Planned(points[v], name, 0, False)) for i, v in enumerate(looks)
            ]
    return out + [p for _, p in sorted(rows, key=lambda row: row[0])]


@dataclass
class AutoSweep:
    """The search, as a hook on a running :class:`~harness.running.suite.Prepared` (its ``run`` loop
    reads the trial list as it grows): after the last planned trial it looks and plans the next round."""

    prepared: suite.Prepared
    #: value -> its point's scenario
    points: dict[int, LoadedScenario]
    window_key: str
    repeats: int
    max_repeats: int
    budget_s: float
    #: run.json's ``auto`` entry (the same dict the run's document holds: the log is written with it)
    record: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    samples: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    #: value -> strategies measured there at least once (passing or not)
    tried: dict[tuple[str, int], int] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.record.setdefault("log", [])
        self.record.setdefault("stopped", "")
        self._value = {loaded.scenario.name: v for v, loaded in self.points.items()}

    @property
    def log(self) -> list[str]:
        return list(self.record["log"])

    def say(self, line: str) -> None:
        self.record["log"].append(line)

    def on_progress(self, planned: suite.Planned, trial: dict[str, Any] | None) -> None:
        if trial is None:
            return
        key = (planned.strategy, self._value[planned.loaded.scenario.name])
        if not planned.warmup:
            self.tried[key] = self.tried.get(key, 0) + 1
            value = (trial.get("metrics") or {}).get(self.window_key)
            if trial.get("status") == "ok" and isinstance(value, int | float) and math.isfinite(value):
                self.samples.setdefault(key, []).append(float(value))
        if planned is self.prepared.trials[-1]:
            self._look()

    def _look(self) -> None:
        values = sorted(self.points)
        strategies = list(dict.fromkeys(p.strategy for p in self.prepared.trials))
        more: list[suite.Planned] = []
        open_ = []
        for strategy in strategies:
            if pool_independent(strategy, "readers") or strategy in self.settled:
                continue
            mine = {v: self.samples.get((strategy, v), []) for v in values if (strategy, v) in self.tried}
            step = decide(mine, values, self.repeats, self.max_repeats)
            self.say(f"{strategy}: {step.why}")
            if step.settled:  # said once; its points get no more trials
                self.settled.add(strategy)
                continue
            open_.append(strategy)
            for v, n in sorted(step.add.items()):
                start = self.tried.get((strategy, v), 0)
                more += [suite.Planned(self.points[v], strategy, r, False) for r in range(start, start + n)]
        spent = time.monotonic() - self.started
        if not open_:
            self.record["stopped"] = "every strategy settled"
        elif spent > self.budget_s:
            self.record["stopped"] = (
                f"time budget of {self.budget_s:g} s spent ({spent:.0f} s); still open: " + ", ".join(open_)
            )
        elif not more:
            self.record["stopped"] = "nothing left to measure"
        if self.record["stopped"]:
            return
        # One round: strategies interleaved, a repeat at a time, as a sweep's rounds are.
        more.sort(key=lambda p: (p.repeat, strategies.index(p.strategy)))
        self.prepared.trials.extend(more)


def parse_budget(text: str) -> float:
    """``--budget``: seconds, or a number with s, m or h (90, 90s, 15m, 1.5h)."""
    from harness.errors import SweepError

    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise SweepError(f"--budget {text!r}: a time such as 600, 90s, 15m or 1.5h") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SweepError(f"--budget {text!r}: must be more than 0")
    return seconds


def searcher(
    points: dict[int, LoadedScenario], opts: suite.Options, window_key: str, budget_s: float, record: dict[str, Any]
) -> Callable[[suite.Prepared], suite.Progress]:
    """For :func:`harness.cli.measuring.measure`'s ``adapt``: puts the first round in the prepared
    run (warmups and repeats as planned minus what it leaves out) and returns the search's hook."""

    def adapt(prepared: suite.Prepared) -> suite.Progress:
        kept = {p.strategy for p in prepared.trials}  # less any the worker cannot run
        prepared.trials = [p for p in first_round(points, opts) if p.strategy in kept]
        first = points[min(points)].scenario
        repeats = first.repeats if opts.repeat is None else opts.repeat
        record["first_look"] = first_look(sorted(points))
        search = AutoSweep(prepared, points, window_key, repeats, MAX_REPEATS_FACTOR * repeats, budget_s, record)
        return search.on_progress

    return adapt
