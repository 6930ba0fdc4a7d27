"""The ``io`` work kind: waiting on something outside the process, modelled as a sleep.

Sync strategies ``time.sleep``; async ones ``await asyncio.sleep``. A sleep releases
the GIL and uses no CPU, so any strategy can overlap it up to its pool size.
"""

from __future__ import annotations

import time

from strategies.base import Calibration, WorkSpec
from strategies.kinds import APerform, Kind, Perform


class Sleep(Kind):
    name = "io"
    summary = "a sleep of `ms` (await asyncio.sleep in async strategies): I/O that needs no CPU"
    awaits = True

    def prepare(self, spec: WorkSpec, cal: Calibration) -> Perform:
        return time.sleep

    def aprepare(self, spec: WorkSpec, cal: Calibration) -> APerform:
        import asyncio

        return asyncio.sleep


KIND = Sleep()
