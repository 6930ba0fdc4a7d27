"""The trial's process tree, seen from outside with psutil: kill it, find its leftovers.

Each local trial runs in its own process group (a session on POSIX), so its orphans
are found even after they were re-parented.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time

import psutil

POSIX = os.name == "posix"


def kill_tree(pid: int) -> list[str]:
    """Kill ``pid`` and every descendant (and, on POSIX, its process group). Returns what it killed."""
    victims = tree_of(pid)
    if POSIX:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    killed = []
    for p in victims:
        try:
            killed.append(_describe(p))
            p.kill()
        except psutil.Error:
            pass
    _wait_dead(victims, timeout=3)
    return killed


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """``proc.wait(timeout)`` that returns as soon as the process ends (its exit code).

    On POSIX ``Popen.wait`` with a timeout polls, sleeping up to 50 ms between looks, so a
    trial's end was seen about 25 ms late on average (a tenth of a short trial's wall time).
    On Linux a pidfd becomes readable at the exit itself; elsewhere this is ``Popen.wait``
    (Windows waits on the process handle, also at once; macOS keeps the polling).
    Raises :class:`subprocess.TimeoutExpired` as ``Popen.wait`` does.
    """
    if proc.returncode is not None:
        return proc.returncode
    fd = _pidfd(proc.pid)
    if sys.platform != "linux" or fd is None:  # the platform test also tells type checkers: poll is POSIX's
        return proc.wait(timeout=timeout)
    try:
        poller, deadline = select.poll(), time.monotonic() + timeout
        poller.register(fd, select.POLLIN)
        # In slices of a day at most (poll takes an int of ms); a signal's retry keeps the deadline (PEP 475).
        while not poller.poll(min(max(deadline - time.monotonic(), 0.0), 86_400.0) * 1000.0):
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(fd)
    return proc.wait()  # the process has ended: this only reaps it


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` ends (Linux >= 5.3), or None."""
    if sys.platform != "linux":
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:  # an old kernel (ENOSYS) or a sandbox that forbids it (EPERM)
        return None


def _wait_dead(procs: list[psutil.Process], timeout: float) -> None:
    """Wait until each process is gone or a zombie (an orphan's zombie waits on init, not us)."""
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.02)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def find_leftovers(pgid: int, grace: float = 2.0) -> list[str]:
    """Processes of a finished trial still alive after ``grace`` seconds; they are killed.

    The grace lets the standard library's helpers (forkserver, resource tracker),
    which exit on their own once their parent is gone, finish doing so.
    """
    members = [p for p in _group_members(pgid) if _alive(p)]
    if not members:
        return []
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in members):
        time.sleep(0.05)
    stuck = [p for p in members if _alive(p)]
    described = [_describe(p) for p in stuck]
    for p in stuck:
        with contextlib.suppress(psutil.Error):
            p.kill()
    _wait_dead(stuck, timeout=3)
    return described


def alive_in_group(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes of a trial's process group."""
    return [p for p in _group_members(pgid) if _alive(p)]


def _group_members(pgid: int) -> list[psutil.Process]:
    """Processes still in the trial's process group: its orphans, even if re-parented."""
    if not POSIX:
        return []
    out = []
    for pid in psutil.pids():
        try:
            if pid != pgid and os.getpgid(pid) == pgid:
                out.append(psutil.Process(pid))
        except (OSError, psutil.Error):
            continue
    return out


def _describe(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())[:120] or p.name()
    except psutil.Error:
        cmd = "?"
    return f"pid {p.pid}: {cmd}"


def tree_of(pid: int) -> list[psutil.Process]:
    """``pid``, its descendants and (POSIX) the rest of its process group, alive or not."""
    procs: list[psutil.Process] = []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    procs.extend(p for p in _group_members(pid) if p not in procs)
    return procs
