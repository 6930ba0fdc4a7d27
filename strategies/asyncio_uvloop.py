"""asyncio-uvloop: the ``asyncio`` strategy on uvloop's event loop, one variable changed.

Same writer tasks, same asyncio.Queue, same ``readers`` reader tasks
(:mod:`strategies.asyncio_tasks`); only the loop differs. uvloop is imported when a
trial runs, so this module stays importable where uvloop is not installed (the
registry's ``requires`` says why the strategy is unavailable there).
"""

from __future__ import annotations

from strategies.asyncio_tasks import run_on
from strategies.base import Trace, Workload, WorkSpec

#: What it imports beyond the standard library: its registry entry's ``requires``.
requires = ("uvloop",)


def run(workload: Workload) -> Trace:
    import uvloop

    return run_on(workload, uvloop.new_event_loop)


def caveat(writer_work: WorkSpec, reader_work: WorkSpec) -> str:
    """Its registry entry's ``caveat``: io work that draws sleeps under 1 ms, which uvloop's
    timers (whole milliseconds, from a loop clock cached per iteration) do not keep: sleeps
    under ~0.5 ms return at once, the rest last about 1 ms (docs/findings.md measures it)."""
    short = [side for side, spec in (("writer", writer_work), ("reader", reader_work)) if _under_1ms(spec)]
    if not short:
        return ""
    return (
        f"{' and '.join(short)} io work draws sleeps under 1 ms, which uvloop does not keep (its timers "
        "count whole milliseconds: under ~0.5 ms a sleep returns at once), so items/s reads faster than "
        "the work asked for; see docs/findings.md, uvloop's sleeps"
    )


def _under_1ms(spec: WorkSpec) -> bool:
    if spec.kind != "io" or spec.ms <= 0:
        return False
    shortest = {"fixed": spec.ms, "uniform": spec.ms * (1 - spec.jitter)}.get(spec.dist, 0.0)  # exponential: ~0
    return shortest < 1.0
