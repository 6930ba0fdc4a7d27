"""Several runs in one figure: one panel per scenario, strategies down the side, one marker
per group of runs (by platform, Python, start method, host or run).

With ``normalize``, each trial's value is divided by the reference strategy's median in
the *same run and scenario*, so machines of different speed compare fairly. Runs that
define a scenario differently under one name are refused (or, on request, shown apart).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from harness.errors import PlotError
from harness.presentation.figures import style as figure_style
from harness.rundir import store
from harness.rundir.model import Run as StoredRun
from harness.rundir.model import Trial
from harness.running import interpreters
from strategies.registry import no_queue

#: Fields of a scenario definition that do not change the workload itself.
NOT_WORKLOAD = frozenset({"description", "repeats", "warmup", "timeout", "strategies"})
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")


def _python(stored: StoredRun, path: Path) -> str:
    """``CPython 3.13.5t`` (free-threaded, GIL off), ``CPython 3.13.5t+gil``, ``CPython 3.11.7``:
    the names a run of several interpreters gives its sides, so both kinds of run group alike."""
    return _named(stored.machine.python, None)


def _named(facts: Mapping[str, Any], side: str | None) -> str:
    impl = str(facts.get("implementation") or "?")
    name = side or interpreters.label(facts)
    return name if name.startswith(impl) else f"{impl} {name}"


def _group_and_strategy(run: Run, trial: Trial, by: str) -> tuple[str, str]:
    """A trial's group and strategy label. A run of several interpreters (or an ab run) holds
    sides: grouped by python, an interpreter's trials form its own group; otherwise the side
    stays in the strategy's label (``threads@3.13.5t``), so sides never pool."""
    side = trial.side
    if not side:
        return run.group, trial.strategy
    found = interpreters.of_run(run.stored)
    if by == "python" and side in found:  # its label: 3.13.5t+gil and 3.11.7#2 stay apart
        return _named(found[side], side), trial.strategy
    return run.group, trial.label


BY: dict[str, Callable[[StoredRun, Path], str]] = {
    "platform": lambda run, path: f"{run.machine.os} {run.machine.arch}".strip(),
    "python": _python,
    "start-method": lambda run, path: run.machine.start_method,
    "host": lambda run, path: str(run.machine.host if run.machine.host is not None else "?"),
    "run": lambda run, path: path.resolve().name,
}


def describe_metric(metric: str) -> tuple[str, bool | None]:
    """An axis label with units, and whether higher is better (None: neither)."""
    fixed: dict[str, tuple[str, bool | None]] = {
        "throughput": ("throughput over the makespan (items/s)", True),
        "throughput_total": ("throughput over the total window (items/s)", True),
        "makespan_s": ("makespan (s)", False),
        "total_s": ("total: first step to return (s)", False),
        "teardown_s": ("teardown time (s)", False),
        "tree_peak_mb": ("peak memory of the trial's process tree, PSS (MB)", False),
        "largest_process_peak_mb": ("peak RSS of the largest process (MB)", False),
        "reader_work_cpu_ms": ("reader work, CPU ms per item", None),
        "efficiency": ("efficiency (ideal ÷ measured makespan)", True),
        "cpu_parallelism": ("CPU parallelism over the total window (cores busy)", None),
        "peak_rss_mb": ("peak RSS of the worker (MB)", False),
        "setup_s": ("setup time (s)", False),
    }
    if metric in fixed:
        return fixed[metric]
    lat = re.fullmatch(r"(wait|put|service|e2e)_(p\d+|max)_ms", metric)
    if lat:
        return f"{lat[1]} latency {lat[2]} (ms)", False
    return metric, None


@dataclass(frozen=True)
class Run:
    path: Path
    stored: StoredRun
    group: str


def load_runs(paths: list[Path], by: str) -> list[Run]:
    if by not in BY:
        raise PlotError(f"unknown --by {by!r}; choose one of: {', '.join(BY)}")
    if not paths:
        raise PlotError("give at least one run directory (results/<time>-<host>)")
    seen: dict[Path, Path] = {}
    for path in paths:  # one run given twice would count twice and weigh double in every panel
        key = Path(path).resolve()
        if key in seen:
            same = "given twice" if str(path) == str(seen[key]) else f"the same run as {seen[key]}"
            raise PlotError(f"{path} is {same}: give each run once")
        seen[key] = Path(path)
    runs = []
    for path in paths:
        stored = store.read_run(path)
        runs.append(Run(Path(path), stored, BY[by](stored, Path(path))))
    return runs


