"""`queuebench list` asks the worker's interpreter what it can run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

cli = CliRunner()
PY310 = Path("/root/.pyenv/versions/3.10.13/bin/python")


def test_list_names_the_interpreter_it_asked_and_every_kind() -> None:
    result = cli.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert "available under Python 3." in result.output
    for kind in ("none", "io", "cpu", "service"):
        assert f"│ {kind} " in result.output


@pytest.mark.skipif(not PY310.exists(), reason="needs pyenv's CPython 3.10")
def test_list_under_another_interpreter_asks_that_one() -> None:
    result = cli.invoke(app, ["list", "--python", str(PY310)])
    assert result.exit_code == 0, result.output
    assert "available under Python 3.10" in result.output


def test_list_with_a_missing_interpreter_is_one_line_and_exit_2() -> None:
    result = cli.invoke(app, ["list", "--python", "/no/such/python"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "cannot run worker interpreter '/no/such/python'" in result.output


def test_running_a_strategy_the_worker_cannot_run_is_refused_before_any_trial(tmp_path) -> None:  # type: ignore[no-untyped-def]
    args = ["run", "scenarios/smoke.toml", "-s", "subinterpreter-pool", "-r", "1", "--warmup", "0"]
    result = cli.invoke(app, [*args, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "strategy 'subinterpreter-pool' cannot run under" in result.output and "needs Python >= 3.14" in result.output
    )
    assert not any(tmp_path.iterdir())  # nothing was run, nothing written
