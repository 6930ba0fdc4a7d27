"""seed-pool: the classic recipe, kept exactly as people write it. Do not "fix" it.

Writer ``Process``es put onto a ``Manager().Queue()``; a ``Pool(readers,
initializer=<ignore SIGINT>)`` gets one ``apply_async(reader)`` per item, and each
reader task does a single ``q.get()``. Every task ships a Manager proxy to a pool
worker, which reconnects to the manager: that per-item cost is what this measures.
"""

from __future__ import annotations

from typing import Any

from strategies.base import Trace, Workload, now, process_reader
from strategies.procs import Gate, arrive, context, ignore_sigint, join_all, start_writers, wait_results


def reader(q: Any, workload: Workload) -> None:
    process_reader(workload).consume(q.get())


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    manager = ctx.Manager()
    try:
        q = manager.Queue(maxsize=workload.queue_maxsize)
        pool = ctx.Pool(workload.readers, initializer=ignore_sigint)
        # Set-up only, not part of the recipe: wait until every pool worker is up.
        gate, barrier = Gate(ctx), manager.Barrier(workload.readers + 1)
        warm = [pool.apply_async(arrive, (barrier,)) for _ in range(workload.readers)]
        writers = start_writers(ctx, q, workload, gate)
        barrier.wait()
        wait_results(warm, trace)
        gate.open(workload.writers, trace)
        args = (q, workload)
        results = [pool.apply_async(reader, args) for _ in range(workload.total_items)]
        wait_results(results, trace)
        pool.close()
        pool.join()
        join_all(writers, trace)
        trace.end = now()
    finally:
        manager.shutdown()
    return trace
