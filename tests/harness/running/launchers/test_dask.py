"""Dask: a real LocalCluster (loopback only) as a launcher, and Dask as a strategy."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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

    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(app, ["run", "scenarios/smoke.toml", "-s", "threads", *args, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert line in result.output and result.output.strip().count("\n") == 0
    # refused before any trial: the caller's SIGTERM handler is untouched (run's own was left
    # installed here, and a pool this process forked later hung on terminate())
    assert signal.getsignal(signal.SIGTERM) is before


# -- every wait on the cluster has a deadline: one line on stderr, exit 2, never a hang ----------

ROOT = Path(__file__).resolve().parents[4]
#: The outer bound of each command below: a regression fails here instead of hanging the suite.
OUTER_S = 240


def _run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``queuebench run`` of the smoke scenario as a real process (real stderr, real exit code)."""
    cmd = [sys.executable, "-m", "queuebench", "run", "scenarios/smoke.toml", "-s", "threads", "-r", "1"]
    cmd += ["--warmup", "0", "-o", str(tmp_path / "out"), *args]
    environ = {k: v for k, v in os.environ.items() if k != "QUEUEBENCH_DASK_TIMEOUT"} | (env or {})
    return subprocess.run(cmd, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=OUTER_S)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A TCP port on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def test_a_silent_scheduler_is_one_line_not_a_hang(silent_listener: str, tmp_path: Path) -> None:
    line = _one_error_line(_run_cli(tmp_path, "--dask", silent_listener, "--dask-timeout", "2"))
    assert line == (
        f"error: the Dask scheduler at {silent_listener} did not answer within 2 s "
        "(the connection was accepted but nothing came back: is it a Dask scheduler?)"
    )


def test_a_refused_scheduler_is_one_line(tmp_path: Path) -> None:
    line = _one_error_line(_run_cli(tmp_path, "--dask", "tcp://127.0.0.1:9", "--dask-timeout", "2"))
    said = "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: "
    # Refused at once; on a loaded machine distributed's last attempt may time out instead (it retries).
    assert line in (said + "Connection refused", said + "Timed out trying to connect to tcp://127.0.0.1:9 after 1.6 s")


def test_the_deadline_comes_from_the_environment_too(silent_listener: str, tmp_path: Path) -> None:
    line = _one_error_line(_run_cli(tmp_path, "--dask", silent_listener, env={"QUEUEBENCH_DASK_TIMEOUT": "1.5"}))
    assert "did not answer within 1.5 s" in line


@pytest.fixture(params=[0, 1], ids=["no-worker", "a-worker-without-trial"])
def scheduler_without_trial_worker(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A real scheduler on 127.0.0.1 with no worker, or one worker that lacks the ``trial`` resource."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=request.param,
        processes=False,
        threads_per_worker=1,
        protocol="tcp://",  # without processes, Dask would pick the in-process transport
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    ) as cluster:
        yield cluster.scheduler_address, request.param


def test_a_scheduler_without_a_trial_worker_is_one_line(
    scheduler_without_trial_worker: tuple[str, int], tmp_path: Path
) -> None:
    address, n_workers = scheduler_without_trial_worker
    line = _one_error_line(_run_cli(tmp_path, "--dask", address, "--dask-timeout", "2"))
    has = "1 worker(s) without it" if n_workers else "no worker at all"
    assert line == (
        f"error: the Dask scheduler at {address} has no worker with the resource trial=1 after 2 s; it has {has}; "
        f"start workers with: dask worker {address} --nthreads 1 --resources trial=1"
    )


def _preload(tmp_path: Path, body: str) -> dict[str, str]:
    """A Dask worker preload (real Dask configuration, in the environment) that breaks the worker's start."""
    script = tmp_path / "worker_preload.py"
    script.write_text(body)
    return {"DASK_DISTRIBUTED__WORKER__PRELOAD": json.dumps([str(script)])}


def test_a_local_worker_that_fails_to_start_is_one_line_with_its_reason(tmp_path: Path) -> None:
    env = _preload(tmp_path, "raise RuntimeError('no worker here')\n")
    line = _one_error_line(_run_cli(tmp_path, "--dask", "local", "--dask-timeout", "120", env=env))
    assert line == (
        "error: the local Dask cluster's worker could not start: Nanny failed to start. (RuntimeError: no worker here)"
    )


