"""The harness under signals, with real processes: Ctrl+C, SIGTERM, and a SIGKILLed harness."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from harness.cli import app

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

SLOW = """
[[scenario]]
name = "slow"
description = "long enough to be interrupted"
writers = 2
readers = 2
items_per_writer = 40
reader_work = { kind = "io", ms = 25 }
repeats = 20
warmup = 0
timeout = 60
"""


def _start(tmp_path: Path, strategies: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW)
    out = tmp_path / "results"
    args = [sys.executable, "-m", "harness.cli", "run", str(scenario), "--out", str(out)]
    for s in strategies:
        args += ["-s", s]
    # A CI job started in the background inherits SIGINT ignored; a user's Ctrl+C never is.
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_sigint_default)
    return proc, out


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_trials(out: Path, n: int, limit: float = 60) -> Path:
    """Poll run.json until n trials are stored (never a timing assertion: a hang guard)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for run_json in out.glob("*/run.json"):
            if len(json.loads(run_json.read_text())["trials"]) >= n:
                return run_json.parent
        time.sleep(0.1)
    raise AssertionError("the run never stored a trial")


def _tree(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _all_dead(procs: list[psutil.Process], limit: float = 10) -> list[psutil.Process]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.05)
    return alive


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("strategy", ["mp-queue", "threads"])
def test_signal_stops_run_kills_tree_and_keeps_partial_results(tmp_path: Path, sig: int, strategy: str) -> None:
    proc, out = _start(tmp_path, [strategy])
    run_dir = _wait_for_trials(out, 1)
    time.sleep(0.3)  # let the next trial get going, with its processes
    tree = _tree(proc.pid)
    assert tree, "a trial worker should be running"
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, output.decode()
    assert b"interrupted" in output and b"Traceback" not in output
    assert _all_dead(tree) == []
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["status"] == "incomplete"
    assert 1 <= len(doc["trials"]) < 20
    assert (run_dir / "summary.csv").exists()
    shown = CliRunner().invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0 and "status incomplete" in shown.output


def test_sigkilled_harness_leaves_a_readable_run_and_no_orphans(tmp_path: Path) -> None:
    proc, out = _start(tmp_path, ["mp-queue"])
    run_dir = _wait_for_trials(out, 1)
    time.sleep(0.3)
    tree = _tree(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    # Each worker notices its harness is gone and kills its own process group.
    assert _all_dead(tree) == []
    shown = CliRunner().invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    assert "status running" in shown.output
