"""Sweeps: one scenario run at each value of a parameter, to find the right pool size.

``--vary readers=1..8`` (a range; ``1..16:2`` steps by 2, ``1..64*2`` doubles) or
``--vary payload_bytes=1e2,1e4,1e6`` (a list). Several ``--vary`` make a grid; the
first is the x axis, the others split the lines. Each point is a normal scenario,
named ``<scenario>.<param>-<value>`` (names stay file-safe), validated like any
scenario file, and the whole sweep runs through :func:`harness.running.suite.execute` as
one run whose ``run.json`` records ``sweep``: the parameter, its values and which
scenario is which point.

Per strategy, the **best** value has the highest median throughput among points
whose every trial passed; the **knee** is the smallest value reaching ``KNEE`` of
that best throughput: the pool size past which more readers buy (almost) nothing.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError

from harness.analysis.ranking import distinguishable
from harness.analysis.summary import DEFAULT_RANK_BY, RANK_BY, summarize
from harness.analysis.summary import window as used_window
from harness.errors import SweepError
from harness.rundir.model import Run
from harness.scenario import LoadedScenario, Scenario
from harness.sweeps.planning import pool_independent

#: Scenario fields a sweep may vary (all integers).
SWEEPABLE = ("readers", "writers", "items_per_writer", "payload_bytes", "queue_maxsize")
#: The knee: the smallest value reaching this fraction of the best throughput.
KNEE = 0.95
MAX_POINTS = 200


@dataclass(frozen=True)
class Vary:
    param: str
    values: tuple[int, ...]


def _number(token: str, spec: str) -> int:
    try:
        value = float(token)
    except ValueError:
        raise SweepError(f"--vary {spec}: {token!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise SweepError(f"--vary {spec}: {token!r} is not a whole number")
    return int(value)


def parse_vary(spec: str) -> Vary:
    """``param=a..b``, ``param=a..b:step``, ``param=a..b*factor`` or ``param=v1,v2,...``."""
    param, sep, text = (s.strip() for s in spec.partition("="))
    if not sep or not param or not text:
        raise SweepError(f"--vary {spec!r}: expected PARAM=VALUES, e.g. readers=1..8 or payload_bytes=1e2,1e4")
    if param not in SWEEPABLE:
        raise SweepError(f"--vary {spec}: cannot vary {param!r}; choose one of {', '.join(SWEEPABLE)}")
    if ".." in text:
        lo_text, _, rest = text.partition("..")
        step_text, factor_text = "1", ""
        if ":" in rest:
            rest, _, step_text = rest.partition(":")
        elif "*" in rest:
            rest, _, factor_text = rest.partition("*")
        lo, hi = _number(lo_text, spec), _number(rest, spec)
        if hi < lo:
            raise SweepError(f"--vary {spec}: the range is empty ({lo} > {hi})")
        if factor_text:
            factor = _number(factor_text, spec)
            if factor < 2 or lo < 1:
                raise SweepError(f"--vary {spec}: a geometric range needs a start >= 1 and a factor >= 2")
            values = [lo]
            while values[-1] * factor <= hi:
                values.append(values[-1] * factor)
        else:
            step = _number(step_text, spec)
            if step < 1:
                raise SweepError(f"--vary {spec}: the step must be >= 1")
            if (hi - lo) // step + 1 > MAX_POINTS:
                raise SweepError(f"--vary {spec}: more than {MAX_POINTS} values")
            values = list(range(lo, hi + 1, step))
    else:
        values = [_number(t.strip(), spec) for t in text.split(",") if t.strip()]
        if not values:
            raise SweepError(f"--vary {spec}: no values")
    if len(set(values)) != len(values):
        raise SweepError(f"--vary {spec}: a value is repeated")
    return Vary(param, tuple(values))


@dataclass(frozen=True)
class Point:
    loaded: LoadedScenario
    values: dict[str, int]


def pick(loaded: list[LoadedScenario], name: str | None) -> LoadedScenario:
    """The scenario to sweep: the file's only one, or the one named."""
    names = [ls.scenario.name for ls in loaded]
    if name is not None:
        for ls in loaded:
            if ls.scenario.name == name:
                return ls
        raise SweepError(f"no scenario {name!r} in {loaded[0].source}; it holds: {', '.join(names)}")
    if len(loaded) > 1:
        raise SweepError(
            f"{loaded[0].source} holds {len(loaded)} scenarios ({', '.join(names)}); pick one with --scenario"
        )
    return loaded[0]


def point_name(base: str, values: dict[str, int]) -> str:
    return ".".join([base, *(f"{k}-{v}" for k, v in values.items())])


