"""``queuebench history``: many runs as series that never mix machines, and the change points in
each with commit, size and confidence. Synthetic runs, seeded noise: no timing."""

from __future__ import annotations

import copy
import json
import math
import random
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from harness.cli import app
from harness.history import changes, report, series
from tests.helpers import make_doc, write_run

STRATEGIES = ("threads", "asyncio", "sequential")
RUNS, SLOWER_FROM, MACHINE_FROM = 36, 12, 24


def _history(folder: Path, noise: float = 0.03, seed: int = 26) -> Path:
    """36 runs, a commit each: 'threads' 20% slower from run 12 on (a commit), and another
    machine from run 24 on (host and CPU), whose timings are 30% faster for every strategy."""
    rng = random.Random(seed)
    for i in range(RUNS):
        values: dict[tuple[str, str], list[float]] = {}
        for k, strategy in enumerate(STRATEGIES):
            level = 100.0 * (k + 1) * (1.3 if i >= MACHINE_FROM else 1.0)
            if strategy == "threads" and i >= SLOWER_FROM:
                level /= 1.2
            values[("io", strategy)] = [level * math.exp(rng.gauss(0, noise)) for _ in range(5)]
        doc: dict[str, Any] = make_doc(values)
        for trial in doc["trials"]:  # latency and memory beside throughput, as real runs hold them
            speed = trial["metrics"]["throughput"]
            trial["metrics"] |= {"e2e_p99_ms": 5000 / speed, "peak_rss_mb": 30 + rng.random()}
        doc["started_at"] = f"2026-12-{1 + i // 24:02d}T{i % 24:02d}:00:00+00:00"
        doc["fingerprint"] = copy.deepcopy(doc["fingerprint"])
        doc["fingerprint"]["git_commit"] = f"{i:04d}" + "c" * 36
        if i >= MACHINE_FROM:
            doc["fingerprint"]["host"] = "ci-2"
            doc["fingerprint"]["cpu_model"] = "Other CPU"
        write_run(folder / f"run-{i:02d}", doc)
    return folder


def test_a_commit_step_and_a_machine_change_are_found_and_nothing_else(tmp_path: Path) -> None:
    hist = series.gather([_history(tmp_path / "runs")])
    assert len(hist.runs) == RUNS and len(hist.machines) == 2
    # never mixed: each strategy has one series per machine, and no series crosses the change
    assert len(hist.series) == 2 * len(STRATEGIES)
    assert {len(s.points) for s in hist.series} == {MACHINE_FROM, RUNS - MACHINE_FROM}
    (arrival,) = hist.arrivals
    assert arrival.run.name == f"run-{MACHINE_FROM:02d}" and arrival.commit and arrival.commit.startswith("0024")
    assert any("cpu_model" in d for d in arrival.differs)
    found = report.analyse(hist)
    hits = [(f.series.key.strategy, c) for f in found for c in f.changes]
    assert len(hits) == 1, hits  # no false change point
    strategy, change = hits[0]
    assert strategy == "threads" and change.point.run.name == f"run-{SLOWER_FROM:02d}"
    assert change.point.commit and change.point.commit.startswith(f"{SLOWER_FROM:04d}") and change.worse
    assert math.isclose(change.ratio, 1 / 1.2, rel_tol=0.05) and change.confidence > 0.999


def test_a_steady_series_has_no_change_point() -> None:
    rng = random.Random(3)
    points = tuple(series.Point(Path(f"r{i}"), "", None, 100 * math.exp(rng.gauss(0, 0.1)), 5) for i in range(40))
    steady = series.Series(series.Key("m", "py", "s", "t", "throughput"), points)
    assert changes.find(steady, higher_is_better=True) == []
    assert changes.find(series.Series(steady.key, points[:4]), True) == []  # too short to split


def test_cli_history_prints_and_writes_json(tmp_path: Path) -> None:
    folder = _history(tmp_path / "runs")
    out = tmp_path / "history.json"
    result = CliRunner().invoke(app, ["history", str(folder), "--json", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "36 run(s), 2 machine(s), 6 series of throughput" in result.output
    assert "machine change at run-24" in result.output and "×0.8" in result.output
    doc = json.loads(out.read_text())
    assert len(doc["series"]) == 6 and len(doc["machine_changes"]) == 1
    (cp,) = [c for s in doc["series"] for c in s["change_points"]]
    assert cp["commit"] == f"{SLOWER_FROM:04d}cccccccc" and cp["worse"] and cp["confidence"] > 0.999


def test_cli_history_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["history", str(empty)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "no run here" in result.output
