"""Each headline figure means what it says (issue: numbers a user can act on)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from harness.analysis import metrics
from harness.running import launchers, suite
from harness.running.launchers import TrialSpec
from harness.scenario import LoadedScenario, Scenario
from strategies import base, kinds
from strategies.kinds import cpu
from tests.helpers import run, small_workload


def test_a_worker_started_from_a_fat_parent_reports_its_own_memory() -> None:
    """Linux carries ru_maxrss across fork+exec; the figures must not show the harness's 300 MB."""
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touch every page: it is resident
    wl = small_workload(reader_work=base.WorkSpec("io", 20))  # about 0.5 s: sampled many times
    out = run("sequential", wl)
    m = metrics.trial_metrics(
        metrics.join_records(out.reads, out.writes, wl.items_per_writer), wl, out.meta, 2.0, out.writes, out.memory
    )
    assert len(ballast) == 300 * 2**20
    assert 5 < m["peak_rss_mb"] < 150, m["peak_rss_mb"]
    assert 5 < m["tree_peak_mb"] < 150, m["tree_peak_mb"]
    assert 5 < m["largest_process_peak_mb"] < 150


def test_the_tree_figure_counts_every_process_of_a_process_strategy() -> None:
    wl = small_workload(writers=3, readers=3, reader_work=base.WorkSpec("io", 40))
    out = run("mp-queue", wl)
    m = metrics.trial_metrics(
        metrics.join_records(out.reads, out.writes, wl.items_per_writer), wl, out.meta, 2.0, out.writes, out.memory
    )
    assert out.memory["samples"] >= 1
    assert m["tree_peak_mb"] > m["largest_process_peak_mb"] * 0.5  # several processes summed
    assert m["tree_peak_mb"] >= m["peak_rss_mb"] * 0.5


def test_two_probes_on_one_machine_give_the_same_cpu_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUEBENCH_CACHE", str(tmp_path))
    first = launchers.make("local").probe()
    second = launchers.make("local").probe()
    assert first.calibration == second.calibration
    assert str(first.calibration_source).startswith("measured") and str(second.calibration_source).startswith("cached")
    again = launchers.make("local", recalibrate=True).probe()
    assert str(again.calibration_source).startswith("measured")


def test_gil_releasing_work_is_one_c_call_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = hashlib.sha256

    def counting(data: bytes | memoryview = b"") -> object:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(cpu.hashlib, "sha256", counting)
    cal = base.Calibration(hold_per_ms=1000, release_per_ms=1_000_000)
    perform = kinds.get("cpu").prepare(base.WorkSpec("cpu", 5, params=(("gil", "release"),)), cal)
    perform(0.005)
    assert calls == [5_000_000]  # 5 ms at 1 MB/ms: one call over the whole buffer


def _cpu_scenario(strategy_readers: int = 2) -> LoadedScenario:
    sc = Scenario.model_validate(
        {
            "name": "cpu-small",
            "writers": 2,
            "readers": strategy_readers,
            "items_per_writer": 6,
            "reader_work": {"kind": "cpu", "ms": 4, "gil": "release"},
            "repeats": 1,
            "warmup": 0,
        }
    )
    return LoadedScenario(sc, "test")


@pytest.mark.parametrize("strategy", ["threads", "mp-queue", "sequential"])
def test_a_passing_trial_never_beats_its_ideal(strategy: str, tmp_path: Path) -> None:
    """The ideal counts each item's measured CPU: efficiency above 100% would be a wrong model."""
    opts = suite.Options(strategies=[strategy], out=tmp_path)
    _, doc = suite.prepare([_cpu_scenario()], opts).run()
    (trial,) = doc["trials"]
    m = trial["metrics"]
    assert trial["status"] == "ok", trial["errors"]
    assert 0 < m["efficiency"] <= 1.0
    assert m["reader_work_cpu_ms"] > 0  # measured, and reported beside the nominal 4 ms
    assert m["writer_work_cpu_ms"] is None  # writer work is none: nothing measured (NaN, stored as null)


def test_the_ideal_uses_measured_cpu_not_the_nominal_time() -> None:
    wl = base.Workload(1, 1, 2, reader_work=base.WorkSpec("cpu", 10))
    rows = metrics.join_records(
        np.array([[0, 0, 1, -1, 2, 3, 0, 30_000_000], [0, 1, 1, -1, 3, 4, 0, 30_000_000]]),
        np.zeros((2, 2), dtype="int64"),
        2,
    )
    assert metrics.ideal_makespan(wl, 1.0) == pytest.approx(0.020)  # nominal: 2 x 10 ms
    assert metrics.ideal_makespan(wl, 1.0, rows) == pytest.approx(0.060)  # measured: 2 x 30 ms


def test_total_setup_makespan_and_teardown_add_up(tmp_path: Path) -> None:
    opts = suite.Options(strategies=["mp-queue"], out=tmp_path)
    _, doc = suite.prepare([_cpu_scenario()], opts).run()
    m = doc["trials"][0]["metrics"]
    assert m["setup_s"] > 0 and m["teardown_s"] > 0
    assert m["setup_s"] + m["makespan_s"] + m["teardown_s"] == pytest.approx(m["total_s"], rel=1e-6)
    assert m["throughput_total"] < m["throughput"]


@pytest.mark.parametrize(
    ("strategy", "why"),
    [
        ("test-early", "produced before the start line"),
        ("test-nostart", "never stamped its start line"),
        ("test-writer-exit", "exited with code 1"),
        ("test-orphan", "left 1 process(es) alive"),
        ("test-overlimit", "exceeded the pool size"),
    ],
)
def test_a_trial_that_cheats_or_reports_an_error_fails(strategy: str, why: str, tmp_path: Path) -> None:
    sc = Scenario.model_validate(
        {"name": "s", "writers": 2, "readers": 1, "items_per_writer": 4, "reader_work": {"kind": "io", "ms": 1}}
    )
    opts = suite.Options(strategies=[strategy], repeat=1, warmup=0, out=tmp_path)
    _, doc = suite.prepare([LoadedScenario(sc, "test")], opts).run()
    (trial,) = doc["trials"]
    assert trial["status"] == "failed"
    assert any(why in e for e in trial["errors"]), trial["errors"]
    assert trial["metrics"]["efficiency"] is None  # no figure of merit for a failed trial (NaN is stored as null)


def test_the_in_process_launcher_runs_a_trial_without_a_subprocess() -> None:
    wl = small_workload(writer_work=base.WorkSpec(), reader_work=base.WorkSpec())
    out = launchers.make("inprocess").run(TrialSpec("threads", wl, 30))
    assert out.status == "ok" and len(out.reads) == wl.total_items
