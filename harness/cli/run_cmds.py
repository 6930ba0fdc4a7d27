"""The verbs that run trials: ``run``, ``sweep`` and ``stress``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import (
    MAX_REPEAT,
    MAX_TIMEOUT,
    DaskOpt,
    DaskTimeoutOpt,
    DryRunOpt,
    EachWorkerOpt,
    ForceOpt,
    OutOpt,
    PathOpt,
    PythonOpt,
    PythonsOpt,
    RankBy,
    RankByOpt,
    RecalibrateOpt,
    RepeatOpt,
    StartMethodOpt,
    StrategyOpt,
    TimeoutOpt,
    WarmupOpt,
    app,
    esc,
    fail,
    one_python,
)
from harness.cli.measuring import measure
from harness.cli.planning import print_plan, run_options, with_user_code
from harness.cli.results_cmds import print_summary, write_report


@app.command()
def run(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE.toml",
            help="Scenario TOML files. Default: the default suite (see `queuebench list`).",
            show_default=False,
        ),
    ] = None,
    strategy: StrategyOpt = None,
    repeat: RepeatOpt = None,
    warmup: WarmupOpt = None,
    start_method: StartMethodOpt = None,
    python: PythonsOpt = None,
    timeout: TimeoutOpt = None,
    out: OutOpt = Path("results"),
    make_report: Annotated[
        bool, typer.Option("--report", help="Write report.md, report.html and figures into the run directory.")
    ] = False,
    rank_by: RankByOpt = RankBy.total,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    dask: DaskOpt = None,
    dask_timeout: DaskTimeoutOpt = None,
    each_worker: EachWorkerOpt = False,
    recalibrate: RecalibrateOpt = False,
    path: PathOpt = None,
) -> None:
    """Run scenarios against strategies; every trial in a fresh process, under a watchdog."""
    from harness import scenario
    from harness.analysis.summary import summarize
    from harness.presentation import terminal as render
    from harness.running import suite

    paths = files or scenario.default_suite()
    loaded = scenario.load_many(paths)
    opts = run_options(strategy, repeat, warmup, start_method, python[0] if python else None, timeout, out, force)
    with_user_code(opts, path, files or [], loaded)
    opts.recalibrate = recalibrate
    if python and len(python) > 1:
        if dask is not None:
            fail("several --python with --dask: a Dask worker runs its own interpreter; give one --python")
        opts.pythons = list(python)
    planned = suite.plan(loaded, opts)
    if dry_run:
        print_plan(planned, opts)
        return
    run_dir, run = measure(loaded, opts, dask, each_worker, dask_timeout)
    con = render.console()
    frame = summarize(run, rank_by.value)
    print_summary(run, frame, con, said=True, run_dir=run_dir)
    again = "".join(f" --path {shlex.quote(str(p))}" for p in path or ())  # the sweep needs your code too
    if (note := render.pool_note(frame, paths, again)) is not None:
        con.print(note, markup=False)
    con.print(f"results: {esc(run_dir)}")
    if make_report:
        write_report(run_dir, None, con, rank_by.value)
    bad = [t for t in run.trials if not t.ok]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {esc(run_dir)}`")
        raise typer.Exit(1)


@app.command()
def stress(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE.toml",
            help="Scenario files with [scenario.faults]. Default: scenarios/faults.toml.",
            show_default=False,
        ),
    ] = None,
    strategy: StrategyOpt = None,
    repeat: Annotated[
        int | None, typer.Option("--repeat", "-r", min=1, max=MAX_REPEAT, metavar="N", help="Trials per cell.")
    ] = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            max=MAX_TIMEOUT,
            metavar="SECONDS",
            help="Seconds before a trial counts as hung and is killed.",
        ),
    ] = None,
    out: OutOpt = Path("results"),
    force: ForceOpt = False,
    dask: DaskOpt = None,
    dask_timeout: DaskTimeoutOpt = None,
    path: PathOpt = None,
) -> None:
    """Run the fault matrix (strategies x faults) and print the survival matrix.

    Each cell says how the strategy ended under that fault: recovered (items delivered of
    expected, lost, raised), hung (killed by the watchdog after the timeout) or crashed.
    Hangs and losses are findings, not errors: the exit code is 0 unless the input is bad."""
    from harness import scenario
    from harness.analysis.survival import LEGEND as SURVIVAL_LEGEND
    from harness.analysis.survival import survival
    from harness.presentation import terminal as render
    from harness.presentation.figures.style import save
    from harness.presentation.figures.survival import survival_figure
    from harness.presentation.survival import survival_markdown
    from harness.rundir import store
    from harness.running import suite
    from strategies import registry

    loaded = scenario.load_many(files or [scenario.scenario_dir() / "faults.toml"])
    # Without -s, every strategy a user can name (the opt-in ones too, e.g. dask): a survival
    # matrix is about how each one fails. One the worker cannot run is then left out and said
    # (suite.Prepared.unavailable); one named with -s that cannot run is a one-line error.
    python_one = one_python(python, "stress")
    opts = run_options(strategy or registry.names(), repeat, 0, start_method, python_one, timeout, out, force)
    with_user_code(opts, path, files or [], loaded)
    suite.plan(loaded, opts)  # an unknown strategy is one line, before anything runs
    run_dir, run = measure(loaded, opts, dask, dask_timeout=dask_timeout, named=bool(strategy))
    con = render.console()
    matrix = survival(run)  # built once: the terminal table and survival.md render the same data
    con.print(render.survival_table(matrix))
    con.print(f"[dim]{esc(SURVIVAL_LEGEND)}[/]")
    md = run_dir / "survival.md"
    store.atomic_write(md, survival_markdown(matrix).encode())
    png = save(survival_figure(matrix), run_dir / "survival.png")
    con.print(f"results: {esc(run_dir)}  (matrix: {esc(md)}, figure: {esc(png)})")
