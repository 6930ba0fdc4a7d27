"""The Universal Scalability Law fitted to a sweep over the pool size, with N*'s interval.

    C(N) = λN / (1 + σ(N − 1) + κN(N − 1)),    peak at N* = √((1 − σ) / κ)

λ is one reader's rate, σ contention (the serial share: queueing for one thing), κ crosstalk
(coherency: every reader paying for every other). Fitted to every passing repeat, each weighted
by its own size (a relative error: a 10% miss counts the same at 10 and at 100 items/s). N*'s interval is a
bootstrap over the repeats: each repeat's relative residual from the fit, resampled with
replacement and laid back on the fitted curve (pooled over every point, as 1–3 repeats a point
are too few to resample on their own), refitted :data:`BOOTSTRAP` times; the interval is the
central :data:`LEVEL` of the refitted N*. The fit itself is on the law's quadratic form
N/C(N) = a + dN + cN(N − 1), the classic linearisation, by non-negative least squares
(:func:`scipy.optimize.nnls`: fast enough to refit hundreds of times, and the bounds λ > 0,
0 ≤ σ ≤ 1, κ ≥ 0 hold by construction), each repeat weighted to its relative error.

Where the model does not describe the numbers it says so in words and gives no N*:

* fewer than :data:`MIN_POINTS` pool sizes passed (three parameters need more points);
* the line is flat (every pool size within 5% of the best): nothing scales, nothing to fit;
* the curve misses the points' medians by more than :data:`MISFIT` (RMS, relative) and more
  than twice the repeats' own scatter: a shape the smooth law cannot take, such as a hard
  capacity cliff (throughput rises in a straight line, then drops);
* Amdahl's law (the USL with κ = 0: no retrograde, throughput levels off) fits as well, by an
  F-test of the nested models at p > 0.05: then there is no peak to name, only a ceiling λ/σ.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from harness.rundir.model import Run
from harness.sweeps.findings import KNEE, Finding, point_samples

MIN_POINTS = 4
#: The misfit refused where the repeats' scatter is unknown (one repeat a point), RMS relative ...
MISFIT = 0.10
#: ... and where it is known: over this and over twice that scatter.
MISFIT_KNOWN = 0.05
BOOTSTRAP = 400
LEVEL = 0.95
#: A refitted N* beyond this counts as "no peak" (the curve never turns down).
UNBOUNDED = 1e9
#: The F-test's level for "the crosstalk term is needed" (USL against Amdahl).
ALPHA = 0.05


@dataclass(frozen=True)
class Fit:
    """A strategy's USL fit, or why there is none (``refusal``: the plain words said instead)."""

    label: str
    param: str
    measured_best: int
    refusal: str = ""
    lam: float = math.nan  # one reader's rate, items/s
    sigma: float = math.nan  # contention
    kappa: float = math.nan  # crosstalk
    peak: float = math.nan  # N*
    low: float = math.nan  # N*'s interval
    high: float = math.nan
    rms: float = math.nan  # the fit's RMS relative miss of the points' medians
    amdahl_p: float = math.nan  # the F-test's p for "Amdahl (kappa = 0) fits as well"
    largest: int = 0  # the largest value measured (0: not known)

    @property
    def fitted(self) -> bool:
        return not self.refusal

    def line(self) -> str:
        if self.refusal:
            return f"{self.label}: USL: {self.refusal}; measured best {self.param} = {self.measured_best}"
        d = interval_digits(self.low, self.high)
        return (
            f"{self.label}: USL: peak at {self.peak:.{d}f} {self.param} [{self.low:.{d}f}, {bound(self.high, d)}] "
            f"({LEVEL:.0%} bootstrap interval); one reader {self.lam:.3g} items/s, contention {self.sigma:.2f}, "
            f"crosstalk {self.kappa:.3f}; the curve misses the medians by {self.rms:.0%} RMS; "
            f"measured best {self.param} = {self.measured_best}{self._apart()}"
        )

    def _apart(self) -> str:
        """Said when the measured best lies outside the integers around N*'s interval: the law's
        smooth peak then misplaces this curve's (full speed up to a capacity and a gradual fall
        beyond it peaks at the capacity, while the law's peak lands past it)."""
        if math.floor(self.low) <= self.measured_best <= math.ceil(min(self.high, UNBOUNDED)):
            return ""
        if self.measured_best == self.largest and self.low > self.largest:
            return (
                f", the largest {self.param} measured: the law puts the peak beyond it, so sweep further before picking"
            )
        return (
            ", outside the law's interval: the measured curve is not the law's shape (it may run at full "
            "speed up to a capacity and fall off gradually past it, which peaks at the capacity), so go by "
            "the measured best"
        )

    def curve(self, n: np.ndarray) -> np.ndarray:
        return usl(n, self.lam, self.sigma, self.kappa)


