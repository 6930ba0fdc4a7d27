"""mp-queue: writer Processes and `readers` reader Processes sharing one multiprocessing.Queue."""

from __future__ import annotations

from typing import Any

from strategies.base import Trace, Workload, now, process_reader
from strategies.procs import context, join_all, start_writers


def read_items(q: Any, workload: Workload) -> None:
    rs = process_reader(workload)
    while (item := q.get()) is not None:
        rs.consume(item)


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    q = ctx.Queue(maxsize=workload.queue_maxsize)
    readers = [
        ctx.Process(target=read_items, args=(q, workload), name=f"reader-{i}")  # type: ignore[attr-defined]
        for i in range(workload.readers)
    ]
    for p in readers:
        p.start()
    trace.start = now()
    writers = start_writers(ctx, q, workload)
    join_all(writers, trace)
    for _ in readers:
        q.put(None)
    join_all(readers, trace)
    trace.end = now()
    return trace
