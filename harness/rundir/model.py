"""A stored run as typed, read-only values: :class:`Run` and its :class:`Trial` objects.

``run.json`` is checked by :mod:`harness.rundir.schema` and then built into a :class:`Run`
once (:func:`harness.rundir.schema.parse`, :func:`harness.rundir.store.read_run`); every
layer above reads these objects instead of the raw document. Values keep the type they had
in the file (a count stays an ``int``, a missing measurement is ``None``), so what is shown
from them is what was stored. ``raw`` keeps the trial's (or run's) table as read, for the
rare field that has no attribute here and for output that must repeat the file.

:meth:`Run.from_doc` trusts its input: it is for documents already checked (or written by
this harness); an unchecked document goes through :func:`harness.rundir.schema.parse`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

#: A metric's stored value: a number, a flag (``exactly_once``), or None (not measured).
MetricValue: TypeAlias = float | bool | None

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(table: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only view of a copy of ``table`` (an empty one for None)."""
    return MappingProxyType(dict(table)) if table else _EMPTY


@dataclass(frozen=True, slots=True)
class Faults:
    """How a fault trial ended (``faults`` in run.json); a count a run left out reads as 0,
    ``delivered`` as None."""

    outcome: str  # recovered, hung or crashed
    injected: tuple[str, ...] = ()
    delivered: int | None = None
    lost: int = 0
    duplicated: int = 0
    failed_with_error: int = 0
    leftover_processes: int = 0
    detection_s: float | None = None

    @classmethod
    def from_dict(cls, f: Mapping[str, Any]) -> Faults:
        return cls(
            outcome=f["outcome"],
            injected=tuple(f.get("injected") or ()),
            delivered=f.get("delivered"),
            lost=f.get("lost", 0),
            duplicated=f.get("duplicated", 0),
            failed_with_error=f.get("failed_with_error", 0),
            leftover_processes=f.get("leftover_processes", 0),
            detection_s=f.get("detection_s"),
        )


