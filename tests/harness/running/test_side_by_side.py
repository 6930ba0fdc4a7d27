"""Several interpreters in one run (``queuebench run --python X --python Y``): their trials take
turns, the run keeps each one's facts, and the table, report, plot and compare keep them apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import errors
from harness.cli import app
from harness.gate import compare
from harness.presentation.figures import runs as plot_runs
from harness.rundir import store
from harness.running import interpreters, launchers, suite
from tests.helpers import PY313, WORKER_ENVS

cli = CliRunner()
SMALL = """
[[scenario]]
name = "pair"
writers = 2
readers = 2
items_per_writer = 5
reader_work = { kind = "io", ms = 1 }
"""
THIS = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"


def test_sides_take_turns_forwards_in_one_repeat_backwards_in_the_next() -> None:
    """Per repeat, not per position: with an even number of strategies a round, each strategy
    still sees every interpreter go first in turn."""
    plain = [suite.Planned(None, s, r, False) for r in range(2) for s in ("x", "y")]  # type: ignore[arg-type]
    order = [(p.strategy, p.side) for p in suite.interleave_sides(plain, ("a", "b", "c"))]
    assert [side for _, side in order] == list("abcabccbacba")
    assert [s for s, _ in order] == ["x"] * 3 + ["y"] * 3 + ["x"] * 3 + ["y"] * 3


def test_an_interpreter_is_named_by_what_its_worker_said() -> None:
    gil = {"version": "3.11.7", "implementation": "CPython", "gil_enabled": True, "free_threaded_build": False}
    ft = {**gil, "version": "3.13.5", "gil_enabled": False, "free_threaded_build": True}
    ft_gil_on = {**ft, "gil_enabled": True}
    pypy = {**gil, "implementation": "PyPy", "version": "3.10.14"}
    assert interpreters.labels([gil, ft, ft_gil_on, pypy, gil]) == [
        "3.11.7",
        "3.13.5t",
        "3.13.5t+gil",
        "PyPy 3.10.14",
        "3.11.7#2",
    ]
    assert interpreters.describe(ft) == "CPython 3.13.5, free-threaded build, GIL off"


@pytest.mark.skipif(not PY313.exists(), reason="needs pyenv's CPython 3.13.0")
def test_two_interpreters_in_one_run_alternate_and_stay_apart(tmp_path: Path) -> None:
    """The second interpreter is a worker env of 3.13 when there is one (it has the PEP 734
    backport: subinterpreters run there and not under this 3.11), else pyenv's bare 3.13."""
    other = WORKER_ENVS[-1] if WORKER_ENVS else PY313
    scenario = tmp_path / "pair.toml"
    scenario.write_text(SMALL)
    strategies = ["-s", "threads", "-s", "sequential"] + (["-s", "subinterpreters"] if WORKER_ENVS else [])
    args = ["run", str(scenario), *strategies, "-r", "2", "--warmup", "0", "-o", str(tmp_path / "out")]
    result = cli.invoke(app, [*args, "--python", sys.executable, "--python", str(other)])
    assert result.exit_code == 0, result.output
    run_dir = next((tmp_path / "out").iterdir())
    doc = json.loads((run_dir / "run.json").read_text())
    names = list(doc["interpreters"])
    assert names[0] == THIS and names[1].startswith("3.13.")
    assert doc["interpreters"][names[1]]["version"].startswith("3.13.")  # each one's facts, as its worker said
    assert doc["interpreters"][names[0]]["gil_enabled"] is True
    sides = [t["side"] for t in doc["trials"] if t["strategy"] != "subinterpreters"]  # those run under both
    pairs = list(zip(sides[::2], sides[1::2], strict=True))  # each planned trial under both, back to back
    assert all(set(pair) == set(names) for pair in pairs)
    assert {pair[0] for pair in pairs} == set(names)  # and which goes first alternates
    if WORKER_ENVS:  # left out where it cannot run, kept where it can: the run still passes
        assert "subinterpreters" in doc["interpreters"][THIS]["unavailable"]
        assert {t["side"] for t in doc["trials"] if t["strategy"] == "subinterpreters"} == {names[1]}
    assert all(t["status"] == "ok" for t in doc["trials"])
    # The terminal table and the side-by-side view name both; nothing pools.
    assert f"threads@{names[1]}" in result.output and "Interpreters side by side" in result.output
    run = store.read_run(run_dir)
    frame = interpreters.side_by_side(run)
    assert set(frame["strategy"]) >= {"threads", "sequential"} and f"{names[1]} ÷ {names[0]}" in frame.columns
    # compare of the run with itself pairs like with like: one row per strategy and interpreter
    rows = compare.compare(run, run, "throughput", 0.10, 0.01).rows
    assert {r.strategy for r in rows} >= {f"threads@{names[0]}", f"threads@{names[1]}"}
    # plot --by python: one group per interpreter of the one run
    runs = plot_runs.load_runs([run_dir], "python")
    groups = set(plot_runs.collect(runs, "throughput", None, by="python")["group"])
    assert len(groups) == 2 and any("3.13." in g for g in groups)
    # and the report carries the same section
    written = cli.invoke(app, ["report", str(run_dir)])
    assert written.exit_code == 0, written.output
    assert "## Interpreters side by side" in (run_dir / "report.md").read_text()
    assert store.load_run(run_dir)["interpreters"] == doc["interpreters"]


