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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.rundir import store
from harness.rundir.model import Run
from strategies import base, kinds, records

# Column indices of a record row: the layout lives in strategies.records.
W, S, PRODUCED, ENQUEUED, DEQUEUED, DONE, READER, WORK_CPU = (
    records.WRITER,
    records.SEQ,
    records.PRODUCED,
    records.ENQUEUED,
    records.DEQUEUED,
    records.DONE,
    records.READER,
    records.WORK_CPU,
)
UNKNOWN = records.UNKNOWN
PERCENTILES = (50, 90, 99)
LATENCIES = ("wait", "put", "service", "e2e")


def join_records(rows: np.ndarray, writes: np.ndarray, items_per_writer: int) -> np.ndarray:
    """Fill the reader rows' ``enqueued`` column, in place, from the writers' rows
    (``writes``: one row per item, indexed writer * items_per_writer + seq)."""
    key = rows[:, W] * items_per_writer + rows[:, S]
    valid = (rows[:, S] >= 0) & (rows[:, S] < items_per_writer) & (key >= 0) & (key < len(writes))
    rows[:, ENQUEUED] = UNKNOWN
    rows[valid, ENQUEUED] = writes[key[valid], records.W_ENQUEUED]
    return rows


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
        values = values[records[:, ENQUEUED] != UNKNOWN]
    return values


def latencies(records: np.ndarray) -> dict[str, np.ndarray]:
    return {name: latency(records, name) for name in LATENCIES}


def _work_seconds(wl: base.Workload, role: str) -> np.ndarray:
    """(writers, items_per_writer) nominal seconds of one side's work per item."""
    spec = getattr(wl, f"{role}_work")
    n = wl.items_per_writer
    out = np.zeros((wl.writers, n))
    if spec.kind != "none" and spec.ms > 0:
        for w in range(wl.writers):
            out[w] = kinds.durations(spec, wl.seed, role, w, n)
    return out


def ideal_makespan(
    wl: base.Workload,
    parallelism: float,
    rows: np.ndarray | None = None,
    writes: np.ndarray | None = None,
) -> float:
    """A lower bound (seconds) on any strategy's makespan for this workload on this machine.

    The largest of: each item's writer work so far (its writer's items up to it) plus its own
    reader work (the last item's is the writer's whole work plus it); the
    first item's writer work plus all reader work spread over ``readers``; all CPU-bound
    work spread over the machine's usable cores (``parallelism``); all reader CPU-bound
    work spread over min(readers, parallelism); a side whose kind serves at most
    ``capacity`` items at once at full speed, spread over what it sustains with the pool
    (:meth:`~strategies.kinds.Kind.sustained`: min(pool, capacity) for a plain limit).

    CPU-bound work counts what each item really cost in CPU where it was measured
    (``rows``/``writes``: the ``work_cpu`` fields), not its nominal ``ms``: calibration
    is a model, and a lower bound built on a model can be beaten. Injected delays are work too:
    a ``slow_spike`` item's reader work counts ``spike_factor`` times, as the worker runs it.
    Zero without work.
    """
    wd, rd = _work_seconds(wl, "writer"), _work_seconds(wl, "reader")
    if wl.faults is not None and wl.faults.slow_spike and rd.size:  # as strategies.faults injects it
        spiked = [n for n in wl.faults.slow_spike if 0 <= n < rd.size]
        rd.flat[spiked] *= wl.faults.spike_factor
    wkind, rkind = kinds.get(wl.writer_work.kind), kinds.get(wl.reader_work.kind)
    if rkind.cpu_bound and rows is not None and len(rows):
        known = (rows[:, WORK_CPU] >= 0) & (rows[:, W] >= 0) & (rows[:, W] < wl.writers)
        known &= (rows[:, S] >= 0) & (rows[:, S] < wl.items_per_writer)
        rd[rows[known, W], rows[known, S]] = rows[known, WORK_CPU] / 1e9
    if wkind.cpu_bound and writes is not None and len(writes) == wd.size:
        cpu = writes[:, records.W_WORK_CPU].reshape(wd.shape)
        wd = np.where(cpu >= 0, cpu / 1e9, wd)
    if not wd.any() and not rd.any():
        return 0.0
    writer_sums = wd.sum(axis=1)
    reader_total = float(rd.sum())
    first = float(wd[:, 0].min())
    bounds = [float((np.cumsum(wd, axis=1) + rd).max()), first + reader_total / wl.readers]
    cpu_total = 0.0
    if wkind.cpu_bound:
        cpu_total += float(writer_sums.sum())
    if rkind.cpu_bound:
        cpu_total += reader_total
        bounds.append(reader_total / max(min(wl.readers, parallelism), 1e-9))
    bounds.append(cpu_total / max(parallelism, 1e-9))
    # A kind that gets at most so much work done at once, whatever the pool size (Kind.sustained).
    if (cap := rkind.sustained(wl.reader_work, wl.readers)) is not None:
        bounds.append(first + reader_total / cap)
    if (cap := wkind.sustained(wl.writer_work, wl.writers)) is not None:
        bounds.append(float(writer_sums.sum()) / cap)
    return max(bounds)


