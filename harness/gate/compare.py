"""The regression gate: compare two runs, pair by pair, and give a verdict you can trust.

For every scenario x strategy measured in both runs, on one metric:

* **ratio** — the Hodges–Lehmann estimate of current / baseline (the median of all
  pairwise ratios; robust to one bad repeat), with a confidence interval from the same
  rank statistics (two-sided, level 1 - 2 alpha; each bound is a one-sided 1 - alpha bound).
* **verdict**, with the threshold t = ``max_regression`` read as a factor 1 + t in the
  bad direction (latency x 1.10, throughput / 1.10 for 10%), so faster and slower are
  symmetric on a log scale:

  - ``slower``  — a one-sided Mann–Whitney test says worse **and** the estimate is
    beyond the threshold. Both: significance alone flags 1% shifts on a quiet machine, a
    threshold alone flags noise. The test's p is adjusted for every pair of the
    comparison (Holm; :mod:`harness.gate.verdicts`), so an A/A comparison says "slower"
    anywhere with probability at most alpha, however many pairs it holds.
  - ``faster``  — the mirror image.
  - ``unchanged`` — the whole interval lies within ±threshold: any change is smaller
    than the threshold, with confidence.
  - ``inconclusive`` — anything else: the interval straddles the threshold, or a big
    move that is not significant for the family. More repeats would settle it.
  - ``inconclusive: machine changed`` — a slower or faster verdict between runs made at
    different times whose machine moved meanwhile (:mod:`harness.gate.drift`).
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

import dataclasses
import math
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import CompareError
from harness.gate import drift, sensitivity, verdicts
from harness.gate.verdicts import (
    ALIASES,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_UNJUDGED,
    EXIT_USAGE,
    Metric,
    Report,
    Row,
    Stats,
    Verdict,
    check_alpha,
    decide,
    metric,
    parse_threshold,
)
from harness.rundir.model import Fingerprint, Run

__all__ = [
    "ALIASES",
    "EXIT_OK",
    "EXIT_REGRESSION",
    "EXIT_UNJUDGED",
    "EXIT_USAGE",
    "CompareError",
    "Metric",
    "Report",
    "Row",
    "Verdict",
    "check_alpha",
    "compare",
    "decide",
    "metric",
    "parse_threshold",
]


def _samples(run: Run, key: str) -> dict[tuple[str, str], tuple[list[float], list[str]]]:
    """(scenario, strategy) -> (metric values of passing measured trials, other statuses). In a run
    of several interpreters the strategy keeps its side (``threads@3.13.5t``): they never pool."""
    out: dict[tuple[str, str], tuple[list[float], list[str]]] = {}
    for t in run.measured:
        if t.status == "unavailable":
            continue
        values, bad = out.setdefault((t.scenario, t.label), ([], []))
        if not t.ok:
            bad.append(t.status)
            continue
        v = t.metric(key)
        if v is not None and math.isfinite(v):
            values.append(float(v))
    return out


#: Scenario fields that change what is measured (description, repeats, etc. do not).
_IGNORED_FIELDS = {"description", "repeats", "warmup", "timeout", "strategies"}


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def scenario_mismatches(base: Run, cur: Run, names: set[str]) -> list[str]:
    out = []
    for name in sorted(names):
        a, b = base.definition(name), cur.definition(name)
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


def machine_facts(fp: Fingerprint | None) -> dict[str, object]:
    """The fingerprint's :data:`FINGERPRINT_FIELDS` by their key (None: not recorded)."""
    if fp is None:
        return {}
    return {
        "os": fp.os,
        "arch": fp.arch,
        "cpu_model": fp.cpu_model,
        "logical_cores": fp.logical_cores,
        "usable_cores": fp.usable_cores,
        "python.implementation": fp.python_implementation,
        "python.version": fp.python_version,
        "python.gil_enabled": fp.gil_enabled,
        "start_method": fp.start_method,
    }


def fingerprint_mismatches(base: Run, cur: Run) -> list[str]:
    fa, fb = machine_facts(base.fingerprint), machine_facts(cur.fingerprint)
    return [
        f"different {label}: {fa.get(key)!r} → {fb.get(key)!r}"
        for key, label in FINGERPRINT_FIELDS
        if fa.get(key) != fb.get(key)
    ]


def _notes(base: Run, cur: Run) -> list[str]:
    notes = []
    for side, run in (("baseline", base), ("current", cur)):
        if run.status != "complete":
            notes.append(f"the {side} run is {run.status!r}, not complete: some pairs may be missing")
    oa, ob = dict(base.strategy_options), dict(cur.strategy_options)
    if oa != ob:
        notes.append(f"strategy options differ: {oa} → {ob}")
    return notes


#: The metric compared when none is named: items/s over the total window, as ``run`` and ``show`` rank by.
DEFAULT_METRIC = "throughput_total"


