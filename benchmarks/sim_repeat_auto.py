"""How often ``ab --repeat auto`` says "slower", simulated (no trials): for identical sides, and
for a real slowdown, beside 10 fixed repeats and beside judging after every repeat at alpha
(optional stopping, what ``--repeat auto`` did before its looks were planned).

Each pair's repeats are drawn log-normal (the spread of one trial's throughput on a shared
machine: 10-20%); each procedure sees the same draws. Seeded: the figures in docs/usage.md
and docs/findings.md come from this script as it is (1,000 pairs a line, ~6 minutes).

    python benchmarks/sim_repeat_auto.py [--pairs 1000]
"""

from __future__ import annotations

import argparse
import math
import random

from harness.gate import verdicts
from harness.gate.auto_repeat import looks, settled

THRESHOLD, ALPHA, MAX_REPEATS = 0.10, 0.01, 30
METRIC = verdicts.metric("throughput")


def row(base: list[float], cur: list[float], alpha: float) -> verdicts.Row:
    ratio, low, high, p, verdict, why = verdicts.decide(base, cur, METRIC, THRESHOLD, alpha)
    return verdicts.Row("s", "t", len(base), len(cur), math.nan, math.nan, ratio, low, high, p, verdict, why)


def procedure(base: list[float], cur: list[float], plan: tuple[int, ...] | range, alpha: float) -> verdicts.Verdict:
    """Judge at each look, stop once the pair is settled (as harness.gate.auto_repeat does)."""
    verdict = verdicts.Verdict.INCONCLUSIVE
    for n in plan:
        r = row(base[:n], cur[:n], alpha)
        verdict = r.verdict
        if settled(r, THRESHOLD):
            break
    return verdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--pairs", type=int, default=1000, help="simulated pairs a line (default 1000)")
    args = ap.parse_args()
    rng = random.Random(7)
    plan = looks(ALPHA, MAX_REPEATS)
    print(f"planned looks {plan}, each at alpha {ALPHA}/{len(plan)}; threshold {THRESHOLD:.0%}")
    print("slowdown  noise  'slower': 10 fixed repeats · every repeat 5..30 at alpha · planned looks")
    for slowdown, sd in ((1.0, 0.2), (1.0, 0.1), (1.25, 0.15), (1.25, 0.2), (1.15, 0.1), (1.15, 0.2), (1.15, 0.05)):
        hits = {"fixed": 0, "every": 0, "planned": 0}
        for _ in range(args.pairs):
            base = [math.exp(rng.gauss(0, sd)) for _ in range(MAX_REPEATS)]
            cur = [math.exp(rng.gauss(-math.log(slowdown), sd)) for _ in range(MAX_REPEATS)]
            slower = verdicts.Verdict.SLOWER
            hits["fixed"] += row(base[:10], cur[:10], ALPHA).verdict is slower
            hits["every"] += procedure(base, cur, range(5, MAX_REPEATS + 1), ALPHA) is slower
            hits["planned"] += procedure(base, cur, plan, ALPHA / len(plan)) is slower
        n = args.pairs
        rates = " · ".join(f"{hits[k] / n:6.1%}" for k in ("fixed", "every", "planned"))
        print(f"x{slowdown:<8.2f} {sd:5.0%}  {rates}", flush=True)


if __name__ == "__main__":
    main()
