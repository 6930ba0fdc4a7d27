"""No number a run.json can hold crashes a command (issue #28, item 2): huge, NaN and infinite
values in every metric field are refused on load in one line naming the trial and the field
(exit 2), through show, report, plot, compare and export in every format; a value at the edge of
its unit's physical range still works everywhere. JSON has no NaN or Infinity literals (the store
refuses them), so an infinity arrives as 1e309, which Python reads as inf: both are covered."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunDirError, SchemaError
from harness.rundir import schema, store
from tests.fuzz.in_process import Runner, verdict_of
from tests.helpers import ROOT, as_run

GOLDEN = ROOT / "tests" / "data" / "golden" / "runs" / "plain"
DOC: dict[str, Any] = json.loads((GOLDEN / "run.json").read_text())
FIRST = DOC["trials"][0]["id"]
KEYS = [k for k in DOC["trials"][0]["metrics"] if k != "exactly_once"]
#: As JSON text: huge, overflowing to +-inf (1e309), and the literals JSON does not have.
EXTREME = ["1e308", "-1e308", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e30", str(10**30)]
FORMATS = ["pytest-benchmark", "bencher", "github-action-benchmark-bigger", "github-action-benchmark-smaller"]


def _run_with(path: Path, key: str, text: str, trials: str = "all") -> Path:
    """A copy of the golden run with ``key`` set to the JSON text ``text`` in every trial with
    metrics (``trials="first"``: the first only)."""
    shutil.copytree(GOLDEN, path)
    doc = json.loads(json.dumps(DOC))
    for i, t in enumerate(doc["trials"]):
        if t.get("metrics") is not None and (trials == "all" or i == 0):
            t["metrics"][key] = "\x00V\x00"
    (path / "run.json").write_text(json.dumps(doc).replace('"\\u0000V\\u0000"', text))
    return path


def _commands(run: Path, out: Path, key: str) -> list[list[str]]:
    return [
        ["show", str(run)],
        ["show", str(run), "--rank-by", "makespan"],
        ["report", str(run), "-o", str(out / "report")],
        ["plot", str(run), "-o", str(out / "plot.png"), "--metric", key],
        ["compare", str(GOLDEN), str(run), "--markdown", str(out / "cmp.md")],
        ["compare", str(run), str(GOLDEN), "-m", "makespan"],
        *[["export", str(run), "-f", f, "-o", str(out / "export.json")] for f in FORMATS],
    ]


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner()


@pytest.mark.parametrize("text", EXTREME)
def test_every_metric_field_is_refused_on_load_naming_the_trial_and_the_field(tmp_path: Path, text: str) -> None:
    for key in KEYS:
        run = _run_with(tmp_path / key, key, text)
        with pytest.raises(RunDirError) as info:
            store.load_run(run)
        line = str(info.value)
        assert "\n" not in line and len(line) < 400
        if text in ("NaN", "Infinity", "-Infinity"):
            assert f"{text} is not a number JSON allows" in line  # the store's json refuses the literal
        else:
            assert f"trial {FIRST}: metrics.{key} " in line, line


def test_the_refusal_says_what_bound_was_passed(tmp_path: Path) -> None:
    def why(key: str, text: str) -> str:
        with pytest.raises(RunDirError) as info:
            store.load_run(_run_with(tmp_path / f"{key}{len(list(tmp_path.iterdir()))}", key, text))
        return str(info.value).split("damaged: ", 1)[1]

    assert why("makespan_s", "1e308") == (f"trial {FIRST}: metrics.makespan_s is 1e+308, beyond a year (31,536,000 s)")
    assert why("makespan_s", "1e309") == f"trial {FIRST}: metrics.makespan_s must be finite"
    assert why("e2e_p99_ms", "4e10") == f"trial {FIRST}: metrics.e2e_p99_ms is 4e+10, beyond a year (31,536,000,000 ms)"
    assert why("tree_peak_mb", "2e9") == f"trial {FIRST}: metrics.tree_peak_mb is 2e+09, beyond a petabyte (1e9 MB)"
    assert why("throughput", "1e13") == f"trial {FIRST}: metrics.throughput is 1e+13, beyond 1e12 items/s"
    assert why("consumed", str(10**16)) == (
        f"trial {FIRST}: metrics.consumed must be a whole number from 0 to 1,000,000,000,000,000"
    )
    assert why("efficiency", "-1e309") == f"trial {FIRST}: metrics.efficiency must be a number >= -1e+06"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, 1e16])
def test_a_document_built_in_memory_is_checked_alike(value: float) -> None:
    """The API's path (schema.parse on a dict, no JSON text): Python floats NaN and inf too."""
    for key in ("makespan_s", "wait_p50_ms", "cpu_parallelism", "some_tools_own_metric"):
        doc = json.loads(json.dumps(DOC))
        doc["trials"][0]["metrics"][key] = value
        with pytest.raises(SchemaError, match=f"trial {FIRST}: metrics.{key} "):
            as_run(doc)