def _workload(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k not in NOT_WORKLOAD}


def facets(runs: list[Run], split: bool) -> dict[tuple[int, str], str]:
    """(run index, scenario) -> panel name; refuses one name with two workloads unless ``split``."""
    variants: dict[str, list[dict[str, Any]]] = {}
    out: dict[tuple[int, str], str] = {}
    owners: dict[tuple[str, int], Path] = {}
    for i, run in enumerate(runs):
        for name, entry in run.stored.scenarios.items():
            work = _workload(entry.definition)
            seen = variants.setdefault(name, [])
            if work not in seen:
                seen.append(work)
                owners[(name, len(seen) - 1)] = run.path
            k = seen.index(work)
            if k and not split:
                fields = sorted(f for f in work.keys() | seen[0].keys() if work.get(f) != seen[0].get(f))
                raise PlotError(
                    f"scenario {name!r} is defined differently in {owners[(name, 0)]} and {run.path} "
                    f"(differs in: {', '.join(fields)}); compare like with like, or pass --split-mismatched"
                )
            out[(i, name)] = name
    for (i, name), _ in list(out.items()):
        if len(variants[name]) > 1:
            k = variants[name].index(_workload(runs[i].stored.scenarios[name].definition))
            out[(i, name)] = f"{name} (definition {k + 1} of {len(variants[name])})"
    return out


