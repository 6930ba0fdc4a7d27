"""Test-only strategies that misbehave on purpose. Registered, but never run by default.

They go through the same registry and worker as real strategies, so the harness's
watchdog, exactly-once checks and leftover-process detection are tested for real.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

from strategies import procs, sequential, threads
from strategies.base import Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide


def hang(workload: Workload) -> Trace:
    """Never returns: the watchdog must kill it at the trial timeout."""
    while True:
        time.sleep(3600)


def crash(workload: Workload) -> Trace:
    raise RuntimeError("test-crash: deliberate failure mid-trial")


def lose(workload: Workload) -> Trace:
    """sequential, but item 0 of writer 0 is never read: one item lost."""
    trace = Trace(setup_start=now())
    writers = [WriterSide(workload, w) for w in range(workload.writers)]
    reader = ReaderSide(workload)
    trace.start = now()
    for ws in writers:
        for seq in range(ws.n):
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            if (ws.writer, seq) != (0, 0):
                reader.consume(item)
    trace.end = now()
    return trace


def overlimit(workload: Workload) -> Trace:
    """threads with one reader more than the pool size allows."""
    return threads.run(dataclasses.replace(workload, readers=workload.readers + 1))


def orphan(workload: Workload) -> Trace:
    """sequential, leaving a sleeping child process behind on purpose."""
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    return sequential.run(workload)


def slow(workload: Workload) -> Trace:
    """sequential with reader work scaled by the ``delay_factor`` option (default 1.0)."""
    factor = workload.option("delay_factor", 1.0)
    spec = workload.reader_work
    return sequential.run(dataclasses.replace(workload, reader_work=dataclasses.replace(spec, ms=spec.ms * factor)))


def early(workload: Workload) -> Trace:
    """sequential, but every item is made and consumed before the start line is stamped."""
    trace = sequential.run(workload)
    trace.start = trace.end
    return trace


def nostart(workload: Workload) -> Trace:
    """sequential that never stamps the start line."""
    trace = sequential.run(workload)
    trace.start = 0
    return trace


def _exit_one() -> None:
    sys.exit(1)


def writer_exit(workload: Workload) -> Trace:
    """sequential, plus a writer process that exits with code 1 (reported by join_all)."""
    ctx = procs.context(workload)
    p = ctx.Process(target=_exit_one, name="writer-x")  # type: ignore[attr-defined]
    p.start()
    trace = sequential.run(workload)
    procs.join_all([p], trace)
    return trace
