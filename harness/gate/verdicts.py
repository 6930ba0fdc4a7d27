"""Verdict statistics: one pair's rank test and interval, and the family-wise step over all pairs.

:mod:`harness.gate.compare` matches two runs pair by pair and gathers the samples; this module
turns each pair's samples into a ratio, an interval, a p-value and, once every pair of the
comparison is known, a verdict.

Family-wise error control: a comparison tests many pairs (35 in the default suite). At
alpha = 0.01 each, 35 independent A/A pairs give a 1 - 0.99^35 = 30% chance that *some*
pair says "slower". The p-values are therefore adjusted with Holm's step-down method
(:func:`harness.analysis.rankstats.holm`) over every tested pair, once for "worse" and once for
"better", and a verdict needs the *adjusted* p <= alpha. Holm controls the family-wise error
rate (the chance of ANY false "slower") at alpha whatever the number of pairs, needs no
assumption about how the pairs depend on each other, and rejects everything Bonferroni does
and sometimes more. A false-discovery rate (Benjamini–Hochberg) would allow a share of false
alarms among the alarms, which for a CI gate that fails a build is the wrong promise.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from harness.analysis import rankstats
from harness.errors import CompareError

#: Exit codes of the gate (``compare`` and ``ab``).
EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_UNJUDGED = 0, 1, 2, 3


@dataclass(frozen=True)
class Metric:
    key: str  # the key in a trial's metrics
    higher_is_better: bool
    label: str


#: Short names accepted by ``--metric``; any ``<e2e|wait|service|put>_<p50|p90|p99|max>_ms``
#: key and ``makespan_s`` are accepted as well.
ALIASES = {
    "throughput": Metric("throughput", True, "items/s (makespan)"),
    "throughput_total": Metric("throughput_total", True, "items/s (total)"),
    "makespan": Metric("makespan_s", False, "makespan s"),
    "total": Metric("total_s", False, "total s"),
    "p50": Metric("e2e_p50_ms", False, "e2e p50 ms"),
    "p90": Metric("e2e_p90_ms", False, "e2e p90 ms"),
    "p99": Metric("e2e_p99_ms", False, "e2e p99 ms"),
    "max": Metric("e2e_max_ms", False, "e2e max ms"),
    "efficiency": Metric("efficiency", True, "efficiency"),
    "rss": Metric("peak_rss_mb", False, "worker peak RSS MB"),
    "tree_peak": Metric("tree_peak_mb", False, "tree peak MB (PSS)"),
}
_LATENCY_KEY = re.compile(r"^(e2e|wait|service|put)_(p50|p90|p99|max)_ms\Z")


def metric(name: str) -> Metric:
    if name in ALIASES:
        return ALIASES[name]
    for m in ALIASES.values():
        if name == m.key:
            return m
    if _LATENCY_KEY.match(name):
        return Metric(name, False, name.removesuffix("_ms").replace("_", " ") + " ms")
    raise CompareError(
        f"unknown metric {name!r}; use one of {', '.join(ALIASES)} or a key like wait_p99_ms, service_p50_ms"
    )


def parse_threshold(text: str) -> float:
    """'10%' or '0.1' -> 0.1. A bare number above 1 is refused as ambiguous."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise CompareError(f"--max-regression {text!r}: expected a percentage like 10% (or a fraction: 0.1)") from None
    if not raw.endswith("%") and value >= 1:
        raise CompareError(f"--max-regression {text!r}: ambiguous; write {raw}% for a percentage")
    if not (0 < value <= 10) or not math.isfinite(value):
        raise CompareError(f"--max-regression {text!r}: must be above 0% and at most 1000%")
    return value


def check_alpha(alpha: float) -> float:
    if not (0 < alpha < 0.5):
        raise CompareError(f"--alpha {alpha}: must be between 0 and 0.5 (0.01 is a good default)")
    return alpha


class Verdict(StrEnum):
    SLOWER = "slower"
    FASTER = "faster"
    UNCHANGED = "unchanged"
    INCONCLUSIVE = "inconclusive"
    MACHINE_CHANGED = "inconclusive: machine changed"
    TOO_FEW = "too few repeats"
    BROKEN = "broken"
    BROKEN_BOTH = "broken in both"


#: Verdicts that could not judge the pair: the gate's own exit code (3) unless accepted.
UNJUDGED = (Verdict.INCONCLUSIVE, Verdict.MACHINE_CHANGED, Verdict.TOO_FEW)
#: Verdicts that fail the gate (exit 1).
FAILING = (Verdict.SLOWER, Verdict.BROKEN)


