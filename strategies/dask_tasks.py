"""dask: readers as Dask tasks on a cluster started for the trial, items through a Dask Queue.

A loopback-only ``LocalCluster`` of ``readers`` single-threaded worker processes is
started for the trial (its start-up is set-up, before the start line, and its shut-down
is teardown). Each worker holds the resource ``reader = 1`` and each reader task asks for
it, so the scheduler itself bounds reader concurrency to ``readers``: a bound it enforces,
with no lease to time out. (A ``distributed.Semaphore`` is the other way to bound tasks;
its own documentation warns that leases can be overbooked when they time out, and a
semaphore re-created by name inside a task silently becomes a new one, so it is not used.)

Each reader task loops on ``distributed.Queue.get`` until a sentinel. Writers are threads
in the trial's main process putting onto the same queue through the client. Every item
travels through the scheduler (``distributed.Queue`` routes all data through it; Dask
marks it experimental): that cost is what this strategy measures.

``distributed`` is imported lazily; the strategy is available only where it imports.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from strategies.base import Item, Trace, Workload, now
from strategies.instrument import WriterSide, process_reader

#: The worker resource a reader task takes: one per worker process.
RESOURCE = "reader"
#: Imported lazily, only inside this module's functions (its registry Entry says the same).
requires = ("distributed",)


def reader(queue_name: str, ready_name: str, workload: dict[str, Any]) -> int:
    """A reader task on a Dask worker: signal ready, consume items until ``None``."""
    from distributed import Queue

    side = process_reader(Workload.from_dict(workload))
    items, ready = Queue(queue_name), Queue(ready_name)
    ready.put(1)
    consumed = 0
    while (item := items.get()) is not None:
        side.consume(tuple(item))
        consumed += 1
    return consumed


def _write(items: Any, ws: WriterSide, errors: list[str]) -> None:
    try:
        for seq in range(ws.n):
            item: Item = ws.make(seq)
            items.put(item)
            ws.mark_enqueued(seq)
    except BaseException as exc:  # a writer thread's death (even an injected one) is reported
        errors.append(f"writer {ws.writer}: {exc!r}")


def run(workload: Workload) -> Trace:
    from distributed import Client, LocalCluster, Queue

    trace = Trace(setup_start=now())
    cluster = LocalCluster(
        n_workers=workload.readers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        resources={RESOURCE: 1},
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            tag = uuid.uuid4().hex[:12]
            items = Queue(f"qb-items-{tag}", client=client, maxsize=workload.queue_maxsize)
            ready = Queue(f"qb-ready-{tag}", client=client)
            futures = [
                client.submit(reader, items.name, ready.name, workload.to_dict(), resources={RESOURCE: 1}, pure=False)
                for _ in range(workload.readers)
            ]
            sides = [WriterSide(workload, w) for w in range(workload.writers)]
            for _ in futures:  # every reader task running on its worker: the start line
                ready.get()
            trace.start = now()
            threads = [threading.Thread(target=_write, args=(items, ws, trace.errors)) for ws in sides]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for _ in futures:
                items.put(None)
            for fut in futures:
                try:
                    fut.result()
                except Exception as exc:
                    trace.errors.append(f"reader task: {exc!r}")
            trace.end = now()
    finally:
        cluster.close()
    return trace
