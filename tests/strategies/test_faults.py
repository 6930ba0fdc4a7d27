"""Faults injected into real strategies: each keeps its natural behaviour, and the harness sees it."""

from __future__ import annotations

import random

import pytest

from harness.analysis import metrics
from harness.running import faults as stress
from harness.running.launchers import TrialOutput
from harness.running.launchers.proctree import alive_in_group
from strategies import base
from strategies.faults import FaultSpec
from tests.helpers import run, small_workload

TOTAL = 24  # small_workload: 3 writers x 8 items


def outcome(strategy: str, faults: FaultSpec, timeout: float = 30.0, **kw: object) -> tuple[TrialOutput, dict]:  # type: ignore[type-arg]
    wl = small_workload(None, faults=faults, **kw)
    out = run(strategy, wl, timeout=timeout)
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, writes=out.writes, memory=out.memory)
    return out, stress.outcome(out, m)


@pytest.mark.parametrize("strategy", ["threads", "asyncio", "mp-queue", "manager-pool"])
def test_reader_raise_loses_exactly_that_item(strategy: str) -> None:
    out, f = outcome(strategy, FaultSpec(reader_raise=(5,)))
    assert f["outcome"] == "recovered"
    assert (f["lost"], f["failed_with_error"], f["delivered"]) == (1, 1, TOTAL - 1)
    assert f["injected"] == ["reader_raise 0/5"]
    assert any("injected failure on item 0/5" in e or "exited with code 1" in e for e in out.errors)


def test_dead_reader_process_keeps_what_it_consumed() -> None:
    """mp-queue: the killed reader's earlier records survive (record files), only the item in hand is lost."""
    out, f = outcome("mp-queue", FaultSpec(reader_die=(12,)))
    assert f["outcome"] == "recovered"
    assert (f["lost"], f["delivered"]) == (1, TOTAL - 1)
    assert any("exited with code -9" in e for e in out.errors)


def test_seed_pool_hangs_when_a_reader_dies_and_the_watchdog_kills_it() -> None:
    """The long-open CPython bug: Pool never completes a task whose worker died."""
    out, f = outcome("seed-pool", FaultSpec(reader_die=(3,)), timeout=4.0)
    assert out.status == "timeout" and f["outcome"] == "hung"
    assert f["detection_s"] is not None and f["detection_s"] > 0
    assert alive_in_group(out.pid) == []


def test_process_pool_breaks_when_a_reader_dies() -> None:
    out, f = outcome("process-pool", FaultSpec(reader_die=(3,)))
    assert f["outcome"] == "recovered"
    assert f["lost"] >= 1
    assert any("BrokenProcessPool" in e for e in out.errors)


@pytest.mark.parametrize("strategy", ["threads", "asyncio", "manager-pool"])
def test_writer_death_loses_the_rest_of_its_items(strategy: str) -> None:
    _, f = outcome(strategy, FaultSpec(writer_die=((1, 3),)))
    assert f["outcome"] == "recovered"
    assert f["lost"] == 8 - 3
    assert f["injected"] == ["writer_die 1/3"]


def test_sequential_crashes_when_its_only_reader_dies() -> None:
    out, f = outcome("sequential", FaultSpec(reader_die=(0,)))
    assert out.status == "error" and f["outcome"] == "crashed"
    assert any("InjectedDeath" in e for e in out.errors)


def test_hung_reader_is_killed_and_partial_records_are_kept() -> None:
    out, f = outcome("threads", FaultSpec(reader_hang=(2,)), timeout=3.0)
    assert f["outcome"] == "hung"
    assert (f["lost"], f["delivered"]) == (1, TOTAL - 1)
    assert alive_in_group(out.pid) == []


def test_slow_spike_multiplies_one_items_work() -> None:
    spec = FaultSpec(slow_spike=(4,), spike_factor=20)
    out, f = outcome("sequential", spec, reader_work=base.WorkSpec("io", 2.0))
    assert f["outcome"] == "recovered" and f["lost"] == 0
    rec = metrics.join_records(out.reads, out.writes, 8)
    service = rec[:, metrics.DONE] - rec[:, metrics.DEQUEUED]
    spiked = service[(rec[:, metrics.W] == 0) & (rec[:, metrics.S] == 4)][0]
    assert spiked >= 20 * 2.0e6  # at least 20 x 2 ms
    assert spiked > 5 * sorted(service)[len(service) // 2]


def test_probability_faults_are_seeded() -> None:
    """Which items raise is drawn per item from the seed: one-task-per-item pools try every item."""
    spec = FaultSpec(reader_raise_probability=0.25, seed=3)
    chosen = {n for n in range(TOTAL) if random.Random(f"3/raise/{n}").random() < 0.25}
    expected = sorted(f"reader_raise {n // 8}/{n % 8}" for n in chosen)
    for strategy in ("seed-pool", "process-pool"):
        _, f = outcome(strategy, spec)
        assert sorted(f["injected"]) == expected
        assert f["failed_with_error"] == f["lost"] == len(chosen) > 0