def interval_digits(low: float, high: float) -> int:
    """Decimals to show an interval with: two for a narrow one, which must not read as [3.1, 3.1]."""
    return 2 if high - low < 0.2 else 1


def bound(v: float, digits: int = 1) -> str:
    """An interval's end for people: one decimal (or ``digits``), or ∞ where the law's curve never turns down."""
    return f"{v:.{digits}f}" if math.isfinite(v) else "∞"


def usl(n: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    return np.asarray(lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)), dtype=float)


def amdahl(n: np.ndarray, lam: float, sigma: float) -> np.ndarray:
    return usl(n, lam, sigma, 0.0)


def peak(sigma: float, kappa: float) -> float:
    """N* = √((1 − σ) / κ); infinite without crosstalk (the curve never turns down)."""
    return math.sqrt(max(1 - sigma, 0.0) / kappa) if kappa > 1e-12 else math.inf


def _fit(x: np.ndarray, y: np.ndarray, amdahl_only: bool = False) -> np.ndarray | None:
    """(λ, σ, κ) by least squares on the law's own quadratic form, N/C = a + dN + cN(N − 1) with
    a, d, c >= 0 (λ = 1/(a + d), σ = dλ, κ = cλ: so λ > 0, 0 <= σ <= 1 and κ >= 0), each row
    weighted by its size (relative errors); Amdahl's law is c = 0. None where it is degenerate."""
    from scipy.optimize import nnls

    columns = [np.ones_like(x), x] if amdahl_only else [np.ones_like(x), x, x * (x - 1)]
    weight = y / x  # N/C's relative error: divide each row by its own N/C
    design = np.stack(columns, axis=1) * weight[:, None]
    try:
        coef, _ = nnls(design, np.ones_like(x))
    except (RuntimeError, ValueError):
        return None
    a, d = float(coef[0]), float(coef[1])
    c = 0.0 if amdahl_only else float(coef[2])
    if a + d <= 0:
        return None
    lam = 1 / (a + d)
    out = [lam, d * lam] if amdahl_only else [lam, d * lam, c * lam]
    return np.array(out, dtype=float)


def fit_points(label: str, param: str, samples: dict[int, list[float]], measured_best: int, seed: int = 0) -> Fit:
    """The fit of one line's samples (pool size -> its passing repeats' items/s)."""
    from scipy.stats import f as f_dist

    known = {n: [v for v in vs if math.isfinite(v) and v > 0] for n, vs in samples.items() if n >= 1}
    known = {n: vs for n, vs in known.items() if vs}
    medians = {n: statistics.median(vs) for n, vs in sorted(known.items())}
    if len(medians) < MIN_POINTS:
        why = f"too few {param} values passed ({len(medians)}) to fit its three parameters (at least {MIN_POINTS})"
        return Fit(label, param, measured_best, why)
    best = max(medians.values())
    if all(m >= KNEE * best for m in medians.values()):
        return Fit(label, param, measured_best, f"no fit: flat, every {param} within {1 - KNEE:.0%} of the best")
    x = np.array([n for n, vs in known.items() for _ in vs], dtype=float)
    y = np.array([v for vs in known.values() for v in vs], dtype=float)
    params = _fit(x, y)
    if params is None:
        return Fit(label, param, measured_best, "the fit did not converge")
    lam, sigma, kappa = (float(v) for v in params)
    xs = np.array(list(medians), dtype=float)
    miss = np.array(list(medians.values())) / usl(xs, lam, sigma, kappa) - 1
    rms = float(np.sqrt(np.mean(miss**2)))
    scatter = _scatter(known)
    if (rms > MISFIT_KNOWN and rms > 2 * scatter) if scatter else rms > MISFIT:
        return Fit(label, param, measured_best, _misfit_words(medians, param, rms, scatter))
    dof = len(x) - 3
    rss = float(np.sum(((y - usl(x, lam, sigma, kappa)) / y) ** 2))
    simple = _fit(x, y, amdahl_only=True)
    p_amdahl = 1.0
    if simple is not None and dof > 0 and rss > 0:
        rss_a = float(np.sum(((y - amdahl(x, *simple)) / y) ** 2))
        p_amdahl = float(f_dist.sf(max(rss_a - rss, 0.0) / (rss / dof), 1, dof))
    elif rss == 0:
        p_amdahl = 0.0 if kappa > 0 else 1.0
    if p_amdahl > ALPHA and simple is not None:
        ceiling = simple[0] / simple[1] if simple[1] > 0 else math.inf
        top = f"towards {ceiling:.3g} items/s" if math.isfinite(ceiling) else "without a limit in sight"
        return Fit(
            label,
            param,
            measured_best,
            f"no peak to name: throughput levels off {top} (Amdahl's law, contention {simple[1]:.2f}, fits as well: "
            f"the crosstalk that makes a peak is not in the data, F-test p = {p_amdahl:.2f}); more {param} past "
            "the knee buy little",
            lam=float(simple[0]),
            sigma=float(simple[1]),
            kappa=0.0,
            rms=rms,
            amdahl_p=p_amdahl,
        )
    low, high = _interval(x, y, params, seed)
    n_star = peak(sigma, kappa)
    return Fit(label, param, measured_best, "", lam, sigma, kappa, n_star, low, high, rms, p_amdahl, max(medians))


