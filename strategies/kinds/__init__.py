"""Work kinds: what a writer or reader does per item (standard library only).

A kind is one module under ``strategies/kinds/`` holding ``KIND``, an instance of a
:class:`Kind` subclass, and one line in :data:`KINDS`. Everything kind-specific lives
in that module: the per-item work (sync and async), whether it awaits, the extra
scenario fields it takes and their checks, what it starts and stops around a trial
(e.g. the ``service`` kind's server), whether its time is CPU on a core and how many
items it serves at once at full speed (the ideal bound's terms), and the figures it
adds to a trial's metrics. The worker, the strategies, the scenario schema and the
metrics ask the kind; none of them names one.

Kinds are imported lazily, on first use: a reader process of an ``io`` workload never
imports the ``service`` kind's sockets.

Durations are fixed or drawn from a seeded generator keyed by (seed, role, writer), so
every strategy sees exactly the same sequence of delays.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harness.errors import QueuebenchError, did_you_mean
from strategies.base import Calibration, WorkSpec
from strategies.loader import resolve

#: name -> module holding ``KIND``. Adding a kind: its module plus one line here.
KINDS: dict[str, str] = {
    "none": "strategies.kinds.none",
    "io": "strategies.kinds.sleep",
    "cpu": "strategies.kinds.cpu",
    "service": "strategies.kinds.service",
    "docker-build": "strategies.kinds.docker_build",
    "docker-push": "strategies.kinds.docker_push",
    "call": "strategies.kinds.call",
}
#: The entry-point group where installed packages name kinds of their own (name = "module:KIND").
ENTRY_POINTS = "queuebench.kinds"
DISTS = ("fixed", "uniform", "exponential")

#: One item's work, prepared once per side: takes the item's duration in seconds.
Perform = Callable[[float], object]
APerform = Callable[[float], Awaitable[object]]
#: One item's work for a kind that needs the item's identity (``Kind.per_item``):
#: (seconds, writer, seq, payload).
ItemPerform = Callable[[float, int, int, bytes], object]
AItemPerform = Callable[[float, int, int, bytes], Awaitable[object]]


@dataclass
class Running:
    """What a kind started around a trial: the spec the strategy gets, and how to stop it."""

    spec: WorkSpec
    stop: Callable[[], dict[str, Any]] = field(default=lambda: {})


class Kind:
    """Base of every work kind; a kind overrides what differs from these defaults."""

    #: The name scenario files use (``kind = "..."``).
    name: str = ""
    #: One line for ``queuebench list`` and the docs.
    summary: str = ""
    #: Async strategies ``await`` its work; otherwise the work runs inline (blocking the loop).
    awaits: bool = False
    #: Its time is CPU on a core: the ideal bound spreads it over the usable cores, and
    #: each item's CPU time is measured (``work_cpu``) and used instead of the nominal time.
    cpu_bound: bool = False
    #: Whether the work has a duration at all (``none`` has not: ``ms`` must stay 0).
    timed: bool = True
    #: Extra scenario fields this kind takes, with their defaults.
    params: ClassVar[Mapping[str, Any]] = {}
    #: Packages beyond the standard library it needs (imported lazily, inside its functions;
    #: checked in the worker's interpreter by :meth:`available`).
    requires: tuple[str, ...] = ()
    #: Its work needs the item's identity (e.g. one image per item, pushed by the reader that
    #: gets that item): :meth:`prepare_item`'s callable is called with (seconds, writer, seq)
    #: instead of :meth:`prepare`'s. Other kinds' per-item calls are left exactly as they are.
    per_item: bool = False

    def available(self) -> tuple[bool, str]:
        """Whether this kind can run in *this* interpreter and on this machine, and if not, why."""
        for mod in self.requires:
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                return False, f"work kind {self.name!r} needs {mod} ({exc})"
        return True, ""

    def check(self, spec: WorkSpec) -> None:
        """Raise ValueError("field: why") when ``spec`` cannot be run by this kind."""

    def ready(self, spec: WorkSpec, is_async: bool) -> None:
        """In the worker, before the strategy starts: raise (one line) what would make every item
        fail under this strategy (``is_async``: its readers are coroutines), so the trial fails
        at once instead of in every reader process or by its timeout."""

    def capacity(self, spec: WorkSpec) -> int | None:
        """Items this kind serves at full speed at once, whatever the pool size (None: no limit)."""
        return None

    def sustained(self, spec: WorkSpec, pool: int) -> float | None:
        """The most items' worth of full-speed work this kind gets done at once with at most ``pool``
        items in flight (None: no limit), for the ideal bound: ``min(pool, capacity)`` by default; a
        kind whose throughput bends (the ``service`` kind's ``usl`` model) says its own."""
        cap = self.capacity(spec)
        return None if cap is None else float(min(pool, cap))

    def prepare(self, spec: WorkSpec, cal: Calibration) -> Perform:
        """The per-item work, with the spec's parameters resolved once."""
        raise NotImplementedError(f"work kind {self.name!r} has no per-item work")

    def aprepare(self, spec: WorkSpec, cal: Calibration) -> APerform:
        """The per-item work for a coroutine; by default the sync work, run inline."""
        sync = self.prepare(spec, cal)

        async def perform(seconds: float) -> object:
            return sync(seconds)

        return perform

    def prepare_item(self, spec: WorkSpec, cal: Calibration) -> ItemPerform:
        """The per-item work of a ``per_item`` kind: called with (seconds, writer, seq, payload)."""
        raise NotImplementedError(f"work kind {self.name!r} has no per-item work by item")

    def aprepare_item(self, spec: WorkSpec, cal: Calibration, prepared: ItemPerform | None = None) -> AItemPerform:
        """:meth:`prepare_item` for a coroutine; by default the sync work, run inline.
        ``prepared``: what :meth:`prepare_item` already gave the same side, to reuse."""
        sync = prepared or self.prepare_item(spec, cal)

        async def perform(seconds: float, writer: int, seq: int, payload: bytes) -> object:
            return sync(seconds, writer, seq, payload)

        return perform

    def start(self, spec: WorkSpec, role: str) -> Running:
        """Start what the work needs around a trial (in the trial's main process)."""
        return Running(spec)

    def trial_metrics(self, role: str, stats: Mapping[str, Any]) -> dict[str, float]:
        """Figures from what :meth:`start` returned at stop, for the trial's metrics."""
        return {}


class UnknownKind(QueuebenchError, KeyError):
    def __str__(self) -> str:
        name = self.args[0]
        valid = names()
        return f"unknown work kind {name!r}{did_you_mean(name, valid)} (valid kinds: {', '.join(valid)})"


_LOADED: dict[str, Kind] = {}


def installed() -> dict[str, str]:
    """Kinds that installed packages declare (entry points ``queuebench.kinds``): name -> target."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINTS) if ep.name not in KINDS}


def exists(name: str) -> bool:
    return name in KINDS or name in installed()


def get(name: str) -> Kind:
    """The kind called ``name``, imported on first use (built in, or an installed package's)."""
    kind = _LOADED.get(name)
    if kind is None:
        if name in KINDS:
            target = f"{KINDS[name]}:KIND"
        elif name in (plugins := installed()):
            target = plugins[name]
        else:
            raise UnknownKind(name)
        kind = _LOADED[name] = resolve(target)
    return kind


def names() -> list[str]:
    return [*KINDS, *installed()]


def availability() -> dict[str, list[object]]:
    """Every registered kind's availability in this interpreter: name -> [ok, why]."""
    out: dict[str, list[object]] = {}
    for name in names():
        try:
            out[name] = list(get(name).available())
        except Exception as exc:  # a kind that cannot even be imported here
            out[name] = [False, f"work kind {name!r} cannot be loaded: {exc}"]
    return out


def durations(spec: WorkSpec, seed: int, role: str, writer: int, n: int) -> list[float]:
    """Per-item durations in seconds for one writer's ``n`` items."""
    if spec.ms <= 0 or not get(spec.kind).timed:
        return [0.0] * n
    mean = spec.ms / 1000.0
    if spec.dist == "fixed":
        return [mean] * n
    rng = random.Random(f"{seed}/{role}/{writer}")
    if spec.dist == "uniform":
        lo, hi = mean * (1 - spec.jitter), mean * (1 + spec.jitter)
        return [rng.uniform(lo, hi) for _ in range(n)]
    return [rng.expovariate(1.0 / mean) for _ in range(n)]