@dataclass(frozen=True, slots=True)
class Trial:
    """One trial's stored summary. ``metrics`` is read-only (empty when none were recorded)."""

    id: str
    scenario: str
    strategy: str
    status: str  # ok, failed, timeout, error or unavailable
    warmup: bool = False
    repeat: int = 0
    errors: tuple[str, ...] = ()
    metrics: Mapping[str, MetricValue] = field(default_factory=lambda: _EMPTY)
    faults: Faults | None = None
    side: str | None = None  # ab's A/B, or an interpreter's label
    samples: str | None = None  # samples/NAME.parquet, relative to the run directory
    start_method: str | None = None
    where: str | None = None
    leftovers: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_dict(cls, t: Mapping[str, Any]) -> Trial:
        faults = t.get("faults")
        return cls(
            id=t["id"],
            scenario=t["scenario"],
            strategy=t["strategy"],
            status=t["status"],
            warmup=bool(t.get("warmup", False)),
            repeat=t.get("repeat", 0),
            errors=tuple(t.get("errors") or ()),
            metrics=_frozen(t.get("metrics")),
            faults=Faults.from_dict(faults) if faults else None,
            side=t.get("side"),
            samples=t.get("samples"),
            start_method=t.get("start_method"),
            where=t.get("where"),
            leftovers=tuple(t.get("leftovers") or ()),
            raw=_frozen(t),
        )

    @property
    def ok(self) -> bool:
        """Whether the trial passed."""
        return self.status == "ok"

    @property
    def label(self) -> str:
        """The strategy, with the trial's side where it has one (``threads@A``): sides never pool."""
        return f"{self.strategy}@{self.side}" if self.side else self.strategy

    def metric(self, key: str) -> float | None:
        """One metric's stored number (an ``int`` stays one); None where it is absent, was not
        measured, or is a flag rather than a number (``exactly_once``: read ``metrics``)."""
        value = self.metrics.get(key)
        return None if isinstance(value, bool) else value

    def without_side(self) -> Trial:
        """The same trial as a plain run's: no side (an ab run's half, pairs matched by strategy)."""
        return dataclasses.replace(self, side=None, raw=self._raw_without("side"))

    def without_samples(self) -> Trial:
        """The same trial without its samples file (one that is missing from the run directory)."""
        return dataclasses.replace(self, samples=None, raw=self._raw_without("samples"))

    def _raw_without(self, key: str) -> Mapping[str, Any]:
        return MappingProxyType({k: v for k, v in self.raw.items() if k != key})


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The machine a run was made on, as measured when it started (the fields code reads)."""

    os: str
    os_release: str
    arch: str
    cpu_model: str
    start_method: str
    python_implementation: str
    python_version: str
    logical_cores: int
    effective_parallelism: float
    gil_enabled: bool | None = None
    usable_cores: int | None = None
    physical_cores: int | None = None
    memory_gb: float | None = None
    load_average: tuple[float, ...] | None = None  # None: not recorded
    host: str | None = None
    git_commit: str | None = None
    calibration: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    packages: Mapping[str, str | None] = field(default_factory=lambda: _EMPTY)
    python: Mapping[str, str | bool | int | float | None] = field(default_factory=lambda: _EMPTY)
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_dict(cls, fp: Mapping[str, Any]) -> Fingerprint:
        py = fp["python"]
        return cls(
            os=fp["os"],
            os_release=fp["os_release"],
            arch=fp["arch"],
            cpu_model=fp["cpu_model"],
            start_method=fp["start_method"],
            python_implementation=py["implementation"],
            python_version=py["version"],
            logical_cores=fp["logical_cores"],
            effective_parallelism=fp["effective_parallelism"],
            gil_enabled=py.get("gil_enabled"),
            usable_cores=fp.get("usable_cores"),
            physical_cores=fp.get("physical_cores"),
            memory_gb=fp.get("memory_gb"),
            load_average=tuple(fp["load_average"]) if fp.get("load_average") is not None else None,
            host=fp.get("host"),
            git_commit=fp.get("git_commit"),
            calibration=_frozen(fp.get("calibration")),
            packages=_frozen(fp.get("packages")),
            python=_frozen(py),
            raw=_frozen(fp),
        )


@dataclass(frozen=True, slots=True)
class StoredScenario:
    """A scenario as the run stored it: its definition (normalised, every field named) and source."""

    name: str
    definition: Mapping[str, Any]
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Sweep:
    """A sweep run's record: the swept parameters, the first of them (the x axis), each point's values."""

    scenario: str
    param: str
    values: tuple[float, ...]
    params: Mapping[str, tuple[float, ...]]
    points: Mapping[str, Mapping[str, float]]
    source: str | None = None

    @classmethod
    def from_dict(cls, s: Mapping[str, Any]) -> Sweep:
        return cls(
            scenario=s["scenario"],
            param=s["param"],
            values=tuple(s["values"]),
            params=MappingProxyType({k: tuple(v) for k, v in s["params"].items()}),
            points=MappingProxyType({k: _frozen(v) for k, v in s["points"].items()}),
            source=s.get("source"),
        )

    @property
    def groups(self) -> list[str]:
        """The swept parameters other than the x axis: each combination is its own line."""
        return [p for p in self.params if p != self.param]


@dataclass(frozen=True, slots=True)
class Run:
    """A stored run (``run.json``), built once from a checked document."""

    status: str  # running, incomplete or complete
    fingerprint: Fingerprint | None  # None only in a run assembled in memory (``ab -r auto`` looks)
    trials: tuple[Trial, ...]
    scenarios: Mapping[str, StoredScenario] = field(default_factory=lambda: _EMPTY)
    schema_version: int = 1
    started_at: str | None = None
    finished_at: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    sweep: Sweep | None = None
    reference: Mapping[str, Any] | None = None  # the reference workload's timings (unchecked: read with care)
    interpreters: Mapping[str, Any] | None = None  # label -> an interpreter's facts (several --python)
    ab: Mapping[str, Any] | None = None  # an ab run's sides and order (not checked by the schema)
    raw: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Run:
        """The run of a document already checked by the schema (or written by this harness)."""
        fp, sweep, ab = doc.get("fingerprint"), doc.get("sweep"), doc.get("ab")
        return cls(
            status=doc["status"],
            fingerprint=Fingerprint.from_dict(fp) if fp else None,
            trials=tuple(Trial.from_dict(t) for t in doc["trials"]),
            scenarios=MappingProxyType(
                {
                    name: StoredScenario(name, _frozen(entry.get("definition")), entry.get("source"))
                    for name, entry in (doc.get("scenarios") or {}).items()
                }
            ),
            schema_version=doc.get("schema_version", 1),
            started_at=doc.get("started_at"),
            finished_at=doc.get("finished_at"),
            options=_frozen(doc.get("options")),
            sweep=Sweep.from_dict(sweep) if sweep else None,
            reference=_frozen(doc["reference"]) if isinstance(doc.get("reference"), Mapping) else None,
            interpreters=_frozen(doc["interpreters"]) if doc.get("interpreters") else None,
            ab=(_frozen(ab) if isinstance(ab, Mapping) else _EMPTY) if ab is not None else None,
            raw=_frozen(doc),
        )

    @property
    def measured(self) -> tuple[Trial, ...]:
        """The trials that count: every one but the warmups, in run order."""
        return tuple(t for t in self.trials if not t.warmup)

    @property
    def passing(self) -> tuple[Trial, ...]:
        """The measured trials that passed."""
        return tuple(t for t in self.trials if not t.warmup and t.ok)

    @property
    def machine(self) -> Fingerprint:
        """The fingerprint of a stored run (ValueError for a run assembled in memory without one)."""
        if self.fingerprint is None:
            raise ValueError("this run has no fingerprint")
        return self.fingerprint

    @property
    def strategy_options(self) -> Mapping[str, Any]:
        return self.options.get("strategy_options") or _EMPTY

    @property
    def swept(self) -> Sweep:
        """The sweep record of a sweep run (ValueError for any other run)."""
        if self.sweep is None:
            raise ValueError("not a sweep run: its run.json has no 'sweep' section")
        return self.sweep

    def definition(self, scenario: str) -> Mapping[str, Any]:
        """A scenario's stored definition; empty when the run does not define it."""
        entry = self.scenarios.get(scenario)
        return entry.definition if entry is not None else _EMPTY

    def scenario_names(self) -> list[str]:
        """Scenarios with measured trials, in run order (the order the run defines them)."""
        seen = {t.scenario for t in self.trials if not t.warmup}
        return [name for name in self.scenarios if name in seen]
