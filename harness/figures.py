"""The figures of a whole run, from run.json alone (no per-item samples needed).

a. :func:`throughput_figure` — throughput per strategy per scenario, every repeat shown.
d. :func:`efficiency_figure` — efficiency against the ideal makespan, and CPU parallelism.

The per-item figures (b, latency; c, concurrency) are in :mod:`harness.sample_figures`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from harness.figure_style import FAIL_COLOUR, LIMIT_COLOUR, panel_grid, strategy_colour, style, titled, value_axis
from harness.render import si, workload_line
from harness.summary import ranked, scenarios_of, summarize, trials_frame


def throughput_figure(doc: dict[str, Any]) -> Figure:
    """(a) One panel per scenario: a dot per repeat, a bar at the median, best on top."""
    summary, trials = summarize(doc), trials_frame(doc)
    names = scenarios_of(doc)
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
                star = "★ " if rows.loc[name, "rank"] == 1 else ""
                status = rows.loc[name, "status"]
                tail = si(med) + "/s" if status == "ok" else status
                labels.append(f"{star}{name}  {tail}")
            ax.set_yticks(range(len(order)), labels)
            ax.set_ylim(len(order) - 0.5, -0.5)  # best at the top
            ax.grid(axis="y", visible=False)
            value_axis(ax, list(mine["throughput"].dropna()), "items per second")
            if mine["throughput"].dropna().empty:
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
            titled(ax, scenario, workload_line(doc["scenarios"][scenario]["definition"]))
        handles = [
            Line2D([], [], color="#555555", marker="o", ls="none", ms=5, label="one repeat"),
            Line2D([], [], color="#555555", marker="|", ls="none", ms=12, mew=2.4, label="median"),
            Line2D([], [], color=FAIL_COLOUR, marker="x", ls="none", ms=6, label="a trial that did not pass"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        fig.suptitle("Throughput per strategy (★ best)")
    return fig


def _bars(ax: Axes, order: list[str], mine: pd.DataFrame, column: str) -> list[float]:
    values: list[float] = []
    for y, name in enumerate(order):
        t = mine[mine["strategy"] == name][column].dropna()
        values.extend(t)
        if len(t):
            ax.barh(y, float(t.median()), color=strategy_colour(name), alpha=0.75, height=0.62)
            ax.scatter(t, [y] * len(t), s=9, color="black", zorder=3)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    return values


def efficiency_figure(doc: dict[str, Any]) -> Figure:
    """(d) Per scenario: efficiency (ideal / measured makespan) and CPU parallelism."""
    summary, trials = summarize(doc), trials_frame(doc)
    names = scenarios_of(doc)
    fp = doc["fingerprint"]
    machine = float(fp.get("effective_parallelism") or math.nan)
    cores = float(fp.get("usable_cores") or fp.get("logical_cores") or math.nan)
    height = max(len(ranked(summary, s)) for s in names) * 0.26 + 1.2
    above = False
    with style():
        fig = Figure(figsize=(11, height * len(names) + 1.2), layout="constrained")
        grid = fig.subplots(len(names), 2, squeeze=False)
        for (eff_ax, cpu_ax), scenario in zip(grid, names, strict=True):
            order = ranked(summary, scenario)
            mine = trials[trials["scenario"] == scenario]
            eff = _bars(eff_ax, order, mine, "efficiency")
            passed = mine[mine["status"] == "ok"]["efficiency"].dropna()
            above = above or bool((passed > 1.05).any())
            eff_ax.set_xlim(0, max([1.05, *(v * 1.05 for v in eff)]))
            eff_ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            eff_ax.axvline(1.0, color="#333333", ls="--", lw=1)
            if not eff:
                eff_ax.text(
                    0.5,
                    0.5,
                    "no ideal makespan: the scenario has no work",
                    ha="center",
                    va="center",
                    transform=eff_ax.transAxes,
                    color="#555555",
                )
            titled(eff_ax, f"{scenario}: efficiency", workload_line(doc["scenarios"][scenario]["definition"]))
            cpu = _bars(cpu_ax, order, mine, "cpu_parallelism")
            finite = [v for v in (machine, cores) if math.isfinite(v)]
            cpu_ax.set_xlim(0, max([1.1, *(v * 1.08 for v in finite + cpu)]))
            cpu_ax.tick_params(axis="y", labelleft=False)
            if math.isfinite(machine):
                cpu_ax.axvline(machine, color=LIMIT_COLOUR, ls="--", lw=1.2)
            if math.isfinite(cores):
                cpu_ax.axvline(cores, color="#555555", ls=":", lw=1.2)
            titled(cpu_ax, f"{scenario}: CPU parallelism", "CPU seconds of the process tree ÷ wall seconds")
        grid[-1][0].set_xlabel("ideal makespan ÷ measured makespan (higher is better)")
        grid[-1][1].set_xlabel("cores kept busy")
        handles = [
            Line2D([], [], color="#333333", ls="--", label="ideal makespan (100%)"),
            Line2D([], [], color=LIMIT_COLOUR, ls="--", label=f"parallelism measured at the start ({machine:g})"),
            Line2D([], [], color="#555555", ls=":", label=f"usable cores ({cores:g})"),
        ]
        load = " ".join(str(x) for x in fp.get("load_average") or []) or "unknown"
        note = (
            "A passing trial above 100%: cpu work is calibrated once per run (a few % of noise).\n"
            f"Load average at the start: {load}. Compare strategies with each other, not with 100%."
        )
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=3, title=note if above else None)
        legend.get_title().set_color(FAIL_COLOUR)
        legend.get_title().set_fontsize(8)
        fig.suptitle("Efficiency against the ideal makespan, and CPU parallelism (bar: median, dots: repeats)")
    return fig
