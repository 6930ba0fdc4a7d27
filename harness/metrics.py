"""Per-trial metrics from per-item records, as DESIGN.md defines them (numpy only).

Latencies (all from ``perf_counter_ns`` stamps, reported in milliseconds):

* ``wait``    = dequeued - produced: put, transit and time spent queued. (DESIGN.md
  said dequeued - enqueued; but a reader can take an item before the writer's
  ``put()`` returns, which made that difference negative on fast queues.)
* ``put``     = enqueued - produced: how long a writer's put blocked (backpressure).
* ``service`` = done - dequeued: the reader's work.
* ``e2e``     = done - produced.

Makespan runs from the moment the strategy releases its writers (its reader pool
is already built) to the last item done; throughput = unique items / makespan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from strategies import base, work

W, S, PRODUCED, ENQUEUED, DEQUEUED, DONE, READER = range(7)
PERCENTILES = (50, 90, 99)
LATENCIES = ("wait", "put", "service", "e2e")


def join_records(records: np.ndarray, enqueued: np.ndarray, items_per_writer: int) -> np.ndarray:
    """Fill the (n, 7) records' ``enqueued`` column, in place, from the writers' flat stamps."""
    key = records[:, W] * items_per_writer + records[:, S]
    valid = (records[:, S] >= 0) & (records[:, S] < items_per_writer) & (key >= 0) & (key < len(enqueued))
    records[:, ENQUEUED] = base.UNKNOWN
    records[valid, ENQUEUED] = enqueued[key[valid]]
    return records


@dataclass(frozen=True)
class Delivery:
    expected: int
    consumed: int
    unique: int
    lost: int
    duplicated: int
    unexpected: int

    @property
    def exactly_once(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0


def delivery(records: np.ndarray, writers: int, items_per_writer: int) -> Delivery:
    expected = writers * items_per_writer
    w, s = records[:, W], records[:, S]
    valid = (w >= 0) & (w < writers) & (s >= 0) & (s < items_per_writer)
    counts = np.bincount(w[valid] * items_per_writer + s[valid], minlength=expected)
    return Delivery(
        expected=expected,
        consumed=len(records),
        unique=int(np.count_nonzero(counts)),
        lost=int(np.count_nonzero(counts == 0)),
        duplicated=int((counts[counts > 1] - 1).sum()),
        unexpected=int((~valid).sum()),
    )


def max_concurrency(starts: np.ndarray, ends: np.ndarray) -> int:
    """Largest number of [start, end) intervals open at once (an end at t closes before a start at t)."""
    if len(starts) == 0:
        return 0
    # Open at a start t: starts at or before t, less ends at or before t (an end at t closes first).
    s, e = np.sort(starts), np.sort(ends)
    return int((np.arange(1, len(s) + 1) - np.searchsorted(e, s, side="right")).max())


def percentiles(values_ns: np.ndarray) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds (NaN when there are no values)."""
    if len(values_ns) == 0:
        return {**{f"p{p}": math.nan for p in PERCENTILES}, "max": math.nan}
    ms = values_ns.astype(np.float64) / 1e6
    out = {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(ms, PERCENTILES), strict=True)}
    out["max"] = float(ms.max())
    return out


_SPANS = {
    "wait": (PRODUCED, DEQUEUED),
    "put": (PRODUCED, ENQUEUED),
    "service": (DEQUEUED, DONE),
    "e2e": (PRODUCED, DONE),
}


def latency(records: np.ndarray, name: str) -> np.ndarray:
    """One latency (ns) per record; ``put`` only where the enqueued stamp is known."""
    begin, end = _SPANS[name]
    values: np.ndarray = records[:, end] - records[:, begin]
    if name == "put":
        values = values[records[:, ENQUEUED] != base.UNKNOWN]
    return values


def latencies(records: np.ndarray) -> dict[str, np.ndarray]:
    return {name: latency(records, name) for name in LATENCIES}


def ideal_makespan(wl: base.Workload, parallelism: float) -> float:
    """A lower bound (seconds) on any strategy's makespan for this workload on this machine.

    The largest of: each writer's own work plus the reader work of its last item; the
    first item's writer work plus all reader work spread over ``readers``; all cpu
    work spread over the machine's usable cores (``parallelism``); all reader cpu work spread
    over min(readers, parallelism); ``service`` work spread over min(pool, capacity).
    Zero when the workload has no work at all.
    """
    n = wl.items_per_writer
    writer_sums, writer_firsts, reader_total, writer_bound = [], [], 0.0, 0.0
    for w in range(wl.writers):  # one writer at a time: 1M items need no 1M-item lists at once
        wd = work.durations(wl.writer_work, wl.seed, "writer", w, n)
        rd = work.durations(wl.reader_work, wl.seed, "reader", w, n)
        writer_sums.append(sum(wd))
        writer_firsts.append(wd[0])
        reader_total += sum(rd)
        writer_bound = max(writer_bound, writer_sums[-1] + rd[-1])
    first = min(writer_firsts)
    bounds = [writer_bound, first + reader_total / wl.readers]
    cpu = 0.0
    if wl.writer_work.kind == "cpu":
        cpu += sum(writer_sums)
    if wl.reader_work.kind == "cpu":
        cpu += reader_total
        bounds.append(reader_total / max(min(wl.readers, parallelism), 1e-9))
    bounds.append(cpu / max(parallelism, 1e-9))
    # A service serves at most `capacity` requests at full speed, whatever the pool size.
    if wl.reader_work.kind == "service":
        bounds.append(first + reader_total / min(wl.readers, max(wl.reader_work.capacity, 1)))
    if wl.writer_work.kind == "service":
        bounds.append(sum(writer_sums) / min(wl.writers, max(wl.writer_work.capacity, 1)))
    return max(bounds)


