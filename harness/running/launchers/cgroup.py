"""A memory cgroup of the trial's own: the kernel counts the whole tree's peak.

Linux charges every page a process tree allocates to the tree's memory cgroup and keeps the
high-water mark: ``memory.peak`` on cgroup v2, ``memory.max_usage_in_bytes`` on v1. No
sampler can miss a peak that way. The launcher makes a child of its own memory cgroup per
trial (this needs write access there: root, or a delegated subtree), starts the worker in it
(a ``sh`` trampoline writes the worker's pid into ``cgroup.procs`` before ``exec``, so its
interpreter's start-up is charged too) and reads the peak after the trial.

What the kernel charges: the tree's anonymous memory, the shared memory and page cache it
first touched (its record files in ``/dev/shm``, files it wrote) and kernel memory for it
(page tables, sockets). Not charged: pages another cgroup faulted in first, such as the
interpreter's own binary and libraries already in the page cache. ``QUEUEBENCH_MEMORY=sample``
turns cgroups off (the dense sampler measures instead).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Where the control files of the two cgroup versions are usually mounted.
MOUNTINFO = "/proc/self/mountinfo"
SELF = "/proc/self/cgroup"
#: Set to "sample" to measure by sampling only.
ENV = "QUEUEBENCH_MEMORY"


@dataclass(frozen=True)
class Cgroup:
    """One trial's memory cgroup."""

    path: Path
    version: int  # 1 or 2

    @property
    def method(self) -> str:
        return f"cgroup v{self.version}"

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside this cgroup: the same pid, moved before it execs."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.procs), *argv]

    def pids(self) -> list[int]:
        """The processes in the cgroup now (all of the trial's, wherever they re-parented)."""
        try:
            return [int(x) for x in self.procs.read_text().split()]
        except (OSError, ValueError):
            return []

    def peak(self) -> float | None:
        """The most memory the tree held at once, in bytes (None: not readable)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return float((self.path / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def remove(self, timeout: float = 2.0) -> None:
        """Remove the cgroup once its processes are gone (best effort)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.02)


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    out = []
    try:
        with open(MOUNTINFO, encoding="utf-8") as fh:
            for line in fh:
                head, _, tail = line.partition(" - ")
                fields, rest = head.split(), tail.split()
                if len(fields) >= 5 and len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
                    out.append((fields[4], rest[0], rest[2]))
    except OSError:
        pass
    return out


def _own_paths() -> dict[str, str]:
    """This process's cgroup per hierarchy: controllers (``""`` for v2) -> path."""
    out = {}
    try:
        with open(SELF, encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split(":", 2)
                if len(parts) == 3:
                    out[parts[1]] = parts[2]
    except OSError:
        pass
    return out


def _candidates() -> list[tuple[Path, int]]:
    """Parent folders a trial's cgroup could be made in, v2 first."""
    own = _own_paths()
    found: list[tuple[Path, int]] = []
    for point, fstype, options in _mounts():
        if fstype == "cgroup2" and "" in own:
            parent = Path(point) / own[""].lstrip("/")
            controls = parent / "cgroup.subtree_control"
            with contextlib.suppress(OSError):  # never enabled here: that would change the machine
                if "memory" in controls.read_text().split():
                    found.insert(0, (parent, 2))
        elif fstype == "cgroup" and "memory" in options.split(","):
            path = next((p for c, p in own.items() if "memory" in c.split(",")), None)
            if path is not None:
                found.append((Path(point) / path.lstrip("/"), 1))
    return found


def _sweep_stale(parent: Path) -> None:
    """Remove trial cgroups (``queuebench-<harness pid>-*``) whose harness no longer runs."""
    with contextlib.suppress(OSError):
        for path in parent.glob("queuebench-*-*"):
            owner = path.name.split("-")[1]
            if owner.isdigit() and not _alive(int(owner)):
                Cgroup(path, 0).remove(timeout=0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def create(name: str) -> Cgroup | None:
    """A fresh memory cgroup for one trial, or None where none can be had."""
    if os.name != "posix" or os.environ.get(ENV) == "sample":
        return None
    for parent, version in _candidates():
        _sweep_stale(parent)
        group = Cgroup(parent / name, version)
        try:
            group.path.mkdir()
        except OSError:
            continue
        if group.peak() is not None and os.access(group.procs, os.W_OK):
            return group
        group.remove(timeout=0)
    return None
