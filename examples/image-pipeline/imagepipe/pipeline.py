"""The pipeline's own design, measured as a queuebench strategy: builds in threads, a
bounded queue, and a fixed number of push threads (at most ``workload.readers`` at once).

queuebench calls ``run(workload)`` and checks it like every built-in strategy:
``queuebench check imagepipe.pipeline:run``. ``WriterSide.make`` does the item's build (the
scenario's ``writer_work``) and ``ReaderSide.consume`` its push (``reader_work``); both stamp
the item, so queuebench can verify exactly-once delivery and the pool limit.
"""

from __future__ import annotations

import queue
import threading

from queuebench import ReaderSide, Trace, Workload, WriterSide, now, strategy


def _build_all(q: queue.Queue[object], side: WriterSide, errors: list[str]) -> None:
    try:
        for seq in range(side.n):
            q.put(side.make(seq))
            side.mark_enqueued(seq)
    except Exception as exc:
        errors.append(f"builder {side.writer}: {exc!r}")


def _push_all(q: queue.Queue[object], side: ReaderSide, errors: list[str]) -> None:
    while (item := q.get()) is not None:
        try:
            side.consume(item)  # type: ignore[arg-type]
        except Exception as exc:
            errors.append(f"pusher: {exc!r}")


@strategy(family="thread", summary="builds in threads, a bounded queue, `readers` push threads")
def run(workload: Workload) -> Trace:
    trace = Trace(setup_start=now())
    q: queue.Queue[object] = queue.Queue(maxsize=max(workload.queue_maxsize, 0))
    pushers = [
        threading.Thread(target=_push_all, args=(q, ReaderSide(workload), trace.errors))
        for _ in range(workload.readers)
    ]
    builders = [
        threading.Thread(target=_build_all, args=(q, WriterSide(workload, w), trace.errors))
        for w in range(workload.writers)
    ]
    for t in pushers:
        t.start()
    trace.start = now()
    for t in builders:
        t.start()
    for t in builders:
        t.join()
    for _ in pushers:
        q.put(None)
    for t in pushers:
        t.join()
    trace.end = now()
    return trace