def expand(base: LoadedScenario, varies: list[Vary]) -> list[Point]:
    """One validated scenario per grid point, in grid order (the last parameter varies fastest)."""
    if not varies:
        raise SweepError("nothing to sweep: give at least one --vary PARAM=VALUES")
    params = [v.param for v in varies]
    if len(set(params)) != len(params):
        raise SweepError(f"--vary {params[0]} given twice; give each parameter once")
    grid = list(itertools.product(*(v.values for v in varies)))
    if len(grid) > MAX_POINTS:
        raise SweepError(f"the sweep has {len(grid)} points; at most {MAX_POINTS}")
    data = base.scenario.model_dump()
    points = []
    for combo in grid:
        values = dict(zip(params, combo, strict=True))
        name = point_name(base.scenario.name, values)
        try:
            sc = Scenario.model_validate({**data, **values, "name": name})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "scenario"
            at = ", ".join(f"{k} = {v}" for k, v in values.items())
            msg = err["msg"].removeprefix("Value error, ")
            raise SweepError(f"--vary: scenario '{base.scenario.name}' at {at}: field '{where}': {msg}") from None
        points.append(Point(LoadedScenario(sc, base.source), values))
    return points


def record(base: LoadedScenario, varies: list[Vary], points: list[Point]) -> dict[str, Any]:
    """The ``sweep`` entry of run.json."""
    return {
        "scenario": base.scenario.name,
        "source": base.source,
        "param": varies[0].param,
        "values": list(varies[0].values),
        "params": {v.param: list(v.values) for v in varies},
        "points": {p.loaded.scenario.name: p.values for p in points},
    }


# --------------------------------------------------------------------------- #
# Results.


def results(run: Run, rank_by: str = DEFAULT_RANK_BY) -> pd.DataFrame:
    """One row per point x strategy: the parameter values, then the run's summary columns."""
    sweep = run.swept
    summary = summarize(run, rank_by)
    ideal = _ideal_throughput(run)
    rows = []
    for row in summary.to_dict("records"):
        values = sweep.points.get(row["scenario"])
        if values is None:
            continue
        rows.append({**values, **row, "ideal_throughput": ideal.get(row["scenario"], math.nan)})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values([*sweep.groups, "strategy", sweep.param], kind="stable").reset_index(drop=True)


