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

Every wait on the cluster before the start line has a deadline, so a cluster that cannot
start is an error naming what did not come, not a hung trial: each worker's start (its
nanny's ``death_timeout``), the client's connect, and each reader task's start (a task no
worker takes). The deadline is ``QUEUEBENCH_DASK_TIMEOUT`` seconds (``--dask-timeout``; default
:data:`DEFAULT_TIMEOUT_S`), times the rounds of workers this machine's cores start at once.
The waits after the start line (writers' puts on a full queue, readers' ends) are the
pipeline itself; the trial's watchdog bounds them.

``distributed`` is imported lazily; the strategy is available only where it imports.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from typing import Any

from strategies.base import Item, Trace, Workload, now
from strategies.instrument import WriterSide, process_reader

#: The worker resource a reader task takes: one per worker process.
RESOURCE = "reader"
#: Imported lazily, only inside this module's functions (its registry Entry says the same).
requires = ("distributed",)
#: Seconds a wait on the cluster may take when QUEUEBENCH_DASK_TIMEOUT does not say.
DEFAULT_TIMEOUT_S = 10.0


def deadline_s(readers: int) -> float:
    """The deadline of each wait: QUEUEBENCH_DASK_TIMEOUT (or the default) per round of worker
    starts, ``readers`` workers starting ``os.cpu_count()`` at a time."""
    try:
        base = float(os.environ.get("QUEUEBENCH_DASK_TIMEOUT", ""))
    except ValueError:
        base = DEFAULT_TIMEOUT_S
    if not base > 0 or math.isinf(base):
        base = DEFAULT_TIMEOUT_S
    return base * max(1, math.ceil(readers / (os.cpu_count() or 1)))


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


def _why(exc: BaseException, seconds: float, started_ns: int) -> str:
    """Why a cluster did not start, in one line: its reason and cause, or the deadline it ran past."""
    if isinstance(exc, TimeoutError) or now() - started_ns >= seconds * 1e9:
        return f"did not start within {seconds:g} s (QUEUEBENCH_DASK_TIMEOUT)"
    why = " ".join(str(exc).split()) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip() and str(cause).strip() not in why:
        why += f" ({type(cause).__name__}: {' '.join(str(cause).split())})"
    return f"could not start: {why}"


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
    seconds = deadline_s(workload.readers)
    try:
        cluster = LocalCluster(
            n_workers=workload.readers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # 8787 may be taken
            resources={RESOURCE: 1},
            silence_logs=logging.ERROR,
            death_timeout=seconds,  # a worker that does not start is given up on, not waited for
        )
    except Exception as exc:  # a worker that failed or did not start in time, said as distributed says it
        raise RuntimeError(
            f"the dask strategy's cluster of {workload.readers} worker(s) {_why(exc, seconds, trace.setup_start)}"
        ) from exc
    try:
        with Client(cluster, timeout=seconds) as client:
            tag = uuid.uuid4().hex[:12]
            items = Queue(f"qb-items-{tag}", client=client, maxsize=workload.queue_maxsize)
            ready = Queue(f"qb-ready-{tag}", client=client)
            futures = [
                client.submit(reader, items.name, ready.name, workload.to_dict(), resources={RESOURCE: 1}, pure=False)
                for _ in range(workload.readers)
            ]
            sides = [WriterSide(workload, w) for w in range(workload.writers)]
            for _ in futures:  # every reader task running on its worker: the start line
                try:
                    ready.get(timeout=seconds)
                except TimeoutError:
                    raise TimeoutError(f"a reader task did not start on the cluster within {seconds:g} s") from None
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
