"""The outside memory check's own readers (benchmarks/bench_memory.py): the split of a cgroup's
charge, the trial worker found in a cgroup, a process's VmHWM. No trial runs here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bench_memory as bm

MB = 1 << 20


def _cgroup(tmp_path: Path, stat: dict[str, int]) -> Path:
    tmp_path.joinpath("memory.stat").write_text("".join(f"{k} {v}\n" for k, v in stat.items()))
    return tmp_path


def test_the_split_of_a_v1_charge_reads_the_hierarchy_totals_and_kernel_memory(tmp_path: Path) -> None:
    stat = {"rss": 1, "cache": 2, "total_rss": 300 * MB, "total_cache": 5 * MB, "total_shmem": 1 * MB}
    group = _cgroup(tmp_path, stat)
    group.joinpath("memory.kmem.usage_in_bytes").write_text(f"{3 * MB}\n")
    assert bm._split(group, 1) == [300 * MB, 5 * MB, 1 * MB, 3 * MB]


def test_the_split_of_a_v2_charge_reads_its_own_fields(tmp_path: Path) -> None:
    group = _cgroup(tmp_path, {"anon": 7 * MB, "file": 2 * MB, "shmem": MB, "kernel": 4 * MB, "sock": 9})
    assert bm._split(group, 2) == [7 * MB, 2 * MB, MB, 4 * MB]


def test_a_cgroup_gone_mid_read_splits_to_zeros(tmp_path: Path) -> None:
    assert bm._split(tmp_path / "gone", 1) == [0.0, 0.0, 0.0, 0.0]


def test_the_worker_is_the_session_leader_among_the_cgroups_processes(tmp_path: Path) -> None:
    sleep = [sys.executable, "-c", "import time; time.sleep(30)"]
    member = subprocess.Popen(sleep)  # in this test's session, whoever leads it
    leader = subprocess.Popen(sleep, start_new_session=True)
    try:
        tmp_path.joinpath("cgroup.procs").write_text(f"{member.pid}\n{leader.pid}\n")
        assert bm._leader(tmp_path) == leader.pid
        tmp_path.joinpath("cgroup.procs").write_text(f"{member.pid}\n")
        assert bm._leader(tmp_path) is None
    finally:
        for proc in (member, leader):
            proc.kill()
            proc.wait()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_process_vmhwm_is_read_and_a_gone_one_is_zero() -> None:
    mine = bm._hwm(str(os.getpid()))
    assert mine > 10 * MB  # this interpreter with pytest loaded
    assert bm._hwm("999999999") == 0
