"""Shared fixtures: small workloads and a direct path to a launcher."""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import sys
import tempfile
from pathlib import Path

import pytest

from harness.running import launchers
from harness.running.launchers import TrialOutput, TrialSpec
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


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What the tests run against, at the top of every log (CI's too): the Docker engine, the
    Dask package, the free-threaded build. Each line says whether it is there."""
    import importlib.util
    import subprocess

    from strategies.kinds.docker_engine import engine_url

    lines = []
    try:
        import docker

        version = docker.DockerClient(base_url=engine_url(), timeout=5).version().get("Version", "?")
        lines.append(f"queuebench: Docker engine {version} at {engine_url()}: the Docker tests run against it")
    except Exception as exc:  # any failure means: no engine to test against
        lines.append(f"queuebench: no Docker engine at {engine_url()} ({type(exc).__name__}): the Docker tests skip")
    dask = importlib.util.find_spec("distributed") is not None
    said = "installed: the Dask tests run" if dask else "missing: the Dask tests skip"
    lines.append(f"queuebench: distributed {said}")
    found = subprocess.run([str(ROOT / "tools" / "python-ft.sh"), "--path"], capture_output=True, text=True)
    ft = found.stdout.strip() if found.returncode == 0 else "none (its tests skip)"
    lines.append(f"queuebench: free-threaded build {ft}")
    return lines