def nominal_ideal_makespan(wl: base.Workload, parallelism: float) -> float:
    """:func:`ideal_makespan` before anything runs: every item's work at its mean (``ms``), in
    closed form (no array per item, so an absurd size costs nothing). Equal to the measured
    bound for fixed durations; the pre-flight's estimate of a trial's time."""

    def mean_s(spec: base.WorkSpec) -> float:
        return spec.ms / 1000.0 if spec.ms > 0 and kinds.get(spec.kind).timed else 0.0

    wm, rm = mean_s(wl.writer_work), mean_s(wl.reader_work)
    if not wm and not rm:
        return 0.0
    wkind, rkind = kinds.get(wl.writer_work.kind), kinds.get(wl.reader_work.kind)
    n, total = wl.items_per_writer, wl.writers * wl.items_per_writer
    writer_sum, reader_total = n * wm, total * rm
    bounds = [writer_sum + rm, wm + reader_total / wl.readers]
    cpu_total = total * wm if wkind.cpu_bound else 0.0
    if rkind.cpu_bound:
        cpu_total += reader_total
        bounds.append(reader_total / max(min(wl.readers, parallelism), 1e-9))
    bounds.append(cpu_total / max(parallelism, 1e-9))
    if (cap := rkind.sustained(wl.reader_work, wl.readers)) is not None:
        bounds.append(wm + reader_total / cap)
    if (cap := wkind.sustained(wl.writer_work, wl.writers)) is not None:
        bounds.append(total * wm / cap)
    return max(bounds)


def work_cpu_ms(rows: np.ndarray, writes: np.ndarray) -> tuple[float, float]:
    """Mean measured CPU per item of the reader's and the writer's work (ms; NaN: not measured)."""
    r = rows[:, WORK_CPU] if len(rows) else rows[:0, 0]
    w = writes[:, records.W_WORK_CPU] if len(writes) else writes[:0, 0]
    r, w = r[r >= 0], w[w >= 0]
    return (float(r.mean()) / 1e6 if len(r) else math.nan, float(w.mean()) / 1e6 if len(w) else math.nan)


