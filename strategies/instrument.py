"""Per-item instrumentation, identical on every strategy (standard library only).

:class:`WriterSide` makes a writer's items (its work, faults, stamps) and
:class:`ReaderSide` consumes them (the reader's work, faults, one record per item).
A strategy only moves items between them. The per-item methods are the cost every
strategy pays for being measured: keep them lean (``make bench`` measures them against
hand-written loops; attribute lookups and calls are most of the cost).
"""

from __future__ import annotations

import os
import time

from strategies import kinds, records
from strategies.base import Item, Workload, now
from strategies.faults import Injector

_pack_row = records.ROW.pack_into
_ROW_SIZE = records.ROW.size
_WRITER_WIDTH = records.WRITER_WIDTH
_CPU_FIELD = records.W_WORK_CPU
_UNKNOWN = records.UNKNOWN
_cpu_now = time.thread_time_ns


#: The folder of the scratch directory where a trial's processes name their roles.
ROLES = "roles"


def mark_role(workload: Workload, role: str, pid: int | None = None) -> None:
    """Say that process ``pid`` (this one by default) is a ``role`` (writer, reader, manager)
    of the trial, for the launcher's memory breakdown: an empty file ``roles/<pid>.<role>``.
    Once per process, never per item; the trial's main process is the worker already."""
    pid = pid or os.getpid()
    if pid == workload.main_pid or not workload.scratch:
        return
    folder = os.path.join(workload.scratch, ROLES)
    try:
        os.makedirs(folder, exist_ok=True)
        os.close(os.open(os.path.join(folder, f"{pid}.{role}"), os.O_CREAT | os.O_WRONLY, 0o644))
    except OSError:
        pass


def mark_manager(workload: Workload, manager: object) -> None:
    """Name a ``multiprocessing`` Manager's server process (its ``_process``) as the manager."""
    process = getattr(manager, "_process", None)
    if process is not None and getattr(process, "pid", None):
        mark_role(workload, "manager", process.pid)


def injector(workload: Workload) -> Injector | None:
    """What this process needs to apply the workload's faults (None: no faults)."""
    if workload.faults is None:
        return None
    return Injector(workload.faults, workload.scratch, workload.main_pid, workload.items_per_writer)


class WriterSide:
    """One writer's items: does the writer work, stamps, records enqueued stamps."""

    def __init__(self, workload: Workload, writer: int) -> None:
        self.writer = writer
        self.n = n = workload.items_per_writer
        self.payload = b"\0" * workload.payload_bytes
        self.spec = spec = workload.writer_work
        self.kind = kind = kinds.get(spec.kind)
        self.cal = workload.calibration
        self.writer_durations = kinds.durations(spec, workload.seed, "writer", writer, n)
        self.reader_durations = kinds.durations(workload.reader_work, workload.seed, "reader", writer, n)
        self.faults = injector(workload)
        self.busy = kind.timed and spec.ms > 0
        self.measure_cpu = kind.cpu_bound
        self._aperform_item: kinds.AItemPerform | None = None
        if kind.per_item:  # work that needs the item's identity: its own make(), others' is untouched
            self.perform_item = kind.prepare_item(spec, self.cal)
            self.make = self._make_item  # type: ignore[method-assign]
        else:
            self.perform = kind.prepare(spec, self.cal)
        self._stamps = records.WriterLog(workload.scratch, writer, n).stamps
        mark_role(workload, "writer")
        if self.faults is None and not self.busy and not kind.per_item:  # nothing but stamps (overhead)
            self.make = self.item  # type: ignore[method-assign]

    def begin(self, seq: int) -> None:
        """Before making item ``seq``: where an injected writer death strikes."""
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)

    def make(self, seq: int) -> Item:
        """Do the writer's work for item ``seq`` and return the item, stamped."""
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)
        if self.busy:
            if self.measure_cpu:
                c0 = _cpu_now()
                self.perform(self.writer_durations[seq])
                self._stamps[seq * _WRITER_WIDTH + _CPU_FIELD] = _cpu_now() - c0
            else:
                self.perform(self.writer_durations[seq])
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def _make_item(self, seq: int) -> Item:
        """make() for a ``per_item`` kind: its work is told which item it makes."""
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)
        self.perform_item(self.writer_durations[seq], self.writer, seq, self.payload)
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    async def amake_item(self, seq: int) -> Item:
        """_make_item() for a coroutine: the work is awaited (see the kind's aprepare_item)."""
        if self._aperform_item is None:
            self._aperform_item = self.kind.aprepare_item(self.spec, self.cal, self.perform_item)
        if self.faults is not None:
            self.faults.before_write(self.writer, seq)
        await self._aperform_item(self.writer_durations[seq], self.writer, seq, self.payload)
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def item(self, seq: int) -> Item:
        """Item ``seq`` stamped as produced now (its work was done by the caller)."""
        return (self.writer, seq, now(), self.reader_durations[seq], self.payload)

    def mark_enqueued(self, seq: int) -> None:
        self._stamps[seq * _WRITER_WIDTH] = now()


