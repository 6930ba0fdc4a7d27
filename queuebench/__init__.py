"""queuebench: benchmark and stress-test Python concurrency strategies on writer/reader pipelines.

This package is queuebench's public face, the way ``pytest`` is pytest's over ``_pytest``:
scripts, notebooks, plugins and docs import ``queuebench``; ``harness`` (the measuring side)
and ``strategies`` (the measured side) are internal and may move. Everything here is
re-exported from where it lives:

* the Python API: :func:`load_scenarios`, :func:`run`, :func:`read_run`, :func:`compare`
  (:mod:`harness.api`), and :class:`Measured`, what :func:`run` returns;
* the typed results: :class:`Run` and :class:`Trial` (:mod:`harness.rundir.model`);
* the error base, :class:`QueuebenchError`, and the bad-input errors (:mod:`harness.errors`);
* what a strategy or a work kind implements: :class:`Workload`, :class:`WorkSpec`,
  :class:`Trace`, :class:`Strategy`, :class:`Calibration` and the clock, :func:`now`
  (:mod:`strategies.base`), the per-item stamping a strategy's writers and readers go
  through, :class:`WriterSide` and :class:`ReaderSide` (:mod:`strategies.instrument`), the
  registry's :class:`Entry` and :class:`Family`, and :func:`strategy`, the decorator that says
  how your own strategy runs its readers (:mod:`strategies.registry`), and the work
  kinds' :class:`Kind` (:mod:`strategies.kinds`).

``import queuebench`` imports none of them: each is imported on first use (PEP 562), after
checking that the ``harness`` and ``strategies`` Python would import are this distribution's
own (:mod:`queuebench._ours`; another distribution of either name raises one line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from queuebench._ours import NotOurs, check_ours, version

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from harness.api import Measured, compare, load_scenarios, read_run, run
    from harness.errors import (
        BaselineError,
        CompareError,
        QueuebenchError,
        RunDirError,
        ScenarioError,
        SideError,
        SweepError,
        WorkerError,
    )
    from harness.rundir.model import Run, Trial
    from strategies.base import Calibration, Strategy, Trace, Workload, WorkSpec, now
    from strategies.instrument import ReaderSide, WriterSide
    from strategies.kinds import Kind
    from strategies.registry import Entry, Family, strategy

__version__ = version()

#: Public name -> the module it lives in.
_WHERE = {
    **dict.fromkeys(("Measured", "compare", "load_scenarios", "read_run", "run"), "harness.api"),
    **dict.fromkeys(
        (
            "BaselineError",
            "CompareError",
            "QueuebenchError",
            "RunDirError",
            "ScenarioError",
            "SideError",
            "SweepError",
            "WorkerError",
        ),
        "harness.errors",
    ),
    **dict.fromkeys(("Calibration", "Strategy", "Trace", "Workload", "WorkSpec", "now"), "strategies.base"),
    **dict.fromkeys(("ReaderSide", "WriterSide"), "strategies.instrument"),
    "Kind": "strategies.kinds",
    **dict.fromkeys(("Run", "Trial"), "harness.rundir.model"),
    **dict.fromkeys(("Entry", "Family", "strategy"), "strategies.registry"),
}

__all__ = [
    "BaselineError",
    "Calibration",
    "CompareError",
    "Entry",
    "Family",
    "Kind",
    "Measured",
    "NotOurs",
    "QueuebenchError",
    "ReaderSide",
    "Run",
    "RunDirError",
    "ScenarioError",
    "SideError",
    "Strategy",
    "SweepError",
    "Trace",
    "Trial",
    "WorkSpec",
    "WorkerError",
    "Workload",
    "WriterSide",
    "__version__",
    "compare",
    "load_scenarios",
    "now",
    "read_run",
    "run",
    "strategy",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'queuebench' has no attribute {name!r}")
    check_ours()  # before anything of harness or strategies is imported
    from strategies.loader import resolve

    value = resolve(f"{module}:{name}")
    globals()[name] = value  # once: later reads do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
