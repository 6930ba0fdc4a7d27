"""The writer/reader contract every strategy implements: its data, nothing else.

Standard library only: this module is imported inside measured worker processes,
possibly under another interpreter (``--python``), so it must stay light.

A strategy is a module-level callable ``run(workload) -> Trace`` (:class:`Strategy`).
It decides only *how* items move from writers to readers and how reader concurrency is
bounded. What each side does per item is a work kind (:mod:`strategies.kinds`), and
the per-item stamping is :mod:`strategies.instrument`, so every strategy is
instrumented identically. Strategies are listed in :mod:`strategies.registry`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from strategies.faults import FaultSpec

now = time.perf_counter_ns

#: What travels through the queue under test: (writer, seq, produced_ns, reader_seconds, payload).
Item = tuple[int, int, int, float, bytes]


@dataclass(frozen=True)
class WorkSpec:
    """What one side does per item: a work kind (strategies.kinds), its mean duration, how
    durations are drawn, and the kind's own parameters (e.g. cpu's ``gil``)."""

    kind: str = "none"
    ms: float = 0.0
    dist: str = "fixed"
    #: For ``uniform``: durations fall in ms * [1 - jitter, 1 + jitter].
    jitter: float = 0.5
    #: The kind's own fields, sorted by name (see each kind's ``params``).
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default

    def with_param(self, name: str, value: Any) -> WorkSpec:
        params = dict(self.params)
        params[name] = value
        return replace(self, params=tuple(sorted(params.items())))


@dataclass(frozen=True)
class Calibration:
    """Units of cpu work per millisecond on an idle core: loop iterations for ``gil="hold"``,
    bytes hashed for ``gil="release"``. Measured once per machine and interpreter, reused."""

    hold_per_ms: float = 20_000.0
    release_per_ms: float = 1_000_000.0


@dataclass(frozen=True)
class Workload:
    """Everything a strategy needs to run one trial. Picklable, immutable."""

    writers: int
    readers: int
    items_per_writer: int
    payload_bytes: int = 0
    queue_maxsize: int = 0
    writer_work: WorkSpec = field(default_factory=WorkSpec)
    reader_work: WorkSpec = field(default_factory=WorkSpec)
    start_method: str | None = None
    seed: int = 0
    calibration: Calibration = field(default_factory=Calibration)
    #: Directory where readers and writers keep their record files (strategies.records).
    scratch: str = ""
    #: Free-form options for test-only strategies (e.g. ``{"delay_factor": 1.2}``).
    options: tuple[tuple[str, float], ...] = ()
    #: Faults to inject (None: none), and the trial's main process, set by the worker.
    faults: FaultSpec | None = None
    main_pid: int = 0

    @property
    def total_items(self) -> int:
        return self.writers * self.items_per_writer

    def option(self, name: str, default: float) -> float:
        return dict(self.options).get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        data = dict(data)
        for side in ("writer_work", "reader_work"):
            spec = dict(data[side])
            spec["params"] = tuple(tuple(p) for p in spec.get("params", ()))
            data[side] = WorkSpec(**spec)
        data["calibration"] = Calibration(**data["calibration"])
        data["options"] = tuple(tuple(o) for o in data.get("options", ()))
        data["faults"] = FaultSpec.from_dict(data.get("faults"))
        return cls(**data)


@dataclass
class Trace:
    """What a strategy hands back: trial-level facts. Per-item records go to files
    (strategies.records), so they survive any reader or writer being killed."""

    #: Stamps of the trial phases: setup starts, writers released (the start line), all joined.
    setup_start: int = 0
    start: int = 0
    end: int = 0
    errors: list[str] = field(default_factory=list)


class Strategy(Protocol):
    """A strategy is any callable taking a Workload and returning a Trace."""

    def __call__(self, workload: Workload) -> Trace: ...
