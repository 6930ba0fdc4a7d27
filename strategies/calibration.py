"""The cpu work's calibration cache: one amount of work per machine and interpreter build
(standard library only: the worker's probe uses it).

The key names the machine (host, architecture, CPU model) and the interpreter's build
(implementation, version, build tag and date, compiler, GIL), never the path it was started
from: two clones with a virtual environment each run the same interpreter build, so they must
do the same work per item (keyed by ``sys.executable``, two clones on one machine calibrated
apart and did work that differed by 1.44×).

The cache file is shared by every run on the machine, so it is read, updated and replaced
under an exclusive lock (``fcntl.flock`` on a lock file beside it; ``msvcrt.locking`` on
Windows), and written atomically (a temporary file, then ``os.replace``): a concurrent run
neither loses another's entry nor reads half a file. A run that finds the key present under
the lock takes it instead of measuring again, so every run on one machine does the same work.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from typing import Any

#: The fields an entry must have to be used.
ENTRY_FIELDS = frozenset({"hold_per_ms", "release_per_ms", "measured_at"})


def cache_file() -> str:
    root = os.environ.get("QUEUEBENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "queuebench"
    )
    return os.path.join(root, "calibration.json")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_key() -> str:
    """This machine and interpreter build; not the interpreter's path (a venv per clone)."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return "|".join(
        (
            platform.node(),
            platform.machine(),
            cpu_model(),
            platform.python_implementation(),
            platform.python_version(),
            " ".join(platform.python_build()),
            platform.python_compiler(),
            f"gil={gil}",
        )
    )


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive lock on ``path + '.lock'`` (best effort: no lock where none can be had)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            cache = json.load(fh)
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _usable(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.keys() >= ENTRY_FIELDS


def calibration(recalibrate: bool = False) -> dict[str, Any]:
    """The cpu work's units per ms for this interpreter build on this machine: measured once,
    then reused from the cache, so every run on one machine does the same work per item.
    ``recalibrate`` measures afresh and replaces the entry."""
    from strategies.kinds import cpu

    path, key = cache_file(), cache_key()
    with _locked(path):
        cache = _read(path)
        if not recalibrate and _usable(cache.get(key)):
            return dict(cache[key], source="cached")
        cal = cpu.calibrate()
        entry = {
            "hold_per_ms": cal.hold_per_ms,
            "release_per_ms": cal.release_per_ms,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        cache[key] = entry
        tmp = f"{path}.{os.getpid()}.tmp"
        try:  # best effort: a read-only home still runs, it just calibrates every time
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(cache, fh)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return dict(entry, source="measured")