def compare(
    base: Run,
    cur: Run,
    metric_name: str = DEFAULT_METRIC,
    max_regression: float = 0.10,
    alpha: float = 0.01,
    same_session: bool = False,
) -> Report:
    """Compare two stored runs (see :func:`harness.rundir.store.read_run`).

    ``same_session``: both sides were measured in one run, interleaved (``ab``): the drift
    guard, which is for runs made at different times, does not apply."""
    m = metric(metric_name)
    check_alpha(alpha)
    measured = [t for r in (base, cur) for t in r.measured]
    older = m.key == "throughput_total" and not any(t.metric(m.key) is not None for t in measured)
    if older:  # runs recorded before trials measured a total: the makespan is all they have
        m = metric("throughput")
    for side, run in (("baseline", base), ("current", cur)):
        if run.ab is not None:  # its pairs hold two sides' trials: mixing them would judge nothing
            raise CompareError(f"the {side} is an ab run (sides A and B in one run): `queuebench ab` gave its verdicts")
    report = Report(m, max_regression, alpha)
    if older:
        report.notes.append("neither run measured the total window (both are older): compared over the makespan")
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
    pending: list[tuple[Row, Stats]] = []
    for key in common:
        row, stats = _row(key, sa[key], sb[key], m, alpha)
        if stats is None:
            report.rows.append(row)
        else:
            pending.append((row, stats))
    report.family = len(pending)
    report.rows += verdicts.family_rows(pending, max_regression, alpha)
    # What a pair that moved alone must reach (Holm's first step); a pair with too few repeats
    # would join the family once it had enough.
    level = alpha / max(report.family, 1)
    later = alpha / max(report.family + len(report.too_few), 1)
    report.rows = [
        sensitivity.annotate(r, later if r.verdict is Verdict.TOO_FEW else level, max_regression) for r in report.rows
    ]
    if not same_session:
        report.drift = drift.signals(base, cur, max_regression)
        report.notes += drift.units_mismatch(base, cur, max_regression)
    if report.drift:  # a verdict that the machine's own change can explain is not given
        moved = "; ".join(report.drift)
        report.rows = [
            dataclasses.replace(
                r, verdict=Verdict.MACHINE_CHANGED, reason=f"{r.reason}; but the machine changed: {moved}"
            )
            if r.verdict in (Verdict.SLOWER, Verdict.FASTER)
            else r
            for r in report.rows
        ]
    order = {key: i for i, key in enumerate(common)}
    report.rows.sort(key=lambda r: order[(r.scenario, r.strategy)])
    return report


def _names(pairs: dict[tuple[str, str], Any]) -> str:
    return ", ".join(f"{s}/{t}" for s, t in sorted(pairs))


def _row(
    key: tuple[str, str],
    base: tuple[list[float], list[str]],
    cur: tuple[list[float], list[str]],
    m: Metric,
    alpha: float,
) -> tuple[Row, Stats | None]:
    """The pair's row: final when it cannot be tested (broken, too few repeats, values <= 0),
    else a row to be judged with the family, and its statistics."""
    (bv, bbad), (cv, cbad) = base, cur
    med_b = statistics.median(bv) if bv else math.nan
    med_c = statistics.median(cv) if cv else math.nan
    nan = math.nan

    sigma = sensitivity.noise(bv, cv)

    def final(ratio: float, verdict: Verdict, why: str) -> tuple[Row, None]:
        return Row(*key, len(bv), len(cv), med_b, med_c, ratio, nan, nan, nan, verdict, why, noise=sigma), None

    ratio = verdicts.median_ratio(med_b, med_c)
    if cbad:
        statuses = ", ".join(sorted(set(cbad)))
        new = sorted(set(cbad) - set(bbad))
        if bbad and not new:  # broken the same way before this change: not a regression
            why = f"{len(cbad)} current trial(s) did not pass ({statuses}), as {len(bbad)} did in the baseline"
            return final(ratio, Verdict.BROKEN_BOTH, why)
        why = f"{len(cbad)} current trial(s) did not pass: {statuses}"
        if bbad:
            why += f" (new: {', '.join(new)}; the baseline had {', '.join(sorted(set(bbad)))})"
        return final(ratio, Verdict.BROKEN, why)
    if any(v <= 0 for v in bv + cv):
        return final(nan, Verdict.INCONCLUSIVE, f"{m.key} has zero or negative values: ratios are meaningless")
    stats = verdicts.measure(bv, cv, m, alpha)
    if stats is None:
        return final(ratio, Verdict.TOO_FEW, verdicts.too_few_reason(len(bv), len(cv), alpha))
    extra = f" (baseline: {len(bbad)} trial(s) did not pass and were left out)" if bbad else ""
    pending = Row(
        *key,
        len(bv),
        len(cv),
        med_b,
        med_c,
        stats.ratio,
        stats.ci_low,
        stats.ci_high,
        nan,
        Verdict.INCONCLUSIVE,
        extra,
        noise=sigma,
    )
    return pending, stats


def same_run(base_dir: Path, cur_dir: Path, base: Run, cur: Run) -> str | None:
    """A warning when both sides are one run (the same directory, or a copy of it such as a
    baseline saved from it): such a comparison shows no change whatever the code does."""
    if Path(base_dir).resolve() == Path(cur_dir).resolve():
        return f"both sides are the same run ({cur_dir}): a run compared with itself shows no change"
    if base.started_at == cur.started_at and [t.raw for t in base.trials] == [t.raw for t in cur.trials]:
        return (
            f"both sides hold the same run (identical trials, started {cur.started_at}; "
            "e.g. a baseline saved from it): a run compared with itself shows no change"
        )
    return None
