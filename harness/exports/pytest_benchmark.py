"""Export a run in pytest-benchmark's JSON format (``pytest-benchmark compare`` reads it).

One benchmark per scenario x strategy (``name`` ``<scenario>[<strategy>]``, ``group``
the scenario). A round is one measured trial that passed, and its time is **seconds per
item** (1 / throughput): so ``OPS`` in pytest-benchmark's tables reads as items per
second, and ``--benchmark-compare-fail=median:10%`` gates on the median time per item.
Throughput and latency percentiles (medians over trials) are in ``extra_info``.

The statistics are computed exactly as pytest-benchmark's ``Stats`` does (its quartile
methods included), without importing it: exporting does not need pytest-benchmark.
"""

from __future__ import annotations

import json
import statistics
from bisect import bisect_left, bisect_right
from typing import Any

from harness.exports import Exported
from harness.rundir.model import Fingerprint, MetricValue, Run, Trial

#: The pytest-benchmark file format version written (read by pytest-benchmark 4 and 5).
FORMAT_VERSION = "5.1.0"

EXTRA_METRICS = (
    "throughput",
    "makespan_s",
    "e2e_p50_ms",
    "e2e_p90_ms",
    "e2e_p99_ms",
    "e2e_max_ms",
    "wait_p50_ms",
    "wait_p99_ms",
    "service_p50_ms",
    "service_p99_ms",
    "put_p99_ms",
    "efficiency",
    "cpu_parallelism",
    "peak_rss_mb",
)


def _q1(data: list[float]) -> float:
    n = len(data)
    if n == 1:
        return data[0]
    if n % 2:
        k, q = n // 4, n % 4
        return 0.25 * data[k - 1] + 0.75 * data[k] if q == 1 else 0.75 * data[k] + 0.25 * data[k + 1]
    return statistics.median(data[: n // 2])


def _q3(data: list[float]) -> float:
    n = len(data)
    if n == 1:
        return data[0]
    if n % 2:
        k, q = n // 4, n % 4
        if q == 1:
            return 0.75 * data[3 * k] + 0.25 * data[3 * k + 1]
        return 0.25 * data[3 * k + 1] + 0.75 * data[3 * k + 2]
    return statistics.median(data[n // 2 :])


def bench_stats(data: list[float]) -> dict[str, Any]:
    """pytest-benchmark's ``stats`` block for the given round times (seconds)."""
    s = sorted(data)
    mean = statistics.mean(s)
    stddev = statistics.stdev(s) if len(s) > 1 else 0
    q1, q3 = _q1(s), _q3(s)
    iqr = q3 - q1
    total = sum(s)
    stddev_outliers = sum(v < mean - stddev or v > mean + stddev for v in s)
    iqr_outliers = sum(v < q1 - 1.5 * iqr or v > q3 + 1.5 * iqr for v in s)
    return {
        "min": s[0],
        "max": s[-1],
        "mean": mean,
        "stddev": stddev,
        "rounds": len(s),
        "median": statistics.median(s),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers,
        "outliers": f"{stddev_outliers};{iqr_outliers}",
        "ld15iqr": s[0] if len(s) == 1 else s[bisect_left(s, q1 - 1.5 * iqr)],
        "hd15iqr": s[0] if len(s) == 1 else s[bisect_right(s, q3 + 1.5 * iqr) - 1],
        "ops": len(s) / total if total else 0,
        "total": total,
        "data": list(data),
        "iterations": 1,
    }


def _median(values: list[MetricValue]) -> float | None:
    finite = [v for v in values if isinstance(v, int | float) and v == v]
    return statistics.median(finite) if finite else None


def extra_info(trials: list[Trial]) -> dict[str, Any]:
    """Medians over trials of the metrics people gate on, plus what ran."""
    info: dict[str, Any] = {k: _median([t.metrics.get(k) for t in trials]) for k in EXTRA_METRICS}
    first = trials[0].metrics
    seen = [c for t in trials if isinstance(c := t.metrics.get("max_concurrency"), int | float)]
    info.update(pool_size=first.get("pool_size"), max_concurrency=max(seen) if seen else None)
    return info


def machine_info(fp: Fingerprint) -> dict[str, Any]:
    load = list(fp.load_average) if fp.load_average is not None else None
    return {
        "node": fp.host,
        "processor": fp.arch,
        "machine": fp.arch,
        "python_compiler": fp.python.get("compiler"),
        "python_implementation": fp.python_implementation,
        "python_implementation_version": fp.python_version,
        "python_version": fp.python_version,
        "python_build": [fp.python.get("build")],
        "release": fp.os_release,
        "system": fp.os,
        "cpu": {"brand_raw": fp.cpu_model, "count": fp.logical_cores, "arch": fp.arch},
        "queuebench": {
            "effective_parallelism": fp.effective_parallelism,
            "start_method": fp.start_method,
            "load_average": load,
        },
    }


def to_pytest_benchmark(run: Run) -> dict[str, Any]:
    """A pytest-benchmark document for a stored run (:func:`harness.rundir.store.read_run`).
    An ``ab`` run's two sides are two benchmarks (``threads@A``), never one."""
    groups: dict[tuple[str, str], list[Trial]] = {}
    stats: dict[tuple[str, str], list[float]] = {}
    failed: dict[tuple[str, str], int] = {}
    for t in run.measured:
        key = (t.scenario, t.label)
        thr = t.metric("throughput")
        if t.ok and thr is not None and thr > 0:
            groups.setdefault(key, []).append(t)
            stats.setdefault(key, []).append(1 / thr)
        else:
            failed[key] = failed.get(key, 0) + 1
    warmups: dict[tuple[str, str], int] = {}
    for t in run.trials:
        if t.warmup:
            warmups[(t.scenario, t.label)] = warmups.get((t.scenario, t.label), 0) + 1
    benchmarks = []
    for (scenario, strategy), trials in groups.items():
        info = extra_info(trials)
        info.update(trials=len(trials), trials_not_ok=failed.get((scenario, strategy), 0))
        benchmarks.append(
            {
                "group": scenario,
                "name": f"{scenario}[{strategy}]",
                "fullname": f"queuebench::{scenario}[{strategy}]",
                "params": {"strategy": strategy},
                "param": strategy,
                "extra_info": info,
                "options": {
                    "disable_gc": False,
                    "timer": "perf_counter_ns (seconds per item, measured in the worker)",
                    "min_rounds": len(trials),
                    "max_time": 0,
                    "min_time": 0,
                    "warmup": warmups.get((scenario, strategy), 0) > 0,
                },
                "stats": bench_stats(stats[(scenario, strategy)]),
            }
        )
    fp = run.fingerprint
    commit = (fp.git_commit if fp else None) or ""
    return {
        "machine_info": machine_info(fp) if fp else {},
        "commit_info": {
            "id": commit.removesuffix("-dirty") or None,
            "time": run.started_at,
            "author_time": run.started_at,
            "dirty": commit.endswith("-dirty"),
            "project": "queuebench",
            "branch": None,
        },
        "benchmarks": benchmarks,
        "datetime": run.finished_at or run.started_at,
        "version": FORMAT_VERSION,
    }


def export(run: Run) -> Exported:
    """The registry's entry (:data:`harness.exports.FORMATS`): the run as pytest-benchmark JSON."""
    data = to_pytest_benchmark(run)
    return Exported(json.dumps(data, indent=2) + "\n", len(data["benchmarks"]), "benchmark")
