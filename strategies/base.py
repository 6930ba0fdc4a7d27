"""The writer/reader contract every strategy implements.

Standard library only: this module is imported inside measured worker processes,
possibly under another interpreter (``--python``), so it must stay light.

A strategy is a module-level callable ``run(workload) -> Trace``. It decides only
*how* items move from writers to readers and how reader concurrency is bounded.
What each side does per item comes from :mod:`strategies.work`, and the per-item
stamping from :class:`WriterSide` / :func:`consume`, so every strategy is
instrumented identically.
"""

from __future__ import annotations

import importlib
import os
import time
from array import array
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from strategies import work

now = time.perf_counter_ns

#: Field order of one per-item record (all int64, perf_counter_ns stamps).
RECORD_FIELDS = ("writer", "seq", "produced", "enqueued", "dequeued", "done", "reader")
RECORD_WIDTH = len(RECORD_FIELDS)
#: Field order of what a reader keeps per item (``enqueued`` is joined in later,
#: because the writer only knows it after the put returned).
READ_FIELDS = ("writer", "seq", "produced", "dequeued", "done", "reader")
UNKNOWN = -1

#: What travels through the queue under test: (writer, seq, produced_ns, reader_seconds, payload).
Item = tuple[int, int, int, float, bytes]


@dataclass(frozen=True)
class Workload:
    """Everything a strategy needs to run one trial. Picklable, immutable."""

    writers: int
    readers: int
    items_per_writer: int
    payload_bytes: int = 0
    queue_maxsize: int = 0
    writer_work: work.WorkSpec = field(default_factory=work.WorkSpec)
    reader_work: work.WorkSpec = field(default_factory=work.WorkSpec)
    start_method: str | None = None
    seed: int = 0
    calibration: work.Calibration = field(default_factory=work.Calibration)
    #: Directory where process-based strategies drop per-process record files.
    scratch: str = ""
    #: Free-form options for test-only strategies (e.g. ``{"delay_factor": 1.2}``).
    options: tuple[tuple[str, float], ...] = ()

    @property
    def total_items(self) -> int:
        return self.writers * self.items_per_writer

    def option(self, name: str, default: float) -> float:
        return dict(self.options).get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        data = dict(data)
        data["writer_work"] = work.WorkSpec(**data["writer_work"])
        data["reader_work"] = work.WorkSpec(**data["reader_work"])
        data["calibration"] = work.Calibration(**data["calibration"])
        data["options"] = tuple(tuple(o) for o in data.get("options", ()))
        return cls(**data)


@dataclass
class Trace:
    """What a strategy hands back: records plus trial-level facts."""

    #: Flat int64 records of READ_FIELDS, as kept by readers.
    reads: array[int] = field(default_factory=lambda: array("q"))
    #: writer id -> enqueued stamps indexed by seq (UNKNOWN where never put).
    enqueued: dict[int, array[int]] = field(default_factory=dict)
    #: Stamps of the trial phases: setup starts, writers released, all joined.
    setup_start: int = 0
    start: int = 0
    end: int = 0
    errors: list[str] = field(default_factory=list)

    def add_reads(self, flat: Iterable[int]) -> None:
        self.reads.extend(flat)

    def enqueued_matrix(self, writers: int, items_per_writer: int) -> array[int]:
        """Enqueued stamps as one flat writers x items_per_writer array (UNKNOWN gaps)."""
        out = array("q", [UNKNOWN]) * (writers * items_per_writer)
        for w, stamps in self.enqueued.items():
            if 0 <= w < writers and len(stamps) == items_per_writer:
                out[w * items_per_writer : (w + 1) * items_per_writer] = stamps
        return out


class Strategy(Protocol):
    """A strategy is any callable taking a Workload and returning a Trace."""

    def __call__(self, workload: Workload) -> Trace: ...


# --------------------------------------------------------------------------- #
# Shared instrumentation: identical on every strategy.


class WriterSide:
    """One writer's items: does the writer work, stamps, keeps enqueued stamps."""

    def __init__(self, workload: Workload, writer: int) -> None:
        self.writer = writer
        self.n = n = workload.items_per_writer
        self.payload = b"\0" * workload.payload_bytes
        self.spec = workload.writer_work
        self.cal = workload.calibration
        seed = workload.seed
        self.writer_durations = work.durations(self.spec, seed, "writer", writer, n)
        self.reader_durations = work.durations(workload.reader_work, seed, "reader", writer, n)
        self.enqueued = array("q", [UNKNOWN]) * n

    def make(self, seq: int) -> Item:
        """Do the writer's work for item ``seq`` and return the item, stamped."""
        work.perform(self.spec, self.cal, self.writer_durations[seq])
        return self.item(seq)

    def item(self, seq: int) -> Item:
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def mark_enqueued(self, seq: int) -> None:
        self.enqueued[seq] = now()


