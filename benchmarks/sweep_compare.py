"""`make bench-sweep`'s comparison of ``sweep --auto`` with the full sweep, as pure functions of
stored runs (benchmarks/bench_sweep.py runs the sweeps; tests/benchmarks/ checks these on
synthetic run documents).

Per pooled strategy: the full sweep's best pool, --auto's, whether they agree (a best the rank
test could not separate from its runner-up, Finding.tie_with, agrees when the other side's best
is that runner-up: said as "tie"), and whether the USL's N* interval on the full sweep covers
the true capacity; per run, --auto's trials and wall time as fractions of the full sweep's and
whether the strategies that run no pool (sequential) ran at one point. :func:`targets` judges
issue 25's targets over the runs actually done.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: The issue's targets: runs agreeing, the --auto trials' share, runs whose N* interval covers.
RUNS_ASKED, AGREE_SHARE, TRIALS_SHARE, COVER_SHARE = 10, 0.9, 0.5, 0.9
AGREES = ("same", "tie")


@dataclass(frozen=True)
class Line:
    """One pooled strategy's answer in one sweep: its best pool (and the value the rank test could
    not separate it from) and the USL's N* interval (None where the law was refused: ``refusal``)."""

    strategy: str
    best: int
    throughput: float
    tie_with: int | None = None
    peak: float | None = None
    low: float | None = None
    high: float | None = None
    refusal: str = ""


@dataclass(frozen=True)
class SweepResult:
    mode: str  # "full" or "auto"
    run_dir: str
    trials: int  # every trial, warmups included: what the sweep spent
    wall_s: float
    lines: tuple[Line, ...]
    #: strategies that run no pool (sequential) -> the readers values they were measured at
    one_point: Mapping[str, tuple[int, ...]]
    one_point_rate: Mapping[str, float]  # their items/s
    stopped: str = ""  # --auto's reason for stopping

    def line(self, strategy: str) -> Line | None:
        return next((x for x in self.lines if x.strategy == strategy), None)


def read_sweep(run: Any, mode: str, run_dir: str, wall_s: float) -> SweepResult:
    """A stored sweep (a harness.rundir.model.Run) as the benchmark compares it."""
    from harness.analysis.summary import DEFAULT_RANK_BY
    from harness.sweeps import findings, usl

    found = findings.findings(run, findings.results(run, DEFAULT_RANK_BY))
    fits = {f.label: f for f in usl.fits(run, found, DEFAULT_RANK_BY)}
    lines, one_point, rate = [], {}, {}
    for f in found:
        if f.pool_independent:
            at = {int(run.swept.points[t.scenario][run.swept.param]) for t in run.measured if t.strategy == f.strategy}
            one_point[f.strategy], rate[f.strategy] = tuple(sorted(at)), f.best_throughput
            continue
        fit = fits.get(f.label)
        line = Line(f.strategy, f.best, f.best_throughput, f.tie_with, refusal=fit.refusal if fit else "no fit")
        if fit is not None and fit.fitted:
            line = dataclasses.replace(line, peak=fit.peak, low=fit.low, high=fit.high)
        lines.append(line)
    stopped = str((run.raw.get("auto") or {}).get("stopped") or "")
    return SweepResult(mode, run_dir, len(run.trials), wall_s, tuple(lines), one_point, rate, stopped)


def agreement(full: Line | None, auto: Line | None) -> str:
    """``same`` best pool; ``tie``: different, but one side's best is the value the other side's
    rank test could not separate its best from; ``differ``; ``missing`` (one side has no answer)."""
    if full is None or auto is None:
        return "missing"
    if full.best == auto.best:
        return "same"
    if auto.best == full.tie_with or full.best == auto.tie_with:
        return "tie"
    return "differ"


def covers(line: Line | None, capacity: int | None) -> bool:
    """Whether the line's N* interval holds the true capacity (a refused fit holds nothing)."""
    if line is None or capacity is None or line.low is None or line.high is None:
        return False
    return line.low <= capacity <= line.high


