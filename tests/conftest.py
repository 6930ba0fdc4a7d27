"""Shared fixtures: small workloads and a direct path to the runner."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from harness import runner
from strategies import base, work

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
START_METHODS = [m for m in ("fork", "forkserver", "spawn") if m in mp.get_all_start_methods()]


def small_workload(start_method: str | None = None, **overrides: object) -> base.Workload:
    fields: dict[str, object] = {
        "writers": 3,
        "readers": 2,
        "items_per_writer": 8,
        "payload_bytes": 32,
        "writer_work": work.WorkSpec("io", 0.2),
        "reader_work": work.WorkSpec("io", 1.0, "uniform"),
        "start_method": start_method,
        "seed": 7,
    }
    fields.update(overrides)
    return base.Workload(**fields)  # type: ignore[arg-type]


def run(strategy: str, workload: base.Workload, timeout: float = 60.0) -> runner.TrialOutput:
    return runner.run_trial(runner.current_python(), strategy, workload, timeout)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"
