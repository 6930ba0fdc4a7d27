"""pytest-benchmark interop: the exported JSON and the pytest fixture, on small real runs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from pytest_benchmark.stats import Stats
from typer.testing import CliRunner

from harness import errors, exports, scenario
from harness.cli import app
from harness.exports import pytest_benchmark as pb_export
from harness.rundir import store
from harness.running import launchers, suite
from tests.helpers import SCENARIOS

cli = CliRunner()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 10, 13])
def test_stats_match_pytest_benchmark(n: int) -> None:
    """Our stats block equals pytest-benchmark's own Stats, quartile methods included."""
    rng = random.Random(n)
    data = [rng.uniform(0.001, 0.01) for _ in range(n)]
    ours = pb_export.bench_stats(data)
    theirs = Stats()
    for d in data:
        theirs.update(d)
    assert {k: ours[k] for k in Stats.fields} == pytest.approx(theirs.as_dict())


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    loaded = scenario.load(SCENARIOS / "smoke.toml")
    opts = suite.Options(strategies=["sequential", "threads"], repeat=3, warmup=0, out=tmp_path_factory.mktemp("r"))
    run_dir, doc = suite.execute(loaded, opts, launchers.make("local").probe())
    assert all(t["status"] == "ok" for t in doc["trials"])
    return run_dir


