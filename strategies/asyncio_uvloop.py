"""asyncio-uvloop: the ``asyncio`` strategy on uvloop's event loop, one variable changed.

Same writer tasks, same asyncio.Queue, same ``readers`` reader tasks
(:mod:`strategies.asyncio_tasks`); only the loop differs. uvloop is imported when a
trial runs, so this module stays importable where uvloop is not installed (the
registry's ``requires`` says why the strategy is unavailable there).
"""

from __future__ import annotations

from strategies.asyncio_tasks import run_on
from strategies.base import Trace, Workload

#: What it imports beyond the standard library: its registry entry's ``requires``.
requires = ("uvloop",)


def run(workload: Workload) -> Trace:
    import uvloop

    return run_on(workload, uvloop.new_event_loop)
