"""A comparison as machine-readable JSON (``compare --json FILE``, ``ab --json FILE``).

One object: what was compared and how (metric, threshold, alpha, the family size of Holm's
adjustment), the exit code and headline the command gave, the notes and warnings, and one
entry per pair with its ratio, interval, p, adjusted p, verdict and reason, and what the pair
could have seen: its minimum detectable effect and, unjudged, the repeats that would judge it. Numbers that do
not exist (no interval with too few repeats) are ``null``, never NaN, so any JSON reader
takes the file.
"""

from __future__ import annotations

import json
import math
from typing import Any

from harness.gate import sensitivity
from harness.gate.verdicts import Report

#: Bumped when a field changes meaning or goes away.
SCHEMA_VERSION = 1


def _num(v: float) -> float | None:
    return v if math.isfinite(v) else None


def document(report: Report, baseline: str, current: str, exit_code: int, headline: str) -> dict[str, Any]:
    m = report.metric
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "queuebench compare",
        "baseline": baseline,
        "current": current,
        "metric": {"key": m.key, "higher_is_better": m.higher_is_better, "label": m.label},
        "max_regression": report.max_regression,
        "threshold_factor": 1 + report.max_regression,
        "alpha": report.alpha,  # the level each verdict was tested at
        "alpha_overall": report.alpha * report.looks,  # over every look (ab --repeat auto), else the same
        "interval_level": 1 - 2 * report.alpha,
        "mde_power": sensitivity.POWER,
        "mde_alpha": report.alpha / max(report.family, 1),
        "adjustment": {"method": "holm", "family": report.family, "looks": report.looks},
        "exit_code": exit_code,
        "headline": headline,
        "counts": {v.value: report.count(v) for v in {r.verdict for r in report.rows}},
        "mismatches": report.mismatches,
        "warnings": report.warnings,
        "notes": report.notes,
        "drift": report.drift,
        "pairs": [
            {
                "scenario": r.scenario,
                "strategy": r.strategy,
                "n_baseline": r.n_base,
                "n_current": r.n_cur,
                "baseline_median": _num(r.base_median),
                "current_median": _num(r.cur_median),
                "ratio": _num(r.ratio),
                "interval": [_num(r.ci_low), _num(r.ci_high)] if math.isfinite(r.ci_low) else None,
                "p": _num(r.p_value),
                "p_adjusted": _num(r.p_adjusted),
                "verdict": r.verdict.value,
                "reason": r.reason,
                # the smallest slowdown (0.23 = 23%) this pair would have been called slower at, with
                # probability mde_power; null when unknown or when no change could be seen (mde_detectable)
                "mde": _num(r.mde),
                "mde_detectable": not math.isinf(r.mde),
                "noise": _num(r.noise),  # pooled spread of the log values
                "repeats_needed": r.repeats_needed or None,  # unjudged: repeats a side to judge the threshold
            }
            for r in report.rows
        ],
    }


def dumps(report: Report, baseline: str, current: str, exit_code: int, headline: str) -> str:
    return json.dumps(document(report, baseline, current, exit_code, headline), indent=1, allow_nan=False) + "\n"
