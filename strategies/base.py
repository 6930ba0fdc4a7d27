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

import asyncio
import importlib
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from strategies import records, work
from strategies.faults import FaultSpec, Injector

now = time.perf_counter_ns

#: Field order of one per-item record (all int64, perf_counter_ns stamps).
RECORD_FIELDS = ("writer", "seq", "produced", "enqueued", "dequeued", "done", "reader")
RECORD_WIDTH = len(RECORD_FIELDS)
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
    #: Faults to inject (None: none), and the trial's main process, set by the worker.
    faults: FaultSpec | None = None
    main_pid: int = 0

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
        data["faults"] = FaultSpec.from_dict(data.get("faults"))
        return cls(**data)

    def injector(self) -> Injector | None:
        if self.faults is None:
            return None
        return Injector(self.faults, self.scratch, self.main_pid, self.items_per_writer)


@dataclass
class Trace:
    """What a strategy hands back: trial-level facts. Per-item records go to files
    (strategies.records), so they survive any reader or writer being killed."""

    #: Stamps of the trial phases: setup starts, writers released, all joined.
    setup_start: int = 0
    start: int = 0
    end: int = 0
    errors: list[str] = field(default_factory=list)


class Strategy(Protocol):
    """A strategy is any callable taking a Workload and returning a Trace."""

    def __call__(self, workload: Workload) -> Trace: ...


# --------------------------------------------------------------------------- #
# Shared instrumentation: identical on every strategy.


_pack_row = records.ROW.pack_into
_pack_stamp = records.STAMP.pack_into
_ROW_SIZE = records.ROW.size


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
        self.faults = workload.injector()
        self.busy = self.spec.kind != "none"
        self._stamps = records.writer_log(workload.scratch, writer, n).mm

    # The per-item methods are the instrumentation every strategy pays: keep them lean
    # (measured by `make bench`: attribute lookups and calls are most of the cost).

    def begin(self, seq: int) -> None:
        """Before making item ``seq``: where an injected writer death strikes."""
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)

    def make(self, seq: int) -> Item:
        """Do the writer's work for item ``seq`` and return the item, stamped."""
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)
        if self.busy:
            work.perform(self.spec, self.cal, self.writer_durations[seq])
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def item(self, seq: int) -> Item:
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def mark_enqueued(self, seq: int) -> None:
        _pack_stamp(self._stamps, seq << 3, now())


class ReaderSide:
    """One reader's bookkeeping: does the reader work (faults included) and keeps the records."""

    def __init__(self, workload: Workload, reader_id: int) -> None:
        self.reader_id = reader_id
        self.spec = workload.reader_work
        self.cal = workload.calibration
        self.reads = log = records.reader_log(workload.scratch, reader_id, 2 * workload.total_items + 16)
        self.faults = workload.injector()
        self.busy = self.spec.kind != "none"
        self._mm, self._off, self._end = log.mm, 0, log.end

    def consume(self, item: Item) -> None:
        dequeued = now()
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], item[3])
            if sleep:
                time.sleep(seconds)
            else:
                work.perform(self.spec, self.cal, seconds)
        elif self.busy:
            work.perform(self.spec, self.cal, item[3])
        off = self._off
        if off >= self._end:
            raise OverflowError("record log full: more items read than exist")
        _pack_row(self._mm, off, item[0], item[1], item[2], UNKNOWN, dequeued, now(), self.reader_id)
        self._off = off + _ROW_SIZE

    async def aconsume(self, item: Item) -> None:
        dequeued = now()
        seconds, sleep = item[3], False
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], seconds)
        if sleep:
            await asyncio.sleep(seconds)
        else:
            await work.aperform(self.spec, self.cal, seconds)
        off = self._off
        if off >= self._end:
            raise OverflowError("record log full: more items read than exist")
        _pack_row(self._mm, off, item[0], item[1], item[2], UNKNOWN, dequeued, now(), self.reader_id)
        self._off = off + _ROW_SIZE


_PROCESS_READER: dict[int, ReaderSide] = {}


def process_reader(workload: Workload) -> ReaderSide:
    """The reader of this process, for readers that run in processes of their own
    (reader processes, pool workers): one per process, reused by every task it runs.
    """
    pid = os.getpid()
    side = _PROCESS_READER.get(pid)
    if side is None:
        _PROCESS_READER.clear()  # forked from a parent that had one
        side = _PROCESS_READER[pid] = ReaderSide(workload, pid)
    return side


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
