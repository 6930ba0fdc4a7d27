"""Hot paths of the harness, in pytest-benchmark form, so the harness's own regressions can be
gated the way users gate theirs (`pytest benchmarks/test_hotpaths.py --benchmark-only`,
`--benchmark-compare-fail=median:10%`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.analysis import metrics
from harness.running.launchers.collect import read_records
from strategies import base, records
from strategies.instrument import ReaderSide, WriterSide

N_RECORDS = 1_000_000


@pytest.fixture(scope="module")
def big_scratch(tmp_path_factory: Any) -> Path:
    """A trial's scratch dir holding 1M records over 4 readers and 4 writers' stamps."""
    scratch = tmp_path_factory.mktemp("scratch")
    wl = base.Workload(4, 4, N_RECORDS // 4, scratch=str(scratch))
    writers = [WriterSide(wl, w) for w in range(4)]
    readers = [ReaderSide(wl) for _ in range(4)]  # each claims its id (r-0.bin ... r-3.bin)
    for seq in range(wl.items_per_writer):
        for ws in writers:
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            readers[seq % 4].consume(item)
    return scratch


def test_stamping_per_item(benchmark: Any, tmp_path: Path) -> None:
    """One item's instrumentation: writer make + enqueued stamp + reader consume (10k items a round)."""
    rounds = iter(range(1 << 30))

    def sides() -> tuple[tuple[WriterSide, ReaderSide], dict[str, Any]]:
        # A fresh scratch dir a round: a reader claims a new record file each time it is made.
        scratch = tmp_path / str(next(rounds))
        scratch.mkdir()
        wl = base.Workload(1, 1, 10_000, payload_bytes=100, scratch=str(scratch))
        return (WriterSide(wl, 0), ReaderSide(wl)), {}

    def run(ws: WriterSide, rs: ReaderSide) -> None:
        for seq in range(10_000):
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            rs.consume(item)

    benchmark.pedantic(run, setup=sides, rounds=20, warmup_rounds=1)


def test_record_decoding_1m(benchmark: Any, big_scratch: Path) -> None:
    rows, writes = benchmark(read_records, big_scratch, 4, N_RECORDS // 4)
    assert rows.shape == (N_RECORDS, records.WIDTH)
    assert writes.shape == (N_RECORDS, records.WRITER_WIDTH)
    assert (writes[:, records.W_ENQUEUED] != records.UNKNOWN).all()


def test_metrics_on_1m_records(benchmark: Any, big_scratch: Path) -> None:
    rows, writes = read_records(big_scratch, 4, N_RECORDS // 4)
    joined = metrics.join_records(rows, writes, N_RECORDS // 4)
    wl = base.Workload(4, 4, N_RECORDS // 4)
    meta = {"start": int(joined[:, metrics.PRODUCED].min()), "wall_ns": 1, "setup_start": 1}
    m = benchmark(metrics.trial_metrics, joined, wl, meta, 2.0, writes)
    assert m["exactly_once"] and m["consumed"] == N_RECORDS
    assert np.isfinite(m["e2e_p99_ms"])
