"""Record files (standard library only).

Every reader appends its records, and every writer its enqueued stamps, to a
memory-mapped file in the trial's scratch directory. Writes land in the kernel's
page cache as they happen, so what a reader or writer recorded survives its being
killed (by a fault, or by the watchdog with the whole trial): the harness counts
what was really consumed instead of losing a whole reader's history. Records
travel back in bulk through these files, never through the queue under test.

* ``r-<pid>-<reader>.bin``: rows of RECORD_FIELDS (``enqueued``
  left unknown: the harness joins it in from the writers' stamps).
* ``w-<writer>.bin``: one int64 enqueued stamp per item (0 = never put).
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array

ROW = struct.Struct("7q")
STAMP = struct.Struct("q")
#: Column of ``done`` in a row: never 0 once a row is written, so unwritten rows end the log.
DONE_COLUMN = 5


def _map(path: str, size: int) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, size)  # sparse: untouched pages cost nothing
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


class RecordLog:
    """Append-only int64 rows of RECORD_FIELDS in ``path``.

    No row count is kept (one fewer write per item): rows are written in order and
    ``done`` is never 0 in a written row, so the first all-zero row marks the end.
    """

    __slots__ = ("end", "mm", "off")

    def __init__(self, path: str, capacity: int) -> None:
        self.mm = _map(path, ROW.size * max(capacity, 1))
        self.off = 0
        self.end = len(self.mm)

    def extend(self, row: tuple[int, ...]) -> None:
        if self.off >= self.end:
            raise OverflowError("record log full: more items read than exist")
        ROW.pack_into(self.mm, self.off, *row)
        self.off += ROW.size


def read_log(path: str) -> array[int]:
    """The rows a RecordLog holds, as a flat int64 array (standard-library reader)."""
    out = array("q")
    with open(path, "rb") as fh:
        while len(row := fh.read(ROW.size)) == ROW.size:
            values = ROW.unpack(row)
            if values[DONE_COLUMN] == 0:
                break
            out.extend(values)
    return out


def reader_log(scratch: str, reader: int, capacity: int) -> RecordLog:
    return RecordLog(os.path.join(scratch, f"r-{os.getpid()}-{reader}.bin"), capacity)


class StampLog:
    """A writer's enqueued stamps, indexed by seq (0 until the put returned)."""

    __slots__ = ("mm",)

    def __init__(self, path: str, n: int) -> None:
        self.mm = _map(path, STAMP.size * max(n, 1))

    def __setitem__(self, seq: int, stamp: int) -> None:
        STAMP.pack_into(self.mm, seq * STAMP.size, stamp)


def writer_log(scratch: str, writer: int, n: int) -> StampLog:
    return StampLog(os.path.join(scratch, f"w-{writer}.bin"), n)
