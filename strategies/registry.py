"""The strategy registry: name -> module:callable, imported lazily (standard library only).

Three places a strategy comes from, each named where ``queuebench list`` shows it:

* built in: its module plus one :class:`Entry` line in :data:`REGISTRY`;
* installed: a package's entry point in the ``queuebench.strategies`` group (name = "module:run");
* yours, named on the command line or in a scenario as ``"mypkg.pipeline:run"``.

The last two are looked up in the interpreter that runs the trials (the worker's probe calls
:func:`availability` and :func:`facts`), never assumed from the harness's: the harness learns
them from the probe (:func:`learn`). A strategy of yours says how it runs its readers with
:func:`strategy` (``@strategy(family="thread")``); without it, it is taken to run them in
processes (the start method applies).
"""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.errors import QueuebenchError, did_you_mean
from strategies.base import Strategy, WorkSpec
from strategies.loader import resolve


class Family(enum.Enum):
    """How a strategy runs its readers; it decides which run options apply to it."""

    PROCESS = "process"  # readers in processes: the start method applies
    THREAD = "thread"
    ASYNC = "async"
    SERIAL = "serial"
    CLUSTER = "cluster"  # readers as tasks of a cluster scheduler (its own processes)


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:callable"
    summary: str
    family: Family
    #: Modules the strategy imports beyond the standard library (checked in the worker's interpreter).
    requires: tuple[str, ...] = ()
    #: The oldest Python it runs under.
    min_python: tuple[int, int] = (3, 10)
    test_only: bool = False
    #: Seconds its set-up may take beyond the trial's timeout (starting a cluster, say).
    startup_allowance_s: float = 0.0
    #: A further check, run in the worker's interpreter after ``min_python`` and ``requires``:
    #: ``"module:callable"`` returning "" where the strategy can run, else the reason. For what
    #: a tuple of module names cannot say (the module needed differs by Python version).
    check: str = ""
    #: ``"module:callable"`` taking a trial's (writer work, reader work) and returning "" or a
    #: one-line warning: work this strategy measures differently from the others (printed
    #: before a run, never a refusal).
    caveat: str = ""
    #: Where it comes from: "built in", "entry point of DIST VERSION", or "yours (module:callable)".
    origin: str = "built in"

    @property
    def opt_in(self) -> bool:
        """Needs more than any worker has (a package, a newer Python, a check), or is not built
        in: it runs when named (``-s``, a scenario's list), never by default, so a plain run
        passes anywhere."""
        return bool(self.requires or self.check or self.min_python > (3, 10) or self.origin != "built in")

    @property
    def uses_start_method(self) -> bool:
        return self.family is Family.PROCESS

    def available(self) -> tuple[bool, str]:
        """Whether this strategy can run in *this* interpreter, and if not, why."""
        if self.origin != "built in":
            try:
                fn = resolve(self.target)
            except BaseException as exc:  # the user's module failed to import: say how
                return False, f"cannot import {self.target}: {type(exc).__name__}: {exc}"
            if not callable(fn):
                return False, f"{self.target} is a {type(fn).__name__}, not a function"
        if sys.version_info[:2] < self.min_python:
            return False, f"needs Python >= {'.'.join(map(str, self.min_python))}"
        for mod in self.requires:
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                return False, f"needs {mod} ({exc})"
        if self.check:
            why: str = resolve(self.check)()
            if why:
                return False, why
        return True, ""

    def caveat_for(self, writer_work: WorkSpec, reader_work: WorkSpec) -> str:
        if not self.caveat:
            return ""
        said: str = resolve(self.caveat)(writer_work, reader_work)
        return said

    def load(self) -> Strategy:
        fn: Strategy = resolve(self.target)
        return fn


_P, _T, _A, _S = Family.PROCESS, Family.THREAD, Family.ASYNC, Family.SERIAL

