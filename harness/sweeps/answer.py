"""The origin story's answer in its own terms: "pool of N pushes: 100 images in T s".

For a sweep over ``readers`` whose readers push images (the ``docker-push`` work kind), each
trial's own stamps give the time :data:`IMAGES` images would take with its strategy and pool::

    T = once + IMAGES x (total - once) / images in the trial,    once = first_read + teardown

over the total window (the strategy's first step to its return: what a user waits for).
``once`` is what a run pays however many images follow: the time to the first image read (the
pool started, the first build done) and from the last push to the return; the rest of the
window, the pushes, is paid per image. A point's T is the median over its passing repeats.

Not ``IMAGES / items/s``: a trial of a few images spends a large share of its window starting
up (about a quarter, for 6 images), which a run of 100 pays once; that would overstate T by
half. What this model still misses, and the title says it is a model: with a pool size that
does not divide the trial's images, its last pushes run fewer at once than in a long run (6
images at a pool of 4: four, then two), so T errs short there, past the capacity. The best and
knee are the sweep's own (items/s, :func:`harness.sweeps.findings.findings`), never re-decided here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from harness.analysis.ranking import distinguishable
from harness.rundir.model import MetricValue, Run
from harness.sweeps.findings import KNEE, Finding, point_samples

IMAGES = 100
#: The classic recipe the origin story started from (Process writers, Manager().Queue(), Pool(3)).
CLASSIC = "seed-pool"
#: Reader work kinds whose items are images and whose pool is a pool of pushes.
PUSH_KINDS = frozenset({"docker-push"})


@dataclass(frozen=True)
class Answer:
    param: str
    values: list[int]
    #: strategy -> at each value: seconds for IMAGES images; None where a trial did not pass;
    #: NaN where nothing was measured
    rows: list[tuple[str, list[float | None]]]
    images_per_trial: int
    lines: list[str]

    @property
    def title(self) -> str:
        return (
            f"pool of N pushes: {IMAGES} images in T s (median; T = start-up once + {IMAGES} x the per-image "
            f"time of the trials' pushes, trials of {self.images_per_trial} images, total window)"
        )


def _push_sweep(run: Run) -> bool:
    record = run.sweep
    if record is None or record.param != "readers" or len(record.params) != 1:
        return False
    kinds = {(run.definition(name).get("reader_work") or {}).get("kind") for name in record.points}
    return bool(kinds) and kinds <= PUSH_KINDS


def trial_seconds(m: Mapping[str, MetricValue]) -> float:
    """Seconds for IMAGES images from one trial's metrics (NaN where they lack a figure)."""
    try:
        stored = [m[k] for k in ("total_s", "first_read_s", "teardown_s", "expected")]
    except KeyError:
        return math.nan
    total, first, last, n = (math.nan if v is None else float(v) for v in stored)
    once = first + last
    if not all(math.isfinite(v) for v in (total, once, n)) or n <= 0 or not 0 <= once <= total:
        return math.nan
    return once + IMAGES * (total - once) / n


def answer(run: Run, frame: pd.DataFrame, found: list[Finding]) -> Answer | None:
    """The answer for a push sweep over ``readers``; None for any other sweep."""
    if frame.empty or not _push_sweep(run):
        return None
    param, values = "readers", [int(v) for v in run.swept.values]
    per_point: dict[tuple[str, str], list[float]] = {}
    for t in run.passing:
        per_point.setdefault((t.scenario, t.strategy), []).append(trial_seconds(t.metrics))
    rows: list[tuple[str, list[float | None]]] = []
    for strategy, g in frame.groupby("strategy", sort=False):
        by_value = {int(r[param]): r for r in g.to_dict("records")}
        cells: list[float | None] = []
        for v in values:
            r = by_value.get(v)
            if r is None:
                cells.append(math.nan)
            elif r["status"] != "ok":
                cells.append(None)
            else:
                known = [x for x in per_point.get((r["scenario"], str(strategy)), []) if math.isfinite(x)]
                cells.append(statistics.median(known) if known else math.nan)
        rows.append((str(strategy), cells))
    table = {s: dict(zip(values, cells, strict=True)) for s, cells in rows}
    lines = [f"{f.strategy}: {_pool_line(f, table[f.strategy])}" for f in found]
    lines += _fastest_and_classic(run, frame, found, table)
    if "direct" not in run.raw:  # a sweep --direct says its own check (harness.sweeps.direct)
        lines.append(
            f"T is a model: against a real engine it came out 13-22% short of direct runs (a long run builds while it "
            f"pushes); `sweep --direct` runs {IMAGES} images once at the best pool and prints both"
        )
    return Answer(param, values, rows, _images_per_trial(run), lines)


