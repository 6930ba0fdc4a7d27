"""``ab`` does not waste the user's time (issue 27.6): repeats that can reach no verdict are
refused before anything runs, a run of the same code on both sides is warned about, and ``-r auto
--budget`` stops within its budget and says so. The budget is checked on a fake clock: no timing."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.gate import ab, verdicts
from harness.gate.auto_repeat import AutoRepeat, short_budget
from harness.gate.sensitivity import unreachable
from harness.rundir.model import Run
from harness.running import launchers, suite
from tests.harness.gate.test_ab import _scenario
from tests.helpers import ROOT

cli = CliRunner()
SMOKE = str(ROOT / "scenarios" / "smoke.toml")


def test_repeats_that_reach_no_verdict_are_refused_before_running(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = cli.invoke(app, ["ab", ".", ".", SMOKE, "-s", "sequential", "-r", "3", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "-r 3: 3 repeats a side can reach no verdict at alpha 0.01" in result.output
    assert not out.exists()  # nothing ran
    strategies = ["-s", "sequential", "-s", "threads", "-s", "asyncio"]
    five = cli.invoke(app, ["ab", ".", ".", SMOKE, *strategies, "-r", "5"])
    assert five.exit_code == 2 and "cannot call any of the 3 planned pairs slower or faster" in five.output
    auto = cli.invoke(app, ["ab", ".", ".", SMOKE, *strategies, "-r", "auto", "--max-repeat", "5"])
    assert auto.exit_code == 2 and "-r auto --max-repeat 5:" in auto.output


def test_unreachable_counts_the_family_and_the_looks() -> None:
    assert unreachable(5, 1, 0.01) is None  # 5 vs 5: p can reach 1/252
    assert unreachable(5, 3, 0.01) is not None and unreachable(6, 3, 0.01) is None
    assert unreachable(5, 1, 0.01, looks=8) is not None and unreachable(6, 1, 0.01, looks=8) is None  # 0.00125


def test_the_same_code_on_both_sides_is_warned_about(tmp_path: Path) -> None:
    py = sys.executable

    def side(name: str, kind: str, commit: str | None, env: dict[str, str] | None = None) -> ab.Side:
        return ab.Side(name, "x", kind, tmp_path / name, py, env or {}, commit)

    warned = ab.same_code(side("A", "git", "a" * 40), side("B", "git", "a" * 40))
    assert warned is not None and "both sides are commit aaaaaaaaaaaa" in warned
    assert ab.same_code(side("A", "git", "a" * 40), side("B", "git", "b" * 40)) is None
    assert ab.same_code(side("A", "git", "a" * 40), side("B", "git", "a" * 40, {"PYTHONMALLOC": "debug"})) is None
    tree = ab.Side("A", ".", "tree", ROOT, py)
    assert "same tree" in (ab.same_code(tree, ab.Side("B", ".", "tree", ROOT, py)) or "")


def test_cli_warns_of_an_a_a_run(tmp_path: Path) -> None:
    js = tmp_path / "v.json"
    args = ["ab", ".", ".", SMOKE, "-s", "sequential", "-r", "5", "--warmup", "0", "-o", str(tmp_path / "r")]
    before = signal.getsignal(signal.SIGTERM)
    result = cli.invoke(app, [*args, "--json", str(js)], terminal_width=200)
    assert result.exit_code in (0, 3), result.output
    assert "WARNING: both sides are the same tree" in result.output
    assert any("same tree" in w for w in json.loads(js.read_text())["warnings"])
    # ab's SIGTERM handler is its own while it runs: the caller's is back after (a process the
    # caller forks later inherited ab's, and a pool worker forked so did not die on terminate())
    assert signal.getsignal(signal.SIGTERM) is before


class FakeClock:
    """Each reading one second after the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_repeat_auto_stops_within_its_budget_and_says_so(tmp_path: Path) -> None:
    opts = suite.Options(strategies=["threads", "sequential"], out=tmp_path, repeat=AutoRepeat.first_repeats(0.01))
    prepared = ab.prepare(_scenario(), opts, launchers.make("inprocess"), launchers.make("inprocess"))
    planned = len(prepared.trials)
    clock = FakeClock()
    stepper = AutoRepeat(prepared, "throughput", 0.10, 0.01, budget_s=20, max_repeats=30, clock=clock)
    ends: list[float] = []

    def progress(p: suite.Planned, trial: dict[str, object] | None) -> None:
        stepper.on_progress(p, trial)
        if trial is not None:
            ends.append(clock.now)

    _, doc = prepared.run(progress)
    assert 0 < len(doc["trials"]) < planned  # stopped inside the first batch
    assert ends[-1] - stepper.started <= 20  # every trial ended within the budget
    assert stepper.stopped.startswith("stopped within the time budget of 20s")
    report = stepper.judge(Run.from_doc(doc))
    assert any("stopped within the time budget of 20s" in n for n in report.notes)


