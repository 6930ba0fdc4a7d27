"""The figures of one run (matplotlib, no pyplot: every figure is a plain ``Figure``).

a. :func:`throughput_figure` — throughput per strategy per scenario, every repeat shown.
b. :func:`latency_figure` — ECDFs of queue wait, service and end-to-end latency, log axis.
c. :func:`concurrency_figure` — busy readers over time per strategy, the pool limit drawn.
d. :func:`efficiency_figure` — efficiency against the ideal makespan, and CPU parallelism.

:func:`strategy_colour` gives every strategy one colour in every figure of every run.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogFormatter, MaxNLocator, NullFormatter, PercentFormatter

from harness import metrics, store
from harness.render import si
from harness.summary import summarize, trials_frame

# Okabe-Ito (colour-blind safe) for the shipped strategies: process family warm, threads
# blue, asyncio green, sequential grey. Anything else gets a stable colour from its name.
_COLOURS = {
    "seed-pool": "#D55E00",
    "manager-pool": "#E69F00",
    "mp-queue": "#CC79A7",
    "process-pool": "#8C564B",
    "threads": "#0072B2",
    "asyncio": "#009E73",
    "sequential": "#7F7F7F",
}
_SPARE = ("#56B4E9", "#9467BD", "#BCBD22", "#17BECF", "#1F3A93", "#E377C2", "#2CA02C", "#A52A2A", "#6B6ECF")
FAIL_COLOUR = "#C00000"
LIMIT_COLOUR = "#C00000"
STYLE: dict[Any, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "figure.facecolor": "white",
}
DPI = 110


def strategy_colour(name: str) -> str:
    """The colour of a strategy, the same in every figure and every run (a hex string)."""
    if name in _COLOURS:
        return _COLOURS[name]
    return _SPARE[zlib.crc32(name.encode()) % len(_SPARE)]


@contextmanager
def style() -> Iterator[None]:
    """queuebench's figure style, without touching matplotlib's global settings."""
    with mpl.rc_context(STYLE):
        yield


def save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


def scenarios_of(doc: dict[str, Any]) -> list[str]:
    """Scenarios with measured trials, in run order."""
    seen = {t["scenario"] for t in doc["trials"] if not t.get("warmup")}
    return [name for name in doc["scenarios"] if name in seen]


def ranked(summary: pd.DataFrame, scenario: str) -> list[str]:
    """Strategies of a scenario, best first; strategies without a rank (failed) last, in run order."""
    rows = summary[summary["scenario"] == scenario]
    return list(rows.sort_values("rank", kind="stable", na_position="last")["strategy"])


def workload_line(definition: dict[str, Any]) -> str:
    """'10 writers x 10 items -> pool of 3 · write io 5 ms · read io 6 ms' from a definition."""

    def work(side: str, spec: dict[str, Any]) -> str:
        kind = spec.get("kind", "none")
        if kind == "none":
            return f"{side}: no work"
        gil = f", GIL {spec.get('gil')}" if kind == "cpu" else ""
        return f"{side}: {kind} {spec.get('ms', 0):g} ms{gil}"

    d = definition
    return (
        f"{d['writers']} writers × {d['items_per_writer']} items → pool of {d['readers']} · "
        f"{work('write', d.get('writer_work', {}))} · {work('read', d.get('reader_work', {}))}"
    )


class PlainLogFormatter(LogFormatter):
    """Log-axis tick labels as plain numbers (0.1, 6, 20), never 6×10⁰; minor ticks labelled
    only when the axis spans too few decades to have enough major ones (matplotlib's rule)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def plain(text: str) -> str:
    """Dynamic text (run names, paths) for a matplotlib label: a ``$`` never starts mathtext."""
    return text.replace("$", r"\$")


def log_ticks(lo: float, hi: float, at_least: int = 3) -> list[float]:
    """Tick values for a log axis from ``lo`` to ``hi`` with at least ``at_least`` inside: decades,
    else 1-2-5, else every digit, else evenly spaced round numbers (a span under ~2x)."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return []
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for subs in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [v for k in range(first, last + 1) for m in subs if lo <= (v := float(f"{m}e{k}")) <= hi]
        if len(ticks) >= at_least:
            step = math.ceil(len(ticks) / 9) if subs == (1,) else 1  # at most about nine labels
            return ticks[::step]
    ticks = []
    for bins in range(at_least, 4 * at_least):
        linear = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        ticks = [float(v) for v in linear if lo <= v <= hi and v > 0]
        if len(ticks) >= at_least:
            break
    return ticks


def readable_log_axis(
    ax: Axes, which: str = "x", at_least: int = 3, fmt: Callable[[float], str] = "{:g}".format
) -> None:
    """Freeze a log axis's limits and label at least ``at_least`` ticks as plain numbers."""
    axis, (lo, hi) = (ax.xaxis, ax.get_xlim()) if which == "x" else (ax.yaxis, ax.get_ylim())
    ticks = log_ticks(lo, hi, at_least)
    if not ticks:
        return
    (ax.set_xlim if which == "x" else ax.set_ylim)(lo, hi)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    axis.set_minor_formatter(NullFormatter())


def value_axis(ax: Axes, values: Sequence[float], label: str) -> None:
    """Log scale when the values span more than 30x, else linear from zero."""
    positive = [v for v in values if math.isfinite(v) and v > 0]
    if positive and max(positive) / min(positive) > 30:
        ax.set_xscale("log")
        ax.set_xlim(min(positive) / 1.6, max(positive) * 1.6)
        label += ", log scale"
    else:
        ax.set_xlim(0, (max(positive) if positive else 1) * 1.12)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: si(x)))
    ax.set_xlabel(label)