def test_export_is_read_by_pytest_benchmark_compare(smoke_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "0001_smoke.json"
    result = cli.invoke(app, ["export", str(smoke_run), "--format", "pytest-benchmark", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 2 benchmark(s) to {out}" in result.output
    data = json.loads(out.read_text())
    bench = {b["name"]: b for b in data["benchmarks"]}
    assert set(bench) == {"smoke[sequential]", "smoke[threads]"}
    seq = bench["smoke[sequential]"]
    assert seq["group"] == "smoke" and seq["stats"]["rounds"] == 3 and len(seq["stats"]["data"]) == 3
    assert seq["extra_info"]["throughput"] > 0 and seq["extra_info"]["e2e_p99_ms"] > 0
    # seconds per item: OPS is items per second (mean of per-trial rates, not their median)
    assert seq["stats"]["ops"] == pytest.approx(seq["extra_info"]["throughput"], rel=0.5)
    csv, other = tmp_path / "table", tmp_path / "0002_again.json"
    other.write_text(out.read_text())  # (the same file twice trips pytest-benchmark's cache)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest_benchmark", "compare", str(out), str(other), "--group-by=group", f"--csv={csv}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke[sequential]" in proc.stdout and "smoke[threads]" in proc.stdout
    assert "Failed to load" not in proc.stdout + proc.stderr
    assert "smoke[threads]" in csv.with_suffix(".csv").read_text()


def test_export_bad_input_exit_2(tmp_path: Path) -> None:
    result = cli.invoke(app, ["export", str(tmp_path), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "no run.json here" in result.output
    result = cli.invoke(app, ["export", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 2
    assert (
        result.output == f"error: --format: unknown export format 'csv'; choose one of {', '.join(exports.FORMATS)}\n"
    )


def test_export_help_lists_the_registered_formats() -> None:
    result = cli.invoke(app, ["export", "--help"], terminal_width=200)  # long names are not cut at a hyphen
    assert result.exit_code == 0 and all(name in result.output for name in exports.FORMATS)


THROWAWAY_FORMAT = """
from harness.exports import Exported


def export(run):
    lines = [f"{t.scenario} {t.strategy} {t.status}" for t in run.measured]
    return Exported("\\n".join(lines) + "\\n", len(lines), "line")
"""


def test_a_format_is_its_module_plus_one_registry_line(
    smoke_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new format needs nothing but its module and a FORMATS entry: the CLI finds and uses it."""
    (tmp_path / "qb_lines_export.py").write_text(THROWAWAY_FORMAT)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(exports.FORMATS, "lines", "qb_lines_export:export")
    run = store.read_run(smoke_run)
    done = exports.export(run, "lines")
    assert done.count == 6 and "smoke sequential ok" in done.text.splitlines()
    out = tmp_path / "trials.txt"
    result = cli.invoke(app, ["export", str(smoke_run), "--format", "lines", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 6 line(s) to {out}" in result.output
    assert out.read_text() == done.text
    with pytest.raises(errors.UnknownFormat, match=r"choose one of pytest-benchmark, .*, lines"):
        exports.export(run, "nope")


FIXTURE_TEST = """
import os

import pytest

SCENARIO = {"writers": 1, "readers": 1, "items_per_writer": 10, "reader_work": {"kind": "io", "ms": 2}}


def test_gate(queuebench_benchmark):
    factor = float(os.environ.get("QB_FACTOR", "1.0"))
    result = queuebench_benchmark("test-slow", SCENARIO, name="tiny", repeats=3, warmup=0,
                                  options={"delay_factor": factor})
    assert len(result.trials) == 3 and result.throughput > 0
    assert (result.run_dir / "run.json").is_file()


def test_broken_strategy_fails(queuebench_benchmark):
    queuebench_benchmark("test-lose", SCENARIO, name="tiny", repeats=1, warmup=0)


def test_unknown_strategy(queuebench_benchmark):
    queuebench_benchmark("no-such-strategy", SCENARIO, name="tiny", repeats=1, warmup=0)


def test_bad_scenario(queuebench_benchmark):
    queuebench_benchmark("threads", {"writers": 0}, name="tiny", repeats=1, warmup=0)


@pytest.mark.parametrize("strategy", ["function", "mypipe:run", "threads"])
def test_your_function_and_your_strategy(queuebench_benchmark, strategy):
    import mypipe

    before = len(list(CALLS.iterdir()))
    work = {**SCENARIO, "reader_work": {"kind": "call", "call": "mypipe:push"}}
    chosen = mypipe.run if strategy == "function" else strategy
    result = queuebench_benchmark(chosen, work, name="mine", repeats=1, warmup=0)
    assert len(result.trials) == 1 and result.throughput > 0
    assert result.strategy == ("mypipe:run" if strategy == "function" else strategy)
    assert len(list(CALLS.iterdir())) == before + 10  # your function, once per item
"""

MYPIPE = """
import itertools, os
from pathlib import Path

from queuebench import strategy
from strategies.sequential import run as sequential

CALLS = Path(__file__).parent / "calls"
CALLS.mkdir(exist_ok=True)
N = itertools.count()


def push(writer, seq, payload):
    (CALLS / f"{os.getpid()}-{next(N)}").touch()


@strategy(family="serial")
def run(workload):
    return sequential(workload)
"""


def _pytest(folder: Path, *args: str, factor: float = 1.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QB_FACTOR": str(factor)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-storage", str(folder / "s")]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, check=False, cwd=folder, env=env)


def test_fixture_under_pytest_benchmark_and_compare_fail(tmp_path: Path) -> None:
    """The fixture records per-item times; --benchmark-compare-fail catches a 3x slowdown."""
    assert "harness.pytest_plugin" in [e.value for e in metadata.entry_points(group="pytest11")]
    (tmp_path / "test_q.py").write_text(textwrap.dedent(FIXTURE_TEST))
    first = _pytest(tmp_path, "test_q.py::test_gate", "--benchmark-autosave", "--benchmark-json=first.json")
    assert first.returncode == 0, first.stdout + first.stderr
    (bench,) = json.loads((tmp_path / "first.json").read_text())["benchmarks"]
    assert bench["stats"]["rounds"] == 3 and bench["group"] == "tiny"
    assert bench["extra_info"]["strategy"] == "test-slow" and bench["extra_info"]["throughput"] > 0
    # per-item time of a 2 ms read, not the wall time of starting a worker process
    assert 0.0015 < bench["stats"]["median"] < 0.05
    same = _pytest(tmp_path, "test_q.py::test_gate", "--benchmark-compare", "--benchmark-compare-fail=median:1000%")
    assert same.returncode == 0, same.stdout + same.stderr
    slow = _pytest(
        tmp_path, "test_q.py::test_gate", "--benchmark-compare", "--benchmark-compare-fail=median:50%", factor=3.0
    )
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "Performance has regressed" in slow.stdout + slow.stderr


def test_fixture_fails_a_broken_trial(tmp_path: Path) -> None:
    (tmp_path / "test_q.py").write_text(textwrap.dedent(FIXTURE_TEST))
    result = _pytest(tmp_path, "test_q.py::test_broken_strategy_fails")
    assert result.returncode == 1
    assert "queuebench: test-lose on tiny: 1 trial(s) did not pass: exactly-once broken: lost 1" in result.stdout


def test_fixture_takes_your_function_or_your_module_function(tmp_path: Path) -> None:
    (tmp_path / "test_q.py").write_text(
        textwrap.dedent(FIXTURE_TEST).replace("import pytest", "import pytest\nfrom mypipe import CALLS")
    )
    (tmp_path / "mypipe.py").write_text(textwrap.dedent(MYPIPE))
    result = _pytest(tmp_path, "test_q.py::test_your_function_and_your_strategy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_fixture_bad_arguments_fail_once_cleanly(tmp_path: Path) -> None:
    """An unknown strategy or a bad scenario is one FAILED with a clear line: no traceback, and no
    teardown ERROR from pytest-benchmark's "fixture was not used" warning under -W error."""
    (tmp_path / "test_q.py").write_text(textwrap.dedent(FIXTURE_TEST))
    tests = ["test_q.py::test_unknown_strategy", "test_q.py::test_bad_scenario"]
    result = _pytest(tmp_path, *tests, "-W", "error", "-rA")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    last = result.stdout.strip().splitlines()[-1]
    assert "2 failed" in last and "error" not in last, out
    assert "not used at all" not in out and "Traceback" not in out
    assert "queuebench_benchmark: unknown strategy 'no-such-strategy' (valid names:" in out
    assert "queuebench_benchmark: scenario 'tiny': field 'writers'" in out