@pytest.mark.slow
def test_every_command_refuses_every_field_in_one_line(tmp_path: Path, runner: Runner) -> None:
    """Every metric field through every command (the extreme value rotating with the field)."""
    failures = []
    for i, key in enumerate(KEYS):
        text = EXTREME[i % len(EXTREME)]
        run, out = _run_with(tmp_path / key / "run", key, text), tmp_path / key / "out"
        out.mkdir()
        for args in _commands(run, out, key):
            result = runner.invoke(args)
            verdict = verdict_of(result)
            if result.exit_code != 2 or verdict != "ok" or "damaged" not in result.output:
                failures.append(f"{key}={text} {args[0]}: exit {result.exit_code}, {verdict}, {result.output[-200:]!r}")
        assert not list(out.iterdir()), f"{key}: a refused command wrote {list(out.iterdir())}"
    assert failures == []


@pytest.mark.parametrize("text", ["1e308", "1e309", "-1e309", "NaN"])
def test_the_reported_crash_is_one_line_in_every_command(tmp_path: Path, runner: Runner, text: str) -> None:
    """Issue #28's case: every trial's makespan_s huge (report drew it: OverflowError)."""
    run, out = _run_with(tmp_path / "run", "makespan_s", text), tmp_path / "out"
    out.mkdir()
    for args in _commands(run, out, "makespan_s"):
        result = runner.invoke(args)
        assert result.exit_code == 2 and verdict_of(result) == "ok", (args, result.output)
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"error: {run / 'run.json'}: damaged")


def _at_edge(key: str) -> str:
    _lo, hi, _ = schema.metric_bounds(key)
    return str(schema.MAX_COUNT) if key in (*schema.COUNTS, "pool_size") else repr(float(hi))


@pytest.mark.slow
def test_a_value_at_the_edge_of_its_range_works_in_every_command(tmp_path: Path, runner: Runner) -> None:
    """In range is not damage: the largest value each field may hold reads, shows, compares and
    exports (one trial of the run: medians, ratios and spreads meet it beside ordinary values)."""
    failures = []
    for key in KEYS:
        run, out = _run_with(tmp_path / key / "run", key, _at_edge(key), trials="first"), tmp_path / key / "out"
        out.mkdir()
        drawn = key in ("makespan_s", "throughput", "e2e_max_ms", "tree_peak_mb", "efficiency", "produced_before_start")
        for args in _commands(run, out, key):
            if args[0] in ("report", "plot") and not drawn:  # figures are slow: a few fields draw
                continue
            result = runner.invoke(args)
            if result.exit_code not in (0, 1, 3) or verdict_of(result) != "ok":
                failures.append(f"{key} {args[:2]}: exit {result.exit_code}, {result.output[-300:]!r}")
    assert failures == []


def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    """The issue's reproduction as a real process: report on a run whose makespans are 1e308."""
    run = _run_with(tmp_path / "huge", "makespan_s", "1e308")
    done = subprocess.run(
        [sys.executable, "-m", "queuebench", "report", str(run), "-o", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {run / 'run.json'}: damaged: trial {FIRST}: metrics.makespan_s is 1e+308, beyond a year (31,536,000 s)"
    ]
    assert not (tmp_path / "report").exists()