@pytest.mark.skipif(not PY313.exists(), reason="needs pyenv's CPython 3.13.0")
def test_a_strategy_no_interpreter_given_can_run_is_refused_in_one_line(tmp_path: Path) -> None:
    if launchers.make("local", python=str(PY313)).available()["strategies"]["subinterpreters"][0]:
        pytest.skip("pyenv's 3.13 has the PEP 734 backport installed here")
    scenario = tmp_path / "pair.toml"
    scenario.write_text(SMALL)
    args = ["run", str(scenario), "-s", "subinterpreters", "-r", "1", "-o", str(tmp_path / "out")]
    result = cli.invoke(app, [*args, "--python", sys.executable, "--python", str(PY313)])  # 3.11; bare 3.13
    assert result.exit_code == 2, result.output
    assert "cannot run under any of the interpreters given" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_label_that_is_no_plain_name_stays_out_of_trial_ids_and_a_damaged_record_is_refused(tmp_path: Path) -> None:
    """``3.13.5t+gil`` is a label, not a file name: ids stay plain and the run loads; hostile
    interpreter records (a CI artifact is untrusted input) are refused in one line."""
    from harness import scenario
    from harness.rundir import schema as runschema

    path = tmp_path / "pair.toml"
    path.write_text(SMALL)
    opts = suite.Options(strategies=["sequential"], repeat=1, warmup=0, out=tmp_path)
    sides = {"3.13.5t+gil": launchers.make("inprocess"), "3.11.7": launchers.make("inprocess")}
    prepared = suite.prepare_sides(scenario.load_many([path]), opts, sides)
    opts.extra = {"interpreters": {name: {"version": name, "unavailable": {}} for name in sides}}
    run_dir, doc = prepared.run()
    assert [t["id"][5:] for t in doc["trials"]] == ["pair-sequential-r1-3.13.5t-gil", "pair-sequential-r1-3.11.7"]
    assert [t["side"] for t in doc["trials"]] == ["3.13.5t+gil", "3.11.7"]
    assert store.load_run(run_dir)["interpreters"]["3.13.5t+gil"]["version"] == "3.13.5t+gil"
    for bad in ({"x\n": {}}, {"a": []}, {"a": {"version": ["x"]}}, {"a": {"unavailable": {"s": 1}}}):
        assert runschema.problem({**doc, "interpreters": bad}) is not None
    assert runschema.problem({**doc, "trials": [{**doc["trials"][0], "side": "\x1b[2J"}]}) is not None


