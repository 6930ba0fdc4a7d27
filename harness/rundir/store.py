"""The results directory: ``results/<UTC time>-<host>/``.

* ``run.json``   — schema_version, status, fingerprint, options, scenario definitions,
  one summary per trial. Rewritten atomically after every trial, so a killed run
  leaves a readable file whose ``status`` says ``running`` or ``incomplete``.
* ``samples/<trial>.parquet`` — the per-item records of each measured trial.
* ``summary.csv`` — one row per scenario x strategy (medians over repeats).

Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import math
import os
import re
import signal
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from harness.errors import RunDirError, UnsafeTarget
from harness.rundir import paths
from harness.rundir import schema as runschema
from harness.rundir.model import Run, Trial
from strategies import records

SCHEMA_VERSION = 1
RUN_FILE = "run.json"
#: run.json's top-level status as json.dumps(indent=1) writes it, and the room it keeps: the
#: longest status, quoted ("incomplete").
_STATUS_AT = b'\n "status": '
_STATUS_WIDTH = len(b'"incomplete"')


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


#: Files a results folder may hold are read whole; nothing queuebench writes is near these.
MAX_RUN_FILE = 64 * 2**20
#: JSON values in run.json (counted, before parsing, as its commas and opening brackets): a real
#: run has one per ~29 bytes, so 64 MiB hold about 2.3 million. Without a count, 64 MiB of tiny
#: values (``[[],[],...]``) would build 1.7 GB of objects before the schema could refuse them.
MAX_RUN_VALUES = 2_500_000
MAX_SAMPLES_FILE = 1 * 2**30
#: Rows a trial's samples may have: one per item, and a scenario has at most 5,000,000 items.
MAX_SAMPLE_ROWS = 5_000_000


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` by create-unique-temp-then-rename inside its own folder.

    The temporary file is made by ``mkstemp`` (O_EXCL, a random name: no trap can be laid for
    it), and the rename replaces the name itself, so nothing is ever written through a link; a
    target that already is a symbolic link or a directory is refused. On any error, Ctrl+C
    included, the temporary file is removed and the target is left as it was."""
    path = Path(path)
    if path.is_symlink():
        raise UnsafeTarget(f"{path}: is a symbolic link; refusing to write through it")
    if path.is_dir():
        raise UnsafeTarget(f"{path}: is a directory; cannot write a file there")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:80]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600: results are meant to be shared and committed
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, never through a link (see :func:`atomic_file`)."""
    with atomic_file(path) as fh:
        fh.write(data)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Let the current write finish before Ctrl+C (or SIGTERM) takes effect: a trial that
    finished is stored whole, and the interrupt is raised right after (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    signums = [s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None]
    previous = {s: signal.getsignal(s) for s in signums}
    for s in signums:
        signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise KeyboardInterrupt


def new_run_dir(out: Path) -> Path:
    """A fresh run folder under ``out``, made atomically (``os.mkdir`` with a suffix retry: two
    runs started in the same second never share or fail on one name)."""
    if not str(out).strip():
        raise RunDirError("--out: empty path; name a directory for the results")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())[:40] or "host"
    base_name = f"{stamp}-{host}"
    try:
        if out.exists() and not out.is_dir():
            raise RunDirError(f"--out {out}: exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        for n in range(1, 100_000):
            path = out / (base_name if n == 1 else f"{base_name}-{n}")
            try:
                os.mkdir(path)
            except FileExistsError:
                continue
            os.mkdir(path / "samples")
            return path
    except OSError as exc:
        raise RunDirError(
            f"--out {paths.short(out)}: cannot make a run directory there ({paths.reason(exc)})"
        ) from None
    raise RunDirError(f"--out {paths.short(out)}: too many runs named {base_name}-N already")


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
        self._status_at = -1  # where the status's bytes are in the run.json last written
        self.flush()

    def add_trial(self, trial: dict[str, Any], rows: np.ndarray | None) -> None:
        """Store a finished trial: its samples first, then its line in run.json. Ctrl+C waits
        for both, so a trial that finished is never dropped half-written."""
        with interrupts_deferred():
            if rows is not None:
                name = f"samples/{slug(trial['id'])}.parquet"
                self._guard(write_samples, self.path / name, rows)
                trial["samples"] = name
            self.doc["trials"].append(_clean(trial))
            self.flush()

    def finish(self, status: str, derived: Callable[[Run], Mapping[str, bytes]] | None = None) -> None:
        """Mark the run ``status``; on a disk too full to rewrite run.json, the file last written
        is marked in place (its status has room for any word: :meth:`flush`)."""
        self.doc["status"] = status
        self.doc["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            self.flush()
        except RunDirError as exc:
            said = "keeps the trials stored before, marked" if self._mark_in_place(status) else "could not be marked"
            raise RunDirError(f"{exc}; run.json {said} {status!r}") from None
        for name, data in (derived(Run.from_doc(self.doc)) if derived is not None else {}).items():
            self._guard(atomic_write, self.path / name, data)

    def flush(self) -> None:
        """Rewrite run.json atomically. Its top-level status is padded to the longest status
        (``"running"   ,``): when the disk is full, :meth:`finish` overwrites those same bytes."""
        text = json.dumps(self.doc, indent=1).encode()
        at = text.index(_STATUS_AT) + len(_STATUS_AT)  # the only key at indent 1 named status
        end = text.index(b",", at)
        self._guard(atomic_write, self.path / RUN_FILE, text[:at] + text[at:end].ljust(_STATUS_WIDTH) + text[end:])
        self._status_at = at

    def _mark_in_place(self, status: str) -> bool:
        """Write ``status`` over the padded status of the run.json last written (False if not)."""
        word = json.dumps(status).encode()
        fits = self._status_at > 0 and len(word) <= _STATUS_WIDTH
        return fits and paths.overwrite(self.path / RUN_FILE, self._status_at, word.ljust(_STATUS_WIDTH))

    def _guard(self, write: Callable[..., object], *args: Any) -> None:
        """An OS error while storing (a full disk, a folder removed) as one line for the user."""
        try:
            write(*args)
        except RunDirError:
            raise
        except OSError as exc:
            raise RunDirError(f"{paths.short(self.path)}: cannot write results ({paths.reason(exc)})") from None


def slug(name: str) -> str:
    """A name from outside (scenario, strategy, trial id) as one safe file-name part: the
    sanitised text, plus a short hash when anything had to change (so names stay distinct)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100].lstrip(".") or "_"
    if safe == name:
        return name
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def write_samples(path: Path, rows: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.int64()) for name in records.FIELDS])
    with atomic_file(path) as fh, pq.ParquetWriter(fh, schema, compression="zstd") as out:
        for lo in range(0, max(len(rows), 1), 262_144):  # in slices: no full copy of every column
            chunk = rows[lo : lo + 262_144]
            out.write_table(pa.table([np.ascontiguousarray(chunk[:, i]) for i in range(chunk.shape[1])], schema=schema))


