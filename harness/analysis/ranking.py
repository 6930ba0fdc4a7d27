"""Who wins a scenario, and only when the repeats say so.

A strategy is crowned (★, "use X") only when its repeats are distinguishable from those of
every other strategy of the scenario; otherwise the strategies not distinguishable from the best
are a tie ("tie: A, B, C"). Distinguishable means a one-sided exact Mann–Whitney test
(:mod:`harness.analysis.rankstats`) rejects "no difference".

The best is picked by its median before it is tested, so testing it one-sided at :data:`ALPHA`
would crown noise about twice as often as ALPHA says (the audit measured 9.6% for two identical
strategies): either of two could have come out on top. So each comparison is made at ALPHA / 2
(:func:`crown_level`: a two-sided test at ALPHA), and the best must beat every other strategy.
For two identical strategies the chance of a crown is then at most 2 × ALPHA / 2 = ALPHA,
exactly. With more strategies that case (two identical on top, the others below) should stay the
worst, since beating several identical strategies at once is rarer than beating one: an
argument, not a proof, so the simulation tests check it for 2–7 strategies and 3–10 repeats. Fewer repeats than
:func:`min_repeats_for_a_verdict` can never reach that level, so such runs always report ties:
that is the honest answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.analysis import rankstats

#: The chance of crowning noise, at most, over all the strategies of a scenario.
ALPHA = 0.05


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def u_count(low: Sequence[float], high: Sequence[float]) -> float:
    """Mann–Whitney U: the pairs (x of ``low``, y of ``high``) with y > x, a tie counted as a half."""
    return sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in low for y in high)


def distinguishable(best: Sequence[float], other: Sequence[float], alpha: float = ALPHA) -> bool:
    """Are the repeats of ``best`` higher than those of ``other`` beyond the noise, one-sided at
    ``alpha`` (exact Mann–Whitney; tied values count half)?"""
    a, b = _finite(best), _finite(other)
    if not a or not b:
        return bool(a)  # a strategy with no measured value never ties with one that has
    needed = rankstats.critical_count(len(b), len(a), alpha)
    return needed is not None and u_count(b, a) >= needed


def crown_level(strategies: int = 2) -> float:
    """The one-sided level each comparison of the best is made at (the same for any number of
    ``strategies``: the worst case is two identical ones on top, see the module's note)."""
    del strategies
    return ALPHA / 2


def tie_group(samples: dict[str, list[float]], order: list[str]) -> list[str]:
    """The strategies of ``order`` (best first) not distinguishable from the first one, the first
    included, each tested at :func:`crown_level`. One name: the first is a clear winner.

    Each strategy is tested against the best on its own repeats, so the group can skip one: a
    steady strategy ranked between two tied ones can be told from the best while a noisier one
    ranked below it cannot."""
    if not order:
        return []
    best, level = samples.get(order[0], []), crown_level(len(order))
    return [order[0], *(name for name in order[1:] if not distinguishable(best, samples.get(name, []), level))]


def min_repeats_for_a_verdict(strategies: int = 2) -> int:
    """The fewest repeats per strategy with which the best of ``strategies`` can be crowned."""
    return rankstats.min_repeats(crown_level(strategies))
