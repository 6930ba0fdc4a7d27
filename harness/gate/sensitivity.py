"""What a verdict could have seen: the minimum detectable effect (MDE) of a pair, and the repeats
an inconclusive pair needs.

A verdict of "unchanged" or "inconclusive" is only as good as the run's sensitivity: with five
noisy repeats a 30% slowdown can pass unseen. So every pair states the smallest slowdown this
run would have called ``slower`` with :data:`POWER` (80%) probability, at its own noise and
repeats, and an inconclusive pair states how many repeats a side would judge the threshold.

How: the noise is the pooled spread of the log values (each side about its own median; a
scaled median absolute deviation, so one outlier does not inflate it, as it does not move the
rank test either), ``sigma``. A shift ``d`` of the log values is seen by the one-sided
Mann–Whitney test about as well as by a t-test on ``3/pi`` as many values (its asymptotic
efficiency for normal data), so with ``se = sigma * sqrt((1/n + 1/k) * pi / 3)`` the test
rejects with probability POWER at ``d = (t(1 - a) + t(POWER)) * se``, Student's t with the
degrees of freedom the noise is known to: ``0.37 (n + k - 2)``, the median absolute
deviation's efficiency (37%) times those of a pooled variance. Without that discount the
stated MDE was too small at 6-10 repeats (detected in 52-72% of simulated runs, not 80%).
``a`` is the level the pair must reach when it alone moved: alpha over the family (Holm's
first step). A ``slower`` verdict also needs the estimate beyond the threshold, which at ``d``
has the probability POWER once ``d >= tau + t(POWER) * se``; the MDE is the larger of the two.
tests/harness/gate/test_sensitivity.py checks by simulation that at the stated MDE the verdict
is ``slower`` about POWER of the time.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence

from harness.analysis import rankstats
from harness.gate.verdicts import Row, Verdict

#: The detection probability the MDE is stated at.
POWER = 0.8
#: Asymptotic relative efficiency of Mann–Whitney against the t-test, normal data.
_EFFICIENCY = 3 / math.pi
#: Efficiency of the median absolute deviation against the standard deviation, normal data:
#: the noise estimate is worth this share of the pooled degrees of freedom.
_MAD_EFFICIENCY = 0.37
#: Repeats a side beyond which "repeats needed" is not worth stating as a number.
MAX_NEEDED = 10_000


def noise(base: Sequence[float], cur: Sequence[float], higher_is_better: bool = True) -> float:
    """The pooled spread of log values (1.4826 x the median absolute deviation about each side's
    median, so it estimates a standard deviation): NaN with fewer than two values a side or a
    value <= 0."""
    if len(base) < 2 or len(cur) < 2 or any(v <= 0 for v in [*base, *cur]):
        return math.nan
    residuals: list[float] = []
    for side in (base, cur):
        logs = [math.log(v) for v in side]
        mid = statistics.median(logs)
        residuals += [abs(x - mid) for x in logs]
    # The residuals about a median of n include ~one zero per odd side: their median is a little
    # low for few repeats; n / (n - 1) over the pooled count corrects most of it.
    count = len(residuals)
    return 1.4826 * statistics.median(residuals) * count / (count - 2)


def _t(q: float, n: int, k: int) -> float:
    """Student's t quantile at the degrees of freedom the noise estimate of n + k values is worth."""
    from scipy.stats import t

    return float(t.ppf(q, max(1, round(_MAD_EFFICIENCY * (n + k - 2)))))


def _se(sigma: float, n: int, k: int) -> float:
    return sigma * math.sqrt((1 / n + 1 / k) / _EFFICIENCY)


def mde(sigma: float, n: int, k: int, alpha: float, max_regression: float, power: float = POWER) -> float:
    """The smallest worse-factor minus one (0.23 for 23%) that ``n`` vs ``k`` repeats at noise
    ``sigma`` call slower with probability ``power`` at level ``alpha``; inf when these repeats
    can never reach ``alpha``, NaN when the noise is unknown."""
    if not rankstats.possible(n, k, alpha):
        return math.inf
    if not math.isfinite(sigma):
        return math.nan
    se = _se(sigma, n, k)
    d = max((_t(1 - alpha, n, k) + _t(power, n, k)) * se, math.log1p(max_regression) + _t(power, n, k) * se)
    return math.expm1(d)


def repeats_needed(sigma: float, alpha: float, max_regression: float, power: float = POWER) -> int:
    """Repeats a side with which a change of the threshold itself is significant with
    probability ``power`` (and no change gives an interval about inside ±threshold): 0 when the
    noise is unknown, :data:`MAX_NEEDED` when beyond reach."""
    if not math.isfinite(sigma):
        return 0
    tau = math.log1p(max_regression)
    n = rankstats.min_repeats(alpha)
    while n < MAX_NEEDED:
        if (_t(1 - alpha, n, n) + _t(power, n, n)) * _se(sigma, n, n) <= tau:
            return n
        n = max(n + 1, math.ceil(n * 1.05))
    return MAX_NEEDED


def describe_mde(value: float) -> str:
    """'≥ 23%' for a table cell; 'none' when no change can be seen; '—' when unknown."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "none"
    return f"≥ {value * 100:.3g}%"


def annotate(row: Row, alpha: float, max_regression: float) -> Row:
    """The row with its MDE at level ``alpha`` (alpha over the family: the level a pair that moved
    alone must reach) and, when it could not be judged for noise, the repeats that would."""
    if row.verdict in (Verdict.BROKEN, Verdict.BROKEN_BOTH):
        return row
    found = mde(row.noise, row.n_base, row.n_cur, alpha, max_regression)
    needed = 0
    if row.verdict is Verdict.TOO_FEW or (row.verdict is Verdict.INCONCLUSIVE and math.isfinite(row.noise)):
        needed = max(rankstats.min_repeats(alpha), repeats_needed(row.noise, alpha, max_regression))
    return dataclasses.replace(row, mde=found, repeats_needed=needed)


def needed_text(row: Row, max_regression: float) -> str:
    """'≈ 40 repeats a side would judge 10% at this noise' for an unjudged pair, else ''."""
    if not row.repeats_needed:
        return ""
    if row.repeats_needed >= MAX_NEEDED:
        return f"no practical number of repeats judges {max_regression * 100:g}% at this noise"
    at = "at this noise" if math.isfinite(row.noise) else "at the least (noise unknown)"
    return f"≈ {row.repeats_needed} repeats a side would judge {max_regression * 100:g}% {at}"


def unreachable(repeats: int, pairs: int, alpha: float, looks: int = 1) -> str | None:
    """Why ``repeats`` a side over ``pairs`` pairs can reach no verdict at ``alpha`` (spent over
    ``looks``), for ``ab`` to refuse before running; None when they can."""
    level = alpha / looks
    if not rankstats.possible(repeats, repeats, level):
        return (
            f"{repeats} repeats a side can reach no verdict at alpha {level:.2g}: a rank test needs at least "
            f"{rankstats.min_repeats(level)}"
        )
    if pairs > 1 and not rankstats.possible(repeats, repeats, level / pairs):
        return (
            f"{repeats} repeats a side cannot call any of the {pairs} planned pairs slower or faster: Holm's first "
            f"step needs p <= {level:.2g}/{pairs} = {level / pairs:.2g}, which takes at least "
            f"{rankstats.min_repeats(level / pairs)} repeats a side"
        )
    return None