def test_a_local_worker_that_never_starts_is_given_up_on(tmp_path: Path) -> None:
    env = _preload(tmp_path, "import time\ntime.sleep(3600)\n")
    line = _one_error_line(_run_cli(tmp_path, "--dask", "local", "--dask-timeout", "2", env=env))
    assert line.startswith("error: the local Dask cluster's worker did not start within 2 s (--dask-timeout)")


def test_a_trial_no_worker_can_take_is_given_up_on() -> None:
    # The cluster starts with room to spare on a busy machine; only the missing worker's wait is 2 s.
    launcher = launchers.make("dask", address="local", timeout=120)
    try:
        assert launcher.available()["strategies"]
        gone = launcher.pinned("tcp://127.0.0.1:9")  # a worker that is not in the cluster
        gone.timeout = 2.0
        with pytest.raises(WorkerError, match=r"has had no worker tcp://127\.0\.0\.1:9 for 2 s") as info:
            gone.available()
        assert "\n" not in str(info.value)
        assert launcher.available()["strategies"]  # the cluster itself is still usable
    finally:
        launcher.close()


def test_the_dask_strategy_says_its_cluster_did_not_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _preload(tmp_path, "raise RuntimeError('no worker here')\n").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QUEUEBENCH_DASK_TIMEOUT", "120")
    out = run("dask", small_workload(readers=1), timeout=OUTER_S)
    assert out.status == "error"
    said = (
        "the dask strategy's cluster of 1 worker(s) could not start: "
        "Nanny failed to start. (RuntimeError: no worker here)"
    )
    assert any(said in e for e in out.errors), out.errors


def test_a_worker_address_is_not_taken_for_a_scheduler() -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        processes=False,
        threads_per_worker=1,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    ) as cluster:
        (worker,) = cluster.scheduler_info["workers"]
        launcher = launchers.make("dask", address=worker, timeout=30)
        with pytest.raises(WorkerError, match=rf"^{worker} is a Dask Worker, not a scheduler"):
            launcher.probe()


def test_the_fuzz_family_of_dask_addresses() -> None:
    """``make fuzz``'s Dask family (tests/fuzz/dask_addresses.py), each family twice: all exit 2 in one line."""
    from tests.fuzz.dask_addresses import dask_cases, families

    n = 2 * len(families())
    counts, problems = dask_cases(n, seed=1717)
    assert problems == []
    assert counts["dask_cases"] == counts["dask exit 2"] == n


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="stops the scheduler with SIGSTOP")
def test_a_scheduler_gone_silent_while_a_trial_waits_is_one_line(tmp_path: Path) -> None:
    """A real scheduler and worker (processes on 127.0.0.1); the scheduler is stopped while a trial
    waits (pinned to a worker not in the cluster, so it waits for sure): one line, no hang."""
    scheduler_file = tmp_path / "scheduler.json"
    start = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
    scheduler = subprocess.Popen(
        [*start, "--no-dashboard", "--scheduler-file", str(scheduler_file)], stderr=subprocess.DEVNULL
    )
    worker = None
    try:
        for _ in range(600):  # its start, bounded by the count (and the outer pytest run)
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            assert scheduler.poll() is None
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        start = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1"]
        worker = subprocess.Popen(
            [*start, "--nthreads", "1", "--resources", "trial=1", "--no-dashboard"], stderr=subprocess.DEVNULL
        )
        launcher = launchers.make("dask", address=address, timeout=30)  # the worker's start, on a busy machine
        try:
            launcher.client()
            launcher.timeout = 2
            waiting = launcher.pinned("tcp://127.0.0.1:9")
            scheduler.send_signal(signal.SIGSTOP)
            with pytest.raises(WorkerError, match=r"^lost the Dask scheduler while a trial was pending") as info:
                waiting.available()
            assert f"the Dask scheduler at {address} did not answer within 2 s" in str(info.value)
            assert "\n" not in str(info.value)
        finally:
            scheduler.send_signal(signal.SIGCONT)
            launcher.close()
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.kill()
                proc.wait(OUTER_S)