class ReaderSide:
    """One reader: does the reader work (faults included) and records each item."""

    def __init__(self, workload: Workload) -> None:
        self.spec = spec = workload.reader_work
        self.kind = kind = kinds.get(spec.kind)
        self.cal = workload.calibration
        log = records.RecordLog(workload.scratch, 2 * workload.total_items + 16)
        mark_role(workload, "reader")
        self.reader_id = log.reader
        self.faults = injector(workload)
        self.busy = kind.timed and spec.ms > 0
        self.measure_cpu = kind.cpu_bound
        self._aperform: kinds.APerform | None = None
        self._aperform_item: kinds.AItemPerform | None = None
        if kind.per_item:  # work that needs the item's identity: its own consume(), others' is untouched
            self.perform_item = kind.prepare_item(spec, self.cal)
            self.consume = self._consume_item  # type: ignore[method-assign]
            self.aconsume = self._aconsume_item  # type: ignore[method-assign]
        else:
            self.perform = kind.prepare(spec, self.cal)
        self._mm, self._off, self._end = log.mm, 0, log.end
        if self.faults is None and not self.busy and not self.measure_cpu and not kind.per_item:
            self.consume = self._consume_stamps_only  # type: ignore[method-assign]

    def _consume_stamps_only(self, item: Item) -> None:
        """consume() for items with no reader work and no faults: two stamps and a row."""
        dequeued = now()
        off = self._off
        if off >= self._end:
            raise OverflowError("record log full: more items read than exist")
        writer, seq, produced, _, _ = item
        _pack_row(self._mm, off, writer, seq, produced, _UNKNOWN, dequeued, now(), self.reader_id, _UNKNOWN)
        self._off = off + _ROW_SIZE

    def _record(self, item: Item, dequeued: int, cpu: int) -> None:
        off = self._off
        if off >= self._end:
            raise OverflowError("record log full: more items read than exist")
        _pack_row(self._mm, off, item[0], item[1], item[2], _UNKNOWN, dequeued, now(), self.reader_id, cpu)
        self._off = off + _ROW_SIZE

    def consume(self, item: Item) -> None:
        dequeued = now()
        seconds, sleep = item[3], False
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], seconds)
        cpu = _UNKNOWN
        if sleep:
            time.sleep(seconds)
        elif self.measure_cpu:
            c0 = _cpu_now()
            self.perform(seconds)
            cpu = _cpu_now() - c0
        elif self.busy:
            self.perform(seconds)
        off = self._off
        if off >= self._end:
            raise OverflowError("record log full: more items read than exist")
        _pack_row(self._mm, off, item[0], item[1], item[2], _UNKNOWN, dequeued, now(), self.reader_id, cpu)
        self._off = off + _ROW_SIZE

    async def aconsume(self, item: Item) -> None:
        """consume() for a coroutine: the work is awaited where its kind awaits."""
        import asyncio

        dequeued = now()
        seconds, sleep = item[3], False
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], seconds)
        cpu = _UNKNOWN
        if sleep:
            await asyncio.sleep(seconds)
        elif self.measure_cpu:
            c0 = _cpu_now()
            self.perform(seconds)  # CPU work never awaits: it runs inline, blocking the loop
            cpu = _cpu_now() - c0
        elif self.busy:
            if self._aperform is None:
                self._aperform = self.kind.aprepare(self.spec, self.cal)
            await self._aperform(seconds)
        self._record(item, dequeued, cpu)

    def _consume_item(self, item: Item) -> None:
        """consume() for a ``per_item`` kind: its work is told which item it consumes."""
        dequeued = now()
        seconds, sleep = item[3], False
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], seconds)
        if sleep:
            time.sleep(seconds)
        else:
            self.perform_item(seconds, item[0], item[1], item[4])
        self._record(item, dequeued, _UNKNOWN)

    async def _aconsume_item(self, item: Item) -> None:
        """_consume_item() for a coroutine: the work is awaited (see the kind's aprepare_item)."""
        import asyncio

        dequeued = now()
        seconds, sleep = item[3], False
        if self.faults is not None:
            seconds, sleep = self.faults.before_read(item[0], item[1], seconds)
        if sleep:
            await asyncio.sleep(seconds)
        else:
            if self._aperform_item is None:
                self._aperform_item = self.kind.aprepare_item(self.spec, self.cal, self.perform_item)
            await self._aperform_item(seconds, item[0], item[1], item[4])
        self._record(item, dequeued, _UNKNOWN)


_PROCESS_READER: dict[int, ReaderSide] = {}


def process_reader(workload: Workload) -> ReaderSide:
    """The reader of this process, for readers that run in processes of their own
    (reader processes, pool workers): one per process, reused by every task it runs.
    """
    pid = os.getpid()
    side = _PROCESS_READER.get(pid)
    if side is None:
        _PROCESS_READER.clear()  # forked from a parent that had one
        side = _PROCESS_READER[pid] = ReaderSide(workload)
    return side