def _images_per_trial(run: Run) -> int:
    definitions = [s.definition for s in run.scenarios.values()]
    counts = {int(d.get("writers", 0)) * int(d.get("items_per_writer", 0)) for d in definitions}
    return max(counts, default=0)


def _t(cell: float | None) -> str:
    return f"{cell:.0f} s" if cell is not None and math.isfinite(cell) else "unknown"


def _pool_line(f: Finding, t: dict[int, float | None]) -> str:
    if f.pool_independent:
        return f"runs no pool: {IMAGES} images in {_t(t.get(f.best))} (measured at a pool of {f.best} only)"
    text = f"best pool of {f.best} pushes: {IMAGES} images in {_t(t.get(f.best))}"
    if f.flat:
        text += f" (flat: every pool size within {1 - KNEE:.0%})"
    elif f.tie_with is not None:
        text += f" (not separated from a pool of {f.tie_with} over the repeats)"
    text += f"; knee {f.knee}" if f.knee == f.best else f"; knee {f.knee} pushes: {_t(t.get(f.knee))}"
    known = {v: c for v, c in t.items() if c is not None and math.isfinite(c)}
    quickest = min(known, key=lambda v: known[v], default=f.best)
    if f.best in known and quickest != f.best:  # the two figures disagree: say so, decide nothing
        text += (
            f"; but counting the start-up once, as {IMAGES} images would, a pool of {quickest} is quicker "
            f"({_t(known[quickest])}): the trials' start-up varied more than the pools differ"
        )
    return text


def _fastest_and_classic(
    run: Run, frame: pd.DataFrame, found: list[Finding], table: dict[str, dict[int, float | None]]
) -> list[str]:
    """The fastest strategy at its best pool, and how far the classic recipe at its best is from it."""
    at_best = [(f, table[f.strategy].get(f.best)) for f in found]
    known = sorted(((f, t) for f, t in at_best if t is not None and math.isfinite(t)), key=lambda ft: ft[1])
    if not known:
        return []
    (top, top_t), out = known[0], []
    out.append(f"fastest: {top.strategy} with a pool of {top.best} pushes: {IMAGES} images in {_t(top_t)}")
    if len(known) > 1:
        second = known[1][0]
        samples = point_samples(run, str(frame["rank_by"].iloc[0]))
        point = dict(zip(frame["readers"].astype(int), frame["scenario"], strict=False))
        mine = samples.get((point.get(top.best, ""), top.strategy), [])
        theirs = samples.get((point.get(second.best, ""), second.strategy), [])
        if not distinguishable(mine, theirs):
            out[-1] += f" (not separated from {second.strategy} at its best over the repeats)"
    classic = next(((f, t) for f, t in known if f.strategy == CLASSIC), None)
    if classic is not None and classic[0] is not top:
        gap = classic[1] - top_t
        out.append(
            f"the classic recipe ({CLASSIC}) at its best pool of {classic[0].best} pushes: {IMAGES} images in "
            f"{_t(classic[1])}, {gap:.0f} s ({gap / top_t:.0%}) slower than the fastest "
            f"({top.strategy}, pool of {top.best})"
        )
    elif classic is not None:
        out.append(f"the classic recipe ({CLASSIC}) is the fastest here")
    return out