def _scatter(known: dict[int, list[float]]) -> float:
    """The repeats' own relative scatter (pooled standard deviation over the points' medians); 0 with one repeat."""
    devs = [(v / statistics.median(vs) - 1) ** 2 for vs in known.values() if len(vs) > 1 for v in vs]
    dof = sum(len(vs) - 1 for vs in known.values() if len(vs) > 1)
    return math.sqrt(sum(devs) / dof) if dof else 0.0


def _misfit_words(medians: dict[int, float], param: str, rms: float, scatter: float) -> str:
    ns = list(medians)
    top = max(ns, key=lambda n: medians[n])
    after = [n for n in ns if n > top]
    knee = next(n for n in ns if medians[n] >= KNEE * medians[top])
    noise = f", more than the repeats' own {scatter:.0%} scatter" if scatter else ""
    text = f"does not fit: the curve misses the medians by {rms:.0%} RMS{noise}"
    level = [n for n in ns if n > knee]
    if len(level) >= 2 and all(medians[n] >= KNEE * medians[top] for n in level):
        text += (
            f"; throughput rises to {medians[knee]:.3g} items/s at {param} = {knee} and stays level beyond, a "
            f"ceiling the law's smooth peak cannot take, so no peak estimate is given: {param} = {knee} is enough"
        )
    elif after and medians[after[0]] < 0.8 * medians[top]:
        text += (
            f"; throughput climbs to {medians[top]:.3g} items/s at {param} = {top} and drops "
            f"{1 - medians[after[0]] / medians[top]:.0%} at the next value, a capacity cliff rather than gradual "
            "contention, so no peak estimate is given"
        )
    else:
        text += "; the smooth law cannot take this shape, so no peak estimate is given"
    return text


def _interval(x: np.ndarray, y: np.ndarray, params: np.ndarray, seed: int) -> tuple[float, float]:
    """N*'s central LEVEL interval from a residual bootstrap over the repeats."""
    rng = np.random.default_rng(seed)
    fitted = usl(x, *params)
    rel = y / fitted - 1
    n = len(x)
    # Centred, and scaled up for the three fitted parameters and the few residuals there are (a
    # small-sample correction; tests/harness/sweeps/test_usl.py checks the coverage by simulation).
    rel = (rel - rel.mean()) * math.sqrt(n / max(n - 3, 1) * (n - 1) / max(n - 4, 1))
    peaks = []
    for _ in range(BOOTSTRAP):
        again = fitted * (1 + rng.choice(rel, size=n, replace=True))
        refit = _fit(x, np.maximum(again, 1e-12))
        peaks.append(min(peak(float(refit[1]), float(refit[2])), UNBOUNDED) if refit is not None else UNBOUNDED)
    tail = (1 - LEVEL) / 2
    low, high = (float(v) for v in np.quantile(np.array(peaks), [tail, 1 - tail]))
    return low, (high if high < UNBOUNDED else math.inf)


def fits(run: Run, found: list[Finding], window: str) -> list[Fit]:
    """One fit per line of a sweep over the pool size (``readers``); none for any other sweep."""
    sweep = run.swept
    if sweep.param != "readers":
        return []
    samples = point_samples(run, window)
    out = []
    for f in found:
        if f.pool_independent:
            continue
        by_n: dict[int, list[float]] = {}
        for scenario, values in sweep.points.items():
            if all(int(values.get(k, -1)) == v for k, v in f.group.items()):
                by_n.setdefault(int(values[sweep.param]), []).extend(samples.get((scenario, f.strategy), []))
        out.append(fit_points(f.label, sweep.param, by_n, f.best))
    return out
