"""Property-based: malformed and extreme scenario files and results always give one clear error.

Thousands of generated files: each either validates, or fails with a single line that
names the file (exit code 2 from the CLI), never a traceback or an unbounded allocation.
"""

from __future__ import annotations

import json
import math
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from harness import errors, scenario
from harness.cli import app
from harness.rundir import store

FIELDS = [
    "name", "description", "writers", "readers", "items_per_writer", "payload_bytes", "queue_maxsize",
    "writer_work", "reader_work", "repeats", "warmup", "timeout", "seed", "strategies", "faults",
]  # fmt: skip
WORK_FIELDS = ["kind", "ms", "dist", "jitter", "gil", "colour"]

scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["io", "cpu", "none", "hold", "release", "exponential", "threads", "x"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(WORK_FIELDS), inner, max_size=4)
    ),
    max_leaves=4,
)
tables = st.dictionaries(st.sampled_from([*FIELDS, "unknown_key"]), values, max_size=6)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_file(defaults: dict[str, Any], scenarios: list[dict[str, Any]]) -> str:
    out = []
    if defaults:
        out.append("[defaults]")
        out += [f"{k} = {toml_value(v)}" for k, v in defaults.items()]
    for table in scenarios:
        out.append("[[scenario]]")
        out += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def check(text: str) -> None:
    try:
        loaded = scenario.parse(text, "fuzz.toml")
    except errors.ScenarioError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml: ") and "\n" not in message and len(message) < 2000
        return
    for sc in loaded:  # valid: then it is also within the limits that protect memory
        assert 1 <= sc.writers * sc.items_per_writer <= scenario.MAX_ITEMS


near_valid = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["a", "b-1", "", "bad name", "ok.2"]),
        "writers": st.one_of(st.integers(-3, 600), st.just("4")),
        "readers": st.integers(-1, 600),
        "items_per_writer": st.one_of(st.integers(-1, 10**9), st.floats()),
    },
    optional={
        "payload_bytes": st.integers(-1, 2**40),
        "queue_maxsize": st.integers(-5, 10),
        "reader_work": st.fixed_dictionaries(
            {"kind": st.sampled_from(["io", "cpu", "none", "gpu"]), "ms": st.floats(-1, 1e9)}
        ),
        "faults": st.fixed_dictionaries({"reader_die": st.lists(st.integers(-2, 2**40), max_size=3)}),
        "timeout": st.floats(allow_nan=True),
    },
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=3), st.lists(tables, max_size=2))
def test_generated_scenario_files(defaults: dict[str, Any], scenarios: list[dict[str, Any]]) -> None:
    check(toml_file(defaults, scenarios))


@settings(max_examples=1500, deadline=None)
@given(st.lists(near_valid, min_size=1, max_size=2))
def test_near_valid_scenarios_with_extreme_values(scenarios: list[dict[str, Any]]) -> None:
    check(toml_file({}, scenarios))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(tmp_path_factory: Any, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.toml"
    path.write_bytes(raw)
    try:
        scenario.load(path)
    except errors.ScenarioError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=string.printable, max_size=120))
def test_arbitrary_text(text: str) -> None:
    check(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(tables, min_size=1, max_size=2))
def test_cli_exit_code_2_never_a_traceback(tmp_path_factory: Any, scenarios: list[dict[str, Any]]) -> None:
    """Through the CLI: a bad file is exit 2 with one line; a valid one is never run here (unknown -s)."""
    path = tmp_path_factory.mktemp("cli") / "fuzz.toml"
    path.write_text(toml_file({}, scenarios))
    result = CliRunner().invoke(app, ["run", str(path), "-s", "no-such-strategy", "--out", str(path.parent)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: ")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), values.map(lambda v: json.dumps(v, default=str).encode())))
def test_corrupted_or_foreign_run_json(tmp_path_factory: Any, raw: bytes) -> None:
    run_dir = tmp_path_factory.mktemp("run")
    (run_dir / "run.json").write_bytes(raw)
    try:
        store.load_run(run_dir)
    except errors.RunDirError as exc:
        assert "\n" not in str(exc)


def test_hand_damaged_trials_are_refused_not_crashed_on(tmp_path: Path) -> None:
    """A readable run.json whose trials were edited into nonsense: one clear error for show."""
    good = {
        "tool": "queuebench", "schema_version": 1, "status": "complete", "started_at": "2026-01-01T00:00:00+00:00",
        "options": {},
        "scenarios": {"s": {"source": "s.toml", "definition": {"name": "s", "writers": 1, "readers": 1,
                                                               "items_per_writer": 1}}},
        "fingerprint": {"os": "Linux", "os_release": "6", "arch": "x86_64", "cpu_model": "cpu", "logical_cores": 2,
                        "effective_parallelism": 2.0, "start_method": "fork",
                        "python": {"implementation": "CPython", "version": "3.11.7"}},
        "trials": [{"id": "t1", "scenario": "s", "strategy": "threads", "status": "timeout", "errors": [],
                    "metrics": {"throughput": 1.0}}],
    }  # fmt: skip
    cases = [
        ({"metrics": {"throughput": "fast"}}, "metrics must be a table of numbers"),
        ({"status": None}, "has no text 'status'"),
        ({"errors": "boom"}, "errors must be a list"),
    ]
    for change, expected in cases:
        doc = json.loads(json.dumps(good))
        doc["trials"][0].update(change)
        (tmp_path / "run.json").write_text(json.dumps(doc))
        result = CliRunner().invoke(app, ["show", str(tmp_path / "run.json")])
        assert result.exit_code == 2 and expected in result.output, result.output


def test_damaged_run_files_are_named(tmp_path: Path) -> None:
    cases = {
        b'{"tool": "queuebench", "schema_version": 1, "trials": []': "damaged or not JSON",
        b'{"tool": "pytest-benchmark"}': "not a queuebench run file",
        b'{"tool": "queuebench", "schema_version": 99}': "schema_version 99",
        b'{"tool": "queuebench", "schema_version": 1, "trials": []}': "missing 'fingerprint'",
        b"[1, 2, 3]": "not a queuebench run file",
        b'{"tool": "queuebench", "schema_version": 1, "trials": [], "scenarios": {}, "status": "complete",'
        b' "fingerprint": {}}': "fingerprint (or its python part) is not a table",
    }
    for raw, expected in cases.items():
        (tmp_path / "run.json").write_bytes(raw)
        result = CliRunner().invoke(app, ["show", str(tmp_path)])
        assert result.exit_code == 2 and expected in result.output, (raw, result.output)
