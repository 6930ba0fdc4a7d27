"""One answer in the user's terms for every sweep, after the tables and the per-strategy lines:

    answer: use threads with a pool of 3: 121 items/s (not separated from asyncio at its best
    over the repeats); the classic recipe (seed-pool) reaches 88.7 at its best (a pool of 3)

and, for a sweep over ``readers`` where the items' service time was measured, Little's law's
sizing: to sustain a throughput X with each item in service S seconds, X × S items are in
service at once on average, so the pool needs at least that many readers (S as one reader
measured it, the service unloaded).
"""

from __future__ import annotations

import math
import statistics

from harness.analysis.ranking import distinguishable, min_repeats_for_a_verdict
from harness.rundir.model import Run
from harness.sweeps.answer import CLASSIC
from harness.sweeps.findings import Finding, point_samples


def _where(f: Finding, value: int) -> str:
    others = "".join(f", {k} = {v}" for k, v in f.group.items())
    return (f"a pool of {value}" if f.param == "readers" else f"{f.param} = {value}") + others


def _point(run: Run, f: Finding, value: int) -> str | None:
    want = {f.param: value, **f.group}
    for name, values in run.swept.points.items():
        if all(int(values.get(k, -1)) == v for k, v in want.items()):
            return name
    return None


def verdict(run: Run, found: list[Finding], window: str) -> list[str]:
    """The answer line (and Little's law's line where it applies); empty when nothing passed."""
    if not found:
        return []
    top = max(found, key=lambda f: f.best_throughput)
    samples = point_samples(run, window)
    mine = samples.get((_point(run, top, top.best) or "", top.strategy), [])
    ties = [
        f.label
        for f in found
        if f is not top and not distinguishable(mine, samples.get((_point(run, f, f.best) or "", f.strategy), []))
    ]
    where = "" if top.pool_independent else f" with {_where(top, top.best)}"
    line = f"answer: use {top.label}{where}: {top.best_throughput:.3g} items/s"
    if len(mine) < (least := min_repeats_for_a_verdict()):
        line += f" ({len(mine)} repeat(s) there: the rank test needs {least} to separate it from any other)"
    elif ties:
        line += (
            f" (not separated from {', '.join(ties)} at {'its' if len(ties) == 1 else 'their'} best over the repeats)"
        )
    classic = next((f for f in found if f.strategy == CLASSIC and f is not top), None)
    if classic is not None:
        line += (
            f"; the classic recipe ({CLASSIC}) reaches {classic.best_throughput:.3g} at its best "
            f"({_where(classic, classic.best)})"
        )
    out = [line]
    if little := littles_law(run, top):
        out.append(little)
    return out


def littles_law(run: Run, top: Finding) -> str:
    """Readers needed to sustain the best throughput at the service time one reader measured."""
    if top.param != "readers" or top.pool_independent:
        return ""
    first = min(int(v) for v in run.swept.values)
    point = _point(run, top, first)
    times = [t.metric("service_p50_ms") for t in run.passing if t.scenario == point and t.strategy == top.strategy]
    known = [float(v) for v in times if isinstance(v, int | float) and math.isfinite(v) and v > 0]
    if not known:
        return ""
    service_s = statistics.median(known) / 1000
    busy = top.best_throughput * service_s
    return (
        f"Little's law: sustaining {top.best_throughput:.3g} items/s at {service_s * 1000:.3g} ms an item "
        f"(the median service time with a pool of {first}) keeps {busy:.2g} items in service at once on average: "
        f"a pool of at least {math.ceil(busy - 1e-9)}"
    )
