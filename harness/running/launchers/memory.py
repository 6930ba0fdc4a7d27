"""The memory a trial's process tree really uses, measured from outside.

A process's own ``ru_maxrss`` is no use here: Linux carries the high-water mark across
fork and exec, so a worker started by a 300 MB harness reports 300 MB whatever it does.

Three figures, and the method that measured them (``method``, recorded with each trial):

* the **tree's peak**: where the launcher can make a memory cgroup for the trial
  (:mod:`.cgroup`; Linux, as root or in a delegated subtree) it is the kernel's own
  high-water mark of the whole tree (``cgroup v2`` / ``cgroup v1``): no peak is missed. Elsewhere
  (``sampled``) it is the largest sum of PSS over the tree's processes (proportional set size:
  a page shared by k processes counts 1/k in each, so the sum is the tree's real footprint;
  USS, then RSS, where the OS has no PSS), estimated every :data:`TICK_S` from each process's
  RSS (``/proc/PID/statm``, about 10 µs a process) less what its last PSS read
  (``smaps_rollup``, milliseconds, and it waits on a process busy mapping memory) found
  shared; PSS is read on a thread of its own whenever the summed RSS reaches a new high by
  :data:`NEW_HIGH`, so a slow PSS read never delays a tick (:class:`TreeSampler`);
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from harness.running.launchers import cgroup
from harness.running.launchers.proctree import tree_of

#: Seconds between RSS ticks.
TICK_S = 0.01
#: A summed RSS this much above the last high is weighed again in PSS.
NEW_HIGH = 1.02
#: Seconds between finding the tree's processes afresh (and reading their VmHWM).
REFRESH_S = 0.05
#: The sampler thread's nice value where it may take one (root on Linux).
SAMPLER_NICE = -5
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
#: Where the per-process counters are read (Linux); elsewhere psutil reads them.
PROC = Path("/proc")
#: Two RSS reads around a PSS read further apart than this: the process changed meanwhile, so
#: the PSS read says nothing about its RSS at either moment (it is not used).
STEADY = 0.02
ROLES = ("worker", "writer", "reader", "manager", "other")


def _resident(pid: int) -> tuple[float, float] | None:
    """(RSS, the part of it that is file-backed or shared memory), bytes; None when gone.

    ``/proc/PID/statm`` reads the process's counters without walking its pages (no lock on its
    address space), so it never waits on the process; elsewhere psutil (shared: 0 where the
    OS does not say)."""
    if PROC.is_dir():
        try:
            with open(PROC / str(pid) / "statm", "rb") as fh:
                fields = fh.read().split()
            return float(fields[1]) * PAGE, float(fields[2]) * PAGE
        except FileNotFoundError:
            return None
        except (OSError, IndexError, ValueError):
            pass
    with contextlib.suppress(psutil.Error):
        info = psutil.Process(pid).memory_info()
        return float(info.rss), float(getattr(info, "shared", 0.0))
    return None


def _proc_kb(pid: int, name: str, field: bytes) -> float | None:
    """A ``field: N kB`` line of ``/proc/PID/<name>``, in bytes; None when there is none."""
    with contextlib.suppress(OSError, IndexError, ValueError), open(PROC / str(pid) / name, "rb") as fh:
        for line in fh:
            if line.startswith(field):
                return float(line.split()[1]) * 1024
    return None


def _status_hwm(pid: int) -> float | None:
    return _proc_kb(pid, "status", b"VmHWM:")


def _proportional(pid: int) -> float | None:
    if PROC.is_dir():
        if not (PROC / str(pid)).exists():
            return None  # gone
        pss = _proc_kb(pid, "smaps_rollup", b"Pss:")
        if pss is not None:
            return pss
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


@dataclass(frozen=True)
class _Snapshot:
    """One tick: each process's (RSS, file-backed part) and the roles known then."""

    resident: dict[int, tuple[float, float]]
    roles: dict[int, str]

    @property
    def rss(self) -> float:
        return sum(rss for rss, _ in self.resident.values())


