"""The regression gate: compare two runs, pair by pair, and give a verdict you can trust.

For every scenario x strategy measured in both runs, on one metric:

* **ratio** — the Hodges–Lehmann estimate of current / baseline (the median of all
  pairwise ratios; robust to one bad repeat), with a confidence interval from the same
  rank statistics (two-sided, level 1 - 2 alpha; each bound is a one-sided 1 - alpha bound).
* **verdict**, with the threshold t = ``max_regression`` read as a factor 1 + t in the
  bad direction (latency x 1.10, throughput / 1.10 for 10%), so faster and slower are
  symmetric on a log scale:

  - ``slower``  — a one-sided Mann–Whitney test says worse (p <= alpha) **and** the
    estimate is beyond the threshold. Both: significance alone flags 1% shifts on a
    quiet machine, a threshold alone flags noise.
  - ``faster``  — the mirror image.
  - ``unchanged`` — the whole interval lies within ±threshold: any change is smaller
    than the threshold, with confidence.
  - ``inconclusive`` — anything else: the interval straddles the threshold, or a big
    move that is not significant. More repeats would settle it.
  - ``too few repeats`` — a rank test cannot reach alpha with so few repeats (3 vs 3
    can never give p < 0.05); said plainly rather than guessed around. The ratio shown is
    then the ratio of the medians, with no interval.
  - ``broken`` — the current run has trials that did not pass (lost items, limit
    exceeded, timeout, crash): a correctness regression, whatever the speed.
  - ``broken in both`` — they did not pass in the baseline either, with the same
    status(es): still broken, but not a regression. A new kind of failure is ``broken``.

Safety: differing scenario definitions or machine fingerprints (OS, arch, CPU model,
core counts, Python implementation/version/GIL, start method) are reported as
mismatches; the CLI warns loudly and, with ``--strict``, refuses.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness import rankstats


class CompareError(ValueError):
    """Input that cannot be compared; the message is one line for the user."""


@dataclass(frozen=True)
class Metric:
    key: str  # the key in a trial's metrics
    higher_is_better: bool
    label: str


#: Short names accepted by ``--metric``; any ``<e2e|wait|service|put>_<p50|p90|p99|max>_ms``
#: key and ``makespan_s`` are accepted as well.
ALIASES = {
    "throughput": Metric("throughput", True, "items/s"),
    "makespan": Metric("makespan_s", False, "makespan s"),
    "p50": Metric("e2e_p50_ms", False, "e2e p50 ms"),
    "p90": Metric("e2e_p90_ms", False, "e2e p90 ms"),
    "p99": Metric("e2e_p99_ms", False, "e2e p99 ms"),
    "max": Metric("e2e_max_ms", False, "e2e max ms"),
    "efficiency": Metric("efficiency", True, "efficiency"),
    "rss": Metric("peak_rss_mb", False, "peak RSS MB"),
}
_LATENCY_KEY = re.compile(r"^(e2e|wait|service|put)_(p50|p90|p99|max)_ms$")


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
    TOO_FEW = "too few repeats"
    BROKEN = "broken"
    BROKEN_BOTH = "broken in both"


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
    p_value: float  # one-sided, in the direction of the estimate
    verdict: Verdict
    reason: str


@dataclass
class Report:
    metric: Metric
    max_regression: float
    alpha: float
    rows: list[Row] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)  # differences --strict refuses
    notes: list[str] = field(default_factory=list)  # worth knowing, not disqualifying
    warnings: list[str] = field(default_factory=list)  # said loudly, e.g. the same run on both sides

    def count(self, *verdicts: Verdict) -> int:
        return sum(r.verdict in verdicts for r in self.rows)

    @property
    def too_few(self) -> list[Row]:
        return [r for r in self.rows if r.verdict is Verdict.TOO_FEW]

    def exit_code(self, fail_on_inconclusive: bool = False) -> int:
        """0 no regression, 1 regression (slower or broken; inconclusive too if asked)."""
        bad = [Verdict.SLOWER, Verdict.BROKEN]
        if fail_on_inconclusive:
            bad += [Verdict.INCONCLUSIVE, Verdict.TOO_FEW]
        return 1 if self.count(*bad) else 0


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def decide(
    base: list[float], cur: list[float], m: Metric, max_regression: float, alpha: float
) -> tuple[float, float, float, float, Verdict, str]:
    """(ratio, ci_low, ci_high, p_value, verdict, reason) for one pair of samples (all > 0)."""
    from scipy.stats import mannwhitneyu

    nan = math.nan
    n, k = len(base), len(cur)
    if not rankstats.possible(n, k, alpha):
        need = rankstats.min_repeats(alpha)
        why = f"too few repeats ({n} vs {k}): need at least {need} per side for alpha={alpha:g}"
        ratio = _median_ratio(statistics.median(base), statistics.median(cur))  # no interval, no verdict
        return ratio, nan, nan, nan, Verdict.TOO_FEW, why
    # Work on log(value), oriented so that positive means worse.
    sign = -1.0 if m.higher_is_better else 1.0
    b = [sign * math.log(v) for v in base]
    c = [sign * math.log(v) for v in cur]
    shift = rankstats.hodges_lehmann(b, c, alpha)
    assert shift is not None  # possible() said a bound exists
    ties = len(set(b + c)) < n + k
    method = "asymptotic" if ties else "exact"
    p_worse = float(mannwhitneyu(c, b, alternative="greater", method=method).pvalue)
    p_better = float(mannwhitneyu(c, b, alternative="less", method=method).pvalue)
    tau = math.log1p(max_regression)
    ratio = math.exp(sign * shift.estimate)
    lo, hi = sorted((math.exp(sign * shift.low), math.exp(sign * shift.high)))
    p = p_worse if shift.estimate >= 0 else p_better
    limit = f"{max_regression * 100:g}%"
    if p_worse <= alpha and shift.estimate > tau:
        verdict, why = Verdict.SLOWER, f"{_pct(ratio)}: worse beyond {limit}, p={p_worse:.2g}"
    elif p_better <= alpha and shift.estimate < -tau:
        verdict, why = Verdict.FASTER, f"{_pct(ratio)}: better beyond {limit}, p={p_better:.2g}"
    elif -tau <= shift.low and shift.high <= tau:
        verdict, why = Verdict.UNCHANGED, f"interval within ±{limit}"
    elif min(p_worse, p_better) > alpha and abs(shift.estimate) > tau:
        verdict, why = Verdict.INCONCLUSIVE, f"{_pct(ratio)} but not significant (p={p:.2g} > {alpha:g}): too noisy"
    else:
        verdict, why = Verdict.INCONCLUSIVE, f"interval {_pct(lo)}…{_pct(hi)} straddles ±{limit}: too noisy to tell"
    return ratio, lo, hi, p, verdict, why


def _samples(doc: dict[str, Any], key: str) -> dict[tuple[str, str], tuple[list[float], list[str]]]:
    """(scenario, strategy) -> (metric values of passing measured trials, other statuses)."""
    out: dict[tuple[str, str], tuple[list[float], list[str]]] = {}
    for t in doc["trials"]:
        if t.get("warmup") or t.get("status") == "unavailable":
            continue
        values, bad = out.setdefault((t["scenario"], t["strategy"]), ([], []))
        if t.get("status") != "ok":
            bad.append(str(t.get("status")))
            continue
        v = (t.get("metrics") or {}).get(key)
        if isinstance(v, int | float) and math.isfinite(v):
            values.append(float(v))
    return out


#: Scenario fields that change what is measured (description, repeats, etc. do not).
_IGNORED_FIELDS = {"description", "repeats", "warmup", "timeout", "strategies"}


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def scenario_mismatches(base: dict[str, Any], cur: dict[str, Any], names: set[str]) -> list[str]:
    out = []
    for name in sorted(names):
        a = base["scenarios"].get(name, {}).get("definition", {})
        b = cur["scenarios"].get(name, {}).get("definition", {})
        fa = {k: v for k, v in _flatten(a).items() if k not in _IGNORED_FIELDS}
        fb = {k: v for k, v in _flatten(b).items() if k not in _IGNORED_FIELDS}
        diffs = [f"{k} {fa.get(k)!r} → {fb.get(k)!r}" for k in sorted(fa.keys() | fb.keys()) if fa.get(k) != fb.get(k)]
        if diffs:
            out.append(f"scenario {name!r} is defined differently: {', '.join(diffs)}")
    return out


#: Fingerprint fields that make timings incomparable when they differ.
FINGERPRINT_FIELDS = (
    ("os", "OS"),
    ("arch", "architecture"),
    ("cpu_model", "CPU model"),
    ("logical_cores", "logical cores"),
    ("usable_cores", "usable cores"),
    ("python.implementation", "Python implementation"),
    ("python.version", "Python version"),
    ("python.gil_enabled", "GIL enabled"),
    ("start_method", "start method"),
)


def fingerprint_mismatches(base: dict[str, Any], cur: dict[str, Any]) -> list[str]:
    fa, fb = _flatten(base.get("fingerprint", {})), _flatten(cur.get("fingerprint", {}))
    return [
        f"different {label}: {fa.get(key)!r} → {fb.get(key)!r}"
        for key, label in FINGERPRINT_FIELDS
        if fa.get(key) != fb.get(key)
    ]


def _notes(base: dict[str, Any], cur: dict[str, Any]) -> list[str]:
    notes = []
    for side, doc in (("baseline", base), ("current", cur)):
        if doc.get("status") != "complete":
            notes.append(f"the {side} run is {doc.get('status')!r}, not complete: some pairs may be missing")
    pa = base.get("fingerprint", {}).get("effective_parallelism")
    pb = cur.get("fingerprint", {}).get("effective_parallelism")
    if isinstance(pa, int | float) and isinstance(pb, int | float) and pa > 0 and abs(pb / pa - 1) > 0.25:
        notes.append(f"measured parallelism moved {pa} → {pb}: the machine was busier in one run")
    oa = base.get("options", {}).get("strategy_options") or {}
    ob = cur.get("options", {}).get("strategy_options") or {}
    if oa != ob:
        notes.append(f"strategy options differ: {oa} → {ob}")
    return notes


def compare(
    base: dict[str, Any],
    cur: dict[str, Any],
    metric_name: str = "throughput",
    max_regression: float = 0.10,
    alpha: float = 0.01,
) -> Report:
    """Compare two loaded run documents (see :func:`harness.store.load_run`)."""
    m = metric(metric_name)
    check_alpha(alpha)
    report = Report(m, max_regression, alpha)
    sa, sb = _samples(base, m.key), _samples(cur, m.key)
    common = [key for key in sb if key in sa]
    if not common:
        raise CompareError(
            "no scenario x strategy is present in both runs (baseline has "
            f"{_names(sa) or 'none'}; current has {_names(sb) or 'none'})"
        )
    # A pair is judged when both sides have values, or when current trials broke.
    usable = [key for key in common if (sa[key][0] and sb[key][0]) or sb[key][1]]
    if not usable:
        raise CompareError(f"no scenario x strategy has {m.key} values from passing trials in both runs")
    if len(usable) < len(common):
        missing = {key: None for key in common if key not in usable}
        report.notes.append(f"no {m.key} values from passing trials on both sides (not compared): {_names(missing)}")
    common = usable
    report.mismatches += scenario_mismatches(base, cur, {s for s, _ in common})
    report.mismatches += fingerprint_mismatches(base, cur)
    report.notes += _notes(base, cur)
    for side, only in (("baseline", sa.keys() - sb.keys()), ("current", sb.keys() - sa.keys())):
        if only:
            report.notes.append(f"only in the {side} run (not compared): {_names(dict.fromkeys(only))}")
    for key in common:
        report.rows.append(_row(key, sa[key], sb[key], m, max_regression, alpha))
    return report


def _names(pairs: dict[tuple[str, str], Any]) -> str:
    return ", ".join(f"{s}/{t}" for s, t in sorted(pairs))


def _row(
    key: tuple[str, str],
    base: tuple[list[float], list[str]],
    cur: tuple[list[float], list[str]],
    m: Metric,
    max_regression: float,
    alpha: float,
) -> Row:
    (bv, bbad), (cv, cbad) = base, cur
    med_b = statistics.median(bv) if bv else math.nan
    med_c = statistics.median(cv) if cv else math.nan
    nan = math.nan
    if cbad:
        ratio = _median_ratio(med_b, med_c)
        statuses = ", ".join(sorted(set(cbad)))
        new = sorted(set(cbad) - set(bbad))
        if bbad and not new:  # broken the same way before this change: not a regression
            why = f"{len(cbad)} current trial(s) did not pass ({statuses}), as {len(bbad)} did in the baseline"
            return Row(*key, len(bv), len(cv), med_b, med_c, ratio, nan, nan, nan, Verdict.BROKEN_BOTH, why)
        why = f"{len(cbad)} current trial(s) did not pass: {statuses}"
        if bbad:
            why += f" (new: {', '.join(new)}; the baseline had {', '.join(sorted(set(bbad)))})"
        return Row(*key, len(bv), len(cv), med_b, med_c, ratio, nan, nan, nan, Verdict.BROKEN, why)
    if any(v <= 0 for v in bv + cv):
        why = f"{m.key} has zero or negative values: ratios are meaningless"
        return Row(*key, len(bv), len(cv), med_b, med_c, nan, nan, nan, nan, Verdict.INCONCLUSIVE, why)
    ratio, lo, hi, p, verdict, why = decide(bv, cv, m, max_regression, alpha)
    if bbad:
        why += f" (baseline: {len(bbad)} trial(s) did not pass and were left out)"
    return Row(*key, len(bv), len(cv), med_b, med_c, ratio, lo, hi, p, verdict, why)


def _median_ratio(med_base: float, med_cur: float) -> float:
    """current / baseline of two medians; NaN unless both are finite and positive."""
    if math.isfinite(med_base) and math.isfinite(med_cur) and med_base > 0 and med_cur > 0:
        return med_cur / med_base
    return math.nan


def same_run(base_dir: Path, cur_dir: Path, base: dict[str, Any], cur: dict[str, Any]) -> str | None:
    """A warning when both sides are one run (the same directory, or a copy of it such as a
    baseline saved from it): such a comparison shows no change whatever the code does."""
    if Path(base_dir).resolve() == Path(cur_dir).resolve():
        return f"both sides are the same run ({cur_dir}): a run compared with itself shows no change"
    if base.get("started_at") == cur.get("started_at") and base["trials"] == cur["trials"]:
        return (
            f"both sides hold the same run (identical trials, started {cur.get('started_at')}; "
            "e.g. a baseline saved from it): a run compared with itself shows no change"
        )
    return None


def check_output_file(path: Path, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written: CompareError."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise CompareError(f"{option} {path}: is a directory; give a file name")
    if not parent.is_dir():
        what = "does not exist" if not parent.exists() else "is not a directory"
        raise CompareError(f"{option} {path}: {parent} {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CompareError(f"{option} {path}: directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise CompareError(f"{option} {path}: file is not writable")
