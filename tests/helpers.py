"""What many test modules share: paths, small workloads, one trial through the launcher,
synthetic run documents, the interpreters the tests look for, and the wheel in a fresh venv.
Fixtures stay in conftest."""

from __future__ import annotations

import copy
import functools
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from harness.rundir import schema
from harness.rundir.model import Run
from harness.running import launchers
from harness.running.launchers import TrialOutput, TrialSpec
from strategies import base

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
START_METHODS = [m for m in ("fork", "forkserver", "spawn") if m in mp.get_all_start_methods()]


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


# --- synthetic run documents (the gate, reports, exports) ---------------------------------

FINGERPRINT = {
    "host": "ci",
    "os": "Linux",
    "os_release": "6.1",
    "arch": "x86_64",
    "cpu_model": "AMD EPYC",
    "logical_cores": 2,
    "physical_cores": 2,
    "usable_cores": 2,
    "effective_parallelism": 1.9,
    "load_average": [0.1, 0.1, 0.1],
    "python": {"implementation": "CPython", "version": "3.11.7", "build": "b", "compiler": "GCC", "gil_enabled": True},
    "start_method": "fork",
    "packages": {"queuebench": "0.1.0"},
    "git_commit": "abc",
}
DEFINITION = {
    "name": "io",
    "description": "x",
    "writers": 2,
    "readers": 1,
    "items_per_writer": 20,
    "reader_work": {"kind": "io", "ms": 4.0},
    "repeats": 10,
}


def spread(center: float, n: int = 10, width: float = 0.01) -> list[float]:
    """n values evenly spread over center x (1 ± width/2): tight, deterministic noise."""
    return [center * (1 + width * (i / (n - 1) - 0.5)) for i in range(n)]


def make_doc(
    values: dict[tuple[str, str], list[float]], key: str = "throughput", statuses: dict[str, str] | None = None
) -> dict[str, Any]:
    """A run document with one measured trial per value (plus one warmup per pair)."""
    trials = []
    for (scenario, strategy), vals in values.items():
        trials.append(
            {"id": "w", "scenario": scenario, "strategy": strategy, "warmup": True, "status": "ok", "errors": []}
            | {"metrics": {key: 1.0}}
        )
        for i, v in enumerate(vals):
            status = (statuses or {}).get(f"{strategy}-{i}", "ok")
            trials.append(
                {
                    "id": f"{scenario}-{strategy}-r{i}",
                    "scenario": scenario,
                    "strategy": strategy,
                    "repeat": i,
                    "warmup": False,
                    "status": status,
                    "errors": [] if status == "ok" else ["exactly-once broken: lost 1"],
                    "metrics": {key: v},
                }
            )
    names = {s for s, _ in values}
    return {
        "schema_version": 1,
        "tool": "queuebench",
        "status": "complete",
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
        "fingerprint": copy.deepcopy(FINGERPRINT),
        "options": {"strategy_options": {}},
        "scenarios": {n: {"source": "x.toml", "definition": copy.deepcopy({**DEFINITION, "name": n})} for n in names},
        "trials": trials,
    }


def as_run(doc: dict[str, Any]) -> Run:
    """The typed run of a synthetic document, checked by the schema as a stored run.json is
    (a copy: the document stays as it was, for a test to change and parse again)."""
    return schema.parse(copy.deepcopy(doc))


def make_run(
    values: dict[tuple[str, str], list[float]], key: str = "throughput", statuses: dict[str, str] | None = None
) -> Run:
    """:func:`make_doc`, parsed: what the gate, reports and exports read."""
    return as_run(make_doc(values, key, statuses))


def write_run(path: Path, doc: dict[str, Any]) -> Path:
    (path / "samples").mkdir(parents=True)
    (path / "run.json").write_text(json.dumps(doc))
    (path / "summary.csv").write_text("scenario,strategy\n")
    (path / "samples" / "x.parquet").write_bytes(b"not really")
    return path


# --- interpreters ---------------------------------------------------------------------------

PYENV = Path("/root/.pyenv/versions")
PY310 = PYENV / "3.10.13/bin/python3.10"
PY313 = PYENV / "3.13.0/bin/python3.13"
#: Worker envs made by `make worker-env PYTHON=...` (tools/worker-env.sh): git-ignored.
WORKER_ENVS = sorted((ROOT / ".venvs").glob("cpython-3.1[23]*/bin/python"))


#: What a copy of the tree leaves out before the wheel is built from it.
NOT_BUILT = shutil.ignore_patterns(
    ".git", ".venv", ".venvs", "results", "build", "*.egg-info", "__pycache__", ".docker-env", "node_modules"
)


def build_wheel(work: Path) -> Path:
    """Build queuebench's wheel offline from a copy of the tree (a build leaves build/ and egg-info behind)."""
    shutil.copytree(ROOT, work / "tree", ignore=NOT_BUILT)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(work), "."],
        cwd=work / "tree",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (found,) = work.glob("queuebench-*.whl")
    return found


def venv_with(env_dir: Path, *requirements: str) -> Path:
    """A fresh venv at ``env_dir`` with ``requirements`` pip-installed: its bin (Scripts) folder."""
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return bin_dir


def clean_env() -> dict[str, str]:
    """This process's environment without what would point a child at the checkout's code."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