def _titled(ax: Axes, title: str, subtitle: str) -> None:
    """A bold title with a small grey line under it, both above the panel."""
    ax.set_title(title, loc="left", pad=16)
    ax.annotate(
        subtitle,
        (0, 1),
        xytext=(0, 4),
        xycoords="axes fraction",
        textcoords="offset points",
        fontsize=7.5,
        color="#555555",
        va="bottom",
        ha="left",
    )


def _grid(n: int, ncols: int, row_height: float, width: float) -> tuple[Figure, list[Axes]]:
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, row_height * nrows + 0.9), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes


def throughput_figure(doc: dict[str, Any]) -> Figure:
    """(a) One panel per scenario: a dot per repeat, a bar at the median, best on top."""
    summary, trials = summarize(doc), trials_frame(doc)
    names = scenarios_of(doc)
    height = max(len(ranked(summary, s)) for s in names) * 0.34 + 1.2
    with style():
        fig, axes = _grid(len(names), 2, height, 6.2 if len(names) > 1 else 7.5)
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
            _titled(ax, scenario, workload_line(doc["scenarios"][scenario]["definition"]))
        handles = [
            Line2D([], [], color="#555555", marker="o", ls="none", ms=5, label="one repeat"),
            Line2D([], [], color="#555555", marker="|", ls="none", ms=12, mew=2.4, label="median"),
            Line2D([], [], color=FAIL_COLOUR, marker="x", ls="none", ms=6, label="a trial that did not pass"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        fig.suptitle("Throughput per strategy (★ best)")
    return fig


def _pooled(run_dir: Path, trials: list[dict[str, Any]]) -> np.ndarray:
    arrays = [store.load_samples(run_dir, t) for t in trials]
    return np.concatenate(arrays) if arrays else np.empty((0, 7), dtype=np.int64)


def _measured(doc: dict[str, Any], scenario: str, strategy: str) -> list[dict[str, Any]]:
    return [
        t
        for t in doc["trials"]
        if t["scenario"] == scenario and t["strategy"] == strategy and not t.get("warmup") and t.get("samples")
    ]


LATENCY_PANELS = (
    ("wait", "queue wait (dequeued − produced)"),
    ("service", "service (done − dequeued)"),
    ("e2e", "end to end (done − produced)"),
)
FLOOR_MS = 1e-3  # a log axis has no zero: latencies under 1 µs are drawn at 1 µs
#: The ECDF's y ticks: shares of items in percent, the quantiles named where they are marked.
ECDF_TICKS = {0.0: "0%", 0.25: "25%", 0.5: "50% (p50)", 0.75: "75%", 0.9: "90% (p90)", 0.99: "99% (p99)"}
ECDF_MARKS = (0.5, 0.9, 0.99)


def latency_figure(doc: dict[str, Any], run_dir: Path, scenario: str) -> Figure:
    """(b) ECDF per strategy of wait, service and end-to-end latency (pooled repeats), log x."""
    order = ranked(summarize(doc), scenario)
    with style():
        fig = Figure(figsize=(13, 4.3), layout="constrained")
        axes = fig.subplots(1, 3, sharey=True)
        for name in order:
            records = _pooled(run_dir, _measured(doc, scenario, name))
            if not len(records):
                continue
            lat = metrics.latencies(records)
            for ax, (key, _title) in zip(axes, LATENCY_PANELS, strict=True):
                values = np.maximum(lat[key].astype(np.float64) / 1e6, FLOOR_MS)
                ax.ecdf(values, color=strategy_colour(name), lw=1.6, label=name)
        for ax, (_key, title) in zip(axes, LATENCY_PANELS, strict=True):
            ax.set_xscale("log")
            ax.set_title(title, loc="left")
            ax.set_xlabel("milliseconds, log scale (< 1 µs drawn at 1 µs)")
            readable_log_axis(ax)
            for q in ECDF_MARKS:
                ax.axhline(q, color="#999999", lw=0.7, ls=":")
        axes[0].set_ylabel("share of items at or below")
        axes[0].set_yticks(list(ECDF_TICKS), list(ECDF_TICKS.values()))
        axes[0].set_ylim(0, 1.02)
        handles = [Line2D([], [], color=strategy_colour(n), lw=2, label=n) for n in order]
        fig.legend(handles=handles, loc="outside right center", title="strategy (best first)")
        fig.suptitle(f"{scenario}: latency distributions per strategy — further left is faster")
    return fig


def busy_readers(records: np.ndarray, start_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Step function of busy readers: times (ms after start) and the count from each time on."""
    starts, ends = records[:, metrics.DEQUEUED], records[:, metrics.DONE]
    stamps = np.concatenate([ends, starts])
    deltas = np.concatenate([np.full(len(ends), -1), np.full(len(starts), 1)])
    order = np.lexsort((deltas, stamps))  # ends before starts at the same instant, as metrics does
    times = (stamps[order] - start_ns) / 1e6
    return np.concatenate([[0.0], times]), np.concatenate([[0], np.cumsum(deltas[order])])


def _representative(doc: dict[str, Any], scenario: str, strategy: str) -> dict[str, Any] | None:
    """The trial closest to the median throughput (a passing one if there is one)."""
    trials = _measured(doc, scenario, strategy)
    ok = [t for t in trials if t["status"] == "ok"] or trials
    if not ok:
        return None
    tp = [(t.get("metrics") or {}).get("throughput") or 0.0 for t in ok]
    median = float(np.median(tp))
    return ok[int(np.argmin([abs(v - median) for v in tp]))]


def concurrency_figure(doc: dict[str, Any], run_dir: Path, scenario: str) -> Figure:
    """(c) Busy readers over time, one panel per strategy, the pool limit as a red line."""
    order = ranked(summarize(doc), scenario)
    pool = int(doc["scenarios"][scenario]["definition"]["readers"])
    series = []
    for name in order:
        trial = _representative(doc, scenario, name)
        if trial is None:
            continue
        records = store.load_samples(run_dir, trial)
        if not len(records):
            continue
        m = trial.get("metrics") or {}
        makespan = m.get("makespan_s") or math.nan
        last = int(records[:, metrics.DONE].max())
        start = last - int(makespan * 1e9) if math.isfinite(makespan) else int(records[:, metrics.PRODUCED].min())
        times, busy = busy_readers(records, start)
        span = max(float(times[-1]), 1e-6)
        mean = float((records[:, metrics.DONE] - records[:, metrics.DEQUEUED]).sum()) / 1e6 / span
        series.append((name, trial, times, busy, mean, span))
    spans = [s[5] for s in series] or [1.0]
    shared = max(spans) / min(spans) <= 10  # a common time axis only when it keeps every panel readable
    top = max([pool, *(int(s[3].max()) for s in series)]) + 0.6
    with style():
        fig = Figure(figsize=(10, 1.25 * max(len(series), 1) + 1.1), layout="constrained")
        axes = fig.subplots(max(len(series), 1), 1, sharex=shared, squeeze=False)[:, 0]
        for ax, (name, trial, times, busy, mean, span) in zip(axes, series, strict=False):
            colour = strategy_colour(name)
            ax.fill_between(times, busy, step="post", color=colour, alpha=0.3, lw=0)
            ax.step(times, busy, where="post", color=colour, lw=1.1, label=f"busy readers ({name})")
            ax.axhline(pool, color=LIMIT_COLOUR, ls="--", lw=1.3, label=f"pool limit ({pool})")
            peak = int(busy.max())
            over = "  — LIMIT EXCEEDED" if peak > pool else ""
            ax.set_title(
                f"{name}: peak {peak}/{pool}, on average {mean:.3g} busy over {span:,.0f} ms{over}",
                loc="left",
                fontsize=9,
                color=FAIL_COLOUR if over or trial["status"] != "ok" else "black",
            )
            ax.set_ylim(0, top)
            ax.set_yticks(range(0, int(top) + 1))
            ax.set_xlim(0, max(spans) if shared else span)
            ax.set_ylabel("readers")
            ax.grid(axis="x", visible=False)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}" if x >= 10 else f"{x:g}"))
        axes[-1].set_xlabel(
            "time since the writers were released (ms)" + ("" if shared else "; each panel on its own time scale")
        )
        limit = Line2D([], [], color=LIMIT_COLOUR, ls="--", label=f"pool limit ({pool} readers)")
        fig.legend(handles=[limit], loc="outside upper right")
        if not series:
            axes[0].text(0.5, 0.5, "no per-item samples in this run", ha="center", transform=axes[0].transAxes)
        fig.suptitle(f"{scenario}: readers busy over time (one representative trial per strategy)")
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
            _titled(eff_ax, f"{scenario}: efficiency", workload_line(doc["scenarios"][scenario]["definition"]))
            cpu = _bars(cpu_ax, order, mine, "cpu_parallelism")
            finite = [v for v in (machine, cores) if math.isfinite(v)]
            cpu_ax.set_xlim(0, max([1.1, *(v * 1.08 for v in finite + cpu)]))
            cpu_ax.tick_params(axis="y", labelleft=False)
            if math.isfinite(machine):
                cpu_ax.axvline(machine, color=LIMIT_COLOUR, ls="--", lw=1.2)
            if math.isfinite(cores):
                cpu_ax.axvline(cores, color="#555555", ls=":", lw=1.2)
            _titled(cpu_ax, f"{scenario}: CPU parallelism", "CPU seconds of the process tree ÷ wall seconds")
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
