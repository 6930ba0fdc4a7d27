"""The cpu work's calibration is one amount: robust to a disturbed core, keyed by machine and
interpreter build (not by a clone's venv), and cached under a lock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from strategies import calibration
from strategies.base import Calibration
from strategies.kinds import cpu

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_rate_is_the_undisturbed_cores_even_when_most_timings_are_disturbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fake core: a unit costs 1 µs, but 9 calls in 10 run 1.5× slower (a neighbour on the
    core). The rate must be the undisturbed 1000 units per ms, not the disturbed 667."""
    clock = [0.0]
    calls = [0]

    def work(units: int) -> None:
        calls[0] += 1
        clock[0] += units * 1e-6 * (1.0 if calls[0] % 10 == 0 else 1.5)

    monkeypatch.setattr(cpu.time, "thread_time", lambda: clock[0])
    monkeypatch.setattr(cpu.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(cpu, "BUDGET_S", 0.05)
    assert cpu._best_rate(work, 64) == pytest.approx(1000.0)


def test_two_clones_with_a_venv_each_share_one_calibration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUEBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(cpu, "calibrate", lambda: Calibration(123.0, 456.0))
    monkeypatch.setattr(sys, "executable", "/work/clone-a/.venv/bin/python")
    first = calibration.calibration()
    monkeypatch.setattr(cpu, "calibrate", lambda: Calibration(999.0, 999.0))
    monkeypatch.setattr(sys, "executable", "/work/clone-b/.venv/bin/python")
    second = calibration.calibration()
    assert (first["source"], second["source"]) == ("measured", "cached")
    assert (second["hold_per_ms"], second["release_per_ms"]) == (123.0, 456.0)
    assert "/work/clone" not in calibration.cache_key()


def test_recalibrate_replaces_the_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUEBENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(cpu, "calibrate", lambda: Calibration(1.0, 2.0))
    calibration.calibration()
    monkeypatch.setattr(cpu, "calibrate", lambda: Calibration(3.0, 4.0))
    again = calibration.calibration(recalibrate=True)
    assert again["source"] == "measured" and calibration.calibration()["hold_per_ms"] == 3.0


_WRITER = """
import sys, time
from strategies import calibration
from strategies.base import Calibration
from strategies.kinds import cpu
calibration.cache_key = lambda: sys.argv[1]
def slow():
    time.sleep(0.05)  # the measurement: long enough for every writer to overlap
    return Calibration(1.0, 2.0)
cpu.calibrate = slow
calibration.calibration()
"""


def test_concurrent_runs_lose_no_entry(tmp_path: Path) -> None:
    """Six runs with keys of their own calibrate at once: the file keeps all six entries
    (without a lock, each read the file before the others wrote and kept only its own)."""
    env = {"QUEUEBENCH_CACHE": str(tmp_path), "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, f"key-{i}"], env=env, cwd=tmp_path) for i in range(6)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 6
    cache = json.loads((tmp_path / "calibration.json").read_text())
    assert sorted(cache) == [f"key-{i}" for i in range(6)]
    assert not list(tmp_path.glob("*.tmp"))
