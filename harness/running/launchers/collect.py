"""Bring a trial's record files back as numpy arrays (layout: strategies.records)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from strategies import records


def _written_rows(path: Path, chunk_rows: int = 1 << 16) -> int:
    """How many rows of a reader's log were written: rows come in order, and ``done`` is 0
    only in a row never written (so a reader killed mid-run still leaves a readable log)."""
    width, rows = records.WIDTH, 0
    while True:
        chunk = np.fromfile(path, dtype=np.int64, count=chunk_rows * width, offset=rows * width * 8)
        chunk = chunk[: len(chunk) - len(chunk) % width].reshape(-1, width)
        unwritten = np.flatnonzero(chunk[:, records.DONE] == 0)
        if len(unwritten):
            return rows + int(unwritten[0])
        if len(chunk) < chunk_rows:
            return rows + len(chunk)
        rows += len(chunk)


def read_records(scratch: Path, writers: int, items_per_writer: int) -> tuple[np.ndarray, np.ndarray]:
    """Reader rows (n, WIDTH) and writer rows (writers * items_per_writer, WRITER_WIDTH).

    The files outlive any reader, writer or whole trial that was killed, so this works
    after a timeout too. A writer field never written reads as ``records.UNKNOWN``.
    """
    width = records.WIDTH
    paths = sorted(scratch.glob(f"{records.READER_PREFIX}*{records.SUFFIX}")) if scratch.is_dir() else []
    files = [(path, _written_rows(path)) for path in paths]
    rows = np.empty((sum(n for _, n in files), width), dtype=np.int64)
    at = 0
    for path, n in files:  # read straight into place: no temporary copies
        if n:
            with open(path, "rb") as fh:
                fh.readinto(rows[at : at + n].data.cast("B"))
            at += n
    writes = np.zeros((writers * items_per_writer, records.WRITER_WIDTH), dtype=np.int64)
    for w in range(writers):
        path = Path(records.writer_file(str(scratch), w))
        if path.exists():
            got = np.fromfile(path, dtype=np.int64, count=items_per_writer * records.WRITER_WIDTH)
            got = got[: len(got) - len(got) % records.WRITER_WIDTH].reshape(-1, records.WRITER_WIDTH)
            writes[w * items_per_writer : w * items_per_writer + len(got)] = got
    writes[writes[:, records.W_ENQUEUED] == 0, records.W_ENQUEUED] = records.UNKNOWN
    writes[writes[:, records.W_WORK_CPU] == 0, records.W_WORK_CPU] = records.UNKNOWN
    return rows, writes


def scratch_root() -> str | None:
    """Record files live in memory where the OS offers it (Linux /dev/shm): no disk writeback
    competes with the trial. Elsewhere, the default temporary directory."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


#: Trial folders are named queuebench-<harness pid>-<random>: a folder whose harness is
#: gone (SIGKILLed before it could clean up) is swept by the next harness that starts.
TRIAL_PREFIX = "queuebench-"


def trial_prefix() -> str:
    return f"{TRIAL_PREFIX}{os.getpid()}-"


def sweep_stale_trials() -> list[str]:
    """Remove trial folders left by harnesses that no longer run; returns what it removed."""
    import shutil

    import psutil

    root = Path(scratch_root() or tempfile.gettempdir())
    removed = []
    for path in root.glob(f"{TRIAL_PREFIX}*-*"):
        owner = path.name[len(TRIAL_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def sweep_semaphores(prefix: str) -> list[str]:
    """Unlink the POSIX semaphores a trial named ``<prefix>-*`` and left behind (Linux: /dev/shm)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not prefix.startswith("/"):
        return []
    removed = []
    for path in shm.glob(f"sem.{prefix[1:]}-*"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path.name)
    return removed
