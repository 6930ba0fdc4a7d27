"""sequential: no concurrency at all; the floor every other strategy is measured against."""

from __future__ import annotations

from strategies.base import Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide


def run(workload: Workload) -> Trace:
    trace = Trace(setup_start=now())
    writers = [WriterSide(workload, w) for w in range(workload.writers)]
    reader = ReaderSide(workload)
    trace.start = now()
    # Round-robin over writers, as concurrent writers would interleave.
    for seq in range(workload.items_per_writer):
        for ws in writers:
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            reader.consume(item)
    trace.end = now()
    return trace
