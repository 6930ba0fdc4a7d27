"""The figures of a whole run, from run.json alone (no per-item samples needed).

a. :func:`throughput_figure` — throughput per strategy per scenario, every repeat shown.
d. :func:`efficiency_figure` — efficiency against the ideal makespan (over the ranked window), and CPU parallelism,
   as two scenario x strategy matrices (compact for a whole suite).

The per-item figures (b, latency; c, concurrency) are in :mod:`harness.presentation.figures.samples`.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harness.analysis.summary import DEFAULT_RANK_BY, RANK_BY, ranked, scenarios_of, summarize, trials_frame
from harness.analysis.trust import busy_reasons, run_warning
from harness.presentation.facts import workload_line
from harness.presentation.figures.style import FAIL_COLOUR, panel_grid, strategy_colour, style, titled, value_axis
from harness.presentation.numbers import si
from harness.rundir.model import Run


def throughput_figure(run: Run, rank_by: str = DEFAULT_RANK_BY) -> Figure:
    """(a) One panel per scenario: a dot per repeat, a bar at the median, best on top; ★ a clear winner,
    "tie" the strategies not distinguishable from the best. Items/s over the ``rank_by`` window."""
    summary, trials = summarize(run, rank_by), trials_frame(run)
    used = str(summary["rank_by"].iloc[0])
    trials["throughput"] = trials[RANK_BY[used]] if RANK_BY[used] in trials else float("nan")
    names = scenarios_of(run)
    height = max(len(ranked(summary, s)) for s in names) * 0.34 + 1.2
    with style():
        fig, axes = panel_grid(len(names), 2, height, 6.2 if len(names) > 1 else 7.5)
        for ax, scenario in zip(axes, names, strict=True):
            order = ranked(summary, scenario)
            rows = summary[summary["scenario"] == scenario].set_index("strategy")
            mine = trials[trials["scenario"] == scenario]
            labels = []
            for y, name in enumerate(order):
                colour = strategy_colour(name)
                t = mine[mine["strategy"] == name]
                ok = t[t["status"] == "ok"]["throughput"].dropna()
                bad = t[t["status"] != "ok"]["throughput"].dropna()
                med = rows.loc[name, "throughput"]
                if len(ok) + len(bad):
                    lo, hi = min([*ok, *bad]), max([*ok, *bad])
                    ax.plot([lo, hi], [y, y], color=colour, lw=2.2, alpha=0.35, solid_capstyle="round")
                ax.scatter(ok, [y] * len(ok), s=22, color=colour, zorder=3, label=name)
                ax.scatter(bad, [y] * len(bad), s=30, marker="x", color=FAIL_COLOUR, zorder=4)
                if math.isfinite(med):
                    ax.plot([med], [y], marker="|", ms=16, mew=2.4, color=colour, zorder=5)
                star = {"best": "★ ", "tie": "tie · "}.get(rows.loc[name, "verdict"], "")
                status = rows.loc[name, "status"]
                tail = si(med) + "/s" if status == "ok" else status
                labels.append(f"{star}{name}  {tail}")
            ax.set_yticks(range(len(order)), labels)
            ax.set_ylim(len(order) - 0.5, -0.5)  # best at the top
            ax.grid(axis="y", visible=False)
            value_axis(ax, list(mine["throughput"].dropna()), f"items per second over the {used} window")
            if (mine["status"] != "ok").all():
                statuses = set(mine["status"])
                how = "every trial timed out" if statuses == {"timeout"} else "no throughput measured"
                ax.set_xticks([])
                ax.text(
                    0.5,
                    0.5,
                    f"no passing trial ({how})",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color=FAIL_COLOUR,
                    fontsize=10,
                    bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": FAIL_COLOUR, "lw": 0.8},
                )
            titled(ax, scenario, workload_line(run.scenarios[scenario].definition))
        handles = [
            Line2D([], [], color="#555555", marker="o", ls="none", ms=5, label="one repeat"),
            Line2D([], [], color="#555555", marker="|", ls="none", ms=12, mew=2.4, label="median"),
            Line2D([], [], color=FAIL_COLOUR, marker="x", ls="none", ms=6, label="a trial that did not pass"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        fig.suptitle(
            f"Throughput per strategy, {used} window\n"
            "★ clear winner over the repeats · tie: not distinguishable from the best"
        )
    return fig


def _matrix(ax: Axes, summary: pd.DataFrame, names: list[str], column: str, fmt: str, vmax: float) -> None:
    """Scenarios (rows) x strategies (columns): the passing repeats' median in each cell, shaded."""
    strategies = list(dict.fromkeys(s for n in names for s in ranked(summary, n)))
    grid = np.full((len(names), len(strategies)), np.nan)
    for i, scenario in enumerate(names):
        rows = summary[summary["scenario"] == scenario].set_index("strategy")
        for j, name in enumerate(strategies):
            if name not in rows.index:
                continue
            value = float(rows.loc[name, column])
            grid[i, j] = value
            failed = int(rows.loc[name, "failed"])
            text = "—" if not math.isfinite(value) else fmt.format(value)
            if failed:
                text += f"\n{failed} failed"
            dark = math.isfinite(value) and value / vmax > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.imshow(np.ma.masked_invalid(grid), cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(strategies)), strategies, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.grid(visible=False)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


def efficiency_figure(run: Run, rank_by: str = DEFAULT_RANK_BY) -> Figure:
    """(d) Scenarios x strategies: efficiency (the ideal makespan ÷ the measured ``rank_by`` window,
    the window the summary ranks by) and CPU parallelism over the total window, medians of the
    passing repeats; a busy machine is said in red at the top."""
    summary = summarize(run, rank_by)
    used = str(summary["rank_by"].iloc[0]) if len(summary) else rank_by
    names = scenarios_of(run)
    fp = run.machine
    cores = float(fp.usable_cores or fp.logical_cores or math.nan)
    width = len(set(summary["strategy"]))
    busy = run_warning(run)
    with style():
        fig = Figure(
            figsize=(max(11.0, 2.5 + 1.5 * width), 0.4 * len(names) + 1.7 + (0.4 if busy else 0)), layout="constrained"
        )
        eff_ax, cpu_ax = fig.subplots(1, 2)
        _matrix(eff_ax, summary, names, "efficiency", "{:.0%}", 1.0)
        eff_ax.set_title(f"efficiency over the {used} window (ideal makespan ÷ measured {used})", loc="left")
        _matrix(cpu_ax, summary, names, "cpu_parallelism", "{:.2f}", cores if math.isfinite(cores) else 1.0)
        cpu_ax.set_title(f"cpu∥: cores busy over the total window (of {cores:g})", loc="left")
        cpu_ax.tick_params(axis="y", labelleft=False)
        for ax in (eff_ax, cpu_ax):
            ax.set_xlabel("strategy")
        fig.suptitle("Efficiency and CPU parallelism per scenario and strategy (medians of passing repeats)")
        if busy:
            reasons = "; ".join(busy_reasons(fp.effective_parallelism, fp.usable_cores, fp.load_average))
            note = (
                f"The machine was busy ({reasons}): other work took CPU, so efficiencies are low for reasons "
                "outside the strategies. Compare strategies with each other here; close other work and rerun "
                "to trust the level."
            )
            fig.supxlabel(textwrap.fill(note, 140), color=FAIL_COLOUR, fontsize=8.5)
    return fig
