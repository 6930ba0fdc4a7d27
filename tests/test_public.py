"""The public face: every name ``queuebench`` offers resolves to the object where it lives,
``import queuebench`` imports neither heavy module, and the Python API runs a scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import queuebench
from harness import api, errors
from harness.rundir.model import Run


def test_every_public_name_resolves_where_it_lives() -> None:
    lazy = set(queuebench.__all__) - {"NotOurs", "__version__"}
    assert lazy == set(queuebench._WHERE)
    for name in sorted(lazy):
        assert getattr(queuebench, name) is getattr(sys.modules[queuebench._WHERE[name]], name), name
    assert issubclass(queuebench.ScenarioError, queuebench.QueuebenchError)
    assert queuebench.QueuebenchError is errors.QueuebenchError and queuebench.run is api.run


def test_importing_queuebench_imports_nothing_heavy() -> None:
    heavy = "('pandas', 'numpy', 'matplotlib', 'harness')"
    code = f"import sys, queuebench; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_api_runs_reads_and_compares_a_run(tmp_path: Path) -> None:
    measured = queuebench.run("smoke", strategies=["threads"], repeat=2, warmup=0, out=tmp_path)
    assert measured.path.parent == tmp_path and isinstance(measured.run, Run)
    assert [t.strategy for t in measured.run.measured] == ["threads", "threads"]
    assert all(t.ok and (t.metric("throughput") or 0) > 0 for t in measured.run.measured)
    again = queuebench.read_run(measured.path)
    assert [t.id for t in again.trials] == [t.id for t in measured.run.trials]
    report = queuebench.compare(measured.path, measured.path)
    assert report.exit_code() == 3  # two repeats a side: too few to judge, and it says so
