"""The CLI through typer's runner (and a real subprocess where import cost matters)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.helpers import SCENARIOS

cli = CliRunner()


def test_help_is_fast_to_import() -> None:
    """`queuebench --help` imports no pandas, numpy, pyarrow or pydantic."""
    code = (
        "import sys\nfrom harness.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'numpy', 'pyarrow', 'pydantic', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    assert "run" in out.stdout and "list" in out.stdout


def test_list_shows_strategies_and_scenarios() -> None:
    result = cli.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for name in ("seed-pool", "manager-pool", "mp-queue", "process-pool", "threads", "asyncio", "sequential"):
        assert name in result.output
    assert "test-hang" not in result.output
    assert "smoke.toml" in result.output and "io-bound" in result.output


def test_run_then_show(tmp_path: Path) -> None:
    out = tmp_path / "res"
    args = ["run", str(SCENARIOS / "smoke.toml"), "-s", "threads", "-s", "sequential", "--out", str(out)]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "★" in result.output and "threads" in result.output and "sequential" in result.output
    (run_dir,) = out.iterdir()
    assert f"results: {run_dir}" in result.output.replace("\n", "")
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["status"] == "complete" and doc["schema_version"] == 1
    assert [t["strategy"] for t in doc["trials"]] == ["threads", "sequential"]
    assert all(t["status"] == "ok" and t["metrics"]["exactly_once"] for t in doc["trials"])
    assert len(list((run_dir / "samples").glob("*.parquet"))) == 2
    assert (run_dir / "summary.csv").read_text().startswith("scenario,strategy,rank")
    shown = cli.invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    assert "status complete" in shown.output and "threads" in shown.output


def test_failed_trial_exits_1(tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", str(SCENARIOS / "smoke.toml"), "-s", "test-lose", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "exactly-once broken: lost 1" in result.output


def test_hanging_trial_is_killed_and_run_goes_on(tmp_path: Path) -> None:
    args = [
        "run",
        str(SCENARIOS / "smoke.toml"),
        "-s",
        "test-hang",
        "-s",
        "sequential",
        "--timeout",
        "1",
        "--out",
        str(tmp_path),
    ]
    result = cli.invoke(app, args)
    assert result.exit_code == 1, result.output
    (run_dir,) = tmp_path.iterdir()
    trials = json.loads((run_dir / "run.json").read_text())["trials"]
    assert [(t["strategy"], t["status"]) for t in trials] == [("test-hang", "timeout"), ("sequential", "ok")]


def test_bad_scenario_file_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[scenario]]\nname='x'\nwriters=0\nreaders=1\nitems_per_writer=1\n")
    result = cli.invoke(app, ["run", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: {bad}: scenario 'x': field 'writers': Input should be greater than or equal to 1 (got 0)"
    )


def test_unknown_strategy_exit_2(tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", str(SCENARIOS / "smoke.toml"), "-s", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown strategy 'nope' (valid names: seed-pool" in result.output
    assert "did you mean" not in result.output  # nothing close to 'nope'


def test_a_typo_in_a_strategy_says_what_was_meant(tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", str(SCENARIOS / "smoke.toml"), "-s", "thread", "--out", str(tmp_path)])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: unknown strategy 'thread'; did you mean 'threads'? (valid names: seed-pool, ")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # refused before anything ran


def test_a_typo_in_a_work_kind_says_what_was_meant(tmp_path: Path) -> None:
    bad = tmp_path / "typo.toml"
    bad.write_text("[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='ioo', ms=1}\n")
    result = cli.invoke(app, ["run", str(bad), "--out", str(tmp_path / "results")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {bad}: scenario 'x': field 'reader_work.kind': unknown work kind 'ioo'; did you mean 'io'?"
        " (valid kinds: none, io, cpu, service, docker-build, docker-push, call)"
    )


def test_bad_python_exit_2(tmp_path: Path) -> None:
    result = cli.invoke(
        app, ["run", str(SCENARIOS / "smoke.toml"), "--python", "/no/such/python", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "cannot run worker interpreter '/no/such/python'" in result.output


def test_show_rejects_non_run_dirs(tmp_path: Path) -> None:
    result = cli.invoke(app, ["show", str(tmp_path)])
    assert result.exit_code == 2 and "no run.json here" in result.output
    (tmp_path / "run.json").write_text("{ not json")
    result = cli.invoke(app, ["show", str(tmp_path)])
    assert result.exit_code == 2 and "damaged or not JSON" in result.output


def test_an_option_taken_as_the_dask_address_is_one_line(tmp_path: Path) -> None:
    """``--dask --out X``: click gives --dask the next word, --out; said in one line as it is parsed."""
    args = ["run", str(SCENARIOS / "smoke.toml"), "-s", "threads", "--dask", "--out", str(tmp_path / "x")]
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --dask got '--out', which is an option, not an address: give --dask local or --dask tcp://HOST:PORT"
    )
    assert not (tmp_path / "x").exists()


def test_the_dask_deadline_reaches_the_launchers() -> None:
    """--dask-timeout goes to the Dask launcher, and to local trials' environment (the dask strategy reads it)."""
    from harness.cli.measuring import launcher_for
    from harness.running import suite
    from harness.running.launchers.dask import DaskLauncher
    from harness.running.launchers.local import LocalLauncher

    opts = suite.Options(python=sys.executable)
    on_dask, local, plain = (
        launcher_for(opts, "tcp://127.0.0.1:9", 2.5),
        launcher_for(opts, None, 2.5),
        launcher_for(opts, None),
    )
    assert isinstance(on_dask, DaskLauncher) and on_dask.timeout == 2.5
    assert isinstance(local, LocalLauncher) and local.env == {"QUEUEBENCH_DASK_TIMEOUT": "2.5"}
    assert isinstance(plain, LocalLauncher) and plain.env == {}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["run", "--out", "--dry-run"],
            "error: --out takes a value, but the next word is the option --dry-run; give --out its value "
            "(--out VALUE, or --out=--dry-run if that is the value)",
        ),
        (["run", "-s", "--dry-run"], "error: -s takes a value, but the next word is the option --dry-run; give -s its"),
        (["compare", "a", "b", "-m", "--strict"], "error: -m takes a value, but the next word is the option --strict"),
    ],
)
def test_an_option_given_as_another_options_value_is_one_line(args: list[str], line: str) -> None:
    """Like `--dask --out X` (which took `--out` as the scheduler's address), for every option that takes
    a value: nothing runs and one line says why."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(line) and len(result.output.splitlines()) == 1, result.output
