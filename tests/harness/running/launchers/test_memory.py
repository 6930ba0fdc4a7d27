"""A trial's memory: the kernel's peak of the whole tree where a cgroup can be had, dense
sampling elsewhere; the method named; the largest process never below the worker's VmHWM;
a breakdown by role."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.analysis import metrics
from harness.running.launchers import cgroup, memory
from harness.running.launchers.base import TrialSpec
from harness.running.launchers.local import LocalLauncher
from strategies import base

BURST = "import time; time.sleep(0.3); x = bytearray({mb} << 20); del x; time.sleep(0.3)"


def _cgroup_here() -> bool:
    group = cgroup.create(f"queuebench-{os.getpid()}-probe")
    if group is not None:
        group.remove()
    return group is not None


needs_cgroup = pytest.mark.skipif(not _cgroup_here(), reason="no memory cgroup here")


@needs_cgroup
def test_a_peak_between_two_samples_is_counted_where_a_cgroup_can_be_had() -> None:
    """A 200 MB buffer that lives for microseconds: the old sampler (20 ms ticks and longer)
    saw nothing of it; the kernel's high-water mark of the trial's cgroup does."""
    meter = memory.TrialMemory(f"queuebench-{os.getpid()}-burst")
    assert meter.group is not None
    proc = subprocess.Popen(meter.wrap([sys.executable, "-c", BURST.format(mb=200)]))
    meter.start(proc.pid)
    proc.wait()
    got = meter.stop()
    meter.close()
    assert got["method"] == f"cgroup v{meter.group.version}"
    assert got["tree_peak_bytes"] >= 200 * 2**20
    assert not meter.group.path.exists()


def test_without_a_cgroup_the_sampler_says_so_and_samples_densely(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cgroup.ENV, "sample")
    meter = memory.TrialMemory(f"queuebench-{os.getpid()}-sampled")
    assert meter.group is None
    proc = subprocess.Popen(meter.wrap([sys.executable, "-c", BURST.format(mb=1)]))
    meter.start(proc.pid)
    proc.wait()
    got = meter.stop()
    assert got["method"] == "sampled"
    assert got["samples"] >= 20  # 0.6 s at 10 ms ticks: dozens (the old sampler took 1 to 7)
    assert got["tree_peak_bytes"] > 0 and got["worker_bytes"] > 0


HOLD = (
    "import sys; x = bytearray({mb} << 20); x[::4096] = b'x' * len(x[::4096]); print(flush=True); "
    "sys.stdin.readline(); del x; print(flush=True); sys.stdin.readline()"
)


def _stalled_pss(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every PSS read waits until the returned event is set, as ``smaps_rollup`` waits on a
    process that is mapping or unmapping a large buffer."""
    release = threading.Event()
    real = memory._proportional

    def stalled(pid: int) -> float | None:
        release.wait()
        return real(pid)

    monkeypatch.setattr(memory, "_proportional", stalled)
    return release


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30  # a bound on a hang, not on speed
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_stalled_pss_read_delays_no_tick_and_the_ticks_still_see_a_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old sampler read PSS on its ticking thread: one PSS read that waited stopped every
    tick behind it, and a peak in that time was lost (bench_memory.py: 25-50 samples a trial,
    0.65 of an outside poller). Now the ticks go on, and a peak that came and went while PSS
    could not be read still counts once it can."""
    release = _stalled_pss(monkeypatch)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(mb=64)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    sampler: memory.TreeSampler | None = None
    got: dict[str, Any] = {}
    try:
        proc.stdout.readline()  # its 64 MB are touched
        sampler = memory.TreeSampler(proc.pid)
        _until(lambda: sampler.samples >= 10, "no tick while a PSS read waits")
        proc.stdin.write("free\n")
        proc.stdin.flush()
        proc.stdout.readline()  # ...and freed again
        seen = sampler.samples
        _until(lambda: sampler.samples >= seen + 5, "no tick after the peak")
        assert sampler.pss_samples == 0  # every PSS read is still waiting
        release.set()
        _until(lambda: sampler.pss_samples >= 1, "the PSS read never finished")
    finally:
        release.set()
        if sampler is not None:
            got = sampler.stop()
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert 64 * 2**20 <= got["tree_peak_bytes"] <= got["largest_process_peak_bytes"]


def _by_hand(
    monkeypatch: pytest.MonkeyPatch, roles: Path, counters: dict[int, tuple[float, float]], pss: dict[int, float]
) -> memory.TreeSampler:
    """A sampler of fake processes (pid -> (RSS, file-backed part), pid -> PSS) whose steps the
    test takes by hand: its threads are stopped before the counters are set."""
    live: dict[int, tuple[float, float]] = {}
    monkeypatch.setattr(memory, "_resident", lambda pid: live.get(pid))
    monkeypatch.setattr(memory, "_proportional", lambda pid: pss.get(pid) if pid in live else None)
    monkeypatch.setattr(memory, "_status_hwm", lambda pid: None)
    monkeypatch.setattr(memory, "tree_of", lambda pid: [])
    sampler = memory.TreeSampler(1, roles=roles)
    sampler.stop()
    live.update(counters)
    monkeypatch.setattr(memory, "_resident", lambda pid: counters.get(pid))
    sampler._pids = tuple(counters)
    return sampler


def test_between_pss_reads_a_process_counts_its_rss_less_what_its_last_read_found_shared(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The tick's estimate of a process's PSS: RSS less (RSS - PSS) at its last PSS read; a tick
    with a process never weighed counts once it is. Fake counters, no process."""
    (tmp_path / "2.reader").touch()
    counters = {1: (100.0, 30.0), 2: (50.0, 20.0)}
    sampler = _by_hand(monkeypatch, tmp_path, counters, {1: 80.0, 2: 40.0})
    sampler._tick()
    assert sampler.tree_peak == 0.0  # never weighed (a forked process shares much): held back
    assert sampler._weigh.is_set()  # weigh them
    sampler._weigh_now()
    assert sampler._shared == {1: 20.0, 2: 10.0} and sampler.pss_samples == 1
    assert sampler.tree_peak == 80 + 40  # the held tick, counted with what the weighing found
    counters[2] = (90.0, 20.0)  # the reader grew by 40 of private memory
    sampler._tick()
    assert sampler.tree_peak == 80 + (90 - 10)
    assert sampler.role_peak == {"worker": 80.0, "reader": 80.0}
    assert sampler.largest_peak == 100.0


