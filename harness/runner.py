"""Runs trials in fresh worker processes, under a watchdog.

Each trial is ``python -m harness.worker trial SPEC OUT`` in its own process group
(session on POSIX). A trial that outlives its timeout is killed with its whole
process tree and reported as ``timeout``; processes still alive after a trial
ended (orphans of the strategy) are found, reported and killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from strategies import base, faults, records

#: The directory holding ``harness/`` and ``strategies/``, put on the worker's path.
ROOT = Path(__file__).resolve().parent.parent
POSIX = os.name == "posix"


#: The oldest Python the worker side (harness/worker.py, strategies/) runs under.
MIN_WORKER_VERSION = (3, 10)
MIN_WORKER = ".".join(map(str, MIN_WORKER_VERSION))


class WorkerError(RuntimeError):
    """The worker interpreter could not be used at all (bad --python, broken install)."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _popen_kwargs() -> dict[str, Any]:
    if POSIX:
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def probe(python: str, timeout: float = 60.0) -> dict[str, Any]:
    """Ask the worker interpreter about itself; calibrate cpu work; measure parallelism."""
    try:
        done = subprocess.run(
            [python, "-m", "harness.worker", "probe"],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkerError(f"cannot run worker interpreter {python!r}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise WorkerError(
            f"worker interpreter {python!r} failed its probe (queuebench's worker needs Python >= {MIN_WORKER}): {tail}"
        )
    try:
        result: dict[str, Any] = json.loads(done.stdout)
        version = tuple(int(p) for p in str(result["version"]).split(".")[:2])
    except (ValueError, KeyError, TypeError):
        raise WorkerError(f"{python!r} did not answer the worker probe; is it a Python interpreter?") from None
    if version < MIN_WORKER_VERSION:
        raise WorkerError(
            f"worker interpreter {python!r} is Python {result['version']}; queuebench needs >= {MIN_WORKER}"
        )
    return result


def kill_tree(pid: int) -> list[str]:
    """Kill ``pid`` and every descendant (and, on POSIX, its process group). Returns what it killed."""
    victims: list[psutil.Process] = []
    try:
        root = psutil.Process(pid)
        victims = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    victims.extend(p for p in _group_members(pid) if p not in victims)
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


@dataclass
class TrialOutput:
    """Raw outcome of one trial, before analysis."""

    status: str  # "ok", "error" (strategy raised or worker died) or "timeout"
    meta: dict[str, Any]
    reads: np.ndarray  # (n, 7) int64, base.RECORD_FIELDS; enqueued still unknown
    enqueued: np.ndarray  # (writers * items_per_writer,) int64
    wall_s: float
    pid: int = 0  # the worker's pid, which is also its process group id on POSIX
    ended_ns: int = 0  # perf_counter_ns when the worker was seen to exit or was killed
    #: Faults that fired (kind, writer, seq, at, pid), logged by the worker side before acting.
    fault_events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def _written_rows(path: Path, width: int, chunk_rows: int = 1 << 16) -> int:
    """How many rows of a record log were written: rows come in order, and ``done`` is 0 only
    in a row never written (so a reader killed mid-run still leaves a readable log)."""
    rows = 0
    while True:
        chunk = np.fromfile(path, dtype=np.int64, count=chunk_rows * width, offset=rows * width * 8)
        chunk = chunk[: len(chunk) - len(chunk) % width].reshape(-1, width)
        unwritten = np.flatnonzero(chunk[:, records.DONE_COLUMN] == 0)
        if len(unwritten):
            return rows + int(unwritten[0])
        if len(chunk) < chunk_rows:
            return rows + len(chunk)
        rows += len(chunk)


def read_records(scratch: Path, writers: int, items_per_writer: int) -> tuple[np.ndarray, np.ndarray]:
    """Records (n, 7) and enqueued stamps (writers * items_per_writer,) from a trial's record files.

    The files outlive any reader, writer or whole trial that was killed, so this works
    after a timeout too (see strategies.records).
    """
    width = base.RECORD_WIDTH
    files = [(path, _written_rows(path, width)) for path in sorted(scratch.glob("r-*.bin"))]
    rows = np.empty((sum(n for _, n in files), width), dtype=np.int64)
    at = 0
    for path, n in files:  # read straight into place: no temporary copies
        if n:
            with open(path, "rb") as fh:
                fh.readinto(rows[at : at + n].data.cast("B"))
            at += n
    enqueued = np.zeros(writers * items_per_writer, dtype=np.int64)
    for w in range(writers):
        path = scratch / f"w-{w}.bin"
        if path.exists():
            stamps = np.fromfile(path, dtype=np.int64, count=items_per_writer)
            enqueued[w * items_per_writer : w * items_per_writer + len(stamps)] = stamps
    enqueued[enqueued == 0] = base.UNKNOWN
    return rows, enqueued


def _scratch_root() -> str | None:
    """Record files live in memory where the OS offers it (Linux /dev/shm): no disk writeback
    competes with the trial. Elsewhere, the default temporary directory."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def run_trial(
    python: str,
    strategy: str,
    workload: base.Workload,
    timeout: float,
) -> TrialOutput:
    """Run one trial in a fresh worker process and collect its raw output."""
    with tempfile.TemporaryDirectory(prefix="queuebench-", dir=_scratch_root()) as tmp:
        spec = Path(tmp) / "spec.json"
        out = Path(tmp) / "out"
        out.mkdir()
        # The worker kills itself a little after the harness would, should the harness die.
        deadline = timeout + 30
        spec.write_text(json.dumps({"strategy": strategy, "workload": workload.to_dict(), "deadline_s": deadline}))
        stderr_path = Path(tmp) / "stderr.txt"
        t0 = time.perf_counter()
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(
                [python, "-m", "harness.worker", "trial", str(spec), str(out)],
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                **_popen_kwargs(),
            )
            status, errors = "ok", []
            try:
                proc.wait(timeout=timeout)
                ended_ns = time.perf_counter_ns()
            except subprocess.TimeoutExpired:
                ended_ns = time.perf_counter_ns()
                status = "timeout"
                errors.append(f"timed out after {timeout:g}s; killed the trial's process tree")
            finally:
                if proc.poll() is None:  # timeout, Ctrl+C or any error while waiting
                    kill_tree(proc.pid)
                    proc.wait()
        wall = time.perf_counter() - t0
        leftovers = find_leftovers(proc.pid) if status != "timeout" else []
        reads, enqueued = read_records(out / "scratch", workload.writers, workload.items_per_writer)
        meta_path = out / "meta.json"
        meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        if status == "ok":
            if not meta:
                tail = stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
                errors.append(f"worker exited with code {proc.returncode}: {' | '.join(tail) or 'no output'}")
                status = "error"
            elif meta.get("crashed"):
                status = "error"
        errors.extend(meta.get("errors", []))
        if meta.get("children_left"):
            errors.append(f"strategy returned with live children: {meta['children_left']}")
        return TrialOutput(
            status=status,
            meta=meta,
            reads=reads,
            enqueued=enqueued,
            wall_s=wall,
            pid=proc.pid,
            ended_ns=ended_ns,
            fault_events=faults.read_events(str(out / "scratch")) if (out / "scratch").is_dir() else [],
            errors=errors,
            leftovers=leftovers,
        )


def current_python() -> str:
    return sys.executable
