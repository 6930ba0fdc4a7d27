"""Pieces shared by the process-based strategies (module-level, so spawn can pickle them)."""

from __future__ import annotations

import multiprocessing as mp
import signal
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from strategies.base import Trace, Workload, now
from strategies.instrument import WriterSide, process_reader


def context(workload: Workload) -> BaseContext:
    return mp.get_context(workload.start_method)


def ignore_sigint() -> None:
    """Pool initializer of the classic recipe: Ctrl+C goes to the parent only."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_POOL_WORKLOAD: Workload | None = None


def init_pool_reader(workload: Workload) -> None:
    """Pool initializer: the recipe's ``ignore_sigint``, plus the workload handed to each pool
    worker once (the instrumentation needs it), so tasks ship only what the recipe ships."""
    global _POOL_WORKLOAD
    _POOL_WORKLOAD = workload
    ignore_sigint()


def pool_workload() -> Workload:
    assert _POOL_WORKLOAD is not None, "pool worker started without init_pool_reader"
    return _POOL_WORKLOAD


class Gate:
    """The start line: the clock starts only once every writer and reader process is up.

    Process start-up (a fork, or a whole interpreter under spawn) is set-up, reported
    as ``setup_s``; it would otherwise swamp the makespan of every process strategy,
    and differently per start method. Processes signal ``ready``, writers then wait
    for ``go``. Shared with the processes at their creation (inheritance, spawn-safe).
    """

    def __init__(self, ctx: BaseContext) -> None:
        self.ready = ctx.Semaphore(0)
        self.go = ctx.Event()

    def open(self, processes: int, trace: Trace) -> None:
        """Wait for ``processes`` ready signals, stamp the start, release the writers."""
        for _ in range(processes):
            self.ready.acquire()
        trace.start = now()
        self.go.set()


def write_items(q: Any, workload: Workload, writer: int, gate: Gate) -> None:
    """Writer process body: once released, make every item and put it."""
    ws = WriterSide(workload, writer)
    gate.ready.release()
    gate.go.wait()
    for seq in range(ws.n):
        q.put(ws.make(seq))
        ws.mark_enqueued(seq)


def read_until_sentinel(q: Any, workload: Workload, ready: Any) -> None:
    """Reader body of a process of its own (or a long-lived pool task): loop until ``None``."""
    rs = process_reader(workload)
    ready.release()
    while (item := q.get()) is not None:
        rs.consume(item)


def wait_results(results: list[Any], trace: Trace) -> None:
    """Wait for every pool task (AsyncResult or Future); a task's exception is reported, not raised."""
    for r in results:
        try:
            r.get() if hasattr(r, "get") else r.result()
        except Exception as exc:
            trace.errors.append(f"reader task: {exc!r}")


def arrive(barrier: Any) -> None:
    """A warm-up pool task: returns once every pool worker (and the parent) is up."""
    barrier.wait()


def start_writers(ctx: BaseContext, q: Any, workload: Workload, gate: Gate) -> list[BaseProcess]:
    """Start the writer processes; they signal ``gate.ready`` and wait for ``gate.go``."""
    procs = [
        ctx.Process(target=write_items, args=(q, workload, w, gate), name=f"writer-{w}")  # type: ignore[attr-defined]
        for w in range(workload.writers)
    ]
    for p in procs:
        p.start()
    return procs


def join_all(procs: list[BaseProcess], trace: Trace) -> None:
    """Join processes and report any that did not exit cleanly."""
    for p in procs:
        p.join()
        if p.exitcode != 0:
            trace.errors.append(f"{p.name} (pid {p.pid}) exited with code {p.exitcode}")