def test_a_held_tick_whose_new_process_left_unweighed_is_dropped_not_overstated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A forked process that exits before its PSS is read: its share is unknown, and counting its
    RSS less its file-backed part (all its memory shared with its parent counted again)
    overstated a tree by 20%. The tick is dropped and counted as held back."""
    counters = {1: (100.0, 30.0)}
    sampler = _by_hand(monkeypatch, tmp_path, counters, {1: 80.0, 2: 10.0})
    sampler._tick()
    sampler._weigh_now()
    assert sampler.tree_peak == 80.0
    counters[2] = (60.0, 5.0)  # a fork appears: 55 of private-looking RSS, 10 of it its own
    sampler._pids = (1, 2)
    sampler._tick()
    assert sampler.tree_peak == 80.0 and sampler._pending is not None
    del counters[2]  # ...and exits before it is weighed
    sampler._pids = (1,)
    sampler._weigh_now()
    got = sampler.stop()
    assert (got["tree_peak_bytes"], got["held_back_samples"]) == (80.0, 1)


def test_a_process_that_changed_while_its_pss_was_read_keeps_its_last_steady_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RSS is read before and after the PSS read (which can take 100 ms): if they differ, RSS - PSS
    would mix two moments, and the read is not used."""
    reads = iter([(100.0, 30.0), (160.0, 30.0), (100.0, 30.0), (100.0, 30.0)])
    sampler = _by_hand(monkeypatch, tmp_path, {1: (100.0, 30.0)}, {1: 80.0})
    monkeypatch.setattr(memory, "_resident", lambda pid: next(reads))
    assert not sampler._weigh_one(1) and 1 not in sampler._shared
    assert sampler._weigh_one(1) and sampler._shared[1] == 20.0


