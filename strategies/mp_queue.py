"""mp-queue: writer Processes and `readers` reader Processes sharing one multiprocessing.Queue."""

from __future__ import annotations

from strategies.base import Trace, Workload, now
from strategies.procs import context, join_all, read_until_sentinel, start_writers


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    q = ctx.Queue(maxsize=workload.queue_maxsize)
    readers = [
        ctx.Process(target=read_until_sentinel, args=(q, workload), name=f"reader-{i}")  # type: ignore[attr-defined]
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
