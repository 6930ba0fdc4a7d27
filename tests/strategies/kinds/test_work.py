"""Work primitives: seeded durations, calibration, fixed-amount cpu work."""

from __future__ import annotations

import statistics

import pytest

from strategies import kinds
from strategies.base import WorkSpec
from strategies.kinds import cpu


def test_fixed_and_none_durations() -> None:
    assert kinds.durations(WorkSpec("io", 5), 1, "reader", 0, 3) == [0.005] * 3
    assert kinds.durations(WorkSpec(), 1, "reader", 0, 2) == [0.0, 0.0]


@pytest.mark.parametrize("dist", ["uniform", "exponential"])
def test_drawn_durations_are_seeded_and_centred(dist: str) -> None:
    spec = WorkSpec("io", 10, dist, jitter=0.5)
    a = kinds.durations(spec, 42, "reader", 3, 4000)
    assert a == kinds.durations(spec, 42, "reader", 3, 4000)  # same seed, same sequence
    assert a != kinds.durations(spec, 43, "reader", 3, 4000)
    assert a != kinds.durations(spec, 42, "reader", 4, 4000)
    assert statistics.fmean(a) == pytest.approx(0.010, rel=0.1)
    if dist == "uniform":
        assert min(a) >= 0.005 and max(a) <= 0.015


def test_calibration_and_units() -> None:
    cal = cpu.calibrate()
    assert cal.hold_per_ms > 0 and cal.release_per_ms > 0
    assert cpu.units(0.002, cal.hold_per_ms) == round(2 * cal.hold_per_ms)
    # release_per_ms is bytes per ms now (about 1e6): a vanishing duration still does 1 unit.
    assert cpu.units(1e-12, cal.release_per_ms) == 1
