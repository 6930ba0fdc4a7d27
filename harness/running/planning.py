"""Planning a run: its options and the trials it will run, in order.

Strategies are interleaved within each round (A B C, A B C, ...) rather than run in
blocks, so slow drift of a shared machine spreads over all of them alike. A sweep
(``Options.rounds_span_scenarios``) goes further: each round visits every point x strategy
once, in an order where neighbours differ in both, so a burst of load from elsewhere lands on
one repeat of scattered cells, not on every repeat of one point or on one point of every strategy.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.running.launchers.base import UserCode
from harness.scenario import LoadedScenario
from strategies import registry


@dataclass
class Options:
    strategies: list[str] = field(default_factory=list)
    repeat: int | None = None
    warmup: int | None = None
    start_method: str | None = None
    python: str = sys.executable
    #: Several interpreters measured side by side in one run (``run --python X --python Y``):
    #: every one of them, ``python`` being the first; empty for a one-interpreter run.
    pythons: list[str] = field(default_factory=list)
    timeout: float | None = None
    out: Path = Path("results")
    #: Extra workload options for test-only strategies, e.g. (("delay_factor", 1.2),).
    strategy_options: tuple[tuple[str, float], ...] = ()
    #: Extra top-level keys for run.json, e.g. {"sweep": {...}} (harness.sweeps.findings).
    extra: dict[str, Any] = field(default_factory=dict)
    #: Measure the cpu work's calibration afresh instead of reusing this machine's.
    recalibrate: bool = False
    #: Run even what the pre-flight estimate says this machine cannot take (harness.running.preflight).
    force: bool = False
    #: One round is every scenario x strategy once (a sweep: its points are the scenarios),
    #: instead of every repeat of a scenario before the next scenario.
    rounds_span_scenarios: bool = False
    #: (scenario name, strategy) pairs left out of the plan: a sweep over the pool size runs a
    #: strategy that ignores the pool (sequential) at one point only (harness.sweeps.planning).
    skip: frozenset[tuple[str, str]] = frozenset()
    #: The user's code the worker needs: project folders (``--path``) and "module:callable" strategies.
    user: UserCode = field(default_factory=UserCode)


@dataclass(frozen=True)
class Planned:
    loaded: LoadedScenario
    strategy: str
    repeat: int  # measured repeats count from 0; warmups are negative
    warmup: bool
    side: str | None = None  # which side's launcher runs it (Prepared.sides): ab, or --python X --python Y

    @property
    def label(self) -> str:
        kind = "warmup" if self.warmup else f"repeat {self.repeat + 1}"
        return f"{self.loaded.scenario.name} / {self.strategy} ({kind})" + (f" side {self.side}" if self.side else "")


def strategies_for(loaded: LoadedScenario, opts: Options) -> list[str]:
    names = opts.strategies or loaded.scenario.strategies or registry.default_names()
    for name in names:
        registry.get(name)  # raises UnknownStrategy with the valid names
    return list(dict.fromkeys(names))


def plan(scenarios: list[LoadedScenario], opts: Options) -> list[Planned]:
    rows: list[tuple[tuple[int, int, int], Planned]] = []  # (round, diagonal, strategy's index), trial
    for index, loaded in enumerate(scenarios):
        sc = loaded.scenario
        warmup = sc.warmup if opts.warmup is None else opts.warmup
        repeats = sc.repeats if opts.repeat is None else opts.repeat
        names = strategies_for(loaded, opts)
        # The diagonals' direction: the one whose last trial (strategy len - 1) and the next
        # diagonal's first (strategy 0) are at different points.
        step = -1 if (len(names) - 2) % len(scenarios) == 0 else 1
        for r in range(-warmup, repeats):
            for k, name in enumerate(names):
                if (sc.name, name) in opts.skip:
                    continue
                rows.append(((r, (index - step * k) % len(scenarios), k), Planned(loaded, name, r, r < 0)))
    if opts.rounds_span_scenarios:
        # Each round is every point x strategy once, walked along diagonals: strategy k at point
        # d + k (or d - k), for d = 0, 1, ... So trials in a row differ in point and in strategy,
        # and a burst of load from elsewhere lands on several points of several strategies, not
        # on one point of every strategy (a false optimum for all) nor on every point of one.
        rows.sort(key=lambda row: row[0])
    return [planned for _, planned in rows]


def interleave_sides(trials: list[Planned], sides: tuple[str, ...]) -> list[Planned]:
    """Every planned trial once per side, back to back: forwards in even repeats, backwards in
    odd ones (A B in repeat 1, B A in repeat 2, ...; with three interpreters A B C, C B A), so for
    every scenario x strategy each side goes first as often as the others, whatever the number
    of pairs in a round, and drift hits every side alike."""
    out: list[Planned] = []
    for planned in trials:
        order = sides if planned.repeat % 2 == 0 else sides[::-1]
        out.extend(dataclasses.replace(planned, side=side) for side in order)
    return out
