"""The run's summary: one row per scenario x strategy, medians over the measured repeats that
passed, ranked by throughput over the chosen window (also written as ``summary.csv`` next to
run.json), and the orders every presentation of a run shares (scenarios in run order,
strategies best first).

``rank_by`` chooses the window items/s and ``efficiency`` are measured over: ``total`` (the
strategy's first step to its return: what a user waits for, the default) or ``makespan`` (the
start line to the last item done: the pipeline alone); ``efficiency_makespan`` and
``efficiency_total`` keep both, so no row puts figures of two windows side by side unnamed.
``verdict`` says whether the best is a clear winner ("best") or not distinguishable from others
("tie"; :mod:`harness.analysis.ranking`).
"""

from __future__ import annotations

import pandas as pd

from harness.analysis.ranking import tie_group
from harness.rundir.model import Run, Trial

#: The windows items/s may be ranked by, and the trial metric each one reads.
RANK_BY = {"total": "throughput_total", "makespan": "throughput"}
DEFAULT_RANK_BY = "total"
#: Medians over the passing repeats, besides the chosen throughput.
MEDIANS = (
    "throughput_makespan",
    "throughput_total",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "efficiency_makespan",
    "efficiency_total",
    "cpu_parallelism",
    "setup_s",
    "makespan_s",
    "teardown_s",
    "total_s",
    "tree_peak_mb",
    "largest_process_peak_mb",
    "peak_rss_mb",
    "reader_work_cpu_ms",
    "writer_work_cpu_ms",
    "service_peak_active",
)
COLUMNS = [
    "scenario",
    "strategy",
    "rank",
    "verdict",
    "trials",
    "ok",
    "failed",
    "status",
    "rank_by",
    "throughput",
    "throughput_min",
    "throughput_max",
    "efficiency",
    *MEDIANS,
    "max_concurrency",
    "pool_size",
    "lost",
    "duplicated",
]


def side_label(trial: Trial) -> str:
    """A trial's strategy, with its side in an ``ab`` run (``threads@A``): the sides never pool."""
    return trial.label


def trials_frame(run: Run) -> pd.DataFrame:
    """Measured (non-warmup) trials, one row each: who and how it ended, then its metrics."""
    rows = [
        {"id": t.id, "scenario": t.scenario, "status": t.status, "repeat": t.repeat, **t.metrics, "strategy": t.label}
        for t in run.measured
    ]
    return pd.DataFrame(rows)


def _status(statuses: pd.Series) -> str:
    bad = statuses[statuses != "ok"]
    if bad.empty:
        return "ok"
    worst = bad.value_counts().index[0]
    return f"{worst} {len(bad)}/{len(statuses)}"


def _median(values: pd.Series) -> float:
    """Median of the finite values; NaN (without numpy's empty-slice warning) when none."""
    finite = values.dropna()
    return float(finite.median()) if len(finite) else float("nan")


def efficiency_total(trials: pd.DataFrame) -> pd.Series:
    """Each trial's efficiency over the total window: the ideal makespan ÷ the total, where its
    makespan efficiency was measured (the whole workload delivered); NaN elsewhere."""
    ideal = trials["ideal_makespan_s"] if "ideal_makespan_s" in trials else float("nan")
    eff = trials["efficiency_makespan"]
    return (ideal / trials["total_s"]).where(eff.notna() & (trials["total_s"] > 0))


def window(run: Run, rank_by: str = DEFAULT_RANK_BY) -> str:
    """The window actually used: ``rank_by``, or ``makespan`` for a run recorded before trials
    measured a total (its trials have no ``throughput_total``)."""
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by: {rank_by!r}; choose one of {', '.join(RANK_BY)}")
    if rank_by == "total":
        measured = run.measured
        if measured and not any("throughput_total" in t.metrics for t in measured):
            return "makespan"
    return rank_by


