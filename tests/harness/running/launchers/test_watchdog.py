"""The runner under misbehaving strategies: hangs, crashes, lost items, broken limits, orphans."""

from __future__ import annotations

import math
import os
import platform
import time

import psutil

from harness.analysis import metrics
from harness.running import launchers, suite
from harness.running.launchers.proctree import alive_in_group
from strategies import base
from tests.helpers import run, small_workload


def test_hang_is_killed_at_timeout_with_its_tree() -> None:
    out = run("test-hang", small_workload(), timeout=1.0)
    assert out.status == "timeout"
    assert "timed out after 1 s from the trial's start" in out.errors[0]
    assert out.meta == {}
    assert alive_in_group(out.pid) == []
    wl = small_workload()
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, out.writes, out.memory)
    assert math.isnan(m["trial_wall_s"]) and math.isnan(m["cpu_parallelism"])  # never reported: unknown, not 0


def test_crash_is_an_error_not_a_harness_failure() -> None:
    out = run("test-crash", small_workload())
    assert out.status == "error"
    assert any("deliberate failure" in e for e in out.errors)


def test_lost_item_fails_the_trial() -> None:
    wl = small_workload()
    out = run("test-lose", wl)
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, writes=out.writes, memory=out.memory)
    status, errors = suite.classify(out, m)
    assert (m["lost"], status) == (1, "failed")
    assert "lost 1" in errors[0]


def test_overlimit_fails_the_trial() -> None:
    wl = small_workload(readers=1, reader_work=base.WorkSpec("io", 5.0))
    out = run("test-overlimit", wl)
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, writes=out.writes, memory=out.memory)
    status, errors = suite.classify(out, m)
    assert m["max_concurrency"] == 2
    assert status == "failed"
    assert "exceeded the pool size 1" in errors[0]


def test_orphan_is_found_reported_and_killed() -> None:
    out = run("test-orphan", small_workload())
    assert len(out.leftovers) == 1
    assert "time.sleep(120)" in out.leftovers[0]
    pid = int(out.leftovers[0].split(":")[0].removeprefix("pid "))
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "orphan still alive"
        time.sleep(0.05)


def test_probe_reports_interpreter_and_calibration() -> None:
    probe = launchers.make("local").probe()
    assert probe.implementation == platform.python_implementation() and probe.calibration.hold_per_ms > 0
    assert 0 < probe.effective_parallelism <= (os.cpu_count() or 1)
    assert probe.default_start_method in probe.start_methods
    assert probe.strategies["threads"] == (True, "") and probe.kinds["io"] == (True, "")
    assert probe.python_facts()["version"] == platform.python_version()
