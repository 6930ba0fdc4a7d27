"""Who wins a scenario, and only when the repeats say so.

A strategy is crowned (★, "use X") only when it is distinguishable from the runner-up over
the repeats; otherwise the strategies that are not distinguishable from the best are a tie
("tie: A, B, C"). Distinguishable means either a one-sided Mann–Whitney U test (scipy)
rejects "no difference" at :data:`ALPHA`, or, with at least :data:`MIN_RANGE_REPEATS` repeats
each, the ranges (min–max) do not overlap. With fewer than three repeats per side no rank
test can reach p ≤ 0.05, so such runs always report ties: that is the honest answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.analysis import rankstats

#: One-sided significance level of the rank test.
ALPHA = 0.05
#: Non-overlapping ranges count as distinguishable only with this many repeats on each side.
MIN_RANGE_REPEATS = 5


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def distinguishable(best: Sequence[float], other: Sequence[float], alpha: float = ALPHA) -> bool:
    """Are the repeats of ``best`` higher than those of ``other`` beyond the noise?"""
    a, b = _finite(best), _finite(other)
    if not a or not b:
        return bool(a)  # a strategy with no measured value never ties with one that has
    if len(a) >= MIN_RANGE_REPEATS and len(b) >= MIN_RANGE_REPEATS and min(a) > max(b):
        return True
    if len(set(a + b)) == 1:
        return False  # all equal: no order to test
    from scipy.stats import mannwhitneyu

    return bool(mannwhitneyu(a, b, alternative="greater").pvalue <= alpha)


def tie_group(samples: dict[str, list[float]], order: list[str]) -> list[str]:
    """The strategies of ``order`` (best first) not distinguishable from the first one, the first
    included. One name: the first is a clear winner."""
    if not order:
        return []
    best = samples.get(order[0], [])
    return [order[0], *(name for name in order[1:] if not distinguishable(best, samples.get(name, [])))]


def min_repeats_for_a_verdict() -> int:
    """The fewest repeats per side with which the rank test can separate two strategies."""
    return rankstats.min_repeats(ALPHA)