@dataclass(frozen=True)
class Row:
    scenario: str
    strategy: str
    n_base: int
    n_cur: int
    base_median: float
    cur_median: float
    #: current / baseline of the metric: Hodges–Lehmann when judged, else the ratio of the
    #: medians where both exist (too few repeats, broken); NaN when neither applies
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float  # one-sided, in the direction of the estimate, for this pair alone
    verdict: Verdict
    reason: str
    #: p_value adjusted for every pair of the comparison (Holm); NaN where no test was made
    p_adjusted: float = math.nan
    #: the pooled spread of the log values (harness.gate.sensitivity.noise); NaN when unknown
    noise: float = math.nan
    #: the smallest slowdown (0.23 for 23%) these repeats call slower with 80% probability
    #: (harness.gate.sensitivity); inf when they can call nothing, NaN when unknown
    mde: float = math.nan
    #: an unjudged pair: repeats a side that would judge the threshold at this noise; 0 otherwise
    repeats_needed: int = 0


@dataclass
class Report:
    metric: Metric
    max_regression: float
    alpha: float
    rows: list[Row] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)  # differences --strict refuses
    notes: list[str] = field(default_factory=list)  # worth knowing, not disqualifying
    warnings: list[str] = field(default_factory=list)  # said loudly, e.g. the same run on both sides
    family: int = 0  # how many pairs were tested together (Holm's m)
    #: what moved between the runs (harness.gate.drift): each turns slower/faster into MACHINE_CHANGED
    drift: list[str] = field(default_factory=list)
    #: ``ab --repeat auto``: how many planned looks the error was spent over; ``alpha`` is then
    #: each look's level, the overall one ``alpha * looks`` (harness.gate.auto_repeat)
    looks: int = 1

    def count(self, *verdicts: Verdict) -> int:
        return sum(r.verdict in verdicts for r in self.rows)

    @property
    def too_few(self) -> list[Row]:
        return [r for r in self.rows if r.verdict is Verdict.TOO_FEW]

    def exit_code(self, fail_on_inconclusive: bool = False, accept_inconclusive: bool = False) -> int:
        """1 regression (slower or broken); 3 some pair could not be judged (inconclusive, the
        machine changed, too few repeats) unless accepted (0) or made a failure (1); else 0."""
        if self.count(*FAILING):
            return EXIT_REGRESSION
        if self.count(*UNJUDGED):
            if fail_on_inconclusive:
                return EXIT_REGRESSION
            return EXIT_OK if accept_inconclusive else EXIT_UNJUDGED
        return EXIT_OK


def factor(worse: float) -> str:
    """A worse-factor (> 1 worse, < 1 better) in the threshold's unit: '×1.200 worse'."""
    if not math.isfinite(worse) or worse <= 0:
        return "—"
    return f"×{worse:.3f} worse" if worse >= 1 else f"×{1 / worse:.3f} better"


def worse_factor(ratio: float, m: Metric) -> float:
    """current / baseline turned into 'how many times worse' (throughput 0.8 -> 1.25)."""
    if not math.isfinite(ratio) or ratio <= 0:
        return math.nan
    return 1 / ratio if m.higher_is_better else ratio


@dataclass(frozen=True)
class Stats:
    """One pair's rank statistics, before the family-wise step. Log values are oriented so
    that positive means worse."""

    ratio: float  # Hodges–Lehmann estimate of current / baseline
    ci_low: float  # its interval, in ratio units, low <= high
    ci_high: float
    estimate: float  # log worse-factor
    low: float  # one-sided lower bound of the log worse-factor (1 - alpha)
    high: float  # upper bound
    p_worse: float  # one-sided Mann–Whitney p for "current is worse"
    p_better: float


def measure(base: Sequence[float], cur: Sequence[float], m: Metric, alpha: float) -> Stats | None:
    """The rank statistics of one pair (all values > 0); None when a rank test cannot reach alpha."""
    from scipy.stats import mannwhitneyu

    n, k = len(base), len(cur)
    if not rankstats.possible(n, k, alpha):
        return None
    sign = -1.0 if m.higher_is_better else 1.0
    b = [sign * math.log(v) for v in base]
    c = [sign * math.log(v) for v in cur]
    shift = rankstats.hodges_lehmann(b, c, alpha)
    assert shift is not None  # possible() said a bound exists
    method = "asymptotic" if len(set(b + c)) < n + k else "exact"
    p_worse = float(mannwhitneyu(c, b, alternative="greater", method=method).pvalue)
    p_better = float(mannwhitneyu(c, b, alternative="less", method=method).pvalue)
    lo, hi = sorted((math.exp(sign * shift.low), math.exp(sign * shift.high)))
    return Stats(math.exp(sign * shift.estimate), lo, hi, shift.estimate, shift.low, shift.high, p_worse, p_better)


