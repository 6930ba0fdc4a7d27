"""A run: scenarios x strategies x (warmup + repeats) trials, measured and stored.

Strategies are interleaved within each round (A B C, A B C, ...) rather than run in
blocks, so slow drift of a shared machine spreads over all of them alike.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import metrics, runner, store, stress
from harness.fingerprint import fingerprint, usable_cores
from harness.scenario import LoadedScenario, ScenarioError
from strategies import base, work


@dataclass
class Options:
    strategies: list[str] = field(default_factory=list)
    repeat: int | None = None
    warmup: int | None = None
    start_method: str | None = None
    python: str = sys.executable
    timeout: float | None = None
    out: Path = Path("results")
    #: Extra workload options for test-only strategies, e.g. (("delay_factor", 1.2),).
    strategy_options: tuple[tuple[str, float], ...] = ()
    #: Extra top-level keys for run.json, e.g. {"sweep": {...}} (harness.sweep).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Planned:
    loaded: LoadedScenario
    strategy: str
    repeat: int  # measured repeats count from 0; warmups are negative
    warmup: bool

    @property
    def label(self) -> str:
        kind = "warmup" if self.warmup else f"repeat {self.repeat + 1}"
        return f"{self.loaded.scenario.name} / {self.strategy} ({kind})"


def strategies_for(loaded: LoadedScenario, opts: Options) -> list[str]:
    names = opts.strategies or loaded.scenario.strategies or base.default_names()
    for name in names:
        base.get(name)  # raises UnknownStrategy with the valid names
    return list(dict.fromkeys(names))


def plan(scenarios: list[LoadedScenario], opts: Options) -> list[Planned]:
    out: list[Planned] = []
    for loaded in scenarios:
        sc = loaded.scenario
        warmup = sc.warmup if opts.warmup is None else opts.warmup
        repeats = sc.repeats if opts.repeat is None else opts.repeat
        names = strategies_for(loaded, opts)
        for r in range(-warmup, repeats):
            out.extend(Planned(loaded, name, r, r < 0) for name in names)
    return out


def classify(out: runner.TrialOutput, m: dict[str, Any]) -> tuple[str, list[str]]:
    """Final trial status: timeout/error from the runner, else failed if a check broke."""
    status, errors = out.status, list(out.errors)
    problems = []
    if not m["exactly_once"]:
        problems.append(
            f"exactly-once broken: lost {m['lost']}, duplicated {m['duplicated']}, unexpected {m['unexpected']}"
        )
    if m["max_concurrency"] > m["pool_size"]:
        problems.append(f"reader concurrency {m['max_concurrency']} exceeded the pool size {m['pool_size']}")
    if out.leftovers:
        problems.append(f"left {len(out.leftovers)} process(es) alive (killed): {'; '.join(out.leftovers)}")
    if status == "ok" and problems:
        status = "failed"
    return status, errors + problems


def start_method_for(opts: Options, probe: dict[str, Any]) -> str:
    method = opts.start_method or probe["default_start_method"]
    if method not in probe["start_methods"]:
        raise ScenarioError(
            f"start method {method!r} is not available here; choose one of {', '.join(probe['start_methods'])}"
        )
    return str(method)


Progress = Callable[[Planned, dict[str, Any] | None], None]


def execute(
    scenarios: list[LoadedScenario],
    opts: Options,
    probe: dict[str, Any],
    on_progress: Progress = lambda planned, trial: None,
) -> tuple[Path, dict[str, Any]]:
    """Run every planned trial; returns the run directory and its final document.

    On KeyboardInterrupt the current trial's process tree is killed (by the runner),
    the run is marked ``incomplete`` and the interrupt propagates.
    """
    trials = plan(scenarios, opts)
    method = start_method_for(opts, probe)
    cal = work.Calibration(**probe["calibration"])
    # The ideal is a lower bound, so it assumes every usable core; the parallelism measured
    # now (probe) is context in the fingerprint: a busy machine shows as lower efficiency.
    parallelism = float(usable_cores())
    run_dir = store.new_run_dir(opts.out)
    writer = store.RunWriter(
        run_dir,
        fingerprint(probe, method, runner.ROOT),
        {
            "strategies": opts.strategies,
            "repeat": opts.repeat,
            "warmup": opts.warmup,
            "start_method": method,
            "python": opts.python,
            "timeout": opts.timeout,
            "strategy_options": dict(opts.strategy_options),
        },
        {ls.scenario.name: {"source": ls.source, "definition": ls.scenario.model_dump()} for ls in scenarios},
    )
    if opts.extra:
        writer.doc.update(opts.extra)
        writer.flush()
    try:
        for index, planned in enumerate(trials):
            on_progress(planned, None)
            trial = _one(index, planned, opts, method, cal, parallelism, writer)
            on_progress(planned, trial)
    except BaseException:
        writer.finish("incomplete")
        raise
    writer.finish("complete")
    return run_dir, writer.doc


def _one(
    index: int,
    planned: Planned,
    opts: Options,
    method: str,
    cal: work.Calibration,
    parallelism: float,
    writer: store.RunWriter,
) -> dict[str, Any]:
    sc = planned.loaded.scenario
    entry = base.get(planned.strategy)
    trial: dict[str, Any] = {
        "id": f"{index:04d}-{sc.name}-{planned.strategy}"
        + ("-warmup" if planned.warmup else f"-r{planned.repeat + 1}"),
        "scenario": sc.name,
        "strategy": planned.strategy,
        "repeat": planned.repeat,
        "warmup": planned.warmup,
        "start_method": method if entry.uses_start_method else None,
    }
    ok, why = entry.available()
    if not ok:
        trial.update(status="unavailable", errors=[why], leftovers=[], metrics=None)
        writer.add_trial(trial, None)
        return trial
    workload = sc.workload(method, cal)
    if opts.strategy_options:
        workload = dataclasses.replace(workload, options=opts.strategy_options)
    timeout = opts.timeout if opts.timeout is not None else sc.timeout
    out = runner.run_trial(opts.python, planned.strategy, workload, timeout)
    records = metrics.join_records(out.reads, out.enqueued, sc.items_per_writer)
    out.reads, out.enqueued = out.reads[:0], out.enqueued[:0]  # joined: let the raw copies go
    m = metrics.trial_metrics(records, workload, out.meta, parallelism)
    status, errors = classify(out, m)
    trial.update(status=status, errors=errors, leftovers=out.leftovers, metrics=m)
    if sc.faults is not None or out.fault_events:
        trial["faults"] = stress.outcome(out, m)
    writer.add_trial(trial, None if planned.warmup else records)
    return trial
