"""What a sweep's numbers need said in words: a best value at the edge of the swept range
(the optimum may lie beyond it), and a slower recipe that wins because it is slow (its
per-item overhead keeps fewer requests in flight at a service that collapses past capacity).
"""

from __future__ import annotations

import math

import pandas as pd

from harness.rundir.model import Run
from harness.sweeps.findings import Finding


def edge_notes(run: Run, found: list[Finding]) -> list[str]:
    """A strategy whose best value is the first or last swept value: the optimum may lie beyond."""
    values = [int(v) for v in run.swept.values]
    if len(values) < 2:
        return []
    param, out = run.swept.param, list[str]()
    for f in found:
        if f.flat or f.pool_independent:
            continue
        if f.best == values[-1]:
            out.append(
                f"{f.label}: best {param} = {f.best} is the largest value swept; the optimum may lie beyond "
                f"it: sweep further (e.g. --vary {param}={values[-1]}..{values[-1] * 2})."
            )
        elif f.best == values[0] and values[0] > 1:
            out.append(f"{f.label}: best {param} = {f.best} is the smallest value swept; the optimum may lie below it.")
    return out


def _capacity(run: Run, scenario: str) -> float:
    work = run.definition(scenario).get("reader_work", {})
    cap = work.get("capacity") if work.get("kind") == "service" else None
    return float(cap) if isinstance(cap, int | float) else math.nan


def slow_wins(run: Run, frame: pd.DataFrame) -> list[str]:
    """Points past a service's capacity where the best strategy kept fewer requests in flight than
    the runner-up: it wins because its overhead throttles the pool, not because it moves items faster."""
    param, out = run.swept.param, list[str]()
    if frame.empty or "service_peak_active" not in frame:
        return out
    for scenario, g in frame.groupby("scenario", sort=False):
        cap = _capacity(run, str(scenario))
        ranked = g[g["rank"].notna()].sort_values("rank", kind="stable")
        if not math.isfinite(cap) or len(ranked) < 2:
            continue
        best, runner = ranked.iloc[0], ranked.iloc[1]
        if best["verdict"] != "best" or best["pool_size"] <= cap:
            continue
        mine, theirs = best["service_peak_active"], runner["service_peak_active"]
        if math.isfinite(mine) and math.isfinite(theirs) and mine < theirs:
            out.append(
                f"{param} = {int(best[param])}: {best['strategy']} wins because it is slower: its per-item "
                f"overhead kept at most {mine:g} requests at the service at once against {theirs:g} for "
                f"{runner['strategy']}, and the service (capacity {cap:g}) collapses past its capacity. "
                f"Any strategy with a pool of {cap:g} avoids the collapse; pick the pool size, not the slow recipe."
            )
    return out


def notes(run: Run, frame: pd.DataFrame, found: list[Finding]) -> list[str]:
    return edge_notes(run, found) + slow_wins(run, frame)