def too_few_reason(n: int, k: int, alpha: float) -> str:
    need = rankstats.min_repeats(alpha)
    return f"too few repeats ({n} vs {k}): need at least {need} per side for alpha={alpha:g}"


def judge(
    s: Stats, adj_worse: float, adj_better: float, max_regression: float, alpha: float, family: int
) -> tuple[Verdict, str, float, float]:
    """(verdict, reason, p, adjusted p) of one pair, given its Holm-adjusted p-values.

    The reason speaks the threshold's unit (a factor, worse or better), so each verdict can
    be checked by eye against the limit."""
    tau = math.log1p(max_regression)
    limit = f"×{1 + max_regression:g}"
    worse = s.estimate >= 0
    p, p_adj = (s.p_worse, adj_worse) if worse else (s.p_better, adj_better)
    est = factor(math.exp(s.estimate))
    span = f"{factor(math.exp(s.low))} … {factor(math.exp(s.high))}"
    holm = f"Holm p={p_adj:.2g} over {family} pair(s)" if family > 1 else f"p={p:.2g}"
    if adj_worse <= alpha and s.estimate > tau:
        return Verdict.SLOWER, f"{est} > {limit} limit; {holm}", p, p_adj
    if adj_better <= alpha and s.estimate < -tau:
        return Verdict.FASTER, f"{est} > {limit} limit; {holm}", p, p_adj
    if -tau <= s.low and s.high <= tau:
        return Verdict.UNCHANGED, f"interval {span} within {limit} both ways", p, p_adj
    if abs(s.estimate) > tau and p <= alpha < p_adj:
        why = f"{est} > {limit} limit, p={p:.2g} alone but {holm} > {alpha:g}: not significant for the family"
        return Verdict.INCONCLUSIVE, why, p, p_adj
    if abs(s.estimate) > tau:
        return Verdict.INCONCLUSIVE, f"{est} > {limit} limit but not significant ({holm} > {alpha:g})", p, p_adj
    return Verdict.INCONCLUSIVE, f"interval {span} straddles the {limit} limit: too noisy to tell", p, p_adj


def median_ratio(med_base: float, med_cur: float) -> float:
    """current / baseline of two medians; NaN unless both are finite and positive."""
    if math.isfinite(med_base) and math.isfinite(med_cur) and med_base > 0 and med_cur > 0:
        return med_cur / med_base
    return math.nan


def decide(
    base: list[float], cur: list[float], m: Metric, max_regression: float, alpha: float
) -> tuple[float, float, float, float, Verdict, str]:
    """(ratio, ci_low, ci_high, p_value, verdict, reason) for one pair judged alone (a family of one)."""
    s = measure(base, cur, m, alpha)
    nan = math.nan
    if s is None:
        ratio = median_ratio(statistics.median(base), statistics.median(cur))
        return ratio, nan, nan, nan, Verdict.TOO_FEW, too_few_reason(len(base), len(cur), alpha)
    verdict, why, p, _ = judge(s, s.p_worse, s.p_better, max_regression, alpha, 1)
    return s.ratio, s.ci_low, s.ci_high, p, verdict, why


def family_rows(pending: list[tuple[Row, Stats]], max_regression: float, alpha: float) -> list[Row]:
    """Holm over every tested pair, once per direction, then each pair's verdict."""
    import dataclasses

    family = len(pending)
    adj_worse = rankstats.holm([s.p_worse for _, s in pending])
    adj_better = rankstats.holm([s.p_better for _, s in pending])
    out = []
    for (row, s), aw, ab in zip(pending, adj_worse, adj_better, strict=True):
        verdict, why, p, p_adj = judge(s, aw, ab, max_regression, alpha, family)
        extra = row.reason  # a note gathered before judging (e.g. baseline trials left out)
        out.append(dataclasses.replace(row, p_value=p, p_adjusted=p_adj, verdict=verdict, reason=why + extra))
    return out
