"""The user's own strategies and project: ``-s module:function``, entry points found by the worker's
probe, ``--path`` and the scenario's project, ``queuebench check``, and a warmup failing in the
user's code stopping that cell's repeats."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.running import conformance, project, suite
from harness.running.launchers.base import UserCode
from harness.running.launchers.local import LocalLauncher
from harness.scenario import LoadedScenario, Scenario
from strategies import registry

PIPELINE = '''
"""My pipeline: threads and a queue."""
from queuebench import strategy
from strategies.threads import run as threads


@strategy(family="thread")
def run(workload):
    return threads(workload)


def undecorated(workload):
    """Runs my readers in processes, I suppose."""
    return threads(workload)


def push(writer, seq, payload):
    if seq == 0:
        raise RuntimeError("the registry is down")
'''


@pytest.fixture
def mine(tmp_path: Path) -> Path:
    """A project of the user's outside the checkout: pyproject.toml, a package, a scenario folder."""
    root = tmp_path / "proj"
    (root / "mypipe").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "mypipe"\nversion = "1.0"\n')
    (root / "mypipe" / "__init__.py").write_text(textwrap.dedent(PIPELINE))
    (root / "bench").mkdir()
    (root / "bench" / "p.toml").write_text(
        '[[scenario]]\nname = "mine"\nwriters = 2\nreaders = 2\nitems_per_writer = 5\nrepeats = 2\nwarmup = 1\n'
        'reader_work = { kind = "io", ms = 1 }\n'
    )
    return root


def test_the_worker_describes_your_strategy_and_says_why_one_cannot_run(mine: Path) -> None:
    user = UserCode(paths=(str(mine),), strategies=("mypipe:run", "mypipe:undecorated", "mypipe:gone"))
    probe = LocalLauncher(user=user).probe()
    assert probe.strategies["mypipe:run"] == (True, "")
    assert probe.strategies["mypipe:gone"][0] is False
    assert "has no attribute 'gone'" in probe.strategies["mypipe:gone"][1]
    told = probe.user_strategies
    assert told["mypipe:run"]["family"] == "thread"  # @strategy(family=...)
    assert told["mypipe:undecorated"]["family"] == "process"  # the default
    assert told["mypipe:undecorated"]["summary"] == "Runs my readers in processes, I suppose."
    assert told["mypipe:run"]["origin"] == "yours (mypipe:run)"
    registry.learn(told)
    assert registry.get("mypipe:run").family is registry.Family.THREAD
    assert not registry.get("mypipe:run").uses_start_method


def test_an_installed_package_s_entry_points_are_found_in_the_worker(tmp_path: Path, mine: Path) -> None:
    site = tmp_path / "site"
    info = site / "mypipe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypipe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[queuebench.strategies]\nmy-threads = mypipe:run\n\n[queuebench.kinds]\nnothing = strategies.kinds.none:KIND\n"
    )
    answer = LocalLauncher(user=UserCode(paths=(str(site), str(mine)))).available()
    assert answer["strategies"]["my-threads"] == [True, ""]
    assert answer["user_strategies"]["my-threads"]["origin"] == "entry point of mypipe 1.0"
    assert answer["kinds"]["nothing"] == [True, ""]
    # Not in the harness's interpreter: the worker's answer is what counts.
    assert "my-threads" not in registry.REGISTRY


def test_paths_come_from_path_the_scenario_folder_and_its_project(mine: Path, tmp_path: Path) -> None:
    (mine / "src").mkdir()
    user = project.user_code([tmp_path], [mine / "bench" / "p.toml"], ["threads", "mypipe:run", "mypipe:run"])
    assert user.paths == (str(tmp_path.resolve()), str(mine / "bench"), str(mine / "src"), str(mine))
    assert user.strategies == ("mypipe:run",)
    with pytest.raises(project.ScenarioError, match="--path '/no/such': not a folder"):
        project.user_code([Path("/no/such")], [], [])


