"""The typed run (harness.rundir.model): a real run.json parsed once into Run and Trial objects,
warmups kept apart, metrics read-only, and a malformed document still refused in one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import RunDirError, SchemaError
from harness.rundir import schema, store
from harness.rundir.model import Fingerprint, Run, Trial
from tests.helpers import ROOT, make_doc

cli = CliRunner()


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run: 2 strategies x 2 repeats of smoke, after one warmup each."""
    out = tmp_path_factory.mktemp("real")
    args = ["run", str(ROOT / "scenarios" / "smoke.toml"), "-s", "threads", "-s", "sequential", "-r", "2"]
    result = cli.invoke(app, [*args, "--warmup", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    return run_dir


def test_a_real_run_reads_as_typed_values(real_run: Path) -> None:
    doc = json.loads((real_run / "run.json").read_text())
    run = store.read_run(real_run)
    assert isinstance(run, Run) and run.status == "complete" and run.schema_version == 1
    assert run.started_at == doc["started_at"] and run.finished_at == doc["finished_at"]
    assert [t.id for t in run.trials] == [t["id"] for t in doc["trials"]]
    assert list(run.scenarios) == ["smoke"] and run.definition("smoke")["name"] == "smoke"
    assert run.scenario_names() == ["smoke"]
    fp = run.fingerprint
    assert isinstance(fp, Fingerprint)
    assert fp.python_version == doc["fingerprint"]["python"]["version"]
    assert fp.logical_cores == doc["fingerprint"]["logical_cores"]
    assert fp.start_method == doc["fingerprint"]["start_method"]
    first = run.trials[0]
    stored = doc["trials"][0]
    assert (first.scenario, first.strategy, first.status) == (stored["scenario"], stored["strategy"], stored["status"])
    assert first.metric("consumed") == stored["metrics"]["consumed"]
    assert first.metric("no such metric") is None
    # The same run, read by path to run.json and parsed from the document: equal values.
    assert store.read_run(real_run / "run.json") == run == schema.parse(doc)


def test_measured_leaves_out_warmups(real_run: Path) -> None:
    run = store.read_run(real_run)
    warmups = [t for t in run.trials if t.warmup]
    assert len(warmups) == 2 and len(run.trials) == 6
    assert run.measured == tuple(t for t in run.trials if not t.warmup)
    assert all(not t.warmup for t in run.measured) and len(run.measured) == 4
    assert run.passing == tuple(t for t in run.measured if t.ok)


def test_passing_and_labels_from_a_synthetic_run() -> None:
    doc = make_doc({("io", "threads"): [10.0, 11.0, 12.0]}, statuses={"threads-1": "failed"})
    run = schema.parse(doc)
    assert [t.repeat for t in run.measured] == [0, 1, 2]
    assert [t.repeat for t in run.passing] == [0, 2]
    assert [t.metric("throughput") for t in run.passing] == [10.0, 12.0]
    assert run.measured[1].errors == ("exactly-once broken: lost 1",) and not run.measured[1].ok
    side = Trial.from_dict({**doc["trials"][1], "side": "A"})
    assert side.label == "threads@A" and side.without_side().label == "threads"
    assert "side" not in side.without_side().raw and side.without_side().raw["id"] == side.id


def test_metrics_are_read_only() -> None:
    run = schema.parse(make_doc({("io", "threads"): [10.0]}))
    trial = run.measured[0]
    with pytest.raises(TypeError):
        trial.metrics["throughput"] = 0.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        trial.status = "failed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.scenarios["io"] = run.scenarios["io"]  # type: ignore[index]


def test_the_model_does_not_share_the_documents_tables() -> None:
    doc = make_doc({("io", "threads"): [10.0]})
    run = schema.parse(doc)
    doc["trials"][1]["metrics"]["throughput"] = 99.0
    assert run.measured[0].metric("throughput") == 10.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["trials"][1].update(status="fine"), "trial io-threads-r0: status must be one of"),
        (lambda d: d["trials"][1].update(metrics={"throughput": "fast"}), "metrics must be a table of numbers"),
        (lambda d: d.pop("trials"), "missing 'trials'"),
        (lambda d: d["trials"][0].update(warmup="yes"), "trial w: warmup must be true or false"),
        (lambda d: d["fingerprint"].pop("os"), "fingerprint lacks os"),
    ],
)
def test_a_malformed_document_is_refused_in_one_line(change: Any, expected: str) -> None:
    doc = copy.deepcopy(make_doc({("io", "threads"): [10.0]}))
    change(doc)
    with pytest.raises(SchemaError) as caught:
        schema.parse(doc)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_damaged_run_directory_is_refused_by_the_typed_load(real_run: Path, tmp_path: Path) -> None:
    doc = json.loads((real_run / "run.json").read_text())
    doc["trials"][0]["warmup"] = "yes"
    (tmp_path / "run.json").write_text(json.dumps(doc))
    with pytest.raises(RunDirError, match=r"damaged: trial .*: warmup must be true or false$"):
        store.read_run(tmp_path)