def test_a_process_whose_pss_cannot_be_read_counts_its_private_part_and_is_not_retried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A process the harness may not read (another user's): counted as its RSS less its
    file-backed part from then on, rather than retried on every tick."""
    sampler = _by_hand(monkeypatch, tmp_path, {1: (100.0, 30.0)}, {})
    assert not sampler._weigh_one(1)
    assert sampler._shared == {1: 30.0}
    sampler._tick()
    assert sampler.tree_peak == 70.0 and sampler._pending is None


def test_without_proc_the_counters_come_from_psutil(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """macOS and Windows have no /proc: psutil reads RSS and PSS/USS there (a missing /proc
    used to read as a process gone, so the sampler took no sample at all)."""
    monkeypatch.setattr(memory, "PROC", tmp_path / "no-proc")
    resident = memory._resident(os.getpid())
    assert resident is not None and resident[0] > 0
    assert (memory._proportional(os.getpid()) or 0) > 0


def test_the_largest_process_is_never_below_the_workers_own_high_water_mark() -> None:
    mem = {"samples": 3, "tree_peak_bytes": 50 * 2**20, "largest_process_peak_bytes": 10 * 2**20}
    assert metrics.memory_metrics(mem, 30.0)["largest_process_peak_mb"] == 30.0
    assert math.isnan(metrics.memory_metrics({}, 30.0)["tree_peak_mb"])
    assert math.isnan(metrics.memory_metrics({"samples": 5, "tree_peak_bytes": 0.0}, 30.0)["tree_peak_mb"])


def test_a_zombie_is_not_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exited, unreaped worker reads 0 in statm: that is no measurement of the tree (a starved
    sampler that saw only the zombie reported a tree of 0 MB)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    sampler = memory.TreeSampler(proc.pid)
    time.sleep(0.1)
    got = sampler.stop()
    proc.wait()
    assert (got["samples"], got["tree_peak_bytes"], got["largest_process_peak_bytes"]) == (0, 0.0, 0.0)


def test_roles_are_read_from_the_files_the_processes_made(tmp_path: Path) -> None:
    for name in ("11.writer", "12.reader", "13.manager", "14.nonsense", "x.reader"):
        (tmp_path / name).touch()
    assert memory.read_roles(tmp_path) == {11: "writer", 12: "reader", 13: "manager"}
    assert memory.read_roles(tmp_path / "absent") == {}


def test_a_manager_pool_trial_names_its_method_and_breaks_its_memory_down_by_role() -> None:
    wl = base.Workload(
        writers=2,
        readers=2,
        items_per_writer=4,
        payload_bytes=1 << 20,
        writer_work=base.WorkSpec("io", 20),
        reader_work=base.WorkSpec("io", 20),
    )
    out = LocalLauncher().run(TrialSpec("manager-pool", wl, 60))
    assert out.status == "ok", out.errors
    assert out.memory["method"] in ("cgroup v1", "cgroup v2", "sampled")
    for role in ("worker", "writer", "reader", "manager"):
        assert out.memory[f"{role}_bytes"] > 0, (role, out.memory)
    m = metrics.memory_metrics(out.memory, out.meta["peak_rss_self"] / 2**20)
    assert m["largest_process_peak_mb"] >= out.meta["peak_rss_self"] / 2**20


def test_both_cgroup_versions_are_found_from_mountinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """v2 where the parent enables the memory controller for its children (never enabled by
    us), v1 where a hierarchy has the memory controller; v2 first."""
    v2, v1 = tmp_path / "unified", tmp_path / "memory"
    (v2 / "user").mkdir(parents=True)
    (v2 / "user" / "cgroup.subtree_control").write_text("cpu memory\n")
    (v1 / "box").mkdir(parents=True)
    (tmp_path / "mountinfo").write_text(
        f"30 25 0:26 / {v2} rw,relatime shared:4 - cgroup2 cgroup2 rw\n"
        f"31 25 0:27 / {v1} rw,relatime shared:5 - cgroup cgroup rw,memory\n"
        f"32 25 0:28 / {tmp_path / 'cpu'} rw,relatime shared:6 - cgroup cgroup rw,cpu\n"
    )
    (tmp_path / "self").write_text("4:memory:/box\n1:cpu:/\n0::/user\n")
    monkeypatch.setattr(cgroup, "MOUNTINFO", str(tmp_path / "mountinfo"))
    monkeypatch.setattr(cgroup, "SELF", str(tmp_path / "self"))
    assert cgroup._candidates() == [(v2 / "user", 2), (v1 / "box", 1)]
    (v2 / "user" / "cgroup.subtree_control").write_text("cpu\n")
    assert cgroup._candidates() == [(v1 / "box", 1)]
