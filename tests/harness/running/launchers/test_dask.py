"""Dask: a real LocalCluster (loopback only) as a launcher, and Dask as a strategy."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.analysis import metrics
from harness.errors import WorkerError
from harness.running import launchers, suite
from harness.scenario import LoadedScenario, Scenario
from strategies import registry
from tests.helpers import run, small_workload

pytestmark = pytest.mark.dask

if not os.environ.get("CI"):  # in CI the cluster tests must run, never skip
    pytest.importorskip("distributed", reason="pip install 'queuebench[dask]'")


def _scenario() -> LoadedScenario:
    sc = Scenario.model_validate(
        {
            "name": "small-io",
            "writers": 3,
            "readers": 2,
            "items_per_writer": 5,
            "reader_work": {"kind": "io", "ms": 2},
            "repeats": 1,
            "warmup": 0,
        }
    )
    return LoadedScenario(sc, "test")


def test_the_dask_launcher_runs_each_trial_on_a_cluster_worker(tmp_path: Path) -> None:
    launcher = launchers.make("dask", address="local")
    try:
        opts = suite.Options(strategies=["threads", "mp-queue"], out=tmp_path)
        _, doc = suite.prepare([_scenario()], opts, launcher).run()
    finally:
        launcher.close()
    assert [t["status"] for t in doc["trials"]] == ["ok", "ok"]
    assert all("dask worker tcp://127.0.0.1:" in t["where"] for t in doc["trials"])
    assert doc["options"]["launcher"] == "dask"
    assert doc["fingerprint"]["usable_cores"] >= 1  # the worker machine's own facts, from its probe


def test_an_unreachable_scheduler_is_one_line() -> None:
    launcher = launchers.make("dask", address="tcp://127.0.0.1:9")
    t0 = time.monotonic()
    with pytest.raises(WorkerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9") as info:
        launcher.probe()
    assert time.monotonic() - t0 < 60  # bounded by the connect timeout, never a hang
    assert "\n" not in str(info.value)


def test_the_dask_strategy_delivers_exactly_once_within_its_pool() -> None:
    wl = small_workload(readers=2)
    out = run("dask", wl, timeout=120)
    assert out.status == "ok", out.errors
    assert out.leftovers == []  # the cluster it started is gone after the trial
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, out.writes, out.memory)
    assert m["exactly_once"] and m["consumed"] == wl.total_items
    assert 1 <= m["max_concurrency"] <= wl.readers
    assert m["setup_s"] > 0  # starting the cluster is set-up, not makespan


def test_dask_is_opt_in_and_needs_distributed_in_the_worker() -> None:
    entry = registry.get("dask")
    assert "dask" not in registry.default_names() and "dask" in registry.names()
    assert entry.requires == ("distributed",) and entry.family is registry.Family.CLUSTER


def test_run_dask_local_from_the_cli_names_the_worker_of_each_trial(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from harness.cli import app

    args = ["run", "scenarios/smoke.toml", "-s", "threads", "-r", "1", "--warmup", "0", "--dask", "local"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (run_json,) = tmp_path.glob("*/run.json")
    doc = json.loads(run_json.read_text())
    assert doc["options"]["launcher"] == "dask"
    assert all("dask worker" in t["where"] for t in doc["trials"])


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--dask", "bogus"], "--dask 'bogus': give 'local' or a scheduler address"),
        (["--each-worker"], "--each-worker needs --dask"),
    ],
)
def test_bad_dask_options_are_one_line(args: list[str], line: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["run", "scenarios/smoke.toml", "-s", "threads", *args, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert line in result.output and result.output.strip().count("\n") == 0
