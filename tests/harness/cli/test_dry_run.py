"""--dry-run checks and estimates without running anything: run and sweep alike."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from tests.helpers import ROOT

cli = CliRunner()


def test_sweep_dry_run_lists_every_point_and_runs_nothing(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["sweep", str(ROOT / "scenarios" / "io-bound.toml"), "--vary", "readers=1..3", "-s", "threads"]
    result = cli.invoke(app, [*args, "--dry-run", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 points, 12 trials" in result.output and "nothing was run" in result.output
    for n in (1, 2, 3):
        assert f"io-bound.readers-{n} / threads:" in result.output
    assert not out.exists()


def test_sweep_dry_run_still_refuses_bad_values_in_one_line(tmp_path: Path) -> None:
    args = ["sweep", str(ROOT / "scenarios" / "io-bound.toml"), "--vary", "readers=0..2", "--dry-run"]
    result = cli.invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_strategies_may_be_given_as_a_comma_separated_list(tmp_path: Path) -> None:
    """-s threads,asyncio -s sequential is three strategies, as -s threads -s asyncio -s sequential is."""
    out = tmp_path / "results"
    scenario = str(ROOT / "scenarios" / "io-bound.toml")
    dry = ["--dry-run", "-o", str(out)]
    listed = cli.invoke(app, ["run", scenario, "-s", "threads, asyncio", "-s", "sequential", *dry])
    one_by_one = cli.invoke(app, ["run", scenario, "-s", "threads", "-s", "asyncio", "-s", "sequential", *dry])
    assert listed.exit_code == 0, listed.output
    assert listed.output == one_by_one.output
    for name in ("threads", "asyncio", "sequential"):
        assert f"io-bound / {name}:" in listed.output
    typo = cli.invoke(app, ["run", scenario, "-s", "threads,thread", *dry])
    assert typo.exit_code == 2 and "unknown strategy 'thread'; did you mean 'threads'?" in typo.output
    for empty in ("", " , "):  # an unset variable's -s "$NAMES" is not "every strategy"
        refused = cli.invoke(app, ["run", scenario, "-s", empty, *dry])
        assert refused.exit_code == 2
        said = f"error: -s/--strategy {empty!r}: no strategy name in it; give a name such as threads"
        assert refused.output.strip() == said
