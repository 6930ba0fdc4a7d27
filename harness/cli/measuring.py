"""Running a planned suite from the command line: pick the launcher (local or Dask), probe it,
show progress, and turn a bad --python, an unavailable work kind or Ctrl+C into one line and the
right exit code. Shared by ``run``, ``sweep`` and ``stress``."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from harness.cli.common import esc, fail
from harness.cli.results_cmds import parallelism_line

if TYPE_CHECKING:
    from rich.console import Console

    from harness.rundir.model import Run
    from harness.running import suite
    from harness.running.launchers import Launcher
    from harness.running.suite import Options
    from harness.scenario import LoadedScenario


class PlainProgress:
    """Progress for a console that is not a terminal (a CI log, ``| tee``), where the bar is not
    drawn: a line to stderr at most every ``every_s`` seconds, with the trials done, the time so
    far and the time left at the pace so far, so that a long sweep does not look hung."""

    def __init__(self, every_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s, self.clock = every_s, clock
        self.started = self.last = clock()

    def line(self, done: int, total: int, label: str) -> str | None:
        """The line to print now, or None until ``every_s`` has passed since the last one."""
        now = self.clock()
        if now - self.last < self.every_s:
            return None
        self.last = now
        elapsed = now - self.started
        left = f", about {_minutes(elapsed / done * (total - done))} left" if 0 < done < total else ""
        return f"progress: {done}/{total} trials, {_minutes(elapsed)} elapsed{left} (now: {label})"


def _minutes(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """While trials run, SIGTERM stops them as Ctrl+C does; the handler before is put back after,
    so a caller that goes on in its own process (a test, the pytest plugin, the Python API) keeps
    its own, and a process it forks later does not inherit ours."""
    if not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_with_progress(prepared: suite.Prepared, con: Console, before: suite.Progress | None = None) -> tuple[Path, Run]:
    """Run a prepared suite under a progress bar, printing each trial that did not pass; returns
    the run directory and the run. ``before`` sees every progress event first (``ab -r auto``
    adds rounds of trials there)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from harness.rundir.model import Run

    for line in prepared.caveats():  # measured, but not like the others: said before it runs
        con.print(f"[yellow]caveat[/] {esc(line)}")

    # Elapsed, then the time left at the pace so far (as hyperfine shows it), once a trial has finished.
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    plain = None if con.is_terminal else PlainProgress()
    with Progress(*columns, console=con, transient=True) as progress:
        task = progress.add_task("starting", total=len(prepared.trials))

        def on_progress(planned: suite.Planned, trial: dict[str, Any] | None) -> None:
            if before is not None:
                before(planned, trial)
            progress.update(task, total=len(prepared.trials))
            if trial is None:
                progress.update(task, description=planned.label)
                return
            progress.advance(task)
            if plain is not None and (
                line := plain.line(int(progress.tasks[0].completed), len(prepared.trials), planned.label)
            ):
                print(line, file=sys.stderr, flush=True)
            if trial["status"] != "ok":
                why = "; ".join(trial["errors"])[:400]
                progress.console.print(f"[red]{trial['status']}[/] {esc(planned.label)}: {esc(why)}")

        run_dir, doc = prepared.run(on_progress)
    for (scenario, strategy, side), why in prepared.stopped.items():
        where = f"{scenario} / {strategy}" + (f" side {side}" if side else "")
        con.print(
            f"[red]stopped[/] {esc(where)}: its warmup failed in your code, so its repeats were not run: {esc(why)}"
        )
    return run_dir, Run.from_doc(doc)


def launcher_for(opts: Options, dask: str | None, dask_timeout: float | None = None) -> Launcher:
    """The local launcher, or the Dask one for ``--dask``; ``dask_timeout`` (``--dask-timeout``) bounds
    each wait on the cluster, and the dask strategy's in its trials (given them as QUEUEBENCH_DASK_TIMEOUT)."""
    from harness.running import launchers
    from harness.running.launchers.dask import TIMEOUT_ENV

    if dask is None:
        env = {TIMEOUT_ENV: f"{dask_timeout:g}"} if dask_timeout is not None else None
        return launchers.make("local", python=opts.python, recalibrate=opts.recalibrate, env=env, user=opts.user)
    if dask != "local" and not dask.startswith(("tcp://", "tls://")):
        fail(f"--dask {dask!r}: give 'local' or a scheduler address such as tcp://HOST:8786")
    # On a Dask worker the default interpreter is that worker's own: --python only when given.
    python = opts.python if opts.python != sys.executable else None
    return launchers.make(
        "dask", address=dask, python=python, recalibrate=opts.recalibrate, timeout=dask_timeout, user=opts.user
    )


