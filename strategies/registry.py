"""The strategy registry: name -> module:callable, imported lazily (standard library only).

Adding a strategy is its module plus one :class:`Entry` line in :data:`REGISTRY`.
Whether a strategy can run is asked of the interpreter that will run it (the worker's
probe calls :func:`availability`), never assumed from the harness's interpreter.
"""

from __future__ import annotations

import enum
import importlib
import sys
from dataclasses import dataclass

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

    @property
    def opt_in(self) -> bool:
        """Needs more than any worker has (a package, a newer Python, a check): it runs when
        named (``-s``, a scenario's list), never by default, so a plain run passes anywhere."""
        return bool(self.requires or self.check or self.min_python > (3, 10))

    @property
    def uses_start_method(self) -> bool:
        return self.family is Family.PROCESS

    def available(self) -> tuple[bool, str]:
        """Whether this strategy can run in *this* interpreter, and if not, why."""
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


class UnknownStrategy(QueuebenchError, KeyError):
    def __str__(self) -> str:
        name, valid = self.args[0], [n for n, e in REGISTRY.items() if not e.test_only]
        return f"unknown strategy {name!r}{did_you_mean(name, valid)} (valid names: {', '.join(valid)})"


def get(name: str) -> Entry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownStrategy(name) from None


def no_queue(name: str) -> bool:
    """A strategy whose items never wait in a queue (the serial family: sequential): its
    latency is not comparable with the others'."""
    entry = REGISTRY.get(name)
    return entry is not None and entry.family is Family.SERIAL


def default_names() -> list[str]:
    """What a run without ``-s`` runs: every strategy any worker can run."""
    return [n for n, e in REGISTRY.items() if not e.test_only and not e.opt_in]


def names() -> list[str]:
    """Every strategy but the test-only ones: the default ones and the opt-in ones."""
    return [n for n, e in REGISTRY.items() if not e.test_only]


def availability() -> dict[str, list[object]]:
    """Every registered strategy's availability in this interpreter: name -> [ok, why]."""
    return {name: list(entry.available()) for name, entry in REGISTRY.items()}
