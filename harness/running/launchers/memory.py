"""The memory a trial's process tree really uses, measured from outside.

A process's own ``ru_maxrss`` is no use here: Linux carries the high-water mark across
fork and exec, so a worker started by a 300 MB harness reports 300 MB whatever it does.

Three figures, and the method that measured them (``method``, recorded with each trial):

* the **tree's peak**: where the launcher can make a memory cgroup for the trial
  (:mod:`.cgroup`; Linux, as root or in a delegated subtree) it is the kernel's own
  high-water mark of the whole tree (``cgroup v2`` / ``cgroup v1``): no peak is missed. Elsewhere
  (``sampled``) it is the largest sum of PSS over the tree's processes (proportional set size:
  a page shared by k processes counts 1/k in each, so the sum is the tree's real footprint;
  USS, then RSS, where the OS has no PSS). RSS is read from ``/proc/PID/statm`` every
  :data:`TICK_S` (about 10 µs a process), PSS (``smaps_rollup``, up to milliseconds a large
  process) whenever the summed RSS reaches a new high by :data:`NEW_HIGH`, so PSS is
  taken at the moments the tree was largest;
* the **largest process's** peak: the most any one process held, from each process's own
  ``VmHWM`` (the kernel's high-water mark of its RSS, read while it lives) and the RSS
  ticks, so never below the worker's own ``VmHWM``;
* the **roles'** share of the tree at its sampled PSS peak: the worker (the strategy's main
  process), writer and reader processes (they name themselves, :func:`strategies.instrument.mark_role`),
  the Manager's server process, and others (start helpers, pool workers that took no item).

The old sampler waited 20× its last sample between samples and took 1 to 7 samples a trial;
an outside 10 ms poller saw up to 3× more memory (docs/measurements.md#memory).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from harness.running.launchers import cgroup
from harness.running.launchers.proctree import tree_of

#: Seconds between RSS ticks.
TICK_S = 0.01
#: A summed RSS this much above the last high is weighed again in PSS.
NEW_HIGH = 1.02
#: Every this many ticks, the tree's processes are found afresh and their VmHWM read.
REFRESH_TICKS = 5
#: The sampler thread's nice value where it may take one (root on Linux).
SAMPLER_NICE = -5
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
ROLES = ("worker", "writer", "reader", "manager", "other")


def _rss(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return float(fh.read().split()[1]) * PAGE
    except FileNotFoundError:
        return None
    except OSError:
        pass
    with contextlib.suppress(psutil.Error):
        return float(psutil.Process(pid).memory_info().rss)
    return None


def _status_hwm(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _proportional(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return float(line.split()[1]) * 1024
    except FileNotFoundError:
        return None
    except OSError:
        pass
    try:
        full = psutil.Process(pid).memory_full_info()
    except psutil.Error:
        return None
    return float(getattr(full, "pss", None) or getattr(full, "uss", None) or full.rss)


def read_roles(folder: Path | None) -> dict[int, str]:
    """pid -> role from the files ``<pid>.<role>`` the trial's processes made in ``folder``."""
    out: dict[int, str] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir(folder) if folder is not None else ():
            pid, _, role = name.partition(".")
            if pid.isdigit() and role in ROLES:
                out[int(pid)] = role
    return out