REGISTRY: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry(
            "seed-pool",
            "strategies.seed_pool:run",
            "The classic recipe: Process writers, Manager().Queue(), Pool.apply_async per item",
            _P,
        ),
        Entry(
            "manager-pool",
            "strategies.manager_pool:run",
            "Same parts as seed-pool, but `readers` long-lived pool tasks loop until a sentinel",
            _P,
        ),
        Entry(
            "mp-queue", "strategies.mp_queue:run", "Writer and reader Processes sharing one multiprocessing.Queue", _P
        ),
        Entry(
            "process-pool",
            "strategies.process_pool:run",
            "Writers feed an mp.Queue; a dispatcher submits each item to ProcessPoolExecutor",
            _P,
        ),
        Entry("threads", "strategies.threads:run", "Writer threads, queue.Queue, `readers` looping reader threads", _T),
        Entry(
            "asyncio",
            "strategies.asyncio_tasks:run",
            "Writer tasks, asyncio.Queue, `readers` reader tasks (cpu work blocks the loop)",
            _A,
        ),
        Entry(
            "asyncio-uvloop",
            "strategies.asyncio_uvloop:run",
            "The asyncio strategy on uvloop's event loop (only the loop differs)",
            _A,
            requires=("uvloop",),
            caveat="strategies.asyncio_uvloop:caveat",
        ),
        Entry(
            "subinterpreters",
            "strategies.subinterpreters:run",
            "Writer threads, an interpreter queue (PEP 734), `readers` reader subinterpreters",
            _T,
            min_python=(3, 12),
            check="strategies.subinterpreters:unavailable",  # the 3.14 stdlib, or the backport before
        ),
        Entry(
            "subinterpreter-pool",
            "strategies.subinterpreter_pool:run",
            "Writer threads; a dispatcher submits each item to InterpreterPoolExecutor (3.14; not run here)",
            _T,
            min_python=(3, 14),
        ),
        Entry(
            "sequential",
            "strategies.sequential:run",
            "No concurrency: each item made then consumed in turn; the floor to beat",
            _S,
        ),
        Entry(
            "dask",
            "strategies.dask_tasks:run",
            "Reader tasks on a LocalCluster, bounded by worker resources; items through distributed.Queue",
            Family.CLUSTER,
            requires=("distributed",),
            startup_allowance_s=30.0,
        ),
        # Test-only strategies: same registry, hidden from the default selection.
        Entry("test-hang", "strategies.testing:hang", "Never finishes (watchdog test)", _T, test_only=True),
        Entry("test-crash", "strategies.testing:crash", "Raises mid-trial", _S, test_only=True),
        Entry("test-lose", "strategies.testing:lose", "Drops one item (exactly-once test)", _S, test_only=True),
        Entry("test-overlimit", "strategies.testing:overlimit", "Runs one reader too many", _T, test_only=True),
        Entry("test-orphan", "strategies.testing:orphan", "Leaves a child process behind", _P, test_only=True),
        Entry("test-slow", "strategies.testing:slow", "sequential with reader work x delay_factor", _S, test_only=True),
        Entry(
            "test-early",
            "strategies.testing:early",
            "Produces every item before stamping the start line",
            _S,
            test_only=True,
        ),
        Entry("test-nostart", "strategies.testing:nostart", "Never stamps the start line", _S, test_only=True),
        Entry("test-writer-exit", "strategies.testing:writer_exit", "A writer process exits 1", _P, test_only=True),
    )
}


#: The entry-point group where installed packages name strategies of their own.
ENTRY_POINTS = "queuebench.strategies"
_F = TypeVar("_F", bound=Callable[..., Any])


def strategy(family: str = "process", summary: str = "") -> Callable[[_F], _F]:
    """Say how your strategy runs its readers: ``@strategy(family="thread")`` above ``def run``.
    ``family``: "process" (the start method applies), "thread", "async" (an ``async def`` call
    is awaited in its readers), "serial" or "cluster"; ``summary``: one line for ``list``
    (default: the first line of the function's docstring)."""
    Family(family)  # a bad family fails where it is written

    def mark(fn: _F) -> _F:
        fn.__queuebench__ = {"family": family, "summary": summary}  # type: ignore[attr-defined]
        return fn

    return mark