def trial_metrics(
    records: np.ndarray,
    wl: base.Workload,
    meta: dict[str, Any],
    parallelism: float,
) -> dict[str, Any]:
    """Every per-trial figure, as a flat dict of plain numbers (the run.json trial summary)."""
    d = delivery(records, wl.writers, wl.items_per_writer)
    m: dict[str, Any] = {
        "expected": d.expected,
        "consumed": d.consumed,
        "lost": d.lost,
        "duplicated": d.duplicated,
        "unexpected": d.unexpected,
        "exactly_once": d.exactly_once,
        "max_concurrency": max_concurrency(records[:, DEQUEUED], records[:, DONE]),
        "pool_size": wl.readers,
    }
    start = meta.get("start") or 0
    makespan = (records[:, DONE].max() - start) / 1e9 if len(records) and start else math.nan
    m["makespan_s"] = float(makespan)
    m["throughput"] = d.unique / makespan if makespan and makespan > 0 else math.nan
    for name in LATENCIES:  # one at a time: 1M-item runs keep a single temporary array
        for k, v in percentiles(latency(records, name)).items():
            m[f"{name}_{k}_ms"] = v
    ideal = ideal_makespan(wl, parallelism)
    m["ideal_makespan_s"] = ideal
    # Against the whole workload's ideal, only when the whole workload was delivered.
    complete = d.lost == 0 and d.unexpected == 0
    m["efficiency"] = ideal / makespan if complete and ideal > 0 and makespan > 0 else math.nan
    wall = meta.get("wall_ns", 0) / 1e9
    cpu = meta.get("cpu_user", math.nan) + meta.get("cpu_sys", math.nan)
    if not meta.get("cpu_children_measured", True):
        cpu = math.nan  # children the worker never reaped (forkserver, Windows): CPU unknown
    known = meta.get("cpu_children_measured", True)
    m["cpu_user_s"] = meta.get("cpu_user", math.nan) if known else math.nan
    m["cpu_sys_s"] = meta.get("cpu_sys", math.nan) if known else math.nan
    m["trial_wall_s"] = wall
    m["setup_s"] = (start - meta["setup_start"]) / 1e9 if start and meta.get("setup_start") else math.nan
    m["cpu_parallelism"] = cpu / wall if wall > 0 else math.nan
    m["peak_rss_mb"] = meta.get("rss_self", 0) / 2**20
    m["peak_child_rss_mb"] = meta.get("rss_children", 0) / 2**20 if known else math.nan
    # The reader-side service's own view (strategies/service.py): busiest moment and timer lag.
    svc = (meta.get("service") or {}).get("reader")
    if svc:
        m["service_requests"] = svc.get("requests", math.nan)
        m["service_peak_active"] = svc.get("peak_active", math.nan)
        m["service_lag_p99_ms"] = svc.get("lag_p99_ms", math.nan)
    return m


# --------------------------------------------------------------------------- #
# Reader occupancy from the per-item records, for the report's figures and tables.


def reader_busy_s(records: np.ndarray) -> float:
    """Total reader time spent on items (sum of done - dequeued), in seconds."""
    return float((records[:, DONE] - records[:, DEQUEUED]).sum()) / 1e9


def busy_readers(records: np.ndarray, start_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Step function of busy readers: times (ms after start) and the count from each time on."""
    starts, ends = records[:, DEQUEUED], records[:, DONE]
    stamps = np.concatenate([ends, starts])
    deltas = np.concatenate([np.full(len(ends), -1), np.full(len(starts), 1)])
    order = np.lexsort((deltas, stamps))  # ends before starts at the same instant, like max_concurrency
    times = (stamps[order] - start_ns) / 1e6
    return np.concatenate([[0.0], times]), np.concatenate([[0], np.cumsum(deltas[order])])


def pool_busy(doc: dict[str, Any], run_dir: Path) -> dict[tuple[str, str], float]:
    """Median over repeats of reader-busy time ÷ (pool size × makespan): how full each strategy kept
    the pool, per (scenario, strategy). Trials without samples are skipped."""
    from harness import store  # reading samples is the store's job; metrics itself stays numpy-only

    shares: dict[tuple[str, str], list[float]] = {}
    for t in doc["trials"]:
        m = t.get("metrics") or {}
        makespan, pool = m.get("makespan_s"), m.get("pool_size")
        if t.get("warmup") or not t.get("samples") or not makespan or not pool:
            continue
        busy_s = reader_busy_s(store.load_samples(run_dir, t))
        shares.setdefault((t["scenario"], t["strategy"]), []).append(busy_s / (pool * makespan))
    return {key: float(np.median(v)) for key, v in shares.items()}
