"""The per-item record layout, in one home (standard library only).

Every reader appends one row per item it consumed, and every writer one row per item
it put, to a memory-mapped file in the trial's scratch directory. Writes land in the
kernel's page cache as they happen, so what a reader or writer recorded survives its
being killed (by a fault, or by the watchdog with the whole trial): the harness counts
what was really consumed instead of losing a whole reader's history. Records travel
back in bulk through these files, never through the queue under test.

* ``r-<id>.bin``: rows of :data:`FIELDS`, one per consumed item (``enqueued`` left
  unknown: the harness joins it in from the writers' rows). ``<id>`` is the reader's
  id, taken by creating the file exclusively: unique within a trial whatever runs the
  reader (a thread, a task, a process, a pool worker, a subinterpreter).
* ``w-<writer>.bin``: rows of :data:`WRITER_FIELDS`, indexed by ``seq``
  (``enqueued`` 0 = never put).

The harness side (``harness.running.launchers.collect``) reads these files with numpy using the
same constants, so the layout is defined here and nowhere else.
"""

from __future__ import annotations

import mmap
import os
import struct

#: One reader row, all int64. Stamps are ``time.perf_counter_ns()``; ``work_cpu`` is the
#: CPU time (ns, the reader thread's clock) of the item's work where its kind is CPU-bound,
#: else :data:`UNKNOWN`.
FIELDS = ("writer", "seq", "produced", "enqueued", "dequeued", "done", "reader", "work_cpu")
WIDTH = len(FIELDS)
WRITER, SEQ, PRODUCED, ENQUEUED, DEQUEUED, DONE, READER, WORK_CPU = range(WIDTH)
#: One writer row per item, indexed by seq: when its put returned, and its work's CPU time.
WRITER_FIELDS = ("enqueued", "work_cpu")
WRITER_WIDTH = len(WRITER_FIELDS)
W_ENQUEUED, W_WORK_CPU = range(WRITER_WIDTH)

ROW = struct.Struct(f"{WIDTH}q")
WRITER_ROW = struct.Struct(f"{WRITER_WIDTH}q")
#: One int64, for writing a single field of a row in place.
STAMP = struct.Struct("q")
#: A field not known (e.g. ``enqueued`` of an item whose put never returned).
UNKNOWN = -1

READER_PREFIX = "r-"
WRITER_PREFIX = "w-"
SUFFIX = ".bin"


def reader_file(scratch: str, reader: int) -> str:
    return os.path.join(scratch, f"{READER_PREFIX}{reader}{SUFFIX}")


def writer_file(scratch: str, writer: int) -> str:
    return os.path.join(scratch, f"{WRITER_PREFIX}{writer}{SUFFIX}")


def _map(fd: int, size: int) -> mmap.mmap:
    try:
        os.ftruncate(fd, size)  # sparse: untouched pages cost nothing
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def _claim_reader_id(scratch: str) -> tuple[int, int]:
    """The lowest free reader id, claimed by creating its file exclusively: (id, fd)."""
    taken = sum(1 for name in os.listdir(scratch) if name.startswith(READER_PREFIX))
    reader = taken  # ids are dense, so the count is the likely first free one
    while True:
        try:
            return reader, os.open(reader_file(scratch, reader), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            reader += 1


class RecordLog:
    """A reader's append-only rows of :data:`FIELDS`.

    No row count is kept (one fewer write per item): rows are written in order and
    ``done`` is never 0 in a written row, so the first all-zero row marks the end.
    """

    __slots__ = ("end", "mm", "reader")

    def __init__(self, scratch: str, capacity: int) -> None:
        self.reader, fd = _claim_reader_id(scratch)
        self.mm = _map(fd, ROW.size * max(capacity, 1))
        self.end = len(self.mm)


class WriterLog:
    """A writer's rows of :data:`WRITER_FIELDS`, indexed by seq (all 0 until written)."""

    __slots__ = ("mm", "stamps")

    def __init__(self, scratch: str, writer: int, n: int) -> None:
        fd = os.open(writer_file(scratch, writer), os.O_RDWR | os.O_CREAT, 0o644)
        self.mm = _map(fd, WRITER_ROW.size * max(n, 1))
        #: The same bytes as native int64s (:data:`STAMP`'s layout): field ``f`` of item ``seq`` is
        #: ``stamps[seq * WRITER_WIDTH + f]``. Storing an int there costs about a third of
        #: ``STAMP.pack_into`` (``make bench``'s stamping row), and it is paid once per item.
        self.stamps = memoryview(self.mm).cast("q")
