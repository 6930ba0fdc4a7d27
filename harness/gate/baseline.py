"""Saved baselines: ``results/baselines/<NAME>/``, meant to be committed with the project.

A baseline is a copy of a run directory's ``run.json`` and ``summary.csv`` (what
``compare`` and ``show`` read) plus ``baseline.json`` saying where it came from. The
per-item samples are left out by default — they are the bulk of a run (Parquet, one file
per trial) and nothing in a comparison needs them; ``--with-samples`` copies them too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import errors
from harness.errors import BaselineError
from harness.rundir import store
from harness.rundir.model import Run

BASELINES = "baselines"
META_FILE = "baseline.json"
MAX_SAMPLES_TOTAL = 4 * 2**30
MAX_META_FILE = 64 * 2**10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}\Z")


def read_meta(folder: Path) -> dict[str, Any] | None:
    """A folder's baseline.json, or None where it is missing or unreadable. Read like run.json
    (harness.rundir.store.read_regular): a regular file of at most 64 KiB, never through a link, never
    waiting on a FIFO; a baselines folder is committed and may come from anyone."""
    try:
        meta = json.loads(store.read_regular(Path(folder) / META_FILE, MAX_META_FILE).decode("utf-8"))
    except (errors.RunDirError, ValueError, RecursionError):
        return None
    return meta if isinstance(meta, dict) else None


def baselines_dir(results: Path) -> Path:
    return Path(results) / BASELINES


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise BaselineError(f"baseline name {name!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    return name


def saved_names(results: Path) -> list[str]:
    folder = baselines_dir(results)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / store.RUN_FILE).is_file())


def _latest_run_in(folder: Path) -> Path | None:
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and (p / store.RUN_FILE).is_file())
    return runs[-1] if runs else None


def resolve(arg: str, results: Path) -> Path:
    """A compare argument as a run directory: a run dir itself, a folder whose newest
    run is meant (e.g. ``results/ci`` written by ``run -o results/ci``), or the name
    of a saved baseline (a path to a run's run.json names its directory). Raises
    BaselineError naming what was tried."""
    path = store.run_dir_of(Path(arg))
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long, a loop of links
        raise BaselineError(f"{arg[:120]!r}: cannot be read ({exc.strerror or exc})") from None
    if is_dir:
        if (path / store.RUN_FILE).is_file():
            return path
        latest = _latest_run_in(path)
        if latest is not None:
            return latest
        return path  # load_run says why it is not a run directory
    if _NAME.match(arg) and (baselines_dir(results) / arg / store.RUN_FILE).is_file():
        return baselines_dir(results) / arg
    names = saved_names(results)
    known = f"saved baselines: {', '.join(names)}" if names else f"no baselines saved in {baselines_dir(results)}"
    raise BaselineError(f"{arg!r} is neither a run directory nor a saved baseline ({known})")


def save(run_dir: Path, name: str, results: Path, with_samples: bool = False, force: bool = False) -> Path:
    """Copy a complete run into ``results/baselines/NAME``; returns that directory."""
    check_name(name)
    run_dir = store.run_dir_of(Path(run_dir))  # a path to its run.json names the run too
    run = store.read_run(run_dir)  # raises RunDirError with a clear line
    if run.status != "complete" and not force:
        raise BaselineError(f"{run_dir}: run is {run.status!r}, not complete; use --force to save it anyway")
    dest = baselines_dir(results) / name
    if dest.exists() and not force:
        raise BaselineError(f"baseline {name!r} already exists at {dest}; use --force to replace it")
    if dest.resolve() == Path(run_dir).resolve():
        raise BaselineError(f"{run_dir} is already the baseline {name!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{name}.", suffix=".tmp"))
    try:
        _copy(Path(run_dir) / store.RUN_FILE, tmp / store.RUN_FILE, store.MAX_RUN_FILE)
        if os.path.lexists(Path(run_dir) / "summary.csv"):
            _copy(Path(run_dir) / "summary.csv", tmp / "summary.csv", store.MAX_RUN_FILE)
        if with_samples:
            _copy_samples(Path(run_dir), tmp / "samples")
        meta = {
            "name": name,
            "source": str(run_dir),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "samples": with_samples,
        }
        store.atomic_write(tmp / META_FILE, (json.dumps(meta, indent=1) + "\n").encode())
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700: baselines are meant to be committed
        if dest.is_symlink():
            raise BaselineError(f"{dest}: is a symbolic link; refusing to replace it")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _copy(src: Path, dst: Path, limit: int) -> None:
    """Copy one file of a results folder: a regular file (never a link, a FIFO or a device),
    at most ``limit`` bytes, written atomically."""
    store.atomic_write(dst, store.read_regular(src, limit))


def _copy_samples(run_dir: Path, samples: Path) -> None:
    """The regular files of ``samples/``: a link (to ``/etc/hostname``, to ``/dev/zero``), a
    FIFO, a device or a folder there is left out, never followed; sizes are capped."""
    samples.mkdir()
    source = run_dir / "samples"
    if source.is_symlink() or not source.is_dir():
        return
    total = 0
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False) or entry.name.startswith("."):
            continue
        with store.open_regular(Path(entry.path), store.MAX_SAMPLES_FILE) as (src, size):
            total += size
            if total > MAX_SAMPLES_TOTAL:
                raise BaselineError(f"{run_dir}: samples over {MAX_SAMPLES_TOTAL:,} bytes; save without --with-samples")
            with store.atomic_file(samples / entry.name) as dst:  # streamed: never the whole file in memory
                shutil.copyfileobj(src, dst, 1 << 20)


@dataclass(frozen=True)
class Saved:
    name: str
    path: Path
    saved_at: str
    source: str
    run: Run | None  # None when run.json is unreadable
    problem: str = ""

    @property
    def pairs(self) -> dict[tuple[str, str], int]:
        """(scenario, strategy) -> measured trials that passed."""
        out: dict[tuple[str, str], int] = {}
        for t in self.run.measured if self.run is not None else ():
            key = (t.scenario, t.strategy)
            out[key] = out.get(key, 0) + t.ok
        return out


def list_saved(results: Path) -> list[Saved]:
    out = []
    for name in saved_names(results):
        path = baselines_dir(results) / name
        meta = read_meta(path) or {}
        try:
            run: Run | None = store.read_run(path)
            problem = ""
        except errors.RunDirError as exc:
            run, problem = None, str(exc)
        out.append(Saved(name, path, str(meta.get("saved_at", "?")), str(meta.get("source", "?")), run, problem))
    return out
