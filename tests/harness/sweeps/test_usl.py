"""The Universal Scalability Law fit: recovers a known peak within its interval, and refuses in
plain words where the law does not describe the numbers (flat, a cliff, a ceiling, no crosstalk)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from harness.sweeps import usl


def _synthetic(
    sigma: float, kappa: float, ns: list[int], repeats: int, noise: float, seed: int
) -> dict[int, list[float]]:
    rng = np.random.default_rng(seed)
    out = {}
    for n in ns:
        clean = usl.usl(np.full(repeats, float(n)), 30.0, sigma, kappa)
        out[n] = [float(v) for v in clean * (1 + noise * rng.standard_normal(repeats))]
    return out


@pytest.mark.parametrize(
    ("sigma", "kappa", "ns"),
    [(0.05, 0.10, list(range(1, 9))), (0.10, 0.05, [1, 2, 4, 8]), (0.02, 0.03, list(range(1, 9)))],
)
def test_the_interval_covers_the_true_peak_in_at_least_90_percent_of_seeded_cases(
    sigma: float, kappa: float, ns: list[int]
) -> None:
    true = usl.peak(sigma, kappa)
    covered = fitted = 0
    for seed in range(40):
        fit = usl.fit_points("threads", "readers", _synthetic(sigma, kappa, ns, 3, 0.05, seed), 3, seed)
        if fit.fitted:
            fitted += 1
            covered += fit.low <= true <= fit.high
    assert fitted >= 36  # with 5% noise the crosstalk is there to see
    assert covered >= 0.9 * fitted


def test_a_clean_curve_gives_its_parameters_and_one_line() -> None:
    fit = usl.fit_points("threads", "readers", _synthetic(0.02, 0.1, list(range(1, 9)), 3, 0.01, 1), 3)
    assert fit.fitted
    assert fit.sigma == pytest.approx(0.02, abs=0.02) and fit.kappa == pytest.approx(0.1, rel=0.15)
    assert fit.peak == pytest.approx(usl.peak(0.02, 0.1), rel=0.1) and fit.low <= fit.peak <= fit.high
    d = 2 if fit.high - fit.low < 0.2 else 1  # a narrow interval is said with two decimals
    assert fit.line().startswith(f"threads: USL: peak at {fit.peak:.{d}f} readers [{fit.low:.{d}f}, {fit.high:.{d}f}]")
    assert fit.line().endswith("measured best readers = 3")


def test_a_narrow_interval_is_said_with_two_decimals() -> None:
    """make bench-sweep's usl registry: N* 3.126 [3.119, 3.132] must not read as [3.1, 3.1]."""
    fitted = {"lam": 37.1, "sigma": 0.054, "kappa": 0.097, "rms": 0.002}
    fit = usl.Fit("threads", "readers", 3, peak=3.126, low=3.119, high=3.132, **fitted)
    assert "peak at 3.13 readers [3.12, 3.13]" in fit.line()
    wide = dataclasses.replace(fit, low=2.7, high=3.6)
    assert "peak at 3.1 readers [2.7, 3.6]" in wide.line()


def test_a_measured_best_outside_the_interval_is_said_to_overrule_the_law() -> None:
    """make bench-sweep's gentle registry as it was until 2026-12-07 (collapse with penalty 0.1: full
    speed up to its capacity 3, 10% slower a reader past it): the law fitted threads' full sweep
    with N* 4.3 [4.0, 4.7] and measured best 3. The line
    says the curve is not the law's shape and which to go by; a best inside is said as before."""
    fitted = {"lam": 36.1, "sigma": 0.0, "kappa": 0.047, "rms": 0.13}
    apart = usl.Fit("threads", "readers", 3, peak=4.3, low=4.0, high=4.7, **fitted)
    assert "outside the law's interval" in apart.line()
    assert apart.line().endswith("so go by the measured best")
    for best in (4, 5):
        assert (
            usl.Fit("threads", "readers", best, peak=4.3, low=4.0, high=4.7, **fitted)
            .line()
            .endswith(f"measured best readers = {best}")
        )
    unbounded = usl.Fit("threads", "readers", 8, peak=9.0, low=6.5, high=math.inf, **fitted)
    assert "outside" not in unbounded.line()


def test_a_peak_beyond_the_values_swept_asks_for_a_wider_sweep() -> None:
    """Still climbing at the largest value swept (crosstalk 0.005: N* 14 past readers 1..8): the
    law's interval lies above the measured best, which is the edge of the sweep, not a misfit."""
    fit = usl.fit_points("threads", "readers", _synthetic(0.0, 0.005, list(range(1, 9)), 3, 0.01, 2), 8)
    assert fit.fitted and fit.low > 8 and fit.largest == 8
    assert fit.line().endswith("the law puts the peak beyond it, so sweep further before picking")
    assert "not the law's shape" not in fit.line()


def _repeats(medians: list[float]) -> dict[int, list[float]]:
    return {n: [m * 0.98, m, m * 1.02] for n, m in enumerate(medians, start=1)}


@pytest.mark.parametrize(
    ("medians", "words"),
    [
        ([14.7, 14.7, 14.8, 14.6, 14.7, 14.7], "no fit: flat, every readers within 5% of the best"),
        ([10, 20, 30, 3, 3, 3, 3, 3], "a capacity cliff rather than gradual contention, so no peak estimate"),
        ([35, 70, 105, 105, 105, 105, 105, 105], "stays level beyond, a ceiling"),
        ([35.4, 69.6, 103, 80.4, 61, 48.6, 40.3, 34.7], "drops 22% at the next value, a capacity cliff"),
        ([10, 20, 30], "too few readers values passed (3)"),
    ],
)
def test_where_the_law_does_not_fit_it_says_so_in_words_and_gives_no_peak(medians: list[float], words: str) -> None:
    fit = usl.fit_points("threads", "readers", _repeats(medians), 3)
    assert not fit.fitted and math.isnan(fit.peak)
    assert words in fit.line() and "peak at" not in fit.line()


def test_amdahl_fits_as_well_so_there_is_no_peak_to_name() -> None:
    """No crosstalk (kappa = 0): the curve levels off and never turns down."""
    fit = usl.fit_points("threads", "readers", _synthetic(0.1, 0.0, list(range(1, 9)), 3, 0.02, 3), 8)
    assert not fit.fitted
    assert "no peak to name: throughput levels off towards" in fit.line() and "Amdahl" in fit.line()
