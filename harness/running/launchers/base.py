"""The launcher contract: where and how one trial runs.

A launcher answers two calls, as pyperf's manager asks its workers and httpx's
transports answer one method:

* ``probe()``: facts about the interpreter and machine that will run the trials (the
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

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from strategies.base import Workload


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
    memory: dict[str, float] = field(default_factory=dict)
    #: Where it ran (a host name, a tree, a worker address): the launcher's word.
    where: str = ""


class Launcher(Protocol):
    """Runs trials somewhere; see the module docstring."""

    name: str

    def probe(self) -> dict[str, Any]: ...

    def available(self) -> dict[str, Any]: ...

    def run(self, spec: TrialSpec) -> TrialOutput: ...