def trial_metrics(
    rows: np.ndarray,
    wl: base.Workload,
    meta: dict[str, Any],
    parallelism: float,
    writes: np.ndarray | None = None,
    memory: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every per-trial figure, as a flat dict of plain numbers (the run.json trial summary).

    Time windows, from the worker's stamps (perf_counter_ns):
    ``total`` = the strategy's first step to its return (what a user waits for);
    ``setup`` = first step to the start line (pools, processes, servers being built);
    ``makespan`` = start line to the last item done; ``teardown`` = last item done to return;
    ``first_read`` = first step to the first item dequeued.
    """
    writes = writes if writes is not None else np.empty((0, records.WRITER_WIDTH), dtype=np.int64)
    d = delivery(rows, wl.writers, wl.items_per_writer)
    m: dict[str, Any] = {
        "expected": d.expected,
        "consumed": d.consumed,
        "lost": d.lost,
        "duplicated": d.duplicated,
        "unexpected": d.unexpected,
        "exactly_once": d.exactly_once,
        "max_concurrency": max_concurrency(rows[:, DEQUEUED], rows[:, DONE]),
        "pool_size": wl.readers,
    }
    start = meta.get("start") or 0
    last_done = int(rows[:, DONE].max()) if len(rows) else 0
    makespan = (last_done - start) / 1e9 if len(rows) and start else math.nan
    m["makespan_s"] = float(makespan)
    m["throughput"] = d.unique / makespan if makespan and makespan > 0 else math.nan
    # Items produced before the start line: the makespan would not contain their work.
    m["produced_before_start"] = int(np.count_nonzero(rows[:, PRODUCED] < start)) if start else 0
    t0, t1 = meta.get("strategy_start") or 0, meta.get("strategy_end") or 0
    total = (t1 - t0) / 1e9 if t0 and t1 else math.nan
    m["total_s"] = total
    m["throughput_total"] = d.unique / total if total and total > 0 else math.nan
    m.update(littles_law(rows, t0, t1, d.unique))
    m["setup_s"] = (start - t0) / 1e9 if start and t0 else math.nan
    m["teardown_s"] = (t1 - last_done) / 1e9 if t1 and last_done else math.nan
    # The first step to the first item read: what a pipeline pays once before its readers work
    # (pools started, the first item made), however many items follow.
    m["first_read_s"] = (int(rows[:, DEQUEUED].min()) - t0) / 1e9 if len(rows) and t0 else math.nan
    for name in LATENCIES:  # one at a time: 1M-item runs keep a single temporary array
        for k, v in percentiles(latency(rows, name)).items():
            m[f"{name}_{k}_ms"] = v
    ideal = ideal_makespan(wl, parallelism, rows, writes)
    m["ideal_makespan_s"] = ideal
    # Against the whole workload's ideal, only when the whole workload was delivered.
    complete = d.lost == 0 and d.unexpected == 0
    m["efficiency"] = ideal / makespan if complete and ideal > 0 and makespan > 0 else math.nan
    m["reader_work_cpu_ms"], m["writer_work_cpu_ms"] = work_cpu_ms(rows, writes)
    # A trial killed before its end (timeout, crash) never reported its wall: unknown, not 0.
    wall = meta["wall_ns"] / 1e9 if meta.get("wall_ns") else math.nan
    known = meta.get("cpu_children_measured", True)  # False: children never reaped (forkserver, Windows)
    m["cpu_user_s"] = meta.get("cpu_user", math.nan) if known else math.nan
    m["cpu_sys_s"] = meta.get("cpu_sys", math.nan) if known else math.nan
    m["trial_wall_s"] = wall
    # Over the same window as throughput_total (the whole strategy call).
    m["cpu_parallelism"] = (m["cpu_user_s"] + m["cpu_sys_s"]) / wall if wall > 0 else math.nan
    mem = memory or {}
    m["peak_rss_mb"] = float(meta.get("peak_rss_self", math.nan)) / 2**20
    m.update(memory_metrics(mem, m["peak_rss_mb"]))
    # What each side's work kind saw of the trial (e.g. the service's busiest moment).
    for role, stats in (meta.get("kinds") or {}).items():
        side = getattr(wl, f"{role}_work", None)
        if side is not None and isinstance(stats, dict):
            m.update(kinds.get(side.kind).trial_metrics(role, stats))
    return m


#: Little's law may be off by this much (relative) before a trial is flagged: rounding only,
#: since both sides are sums of the same integer nanosecond stamps.
LITTLE_TOLERANCE = 1e-9


def littles_law(rows: np.ndarray, t0: int, t1: int, unique: int) -> dict[str, float]:
    """Little's law over the total window [t0, t1]: L (the time-average number of items in the
    system, produced to done, each item's interval clipped to the window) against
    λ × W (unique items ÷ the window, times the mean time in the system over every record).

    For a sound trial the two are equal (both come to Σ e2e ÷ window): a stamp outside the
    window (a broken clock, a bad window), a negative time in the system, or a record counted
    twice or not at all makes them differ. Integer arithmetic: exact, whatever the trial's size."""
    if not len(rows) or not t0 or not t1 or t1 <= t0 or not unique:
        return {}
    produced, done = rows[:, PRODUCED], rows[:, DONE]
    inside = int((np.clip(done, t0, t1) - np.clip(produced, t0, t1)).clip(min=0).sum())
    e2e = int((done - produced).sum())
    window = t1 - t0
    items_in_system = inside / window
    lambda_w = (unique / window) * (e2e / len(rows))
    gap = abs(inside * len(rows) - e2e * unique) / max(abs(e2e * unique), 1)
    return {"littles_l": items_in_system, "littles_lambda_w": lambda_w, "littles_gap": gap}


def littles_law_problems(m: Mapping[str, Any]) -> list[str]:
    """A passing trial's Little's law disagreement, in words (empty: it holds or is unknown)."""
    gap = m.get("littles_gap")
    if gap is None or not gap > LITTLE_TOLERANCE:
        return []
    return [
        f"Little's law broken: {m['littles_l']:.6g} items in the system on average, but throughput × mean time "
        f"in the system is {m['littles_lambda_w']:.6g} (a stamp outside the trial's window, or a record lost "
        "or counted twice)"
    ]


#: The processes whose share of the tree's memory is recorded (``<role>_mb``).
MEMORY_ROLES = ("worker", "writer", "reader", "manager", "other")


def memory_metrics(mem: Mapping[str, Any], worker_hwm_mb: float) -> dict[str, float]:
    """The trial's memory figures in MB (harness.running.launchers.memory): the tree's peak, the
    largest process's (never below the worker's own VmHWM, which is one process's peak), each
    role's share of the tree at its sampled PSS peak, and how many RSS samples were taken."""
    if not mem.get("tree_peak_bytes"):  # never measured (no sample, or none weighed)
        return {"tree_peak_mb": math.nan, "largest_process_peak_mb": math.nan}
    mb = 2.0**20
    largest = float(mem.get("largest_process_peak_bytes", 0.0)) / mb
    out = {
        "tree_peak_mb": float(mem.get("tree_peak_bytes", 0.0)) / mb,
        "largest_process_peak_mb": max(largest, worker_hwm_mb) if math.isfinite(worker_hwm_mb) else largest,
        "memory_samples": int(mem.get("samples", 0)),
    }
    if "sampled_tree_peak_bytes" in mem:
        out["sampled_tree_peak_mb"] = float(mem["sampled_tree_peak_bytes"]) / mb
    if "held_back_samples" in mem:  # ticks the sampler dropped: a process in them left unweighed
        out["memory_held_back"] = int(mem["held_back_samples"])
    for role in MEMORY_ROLES:
        if f"{role}_bytes" in mem:
            out[f"{role}_mb"] = float(mem[f"{role}_bytes"]) / mb
    return out


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


def pool_busy(run: Run, run_dir: Path) -> dict[tuple[str, str], float]:
    """Median over the passing repeats of reader-busy time ÷ (pool size × makespan): how full each
    strategy kept the pool, per (scenario, strategy), like every other median of the summary. Trials
    that did not pass (their figures are not the strategy's) and trials without samples are skipped."""

    shares: dict[tuple[str, str], list[float]] = {}
    for t in run.measured:
        makespan, pool = t.metric("makespan_s"), t.metric("pool_size")
        if not t.ok or not t.samples or not makespan or not pool:
            continue
        busy_s = reader_busy_s(store.load_samples(run_dir, t))
        shares.setdefault((t.scenario, t.strategy), []).append(busy_s / (pool * makespan))
    return {key: float(np.median(v)) for key, v in shares.items()}
