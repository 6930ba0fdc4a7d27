"""threads: writer threads, a queue.Queue, a ThreadPoolExecutor of `readers` looping readers."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from strategies.base import Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide


def _write(q: queue.Queue[object], ws: WriterSide, errors: list[str]) -> None:
    try:
        for seq in range(ws.n):
            q.put(ws.make(seq))
            ws.mark_enqueued(seq)
    except BaseException as exc:  # a writer thread's death (even an injected one) is reported
        errors.append(f"writer {ws.writer}: {exc!r}")


def _read(q: queue.Queue[object], rs: ReaderSide) -> None:
    while (item := q.get()) is not None:
        rs.consume(item)  # type: ignore[arg-type]


def run(workload: Workload) -> Trace:
    trace = Trace(setup_start=now())
    q: queue.Queue[object] = queue.Queue(maxsize=workload.queue_maxsize)
    readers = [ReaderSide(workload) for _ in range(workload.readers)]
    sides = [WriterSide(workload, w) for w in range(workload.writers)]
    pool = ThreadPoolExecutor(max_workers=workload.readers, thread_name_prefix="reader")
    futures = [pool.submit(_read, q, rs) for rs in readers]
    threads = [threading.Thread(target=_write, args=(q, ws, trace.errors)) for ws in sides]
    trace.start = now()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in readers:
        q.put(None)
    for fut in futures:
        if (exc := fut.exception()) is not None:
            trace.errors.append(f"reader: {exc!r}")
    pool.shutdown()
    trace.end = now()
    return trace
