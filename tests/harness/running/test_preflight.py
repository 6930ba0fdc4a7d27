"""Absurd but valid sizes are refused up front (issue #17, part 3): the pre-flight estimate per
strategy family, ``--force``, ``--dry-run``, and every numeric option bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import errors, scenario
from harness.cli import app
from harness.running import launchers, preflight, suite
from tests.helpers import ROOT

cli = CliRunner()
ROOMY = preflight.Limits(processes=100_000, files=1_000_000, memory=2**50, shm=2**50)


def loaded(text: str) -> scenario.LoadedScenario:
    (one,) = scenario.parse('[[scenario]]\nname = "s"\n' + text, "s.toml")
    return scenario.LoadedScenario(one, "s.toml")


def test_an_unbounded_queue_can_hold_every_item_and_each_copy_counts() -> None:
    ls = loaded("writers = 100\nreaders = 1\nitems_per_writer = 1000\npayload_bytes = 2000000\n")
    threads = preflight.estimate(ls, "threads", "fork")
    mp_queue = preflight.estimate(ls, "mp-queue", "fork")
    manager = preflight.estimate(ls, "manager-pool", "fork")
    seed = preflight.estimate(ls, "seed-pool", "fork")
    items = 100 * 1000
    assert threads.memory >= items * 2_000_000  # every item may be waiting, one shared object each
    assert mp_queue.memory >= items * 2_000_000 and manager.memory >= 2 * items * 2_000_000
    assert seed.memory > manager.memory > mp_queue.memory  # the manager's copy, the dispatcher's copy
    assert manager.processes == 100 + 1 + 1 and threads.processes == 0 and threads.threads == 101


def test_a_bounded_queue_holds_its_bound() -> None:
    ls = loaded("writers = 4\nreaders = 2\nitems_per_writer = 100000\npayload_bytes = 1000\nqueue_maxsize = 10\n")
    assert preflight.estimate(ls, "threads", "fork").memory == 1000 * (10 + 6 + 6)


def test_each_limit_refuses_in_one_line_unless_forced() -> None:
    ls = loaded("writers = 64\nreaders = 64\nitems_per_writer = 1000\npayload_bytes = 1000\n")
    cases = {
        "ulimit -u": preflight.Limits(processes=50, files=None, memory=None, shm=None),
        "ulimit -n": preflight.Limits(processes=None, files=100, memory=None, shm=None),
        "of memory": preflight.Limits(processes=None, files=None, memory=10 * 2**20, shm=None),
        "record files": preflight.Limits(processes=None, files=None, memory=None, shm=1000),
    }
    for expected, limits in cases.items():
        with pytest.raises(errors.TooBig, match=expected) as info:
            preflight.check([(ls, "mp-queue")], "spawn", force=False, limits=limits)
        assert "--force" in str(info.value) and "\n" not in str(info.value)
        assert preflight.check([(ls, "mp-queue")], "spawn", force=True, limits=limits)
    assert preflight.check([(ls, "mp-queue")], "spawn", force=False, limits=ROOMY)


def test_records_count_what_is_written_not_the_sparse_reservation() -> None:
    ls = loaded("writers = 10\nreaders = 4\nitems_per_writer = 100000\n")
    e = preflight.estimate(ls, "threads", "fork")
    assert 10 * 100_000 * 64 <= e.records < 10 * 100_000 * 64 * 2


def test_512_by_512_processes_is_refused_even_with_room() -> None:
    ls = loaded("writers = 512\nreaders = 512\nitems_per_writer = 2\n")
    with pytest.raises(errors.TooBig, match="cap is 512"):
        preflight.check([(ls, "seed-pool")], "fork", force=False, limits=ROOMY)
    preflight.check([(ls, "threads")], "fork", force=False, limits=ROOMY)  # threads: no process per worker


def test_prepare_is_the_front_door_and_honours_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.Limits, "here", classmethod(lambda cls: ROOMY))
    ls = loaded("writers = 512\nreaders = 512\nitems_per_writer = 2\n")
    launcher = launchers.make("inprocess")
    with pytest.raises(errors.TooBig):
        suite.prepare([ls], suite.Options(strategies=["seed-pool"]), launcher)
    prepared = suite.prepare([ls], suite.Options(strategies=["seed-pool"], force=True), launcher)
    assert len(prepared.trials) == 3 + 1  # the file's defaults: 3 repeats and 1 warmup
    assert {p.strategy for p in prepared.trials} == {"seed-pool"}


@pytest.mark.parametrize(
    "args",
    [["-r", "10000000"], ["-r", "1000000000000"], ["--warmup", "101"], ["--timeout", "1e9"], ["-o", ""]],
)
def test_absurd_options_are_refused_in_one_line(args: list[str], tmp_path: Path) -> None:
    from harness.cli import main

    for verb in (["run", str(ROOT / "scenarios" / "smoke.toml")], ["stress"]):
        if args[0] == "--warmup" and verb[0] == "stress":
            continue
        result = cli.invoke(app, [*verb, *args, "--out", str(tmp_path)] if args[0] != "-o" else [*verb, *args])
        assert result.exit_code == 2, (verb, args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.iterdir())
    assert main  # main() turns these usage errors into one line (tests/harness/cli/test_cli.py checks the wording)


def test_dry_run_plans_and_estimates_without_running(tmp_path: Path) -> None:
    args = ["run", str(ROOT / "scenarios" / "smoke.toml"), "-s", "threads", "-s", "mp-queue", "--dry-run"]
    result = cli.invoke(app, [*args, "--out", str(tmp_path / "res")])
    assert result.exit_code == 0, result.output
    assert "dry run: 2 trial(s)" in result.output and "smoke / mp-queue:" in result.output
    assert not (tmp_path / "res").exists()
    big = tmp_path / "big.toml"
    big.write_text(
        '[[scenario]]\nname = "big"\nwriters = 100\nreaders = 1\nitems_per_writer = 1000\npayload_bytes = 2000000\n'
    )
    refused = cli.invoke(app, ["run", str(big), "-s", "manager-pool", "--dry-run"])
    assert refused.exit_code == 2 and "--force" in refused.output and len(refused.output.strip().splitlines()) == 1
    forced = cli.invoke(app, ["run", str(big), "-s", "manager-pool", "--dry-run", "--force"])
    assert forced.exit_code == 0, forced.output
