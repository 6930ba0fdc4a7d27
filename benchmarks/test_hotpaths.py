"""Hot paths of the harness, in pytest-benchmark form, so the harness's own regressions can be
gated the way users gate theirs (`pytest benchmarks/test_hotpaths.py --benchmark-only`,
`--benchmark-compare-fail=median:10%`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import metrics, runner
from strategies import base

N_RECORDS = 1_000_000


@pytest.fixture(scope="module")
def big_scratch(tmp_path_factory: Any) -> Path:
    """A trial's scratch dir holding 1M records over 4 readers and 4 writers' stamps."""
    scratch = tmp_path_factory.mktemp("scratch")
    wl = base.Workload(4, 4, N_RECORDS // 4, scratch=str(scratch))
    writers = [base.WriterSide(wl, w) for w in range(4)]
    readers = [base.ReaderSide(wl, r) for r in range(4)]
    for seq in range(wl.items_per_writer):
        for ws in writers:
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            readers[seq % 4].consume(item)
    return scratch


def test_stamping_per_item(benchmark: Any, tmp_path: Path) -> None:
    """One item's instrumentation: writer make + enqueued stamp + reader consume (10k items a round)."""
    wl = base.Workload(1, 1, 10_000, payload_bytes=100, scratch=str(tmp_path))

    def run() -> None:
        ws, rs = base.WriterSide(wl, 0), base.ReaderSide(wl, 0)
        for seq in range(10_000):
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            rs.consume(item)

    benchmark(run)


def test_record_decoding_1m(benchmark: Any, big_scratch: Path) -> None:
    rows, enqueued = benchmark(runner.read_records, big_scratch, 4, N_RECORDS // 4)
    assert rows.shape == (N_RECORDS, base.RECORD_WIDTH)
    assert (enqueued != base.UNKNOWN).all()


def test_metrics_on_1m_records(benchmark: Any, big_scratch: Path) -> None:
    rows, enqueued = runner.read_records(big_scratch, 4, N_RECORDS // 4)
    records = metrics.join_records(rows, enqueued, N_RECORDS // 4)
    wl = base.Workload(4, 4, N_RECORDS // 4)
    meta = {"start": int(records[:, metrics.PRODUCED].min()), "wall_ns": 1, "setup_start": 1}
    m = benchmark(metrics.trial_metrics, records, wl, meta, 2.0)
    assert m["exactly_once"] and m["consumed"] == N_RECORDS
    assert np.isfinite(m["e2e_p99_ms"])
