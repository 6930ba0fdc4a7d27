"""The ``none`` work kind: nothing at all (the overhead scenario's items)."""

from __future__ import annotations

from strategies.base import Calibration, WorkSpec
from strategies.kinds import Kind, Perform


def _nothing(seconds: float) -> None:
    return None


class Nothing(Kind):
    name = "none"
    summary = "no work: measures the mechanism itself"
    timed = False

    def prepare(self, spec: WorkSpec, cal: Calibration) -> Perform:
        return _nothing


KIND = Nothing()
