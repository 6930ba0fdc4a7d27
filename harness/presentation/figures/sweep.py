"""The sweep figure: throughput and p99 latency against the swept parameter, per strategy.

Top panel: median throughput per strategy (min–max over repeats as a band), the
ideal bound (items / ideal makespan) dashed grey, each strategy's best value starred
and its knee ringed; a vertical line marks each knee, labelled with every strategy
whose knee it is, and a best value at the end of the swept range says that the
optimum may lie beyond it. Where the Universal Scalability Law fits a strategy's line
(:mod:`harness.sweeps.usl`), its curve is drawn dotted in the strategy's colour, with N* and its
interval as a bar at the curve's height. The legend sits below the panels, across the width. Bottom
panel: median p99 end-to-end latency (log scale). Points where a trial did not pass
are drawn as red crosses, never joined into a line. Drawn on a bare ``Figure``
(no pyplot, no GUI backend), in the report's style and strategy colours.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from harness.presentation.figures.style import FAIL_COLOUR, readable_log_axis, save, strategy_colour, style
from harness.presentation.numbers import ms, si
from harness.rundir.model import Run
from harness.sweeps.findings import KNEE, Finding, group_params
from harness.sweeps.usl import Fit, fits

LINESTYLES = ("-", "--", ":", "-.")


def figure(run: Run, frame: pd.DataFrame, found: list[Finding], fitted: list[Fit] | None = None) -> Figure:
    sweep = run.swept
    if fitted is None:
        fitted = fits(run, found, str(frame["rank_by"].iloc[0])) if not frame.empty else []
    curves = {f.label: f for f in fitted if f.fitted}
    param, values = sweep.param, list(sweep.values)
    groups = group_params(run)
    with style():
        fig = Figure(figsize=(9.5, 7.0), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        logx = min(values) > 0 and max(values) / min(values) >= 50
        group_keys = list(dict.fromkeys(tuple(r) for r in frame[groups].itertuples(index=False))) if groups else [()]
        by_label = {f.label: f for f in found}
        for key, g in frame.groupby([*groups, "strategy"], sort=False):
            keys = key if isinstance(key, tuple) else (key,)
            strategy, gvals = str(keys[-1]), tuple(keys[:-1])
            colour = strategy_colour(strategy)
            ls = LINESTYLES[group_keys.index(gvals) % len(LINESTYLES)] if groups else "-"
            label = Finding(strategy, dict(zip(groups, gvals, strict=True)), param, 0, 0, 0, 0).label
            g = g.sort_values(param)
            ok = g["status"] == "ok"
            x = g[param].to_numpy(float)
            thr = g["throughput"].where(ok).to_numpy(float)
            p99 = g["e2e_p99_ms"].where(ok).to_numpy(float)
            f = by_label.get(label)
            if f is not None and f.pool_independent:  # one point, the same at every pool size: a level
                top.axhline(f.best_throughput, color=colour, ls=(0, (6, 3)), lw=1.2, zorder=1)
                label += f" (no pool: at {param} = {f.best})"
            top.plot(x, thr, ls, color=colour, marker="o", ms=4, lw=1.6, label=label)
            top.fill_between(
                x,
                g["throughput_min"].where(ok).to_numpy(float),
                g["throughput_max"].where(ok).to_numpy(float),
                color=colour,
                alpha=0.12,
                lw=0,
            )
            bottom.plot(x, p99, ls, color=colour, marker="o", ms=4, lw=1.6)
            if (fit := curves.get(label)) is not None:  # the USL curve, and N* with its interval at its height
                import numpy as np

                grid = np.linspace(min(values), max(values), 200)
                top.plot(grid, fit.curve(grid), color=colour, lw=1.0, ls=(0, (1, 1.5)), alpha=0.9, zorder=2)
                at = float(fit.curve(np.array([fit.peak]))[0])
                high = min(fit.high, max(values) * 1.5) - fit.peak
                top.errorbar(
                    [fit.peak], [at], xerr=[[fit.peak - fit.low], [high]], fmt="|", color=colour, capsize=3, lw=1
                )
            bad = g[~ok]
            if len(bad):
                top.plot(bad[param], bad["throughput"].fillna(0), "x", color=FAIL_COLOUR, ms=8, mew=2)
            if f is not None and not f.flat and not f.pool_independent:  # a flat "best" is noise: no star
                clear = f.tie_with is None  # hollow: not distinguishable from the next best value
                face = colour if clear else "white"
                top.plot(
                    [f.best], [f.best_throughput], "*", color=colour, mfc=face, ms=15, mec="black", mew=0.6, zorder=5
                )
            if f is not None and not f.pool_independent:
                top.plot([f.knee], [f.knee_throughput], "o", mfc="none", mec=colour, ms=14, mew=2, zorder=5)
        ideal = frame.drop_duplicates(param).sort_values(param)
        if ideal["ideal_throughput"].notna().any():
            top.plot(
                ideal[param],
                ideal["ideal_throughput"],
                "--",
                color="#9A9A9A",
                lw=1.2,
                label="ideal bound (items / ideal makespan)",
                zorder=1,
            )
        knees: dict[int, list[str]] = {}
        for f in found:
            if not f.pool_independent:
                knees.setdefault(f.knee, []).append(f.label)
        edge = {values[0]: "left", values[-1]: "right"}  # keep the labels inside the axes
        for row, (knee, labels) in enumerate(sorted(knees.items())):
            for ax in (top, bottom):
                ax.axvline(knee, color="#444444", lw=1, ls=":", zorder=0)
            top.text(
                knee,
                0.04 + 0.08 * row,
                f" knee {param} = {knee}: {', '.join(labels)} ",
                transform=top.get_xaxis_transform(),
                ha=edge.get(knee, "center") if len(values) > 1 else "center",
                va="bottom",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#444444", "lw": 0.6},
                zorder=6,
            )
        at_edge = [f.label for f in found if not f.flat and len(values) > 1 and f.best == values[-1]]
        if at_edge:  # above the panel, right: never over a curve or the legend
            top.set_title(
                f"best at the largest {param} swept ({', '.join(at_edge)}):\nthe optimum may lie beyond {values[-1]}",
                loc="right",
                fontsize=8,
                color=FAIL_COLOUR,
            )
        capacity = _capacity(run)
        title = f"{sweep.scenario}: throughput vs {param}"
        if capacity is not None and param == "readers":
            title += f" (service capacity {capacity})"
        top.set_title(title, loc="left")
        top.set_ylabel("items/s (median; band = min–max)")
        top.yaxis.set_major_formatter(lambda v, _pos: si(v))
        top.set_ylim(bottom=0)
        bottom.set_ylabel("p99 end-to-end latency, ms")
        p99s = frame["e2e_p99_ms"].where(frame["status"] == "ok")
        p99s = p99s[p99s > 0]
        log_p99 = bool(len(p99s)) and p99s.max() / p99s.min() >= 20  # log only for a wide range (and with data)
        if log_p99:
            bottom.set_yscale("log")
        else:
            bottom.set_ylim(bottom=0)
        bottom.yaxis.set_major_formatter(lambda v, _pos: ms(v))
        bottom.set_xlabel(param)
        for ax in (top, bottom):
            if logx:
                ax.set_xscale("log")
                ax.minorticks_off()
            ax.set_xticks(values)
            ax.set_xticklabels([si(v) if logx else str(v) for v in values])
        top.plot([], [], "*", color="#777777", mec="black", ms=12, ls="none", label="best")
        if any(f.tie_with is not None and not f.flat for f in found):
            top.plot(
                [], [], "*", mfc="white", mec="black", ms=12, ls="none", label="best, not distinguishable from the next"
            )
        top.plot([], [], "o", mfc="none", mec="#777777", mew=2, ms=12, ls="none", label=f"knee (>= {KNEE:.0%} of best)")
        if curves:
            top.plot([], [], color="#777777", lw=1.0, ls=(0, (1, 1.5)), label="USL fit, |—| its N* (95%)")
        if (frame["status"] != "ok").any():
            top.plot([], [], "x", color=FAIL_COLOUR, ms=8, mew=2, ls="none", label="a trial did not pass")
        if log_p99:  # after the x ticks: limits are final, at least three labelled ticks
            readable_log_axis(bottom, "y", fmt=ms)
        # Below the panels, in columns across the width: no white column beside the axes, and never
        # over a curve or a knee label.
        handles, labels = top.get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=7.5, loc="outside lower center", ncols=min(4, len(labels)))
    return fig


def _capacity(run: Run) -> int | None:
    name = run.swept.scenario
    for sc in run.scenarios.values():
        work = sc.definition.get("reader_work", {})
        if work.get("kind") == "service" and sc.definition.get("name", "").startswith(name):
            cap = work.get("capacity")
            return int(cap) if cap is not None and not math.isnan(cap) else None
    return None


def write(run: Run, frame: pd.DataFrame, found: list[Finding], path: Path, fitted: list[Fit] | None = None) -> Path:
    return save(figure(run, frame, found, fitted), path)