def _described(name: str, target: str, origin: str) -> Entry:
    """An entry for a strategy not built in, from what its callable says of itself (imported
    here: only in the worker's interpreter); one that does not import is still an entry, whose
    :meth:`Entry.available` says why it cannot run."""
    family, summary = Family.PROCESS, ""
    try:
        fn = resolve(target)
    except BaseException:
        fn = None
    if fn is not None:
        said = getattr(fn, "__queuebench__", None) or {}
        family = Family(said.get("family", "process"))
        summary = said.get("summary") or (fn.__doc__ or "").strip().partition("\n")[0]
    return Entry(name, target, summary or f"your strategy, {target}", family, origin=origin)


_LEARNED: dict[str, Entry] = {}


def installed() -> dict[str, Entry]:
    """Strategies that installed packages declare (entry points), described in this interpreter."""
    from importlib.metadata import entry_points

    out = {}
    for ep in entry_points(group=ENTRY_POINTS):
        if ep.name not in REGISTRY:
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "a package"
            out[ep.name] = _described(ep.name, ep.value, f"entry point of {dist}")
    return out


def facts(names: tuple[str, ...] | list[str] = ()) -> dict[str, dict[str, str]]:
    """What the harness needs of each strategy not built in, asked here (the worker's probe):
    the installed ones and ``names`` ("module:callable") -> family, summary, target, origin."""
    found = {**installed(), **{n: get(n) for n in names if ":" in n}}
    return {
        name: {"family": e.family.value, "summary": e.summary, "target": e.target, "origin": e.origin}
        for name, e in found.items()
    }


def learn(told: Mapping[str, Mapping[str, str]]) -> None:
    """The harness's side of :func:`facts`: the worker's answer, kept for :func:`get`."""
    for name, said in told.items():
        family = Family(said.get("family", "process"))
        _LEARNED[name] = Entry(
            name, str(said.get("target", name)), str(said.get("summary", "")), family, origin=str(said["origin"])
        )


class UnknownStrategy(QueuebenchError, KeyError):
    def __str__(self) -> str:
        name, valid = self.args[0], [n for n, e in REGISTRY.items() if not e.test_only]
        valid += [n for n in _LEARNED if ":" not in n]
        return (
            f"unknown strategy {name!r}{did_you_mean(name, valid)} (valid names: {', '.join(valid)}; "
            "or your own as 'module:function')"
        )


def get(name: str) -> Entry:
    """The strategy called ``name``: built in, learned from the worker, installed here, or
    "module:callable" (yours)."""
    if (entry := REGISTRY.get(name) or _LEARNED.get(name)) is not None:
        return entry
    if ":" in name:
        mod, _, attr = name.partition(":")
        if mod and attr:
            _LEARNED[name] = entry = _described(name, name, f"yours ({name})")
            return entry
    if (entry := installed().get(name)) is not None:
        return entry
    raise UnknownStrategy(name)


def no_queue(name: str) -> bool:
    """A strategy whose items never wait in a queue (the serial family: sequential): its
    latency is not comparable with the others'."""
    entry = REGISTRY.get(name) or _LEARNED.get(name)
    return entry is not None and entry.family is Family.SERIAL


def default_names() -> list[str]:
    """What a run without ``-s`` runs: every strategy any worker can run."""
    return [n for n, e in REGISTRY.items() if not e.test_only and not e.opt_in]


def names() -> list[str]:
    """Every strategy but the test-only ones: the default ones and the opt-in ones."""
    return [n for n, e in REGISTRY.items() if not e.test_only]


def availability(names: tuple[str, ...] | list[str] = ()) -> dict[str, list[object]]:
    """Every strategy's availability in this interpreter: name -> [ok, why]; the built-in and
    installed ones, and ``names`` (yours, "module:callable")."""
    entries = {**REGISTRY, **installed(), **{n: get(n) for n in names if ":" in n}}
    return {name: list(entry.available()) for name, entry in entries.items()}
