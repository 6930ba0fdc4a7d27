"""A run: scenarios x strategies x (warmup + repeats) trials, measured and stored.

The one front door for the CLI, sweeps, stress and the pytest plugin:
:func:`prepare` asks the launcher's probe about where trials will run, checks the
options against it and plans the trials (:mod:`harness.running.planning`); :meth:`Prepared.run`
runs them, judges each (:mod:`harness.running.checks`) and stores them.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.analysis import metrics, summary
from harness.errors import ScenarioError
from harness.rundir import store
from harness.running import faults as stress
from harness.running import reference, timing
from harness.running.checks import classify as classify
from harness.running.checks import registry_problems as registry_problems
from harness.running.fingerprint import fingerprint
from harness.running.launchers import Launcher, Probe, TrialSpec, make, memory
from harness.running.planning import Options as Options
from harness.running.planning import Planned as Planned
from harness.running.planning import interleave_sides as interleave_sides
from harness.running.planning import plan as plan
from harness.running.planning import strategies_for as strategies_for
from harness.scenario import LoadedScenario
from strategies import base, registry


def start_method_for(opts: Options, probe: Probe) -> str:
    method = opts.start_method or probe.default_start_method
    if method not in probe.start_methods:
        raise ScenarioError(
            f"start method {method!r} is not available here; choose one of {', '.join(probe.start_methods)}"
        )
    return str(method)


Progress = Callable[[Planned, dict[str, Any] | None], None]


@dataclass
class Prepared:
    """A run ready to go: its trials, the launcher and what its probe said."""

    scenarios: list[LoadedScenario]
    opts: Options
    launcher: Launcher
    probe: Probe
    trials: list[Planned]
    method: str
    #: side name -> (its launcher, its probe), for ab's A and B or one per interpreter of a
    #: multi-interpreter run; a planned trial with a side runs there
    sides: dict[str, tuple[Launcher, Probe]] = field(default_factory=dict)
    #: (scenario, strategy, side) -> why its repeats are not run: its warmup failed in the
    #: user's own code (an import error, an exception, an async function under a sync strategy).
    stopped: dict[tuple[str, str, str | None], str] = field(default_factory=dict)

    def unrunnable(self) -> str | None:
        """The one line to exit with (code 2) when no planned trial can run because a work kind
        is unavailable where trials run (e.g. the Docker kinds without an engine), else None."""
        found = self.probe.kinds.items()
        reasons = {name: str(why) for name, (ok, why) in found if not ok}
        needs = [
            {p.loaded.scenario.writer_work.kind, p.loaded.scenario.reader_work.kind} & reasons.keys()
            for p in self.trials
        ]
        if not needs or not all(needs):
            return None
        return reasons[sorted(needs[0])[0]]

    def unavailable_strategies(self) -> dict[str, str]:
        """Planned strategies the worker's interpreter cannot run: name -> why (its probe's answer)."""
        answers = self.probe.strategies
        return {p.strategy: str(answers[p.strategy][1]) for p in self.trials if not answers.get(p.strategy, (1,))[0]}

    def unavailable(self, named: bool) -> str | None:
        """Strategies the worker's interpreter cannot run (its probe said why). Named by the user
        (``named``): the one line to exit 2 with, before anything runs. Chosen by default (a run
        without -s, stress taking every strategy): they are dropped from the plan, and None (the
        caller says which, from :meth:`unavailable_strategies` asked before)."""
        missing = self.unavailable_strategies()
        if not missing:
            return None
        if named:
            python = self.probe.executable
            return "; ".join(f"strategy {n!r} cannot run under {python}: {why}" for n, why in missing.items())
        self.trials = [p for p in self.trials if p.strategy not in missing]
        return None

    def caveats(self) -> list[str]:
        """One line per planned scenario x strategy whose work this strategy measures differently
        from the others (its registry entry's ``caveat``, e.g. uvloop's whole-millisecond sleeps)."""
        out: dict[tuple[str, str], str] = {}
        for p in self.trials:
            key = (p.loaded.scenario.name, p.strategy)
            if key not in out:
                sc = p.loaded.scenario
                said = registry.get(p.strategy).caveat_for(sc.writer_work.spec(), sc.reader_work.spec())
                out[key] = f"{sc.name} / {p.strategy}: {said}" if said else ""
        return [line for line in out.values() if line]

    def drop_unavailable_by_side(self) -> dict[str, dict[str, str]]:
        """A run of sides (several interpreters): drop the trials a side's worker cannot run,
        from that side alone; returns side -> {strategy: why} (empty for a side that runs all)."""
        out: dict[str, dict[str, str]] = {}
        for name, (_, probe) in self.sides.items():
            answers = probe.strategies
            out[name] = {
                p.strategy: str(answers[p.strategy][1])
                for p in self.trials
                if p.side == name and not answers.get(p.strategy, (1,))[0]
            }
        self.trials = [p for p in self.trials if p.side is None or p.strategy not in out.get(p.side, {})]
        return out

    def run(self, on_progress: Progress = lambda planned, trial: None) -> tuple[Path, dict[str, Any]]:
        """Run every planned trial; returns the run directory and its final document.

        On KeyboardInterrupt the current trial's process tree is killed (by the launcher),
        the run is marked ``incomplete`` and the interrupt propagates.
        """
        probe, opts = self.probe, self.opts
        cal = probe.calibration
        # The ideal is a lower bound, so it assumes every usable core of the machine the trials
        # run on; the parallelism measured now (probe) is context: a busy machine shows as
        # lower efficiency.
        parallelism = probe.usable_cores
        run_dir = store.new_run_dir(opts.out)
        writer = store.RunWriter(
            run_dir,
            fingerprint(probe, self.method, getattr(self.launcher, "root", None)),
            {
                "strategies": opts.strategies,
                "repeat": opts.repeat,
                "warmup": opts.warmup,
                "start_method": self.method,
                "python": opts.python,
                "timeout": opts.timeout,
                "strategy_options": dict(opts.strategy_options),
                "launcher": self.launcher.name,
            },
            {ls.scenario.name: {"source": ls.source, "definition": ls.scenario.model_dump()} for ls in self.scenarios},
        )
        if opts.extra:
            writer.doc.update(opts.extra)
        # The drift guard's reference workload (harness.running.reference), timed here, before and after.
        writer.doc["reference"] = {"start_s": reference.time_reference(), "end_s": None, "units": reference.UNITS}
        # The time this run should take, learned from the runs before it (harness.running.timing),
        # and below the time it took: the next estimate learns from both.
        history = timing.learn(opts.out)
        estimate = history.estimate(((p.loaded, p.strategy) for p in self.trials), opts.timeout)
        writer.doc["timing"] = {"estimate_s": estimate, "planned_trials": len(self.trials), "actual_s": None}
        started = time.monotonic()
        writer.flush()
        try:
            for index, planned in enumerate(self.trials):  # ab --repeat auto appends as it goes
                if (planned.loaded.scenario.name, planned.strategy, planned.side) in self.stopped:
                    continue
                on_progress(planned, None)
                trial = _one(index, planned, self, cal, parallelism, writer)
                on_progress(planned, trial)
        except BaseException:
            writer.finish("incomplete", summary.derived_files)
            raise
        writer.doc["timing"].update(actual_s=time.monotonic() - started, trials=len(self.trials))
        writer.doc["reference"]["end_s"] = reference.time_reference()
        writer.finish("complete", summary.derived_files)
        return run_dir, writer.doc


def prepare(scenarios: list[LoadedScenario], opts: Options, launcher: Launcher | None = None) -> Prepared:
    """Plan the run and probe where it will run; raises ScenarioError, UnknownStrategy or
    WorkerError (each one line for the user) before any trial starts."""
    trials = plan(scenarios, opts)
    launcher = launcher or make("local", python=opts.python, recalibrate=opts.recalibrate, user=opts.user)
    probe = launcher.probe()
    registry.learn(probe.user_strategies)  # the user's strategies as the worker described them
    return preflight_checked(Prepared(scenarios, opts, launcher, probe, trials, start_method_for(opts, probe)))


def prepare_sides(
    scenarios: list[LoadedScenario],
    opts: Options,
    launchers: dict[str, Launcher],
    probes: dict[str, Probe] | None = None,
) -> Prepared:
    """A run of every planned trial once per side (``launchers``: side name -> launcher),
    interleaved; the first side's probe gives the cpu calibration every side uses (the same
    work everywhere: a slower interpreter takes longer over it) and the fingerprint. Each side
    must offer the start method. ``probes``: the sides' probes when the caller has them.
    Raises as :func:`prepare`."""
    names = tuple(launchers)
    probes = probes or {name: launcher.probe() for name, launcher in launchers.items()}
    for probe in probes.values():
        registry.learn(probe.user_strategies)
    first = names[0]
    method = start_method_for(opts, probes[first])
    for name in names[1:]:
        start_method_for(opts, probes[name])
    trials = interleave_sides(plan(scenarios, opts), names)
    sides = {name: (launchers[name], probes[name]) for name in names}
    prepared = Prepared(scenarios, opts, launchers[first], probes[first], trials, method, sides)
    return preflight_checked(prepared)


def preflight_checked(prepared: Prepared) -> Prepared:
    """Refuse (errors.TooBig, one line) a run whose trials this machine cannot take, unless
    ``opts.force``: processes, threads, memory in flight, record files, file descriptors, and
    the whole run's estimated time (every planned trial, each side's included)."""
    from harness.running import preflight

    trials = [(p.loaded, p.strategy) for p in prepared.trials]
    preflight.check(trials, prepared.method, prepared.opts.force, timeout=prepared.opts.timeout)
    return prepared


def execute(
    scenarios: list[LoadedScenario],
    opts: Options,
    probe: Probe | None = None,
    on_progress: Progress = lambda planned, trial: None,
    launcher: Launcher | None = None,
) -> tuple[Path, dict[str, Any]]:
    """prepare() then run(), reusing ``probe`` when the caller already has the launcher's."""
    if probe is None:
        return prepare(scenarios, opts, launcher).run(on_progress)
    launcher = launcher or make("local", python=opts.python, recalibrate=opts.recalibrate, user=opts.user)
    registry.learn(probe.user_strategies)
    prepared = Prepared(scenarios, opts, launcher, probe, plan(scenarios, opts), start_method_for(opts, probe))
    return preflight_checked(prepared).run(on_progress)


