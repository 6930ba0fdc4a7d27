"""seed-pool: the classic recipe, kept exactly as people write it. Do not "fix" it.

Writer ``Process``es put onto a ``Manager().Queue()``; a ``Pool(readers,
initializer=<ignore SIGINT>)`` gets one ``apply_async(reader)`` per item, and each
reader task does a single ``q.get()``. Every task ships a Manager proxy to a pool
worker, which reconnects to the manager: that per-item cost is what this measures.
"""

from __future__ import annotations

from typing import Any

from strategies import instrument
from strategies.base import Trace, Workload, now
from strategies.instrument import process_reader
from strategies.procs import (
    Gate,
    arrive,
    context,
    init_pool_reader,
    join_all,
    pool_workload,
    start_writers,
    wait_results,
)


def reader(q: Any) -> None:
    """One task per item: take one item off the Manager queue and consume it."""
    process_reader(pool_workload()).consume(q.get())


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    manager = ctx.Manager()
    instrument.mark_manager(workload, manager)
    try:
        q = manager.Queue(maxsize=workload.queue_maxsize)
        pool = ctx.Pool(workload.readers, initializer=init_pool_reader, initargs=(workload,))
        # Set-up only, not part of the recipe: wait until every pool worker is up.
        gate, barrier = Gate(ctx), manager.Barrier(workload.readers + 1)
        warm = [pool.apply_async(arrive, (barrier,)) for _ in range(workload.readers)]
        writers = start_writers(ctx, q, workload, gate)
        barrier.wait()
        wait_results(warm, trace)
        gate.open(workload.writers, trace)
        args = (q,)  # what the recipe ships per task: the queue proxy
        results = [pool.apply_async(reader, args) for _ in range(workload.total_items)]
        wait_results(results, trace)
        pool.close()
        pool.join()
        join_all(writers, trace)
        trace.end = now()
    finally:
        manager.shutdown()
    return trace
