"""Time is part of the pre-flight (issue #28, item 4): each trial's ideal makespan plus start-up,
times its trials, summed; a run estimated over the limit is refused in one line unless forced.
Asserts on the estimate's arithmetic, never on measured times."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import errors, scenario
from harness.analysis import metrics
from harness.cli import app
from harness.running import preflight
from strategies import base
from tests.helpers import ROOT

cli = CliRunner()
ROOMY = preflight.Limits(processes=100_000, files=1_000_000, memory=2**50, shm=2**50)
#: 4 writers x 100 items, 10 ms of reader io each over 2 readers: an ideal of 400 x 10 ms / 2 = 2 s.
LONG = (
    '[[scenario]]\nname = "long"\nwriters = 4\nreaders = 2\nitems_per_writer = 100\n'
    'reader_work = { kind = "io", ms = 10 }\nrepeats = 1000\nwarmup = 1\n'
)


def loaded(text: str) -> scenario.LoadedScenario:
    (one,) = scenario.parse(text, "s.toml")
    return scenario.LoadedScenario(one, "s.toml")


def test_a_trial_is_its_ideal_makespan_plus_start_up() -> None:
    e = preflight.estimate(loaded(LONG), "threads", "fork")
    assert e.ideal_s == pytest.approx(2.0)
    assert e.trial_s == pytest.approx(2.0 + preflight.STARTUP_S) == pytest.approx(2.5)
    assert e.trials == 1 and e.run_s == pytest.approx(2.5)


def test_the_run_is_every_trial_of_every_pair_one_after_another() -> None:
    ls = loaded(LONG.replace("repeats = 1000", "repeats = 3"))
    trials = [(ls, "threads")] * 4 + [(ls, "mp-queue")] * 4  # 1 warmup + 3 repeats each
    estimates = preflight.check(trials, "fork", force=False, limits=ROOMY)
    assert [(e.strategy, e.trials) for e in estimates] == [("threads", 4), ("mp-queue", 4)]
    assert preflight.total_seconds(estimates) == pytest.approx(8 * 2.5)
    assert "~2.5 s a trial x 4 = ~10 s" in estimates[0].line()


def test_a_run_over_the_limit_is_refused_with_its_estimate_unless_forced() -> None:
    ls = loaded(LONG)
    trials = [(ls, "threads")] * 1001  # 1 warmup + 1000 repeats: 1001 x 2.5 s = 2502.5 s
    with pytest.raises(errors.TooBig) as info:
        preflight.check(trials, "fork", force=False, limits=ROOMY)
    line = str(info.value)
    assert line == (
        "s.toml: the run would take about 42 min (1,001 trial(s); long / threads: 1,001 x ~2.5 s), "
        "over the limit of 30 min; make it shorter (fewer repeats, items or strategies), "
        "or run it anyway with --force"
    )
    (e,) = preflight.check(trials, "fork", force=True, limits=ROOMY)
    assert e.run_s == pytest.approx(2502.5)
    # The limit is a parameter (the API's callers may set their own); 2502.5 s fits under 42 min.
    assert preflight.check(trials, "fork", force=False, limits=ROOMY, time_limit_s=42 * 60)


def test_a_trial_stops_at_its_timeout() -> None:
    ls = loaded(LONG.replace("ms = 10", "ms = 60000") + "timeout = 5\n")
    assert preflight.estimate(ls, "threads", "fork").ideal_s == 5  # 400 x 60 s / 2, stopped at 5 s
    assert preflight.estimate(ls, "threads", "fork", timeout=2).ideal_s == 2  # --timeout wins


@pytest.mark.parametrize(
    ("writer", "reader", "parallelism"),
    [
        (base.WorkSpec("io", 0.2), base.WorkSpec("io", 1.0), 2),
        (base.WorkSpec("cpu", 3.0), base.WorkSpec("cpu", 5.0), 1.5),
        (base.WorkSpec("none", 0.0), base.WorkSpec("cpu", 2.0), 8),
        (base.WorkSpec("none", 0.0), base.WorkSpec("none", 0.0), 2),
    ],
)
def test_the_nominal_ideal_is_the_measured_bound_for_fixed_durations(
    writer: base.WorkSpec, reader: base.WorkSpec, parallelism: float
) -> None:
    wl = base.Workload(writers=3, readers=2, items_per_writer=7, writer_work=writer, reader_work=reader)
    assert metrics.nominal_ideal_makespan(wl, parallelism) == pytest.approx(metrics.ideal_makespan(wl, parallelism))


def test_an_absurd_size_costs_nothing_to_estimate() -> None:
    wl = base.Workload(writers=512, readers=1, items_per_writer=10**12, reader_work=base.WorkSpec("io", 1.0))
    assert metrics.nominal_ideal_makespan(wl, 2) == pytest.approx(512 * 10**12 * 1e-3)  # no array per item


def test_run_refuses_huge_repeats_in_one_line_and_plans_them_with_force(tmp_path: Path) -> None:
    file = tmp_path / "long.toml"
    file.write_text(LONG)
    out = tmp_path / "results"
    refused = cli.invoke(app, ["run", str(file), "-s", "threads", "--dry-run", "-o", str(out)])
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"error: {file}: the run would take about 42 min (1,001 trial(s); long / threads: 1,001 x ~2.5 s), "
        "over the limit of 30 min; make it shorter (fewer repeats, items or strategies), "
        "or run it anyway with --force"
    ]
    forced = cli.invoke(app, ["run", str(file), "-s", "threads", "--dry-run", "--force", "-o", str(out)])
    assert forced.exit_code == 0, forced.output
    assert "dry run: 1001 trial(s)" in forced.output
    assert "~2.5 s a trial x 1,001 = ~42 min" in forced.output
    assert "time: about 42 min (each trial's ideal makespan + ~0.5 s start-up), over the limit of 30 min" in (
        forced.output
    )
    assert not out.exists()


def test_repeats_on_the_command_line_count_too(tmp_path: Path) -> None:
    smoke = str(ROOT / "scenarios" / "smoke.toml")  # ideal 0.0202 s: 0.5202 s a trial
    small = cli.invoke(app, ["run", smoke, "-s", "threads", "-r", "3", "--dry-run"])
    assert small.exit_code == 0, small.output
    assert "~0.52 s a trial x 3 = ~1.6 s" in small.output
    assert "time: about 1.6 s (each trial's ideal makespan + ~0.5 s start-up); the limit is 30 min" in small.output
    # 4 strategies x 1000 repeats x 0.5202 s = 2080.8 s: over 30 min though each scenario is small.
    args = ["run", smoke, "-r", "1000", "--dry-run", *("-s", "threads", "-s", "asyncio", "-s", "sequential")]
    args += ["-s", "mp-queue"]
    refused = cli.invoke(app, args)
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1
    assert "about 35 min (4,000 trial(s);" in refused.output and "1,000 x ~0.52 s" in refused.output


def test_a_small_run_is_not_refused_through_prepare(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.running import launchers, suite

    monkeypatch.setattr(preflight.Limits, "here", classmethod(lambda cls: ROOMY))
    launcher = launchers.make("inprocess")
    ls = loaded(LONG)
    with pytest.raises(errors.TooBig, match="over the limit of 30 min"):
        suite.prepare([ls], suite.Options(strategies=["threads"]), launcher)
    prepared = suite.prepare([ls], suite.Options(strategies=["threads"], repeat=2, warmup=0), launcher)
    assert len(prepared.trials) == 2