class TreeSampler:
    """Samples the memory of ``pid``'s tree on three threads until :meth:`stop`.

    The ticking thread reads each process's RSS every :data:`TICK_S` and nothing slower, so a
    short peak between two PSS reads is still seen: each process counts as its RSS less the
    part its last PSS read found shared with others (``RSS - PSS`` then), so the sum stays a
    PSS sum between weighings; a tick with a process never weighed yet counts only once it is
    (a forked process shares much of its RSS with its parent). The weighing thread reads PSS
    (``smaps_rollup`` walks a process's page tables under its address-space lock, so it waits,
    up to 100 ms and more, while the process maps or unmaps a large buffer) whenever the summed
    RSS reaches a new high by :data:`NEW_HIGH` or a new process appears. The tree thread finds
    the tree's processes and reads their VmHWM every :data:`REFRESH_S`. ``group``: the trial's
    cgroup, which lists the tree's processes cheaply; ``roles``: the folder where its processes
    name their roles."""

    def __init__(self, pid: int, group: cgroup.Cgroup | None = None, roles: Path | None = None) -> None:
        self.pid = pid
        self.group = group
        self.roles_dir = roles
        self.tree_peak = 0.0  # the largest sum of the processes' PSS estimates over the ticks
        self.role_peak: dict[str, float] = {}
        self.samples = 0
        self.pss_samples = 0
        self.held_back = 0  # ticks never counted: a process in them exited before it was weighed
        self._largest_tick = 0.0  # the ticking thread's; the tree walk's VmHWM reads below
        self._largest_hwm = 0.0
        self._rss_high = 0.0
        self._pids: tuple[int, ...] = (pid,)
        self._roles: dict[int, str] = {pid: "worker"}
        self._seen: set[int] = {pid}  # processes whose role was looked for
        self._shared: dict[int, float] = {}  # pid -> RSS - PSS at its last PSS read
        self._pending: _Snapshot | None = None  # the largest tick with a process not yet weighed
        self._lock = threading.Lock()
        self._weigh = threading.Event()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(self._tick, TICK_S), name="queuebench-memory", daemon=True),
            threading.Thread(target=self._weigher, name="queuebench-memory-weigh", daemon=True),
            threading.Thread(target=self._loop, args=(self._refresh, REFRESH_S), name="queuebench-tree", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def largest_peak(self) -> float:
        return max(self._largest_tick, self._largest_hwm)

    def _refresh(self) -> None:
        """The tree's processes (a walk: milliseconds without a cgroup) and their VmHWM."""
        pids = self.group.pids() if self.group is not None else [p.pid for p in tree_of(self.pid)]
        self._pids = tuple(pids) or self._pids
        for pid in self._pids:
            hwm = _status_hwm(pid)
            if hwm is not None:
                self._largest_hwm = max(self._largest_hwm, hwm)

    def _tick(self) -> None:
        """One RSS sample of the tree: statm reads only (and the cgroup's list, or the roles
        folder when a process is new: one small read each)."""
        if self.group is not None:
            self._pids = tuple(self.group.pids()) or self._pids
        resident = {pid: r for pid in self._pids if (r := _resident(pid)) and r[0]}  # a zombie reads 0: skip
        if not resident:
            return
        self.samples += 1
        self._largest_tick = max(self._largest_tick, max(rss for rss, _ in resident.values()))
        if not self._seen.issuperset(resident):
            self._seen.update(resident)
            self._roles = {**read_roles(self.roles_dir), self.pid: "worker"}
        snapshot = _Snapshot(resident, dict(self._roles))
        if all(pid in self._shared for pid in resident):
            self._commit(snapshot)
        else:  # a process never weighed (a forked one shares much of its RSS): count it once it is
            with self._lock:
                if self._pending is None or snapshot.rss > self._pending.rss:
                    self._pending = snapshot
            self._weigh.set()
        if snapshot.rss > self._rss_high * NEW_HIGH:  # the tree is at its largest so far: weigh it truly
            self._rss_high = snapshot.rss
            self._weigh.set()

    def _commit(self, snapshot: _Snapshot) -> None:
        """The snapshot's PSS estimate, by role; the tree's peak if above it."""
        by_role: dict[str, float] = {}
        for pid, (rss, _) in snapshot.resident.items():
            role = snapshot.roles.get(pid, "other")
            by_role[role] = by_role.get(role, 0.0) + max(0.0, rss - self._shared[pid])
        estimate = sum(by_role.values())
        with self._lock:
            if estimate > self.tree_peak:
                self.tree_peak, self.role_peak = estimate, by_role

    def _weigh_one(self, pid: int) -> bool:
        """Read ``pid``'s PSS between two RSS reads; keep RSS - PSS where the RSS held still."""
        before = _resident(pid)
        pss = _proportional(pid) if before else None
        after = _resident(pid) if pss else None
        if before is None or after is None or not pss:
            if before is not None and pid not in self._shared:  # alive, PSS unreadable (not ours):
                self._shared[pid] = before[1]  # count its RSS less its file-backed part from now on
            return False
        if abs(after[0] - before[0]) > STEADY * before[0]:  # it changed meanwhile: try again later
            return False
        self._shared[pid] = max(0.0, (before[0] + after[0]) / 2 - pss)
        return True

    def _weigh_now(self) -> None:
        """PSS of each process, and how much of its RSS that found shared (the ticks subtract it);
        then the high a tick held back until its new processes were weighed."""
        self._roles = {**read_roles(self.roles_dir), self.pid: "worker"}  # processes named since
        self.pss_samples += int(any([self._weigh_one(pid) for pid in self._pids]))
        self._settle_pending()

    def _settle_pending(self) -> None:
        """Count the held tick once each of its processes is weighed; drop it when one of them
        is gone unweighed (its share is unknown: counting its whole RSS overstated the tree)."""
        with self._lock:
            pending = self._pending
            if pending is None or not all(pid in self._shared for pid in pending.resident):
                if pending is not None and any(_resident(pid) is None for pid in pending.resident):
                    self._pending, self.held_back = None, self.held_back + 1
                return
            self._pending = None
        self._commit(pending)

    def _weigher(self) -> None:
        self._nice()
        while self._weigh.wait() and not self._stop.is_set():  # stop() sets both
            self._weigh.clear()
            self._weigh_now()
            self._stop.wait(TICK_S)  # a process still changing is weighed again a tick later, not at once

    @staticmethod
    def _nice() -> None:
        # Outrank the trial where allowed (Linux: a thread's own nice value; as root): on a busy
        # machine a sampler at the trial's priority got a tick every 100-500 ms, not every 10 ms.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SAMPLER_NICE)

    def _loop(self, step: Callable[[], None], every: float) -> None:
        self._nice()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            step()
            self._stop.wait(max(0.0, every - (time.perf_counter() - t0)))

    def stop(self) -> dict[str, Any]:
        """The figures, once every thread has ended: each ends within its current read (an RSS,
        PSS or tree read of a trial that has ended). Not joined, a thread left reading while
        the harness process later forks (the in-process launcher's probe does) can leave the
        forked child deadlocked on a lock that thread held."""
        self._stop.set()
        self._weigh.set()
        for thread in self._threads:
            thread.join()
        self._settle_pending()
        if self._pending is not None:  # its new processes were never weighed
            self._pending, self.held_back = None, self.held_back + 1
        out: dict[str, Any] = {
            "method": "sampled",
            "tree_peak_bytes": self.tree_peak,
            "sampled_tree_peak_bytes": self.tree_peak,
            "largest_process_peak_bytes": self.largest_peak,
            "samples": self.samples,
            "pss_samples": self.pss_samples,
            "held_back_samples": self.held_back,
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
