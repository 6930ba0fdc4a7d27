"""The dashboard's sweeps: each sweep's lines as ``sweep`` reports them (median items/s of the
passing repeats, over the window ``sweep`` ranks by, per strategy at each value), the knee
marked, and, where the Universal Scalability Law fits a line over the pool size, its curve
dotted in the line's colour with N* and its interval on hover; where the law does not fit, the
plain words ``sweep`` prints instead of a number (harness.sweeps.usl)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from harness.analysis.summary import DEFAULT_RANK_BY
from harness.presentation.dashboard.svg import Line, Mark, Span, chart
from harness.presentation.numbers import json_number
from harness.rundir.model import Run
from harness.sweeps import findings as sweep
from harness.sweeps.usl import LEVEL, Fit, bound, fits

#: Points of a fitted curve drawn between the smallest and the largest value swept.
CURVE_POINTS = 60


def _usl_data(fit: Fit) -> dict[str, Any]:
    if not fit.fitted:
        return {"refusal": fit.refusal}
    return {
        "peak": json_number(fit.peak),
        "interval": [json_number(fit.low), json_number(fit.high)],  # null high: the law's curve may never turn down
        "level": LEVEL,
        "lambda": fit.lam,
        "sigma": fit.sigma,
        "kappa": fit.kappa,
        "rms": fit.rms,
    }


def _curve(fit: Fit, label: str, lo: float, hi: float, colour: int) -> Line:
    grid = np.linspace(lo, hi, CURVE_POINTS)
    return Line(f"{label} USL", tuple(map(float, grid)), tuple(map(float, fit.curve(grid))), (), colour, dotted=True)


def one(path: Path, run: Run) -> tuple[str, list[dict[str, Any]]]:
    """One sweep run's heading and chart (a line saying so when nothing passed) and its data rows,
    one per line."""
    frame = sweep.results(run, DEFAULT_RANK_BY)
    found = sweep.findings(run, frame)
    fitted = {f.label: f for f in fits(run, found, DEFAULT_RANK_BY)}
    param = run.swept.param
    groups = sweep.group_params(run)
    lines: list[Line] = []
    marks: list[Mark] = []
    spans: list[Span] = []
    words: list[str] = []
    data: list[dict[str, Any]] = []
    for colour, f in enumerate(found):
        rows = frame[(frame["strategy"] == f.strategy) & (frame["status"] == "ok") & frame["throughput"].notna()]
        for k, v in f.group.items():
            rows = rows[rows[k] == v]
        rows = rows.sort_values(param)
        xs = tuple(float(x) for x in rows[param])
        ys = tuple(float(y) for y in rows["throughput"])
        tips = tuple(f"{f.label} {param}={x:g}: {y:.4g} items/s" for x, y in zip(xs, ys, strict=True))
        lines.append(Line(f.label, xs, ys, tips, colour))
        row: dict[str, Any] = {"run": path.name, "strategy": f.strategy, "group": f.group, "param": param}
        row |= {"x": xs, "throughput": ys, "best": f.best, "pool_independent": f.pool_independent}
        if not f.pool_independent:
            row["knee"] = f.knee
            tip = f"{f.label}: knee {param}={f.knee:g} (≥ {sweep.KNEE:.0%} of its best)"
            marks.append(Mark(f.knee, tip, colour))  # in its line's colour: whose knee it is
        fit = fitted.get(f.label)
        if fit is not None:
            row["usl"] = _usl_data(fit)
            words.append(fit.line())
            if fit.fitted and len(xs) > 1:
                lines.append(_curve(fit, f.label, min(xs), max(xs), colour))
                at = float(fit.curve(np.array([fit.peak]))[0])
                within = f"[{fit.low:.1f}, {bound(fit.high)}] ({LEVEL:.0%})"
                tip = f"{f.label}: USL peak N* = {fit.peak:.1f} {param} {within}"
                spans.append(Span(fit.peak, fit.low, fit.high, at, colour, tip))
        data.append(row)
    head = f"<h3>{html.escape(path.name)}: {html.escape(run.swept.scenario)} over {html.escape(param)}</h3>"
    if not lines:
        return head + "<p>No point of this sweep passed.</p>", data
    title = f"sweep {run.swept.scenario}" + (f" (lines per {', '.join(groups)})" if groups else "")
    ticks = sorted({float(v) for v in run.swept.values})
    svg = chart(lines, title, marks, param, "chart sweep", "knee", ticks, spans)
    notes = "".join(f'<li class="usl">{html.escape(w)}</li>' for w in words)
    return head + svg + (f"<ul>{notes}</ul>" if notes else ""), data


def section(runs: list[tuple[Path, Run]]) -> tuple[str, list[dict[str, Any]]]:
    """Every sweep among ``runs``: the page's HTML and data.json's rows."""
    out: list[str] = []
    data: list[dict[str, Any]] = []
    for path, run in runs:
        if run.sweep is None:
            continue
        page, rows = one(path, run)
        out.append(page)
        data += rows
    return "".join(out) or "<p>No sweep among these runs.</p>", data
