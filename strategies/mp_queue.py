"""mp-queue: writer Processes and `readers` reader Processes sharing one multiprocessing.Queue."""

from __future__ import annotations

from strategies.base import Trace, Workload, now
from strategies.procs import Gate, context, join_all, read_until_sentinel, start_writers


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    q = ctx.Queue(maxsize=workload.queue_maxsize)
    gate = Gate(ctx)
    readers = [
        ctx.Process(target=read_until_sentinel, args=(q, workload, gate.ready), name=f"reader-{i}")  # type: ignore[attr-defined]
        for i in range(workload.readers)
    ]
    for p in readers:
        p.start()
    writers = start_writers(ctx, q, workload, gate)
    gate.open(workload.readers + workload.writers, trace)
    join_all(writers, trace)
    for _ in readers:
        q.put(None)
    join_all(readers, trace)
    trace.end = now()
    return trace
