"""``queuebench ab``: both sides in one run, trials alternating (A B, B A next repeat), judged as compare does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import errors
from harness.cli import app
from harness.errors import WorkerError
from harness.gate import ab
from harness.rundir import store
from harness.rundir.model import Run
from harness.running import launchers, suite
from harness.scenario import LoadedScenario, Scenario
from tests.helpers import ROOT

cli = CliRunner()


def _scenario(repeats: int = 5) -> list[LoadedScenario]:
    sc = Scenario.model_validate(
        {"name": "ab", "writers": 1, "readers": 1, "items_per_writer": 5, "repeats": repeats, "warmup": 1}
    )
    return [LoadedScenario(sc, "test")]


def alternates(trials: list[dict[str, object]] | list[suite.Planned]) -> bool:
    """Each scenario x strategy's trials come in back-to-back pairs of both sides, and which side
    goes first alternates from one repeat to the next (A B, B A, A B, ...) for every pair."""

    def get(t: object, key: str) -> object:
        return t[key] if isinstance(t, dict) else getattr(t, key)

    firsts: dict[object, list[object]] = {}
    for one, two in zip(trials[::2], trials[1::2], strict=True):
        if (get(one, "strategy"), get(one, "repeat")) != (get(two, "strategy"), get(two, "repeat")):
            return False
        if {get(one, "side"), get(two, "side")} != {"A", "B"}:
            return False
        firsts.setdefault(get(one, "strategy"), []).append(get(one, "side"))
    return all(
        f == ["B", "A"] * (len(f) // 2) + ["B"] * (len(f) % 2) or f == ["A", "B"] * (len(f) // 2) + ["A"] * (len(f) % 2)
        for f in firsts.values()
    )


def test_interleaving_alternates_per_pair_over_the_same_trials() -> None:
    opts = suite.Options(strategies=["threads", "sequential"])  # an even number of pairs a round
    plain = suite.plan(_scenario(2), opts)
    both = suite.interleave_sides(plain, ab.SIDES)
    assert alternates(both)
    assert [p.side for p in both[:4]] == ["B", "A", "B", "A"]  # the warmup (repeat -1) B first, both strategies
    assert [(p.strategy, p.repeat) for p in both[::2]] == [(p.strategy, p.repeat) for p in plain]
    assert [(p.strategy, p.repeat) for p in both[1::2]] == [(p.strategy, p.repeat) for p in plain]


def test_an_ab_run_stores_trials_abba_in_one_run_and_judges_b_against_a(tmp_path: Path) -> None:
    opts = suite.Options(strategies=["threads", "sequential"], out=tmp_path)
    side_a, side_b = launchers.make("inprocess"), launchers.make("inprocess")
    run_dir, _ = ab.prepare(_scenario(), opts, side_a, side_b).run()
    stored = json.loads((run_dir / "run.json").read_text())
    sides = [t["side"] for t in stored["trials"]]
    assert alternates(stored["trials"])  # the proof: the order as it ran
    assert len(sides) == 2 * 2 * (1 + 5)  # sides x strategies x (warmup + repeats)
    assert all(t["id"].endswith("-" + t["side"]) for t in stored["trials"])
    assert stored["ab"]["order"] == "AB/BA by repeat" and set(stored["ab"]["sides"]) == {"A", "B"}
    run = store.read_run(run_dir)
    a, b = ab.split(run)
    assert {t.id[-2:] for t in a.trials} == {"-A"} and {t.id[-2:] for t in b.trials} == {"-B"}
    halves = a.trials + b.trials  # pairs match by strategy: the halves' trials have no side
    assert a.ab is None and not any(t.side or "side" in t.raw for t in halves)
    report = ab.judge(run, "throughput", 0.10, 0.01)
    assert {(r.scenario, r.strategy) for r in report.rows} == {("ab", "threads"), ("ab", "sequential")}
    assert report.family == 2 and report.drift == []  # one session: no drift guard
    assert report.notes[0].startswith("one run, trials interleaved")
    # Outside compare and ab, the two sides never pool into one row or one benchmark.
    from harness.analysis.summary import summarize
    from harness.exports import pytest_benchmark

    assert set(summarize(run)["strategy"]) == {"threads@A", "threads@B", "sequential@A", "sequential@B"}
    names = {b["name"] for b in pytest_benchmark.to_pytest_benchmark(run)["benchmarks"]}
    assert len(names) == 4 and all("@A" in n or "@B" in n for n in names)


def test_sides_a_tree_an_interpreter_and_a_bad_name(tmp_path: Path) -> None:
    with ab.resolve("A", ".", cwd=ROOT) as side:
        assert side.kind == "tree" and side.root == ROOT
    with ab.resolve("B", f"python:{sys.executable}", env={"PYTHONMALLOC": "debug"}) as side:
        assert side.kind == "python" and side.python == sys.executable
        launcher = side.launcher()
        assert getattr(launcher, "env", None) == {"PYTHONMALLOC": "debug"}
    (tmp_path / "empty").mkdir()  # a folder that holds no queuebench: a side of your project, queuebench as installed
    with ab.resolve("A", "empty", cwd=tmp_path) as side:
        assert side.kind == "project" and side.root == ROOT and side.project == tmp_path / "empty"
    with pytest.raises(errors.SideError, match="nor a git ref of"), ab.resolve("A", "no-such-ref-xyz", cwd=ROOT):
        pass


def test_a_git_ref_is_checked_out_for_the_run_and_removed_after(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "strategies").mkdir(parents=True)
    (repo / "harness").mkdir()
    (repo / "strategies" / "__init__.py").write_text("")
    (repo / "harness" / "worker.py").write_text("")

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = git("rev-parse", "HEAD")
    with ab.resolve("B", "HEAD", cwd=repo) as side:
        assert side.kind == "git" and side.commit == head
        assert (side.root / "strategies").is_dir() and side.root != repo
        assert str(side.root) in git("worktree", "list")
        tree = side.root
    assert not tree.exists() and str(tree) not in git("worktree", "list")


def test_a_sides_environment_reaches_its_worker() -> None:
    broken = launchers.make("local", env={"PYTHONHOME": "/nonexistent"})  # the worker cannot start
    with pytest.raises(WorkerError):
        broken.probe()
    assert ab.parse_env(["PYTHONMALLOC=debug", "X_1="], "--b-env") == {"PYTHONMALLOC": "debug", "X_1": ""}
    with pytest.raises(errors.SideError, match="expected KEY=VALUE"):
        ab.parse_env(["nope"], "--b-env")


def test_cli_ab_dot_dot_is_an_aa_run(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.json"
    args = ["ab", ".", ".", str(ROOT / "scenarios" / "smoke.toml"), "-s", "sequential", "-r", "5"]
    args += ["--warmup", "0", "-o", str(tmp_path / "results"), "--json", str(out)]
    result = cli.invoke(app, args, terminal_width=200)
    assert result.exit_code in (0, 3), result.output  # the same code: no regression (maybe too noisy to judge)
    assert "A (baseline) tree" in result.output and "one run, trials interleaved" in result.output
    (run_json,) = (tmp_path / "results").glob("*/run.json")
    sides = "".join(t["side"] for t in json.loads(run_json.read_text())["trials"])
    assert sides == "AB" + "BA" + "AB" + "BA" + "AB"  # one strategy, repeats 1-5
    doc = json.loads(out.read_text())
    assert doc["adjustment"]["family"] == 1 and doc["pairs"][0]["strategy"] == "sequential"


def test_cli_ab_bad_side_is_exit_2(tmp_path: Path) -> None:
    result = cli.invoke(app, ["ab", ".", "no-such-ref-xyz", str(ROOT / "scenarios" / "smoke.toml"), "-r", "10"])
    assert result.exit_code == 2 and "side B 'no-such-ref-xyz'" in result.output


def test_repeat_auto_adds_interleaved_rounds_until_settled_or_capped(tmp_path: Path) -> None:
    from harness.gate.auto_repeat import AutoRepeat

    opts = suite.Options(strategies=["threads", "sequential"], out=tmp_path, repeat=AutoRepeat.first_repeats(0.01))
    prepared = ab.prepare(_scenario(), opts, launchers.make("inprocess"), launchers.make("inprocess"))
    stepper = AutoRepeat(prepared, "throughput", 0.10, 0.01, budget_s=600, max_repeats=7)
    run_dir, _ = prepared.run(stepper.on_progress)
    trials = json.loads((run_dir / "run.json").read_text())["trials"]
    assert alternates(trials)  # the alternation goes on in the rounds added
    assert max(t["repeat"] for t in trials) <= 6 and stepper.stopped
    assert len(trials) > 2 * 2 * 6 or stepper.stopped.startswith("every pair settled")
    if not stepper.stopped.startswith("every pair settled"):
        assert stepper.unsettled and stepper.stopped == "--max-repeat 7 reached"


def test_compare_refuses_an_ab_run_whose_pairs_hold_both_sides(tmp_path: Path) -> None:
    from harness.errors import CompareError
    from harness.gate.compare import compare

    opts = suite.Options(strategies=["threads"], out=tmp_path)
    _, doc = ab.prepare(_scenario(), opts, launchers.make("inprocess"), launchers.make("inprocess")).run()
    run = Run.from_doc(doc)
    with pytest.raises(CompareError, match="the baseline is an ab run"):
        compare(run, run)
    a, b = ab.split(run)
    assert a.ab is None and b.ab is None
    assert {t.id[-2:] for t in a.trials} == {"-A"} and {t.id[-2:] for t in b.trials} == {"-B"}


#: The last commit with the flat ``harness/`` (before the layer folders): a side of that layout.
FLAT_LAYOUT = "401228e"


def test_ab_runs_and_judges_a_commit_from_before_the_layout_move(tmp_path: Path) -> None:
    """Side A a git ref of the old flat layout, side B this tree: both run their own worker
    (``python -m harness.worker``, the entry every layout keeps) and the run is judged."""
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{FLAT_LAYOUT}^{{commit}}"], check=False)
    if known.returncode != 0:
        pytest.skip(f"commit {FLAT_LAYOUT} is not in this clone (shallow?)")
    out = tmp_path / "verdicts.json"
    args = ["ab", FLAT_LAYOUT, str(ROOT), str(ROOT / "scenarios" / "smoke.toml"), "-s", "sequential", "-r", "5"]
    args += ["--warmup", "0", "-o", str(tmp_path / "results"), "--json", str(out)]
    result = cli.invoke(app, args, terminal_width=200)
    assert result.exit_code in (0, 1, 3), result.output  # judged: no regression, slower, or too noisy to say
    assert f"A (baseline) git {FLAT_LAYOUT}" in result.output
    (run_json,) = (tmp_path / "results").glob("*/run.json")
    trials = json.loads(run_json.read_text())["trials"]
    assert sorted(t["side"] for t in trials) == ["A"] * 5 + ["B"] * 5
    assert all(t["status"] == "ok" for t in trials), [t["errors"] for t in trials]
    assert json.loads(out.read_text())["pairs"][0]["verdict"]  # a verdict for the pair