def test_a_name_ending_in_a_newline_is_no_plain_name() -> None:
    """``$`` matches before a final newline; the schema's names must end where the text ends."""
    from harness.rundir import schema as runschema

    for pattern in (runschema.NAME, runschema.TRIAL_ID, runschema.STRATEGY):
        assert pattern.match("abc") and not pattern.match("abc\n")
    assert not runschema.SAMPLES.match("samples/x.parquet\n")


def test_plot_refuses_one_run_given_twice(tmp_path: Path) -> None:
    run = tmp_path / "r"
    run.mkdir()
    for given in ([run, run], [run, tmp_path / "." / "r"]):
        with pytest.raises(errors.PlotError, match="give each run once"):
            plot_runs.load_runs(given, "run")


def test_the_parallelism_probe_answers_a_share_of_the_machine() -> None:
    """With the barrier (every worker must arrive before any spins) it still finishes and
    answers a share of the machine, never more than its cores; a barrier that broke would
    raise or answer 0."""
    import os

    from harness import worker

    value = worker.parallelism(0.02)
    assert 0 < value <= (os.cpu_count() or 1)


def test_the_parallelism_probe_ends_under_a_callers_sigterm_handler() -> None:
    """In-process (the in-process launcher, the pytest plugin) the probe forks its pool from a
    process that may handle SIGTERM itself; a worker that inherited the handler outlived the
    pool's terminate() and the probe hung (twice in a full test run). The worker now starts
    with SIGTERM's default, and the probe ends every time."""
    import signal

    from harness import worker

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        worker._keep_barrier(None)  # what each pool worker runs first
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        signal.signal(signal.SIGTERM, handler)
        for _ in range(10):  # before: a hang within some tens (pytest-timeout ends it)
            assert worker.parallelism(0.01) > 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_same_interpreter_twice_is_two_sides_an_aa_check(tmp_path: Path) -> None:
    scenario = tmp_path / "pair.toml"
    scenario.write_text(SMALL)
    args = ["run", str(scenario), "-s", "sequential", "-r", "2", "--warmup", "0", "-o", str(tmp_path / "out")]
    result = cli.invoke(app, [*args, "--python", sys.executable, "--python", sys.executable])
    assert result.exit_code == 0, result.output
    doc = json.loads(next((tmp_path / "out").glob("*/run.json")).read_text())
    assert list(doc["interpreters"]) == [THIS, f"{THIS}#2"]
    assert all(entry["given"] == sys.executable for entry in doc["interpreters"].values())
    runs = plot_runs.load_runs([doc_dir(tmp_path)], "python")
    groups = set(plot_runs.collect(runs, "throughput", None, by="python")["group"])
    assert groups == {f"CPython {THIS}", f"CPython {THIS}#2"}  # one marker each, not pooled


def doc_dir(tmp_path: Path) -> Path:
    return next((tmp_path / "out").iterdir())


def test_commands_of_one_interpreter_refuse_a_second_python_and_dry_run_counts_every_one(tmp_path: Path) -> None:
    scenario = tmp_path / "pair.toml"
    scenario.write_text(SMALL)
    two = ["--python", sys.executable, "--python", sys.executable]
    for command in (["sweep", str(scenario), "--vary", "readers=1..2"], ["list"], ["stress", str(scenario)]):
        result = cli.invoke(app, [*command, *two])
        assert result.exit_code == 2 and "--python given 2 times" in result.output, result.output
    result = cli.invoke(app, ["run", str(scenario), "-s", "threads", "-r", "3", "--warmup", "0", "--dry-run", *two])
    assert result.exit_code == 0 and "dry run: 6 trial(s)" in result.output, result.output
    missing = ["--python", sys.executable, "--python", "/nonexistent/py"]
    result = cli.invoke(app, ["run", str(scenario), "--dry-run", *missing])
    assert result.exit_code == 2 and "no such executable" in result.output
