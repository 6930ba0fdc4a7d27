"""The per-item record files (strategies.records): the writer's stamps view and the layout the
harness reads agree."""

from __future__ import annotations

from pathlib import Path

from strategies import base, records
from strategies.instrument import WriterSide


def test_writer_stamps_land_where_the_struct_layout_reads_them(tmp_path: Path) -> None:
    """``WriterLog.stamps`` (a native int64 view, cheaper per item than ``STAMP.pack_into``) writes
    the very bytes :data:`records.WRITER_ROW` describes, at ``seq * WRITER_WIDTH + field``."""
    log = records.WriterLog(str(tmp_path), 0, 4)
    log.stamps[2 * records.WRITER_WIDTH + records.W_ENQUEUED] = 123_456_789_012
    log.stamps[3 * records.WRITER_WIDTH + records.W_WORK_CPU] = -1
    raw = Path(records.writer_file(str(tmp_path), 0)).read_bytes()
    rows = [records.WRITER_ROW.unpack_from(raw, i * records.WRITER_ROW.size) for i in range(4)]
    assert rows == [(0, 0), (0, 0), (123_456_789_012, 0), (0, -1)]


def test_mark_enqueued_stamps_the_item_after_its_production(tmp_path: Path) -> None:
    wl = base.Workload(1, 1, 3, payload_bytes=8, scratch=str(tmp_path))
    side = WriterSide(wl, 0)
    item = side.make(1)
    side.mark_enqueued(1)
    raw = Path(records.writer_file(str(tmp_path), 0)).read_bytes()
    enqueued = [records.WRITER_ROW.unpack_from(raw, i * records.WRITER_ROW.size)[records.W_ENQUEUED] for i in range(3)]
    assert enqueued[0] == enqueued[2] == 0 and enqueued[1] >= item[2] > 0
