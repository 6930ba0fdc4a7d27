"""Sweeps: --vary parsing, planning one scenario per point, best and knee, and the command end to end."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harness import errors, scenario
from harness.cli import app
from harness.rundir.model import Run
from harness.running import suite
from harness.sweeps import findings as sweep
from tests.helpers import SCENARIOS

cli = CliRunner()


@pytest.mark.parametrize(
    ("spec", "param", "values"),
    [
        ("readers=1..4", "readers", (1, 2, 3, 4)),
        ("readers=3..3", "readers", (3,)),
        ("readers=1..16:5", "readers", (1, 6, 11, 16)),
        ("readers=1..16*2", "readers", (1, 2, 4, 8, 16)),
        ("readers=1..20*3", "readers", (1, 3, 9)),
        ("payload_bytes=1e2,1e4,1e6", "payload_bytes", (100, 10_000, 1_000_000)),
        (" writers = 2, 4 ,8 ", "writers", (2, 4, 8)),
        ("queue_maxsize=0,1,10", "queue_maxsize", (0, 1, 10)),
    ],
)
def test_parse_vary(spec: str, param: str, values: tuple[int, ...]) -> None:
    assert sweep.parse_vary(spec) == sweep.Vary(param, values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("readers=abc", "'abc' is not a number"),
        ("readers=1..x", "'x' is not a number"),
        ("colour=1..3", "cannot vary 'colour'; choose one of readers, writers"),
        ("readers=", "expected PARAM=VALUES"),
        ("readers", "expected PARAM=VALUES"),
        ("=1..3", "expected PARAM=VALUES"),
        ("", "expected PARAM=VALUES"),
        ("readers=5..1", "the range is empty (5 > 1)"),
        ("readers=1.5,2", "'1.5' is not a whole number"),
        ("readers=1..4:0", "the step must be >= 1"),
        ("readers=1..8*1", "a factor >= 2"),
        ("readers=1,2,1", "a value is repeated"),
        ("readers=,", "no values"),
        ("readers=1..100000", "more than 200 values"),
        ("payload_bytes=inf", "not a whole number"),
    ],
)
def test_parse_vary_rejects_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(errors.SweepError) as exc:
        sweep.parse_vary(spec)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def _registry() -> scenario.LoadedScenario:
    (loaded,) = scenario.load(SCENARIOS / "registry-push.toml")
    return loaded


def test_expand_makes_one_valid_scenario_per_point() -> None:
    points = sweep.expand(_registry(), [sweep.parse_vary("readers=1..3")])
    assert [p.loaded.scenario.name for p in points] == [
        "registry-push.readers-1",
        "registry-push.readers-2",
        "registry-push.readers-3",
    ]
    assert [p.loaded.scenario.readers for p in points] == [1, 2, 3]
    assert [p.values for p in points] == [{"readers": 1}, {"readers": 2}, {"readers": 3}]
    # Everything else is the scenario's own.
    first = points[0].loaded.scenario
    assert first.reader_work == _registry().scenario.reader_work and first.writers == 20


def test_expand_grid_and_plan() -> None:
    varies = [sweep.parse_vary("readers=1,2"), sweep.parse_vary("writers=4,8,16")]
    points = sweep.expand(_registry(), varies)
    assert [(p.values["readers"], p.values["writers"]) for p in points] == [
        (1, 4),
        (1, 8),
        (1, 16),
        (2, 4),
        (2, 8),
        (2, 16),
    ]
    assert points[4].loaded.scenario.name == "registry-push.readers-2.writers-8"
    opts = suite.Options(strategies=["threads", "asyncio"], repeat=2, warmup=1)
    planned = suite.plan([p.loaded for p in points], opts)
    assert len(planned) == 6 * 2 * 3
    # A plain run: every repeat of a point before the next point (strategies interleaved).
    assert [(t.loaded.scenario.name[-19:], t.repeat, t.strategy) for t in planned[:6]] == [
        ("readers-1.writers-4", r, s) for r in (-1, 0, 1) for s in ("threads", "asyncio")
    ]
    # A sweep's rounds span the points: each round is every point x strategy once, walked along
    # diagonals (strategy k at point d - k here: two strategies), so neighbours differ in point and
    # in strategy.
    opts.rounds_span_scenarios = True
    rounds = suite.plan([p.loaded for p in points], opts)
    assert len(rounds) == len(planned)
    names = [p.loaded.scenario.name for p in points]
    for r, start in ((-1, 0), (0, 12), (1, 24)):
        one = rounds[start : start + 12]
        assert {t.repeat for t in one} == {r}
        assert sorted((t.loaded.scenario.name, t.strategy) for t in one) == sorted(
            (n, s) for n in names for s in ("threads", "asyncio")
        )
        cells = [(names.index(t.loaded.scenario.name), t.strategy) for t in one]
        assert cells[:4] == [(0, "threads"), (5, "asyncio"), (1, "threads"), (0, "asyncio")]
        assert all(a[0] != b[0] and a[1] != b[1] for a, b in itertools.pairwise(cells))
    rec = sweep.record(_registry(), varies, points)
    assert rec["param"] == "readers" and rec["values"] == [1, 2]
    assert rec["params"] == {"readers": [1, 2], "writers": [4, 8, 16]}
    assert rec["points"]["registry-push.readers-1.writers-16"] == {"readers": 1, "writers": 16}


@pytest.mark.parametrize("n_points", [3, 4, 6, 7])
@pytest.mark.parametrize("n_strategies", [2, 3, 4, 6, 7])
def test_a_sweeps_neighbouring_trials_differ_in_point_and_strategy(n_points: int, n_strategies: int) -> None:
    points = sweep.expand(_registry(), [sweep.parse_vary(f"readers=1..{n_points}")])
    names = ["threads", "asyncio", "mp-queue", "seed-pool", "manager-pool", "process-pool", "sequential"]
    opts = suite.Options(strategies=names[:n_strategies], repeat=2, warmup=0, rounds_span_scenarios=True)
    cells = [(t.loaded.scenario.name, t.strategy) for t in suite.plan([p.loaded for p in points], opts)]
    assert sorted(cells[: len(cells) // 2]) == sorted(set(cells))  # a round: every cell once
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in itertools.pairwise(cells))


def test_expand_validates_every_point() -> None:
    with pytest.raises(errors.SweepError) as exc:
        sweep.expand(_registry(), [sweep.parse_vary("readers=0..2")])
    assert str(exc.value) == (
        "--vary: scenario 'registry-push' at readers = 0: field 'readers': Input should be greater than or equal to 1"
    )
    with pytest.raises(errors.SweepError, match="given twice"):
        sweep.expand(_registry(), [sweep.parse_vary("readers=1,2"), sweep.parse_vary("readers=3")])
    with pytest.raises(errors.SweepError, match="at most 200"):
        sweep.expand(_registry(), [sweep.parse_vary("readers=1..20"), sweep.parse_vary("writers=1..20")])
    with pytest.raises(errors.SweepError, match="nothing to sweep"):
        sweep.expand(_registry(), [])


def test_pick_needs_a_name_when_the_file_has_several() -> None:
    loaded = scenario.load(SCENARIOS / "cpu-bound.toml")
    assert len(loaded) > 1
    with pytest.raises(errors.SweepError, match="pick one with --scenario"):
        sweep.pick(loaded, None)
    name = loaded[1].scenario.name
    assert sweep.pick(loaded, name) is loaded[1]
    with pytest.raises(errors.SweepError, match="no scenario 'nope'"):
        sweep.pick(loaded, "nope")


def _doc(rows: list[tuple[str, int, float, str]], groups: dict[str, list[int]] | None = None) -> Run:
    """A run with one measured trial per (strategy, readers, throughput, status) row."""
    params = {"readers": sorted({r[1] for r in rows}), **(groups or {})}
    points = {f"s.readers-{v}": {"readers": v} for v in params["readers"]}
    trials = [
        {
            "id": f"s.readers-{readers}-{strategy}-{i}",
            "scenario": f"s.readers-{readers}",
            "strategy": strategy,
            "status": status,
            "warmup": False,
            "metrics": {"throughput": thr, "e2e_p99_ms": 1000 / thr, "expected": 100, "ideal_makespan_s": 0.5},
        }
        for i, (strategy, readers, thr, status) in enumerate(rows)
    ]
    sweep_rec = {"scenario": "s", "param": "readers", "values": params["readers"], "params": params, "points": points}
    return Run.from_doc({"status": "complete", "sweep": sweep_rec, "trials": trials, "scenarios": {}})


def test_best_and_knee() -> None:
    """Best = highest median throughput among passing points; knee = smallest value >= 95% of it."""
    rows = [("threads", r, t, "ok") for r, t in zip(range(1, 6), (10.0, 20.0, 29.0, 30.0, 25.0), strict=True)]
    rows += [("asyncio", 1, 10.0, "ok"), ("asyncio", 2, 99.0, "failed"), ("asyncio", 3, 12.0, "ok")]
    doc = _doc(rows)
    frame = sweep.results(doc)
    assert list(frame["ideal_throughput"].unique()) == [200.0]
    found = {f.strategy: f for f in sweep.findings(doc, frame)}
    assert (found["threads"].best, found["threads"].knee) == (4, 3)
    assert found["threads"].lines() == [
        "threads: best readers = 4 (30 items/s; not distinguishable from readers = 3 over the repeats)",
        "threads: knee readers = 3 (29 items/s, >= 95% of best)",
    ]
    # A point whose trial failed is never the best, however fast it looked.
    assert (found["asyncio"].best, found["asyncio"].knee) == (3, 3)
    assert not found["threads"].flat and not found["asyncio"].flat


def test_flat_strategy_says_so() -> None:
    """sequential ignores readers: its best is noise, so the line says flat; its knee is the smallest value."""
    doc = _doc([("sequential", 1, 14.66, "ok"), ("sequential", 2, 14.6, "ok"), ("sequential", 3, 14.73, "ok")])
    (f,) = sweep.findings(doc, sweep.results(doc))
    assert f.flat and f.knee == 1
    assert f.lines()[0] == "sequential: best readers = 3 (14.73 items/s; flat: every readers within 5%)"


def test_no_findings_when_nothing_passed() -> None:
    doc = _doc([("threads", 1, 5.0, "failed"), ("threads", 2, 6.0, "error")])
    assert sweep.findings(doc, sweep.results(doc)) == []


def test_sweep_command_end_to_end(tmp_path: Path) -> None:
    """Runs every point as one run, prints tables and best/knee lines, records the sweep, writes the figure."""
    args = ["sweep", str(SCENARIOS / "smoke.toml"), "--vary", "readers=1..2", "-s", "threads", "-s", "sequential"]
    result = cli.invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for line in ("threads: best readers = ", "threads: knee readers = ", "sequential: runs no pool"):
        assert line in result.output
    (run_dir,) = tmp_path.iterdir()
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["status"] == "complete"
    assert doc["sweep"]["param"] == "readers" and doc["sweep"]["values"] == [1, 2]
    # The time it should take and the time it took, for the next estimate (harness.running.timing).
    assert doc["timing"]["estimate_s"] > 0 and doc["timing"]["actual_s"] > 0 and doc["timing"]["trials"] == 3
    assert all(t["elapsed_s"] > 0 for t in doc["trials"])
    dry = cli.invoke(app, [*args, "--out", str(tmp_path), "--dry-run"])
    assert "time, learned: about " in dry.output and "learned from 3 trials of 1 earlier run(s)" in dry.output
    assert sorted(doc["scenarios"]) == ["smoke.readers-1", "smoke.readers-2"]
    # One round over every point x strategy (suite.plan's diagonals); sequential runs no pool: one point.
    assert [(t["scenario"][-9:], t["strategy"]) for t in doc["trials"]] == [
        ("readers-1", "threads"),
        ("readers-2", "threads"),
        ("readers-1", "sequential"),
    ]
    assert (run_dir / "sweep.png").read_bytes().startswith(b"\x89PNG")
    assert (run_dir / "summary.csv").exists()
    shown = cli.invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0 and "threads: best readers = " in shown.output


def test_sweep_over_a_contended_service_peaks_at_its_capacity(tmp_path: Path) -> None:
    """Capacity 2, collapsing hard beyond it: 1 reader does 1/2 of the peak and 3 readers under 1/2 (model)."""
    file = tmp_path / "svc.toml"
    file.write_text(
        "[[scenario]]\nname = 'svc'\ndescription = 'contended'\nwriters = 4\nreaders = 1\nitems_per_writer = 6\n"
        "repeats = 1\nwarmup = 0\n"
        "reader_work = { kind = 'service', ms = 20, capacity = 2, model = 'collapse', penalty = 2 }\n"
    )
    result = cli.invoke(app, ["sweep", str(file), "--vary", "readers=1..3", "-s", "threads", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "threads: best readers = 2" in result.output


def test_sweep_figure_survives_failed_trials(tmp_path: Path) -> None:
    args = ["sweep", str(SCENARIOS / "smoke.toml"), "--vary", "readers=1,2", "-s", "test-lose", "-o", str(tmp_path)]
    result = cli.invoke(app, args)
    assert result.exit_code == 1, result.output
    (run_dir,) = tmp_path.iterdir()
    assert (run_dir / "sweep.png").exists()
    assert "best readers" not in result.output


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("readers=abc", "error: --vary readers=abc: 'abc' is not a number"),
        ("colour=1..3", "error: --vary colour=1..3: cannot vary 'colour'"),
        ("readers=0..2", "error: --vary: scenario 'smoke' at readers = 0: field 'readers'"),
        ("", "error: --vary '': expected PARAM=VALUES"),
    ],
)
def test_bad_sweep_specs_exit_2_with_one_line(tmp_path: Path, vary: str, message: str) -> None:
    result = cli.invoke(app, ["sweep", str(SCENARIOS / "smoke.toml"), "--vary", vary, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith(message) and result.output.count("\n") == 1, result.output
    assert list(tmp_path.iterdir()) == []


def test_sweep_of_a_multi_scenario_file_needs_scenario(tmp_path: Path) -> None:
    result = cli.invoke(app, ["sweep", str(SCENARIOS / "cpu-bound.toml"), "--vary", "readers=1,2", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "pick one with --scenario" in result.output


def test_results_frame_orders_by_strategy_then_value() -> None:
    doc = _doc([("threads", 2, 2.0, "ok"), ("asyncio", 1, 1.0, "ok"), ("threads", 1, 1.0, "ok")])
    frame = sweep.results(doc)
    assert isinstance(frame, pd.DataFrame)
    assert list(zip(frame["strategy"], frame["readers"], strict=True)) == [
        ("asyncio", 1),
        ("threads", 1),
        ("threads", 2),
    ]


def test_a_strategy_without_a_pool_runs_at_one_point_of_a_readers_sweep() -> None:
    """sequential ignores readers: one point per combination of the other parameters, not every point."""
    from harness.sweeps import planning

    varies = [sweep.parse_vary("readers=1..3"), sweep.parse_vary("writers=4,8")]
    points = sweep.expand(_registry(), varies)
    opts = suite.Options(strategies=["threads", "sequential"], repeat=2, warmup=1, rounds_span_scenarios=True)
    opts.skip = planning.one_point_skips([(p.loaded, p.values) for p in points], opts)
    planned = suite.plan([p.loaded for p in points], opts)
    seq = {t.loaded.scenario.name for t in planned if t.strategy == "sequential"}
    assert seq == {"registry-push.readers-1.writers-4", "registry-push.readers-1.writers-8"}
    assert sum(t.strategy == "threads" for t in planned) == 6 * 3
    assert sum(t.strategy == "sequential" for t in planned) == 2 * 3
    # A sweep over anything but the pool size runs it everywhere: writers change its work.
    points = sweep.expand(_registry(), [sweep.parse_vary("writers=4,8")])
    assert planning.one_point_skips([(p.loaded, p.values) for p in points], opts) == frozenset()


def test_a_strategy_without_a_pool_is_one_figure_not_a_best() -> None:
    doc = _doc([("sequential", 1, 14.66, "ok"), ("threads", 1, 10.0, "ok"), ("threads", 2, 20.0, "ok")])
    frame = sweep.results(doc)
    found = {f.strategy: f for f in sweep.findings(doc, frame)}
    assert found["sequential"].pool_independent and not found["threads"].pool_independent
    assert found["sequential"].lines() == [
        "sequential: runs no pool, so readers makes no difference: 14.66 items/s (measured at readers = 1 only)"
    ]
    throughput = sweep.pivots(doc, frame, list(found.values()))[0]
    row = dict(throughput.rows)["sequential"]
    assert row[0] is not None and row[0].mark == "" and row[1] is None


def test_sweep_auto_searches_and_says_which_points_it_measured_and_why(tmp_path: Path) -> None:
    file = tmp_path / "svc.toml"
    file.write_text(
        "[[scenario]]\nname = 'svc'\ndescription = 'contended'\nwriters = 4\nreaders = 1\nitems_per_writer = 4\n"
        "repeats = 1\nwarmup = 0\n"
        "reader_work = { kind = 'service', ms = 10, capacity = 2, model = 'collapse', penalty = 2 }\n"
    )
    args = ["sweep", str(file), "--vary", "readers=1..5", "-s", "threads", "--auto", "--budget", "1s"]
    result = cli.invoke(app, [*args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "auto: first look at readers = 1, 2, 4, 5" in result.output
    assert "auto: threads: " in result.output and "auto: stopped: " in result.output
    (run_dir,) = (tmp_path / "out").iterdir()
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["auto"]["first_look"] == [1, 2, 4, 5] and doc["auto"]["log"] and doc["auto"]["stopped"]
    # The first look, then the budget (looked at after each round) is spent: the search stops there.
    assert {t["scenario"] for t in doc["trials"]} == {f"svc.readers-{v}" for v in (1, 2, 4, 5)}
    assert doc["auto"]["stopped"].startswith("time budget of 1 s spent")


def test_sweep_auto_needs_one_readers_range(tmp_path: Path) -> None:
    args = ["sweep", str(SCENARIOS / "smoke.toml"), "--vary", "writers=1..3", "--auto", "-o", str(tmp_path)]
    result = cli.invoke(app, args)
    assert result.exit_code == 2 and "--auto searches for a pool size" in result.output
    args = ["sweep", str(SCENARIOS / "smoke.toml"), "--vary", "readers=1..3", "--auto", "--budget", "soon"]
    result = cli.invoke(app, [*args, "-o", str(tmp_path)])
    assert result.exit_code == 2 and "--budget 'soon'" in result.output


def test_sweep_direct_checks_the_model_against_one_long_run(tmp_path: Path) -> None:
    """--direct: the fastest strategy once at its best pool with 100 items, beside the model's T."""
    file = tmp_path / "svc.toml"
    file.write_text(
        "[[scenario]]\nname = 'svc'\ndescription = 'contended'\nwriters = 4\nreaders = 1\nitems_per_writer = 3\n"
        "repeats = 1\nwarmup = 0\n"
        "reader_work = { kind = 'service', ms = 5, capacity = 2, model = 'collapse', penalty = 2 }\n"
    )
    args = ["sweep", str(file), "--vary", "readers=1..2", "-s", "threads", "--direct", "-o", str(tmp_path / "out")]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "direct: 100 items by threads with a pool of" in result.output and "the model said" in result.output
    sweep_dir = next(d for d in (tmp_path / "out").iterdir() if (d / "sweep.png").exists())
    doc = json.loads((sweep_dir / "run.json").read_text())
    assert doc["direct"]["items"] == 100 and doc["direct"]["direct_s"] > 0 and doc["direct"]["model_s"] > 0


def test_the_direct_check_says_how_far_the_model_is_off() -> None:
    from harness.sweeps.direct import Check

    check = Check("threads", 3, 100, model_s=45.0, direct_s=52.0)
    assert check.line() == (
        "direct: 100 items by threads with a pool of 3 took 52.0 s in one run; the model said 45.0 s (13% short)"
    )