class ReaderSide:
    """One reader's bookkeeping: does the reader work and keeps the records."""

    def __init__(self, workload: Workload, reader_id: int) -> None:
        self.reader_id = reader_id
        self.spec = workload.reader_work
        self.cal = workload.calibration
        self.reads = array("q")

    def consume(self, item: Item) -> None:
        dequeued = now()
        work.perform(self.spec, self.cal, item[3])
        self.reads.extend((item[0], item[1], item[2], dequeued, now(), self.reader_id))

    async def aconsume(self, item: Item) -> None:
        dequeued = now()
        await work.aperform(self.spec, self.cal, item[3])
        self.reads.extend((item[0], item[1], item[2], dequeued, now(), self.reader_id))


def consume_one(item: Item, spec: work.WorkSpec, cal: work.Calibration, reader_id: int) -> tuple[int, ...]:
    """Stateless reader for one-task-per-item pools: returns one READ_FIELDS row."""
    dequeued = now()
    work.perform(spec, cal, item[3])
    return (item[0], item[1], item[2], dequeued, now(), reader_id)


# --------------------------------------------------------------------------- #
# Records from other processes travel back as files in the scratch dir.


def dump_array(scratch: str, name: str, data: array[int]) -> None:
    """Write ``data`` atomically as ``scratch/name`` (never through the queue under test)."""
    path = os.path.join(scratch, name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        data.tofile(fh)
    os.replace(tmp, path)


def load_arrays(scratch: str, prefix: str) -> dict[str, array[int]]:
    """Read every ``prefix*`` record file written by :func:`dump_array`."""
    out: dict[str, array[int]] = {}
    for name in sorted(os.listdir(scratch)):
        if name.startswith(prefix) and not name.endswith(".tmp"):
            data = array("q")
            with open(os.path.join(scratch, name), "rb") as fh:
                data.frombytes(fh.read())
            out[name] = data
    return out


def writer_file(writer: int) -> str:
    return f"w-{writer}.bin"


def collect_files(trace: Trace, scratch: str) -> None:
    """Gather record files written by writer and reader processes into ``trace``."""
    for name, data in load_arrays(scratch, "w-").items():
        trace.enqueued[int(name[2:].split(".")[0])] = data
    for data in load_arrays(scratch, "r-").values():
        trace.add_reads(data)


# --------------------------------------------------------------------------- #
# Registry: name -> "module:callable", imported lazily.


@dataclass(frozen=True)
class Entry:
    name: str
    target: str
    summary: str
    family: str  # "process", "thread", "async" or "serial"
    requires: tuple[str, ...] = ()
    test_only: bool = False

    @property
    def uses_start_method(self) -> bool:
        return self.family == "process"

    def available(self) -> tuple[bool, str]:
        """Whether this strategy can run here, and if not, why."""
        for mod in self.requires:
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                return False, f"needs {mod} ({exc})"
        return True, ""

    def load(self) -> Strategy:
        module, _, attr = self.target.partition(":")
        fn: Strategy = getattr(importlib.import_module(module), attr)
        return fn


REGISTRY: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry(
            "seed-pool",
            "strategies.seed_pool:run",
            "The classic recipe: Process writers, Manager().Queue(), Pool.apply_async per item",
            "process",
        ),
        Entry(
            "manager-pool",
            "strategies.manager_pool:run",
            "Same parts as seed-pool, but `readers` long-lived pool tasks loop until a sentinel",
            "process",
        ),
        Entry(
            "mp-queue",
            "strategies.mp_queue:run",
            "Writer and reader Processes sharing one inherited multiprocessing.Queue",
            "process",
        ),
        Entry(
            "process-pool",
            "strategies.process_pool:run",
            "Writers feed an mp.Queue; a dispatcher submits each item to ProcessPoolExecutor",
            "process",
        ),
        Entry(
            "threads",
            "strategies.threads:run",
            "Writer threads, queue.Queue, ThreadPoolExecutor(readers) of looping readers",
            "thread",
        ),
        Entry(
            "asyncio",
            "strategies.asyncio_tasks:run",
            "Writer tasks, asyncio.Queue, `readers` reader tasks (cpu work blocks the loop)",
            "async",
        ),
        Entry(
            "sequential",
            "strategies.sequential:run",
            "No concurrency: each item made then consumed in turn; the floor to beat",
            "serial",
        ),
        # Test-only strategies: same registry, hidden from the default selection.
        Entry("test-hang", "strategies.testing:hang", "Never finishes (watchdog test)", "thread", test_only=True),
        Entry("test-crash", "strategies.testing:crash", "Raises mid-trial", "serial", test_only=True),
        Entry("test-lose", "strategies.testing:lose", "Drops one item (exactly-once test)", "serial", test_only=True),
        Entry("test-overlimit", "strategies.testing:overlimit", "Runs one reader too many", "thread", test_only=True),
        Entry("test-orphan", "strategies.testing:orphan", "Leaves a child process behind", "process", test_only=True),
        Entry(
            "test-slow",
            "strategies.testing:slow",
            "sequential with reader work x delay_factor",
            "serial",
            test_only=True,
        ),
    )
}


class UnknownStrategy(KeyError):
    def __str__(self) -> str:
        valid = ", ".join(n for n, e in REGISTRY.items() if not e.test_only)
        return f"unknown strategy {self.args[0]!r}; valid names: {valid}"


def get(name: str) -> Entry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownStrategy(name) from None


def default_names() -> list[str]:
    return [n for n, e in REGISTRY.items() if not e.test_only]