def _number(raw: object) -> float:
    """A finite metric value, else NaN (missing, null, boolean or infinite)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    return math.nan


def collect(runs: list[Run], metric: str, normalize: str | None, split: bool = False, by: str = "run") -> pd.DataFrame:
    """One row per measured trial: facet, strategy, group, run, value (NaN unless the trial passed)."""
    names = facets(runs, split)
    rows = []
    for i, run in enumerate(runs):
        for t in run.stored.measured:
            value = _number(t.metrics.get(metric)) if t.ok else math.nan
            group, strategy = _group_and_strategy(run, t, by)
            rows.append(
                {
                    "facet": names[(i, t.scenario)],
                    "scenario": t.scenario,
                    "strategy": strategy,
                    "group": group,
                    "run": i,
                    "value": value,
                }
            )
    frame = pd.DataFrame(rows, columns=["facet", "scenario", "strategy", "group", "run", "value"])
    if not frame["value"].notna().any():
        known = sorted(
            {
                k
                for r in runs
                for t in r.stored.trials
                for k, v in t.metrics.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
        )
        if known and metric not in known:
            raise PlotError(f"unknown metric {metric!r}; choose one of: {', '.join(known)}")
        raise PlotError(f"no passing trial in these runs has a value for {metric!r}")
    if normalize is None:
        return frame
    if normalize not in set(frame["strategy"]):
        have = ", ".join(dict.fromkeys(frame["strategy"]))
        raise PlotError(f"--normalize {normalize}: no such strategy in these runs; they hold: {have}")
    parts = []
    # The reference is taken within its own run, scenario and group (an interpreter of a run
    # of several is a group of its own under --by python).
    for (i, scenario, _), part in frame.groupby(["run", "scenario", "group"], sort=False):
        ref = part[part["strategy"] == normalize]["value"].dropna()
        if ref.empty or not ref.median() > 0:
            raise PlotError(
                f"--normalize {normalize}: no passing trial of {normalize!r} in scenario {scenario!r} of "
                f"{runs[i].path}; the reference must be measured in every run"
            )
        parts.append(part.assign(value=part["value"] / ref.median()))
    return pd.concat(parts, ignore_index=True)


def compare_figure(frame: pd.DataFrame, by: str, metric: str, normalize: str | None, runs: int) -> Figure:

    label, higher = describe_metric(metric)
    latency = re.fullmatch(r"(wait|put|service|e2e)_(p\d+|max)_ms", metric) is not None
    groups = list(dict.fromkeys(frame["group"]))
    panels = list(dict.fromkeys(frame["facet"]))
    height = frame.groupby("facet")["strategy"].nunique().max() * 0.42 + 1.3
    with figure_style.style():
        ncols = 1 if len(panels) == 1 else 2
        nrows = math.ceil(len(panels) / ncols)
        fig = Figure(figsize=(6.4 * ncols, height * nrows + 1.2), layout="constrained")
        axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(len(panels))]
        step = 0.72 / len(groups)
        for ax, panel in zip(axes, panels, strict=True):
            mine = frame[frame["facet"] == panel]
            medians = mine.groupby("strategy")["value"].median()
            order = list(medians.sort_values(ascending=higher is False).index)
            if latency:  # items that never queue are not fast, they just never wait: listed last, named so
                order = [s for s in order if not no_queue(s)] + [s for s in order if no_queue(s)]
            for y, strategy in enumerate(order):
                colour = figure_style.strategy_colour(strategy)
                for j, group in enumerate(groups):
                    ran = mine[(mine["strategy"] == strategy) & (mine["group"] == group)]["value"]
                    values = ran.dropna()
                    yy = y + (j - (len(groups) - 1) / 2) * step
                    if values.empty:
                        if not ran.empty:  # it ran, and no trial passed: say so rather than leave a gap
                            ax.text(
                                0.01,
                                yy,
                                figure_style.plain(f"{group}: no passing trial"),
                                transform=ax.get_yaxis_transform(),
                                fontsize=7,
                                color="#777777",
                                va="center",
                            )
                        continue
                    ax.plot([values.min(), values.max()], [yy, yy], color=colour, lw=1.6, alpha=0.5)
                    ax.plot(
                        [values.median()],
                        [yy],
                        marker=MARKERS[j % len(MARKERS)],
                        ms=7,
                        color=colour,
                        mec="black",
                        mew=0.6,
                        ls="none",
                    )
            names = [
                figure_style.plain(s) + ("\n(no queue: not comparable)" if latency and no_queue(s) else "")
                for s in order
            ]
            ax.set_yticks(range(len(order)), names)
            ax.set_ylim(len(order) - 0.5, -0.5)
            ax.grid(axis="y", visible=False)
            if normalize:
                ax.axvline(1.0, color="#333333", ls="--", lw=1)
            figure_style.value_axis(
                ax, list(mine["value"].dropna()), f"÷ {normalize} in the same run" if normalize else label
            )
            if normalize:
                ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}×"))
            ax.set_title(figure_style.plain(panel), loc="left")
        handles = [
            Line2D(
                [],
                [],
                marker=MARKERS[j % len(MARKERS)],
                color="#777777",
                mec="black",
                ls="none",
                ms=7,
                label=figure_style.plain(g),
            )
            for j, g in enumerate(groups)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(groups), 4), title=f"grouped by {by}")
        better = {True: " — higher is better", False: " — lower is better", None: ""}[higher]
        what = f"{label} relative to {normalize}" if normalize else label
        fig.suptitle(f"{what}{better}\n{runs} run(s) by {by}; marker: median, line: spread over trials")
    return fig


FORMATS = (".png", ".svg", ".pdf")


def check_out(out: Path) -> None:
    """Refuse, before any work, a figure path matplotlib cannot write."""
    if out.is_dir():
        raise PlotError(f"--out {out}: is a directory; give a file name ending in {', '.join(FORMATS)}")
    if out.suffix.lower() not in FORMATS:
        what = f"format {out.suffix!r}" if out.suffix else "no file extension"
        raise PlotError(f"--out {out}: {what} is not supported; use a file name ending in {', '.join(FORMATS)}")


def plot_runs(
    paths: list[Path],
    by: str,
    metric: str = "throughput",
    normalize: str | None = None,
    out: Path | None = None,
    split: bool = False,
) -> tuple[Path, dict[str, int]]:
    """Draw the comparison; returns the figure's path and how many runs fell into each group."""
    if out is not None:
        check_out(out)
    runs = load_runs(paths, by)
    frame = collect(runs, metric, normalize, split, by)
    out = out or Path(f"queuebench-{metric}-by-{by}{f'-vs-{normalize}' if normalize else ''}.png")
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True)
    figure_style.save(compare_figure(frame, by, metric, normalize, len(runs)), out)
    counts: dict[str, int] = {}  # a run of several interpreters counts in each of its groups
    for group, part in frame.groupby("group", sort=False):
        counts[str(group)] = int(part["run"].nunique())
    return out, counts