def _one(
    index: int,
    planned: Planned,
    prepared: Prepared,
    cal: base.Calibration,
    parallelism: float,
    writer: store.RunWriter,
) -> dict[str, Any]:
    sc, opts, method = planned.loaded.scenario, prepared.opts, prepared.method
    entry = registry.get(planned.strategy)
    trial: dict[str, Any] = {
        "id": f"{index:04d}-{sc.name}-{planned.strategy}"
        + ("-warmup" if planned.warmup else f"-r{planned.repeat + 1}"),
        "scenario": sc.name,
        "strategy": planned.strategy,
        "repeat": planned.repeat,
        "warmup": planned.warmup,
        "start_method": method if entry.uses_start_method else None,
    }
    launcher, probe = prepared.launcher, prepared.probe
    if planned.side is not None:  # this side's launcher and its worker's answers
        launcher, probe = prepared.sides[planned.side]
        trial["id"] += "-" + re.sub(r"[^A-Za-z0-9._-]", "-", planned.side)  # ids are plain names
        trial["side"] = planned.side
    # Availability as the worker's interpreter answered it (its probe), not the harness's.
    ok, why = probe.strategies.get(planned.strategy, entry.available())
    for side in (sc.writer_work, sc.reader_work):  # and the work kinds, as the worker answered
        if ok:
            ok, why = probe.kinds.get(side.kind, (True, ""))
    if not ok:
        trial.update(status="unavailable", errors=[why], leftovers=[], metrics=None)
        writer.add_trial(trial, None)
        return trial
    workload = sc.workload(method, cal)
    if opts.strategy_options:
        workload = dataclasses.replace(workload, options=opts.strategy_options)
    timeout = (opts.timeout if opts.timeout is not None else sc.timeout) + entry.startup_allowance_s
    started = time.monotonic()
    out = launcher.run(TrialSpec(planned.strategy, workload, timeout))
    rows = metrics.join_records(out.reads, out.writes, sc.items_per_writer)
    out.reads = out.reads[:0]  # joined: let the raw copy go
    m = metrics.trial_metrics(rows, workload, out.meta, parallelism, out.writes, out.memory)
    out.writes = out.writes[:0]
    status, errors = classify(out, m)
    if planned.warmup and out.meta.get("user_code_failed"):
        prepared.stopped[(sc.name, planned.strategy, planned.side)] = (errors or ["failed"])[0].splitlines()[0]
    trial.update(status=status, errors=errors, leftovers=out.leftovers, metrics=m, where=out.where, **memory.tag(out))
    trial["elapsed_s"] = time.monotonic() - started  # launch to records analysed (harness.running.timing)
    if sc.faults is not None or out.fault_events:
        trial["faults"] = stress.outcome(out, m)
    writer.add_trial(trial, None if planned.warmup else rows)
    return trial
