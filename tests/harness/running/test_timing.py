"""The run's time, learned from earlier runs: per-strategy overhead and slowdown, estimate and actual stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import scenario
from harness.running import preflight, timing
from tests.helpers import SCENARIOS


def _write(folder: Path, name: str, trials: list[dict[str, object]], timing_entry: object = None) -> None:
    (folder / name).mkdir(parents=True)
    doc: dict[str, object] = {"status": "complete", "trials": trials}
    if timing_entry is not None:
        doc["timing"] = timing_entry
    (folder / name / "run.json").write_text(json.dumps(doc))


def _trial(strategy: str, elapsed: float, makespan: float, ideal: float, status: str = "ok") -> dict[str, object]:
    metrics = {"makespan_s": makespan, "ideal_makespan_s": ideal}
    return {"strategy": strategy, "status": status, "elapsed_s": elapsed, "metrics": metrics}


def test_costs_are_learned_per_strategy_from_earlier_runs(tmp_path: Path) -> None:
    _write(tmp_path, "20261201T000000Z-a", [_trial("threads", 1.5, 1.0, 0.5), _trial("threads", 1.7, 1.2, 0.5)])
    _write(
        tmp_path,
        "20261202T000000Z-a",
        [_trial("threads", 1.6, 1.1, 0.5), _trial("threads", 99, 1, 1, status="failed"), {"bad": 1}],
        {"estimate_s": 10.0, "actual_s": 12.0},
    )
    (tmp_path / "20261203T000000Z-a").mkdir()
    (tmp_path / "20261203T000000Z-a" / "run.json").write_text("{not json")
    history = timing.learn(tmp_path)
    cost = history.costs["threads"]
    assert (cost.overhead_s, cost.slowdown, cost.trials) == pytest.approx((0.5, 2.2, 3))
    assert history.runs == 2 and history.checks == ((10.0, 12.0),)
    assert (
        history.said()
        == "learned from 3 trials of 2 earlier run(s); the last 1 run(s) took 1.20× their estimate (median)"
    )
    (loaded,) = scenario.load(SCENARIOS / "smoke.toml")
    ideal = preflight.ideal_seconds(loaded)
    assert history.trial_seconds(loaded, "threads") == pytest.approx(0.5 + 2.2 * ideal)
    # A strategy never run here: the pre-flight's ideal + start-up.
    assert history.trial_seconds(loaded, "asyncio") == pytest.approx(ideal + preflight.STARTUP_S)
    assert history.estimate([(loaded, "threads")] * 3) == pytest.approx(3 * (0.5 + 2.2 * ideal))


def test_no_history_is_said(tmp_path: Path) -> None:
    history = timing.learn(tmp_path / "missing")
    assert history.costs == {} and history.said().startswith("no earlier runs to learn from here")
