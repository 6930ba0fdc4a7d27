"""What a sweep leaves out of its plan: a strategy whose throughput cannot depend on the pool
size (the serial family: ``sequential`` consumes each item in turn, whatever ``readers`` says)
runs at one point of a sweep over ``readers``, not at every point (it was about 40% of a new
user's sweep of readers 1..6, all of it the same number again)."""

from __future__ import annotations

from collections.abc import Mapping

from harness.running.planning import Options, strategies_for
from harness.scenario import LoadedScenario
from strategies.registry import REGISTRY, Family

#: The parameter that sizes the pool of readers.
POOL = "readers"


def pool_independent(strategy: str, param: str) -> bool:
    """Whether ``strategy``'s throughput cannot depend on ``param``: the pool size, for a strategy
    that runs no pool."""
    entry = REGISTRY.get(strategy)
    return param == POOL and entry is not None and entry.family is Family.SERIAL


def one_point_skips(
    points: list[tuple[LoadedScenario, Mapping[str, int]]], opts: Options
) -> frozenset[tuple[str, str]]:
    """The (point, strategy) pairs to leave out of a sweep whose ``points`` are (scenario, its swept
    values) in grid order: a pool-independent strategy runs only at the first ``readers`` value
    swept, once for each combination of the other swept parameters."""
    kept: set[tuple[str, tuple[tuple[str, int], ...]]] = set()
    skip: set[tuple[str, str]] = set()
    for loaded, values in points:
        others = tuple((k, v) for k, v in values.items() if k != POOL)
        name = loaded.scenario.name
        for strategy in strategies_for(loaded, opts):
            if POOL not in values or not pool_independent(strategy, POOL):
                continue
            if (strategy, others) in kept:
                skip.add((name, strategy))
            else:
                kept.add((strategy, others))
    return frozenset(skip)
