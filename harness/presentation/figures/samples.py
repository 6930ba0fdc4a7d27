"""The figures of one scenario drawn from the per-item samples (Parquet), not run.json alone.

b. :func:`latency_figure` — ECDFs of queue wait, service and end-to-end latency, log axis.
c. :func:`concurrency_figure` — busy readers over time per strategy, the pool limit drawn.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from harness.analysis import metrics
from harness.analysis.summary import DEFAULT_RANK_BY, ranked, summarize
from harness.presentation.figures.style import FAIL_COLOUR, LIMIT_COLOUR, readable_log_axis, strategy_colour, style
from harness.rundir import store
from harness.rundir.model import Run, Trial
from strategies.registry import no_queue


def _pooled(run_dir: Path, trials: list[Trial]) -> np.ndarray:
    arrays = [store.load_samples(run_dir, t) for t in trials]
    return np.concatenate(arrays) if arrays else np.empty((0, 7), dtype=np.int64)


def _measured(run: Run, scenario: str, strategy: str) -> list[Trial]:
    return [t for t in run.measured if t.scenario == scenario and t.strategy == strategy and t.samples]


LATENCY_PANELS = (
    ("wait", "queue wait (dequeued − produced)"),
    ("service", "service (done − dequeued)"),
    ("e2e", "end to end (done − produced)"),
)
FLOOR_MS = 1e-3  # a log axis has no zero: latencies under 1 µs are drawn at 1 µs
#: The ECDF's y ticks: shares of items in percent, the quantiles named where they are marked.
ECDF_TICKS = {0.0: "0%", 0.25: "25%", 0.5: "50% (p50)", 0.75: "75%", 0.9: "90% (p90)", 0.99: "99% (p99)"}
ECDF_MARKS = (0.5, 0.9, 0.99)


def latency_figure(run: Run, run_dir: Path, scenario: str, rank_by: str = DEFAULT_RANK_BY) -> Figure:
    """(b) ECDF per strategy of wait, service and end-to-end latency (pooled repeats), log x.

    Strategies with no queue (sequential) are dashed grey-edged and named so: their items never
    wait, so their latency is low for that reason, not because they are fast. A reader side with
    no work has no service time to compare: that panel says so instead of drawing a spike at 1 µs."""

    order = ranked(summarize(run, rank_by), scenario)
    order = [n for n in order if not no_queue(n)] + [n for n in order if no_queue(n)]
    no_service = (run.scenarios[scenario].definition.get("reader_work") or {}).get("kind", "none") == "none"
    with style():
        fig = Figure(figsize=(13, 4.3), layout="constrained")
        axes = fig.subplots(1, 3, sharey=True)
        for name in order:
            records = _pooled(run_dir, _measured(run, scenario, name))
            if not len(records):
                continue
            lat = metrics.latencies(records)
            for ax, (key, _title) in zip(axes, LATENCY_PANELS, strict=True):
                if key == "service" and no_service:
                    continue
                values = np.maximum(lat[key].astype(np.float64) / 1e6, FLOOR_MS)
                ls = "--" if no_queue(name) else "-"
                ax.ecdf(values, color=strategy_colour(name), lw=1.6, ls=ls, label=name)
        for ax, (key, title) in zip(axes, LATENCY_PANELS, strict=True):
            if key == "service" and no_service:
                ax.set_title(title, loc="left")
                ax.set_xticks([])
                ax.text(
                    0.5,
                    0.5,
                    "readers do no work in this scenario:\n"
                    "service time is only the stamping (< 1 µs),\nnothing to compare",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color="#555555",
                )
                continue
            ax.set_xscale("log")
            ax.set_title(title, loc="left")
            ax.set_xlabel("milliseconds, log scale (< 1 µs drawn at 1 µs)")
            readable_log_axis(ax)
            for q in ECDF_MARKS:
                ax.axhline(q, color="#999999", lw=0.7, ls=":")
        axes[0].set_ylabel("share of items at or below")
        axes[0].set_yticks(list(ECDF_TICKS), list(ECDF_TICKS.values()))
        axes[0].set_ylim(0, 1.02)
        handles = [
            Line2D(
                [],
                [],
                color=strategy_colour(n),
                lw=2,
                ls="--" if no_queue(n) else "-",
                label=f"{n} (no queue:\nnot comparable)" if no_queue(n) else n,
            )
            for n in order
        ]
        fig.legend(handles=handles, loc="outside right center", title="strategy (best first)")
        queued = "" if not any(no_queue(n) for n in order) else " (among strategies with a queue; dashed: no queue)"
        fig.suptitle(f"{scenario}: latency distributions per strategy — further left is faster{queued}")
    return fig


def _representative(run: Run, scenario: str, strategy: str) -> Trial | None:
    """The trial closest to the median throughput (a passing one if there is one)."""
    trials = _measured(run, scenario, strategy)
    ok = [t for t in trials if t.ok] or trials
    if not ok:
        return None
    tp = [t.metric("throughput") or 0.0 for t in ok]
    median = float(np.median(tp))
    return ok[int(np.argmin([abs(v - median) for v in tp]))]


BINS = 400  # time bins per panel: about one per pixel column


def binned(
    times: np.ndarray, busy: np.ndarray, span: float, bins: int = BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The busy-readers step function over ``bins`` equal bins of [0, span]: each bin's time-average
    and its peak. Truthful at any scale: a sub-µs busy interval adds its true share to its bin's
    average instead of a full-height block as wide as a pixel."""
    edges = np.linspace(0.0, span, bins + 1)
    seg = np.diff(np.append(times, max(span, float(times[-1]))))  # how long each count lasted
    area = np.concatenate([[0.0], np.cumsum(busy * seg)])  # area up to each change point

    def area_at(t: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
        out: np.ndarray = area[k] + busy[k] * (t - times[k])
        return out

    mean = np.diff(area_at(edges)) / np.diff(edges)
    first = np.clip(np.searchsorted(times, edges[:-1], side="right") - 1, 0, len(times) - 1)
    last = np.clip(np.searchsorted(times, edges[1:], side="left") - 1, 0, len(times) - 1)
    peak = np.array([busy[a : max(a, b) + 1].max() for a, b in zip(first, last, strict=True)])
    return edges, mean, peak


def concurrency_figure(run: Run, run_dir: Path, scenario: str, rank_by: str = DEFAULT_RANK_BY) -> Figure:
    """(c) Busy readers over time, one panel per strategy, the pool limit as a red line: the average
    count in each time bin (filled) and the bin's peak (thin line)."""
    order = ranked(summarize(run, rank_by), scenario)
    pool = int(run.scenarios[scenario].definition["readers"])
    series = []
    for name in order:
        trial = _representative(run, scenario, name)
        if trial is None:
            continue
        records = store.load_samples(run_dir, trial)
        if not len(records):
            continue
        makespan = trial.metric("makespan_s") or math.nan
        last, first = int(records[:, metrics.DONE].max()), int(records[:, metrics.PRODUCED].min())
        span_ns = makespan * 1e9
        # The stored makespan sets the start line only where the records agree with it: a damaged
        # or extreme value (a year, against records of milliseconds) would draw an empty axis.
        sane = math.isfinite(span_ns) and 0 <= span_ns <= 2 * max(last - first, 0) + 1e9
        start = last - int(span_ns) if sane else first
        times, busy = metrics.busy_readers(records, start)
        span = max(float(times[-1]), 1e-6)
        mean = metrics.reader_busy_s(records) * 1e3 / span
        series.append((name, trial, times, busy, mean, span))
    spans = [s[5] for s in series] or [1.0]
    shared = max(spans) / min(spans) <= 10  # a common time axis only when it keeps every panel readable
    top = max([pool, *(int(s[3].max()) for s in series)]) + 0.6
    with style():
        fig = Figure(figsize=(10, 1.25 * max(len(series), 1) + 1.1), layout="constrained")
        axes = fig.subplots(max(len(series), 1), 1, sharex=shared, squeeze=False)[:, 0]
        for ax, (name, trial, times, busy, mean, span) in zip(axes, series, strict=False):
            colour = strategy_colour(name)
            edges, avg, in_bin = binned(times, busy, span)
            # Steps as a filled polygon and lines, not ax.stairs: a StepPatch's data limits are taken
            # segment by segment in Python (3.9 of the report's 41 s in a profile), these in numpy.
            step_avg, step_bin = np.append(avg, avg[-1]), np.append(in_bin, in_bin[-1])
            label = f"average busy readers ({name})"
            ax.fill_between(edges, step_avg, step="post", color=colour, alpha=0.45, lw=0, label=label)
            ax.plot(edges, step_avg, drawstyle="steps-post", color=colour, lw=1.2)
            peak_label = f"busy readers ({name})"
            ax.plot(edges, step_bin, drawstyle="steps-post", color=colour, lw=0.6, alpha=0.6, ls=":", label=peak_label)
            ax.axhline(pool, color=LIMIT_COLOUR, ls="--", lw=1.3, label=f"pool limit ({pool})")
            peak = int(busy.max())
            over = "  — LIMIT EXCEEDED" if peak > pool else ""
            ax.set_title(
                f"{name}: peak {peak}/{pool}, on average {mean:.3g} busy over {span:,.0f} ms{over}",
                loc="left",
                fontsize=9,
                color=FAIL_COLOUR if over or not trial.ok else "black",
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
        handles = [
            Patch(color="#777777", alpha=0.45, label="busy readers, average over each time bin"),
            Line2D([], [], color="#777777", lw=0.6, ls=":", label="peak within the bin"),
            Line2D([], [], color=LIMIT_COLOUR, ls="--", label=f"pool limit ({pool} readers)"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
        if not series:
            axes[0].text(0.5, 0.5, "no per-item samples in this run", ha="center", transform=axes[0].transAxes)
        fig.suptitle(f"{scenario}: readers busy over time (one representative trial per strategy)")
    return fig