def _ideal_throughput(run: Run) -> dict[str, float]:
    """Items / ideal makespan per point: the best any strategy could do (an upper bound)."""
    out: dict[str, list[float]] = {}
    for t in run.measured:
        ideal, expected = t.metric("ideal_makespan_s"), t.metric("expected")
        if ideal and expected:
            out.setdefault(t.scenario, []).append(expected / ideal)
    return {k: sorted(v)[len(v) // 2] for k, v in out.items()}


def group_params(run: Run) -> list[str]:
    """The swept parameters other than the x axis: each combination is its own line."""
    return run.swept.groups


@dataclass(frozen=True)
class Finding:
    strategy: str
    group: dict[str, int]
    param: str
    best: int
    best_throughput: float
    knee: int
    knee_throughput: float
    #: Every passing value within KNEE of the best: the parameter makes no real difference
    #: (sequential ignores `readers`), so "best" is noise and only the knee means anything.
    flat: bool = False
    #: The value the best was not distinguishable from over the repeats (harness.analysis.ranking), if any:
    #: then the best is not marked ★, and the line says so.
    tie_with: int | None = None
    #: The strategy runs no pool (sequential) and the sweep is over ``readers``: measured at one
    #: point only (harness.sweeps.planning); it has no best or knee, only its one figure.
    pool_independent: bool = False

    @property
    def label(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.group.items())
        return f"{self.strategy} [{extra}]" if extra else self.strategy

    def lines(self) -> list[str]:
        if self.pool_independent:
            return [
                f"{self.label}: runs no pool, so {self.param} makes no difference: {self.best_throughput:.4g} items/s "
                f"(measured at {self.param} = {self.best} only)"
            ]
        flat = f"; flat: every {self.param} within {1 - KNEE:.0%}" if self.flat else ""
        if not self.flat and self.tie_with is not None:
            flat = f"; not distinguishable from {self.param} = {self.tie_with} over the repeats"
        return [
            f"{self.label}: best {self.param} = {self.best} ({self.best_throughput:.4g} items/s{flat})",
            f"{self.label}: knee {self.param} = {self.knee} "
            f"({self.knee_throughput:.4g} items/s, >= {KNEE:.0%} of best)",
        ]


def findings(run: Run, frame: pd.DataFrame) -> list[Finding]:
    """Best value and knee per strategy (and per combination of the other parameters)."""
    param = run.swept.param
    groups = group_params(run)
    out: list[Finding] = []
    if frame.empty:
        return out
    samples = point_samples(run, str(frame["rank_by"].iloc[0]))
    for key, g in frame.groupby([*groups, "strategy"], sort=False):
        keys = key if isinstance(key, tuple) else (key,)
        ok = g[(g["status"] == "ok") & g["throughput"].notna()]
        if ok.empty:
            continue
        best = ok.loc[ok["throughput"].idxmax()]
        knee = ok[ok["throughput"] >= KNEE * best["throughput"]].sort_values(param).iloc[0]
        runner = ok.drop(index=best.name).sort_values("throughput", ascending=False).head(1)
        tie_with = None
        if len(runner):
            mine = samples.get((best["scenario"], str(keys[-1])), [])
            theirs = samples.get((runner["scenario"].iloc[0], str(keys[-1])), [])
            tie_with = None if distinguishable(mine, theirs) else int(runner[param].iloc[0])
        out.append(
            Finding(
                strategy=str(keys[-1]),
                group={p: int(v) for p, v in zip(groups, keys[:-1], strict=True)},
                param=param,
                best=int(best[param]),
                best_throughput=float(best["throughput"]),
                knee=int(knee[param]),
                knee_throughput=float(knee["throughput"]),
                flat=len(ok) > 1 and bool((ok["throughput"] >= KNEE * best["throughput"]).all()),
                tie_with=tie_with,
                pool_independent=len(ok) == 1 and pool_independent(str(keys[-1]), param),
            )
        )
    return out


def point_samples(run: Run, window: str) -> dict[tuple[str, str], list[float]]:
    """Each point's passing repeats (items/s over ``window``), per (point scenario, strategy); a run
    recorded before trials measured a total window gives its makespan's, as its summary does."""
    key = RANK_BY[used_window(run, window)]
    out: dict[tuple[str, str], list[float]] = {}
    for t in run.passing:
        value = t.metric(key)
        if isinstance(value, int | float):
            out.setdefault((t.scenario, t.strategy), []).append(float(value))
    return out


# --------------------------------------------------------------------------- #
# The pivots the terminal and the report show: strategy x value.


@dataclass(frozen=True)
class PivotCell:
    value: float
    ok: bool  # every trial at this point passed
    mark: str = ""  # throughput only: ★ best, ◆ knee, ★◆ both


@dataclass(frozen=True)
class Pivot:
    column: str  # "throughput" (items/s) or "e2e_p99_ms"
    param: str
    values: list[int]
    rows: list[tuple[str, list[PivotCell | None]]]  # a line's label, then a cell per value (None: not run)
    ideal: list[float] | None = None  # throughput only: the ideal bound at each value
    window: str = DEFAULT_RANK_BY  # the window items/s is measured over


def pivots(run: Run, frame: pd.DataFrame, found: list[Finding]) -> list[Pivot]:
    """Two pivots, strategy x value: median items/s (best and knee marked) and median p99 ms."""
    param, values = run.swept.param, [int(v) for v in run.swept.values]
    groups = group_params(run)
    starred = {f.label for f in found if not f.flat and f.tie_with is None}  # a best the repeats separate
    marks = {(f.label, f.best): "★" for f in found if f.label in starred and not f.pool_independent}
    marks.update(
        {
            (f.label, f.knee): "★◆" if f.knee == f.best and f.label in starred else "◆"
            for f in found
            if not f.pool_independent
        }
    )
    out = []
    for column in ("throughput", "e2e_p99_ms"):
        rows: list[tuple[str, list[PivotCell | None]]] = []
        for key, g in frame.groupby([*groups, "strategy"], sort=False):
            keys = key if isinstance(key, tuple) else (key,)
            label = Finding(str(keys[-1]), dict(zip(groups, keys[:-1], strict=True)), param, 0, 0, 0, 0).label
            by_value = {int(r[param]): r for r in g.to_dict("records")}
            cells: list[PivotCell | None] = []
            for v in values:
                r = by_value.get(v)
                if r is None:
                    cells.append(None)
                    continue
                ok = r["status"] == "ok"
                mark = marks.get((label, v), "") if ok and column == "throughput" else ""
                cells.append(PivotCell(float(r[column]), ok, mark))
            rows.append((label, cells))
        ideal = None
        if column == "throughput" and frame["ideal_throughput"].notna().any():
            by_param = frame.drop_duplicates(param).set_index(param)["ideal_throughput"]
            ideal = [float(by_param.get(v, math.nan)) for v in values]
        out.append(Pivot(column, param, values, rows, ideal, str(frame["rank_by"].iloc[0])))
    return out
