"""The launcher contract: where and how one trial runs.

A launcher answers two calls, as pyperf's manager asks its workers and httpx's
transports answer one method:

* ``probe() -> Probe``: facts about the interpreter and machine that will run the trials (the
  worker's own answer: version, GIL, start methods, usable cores, calibration, which
  strategies it can run), so the ideal bound and the fingerprint describe where the
  trial really runs, not where the harness runs;
* ``available()``: the cheap part of the probe, which strategies and work kinds it can
  run there and why not (``queuebench list``);
* ``run(TrialSpec) -> TrialOutput``: run one trial there and bring back its raw output
  (records, meta, what the watchdog saw), never raising for a trial's own failure.

The local subprocess launcher (:mod:`harness.running.launchers.local`) is the default; the
in-process one (:mod:`harness.running.launchers.inprocess`) serves fast tests. Adding a
launcher (another tree, a container, a remote worker) is its module plus one line in
``harness.running.launchers.LAUNCHERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from strategies.base import Calibration, Workload

#: What a worker says of a strategy or a work kind: can it run there, and if not, why.
Availability = tuple[bool, str]


@dataclass(frozen=True)
class Probe:
    """What the worker's interpreter said of itself and its machine (``python -m harness.worker
    probe``), parsed once: the launchers return it, the suite, the fingerprint and the command
    line read its fields. A key an older worker (an ``ab`` side of an older tree) does not send
    takes its default."""

    implementation: str
    version: str
    executable: str
    gil_enabled: bool
    default_start_method: str
    start_methods: tuple[str, ...]
    calibration: Calibration
    effective_parallelism: float
    free_threaded_build: bool = False
    build: str = ""
    compiler: str = ""
    calibration_source: str | None = None
    #: The machine's facts as the worker saw them (host, os, cpu, usable_cores, ...).
    machine: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    strategies: Mapping[str, Availability] = field(default_factory=lambda: MappingProxyType({}))
    kinds: Mapping[str, Availability] = field(default_factory=lambda: MappingProxyType({}))
    #: Strategies not built in (installed entry points, the user's "module:callable"), as the
    #: worker described them: name -> family, summary, target, origin (strategies.registry.facts).
    user_strategies: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    #: Where the probe ran when not here: a Dask launcher's scheduler and worker.
    launcher: Mapping[str, Any] | None = None

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Probe:
        """The worker's JSON answer (``worker.probe()``), typed."""

        def availability(table: Any) -> Mapping[str, Availability]:
            return MappingProxyType({str(k): (bool(v[0]), str(v[1])) for k, v in (table or {}).items()})

        return cls(
            implementation=str(answer.get("implementation", "?")),
            version=str(answer.get("version", "?")),
            executable=str(answer.get("executable", "?")),
            gil_enabled=bool(answer.get("gil_enabled", True)),
            default_start_method=str(answer["default_start_method"]),
            start_methods=tuple(answer["start_methods"]),
            calibration=Calibration(**answer["calibration"]),
            effective_parallelism=float(answer["effective_parallelism"]),
            free_threaded_build=bool(answer.get("free_threaded_build", False)),
            build=str(answer.get("build", "")),
            compiler=str(answer.get("compiler", "")),
            calibration_source=answer.get("calibration_source"),
            machine=MappingProxyType(dict(answer.get("machine") or {})),
            strategies=availability(answer.get("strategies")),
            kinds=availability(answer.get("kinds")),
            user_strategies=MappingProxyType(
                {
                    str(k): MappingProxyType({str(a): str(b) for a, b in dict(v).items()})
                    for k, v in dict(answer.get("user_strategies") or {}).items()
                }
            ),
            launcher=MappingProxyType(dict(answer["launcher"])) if answer.get("launcher") else None,
        )

    @property
    def usable_cores(self) -> float:
        """Cores this process may use there (affinity, cgroup quota): the ideal bound's parallelism."""
        return float(self.machine.get("usable_cores") or 1)

    def python_facts(self) -> dict[str, Any]:
        """The interpreter's facts as run.json records them (the fingerprint's ``python``)."""
        return {
            "implementation": self.implementation,
            "version": self.version,
            "build": self.build,
            "compiler": self.compiler,
            "executable": self.executable,
            "gil_enabled": self.gil_enabled,
            "free_threaded_build": self.free_threaded_build,
        }


@dataclass(frozen=True)
class UserCode:
    """The user's own code a launcher brings to the worker: ``paths``, folders put on the worker's
    ``sys.path`` (``--path``, a scenario's project; every process of a trial inherits them), and
    ``strategies``, the user's strategies named as "module:callable", which the worker's probe
    describes (family, summary) and checks (does it import there?)."""

    paths: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()

    def probe_args(self) -> list[str]:
        """The worker's ``probe``/``available`` flags naming the strategies to describe (the paths
        travel on ``PYTHONPATH``; a worker of an older tree gets no flag it does not know)."""
        return [arg for name in self.strategies for arg in ("--strategy", name)]


@dataclass(frozen=True)
class TrialSpec:
    """One trial to run: which strategy, on what workload, for how long at most."""

    strategy: str
    workload: Workload
    timeout: float


@dataclass
class TrialOutput:
    """Raw outcome of one trial, before analysis."""

    status: str  # "ok", "error" (strategy raised or worker died) or "timeout"
    meta: dict[str, Any]
    reads: np.ndarray  # (n, records.WIDTH) int64; enqueued still unknown
    writes: np.ndarray  # (writers * items_per_writer, records.WRITER_WIDTH) int64
    wall_s: float
    pid: int = 0  # the worker's pid, which is also its process group id on POSIX
    ended_ns: int = 0  # perf_counter_ns when the worker was seen to exit or was killed
    #: Faults that fired (kind, writer, seq, at, pid), logged by the worker side before acting.
    fault_events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    #: The trial's memory as sampled from outside (harness.running.launchers.memory), in bytes.
    memory: dict[str, Any] = field(default_factory=dict)
    #: Where it ran (a host name, a tree, a worker address): the launcher's word.
    where: str = ""


class Launcher(Protocol):
    """Runs trials somewhere; see the module docstring."""

    name: str

    def probe(self) -> Probe: ...

    def available(self) -> dict[str, Any]: ...

    def run(self, spec: TrialSpec) -> TrialOutput: ...