def whole_pool(x: float) -> float:
    """The pool size an N* points to: the nearest whole number (halves up); infinity stays."""
    return x if math.isinf(x) else math.floor(x + 0.5)


def covers_whole(line: Line | None, capacity: int | None) -> bool:
    """Whether the whole pool sizes the N* interval points to hold the true capacity: [3.08, 3.13]
    points to 3. Shown beside :func:`covers`, not a target: a pipeline adds work the service does
    not contend on (connecting, the reader's own time), which moves the measured peak a little
    past the service's own N*, and a tight interval then misses it by a tenth of a reader. Stricter
    than the sweep line's own test of the measured best (floor and ceiling of the interval:
    :meth:`harness.sweeps.usl.Fit.line`), which only says when a best lies clearly outside."""
    if line is None or capacity is None or line.low is None or line.high is None:
        return False
    return whole_pool(line.low) <= capacity <= whole_pool(line.high)


def fraction(part: float, whole: float) -> float:
    return part / whole if whole > 0 else math.nan


@dataclass(frozen=True)
class Pair:
    """One run of one scenario: the full sweep and --auto, and how they compare."""

    run: int
    scenario: str
    capacity: int | None
    first: str  # which of the two ran first
    full: SweepResult
    auto: SweepResult

    @property
    def strategies(self) -> list[str]:
        return sorted({x.strategy for x in (*self.full.lines, *self.auto.lines)})

    @property
    def agreement(self) -> dict[str, str]:
        return {s: agreement(self.full.line(s), self.auto.line(s)) for s in self.strategies}

    @property
    def all_agree(self) -> bool:
        return bool(self.strategies) and all(a in AGREES for a in self.agreement.values())

    @property
    def covers(self) -> dict[str, bool]:
        """Per strategy: the full sweep's N* interval covers the capacity."""
        return {s: covers(self.full.line(s), self.capacity) for s in self.strategies}

    @property
    def covers_whole(self) -> dict[str, bool]:
        """Per strategy: the whole pools the full sweep's N* interval points to hold the capacity."""
        return {s: covers_whole(self.full.line(s), self.capacity) for s in self.strategies}

    @property
    def trials_fraction(self) -> float:
        return fraction(self.auto.trials, self.full.trials)

    @property
    def wall_fraction(self) -> float:
        return fraction(self.auto.wall_s, self.full.wall_s)

    @property
    def one_point(self) -> bool | None:
        """Every pool-independent strategy ran at one readers value in both sweeps (None: none ran)."""
        seen = [v for side in (self.full, self.auto) for v in side.one_point.values()]
        return all(len(v) == 1 for v in seen) if seen else None


@dataclass(frozen=True)
class Target:
    text: str
    got: str
    met: bool | None  # None: could not be judged (nothing to judge it on)


def needed(runs: int, share: float) -> int:
    """Runs that must succeed out of ``runs`` for a ``share`` target (9 of 10 at 0.9)."""
    return math.ceil(share * runs - 1e-9)


def targets(pairs: Sequence[Pair]) -> list[Target]:
    """The issue's targets over one scenario's runs, judged on the runs actually done."""
    n = len(pairs)
    if not n:
        return []
    k_agree = sum(p.all_agree for p in pairs)
    fractions = [p.trials_fraction for p in pairs]
    k_cheap = sum(f <= TRIALS_SHARE for f in fractions)
    strategies = sorted({s for p in pairs for s in p.strategies})
    cover = {s: sum(p.covers.get(s, False) for p in pairs) for s in strategies}
    one = [p.one_point for p in pairs if p.one_point is not None]
    of = f"of {n} run(s) done (the issue asks {RUNS_ASKED})"
    return [
        Target(
            f"--auto names the full sweep's best pool (every strategy; a tie counts) in >= {AGREE_SHARE:.0%} of runs",
            f"{k_agree} {of}",
            k_agree >= needed(n, AGREE_SHARE),
        ),
        Target(
            f"--auto uses <= {TRIALS_SHARE:.0%} of the full sweep's trials in >= {AGREE_SHARE:.0%} of runs",
            f"{k_cheap} {of}; median {statistics.median(fractions):.0%}",
            k_cheap >= needed(n, AGREE_SHARE),
        ),
        Target(
            f"the USL's N* interval covers the true capacity in >= {COVER_SHARE:.0%} of runs (every strategy)",
            ", ".join(f"{s} {k}/{n}" for s, k in cover.items()) or "no pooled strategy",
            all(k >= needed(n, COVER_SHARE) for k in cover.values()) if cover else None,
        ),
        Target(
            "sequential runs at one point",
            f"{sum(one)} of {len(one)} run(s)" if one else "no strategy without a pool was run",
            all(one) if one else None,
        ),
    ]