def run_dir_of(path: Path) -> Path:
    """A path naming a run: the directory itself, or its run.json file (-> its directory)."""
    path = Path(path)
    try:
        return path.parent if path.name == RUN_FILE and path.is_file() else path
    except OSError:  # a name too long, a loop: load_run says so in one line
        return path


@contextmanager
def open_regular(file: Path, limit: int) -> Iterator[tuple[BinaryIO, int]]:
    """A regular file of at most ``limit`` bytes, open for reading, and its size. Opened without
    blocking (a FIFO in its place must not hang) and without following a link, checked after
    opening (a name cannot be swapped in between); a device such as ``/dev/zero`` is refused."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(file, flags)
    except OSError as exc:
        why = "a symbolic link" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise RunDirError(f"{file}: cannot read ({why})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RunDirError(f"{file}: not a regular file")
        if info.st_size > limit:
            raise RunDirError(f"{file}: {info.st_size:,} bytes; at most {limit:,} are read")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        yield fh, info.st_size


def read_regular(file: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`); read no
    further than the limit, whatever the file grows to meanwhile."""
    try:
        with open_regular(file, limit) as (fh, _size):
            data = fh.read(limit + 1)
    except RunDirError:
        raise
    except OSError as exc:
        raise RunDirError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise RunDirError(f"{file}: more than {limit:,} bytes; at most {limit:,} are read")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def load_run(path: Path) -> dict[str, Any]:
    """Read a run directory's run.json and check it against the schema (harness.rundir.schema),
    once: every command then reads a document of known shape. Raises RunDirError, one line."""
    path = run_dir_of(Path(path))
    try:
        if path.is_symlink() and not path.is_dir():
            raise RunDirError(f"{path}: not a directory (expected a results directory holding {RUN_FILE})")
        if not path.is_dir():
            raise RunDirError(f"{path}: not a directory (expected a results directory holding {RUN_FILE})")
        file = path / RUN_FILE
        if not file.exists() and not file.is_symlink():
            runs = sorted(p.parent.name for p in path.glob(f"*/{RUN_FILE}"))
            if runs:
                held = "a folder of 1 run" if len(runs) == 1 else f"a folder of {len(runs)} runs"
                raise RunDirError(f"{path}: {held}, not a run; the newest is {path / runs[-1]}")
            raise RunDirError(f"{path}: no {RUN_FILE} here; is this a queuebench results directory?")
    except OSError as exc:
        raise RunDirError(f"{paths.short(path)}: cannot read ({exc.strerror or exc})") from None
    raw = read_regular(file, MAX_RUN_FILE)
    _check_json_shape(raw, file)
    try:
        text = raw.decode("utf-8")
        del raw  # parsed from the text alone: the bytes are not held while the objects are built
        doc = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise RunDirError(f"{file}: damaged or not JSON ({why})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "queuebench":
        raise RunDirError(f"{file}: not a queuebench run file")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RunDirError(f"{file}: schema_version {runschema.shown(version)}; this queuebench reads {SCHEMA_VERSION}")
    for key in runschema.REQUIRED:
        if key not in doc:
            raise RunDirError(f"{file}: missing {key!r}; the file is damaged")
    problem = runschema.problem(doc)
    if problem:
        raise RunDirError(f"{file}: damaged: {problem}")
    return doc


def read_run(path: Path) -> Run:
    """The typed run of a run directory (or its run.json): :func:`load_run`'s checked document,
    built once into a :class:`~harness.rundir.model.Run`. Raises RunDirError, one line."""
    return Run.from_doc(load_run(path))


def _check_json_shape(raw: bytes, file: Path) -> None:
    """What run.json's bytes can be refused for before they are decoded or parsed (each costs
    memory a few times their size): not starting with an object, or too many values."""
    if not re.match(rb"[ \t\r\n]*\{", raw):
        raise RunDirError(f"{file}: not a queuebench run file (not a JSON object)")
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_RUN_VALUES:
        raise RunDirError(f"{file}: about {values:,} JSON values; at most {MAX_RUN_VALUES:,} are read")


def _check_parquet_frame(fh: BinaryIO, size: int, file: Path) -> None:
    """A Parquet file starts and ends with PAR1 and its footer fits in it: checked here, before
    pyarrow trusts the footer's lengths."""
    if size < 12:
        raise RunDirError(f"{file}: damaged samples: too short for Parquet")
    head = fh.read(4)
    fh.seek(size - 8)
    tail = fh.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if head != b"PAR1" or tail[4:] != b"PAR1" or footer > size - 12:
        raise RunDirError(f"{file}: damaged samples: not a whole Parquet file")
    fh.seek(0)


def load_samples(run_dir: Path, trial: Trial) -> np.ndarray:
    """Per-item records of one trial as an (n, records.WIDTH) int64 array (a column that an
    older run did not record, e.g. ``work_cpu``, reads as records.UNKNOWN).

    The file is untrusted like run.json: a regular file (not a link) of bounded size, whose
    columns are integers without nulls, at most ``MAX_SAMPLE_ROWS`` rows; else RunDirError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rel = trial.samples
    if not rel:
        return np.empty((0, records.WIDTH), dtype=np.int64)
    file = Path(run_dir) / rel
    try:
        with open_regular(file, MAX_SAMPLES_FILE) as (fh, size):
            _check_parquet_frame(fh, size, file)
            parquet = pq.ParquetFile(fh)  # reads the footer and the columns asked for, not the file
            if parquet.metadata.num_rows > MAX_SAMPLE_ROWS:
                raise RunDirError(f"{file}: {parquet.metadata.num_rows:,} rows; at most {MAX_SAMPLE_ROWS:,}")
            present = [n for n in records.FIELDS if n in parquet.schema_arrow.names]
            table = parquet.read(columns=present, use_threads=False)
    except (OSError, ValueError, TypeError, NotImplementedError, KeyError, IndexError, pa.ArrowException) as exc:
        if isinstance(exc, RunDirError):
            raise
        raise RunDirError(
            f"{file}: cannot read samples ({str(exc).splitlines()[0][:200] if str(exc) else exc})"
        ) from None
    missing = [n for n in records.FIELDS if n not in present and n != "work_cpu"]
    if missing:
        raise RunDirError(f"{file}: damaged samples: no column {', '.join(missing)}")
    for name in present:
        column = table.column(name)
        if not pa.types.is_integer(column.type) or column.null_count:
            raise RunDirError(f"{file}: damaged samples: column {name} must be whole numbers without gaps")
    unknown = np.full(table.num_rows, records.UNKNOWN, dtype=np.int64)
    columns = [table.column(n).to_numpy().astype(np.int64) if n in present else unknown for n in records.FIELDS]
    return np.column_stack(columns) if columns else np.empty((0, records.WIDTH), dtype=np.int64)
