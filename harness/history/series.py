"""Runs, from many machines and commits, as series that never mix machines.

A series is one machine fingerprint x interpreter x scenario x strategy x metric, in the order
the runs started; each point is one run's median over its passing measured trials, with the
run's commit and folder. Two runs are on the same machine when the fingerprint fields that make
timings incomparable (:data:`harness.gate.compare.FINGERPRINT_FIELDS`: OS, architecture, CPU
model, cores, Python, start method) and the host agree; a run of another machine starts series
of its own, and the first run of each new machine is named (a machine change is never read as a
change point). ``ab`` runs hold two sides of code and are left out, said so.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HistoryError, QueuebenchError
from harness.gate.compare import machine_facts
from harness.rundir import store
from harness.rundir.model import Fingerprint, Run

_INTERPRETER = ("python.implementation", "python.version", "python.gil_enabled", "start_method")


@dataclass(frozen=True)
class Machine:
    id: str  # a short digest of the fingerprint fields below
    label: str  # for people: host · CPU · cores · OS/arch
    facts: tuple[tuple[str, str], ...]  # every fingerprint field that tells machines apart


@dataclass(frozen=True)
class Key:
    machine: str  # Machine.id
    python: str  # "CPython 3.11.7 (forkserver)", free-threaded marked "t"
    scenario: str
    strategy: str
    metric: str

    @property
    def name(self) -> str:
        return f"{self.scenario}/{self.strategy} · {self.python} · {self.machine}"


@dataclass(frozen=True)
class Point:
    run: Path
    started_at: str
    commit: str | None
    value: float  # median of the run's passing measured trials
    n: int  # how many


@dataclass(frozen=True)
class Series:
    key: Key
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Arrival:
    """The first run of a machine after runs of another: series start afresh there."""

    machine: str
    after: str  # the machine of the run before
    run: Path
    started_at: str
    commit: str | None
    differs: tuple[str, ...]  # "CPU model 'A' → 'B'"


@dataclass(frozen=True)
class History:
    metric: str
    runs: tuple[Path, ...]  # read, oldest first
    machines: tuple[Machine, ...]
    series: tuple[Series, ...]
    arrivals: tuple[Arrival, ...]
    skipped: tuple[str, ...]  # runs left out, with why


def find_runs(paths: Iterable[Path]) -> list[Path]:
    """Every run directory in ``paths``: a run directory itself, or each run below a folder."""
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / store.RUN_FILE).is_file():
            found.append(path)
        elif path.is_dir():
            below = sorted(p.parent for p in path.rglob(store.RUN_FILE))
            if not below:
                raise HistoryError(f"{path}: no run here (no {store.RUN_FILE} in it or below)")
            found += below
        else:
            raise HistoryError(f"{path}: not a directory (give run directories or folders holding runs)")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique]


def machine_of(fp: Fingerprint | None) -> Machine:
    facts = {k: v for k, v in machine_facts(fp).items() if k not in _INTERPRETER}
    facts["host"] = fp.host if fp else None
    items = tuple((k, str(v)) for k, v in sorted(facts.items()))
    digest = hashlib.sha256(repr(items).encode()).hexdigest()[:8]
    if fp is None:
        return Machine(digest, "unknown machine", items)
    cores = fp.usable_cores or fp.logical_cores
    return Machine(digest, f"{fp.host or '?'} · {fp.cpu_model} · {cores} cores · {fp.os}/{fp.arch}", items)


def python_of(fp: Fingerprint | None) -> str:
    if fp is None:
        return "unknown Python"
    free = "t" if fp.gil_enabled is False else ""
    return f"{fp.python_implementation} {fp.python_version}{free} ({fp.start_method})"


def gather(paths: Iterable[Path], metric: str = "throughput") -> History:
    """Read every run under ``paths`` and cut them into series. Raises HistoryError."""
    from harness.gate.verdicts import metric as metric_of

    key = metric_of(metric).key
    loaded: list[tuple[Path, Run]] = []
    skipped: list[str] = []
    for path in find_runs(paths):
        try:
            run = store.read_run(path)
        except QueuebenchError as exc:
            skipped.append(f"{path}: {exc}")
            continue
        if run.ab is not None:
            skipped.append(f"{path}: an ab run (two sides of code in one run), not a point of a history")
            continue
        loaded.append((path, run))
    if not loaded:
        raise HistoryError("no readable run to build a history from" + (f" ({skipped[0]})" if skipped else ""))
    loaded.sort(key=lambda pr: (pr[1].started_at or "", str(pr[0])))
    machines: dict[str, Machine] = {}
    points: dict[Key, list[Point]] = {}
    arrivals: list[Arrival] = []
    previous: Machine | None = None
    for path, run in loaded:
        fp = run.fingerprint
        machine = machine_of(fp)
        if previous is not None and machine.id not in machines:
            before = dict(previous.facts)
            differs = tuple(f"{k} {before.get(k)!r} → {v!r}" for k, v in machine.facts if before.get(k) != v)
            commit = fp.git_commit if fp else None
            arrivals.append(Arrival(machine.id, previous.id, path, run.started_at or "", commit, differs))
        machines.setdefault(machine.id, machine)
        previous = machine
        for (scenario, strategy), values in _medians(run, key).items():
            k = Key(machine.id, python_of(fp), scenario, strategy, key)
            point = Point(
                path, run.started_at or "", fp.git_commit if fp else None, statistics.median(values), len(values)
            )
            points.setdefault(k, []).append(point)
    series = tuple(Series(k, tuple(v)) for k, v in sorted(points.items(), key=lambda kv: _order(kv[0])))
    return History(key, tuple(p for p, _ in loaded), tuple(machines.values()), series, tuple(arrivals), tuple(skipped))


def _order(key: Key) -> tuple[str, ...]:
    return (key.machine, key.python, key.scenario, key.strategy)


def _medians(run: Run, key: str) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    for t in run.passing:
        value = t.metric(key)
        if value is not None and math.isfinite(value):
            out.setdefault((t.scenario, t.label), []).append(float(value))
    return out
