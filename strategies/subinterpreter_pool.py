"""subinterpreter-pool: concurrent.futures.InterpreterPoolExecutor(max_workers=readers) (3.14+).

Written against the documented Python 3.14 API; not run here (no 3.14 on this machine).

The interpreter-pool counterpart of ``process-pool``: writer threads put items onto a
``queue.Queue`` in the main interpreter; the main thread takes each item off it and
submits it to the executor, whose ``readers`` worker interpreters bound reader
concurrency. Each worker interpreter makes its own ``ReaderSide`` once, in the
executor's initializer (the workload crosses as JSON text), and reuses it for every item
it runs. The submitted callable and its item are pickled into the worker, as the 3.14
documentation says of ``InterpreterPoolExecutor.submit``. Worker interpreters start
lazily, so ``readers`` warm-up tasks hold every worker until all have said they are up
(an interpreter queue, ``concurrent.interpreters.create_queue``): then the start line.
"""

from __future__ import annotations

import json
import queue
import threading
from concurrent.futures import Future
from typing import Any

from strategies.base import Item, Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide

_SIDE: ReaderSide | None = None  # this worker interpreter's reader


def init_reader(workload_json: str) -> None:
    """The executor's initializer, run once in each worker interpreter."""
    global _SIDE
    _SIDE = ReaderSide(Workload.from_dict(json.loads(workload_json)))


def warm(ready: Any, go: Any) -> None:
    """Hold this worker until every worker is up: say so on ``ready``, wait on ``go``."""
    ready.put(1)
    go.get()


def read(item: Item) -> None:
    assert _SIDE is not None
    _SIDE.consume(item)


def _write(q: queue.Queue[object], ws: WriterSide, errors: list[str]) -> None:
    try:
        for seq in range(ws.n):
            q.put(ws.make(seq))
            ws.mark_enqueued(seq)
    except BaseException as exc:  # a writer thread's death (even an injected one) is reported
        errors.append(f"writer {ws.writer}: {exc!r}")
    finally:
        q.put(None)  # this writer is done: the dispatcher counts one None per writer


def _wait(futures: list[Future[None]], trace: Trace) -> None:
    for fut in futures:
        if (exc := fut.exception()) is not None:
            trace.errors.append(f"reader: {exc!r}")


def run(workload: Workload) -> Trace:
    from concurrent import interpreters  # type: ignore[attr-defined,unused-ignore]  # 3.14+
    from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined,unused-ignore]

    trace = Trace(setup_start=now())
    q: queue.Queue[object] = queue.Queue(maxsize=workload.queue_maxsize)
    ready, go = interpreters.create_queue(), interpreters.create_queue()
    spec = json.dumps(workload.to_dict())
    with InterpreterPoolExecutor(max_workers=workload.readers, initializer=init_reader, initargs=(spec,)) as executor:
        warming = [executor.submit(warm, ready, go) for _ in range(workload.readers)]
        for _ in range(workload.readers):
            ready.get()
        for _ in range(workload.readers):
            go.put(1)
        _wait(warming, trace)
        sides = [WriterSide(workload, w) for w in range(workload.writers)]
        writers = [threading.Thread(target=_write, args=(q, ws, trace.errors)) for ws in sides]
        trace.start = now()
        for t in writers:
            t.start()
        futures: list[Future[None]] = []
        done = 0
        while done < workload.writers:
            item = q.get()
            if item is None:
                done += 1
            else:
                futures.append(executor.submit(read, item))
        _wait(futures, trace)
        for t in writers:
            t.join()
    trace.end = now()
    return trace