def test_a_budget_too_short_for_any_verdict_is_said_at_the_first_look() -> None:
    # 35 pairs at alpha 0.01 over 8 looks: Holm's first step needs 9 repeats a side; the first
    # look comes at 6, after 300 s. At 50 s a repeat of all 35 pairs, 600 s reaches 12.
    assert short_budget(300.0, 50.0, 6, 35, 35, 600.0, 30, 0.01) == ""
    said = short_budget(300.0, 50.0, 6, 35, 35, 400.0, 30, 0.01)  # 2 more repeats: 8, one short of 9
    assert "--budget 400s likely reaches about 8 repeats a side" in said
    assert "cannot call any of the 35 planned pairs slower or faster" in said
    assert "give --budget 500s or more" in said  # 300 s + (9 - 6 + 1) repeats x 50 s: one to spare
    # only the open pairs run on: 7 of 35 at 10 s a repeat, so 400 s reaches 16
    assert short_budget(300.0, 10.0, 6, 7, 35, 400.0, 30, 0.01) == ""
    assert short_budget(300.0, 50.0, 6, 0, 35, 1.0, 30, 0.01) == ""  # everything settled: nothing to say


def test_the_stepper_says_a_short_budget_once_and_the_report_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ab.judge

    def never_settled(run: Run, *args: object) -> verdicts.Report:  # no measured noise decides it
        report = real(run, *args)  # type: ignore[arg-type]
        report.rows = [dataclasses.replace(r, verdict=verdicts.Verdict.INCONCLUSIVE) for r in report.rows]
        return report

    monkeypatch.setattr(ab, "judge", never_settled)
    opts = suite.Options(strategies=["threads", "sequential"], out=tmp_path, repeat=AutoRepeat.first_repeats(0.01))
    prepared = ab.prepare(_scenario(), opts, launchers.make("inprocess"), launchers.make("inprocess"))
    first_batch = len(prepared.trials)  # 2 pairs x 2 sides x (6 repeats + 1 warm-up) = 28
    now = [0.0]  # each trial takes one second of this clock: 4 s a repeat of both pairs
    said: list[str] = []
    # 3.5 s left at the first look: less than one more repeat at the measured pace, 4 s (the
    # warm-ups left out: 28 s / 6 would be 4.7 s). Holm over the 2 pairs needs 7 repeats a side
    # where the first look has 6.
    stepper = AutoRepeat(prepared, "throughput", 0.10, 0.01, budget_s=first_batch + 3.5, clock=lambda: now[0])
    stepper.warn = said.append

    def progress(p: suite.Planned, trial: dict[str, object] | None) -> None:
        if trial is not None:
            now[0] += 1.0
        stepper.on_progress(p, trial)

    _, doc = prepared.run(progress)
    report = stepper.judge(Run.from_doc(doc))
    assert first_batch == 28 and stepper.looked == 1, (first_batch, stepper.stopped)
    assert len(said) == 1 and "likely reaches about 6 repeats a side" in said[0], said
    assert "(4.0s a repeat of the 2 pair(s) still open)" in said[0]
    assert said[0] in report.warnings
