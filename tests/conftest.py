"""Shared fixtures: small workloads and a direct path to a launcher."""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import sys
import tempfile
from pathlib import Path

import pytest

from harness import launchers
from harness.launchers import TrialOutput, TrialSpec
from strategies import base

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
START_METHODS = [m for m in ("fork", "forkserver", "spawn") if m in mp.get_all_start_methods()]
# The cpu-work calibration cache: the tests' own, never the user's.
os.environ.setdefault("QUEUEBENCH_CACHE", tempfile.mkdtemp(prefix="queuebench-test-cache-"))


def small_workload(start_method: str | None = None, **overrides: object) -> base.Workload:
    fields: dict[str, object] = {
        "writers": 3,
        "readers": 2,
        "items_per_writer": 8,
        "payload_bytes": 32,
        "writer_work": base.WorkSpec("io", 0.2),
        "reader_work": base.WorkSpec("io", 1.0, "uniform"),
        "start_method": start_method,
        "seed": 7,
    }
    fields.update(overrides)
    return base.Workload(**fields)  # type: ignore[arg-type]


#: The worker interpreter of the trials the tests run (default: this one). Set
#: QUEUEBENCH_TEST_PYTHON to run them under another, e.g. a worker env from `make worker-env`.
WORKER_PYTHON = os.environ.get("QUEUEBENCH_TEST_PYTHON") or sys.executable


@functools.cache
def _worker_availability() -> dict[str, list[object]]:
    strategies: dict[str, list[object]] = launchers.make("local", python=WORKER_PYTHON).available()["strategies"]
    return strategies


def skip_unless_available(strategy: str) -> None:
    """Skip (with the worker's reason) a strategy the tests' worker interpreter cannot run:
    an optional package not installed, a Python too old. Asked of the worker, as a run does."""
    ok, why = _worker_availability()[strategy]
    if not ok:
        pytest.skip(f"{strategy} unavailable under {WORKER_PYTHON}: {why}")


def run(strategy: str, workload: base.Workload, timeout: float = 60.0) -> TrialOutput:
    """One trial through the local launcher (a fresh worker process under the watchdog)."""
    return launchers.make("local", python=WORKER_PYTHON).run(TrialSpec(strategy, workload, timeout))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"
