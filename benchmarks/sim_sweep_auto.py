"""How ``sweep --auto``'s search does on curves whose best pool is known, simulated (no trials): how
often it names the true best and how often it stays within half a full sweep's trials, with one
more repeat at a time at an unsettled best and neighbour (``harness.sweeps.auto.MORE``, today's
1) against two (before 2026-12-07).

Each trial's items/s is the curve's value times (1 + noise x a standard normal draw); every
setting sees the same seeds. A full sweep of readers 1..8 is 8 x (1 warmup + 3 repeats) = 32
trials a strategy; the search's count includes its one warmup. Seeded: the figures quoted in
``harness/sweeps/auto.py`` and docs/findings.md come from this script as it is (~10 s).

    python benchmarks/sim_sweep_auto.py [--seeds 200]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np

from harness.sweeps import auto

VALUES = list(range(1, 9))
FULL = len(VALUES) * (1 + 3)


def collapse(capacity: int, penalty: float = 0.5) -> Callable[[int], float]:
    """The service kind's collapse model: full speed up to the capacity, then falling."""
    return lambda n: float(n if n <= capacity else capacity / (1 + penalty * (n - capacity)))


def usl(capacity: int, sigma: float = 0.05) -> Callable[[int], float]:
    """The service kind's usl model: the law itself, peaking at the capacity."""
    kappa = (1 - sigma) / capacity**2
    return lambda n: n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def search(curve: Callable[[int], float], noise: float, seed: int, more: int) -> tuple[int, int]:
    """The best value the search names, and the trials it ran (its warmup included)."""
    rng = np.random.default_rng(seed)
    auto.MORE = more

    def draw(v: int) -> float:
        return 10.0 * curve(v) * (1 + noise * rng.standard_normal())

    samples = {v: [draw(v)] for v in auto.first_look(VALUES)}
    while not (step := auto.decide(samples, VALUES, repeats=3, max_repeats=9)).settled:
        for v, n in step.add.items():
            samples.setdefault(v, []).extend(draw(v) for _ in range(n))
    best = max(samples, key=lambda v: statistics.median(samples[v]))
    return best, 1 + sum(len(xs) for xs in samples.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seeds", type=int, default=200)
    args = ap.parse_args()
    kept = auto.MORE
    curves = {"collapse, capacity 3": (collapse(3), 3), "collapse, capacity 5": (collapse(5), 5)}
    curves["usl, peak at 3"] = (usl(3), 3)
    print(f"{args.seeds} seeded searches a line; a full sweep of 1..8: {FULL} trials a strategy")
    print(f"{'curve':22} {'noise':>5} {'more':>4} {'true best':>9} {'<= half':>7} {'median trials':>13}")
    try:
        for name, (curve, best) in curves.items():
            for noise in (0.03, 0.08):
                for more in (2, 1):
                    runs = [search(curve, noise, seed, more) for seed in range(args.seeds)]
                    right = sum(b == best for b, _ in runs)
                    cheap = sum(t <= FULL / 2 for _, t in runs)
                    trials = statistics.median(t for _, t in runs)
                    print(f"{name:22} {noise:5.0%} {more:4} {right:9} {cheap:7} {trials:13g}")
    finally:
        auto.MORE = kept


if __name__ == "__main__":
    main()
