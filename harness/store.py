"""The results directory: ``results/<UTC time>-<host>/``.

* ``run.json``   — schema_version, status, fingerprint, options, scenario definitions,
  one summary per trial. Rewritten atomically after every trial, so a killed run
  leaves a readable file whose ``status`` says ``running`` or ``incomplete``.
* ``samples/<trial>.parquet`` — the per-item records of each measured trial.
* ``summary.csv`` — one row per scenario x strategy (medians over repeats).

Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import socket
from pathlib import Path
from typing import Any

import numpy as np

from strategies import records

SCHEMA_VERSION = 1
RUN_FILE = "run.json"


class RunDirError(ValueError):
    """A results directory that cannot be read; the message is one line for the user."""


def _clean(value: Any) -> Any:
    """JSON has no NaN: store it as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def new_run_dir(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out}: exists and is not a directory")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())[:40] or "host"
    base_name = f"{stamp}-{host}"
    path, n = out / base_name, 1
    while path.exists():
        n += 1
        path = out / f"{base_name}-{n}"
    try:
        (path / "samples").mkdir(parents=True)
    except OSError as exc:
        raise RunDirError(f"--out {out}: cannot create a run directory there ({exc.strerror or exc})") from None
    return path


class RunWriter:
    """Accumulates a run and keeps its directory consistent after every trial."""

    def __init__(self, path: Path, fingerprint: dict[str, Any], options: dict[str, Any], scenarios: dict[str, Any]):
        self.path = path
        self.doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": "queuebench",
            "status": "running",
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "finished_at": None,
            "fingerprint": fingerprint,
            "options": options,
            "scenarios": scenarios,
            "trials": [],
        }
        self.flush()

    def add_trial(self, trial: dict[str, Any], rows: np.ndarray | None) -> None:
        if rows is not None:
            write_samples(self.path / "samples" / f"{trial['id']}.parquet", rows)
            trial["samples"] = f"samples/{trial['id']}.parquet"
        self.doc["trials"].append(_clean(trial))
        self.flush()

    def finish(self, status: str) -> None:
        self.doc["status"] = status
        self.doc["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.flush()
        from harness import summary

        summary.write_csv(self.path, self.doc)

    def flush(self) -> None:
        atomic_write(self.path / RUN_FILE, json.dumps(self.doc, indent=1).encode())


def write_samples(path: Path, rows: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.int64()) for name in records.FIELDS])
    tmp = path.with_name(f".{path.name}.tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as out:
        for lo in range(0, max(len(rows), 1), 262_144):  # in slices: no full copy of every column
            chunk = rows[lo : lo + 262_144]
            out.write_table(pa.table([np.ascontiguousarray(chunk[:, i]) for i in range(chunk.shape[1])], schema=schema))
    os.replace(tmp, path)


def run_dir_of(path: Path) -> Path:
    """A path naming a run: the directory itself, or its run.json file (-> its directory)."""
    path = Path(path)
    return path.parent if path.name == RUN_FILE and path.is_file() else path


def load_run(path: Path) -> dict[str, Any]:
    """Read and check a run directory's run.json; raise RunDirError with a clear line."""
    path = run_dir_of(Path(path))
    if not path.is_dir():
        raise RunDirError(f"{path}: not a directory (expected a results directory holding {RUN_FILE})")
    file = path / RUN_FILE
    if not file.exists():
        runs = sorted(p.parent.name for p in path.glob(f"*/{RUN_FILE}"))
        if runs:
            raise RunDirError(f"{path}: a folder of {len(runs)} runs, not a run; the newest is {path / runs[-1]}")
        raise RunDirError(f"{path}: no {RUN_FILE} here; is this a queuebench results directory?")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{file}: damaged or not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "queuebench":
        raise RunDirError(f"{file}: not a queuebench run file")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RunDirError(f"{file}: schema_version {version!r}; this queuebench reads {SCHEMA_VERSION}")
    for key in ("fingerprint", "scenarios", "trials", "status"):
        if key not in doc:
            raise RunDirError(f"{file}: missing {key!r}; the file is damaged")
    problem = _structure_problem(doc)
    if problem:
        raise RunDirError(f"{file}: damaged: {problem}")
    return doc


_FINGERPRINT_KEYS = ("os", "os_release", "arch", "cpu_model", "logical_cores", "effective_parallelism", "start_method")


def _structure_problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with a run document's shape, if anything (hand edits, foreign files)."""
    fp = doc["fingerprint"]
    if not isinstance(fp, dict) or not isinstance(fp.get("python"), dict):
        return "fingerprint (or its python part) is not a table"
    missing = [k for k in _FINGERPRINT_KEYS if k not in fp] + [
        f"python.{k}" for k in ("implementation", "version") if k not in fp["python"]
    ]
    if missing:
        return f"fingerprint lacks {', '.join(missing)}"
    if not isinstance(doc["scenarios"], dict) or not isinstance(doc["trials"], list):
        return "scenarios must be a table and trials a list"
    for i, t in enumerate(doc["trials"]):
        if not isinstance(t, dict):
            return f"trial #{i + 1} is not a table"
        for key in ("id", "scenario", "strategy", "status"):
            if not isinstance(t.get(key), str):
                return f"trial #{i + 1} has no text {key!r}"
        if not isinstance(t.get("errors", []), list):
            return f"trial {t['id']}: errors must be a list"
        m = t.get("metrics")
        if m is not None and (
            not isinstance(m, dict) or any(not isinstance(v, int | float | bool | None) for v in m.values())
        ):
            return f"trial {t['id']}: metrics must be a table of numbers"
    return None


def load_samples(run_dir: Path, trial: dict[str, Any]) -> np.ndarray:
    """Per-item records of one trial as an (n, records.WIDTH) int64 array (a column that an
    older run did not record, e.g. ``work_cpu``, reads as records.UNKNOWN)."""
    import pyarrow.parquet as pq

    rel = trial.get("samples")
    if not rel:
        return np.empty((0, records.WIDTH), dtype=np.int64)
    try:
        table = pq.read_table(Path(run_dir) / rel)
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{run_dir / rel}: cannot read samples ({exc})") from None
    unknown = np.full(table.num_rows, records.UNKNOWN, dtype=np.int64)
    columns = [table.column(n).to_numpy() if n in table.column_names else unknown for n in records.FIELDS]
    return np.column_stack(columns).astype(np.int64)
