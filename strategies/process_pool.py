"""process-pool: concurrent.futures.ProcessPoolExecutor(max_workers=readers).

Writer Processes put onto a multiprocessing.Queue; the parent takes each item off
it and submits it to the executor, which bounds reader concurrency. The item (not
a queue proxy) is what each task ships.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor

from strategies import work
from strategies.base import Item, Trace, Workload, collect_files, consume_one, now
from strategies.procs import context, join_all, reader_id, start_writers


def reader(item: Item, spec: work.WorkSpec, cal: work.Calibration) -> tuple[int, ...]:
    return consume_one(item, spec, cal, reader_id())


def run(workload: Workload) -> Trace:
    ctx = context(workload)
    trace = Trace(setup_start=now())
    q = ctx.Queue(maxsize=workload.queue_maxsize)
    spec, cal = workload.reader_work, workload.calibration
    with ProcessPoolExecutor(max_workers=workload.readers, mp_context=ctx) as executor:
        trace.start = now()
        writers = start_writers(ctx, q, workload)
        futures: list[Future[tuple[int, ...]]] = [
            executor.submit(reader, q.get(), spec, cal) for _ in range(workload.total_items)
        ]
        for fut in futures:
            try:
                trace.add_reads(fut.result())
            except Exception as exc:
                trace.errors.append(f"reader task: {exc!r}")
        join_all(writers, trace)
    trace.end = now()
    collect_files(trace, workload.scratch)
    return trace
