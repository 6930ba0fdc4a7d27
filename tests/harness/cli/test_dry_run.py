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