def test_run_with_your_strategy_from_the_command_line(mine: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(mine / "bench" / "p.toml"), "-s", "mypipe:run", "-s", "threads", "-r", "1", "--warmup", "0"]
    result = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "mypipe:run" in result.output
    listed = CliRunner().invoke(app, ["list", "--path", str(mine), "-s", "mypipe:run"])
    assert listed.exit_code == 0, listed.output
    assert "yours (mypipe:run)" in listed.output.replace("\n", " ") or "yours" in listed.output


def test_a_warmup_failing_in_your_code_stops_that_cell_s_repeats(mine: Path, tmp_path: Path) -> None:
    sc = Scenario.model_validate(
        {
            "name": "broken",
            "writers": 2,
            "readers": 2,
            "items_per_writer": 3,
            "repeats": 3,
            "warmup": 1,
            "reader_work": {"kind": "call", "call": "mypipe:push"},
        }
    )
    opts = suite.Options(strategies=["threads", "sequential"], out=tmp_path, user=UserCode(paths=(str(mine),)))
    prepared = suite.prepare([LoadedScenario(sc, "<test>")], opts)
    _, doc = prepared.run()
    assert [t["id"].split("-", 1)[1] for t in doc["trials"]] == ["broken-threads-warmup", "broken-sequential-warmup"]
    assert set(prepared.stopped) == {("broken", "threads", None), ("broken", "sequential", None)}
    assert prepared.stopped[("broken", "threads", None)].startswith("mypipe:push raised RuntimeError: the registry")


@pytest.mark.slow
def test_check_passes_a_built_in_strategy_and_yours(mine: Path, tmp_path: Path) -> None:
    for name in ("threads", "mypipe:run"):
        report = conformance.check(name, UserCode(paths=(str(mine),), strategies=(name,)), tmp_path / name)
        assert report.passed, [f for f in report.findings if not f.passed]
        assert {f.check for f in report.findings} >= {*conformance.CHECKS, "ctrl+c"}


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="the Ctrl+C check needs POSIX process groups")
def test_the_ctrl_c_check_holds_when_the_checker_itself_ignores_ctrl_c() -> None:
    """``queuebench check X &`` in a script runs with SIGINT ignored, and a child inherits that:
    the interrupted run then finished its trial and exited 0 ("exited 0 after Ctrl+C, not 130",
    seen in a fresh-clone make test). The check gives its run Ctrl+C as a terminal would."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        finding = conformance.interrupted("threads", UserCode(), sys.executable)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # this process's own is put back
    finally:
        signal.signal(signal.SIGINT, previous)
    assert finding.passed, finding.said


@pytest.mark.parametrize(
    ("broken", "check", "said"),
    [
        ("strategies.testing:lose", "exactly-once", "check-mixed: lost 1"),
        ("strategies.testing:overlimit", "pool limit", "check-mixed: 3 at once with a pool of 2"),
        ("strategies.testing:orphan", "no process left", "check-mixed: pid "),
    ],
)
def test_check_fails_a_broken_strategy_with_a_one_line_reason(
    broken: str, check: str, said: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["check", broken, "--no-ctrl-c", "-o", str(tmp_path)])
    assert result.exit_code == 1, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith(f"✗ {check}:"))
    assert said in line
    assert f"{broken} failed" in result.output


def test_the_python_api_runs_your_strategy_from_your_project(mine: Path, tmp_path: Path) -> None:
    import queuebench

    done = queuebench.run(mine / "bench" / "p.toml", strategies=["mypipe:run"], repeat=1, warmup=0, out=tmp_path)
    (trial,) = done.run.measured
    assert trial.strategy == "mypipe:run" and trial.ok


def test_check_of_a_strategy_the_worker_cannot_load_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "nowhere.pipeline:run", "--no-ctrl-c", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: strategy 'nowhere.pipeline:run' cannot run under ")
    assert "give --path DIR" in result.output and "✓" not in result.output


def test_a_check_no_workload_reached_is_not_a_pass() -> None:
    crashed = {"scenario": "check-mixed", "status": "error", "errors": ["boom"], "metrics": None}
    found = {f.check: f for f in conformance._judge([crashed], faulty=set())}
    assert not found["runs"].passed and found["runs"].said == "check-mixed: error: boom"
    assert not found["exactly-once"].passed
    assert found["exactly-once"].said == "not checked: no workload ran to the end"