def counts(values: Sequence[object]) -> str:
    """3 (one run), or 3×9 4×1 over several."""
    if len(values) == 1:
        return str(values[0])
    return " ".join(f"{v}×{k}" for v, k in collections.Counter(values).most_common())


def _interval(lines: Sequence[Line | None]) -> str:
    fitted = [x for x in lines if x is not None and x.low is not None and x.high is not None and x.peak is not None]
    if not fitted:
        refused = {x.refusal.split(":")[0].split(";")[0] for x in lines if x is not None}
        return "refused: " + "; ".join(sorted(refused)) if refused else "-"
    peak, low = (statistics.median(getattr(x, k) for x in fitted) for k in ("peak", "low"))
    high = statistics.median(x.high for x in fitted if x.high is not None)
    from harness.sweeps.usl import interval_digits

    d = interval_digits(low, high)
    text = f"{peak:.{d}f} [{low:.{d}f}, {high:.{d}f}]".replace("inf", "∞")
    return text if len(lines) == 1 else f"median {text}; fitted {len(fitted)}/{len(lines)}"


def summary(scenario: str, capacity: int | None, pairs: Sequence[Pair]) -> dict[str, Any]:
    """One scenario's summary for the JSON file and the table."""
    strategies = sorted({s for p in pairs for s in p.strategies})
    per: dict[str, Any] = {}
    for s in strategies:
        full = [p.full.line(s) for p in pairs]
        auto = [p.auto.line(s) for p in pairs]
        per[s] = {
            "full_best": [x.best if x else None for x in full],
            "auto_best": [x.best if x else None for x in auto],
            "agreement": [p.agreement.get(s, "missing") for p in pairs],
            "covers": sum(p.covers.get(s, False) for p in pairs),
            "covers_whole": sum(p.covers_whole.get(s, False) for p in pairs),
            "n_star": _interval(full),
            "n_star_auto": _interval(auto),
        }
    seq = {s: rate for p in pairs for s, rate in p.full.one_point_rate.items()}
    return {
        "scenario": scenario,
        "capacity": capacity,
        "runs": len(pairs),
        "strategies": per,
        "trials_fraction": [p.trials_fraction for p in pairs],
        "wall_fraction": [p.wall_fraction for p in pairs],
        "one_point": [p.one_point for p in pairs],
        "one_point_rate": seq,
        "targets": [asdict(t) for t in targets(pairs)],
        "pairs": [asdict(p) for p in pairs],
    }


def eta(done: Sequence[tuple[str, str, float]], todo: Sequence[tuple[str, str]]) -> float | None:
    """Seconds left: each sweep still to run (scenario, mode) at the mean of the same scenario and
    mode done so far, else of the same mode, else of any; None before the first sweep ends."""
    if not done:
        return None
    left = 0.0
    for scenario, mode in todo:
        same = [s for sc, m, s in done if (sc, m) == (scenario, mode)] or [s for _, m, s in done if m == mode]
        left += statistics.mean(same or [s for *_, s in done])
    return left


def json_safe(value: Any) -> Any:
    """JSON without NaN or Infinity: an unbounded interval's end is "inf", a missing figure null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
