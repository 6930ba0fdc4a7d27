"""asyncio: writer tasks, an asyncio.Queue, `readers` reader tasks.

``io`` work awaits; ``cpu`` work runs inline and blocks the event loop. That is
what asyncio does with CPU work, so it is measured, not worked around.

:func:`run_on` takes the event loop as a parameter (a loop factory), so a strategy
that changes only the loop (``asyncio-uvloop``) changes one variable and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from strategies.base import Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide


async def _write(q: asyncio.Queue[object], ws: WriterSide) -> None:
    if ws.kind.per_item:  # work told which item it makes (docker-build): awaited, see the kind
        for seq in range(ws.n):
            await q.put(await ws.amake_item(seq))
            ws.mark_enqueued(seq)
        return
    awaits = ws.kind.awaits and ws.busy  # work that awaits (io, service); cpu runs inline
    aperform = ws.kind.aprepare(ws.spec, ws.cal)
    for seq in range(ws.n):
        if awaits:
            ws.begin(seq)
            await aperform(ws.writer_durations[seq])
            item = ws.item(seq)
        else:  # no await in the work: the plain path, like the other strategies
            item = ws.make(seq)
        await q.put(item)
        ws.mark_enqueued(seq)


async def _read(q: asyncio.Queue[object], rs: ReaderSide) -> None:
    awaits = rs.kind.awaits or rs.faults is not None
    while (item := await q.get()) is not None:
        if awaits:
            await rs.aconsume(item)  # type: ignore[arg-type]
        else:
            rs.consume(item)  # type: ignore[arg-type]


async def _main(workload: Workload, trace: Trace) -> None:
    q: asyncio.Queue[object] = asyncio.Queue(maxsize=workload.queue_maxsize)
    readers = [ReaderSide(workload) for _ in range(workload.readers)]
    sides = [WriterSide(workload, w) for w in range(workload.writers)]
    reader_tasks = [asyncio.create_task(_read(q, rs)) for rs in readers]
    trace.start = now()
    results = await asyncio.gather(*(_write(q, ws) for ws in sides), return_exceptions=True)
    trace.errors.extend(f"writer: {r!r}" for r in results if isinstance(r, BaseException))
    for _ in readers:
        await q.put(None)
    for r in await asyncio.gather(*reader_tasks, return_exceptions=True):
        if isinstance(r, BaseException):
            trace.errors.append(f"reader: {r!r}")
    trace.end = now()


def run_on(workload: Workload, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None) -> Trace:
    """The trial on the event loop ``loop_factory`` makes (None: asyncio's default loop)."""
    trace = Trace(setup_start=now())
    if loop_factory is None:
        asyncio.run(_main(workload, trace))
    elif hasattr(asyncio, "Runner"):  # 3.11+
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_main(workload, trace))
    else:  # 3.10 has no Runner: the same steps by hand
        loop = loop_factory()
        try:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(_main(workload, trace))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    return trace


def run(workload: Workload) -> Trace:
    return run_on(workload, None)
