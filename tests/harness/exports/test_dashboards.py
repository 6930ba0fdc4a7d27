"""Machine-readable verdicts (``compare --json``) and the dashboard exports, each checked
against its format's documented shape:

* Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format/): an
  object of Benchmarks (any non-empty name), each an object of Measures (any non-empty
  name), each an object with a required number ``value`` and optional numbers
  ``lower_value`` and ``upper_value`` (its JSON schema, https://bencher.dev/bmf.json);
* github-action-benchmark's custom tools (``customBiggerIsBetter``,
  ``customSmallerIsBetter``): a JSON array of objects with ``name`` (string), ``unit``
  (string) and ``value`` (number) required, ``range`` and ``extra`` (strings) optional.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import exports
from harness.cli import app
from tests.helpers import as_run, make_doc, spread, write_run

cli = CliRunner()


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _run_doc() -> dict[str, Any]:
    doc = make_doc({("io", "threads"): spread(100), ("io", "asyncio"): spread(200)})
    for t in doc["trials"]:
        t["metrics"]["e2e_p50_ms"] = 2.0
        t["metrics"]["e2e_p99_ms"] = 5.0
    doc["trials"][1]["status"] = "failed"  # a broken trial is not a measurement
    return doc


def assert_bmf(doc: Any) -> None:
    """The Bencher Metric Format JSON schema, asserted by hand."""
    assert isinstance(doc, dict) and doc
    for benchmark, measures in doc.items():
        assert isinstance(benchmark, str) and benchmark and isinstance(measures, dict) and measures
        for measure, metric in measures.items():
            assert isinstance(measure, str) and measure and isinstance(metric, dict)
            assert "value" in metric and set(metric) <= {"value", "lower_value", "upper_value"}
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in metric.values())


def assert_custom_benchmark(doc: Any) -> None:
    """github-action-benchmark's custom-tool input, asserted by hand."""
    assert isinstance(doc, list) and doc
    for entry in doc:
        assert isinstance(entry, dict) and {"name", "unit", "value"} <= set(entry)
        assert set(entry) <= {"name", "unit", "value", "range", "extra"}
        assert isinstance(entry["name"], str) and isinstance(entry["unit"], str)
        assert isinstance(entry["value"], int | float) and not isinstance(entry["value"], bool)
        assert all(isinstance(entry[k], str) for k in ("range", "extra") if k in entry)
    assert len({e["name"] for e in doc}) == len(doc)  # one series per name


def test_bencher_export_has_the_documented_shape() -> None:
    done = exports.export(as_run(_run_doc()), "bencher")
    doc = _strict_json(done.text)
    assert_bmf(doc)
    assert done.count == 2 and set(doc) == {"io/threads", "io/asyncio"}
    threads = doc["io/threads"]
    assert set(threads) == {"throughput", "latency"}  # Bencher's built-in measures
    assert threads["throughput"]["value"] == pytest.approx(100.0, rel=0.01)
    assert (
        threads["throughput"]["lower_value"] <= threads["throughput"]["value"] <= threads["throughput"]["upper_value"]
    )
    assert threads["latency"]["value"] == pytest.approx(2.0e6)  # the latency measure is in nanoseconds


@pytest.mark.parametrize(
    ("fmt", "names", "units"),
    [
        ("github-action-benchmark-bigger", {"io/threads throughput", "io/asyncio throughput"}, {"items/s"}),
        ("github-action-benchmark-smaller", {"io/threads e2e p50", "io/threads e2e p99"}, {"ms"}),
    ],
)
def test_github_action_benchmark_exports_have_the_documented_shape(fmt: str, names: set[str], units: set[str]) -> None:
    done = exports.export(as_run(_run_doc()), fmt)
    doc = _strict_json(done.text)
    assert_custom_benchmark(doc)
    assert names <= {e["name"] for e in doc} and {e["unit"] for e in doc} == units
    assert done.count == len(doc)


def test_export_cli_writes_the_dashboard_formats(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", _run_doc())
    for fmt, check in (("bencher", assert_bmf), ("github-action-benchmark-bigger", assert_custom_benchmark)):
        out = tmp_path / f"{fmt}.json"
        result = cli.invoke(app, ["export", str(run), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        check(_strict_json(out.read_text()))


def test_compare_json_has_every_pair(tmp_path: Path) -> None:
    pairs = {("io", "threads"): spread(100), ("io", "asyncio"): spread(200)}
    base = write_run(tmp_path / "base", make_doc(pairs))
    slow = write_run(tmp_path / "slow", make_doc({**pairs, ("io", "threads"): spread(100 / 1.2)}))
    out = tmp_path / "verdicts.json"
    result = cli.invoke(app, ["compare", str(base), str(slow), "--json", str(out)])
    assert result.exit_code == 1, result.output
    doc = _strict_json(out.read_text())
    assert doc["exit_code"] == 1 and doc["headline"].startswith("REGRESSION")
    assert doc["adjustment"] == {"method": "holm", "family": 2, "looks": 1}
    rows = {p["strategy"]: p for p in doc["pairs"]}
    assert set(rows) == {"threads", "asyncio"}
    slow_row = rows["threads"]
    assert slow_row["verdict"] == "slower" and slow_row["ratio"] == pytest.approx(1 / 1.2)
    lo, hi = slow_row["interval"]
    assert lo <= slow_row["ratio"] <= hi and slow_row["p"] <= slow_row["p_adjusted"] <= 0.01
    for key in ("n_baseline", "n_current", "baseline_median", "current_median", "reason"):
        assert key in slow_row


def test_compare_json_writes_null_not_nan_and_checks_its_path_first(tmp_path: Path) -> None:
    few = write_run(tmp_path / "few", make_doc({("io", "threads"): spread(100, 3)}))
    out = tmp_path / "few.json"
    result = cli.invoke(app, ["compare", str(few), str(few), "--json", str(out)])
    assert result.exit_code == 3, result.output
    (pair,) = _strict_json(out.read_text())["pairs"]
    assert pair["verdict"] == "too few repeats" and pair["interval"] is None and pair["p"] is None
    bad = cli.invoke(app, ["compare", str(few), str(few), "--json", "/nonexistent/dir/x.json"])
    assert bad.exit_code == 2 and "--json /nonexistent/dir/x.json" in bad.output


def test_an_ab_runs_sides_are_separate_series() -> None:
    doc = _run_doc()
    for i, t in enumerate(doc["trials"]):
        t["side"] = "AB"[i % 2]
    assert {"io/threads@A", "io/threads@B"} <= set(_strict_json(exports.export(as_run(doc), "bencher").text))
