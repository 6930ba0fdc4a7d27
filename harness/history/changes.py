"""Change points of a series, found with ``ruptures`` (PELT) and each one checked with a rank test.

Why ruptures: of the libraries built for this, measured on the same synthetic series
(benchmarks/sim_change_points.py; docs/findings.md), it found the steps as well as Apache Otava
and MongoDB's signal-processing-algorithms, and it is the one that installs beside queuebench:
it needs only numpy and scipy, where apache-otava pins numpy 2.2.0 exactly and pulls in the
BigQuery, Postgres and Slack clients, and signal-processing-algorithms is for Python 3.11 only
with numpy below 2.

How: the log of the run medians, scaled by the series' own run-to-run noise (1.4826 x the median
absolute difference of neighbours / sqrt 2, which a step hardly moves), is split by PELT with
an L2 cost and the penalty :data:`PENALTY` x log(n), segments of at least :data:`MIN_RUNS`
runs. Each split is then kept only when the runs of the segments on either side differ by a
two-sided Mann–Whitney test at :data:`ALPHA` and by at least :data:`MIN_CHANGE`; the weakest
that fails is merged away and the rest judged again. Its confidence is 1 - p, its size the
ratio of the segments' medians. The commit is that of the
first run after the change (and the one before it, so the range to bisect is known).
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

from harness.history.series import Point, Series

#: PELT's penalty per change point, in units of log(n) on the noise-scaled series.
PENALTY = 3.0
#: The fewest runs a segment holds.
MIN_RUNS = 3
#: The level a change point's rank test must reach.
ALPHA = 0.001
#: The smallest change reported (ratio of medians; 0.03 = 3%).
MIN_CHANGE = 0.03


@dataclass(frozen=True)
class ChangePoint:
    index: int  # the first point after the change
    point: Point  # that run
    before: Point  # the run just before it
    ratio: float  # median after / median before (the metric's own direction)
    p_value: float  # two-sided Mann–Whitney, runs before vs after (within the neighbouring segments)
    worse: bool  # the metric moved for the worse

    @property
    def confidence(self) -> float:
        return 1 - self.p_value


def noise(logs: list[float]) -> float:
    """Run-to-run spread of a log series, robust to steps: from the neighbours' differences."""
    if len(logs) < 3:
        return math.nan
    diffs = [abs(b - a) for a, b in itertools.pairwise(logs)]
    return 1.4826 * statistics.median(diffs) / math.sqrt(2)


def splits(logs: list[float], penalty: float = PENALTY, min_runs: int = MIN_RUNS) -> list[int]:
    """Where PELT splits the noise-scaled series: the index of each segment's first point (not 0)."""
    import numpy as np
    import ruptures as rpt

    n = len(logs)
    if n < 2 * min_runs:
        return []
    sigma = noise(logs)
    if not math.isfinite(sigma) or sigma <= 0:
        sigma = max(1e-9, statistics.pstdev(logs))
    signal = np.asarray(logs, dtype=float).reshape(-1, 1) / sigma
    ends = rpt.Pelt(model="l2", min_size=min_runs, jump=1).fit(signal).predict(pen=penalty * math.log(n))
    return [int(e) for e in ends[:-1]]  # the last "end" is n itself


def find(
    series: Series, higher_is_better: bool, alpha: float = ALPHA, min_change: float = MIN_CHANGE
) -> list[ChangePoint]:
    """The series' change points that pass the rank test and the size floor, oldest first.

    Each split is judged between its neighbouring splits; the weakest that fails is merged away
    and the rest judged again (as Hunter's merge step), so a short segment PELT cut beside a real
    step (too few runs for any test to reach alpha) does not hide the step."""
    from scipy.stats import mannwhitneyu

    points = series.points
    values = [p.value for p in points]
    if any(v <= 0 for v in values):
        return []
    cuts = splits([math.log(v) for v in values])

    def judged(cuts: list[int]) -> list[tuple[float, float]]:
        bounds = [0, *cuts, len(points)]
        out = []
        for k, cut in enumerate(cuts, start=1):
            before, after = values[bounds[k - 1] : cut], values[cut : bounds[k + 1]]
            p = float(mannwhitneyu(before, after, alternative="two-sided").pvalue)
            out.append((p, statistics.median(after) / statistics.median(before)))
        return out

    while True:
        tests = judged(cuts)
        failing = [
            (p, k) for k, (p, ratio) in enumerate(tests) if p > alpha or abs(math.log(ratio)) < math.log1p(min_change)
        ]
        if not failing:
            break
        del cuts[max(failing)[1]]
    return [
        ChangePoint(cut, points[cut], points[cut - 1], ratio, p, ratio < 1 if higher_is_better else ratio > 1)
        for cut, (p, ratio) in zip(cuts, tests, strict=True)
    ]