def prepare_interpreters(loaded: list[LoadedScenario], opts: Options, con: Console) -> suite.Prepared:
    """``run --python X --python Y`` (harness.running.interpreters.prepare), each interpreter said in one
    line with what it left out; fails only when a strategy named with -s runs under none."""
    from harness.running import interpreters

    with con.status(f"probing {len(opts.pythons)} worker interpreters: calibrating cpu work, measuring parallelism"):
        prepared = interpreters.prepare(loaded, opts)
    for name, entry in opts.extra["interpreters"].items():
        probe = prepared.sides[name][1]
        said = f"{interpreters.describe(interpreters.facts(probe))} ({probe.executable}) · {parallelism_line(probe)}"
        con.print(f"worker {esc(name)}: {esc(said)}")
        for strategy, why in entry["unavailable"].items():
            con.print(f"  [yellow]not under {esc(name)}[/]: {esc(strategy)}: {esc(why)}")
    ran = {p.strategy for p in prepared.trials}
    if none := [s for s in opts.strategies if s not in ran]:
        fail(f"strategy {none[0]!r} cannot run under any of the interpreters given (see the lines above)")
    return prepared


def measure(
    loaded: list[LoadedScenario],
    opts: Options,
    dask: str | None = None,
    each_worker: bool = False,
    dask_timeout: float | None = None,
    named: bool | None = None,
    adapt: Callable[[suite.Prepared], suite.Progress] | None = None,
) -> tuple[Path, Run]:
    """Probe where the trials run, run every planned trial with a progress bar; handles a bad
    --python or --dask, an unavailable work kind and Ctrl+C. With --each-worker, one run per Dask
    worker (the last is returned; each folder is printed). ``dask_timeout``: --dask-timeout.

    ``named``: the user named the strategies (-s), so one the worker cannot run is a one-line
    error; else (the default set, or stress's every strategy) it is left out, said in a line.
    By default, whether ``opts.strategies`` is non-empty. ``adapt``: given the prepared run before
    it starts, may change its trials and returns a progress hook that may add more (``sweep --auto``)."""
    named = bool(opts.strategies) if named is None else named
    from harness.presentation import terminal as render
    from harness.running import suite

    con = render.console()
    if each_worker and dask is None:
        fail("--each-worker needs --dask (the workers of a Dask cluster)")
    launcher = launcher_for(opts, dask, dask_timeout)
    with sigterm_as_ctrl_c():  # after the checks above, which exit
        try:
            targets: list[Launcher] = [launcher]
            if each_worker:
                with con.status(f"asking the Dask scheduler at {dask} for its workers"):
                    targets = [launcher.pinned(w) for w in launcher.workers()]  # type: ignore[attr-defined]
            result: tuple[Path, Run] | None = None
            for target in targets:
                pinned = getattr(target, "worker", None)
                where = f" on {pinned}" if pinned else ""
                try:
                    if len(opts.pythons) > 1:
                        prepared = prepare_interpreters(loaded, opts, con)
                    else:
                        probing = f"probing the worker interpreter{where}: calibrating cpu work, measuring parallelism"
                        with con.status(probing):
                            prepared = suite.prepare(loaded, opts, target)
                except KeyboardInterrupt:
                    con.print("[bold yellow]interrupted[/] before any trial ran; nothing was written")
                    raise typer.Exit(130) from None
                if (line := prepared.unrunnable()) is not None:
                    fail(line)
                if not prepared.sides:
                    probe = prepared.probe
                    facts = f"{probe.implementation} {probe.version} · {parallelism_line(probe)}"
                    con.print(f"worker{esc(where)}: {esc(facts)}")  # a busy machine is said once, above the table
                    missing = prepared.unavailable_strategies()
                    if (line := prepared.unavailable(named=named)) is not None:
                        fail(line)
                    for strategy, why in missing.items():
                        con.print(f"[yellow]unavailable[/] {esc(strategy)}: {esc(why)} (not run)")
                try:
                    result = run_with_progress(prepared, con, adapt(prepared) if adapt is not None else None)
                except OSError as exc:  # not from storing (those are RunDirError): say what, in one line
                    fail(f"cannot run: {exc.strerror or exc}")
                except KeyboardInterrupt:
                    con.print("[bold yellow]interrupted[/]: trial processes killed; partial results marked incomplete")
                    raise typer.Exit(130) from None
                if each_worker:
                    con.print(f"results{where}: {esc(result[0])}")
            assert result is not None
            return result
        finally:
            close = getattr(launcher, "close", None)
            if close is not None:
                close()
