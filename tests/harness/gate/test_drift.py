"""The drift guard: runs made at different times on a machine that changed meanwhile give
"inconclusive: machine changed", never "slower", and say which signal moved and how much."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.gate import drift
from harness.gate.compare import Verdict, compare
from harness.gate.verdicts import EXIT_UNJUDGED
from harness.rundir.model import Run
from harness.running import launchers, suite
from harness.scenario import LoadedScenario, Scenario
from tests.helpers import as_run, make_doc, make_run, spread

SLOW = {("io", "threads"): spread(100 / 1.3), ("io", "asyncio"): spread(100)}
SAME = {("io", "threads"): spread(100), ("io", "asyncio"): spread(100)}


def _docs(**cur_changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    base, cur = make_doc(SAME), make_doc(SLOW)
    base["reference"] = {"start_s": 0.030, "end_s": 0.031, "units": 500_000}
    cur["reference"] = {"start_s": 0.030, "end_s": 0.031, "units": 500_000}
    for key, value in cur_changes.items():
        if key == "reference":
            cur["reference"].update(value)
        else:
            cur["fingerprint"][key] = value
    return base, cur


def _runs(**cur_changes: Any) -> tuple[Run, Run]:
    base, cur = _docs(**cur_changes)
    return as_run(base), as_run(cur)


def test_a_steady_machine_keeps_the_verdict() -> None:
    report = compare(*_runs())
    assert report.drift == [] and report.count(Verdict.SLOWER) == 1


def test_a_slower_reference_workload_turns_slower_into_machine_changed() -> None:
    base, cur = _runs(reference={"start_s": 0.042, "end_s": 0.043})
    report = compare(base, cur)
    assert report.drift == ["reference workload 30.5 → 42.5 ms (×1.39, limit ×1.1)"]
    rows = {r.strategy: r for r in report.rows}
    assert rows["threads"].verdict is Verdict.MACHINE_CHANGED
    assert rows["threads"].reason.startswith("×1.300 worse > ×1.1 limit")
    assert "but the machine changed: reference workload 30.5 → 42.5 ms" in rows["threads"].reason
    assert rows["asyncio"].verdict is Verdict.UNCHANGED  # only verdicts of change are withheld
    assert report.exit_code() == EXIT_UNJUDGED


def test_each_signal_says_what_moved_and_by_how_much() -> None:
    base, cur = _docs(
        reference={"start_s": 0.030, "end_s": 0.045},
        effective_parallelism=1.0,
        load_average=[3.5, 1.0, 0.5],
        calibration={"hold_per_ms": 20_000, "release_per_ms": 950_000},
    )
    base["fingerprint"]["calibration"] = {"hold_per_ms": 30_000, "release_per_ms": 1_000_000}
    moved = drift.signals(as_run(base), as_run(cur), 0.10)
    assert moved == [
        "reference workload within the current run 30.0 → 45.0 ms (×1.50, limit ×1.1)",
        "reference workload 30.5 → 37.5 ms (×1.23, limit ×1.1)",
        "measured parallelism 1.9 → 1 (×0.53, tolerance ±25%)",
        "1-minute load average 0.1 → 3.5 (moved more than 1 on 2 cores)",
        "cpu calibration hold_per_ms 3e+04 → 2e+04 (×0.67, limit ×1.1)",
    ]


def test_small_moves_and_old_runs_without_signals_are_not_drift() -> None:
    base, cur = _runs(reference={"start_s": 0.032}, effective_parallelism=1.7, load_average=[0.9, 0.5, 0.5])
    assert drift.signals(base, cur, 0.10) == []
    old_base, old_cur = make_run(SAME), make_run(SLOW)  # no reference, no calibration
    assert drift.signals(old_base, old_cur, 0.10) == []


def test_one_session_is_not_checked_for_drift() -> None:
    base, cur = _runs(reference={"start_s": 0.060, "end_s": 0.061})
    report = compare(base, cur, same_session=True)
    assert report.drift == [] and report.count(Verdict.SLOWER) == 1


def test_every_run_times_the_reference_at_start_and_end(tmp_path: Path) -> None:
    sc = Scenario.model_validate(
        {"name": "ref", "writers": 1, "readers": 1, "items_per_writer": 3, "repeats": 1, "warmup": 0}
    )
    opts = suite.Options(strategies=["threads"], out=tmp_path)
    run_dir, _ = suite.prepare([LoadedScenario(sc, "test")], opts, launchers.make("inprocess")).run()
    ref = json.loads((run_dir / "run.json").read_text())["reference"]
    assert ref["start_s"] > 0 and ref["end_s"] > 0 and ref["units"] > 0


def test_a_cpu_units_difference_within_the_limit_is_named() -> None:
    base, cur = _docs(calibration={"hold_per_ms": 20_000, "release_per_ms": 1_000_000})
    base["fingerprint"]["calibration"] = {"hold_per_ms": 21_600, "release_per_ms": 1_010_000}
    said = drift.units_mismatch(as_run(base), as_run(cur), 0.10)
    assert said == [
        "cpu work units differ: hold_per_ms 2.16e+04 → 2e+04 (×0.93): each cpu-bound item did ×0.93 the work on "
        "the current side; rerun both on one calibration to compare cpu pairs"
    ]  # release_per_ms moved 1%: the calibration's own spread, not named
    assert drift.signals(as_run(base), as_run(cur), 0.10) == []  # within the limit: no verdict withheld
    report = compare(as_run(base), as_run(cur), "throughput", 0.10, 0.01)
    assert said[0] in report.notes
