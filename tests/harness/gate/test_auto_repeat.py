"""``ab --repeat auto`` keeps its promise: over all its looks, identical code is called "slower"
at most alpha of the time (harness.gate.auto_repeat). Simulated pairs, seeded: no trials, no timing."""

from __future__ import annotations

import itertools
import math
import random

from harness.analysis import rankstats
from harness.gate import verdicts
from harness.gate.auto_repeat import AutoRepeat, looks, settled

THRESHOLD, ALPHA = 0.10, 0.01
METRIC = verdicts.metric("throughput")


def _row(base: list[float], cur: list[float], alpha: float) -> verdicts.Row:
    ratio, low, high, p, verdict, why = verdicts.decide(base, cur, METRIC, THRESHOLD, alpha)
    return verdicts.Row("s", "t", len(base), len(cur), math.nan, math.nan, ratio, low, high, p, verdict, why)


def _procedure(base: list[float], cur: list[float], plan: tuple[int, ...] | range, alpha: float) -> verdicts.Verdict:
    """What --repeat auto does with one pair: judge at each look, stop once settled."""
    row = _row(base[: plan[0]], cur[: plan[0]], alpha)
    for n in plan:
        row = _row(base[:n], cur[:n], alpha)
        if settled(row, THRESHOLD):
            break
    return row.verdict


def _false_slower(plan: tuple[int, ...] | range, alpha: float, pairs: int, sd: float = 0.2) -> float:
    rng = random.Random(20261127)
    hits = 0
    for _ in range(pairs):
        base = [math.exp(rng.gauss(0, sd)) for _ in range(plan[-1])]
        cur = [math.exp(rng.gauss(0, sd)) for _ in range(plan[-1])]
        hits += _procedure(base, cur, plan, alpha) is verdicts.Verdict.SLOWER
    return hits / pairs


def test_looking_at_every_repeat_cries_wolf_and_the_planned_looks_do_not() -> None:
    plan = looks(ALPHA, 15)
    spent = _false_slower(plan, ALPHA / len(plan), 300)
    naive = _false_slower(range(5, 16), ALPHA, 300)  # judged at alpha after every repeat: the old way
    assert naive > 2 * ALPHA  # optional stopping: several times the promised rate
    assert spent <= ALPHA


def test_looks_spend_alpha_evenly_and_need_a_possible_first_test() -> None:
    plan = looks(ALPHA, 30)
    assert plan[-1] == 30 and list(plan) == sorted(set(plan))
    assert all(b <= math.ceil(a * 1.25) or b == a + 1 for a, b in itertools.pairwise(plan))
    assert plan[0] == rankstats.min_repeats(ALPHA / len(plan))  # the first look can reach its level
    assert looks(ALPHA, 5) == (5,)  # one look: the whole alpha


def test_the_final_verdict_is_tested_at_the_per_look_level() -> None:
    stepper = AutoRepeat.__new__(AutoRepeat)
    stepper.alpha, stepper.max_repeats = ALPHA, 30
    assert math.isclose(stepper.alpha_per_look * len(stepper.schedule), ALPHA)
    assert "within 0.01" in stepper.describe() and str(len(stepper.schedule)) in stepper.describe()
