"""Several interpreters in one run (``queuebench run --python X --python Y``).

Each interpreter is a *side* of the run, as ``ab``'s A and B are: its own local launcher
and probe, its trials interleaved with the others' trial by trial (forwards in one
repeat, backwards in the next), so the drift of a shared machine hits them all alike. A side is named by what
its worker said of itself — ``3.13.5t`` for a free-threaded build, ``3.13.5t+gil`` for one
that runs with the GIL back on (``-X gil=1``, or an extension that asked for it),
``3.11.7`` for a GIL build — so tables read ``threads@3.13.5t`` beside ``threads@3.11.7``.

The run document keeps each interpreter's facts under ``interpreters`` (the fingerprint
holds the first's, which also gives the cpu calibration every side uses: the same work
everywhere). A strategy one interpreter cannot run (subinterpreters under 3.11) is left out
for that interpreter alone, said in ``interpreters[label]["unavailable"]``: the others
still run it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness.rundir.model import Run
from harness.running.launchers.base import Probe

if TYPE_CHECKING:
    from harness.running.suite import Options, Prepared
    from harness.scenario import LoadedScenario

#: What run.json keeps of each interpreter's probe.
FACTS = ("executable", "implementation", "version", "gil_enabled", "free_threaded_build", "effective_parallelism")


def label(probe: Mapping[str, Any]) -> str:
    """``3.13.5t`` (free-threaded build, GIL off), ``3.13.5t+gil`` (that build, GIL on), ``3.11.7``;
    another implementation than CPython is named first (``PyPy 3.10.14``)."""
    version = str(probe.get("version", "?"))
    if probe.get("free_threaded_build") or probe.get("gil_enabled") is False:  # only such a build runs without
        version += "t" if not probe.get("gil_enabled", True) else "t+gil"
    impl = str(probe.get("implementation", "CPython"))
    return version if impl == "CPython" else f"{impl} {version}"


def labels(probes: list[dict[str, Any]]) -> list[str]:
    """One distinct label per probe, in order: a repeated one gets ``#2``, ``#3``, ..."""
    out: list[str] = []
    for probe in probes:
        name, k = label(probe), 2
        while name in out:
            name = f"{label(probe)}#{k}"
            k += 1
        out.append(name)
    return out


def prepare(scenarios: list[LoadedScenario], opts: Options) -> Prepared:
    """A run with one side per interpreter of ``opts.pythons``, their trials interleaved; each
    side named from its worker's probe; a strategy one of them cannot run left out there alone.
    The interpreters' facts (and what each left out) go into ``opts.extra["interpreters"]``.
    Raises as :func:`harness.running.suite.prepare`."""
    from harness.running import launchers, suite

    sides = [launchers.make("local", python=p, recalibrate=opts.recalibrate, user=opts.user) for p in opts.pythons]
    probes = [side.probe() for side in sides]  # the same one twice is two sides: an A/A check
    names = labels([facts(p) for p in probes])
    prepared = suite.prepare_sides(
        scenarios, opts, dict(zip(names, sides, strict=True)), dict(zip(names, probes, strict=True))
    )
    left_out = prepared.drop_unavailable_by_side()
    record = {
        name: facts(probe) | {"given": given, "unavailable": left_out[name]}
        for name, probe, given in zip(names, probes, opts.pythons, strict=True)
    }
    opts.extra = {**opts.extra, "interpreters": record}
    return prepared


def facts(probe: Probe) -> dict[str, Any]:
    """What run.json keeps of a side's probe (:data:`FACTS`)."""
    return {k: getattr(probe, k) for k in FACTS}


def describe(entry: Mapping[str, Any]) -> str:
    """One interpreter's facts as a reader wants them: ``CPython 3.13.5, free-threaded build, GIL off``."""
    text = f"{entry.get('implementation') or '?'} {entry.get('version') or '?'}"
    if entry.get("free_threaded_build"):
        text += ", free-threaded build, GIL " + ("on" if entry.get("gil_enabled", True) else "off")
    return text


def of_run(run: Run) -> dict[str, dict[str, Any]]:
    """The run's interpreters (label -> facts), in the order given; empty for a one-interpreter run."""
    found = run.interpreters
    if found is None:
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def side_by_side(run: Run, metric: str = "throughput_total") -> pd.DataFrame:
    """Scenario x strategy rows, one column per interpreter: the median of ``metric`` over the
    passing measured trials, and each interpreter's ratio to the first (``3.13.5t ÷ 3.11.7``).
    Empty when the run has fewer than two interpreters."""
    names = list(of_run(run))
    if len(names) < 2:
        return pd.DataFrame()
    values: dict[tuple[str, str], dict[str, list[float]]] = {}
    for t in run.passing:
        raw = t.metric(metric)
        if t.side in names and raw is not None and math.isfinite(raw):
            values.setdefault((t.scenario, t.strategy), {}).setdefault(t.side, []).append(float(raw))
    rows = []
    for (scenario, strategy), per in values.items():
        row: dict[str, Any] = {"scenario": scenario, "strategy": strategy}
        medians = {n: float(pd.Series(per[n]).median()) if n in per else math.nan for n in names}
        row.update(medians)
        first = medians[names[0]]
        for n in names[1:]:
            row[f"{n} ÷ {names[0]}"] = medians[n] / first if first > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
