"""manager-pool: seed-pool's parts, with one change: `readers` long-lived pool tasks.

Each task loops on ``q.get()`` until a sentinel instead of one task per item, so a
Manager proxy is shipped once per reader rather than once per item.
"""

from __future__ import annotations

from strategies import instrument
from strategies.base import Trace, Workload, now
from strategies.procs import (
    Gate,
    context,
    init_pool_reader,
    join_all,
    read_until_sentinel,
    start_writers,
    wait_results,
)


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    manager = ctx.Manager()
    instrument.mark_manager(workload, manager)
    try:
        q = manager.Queue(maxsize=workload.queue_maxsize)
        pool = ctx.Pool(workload.readers, initializer=init_pool_reader, initargs=(workload,))
        gate, ready = Gate(ctx), manager.Semaphore(0)
        results = [pool.apply_async(read_until_sentinel, (q, workload, ready)) for _ in range(workload.readers)]
        writers = start_writers(ctx, q, workload, gate)
        for _ in results:  # every reader task running in its own pool worker
            ready.acquire()
        gate.open(workload.writers, trace)
        join_all(writers, trace)
        for _ in results:
            q.put(None)
        wait_results(results, trace)
        pool.close()
        pool.join()
        trace.end = now()
    finally:
        manager.shutdown()
    return trace
