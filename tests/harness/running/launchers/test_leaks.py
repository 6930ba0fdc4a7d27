"""Killed trials leave nothing behind: no semaphore, no temp folder, no trial folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.running.launchers import collect
from strategies import base
from strategies.faults import FaultSpec
from tests.helpers import START_METHODS, run, small_workload

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="POSIX named semaphores live in /dev/shm on Linux only")


def _ours() -> set[str]:
    """This test process's trial folders and the semaphores its trials named (sem.mp-qb<pid>-*).

    Only our own: other queuebench runs on a shared machine create theirs meanwhile (the
    launcher names a trial's semaphores after the harness's pid for this).
    """
    return {p.name for p in SHM.glob(f"sem.mp-qb{os.getpid()}-*")} | {
        p.name for p in SHM.glob(f"{collect.TRIAL_PREFIX}{os.getpid()}-*")
    }


@pytest.mark.parametrize("method", START_METHODS)
@pytest.mark.parametrize("strategy", ["mp-queue", "manager-pool", "process-pool"])
def test_a_trial_killed_by_the_watchdog_leaves_nothing(strategy: str, method: str) -> None:
    before = _ours()
    wl = small_workload(method, faults=FaultSpec(reader_hang=(3,), hang_s=600.0), reader_work=base.WorkSpec("io", 1))
    out = run(strategy, wl, timeout=4.0)
    assert out.status == "timeout"
    assert _ours() - before == set()


def test_a_trial_folder_of_a_dead_harness_is_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    root = Path(collect.scratch_root() or tempfile.gettempdir())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = root / f"{collect.TRIAL_PREFIX}{int(dead.stdout)}-abc"
    live = root / f"{collect.TRIAL_PREFIX}{os.getpid()}-def"
    stale.mkdir()
    live.mkdir()
    try:
        removed = collect.sweep_stale_trials()
        assert str(stale) in removed and not stale.exists()
        assert live.exists()
    finally:
        for path in (stale, live):
            if path.exists():
                path.rmdir()