def summarize(run: Run, rank_by: str = DEFAULT_RANK_BY) -> pd.DataFrame:
    """One row per scenario x strategy. Medians and ranges come from the trials that passed
    (``failed`` counts the others); only strategies whose every trial passed are ranked."""
    used = window(run, rank_by)
    trials = trials_frame(run)
    if trials.empty:
        return pd.DataFrame(columns=COLUMNS)
    for col in ("throughput", "throughput_total", *MEDIANS, "max_concurrency", "pool_size", "lost", "duplicated"):
        if col not in trials:
            trials[col] = float("nan")
    trials["throughput_makespan"] = trials["throughput"]
    trials["chosen"] = trials[RANK_BY[used]]
    trials["efficiency_makespan"] = trials["efficiency"] if "efficiency" in trials else float("nan")
    trials["efficiency_total"] = efficiency_total(trials)
    rows = []
    samples: dict[tuple[str, str], list[float]] = {}
    for (scenario, strategy), g in trials.groupby(["scenario", "strategy"], sort=False):
        ok = g[g["status"] == "ok"]
        chosen = ok["chosen"].dropna()
        samples[(scenario, strategy)] = list(chosen)
        rows.append(
            {
                "scenario": scenario,
                "strategy": strategy,
                "trials": len(g),
                "ok": len(ok),
                "failed": len(g) - len(ok),
                "status": _status(g["status"]),
                "rank_by": used,
                "throughput": _median(ok["chosen"]),
                "throughput_min": chosen.min() if len(chosen) else float("nan"),
                "throughput_max": chosen.max() if len(chosen) else float("nan"),
                "efficiency": _median(ok[f"efficiency_{used}"]),
                **{col: _median(ok[col]) for col in MEDIANS},
                "max_concurrency": g["max_concurrency"].max(),
                "pool_size": g["pool_size"].max(),
                "lost": g["lost"].sum(),
                "duplicated": g["duplicated"].sum(),
            }
        )
    out = pd.DataFrame(rows)
    # Rank by median throughput among strategies whose every trial passed.
    eligible = out["throughput"].where(out["status"] == "ok")
    out["rank"] = eligible.groupby(out["scenario"]).rank(ascending=False, method="min")
    out["verdict"] = ""
    for scenario in out["scenario"].unique():
        mine = out[(out["scenario"] == scenario) & out["rank"].notna()].sort_values("rank", kind="stable")
        group = tie_group({s: samples[(scenario, s)] for s in mine["strategy"]}, list(mine["strategy"]))
        if group:
            # A winner needs a runner-up to beat: a lone strategy is ranked, never crowned.
            verdict = "tie" if len(group) > 1 else "best" if len(mine) > 1 else ""
            out.loc[(out["scenario"] == scenario) & out["strategy"].isin(group), "verdict"] = verdict
    return out[COLUMNS]


def winner(summary: pd.DataFrame, scenario: str) -> str | None:
    """The scenario's clear winner (distinguishable from the runner-up), else None."""
    best = summary[(summary["scenario"] == scenario) & (summary["verdict"] == "best")]
    return str(best["strategy"].iloc[0]) if len(best) else None


def tied(summary: pd.DataFrame, scenario: str) -> list[str]:
    """The strategies not distinguishable from the best, best first (empty when there is a winner)."""
    rows = summary[(summary["scenario"] == scenario) & (summary["verdict"] == "tie")]
    return list(rows.sort_values("rank", kind="stable")["strategy"])


def throughput_label(summary: pd.DataFrame) -> str:
    """The items/s column's header: which window it is measured over."""
    used = str(summary["rank_by"].iloc[0]) if len(summary) else DEFAULT_RANK_BY
    return f"items/s ({used})"


def derived_files(run: Run) -> dict[str, bytes]:
    """The files a finished run folder holds beside run.json, made from it: ``summary.csv``
    (handed to :meth:`harness.rundir.store.RunWriter.finish`, which writes them)."""
    return {"summary.csv": summarize(run, DEFAULT_RANK_BY).to_csv(index=False).encode()}


def scenarios_of(run: Run) -> list[str]:
    """Scenarios with measured trials, in run order."""
    return run.scenario_names()


def ranked(summary: pd.DataFrame, scenario: str) -> list[str]:
    """Strategies of a scenario, best first; strategies without a rank (failed) last, in run order."""
    rows = summary[summary["scenario"] == scenario]
    return list(rows.sort_values("rank", kind="stable", na_position="last")["strategy"])
