"""The run's summary: one row per scenario x strategy, medians over measured repeats, ranked
by throughput (also written as ``summary.csv`` next to run.json), and the orders every
presentation of a run shares (scenarios in run order, strategies best first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS = [
    "scenario",
    "strategy",
    "rank",
    "trials",
    "ok",
    "status",
    "throughput",
    "throughput_min",
    "throughput_max",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "efficiency",
    "cpu_parallelism",
    "setup_s",
    "max_concurrency",
    "pool_size",
    "lost",
    "duplicated",
]


def trials_frame(doc: dict[str, Any]) -> pd.DataFrame:
    """Measured (non-warmup) trials, one row each, metrics flattened."""
    rows = [
        {**{k: v for k, v in t.items() if k != "metrics"}, **(t.get("metrics") or {})}
        for t in doc["trials"]
        if not t.get("warmup")
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


def summarize(doc: dict[str, Any]) -> pd.DataFrame:
    trials = trials_frame(doc)
    if trials.empty:
        return pd.DataFrame(columns=COLUMNS)
    for col in (
        "throughput",
        "e2e_p50_ms",
        "e2e_p99_ms",
        "efficiency",
        "cpu_parallelism",
        "setup_s",
        "max_concurrency",
        "pool_size",
        "lost",
        "duplicated",
    ):
        if col not in trials:
            trials[col] = float("nan")
    rows = []
    for (scenario, strategy), g in trials.groupby(["scenario", "strategy"], sort=False):
        ok = g[g["status"] == "ok"]
        rows.append(
            {
                "scenario": scenario,
                "strategy": strategy,
                "trials": len(g),
                "ok": len(ok),
                "status": _status(g["status"]),
                "throughput": _median(g["throughput"]),
                "throughput_min": g["throughput"].min(),
                "throughput_max": g["throughput"].max(),
                "e2e_p50_ms": _median(g["e2e_p50_ms"]),
                "e2e_p99_ms": _median(g["e2e_p99_ms"]),
                "efficiency": _median(g["efficiency"]),
                "cpu_parallelism": _median(g["cpu_parallelism"]),
                "setup_s": _median(g["setup_s"]),
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
    return out[COLUMNS]


def write_csv(run_dir: Path, doc: dict[str, Any]) -> Path:
    """Write ``summary.csv`` (the summary of ``doc``) into the run directory."""
    from harness import store

    path = Path(run_dir) / "summary.csv"
    store.atomic_write(path, summarize(doc).to_csv(index=False).encode())
    return path


def scenarios_of(doc: dict[str, Any]) -> list[str]:
    """Scenarios with measured trials, in run order."""
    seen = {t["scenario"] for t in doc["trials"] if not t.get("warmup")}
    return [name for name in doc["scenarios"] if name in seen]


def ranked(summary: pd.DataFrame, scenario: str) -> list[str]:
    """Strategies of a scenario, best first; strategies without a rank (failed) last, in run order."""
    rows = summary[summary["scenario"] == scenario]
    return list(rows.sort_values("rank", kind="stable", na_position="last")["strategy"])
