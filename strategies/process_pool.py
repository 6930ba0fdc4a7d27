"""process-pool: concurrent.futures.ProcessPoolExecutor(max_workers=readers).

Writer Processes put onto a multiprocessing.Queue; the parent takes each item off
it and submits it to the executor, which bounds reader concurrency. The item (not
a queue proxy) is what each task ships.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from strategies.base import Item, Trace, Workload, now
from strategies.instrument import process_reader
from strategies.procs import Gate, context, join_all, start_writers, wait_results

_WORKLOAD: Workload | None = None


def init_reader(workload: Workload, barrier: Any) -> None:
    """Executor initializer: hand each worker the workload once (not per item), then wait
    until every worker is up, so worker start-up stays out of the makespan."""
    global _WORKLOAD
    _WORKLOAD = workload
    barrier.wait()


def _noop() -> None:
    pass


def reader(item: Item) -> None:
    assert _WORKLOAD is not None
    process_reader(_WORKLOAD).consume(item)


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    q = ctx.Queue(maxsize=workload.queue_maxsize)
    gate, barrier = Gate(ctx), ctx.Barrier(workload.readers + 1)
    with ProcessPoolExecutor(
        max_workers=workload.readers, mp_context=ctx, initializer=init_reader, initargs=(workload, barrier)
    ) as executor:
        warm = [executor.submit(_noop) for _ in range(workload.readers)]  # the executor starts workers lazily
        writers = start_writers(ctx, q, workload, gate)
        barrier.wait()
        wait_results(warm, trace)
        gate.open(workload.writers, trace)
        futures: list[Future[None]] = []
        for left in range(workload.total_items, 0, -1):
            item = q.get()
            try:
                futures.append(executor.submit(reader, item))
            except BrokenProcessPool as exc:  # a worker died while items were still coming: the pool
                trace.errors.append(f"item {item[0]}/{item[1]} not submitted: {exc!r}")  # takes no more
                for _ in range(left - 1):  # the rest are lost; take them so no writer waits on a full queue
                    q.get()
                break
        wait_results(futures, trace)
        join_all(writers, trace)
    trace.end = now()
    return trace
