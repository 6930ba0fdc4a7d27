"""The Python API, re-exported by the public :mod:`queuebench` package: load scenarios, run
them, read a stored run, compare two runs. What the command line does, without the printing.

Every function raises a :class:`~harness.errors.QueuebenchError` (one line) on bad input.
Heavy modules load when a function is called, so ``import queuebench`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.rundir.model import Run
from harness.scenario import LoadedScenario, load_many

if TYPE_CHECKING:
    from harness.gate.compare import Report


@dataclass(frozen=True)
class Measured:
    """A finished run: its results directory (for ``queuebench show``, ``report``, ``compare``)
    and the run, typed (:class:`~harness.rundir.model.Run`: its trials, their metrics)."""

    path: Path
    run: Run


def load_scenarios(*paths: str | Path) -> list[LoadedScenario]:
    """The scenarios of one or more TOML files (a shipped scenario's name, such as ``smoke``,
    works anywhere), checked. Raises :class:`~harness.errors.ScenarioError`."""
    return load_many([Path(p) for p in paths])


def run(
    scenarios: str | Path | Sequence[str | Path | LoadedScenario],
    *,
    strategies: Sequence[str] = (),
    repeat: int | None = None,
    warmup: int | None = None,
    out: str | Path = "results",
    python: str | None = None,
    start_method: str | None = None,
    timeout: float | None = None,
    paths: Sequence[str | Path] = (),
) -> Measured:
    """Run scenarios against strategies exactly as ``queuebench run`` does: warmups first, every
    trial in a fresh worker process under the watchdog, the run stored under ``out``.
    ``strategies`` empty: each scenario's own list, else every default strategy; yours as
    ``"module:function"``. ``paths``: your project's folders for the worker, as ``--path`` (the
    scenario files' folders and projects are added, as on the command line)."""
    import sys

    from harness.running import suite
    from harness.running.project import user_code

    items = [scenarios] if isinstance(scenarios, (str, Path)) else list(scenarios)
    loaded = [s for s in items if isinstance(s, LoadedScenario)]
    loaded += load_many([Path(s) for s in items if not isinstance(s, LoadedScenario)])
    opts = suite.Options(
        strategies=list(strategies),
        repeat=repeat,
        warmup=warmup,
        start_method=start_method,
        python=python or sys.executable,
        timeout=timeout,
        out=Path(out),
    )
    files = [Path(s) for s in items if not isinstance(s, LoadedScenario) and Path(s).is_file()]
    named = [*strategies, *(n for item in loaded for n in item.scenario.strategies or ())]
    opts.user = user_code([Path(p) for p in paths], files, named)
    suite.plan(loaded, opts)  # an unknown strategy or a bad option: refused before anything starts
    path, doc = suite.execute(loaded, opts)
    return Measured(path, Run.from_doc(doc))


def read_run(path: str | Path) -> Run:
    """A stored run, checked against the schema and typed once. ``path``: a results directory
    or a folder of runs (its newest). Raises :class:`~harness.errors.RunDirError`."""
    from harness.rundir import store

    return store.read_run(Path(path))


def compare(
    baseline: str | Path,
    current: str | Path,
    *,
    metric: str = "throughput_total",
    max_regression: float = 0.10,
    alpha: float = 0.01,
) -> Report:
    """The regression gate on two stored runs, as ``queuebench compare`` judges them: per
    scenario x strategy, the ratio, its interval and a verdict (``report.exit_code()``)."""
    from harness.gate import compare as gate

    return gate.compare(read_run(baseline), read_run(current), metric, max_regression, alpha)
