"""Rank statistics for two small samples: the exact Mann–Whitney null distribution and
the Hodges–Lehmann shift with its distribution-free confidence interval.

Why these: benchmark repeats are few (5–20), skewed and sometimes carry an outlier from
a noisy neighbour. Rank methods assume no distribution, and the Hodges–Lehmann interval
is the exact dual of the one-sided Mann–Whitney test: its lower bound at level alpha is
above 0 exactly when the test rejects at alpha (for data without ties). So "significant"
and "the interval excludes no change" are one statement, not two that may disagree.

Standard library only (exact integer counts); verdicts are built in :mod:`harness.gate.compare`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Above this many pairs the exact null distribution is replaced by the normal one.
EXACT_MAX_PAIRS = 10_000


@lru_cache(maxsize=256)
def null_counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the C(n+m, n) orderings give U = 0, 1, ..., n*m (no ties).

    These are the coefficients of the Gaussian binomial [n+m choose n] in q, built as
    prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i) with exact integers.
    """
    if n > m:
        n, m = m, n
    size = n * m + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, n + 1):
        step = m + i
        for k in range(size - 1, step - 1, -1):  # multiply by (1 - q^(m+i))
            poly[k] -= poly[k - step]
        for k in range(i, size):  # divide by (1 - q^i): a running sum with stride i
            poly[k] += poly[k - i]
    return tuple(poly)


def critical_count(n: int, m: int, alpha: float) -> int | None:
    """The smallest w with P(U >= w) <= alpha under no difference; None if none exists.

    U counts the pairs (x, y) with y > x. None means even the most extreme ordering
    (every y above every x) is not rare enough: no verdict is possible at this alpha.
    """
    if n < 1 or m < 1:
        return None
    pairs = n * m
    if pairs > EXACT_MAX_PAIRS:
        z = statistics.NormalDist().inv_cdf(1 - alpha)
        w = math.ceil(pairs / 2 + z * math.sqrt(pairs * (n + m + 1) / 12) + 0.5)
        return w if w <= pairs else None
    counts = null_counts(n, m)
    total = math.comb(n + m, n)
    tail = 0
    for w in range(pairs, -1, -1):
        tail += counts[w]
        if tail > alpha * total:  # P(U >= w) > alpha: w + 1 was the last that passed
            return w + 1 if w < pairs else None
    return 0


def min_repeats(alpha: float) -> int:
    """The fewest repeats per side (equal sides) with which a verdict is possible at alpha."""
    k = 1
    while 1 / math.comb(2 * k, k) > alpha:
        k += 1
    return k


def possible(n: int, m: int, alpha: float) -> bool:
    """Can n vs m repeats ever reach significance at alpha (one-sided)?"""
    return n >= 1 and m >= 1 and 1 / math.comb(n + m, n) <= alpha


@dataclass(frozen=True)
class Shift:
    """Hodges–Lehmann estimate of how much ``after`` exceeds ``before``, with bounds.

    ``low`` is a one-sided lower confidence bound at level 1 - alpha, ``high`` the
    matching upper bound, so [low, high] is a two-sided interval at 1 - 2 alpha.
    """

    estimate: float
    low: float
    high: float


def hodges_lehmann(before: Sequence[float], after: Sequence[float], alpha: float) -> Shift | None:
    """Shift of ``after`` against ``before`` (median of all pairwise differences).

    None when the samples are too small for any bound at this alpha.
    """
    w = critical_count(len(before), len(after), alpha)
    if w is None or w == 0:
        return None
    diffs = sorted(b - a for a in before for b in after)
    pairs = len(diffs)
    # Lower bound: the (pairs - w + 1)-th smallest difference; upper: the w-th smallest.
    return Shift(estimate=statistics.median(diffs), low=diffs[pairs - w], high=diffs[w - 1])


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    The i-th smallest of m p-values is multiplied by (m - i + 1), made non-decreasing along
    that order and capped at 1; rejecting every adjusted p <= alpha keeps the chance of any
    false rejection among the m tests at most alpha, however the tests depend on each other.
    """
    m = len(pvalues)
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: pvalues[j])):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out
