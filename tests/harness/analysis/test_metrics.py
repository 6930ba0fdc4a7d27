"""Metrics on synthetic traces with exact expected values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.analysis import metrics
from strategies import base, records


def rec(rows: list[tuple[int, ...]]) -> np.ndarray:
    """Reader rows given without ``work_cpu``: it is unknown (not CPU-bound work)."""
    full = [(*row, records.UNKNOWN) for row in rows]
    return np.array(full, dtype=np.int64).reshape(-1, records.WIDTH)


def test_delivery_counts_lost_duplicated_unexpected() -> None:
    """Two writers x two items: one lost, one duplicated twice, one out of range."""
    r = rec(
        [
            (0, 0, 0, 0, 0, 0, 1),
            (0, 0, 0, 0, 0, 0, 1),
            (0, 0, 0, 0, 0, 0, 1),
            (1, 0, 0, 0, 0, 0, 1),
            (1, 1, 0, 0, 0, 0, 1),
            (5, 0, 0, 0, 0, 0, 1),
        ]
    )
    d = metrics.delivery(r, writers=2, items_per_writer=2)
    assert (d.expected, d.consumed, d.unique, d.lost, d.duplicated, d.unexpected) == (4, 6, 3, 1, 2, 1)
    assert not d.exactly_once


def test_delivery_exactly_once() -> None:
    r = rec([(w, s, 0, 0, 0, 0, 0) for w in range(3) for s in range(4)])
    assert metrics.delivery(r, 3, 4).exactly_once


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        ([], 0),
        ([(0, 10)], 1),
        ([(0, 10), (10, 20)], 1),  # touching intervals do not overlap
        ([(0, 10), (5, 15), (9, 12)], 3),
        ([(0, 10), (5, 15), (10, 12)], 2),
        ([(0, 100)] + [(i, i + 1) for i in range(50)], 2),
    ],
)
def test_max_concurrency(intervals: list[tuple[int, int]], expected: int) -> None:
    starts = np.array([a for a, _ in intervals], dtype=np.int64)
    ends = np.array([b for _, b in intervals], dtype=np.int64)
    assert metrics.max_concurrency(starts, ends) == expected


def test_percentiles_in_ms() -> None:
    values = np.arange(1, 101, dtype=np.int64) * 1_000_000  # 1..100 ms
    p = metrics.percentiles(values)
    assert p["p50"] == pytest.approx(50.5)
    assert p["p90"] == pytest.approx(90.1)
    assert p["p99"] == pytest.approx(99.01)
    assert p["max"] == 100.0
    assert all(math.isnan(v) for v in metrics.percentiles(np.empty(0, np.int64)).values())


def test_join_records_and_latencies() -> None:
    reads = rec([(0, 1, 100, -1, 400, 900, 7), (1, 0, 50, -1, 60, 70, 8)])
    # writers=2, ipw=2: rows of (enqueued, work_cpu), indexed writer * ipw + seq
    writes = np.array(
        [[110, metrics.UNKNOWN], [120, metrics.UNKNOWN], [55, metrics.UNKNOWN], [metrics.UNKNOWN, metrics.UNKNOWN]],
        dtype=np.int64,
    )
    r = metrics.join_records(reads, writes, items_per_writer=2)
    u = metrics.UNKNOWN
    assert r.tolist() == [[0, 1, 100, 120, 400, 900, 7, u], [1, 0, 50, 55, 60, 70, 8, u]]
    lat = metrics.latencies(r)
    assert lat["wait"].tolist() == [300, 10]
    assert lat["put"].tolist() == [20, 5]
    assert lat["service"].tolist() == [500, 10]
    assert lat["e2e"].tolist() == [800, 20]


def test_ideal_makespan_io() -> None:
    """10 writers x 10 items, writer 5 ms, reader 20 ms on 3 readers: 5 ms + 100*20/3 ms."""
    wl = base.Workload(10, 3, 10, writer_work=base.WorkSpec("io", 5), reader_work=base.WorkSpec("io", 20))
    assert metrics.ideal_makespan(wl, parallelism=2.0) == pytest.approx(0.005 + 100 * 0.020 / 3)


def test_ideal_makespan_writer_bound() -> None:
    """Slow writers: one writer's 10 x 50 ms plus its last item's 1 ms read."""
    wl = base.Workload(2, 4, 10, writer_work=base.WorkSpec("io", 50), reader_work=base.WorkSpec("io", 1))
    assert metrics.ideal_makespan(wl, parallelism=2.0) == pytest.approx(0.5 + 0.001)


def test_ideal_makespan_cpu_limited_by_machine() -> None:
    """40 items x 4 ms of cpu on 8 readers but a 2-core machine: 160 ms / 2."""
    wl = base.Workload(4, 8, 10, reader_work=base.WorkSpec("cpu", 4))
    assert metrics.ideal_makespan(wl, parallelism=2.0) == pytest.approx(0.08)


def test_ideal_makespan_zero_for_no_work() -> None:
    assert metrics.ideal_makespan(base.Workload(2, 2, 5), parallelism=2.0) == 0.0


def test_trial_metrics_on_synthetic_trace() -> None:
    """Two items, one reader at a time, 1 s makespan: throughput 2/s, efficiency from ideal."""
    s = 1_000_000_000
    r = rec([(0, 0, 0, 0, 0, s // 2, 1), (0, 1, s // 2, s // 2, s // 2, s, 1)])
    wl = base.Workload(1, 1, 2, reader_work=base.WorkSpec("io", 400))
    meta = {"start": 1, "setup_start": 1, "wall_ns": 2 * s, "cpu_user": 0.5, "cpu_sys": 0.5}
    m = metrics.trial_metrics(r, wl, meta, parallelism=1.0)
    assert m["exactly_once"] and m["max_concurrency"] == 1
    assert m["makespan_s"] == pytest.approx(1.0)
    assert m["throughput"] == pytest.approx(2.0)
    assert m["ideal_makespan_s"] == pytest.approx(0.8)
    assert m["efficiency"] == pytest.approx(0.8)
    assert m["service_p50_ms"] == pytest.approx(500.0)
    assert m["cpu_parallelism"] == pytest.approx(0.5)


def test_ideal_makespan_counts_an_injected_slow_spike() -> None:
    """faults.toml's slow-spike: item 4 reads 100x longer. The audit found 7–9% efficiency because
    the ideal left the injected delay out; the spiked item alone takes its writer's first five
    items (5 x 1 ms) and then 100 x 10 ms to read, which no strategy can beat."""
    from strategies.faults import FaultSpec

    work = {"writer_work": base.WorkSpec("io", 1), "reader_work": base.WorkSpec("io", 10)}
    plain = base.Workload(4, 3, 10, **work)  # type: ignore[arg-type]
    spiked = base.Workload(4, 3, 10, faults=FaultSpec(slow_spike=(4,), spike_factor=100), **work)  # type: ignore[arg-type]
    assert metrics.ideal_makespan(plain, parallelism=2.0) == pytest.approx(0.001 + 40 * 0.010 / 3)
    assert metrics.ideal_makespan(spiked, parallelism=2.0) == pytest.approx(0.005 + 100 * 0.010)