class TreeSampler:
    """Samples the memory of ``pid``'s tree on a thread until :meth:`stop`.

    ``group``: the trial's cgroup, which lists the tree's processes cheaply; ``roles``: the
    folder where its processes name their roles."""

    def __init__(self, pid: int, group: cgroup.Cgroup | None = None, roles: Path | None = None) -> None:
        self.pid = pid
        self.group = group
        self.roles_dir = roles
        self.tree_peak = 0.0  # PSS summed, at the sampled highs
        self.largest_peak = 0.0
        self.role_peak: dict[str, float] = {}
        self.samples = 0
        self.pss_samples = 0
        self._rss_high = 0.0
        self._pids: list[int] = [pid]
        self._roles: dict[int, str] = {pid: "worker"}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="queuebench-memory", daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        pids = self.group.pids() if self.group is not None else [p.pid for p in tree_of(self.pid)]
        self._pids = pids or self._pids
        self._roles = {**read_roles(self.roles_dir), self.pid: "worker"}
        for pid in self._pids:
            hwm = _status_hwm(pid)
            if hwm is not None:
                self.largest_peak = max(self.largest_peak, hwm)

    def _sample(self) -> None:
        if self.samples % REFRESH_TICKS == 0:
            self._refresh()
        elif self.group is not None:  # the cgroup lists the tree cheaply: every tick
            self._pids = self.group.pids() or self._pids
        rss = {pid: r for pid in self._pids if (r := _rss(pid))}  # a zombie's statm reads 0: skip it
        if not rss:
            return
        self.samples += 1
        self.largest_peak = max(self.largest_peak, max(rss.values()))
        total = sum(rss.values())
        if total > self._rss_high * NEW_HIGH:  # the tree is at its largest so far: weigh it truly
            self._roles = {**read_roles(self.roles_dir), self.pid: "worker"}  # processes named since
            by_role: dict[str, float] = {}
            for pid in rss:
                pss = _proportional(pid)
                if pss:
                    role = self._roles.get(pid, "other")
                    by_role[role] = by_role.get(role, 0.0) + pss
            shared = sum(by_role.values())
            if shared:  # weighed (a process that exited meanwhile has no PSS): the next high is above it
                self._rss_high = total
                self.pss_samples += 1
            if shared > self.tree_peak:
                self.tree_peak, self.role_peak = shared, by_role

    def _loop(self) -> None:
        # Outrank the trial where allowed (Linux: a thread's own nice value; as root): on a busy
        # machine a sampler at the trial's priority got a tick every 100-500 ms, not every 10 ms.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SAMPLER_NICE)
        while not self._stop.is_set():
            t0 = time.perf_counter()
            self._sample()
            self._stop.wait(max(0.0, TICK_S - (time.perf_counter() - t0)))

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        out: dict[str, Any] = {
            "method": "sampled",
            "tree_peak_bytes": self.tree_peak,
            "sampled_tree_peak_bytes": self.tree_peak,
            "largest_process_peak_bytes": self.largest_peak,
            "samples": self.samples,
            "pss_samples": self.pss_samples,
        }
        out.update({f"{role}_bytes": self.role_peak.get(role, 0.0) for role in ROLES})
        return out


def tag(out: Any) -> dict[str, str]:
    """The trial's ``memory_method`` for run.json (cgroup v1, cgroup v2, sampled), where known."""
    method = getattr(out, "memory", {}).get("method")
    return {"memory_method": str(method)} if method else {}


class TrialMemory:
    """One trial's memory: its cgroup where one can be had, and the dense sampler always.

    Use: ``argv = m.wrap(argv)`` before starting the worker, ``m.start(pid)`` after,
    ``m.stop()`` when it ended (the figures), ``m.close()`` once its leftovers are gone."""

    def __init__(self, name: str, roles: Path | None = None) -> None:
        self.group = cgroup.create(name)
        self.roles = roles
        self._sampler: TreeSampler | None = None

    def wrap(self, argv: list[str]) -> list[str]:
        return self.group.wrap(argv) if self.group is not None else argv

    def start(self, pid: int) -> None:
        self._sampler = TreeSampler(pid, self.group, self.roles)

    def stop(self) -> dict[str, Any]:
        out: dict[str, Any] = self._sampler.stop() if self._sampler is not None else {"samples": 0}
        peak = self.group.peak() if self.group is not None else None
        if self.group is not None and peak:  # the kernel charged the tree: its peak is the figure
            out.update(method=self.group.method, tree_peak_bytes=peak)
        return out

    def close(self) -> None:
        if self.group is not None:
            self.group.remove()
