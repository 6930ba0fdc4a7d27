"""The verbs that run trials: ``list``, ``run``, ``sweep`` and ``stress``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness import errors
from harness.cli.common import (
    MAX_REPEAT,
    MAX_TIMEOUT,
    DaskOpt,
    DaskTimeoutOpt,
    DryRunOpt,
    EachWorkerOpt,
    ForceOpt,
    OutOpt,
    PythonOpt,
    PythonsOpt,
    RankBy,
    RankByOpt,
    RecalibrateOpt,
    RepeatOpt,
    StartMethod,
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
from harness.cli.results_cmds import print_summary, print_sweep, write_report

if TYPE_CHECKING:
    from harness.running import suite
    from harness.running.suite import Options


@app.command("list")
def list_cmd(
    scenarios_dir: Annotated[
        Path | None, typer.Option("--scenarios", metavar="DIR", help="Directory of scenario files to list.")
    ] = None,
    python: PythonOpt = None,
) -> None:
    """List strategies and work kinds (available under the worker's interpreter, or why not) and the
    shipped scenarios."""
    from rich.table import Table

    from harness import scenario
    from harness.presentation import terminal as render
    from harness.running import launchers
    from strategies import kinds, registry

    if scenarios_dir is not None and not scenarios_dir.is_dir():
        fail(f"--scenarios {scenarios_dir}: not a directory")
    con = render.console()
    # Asked of the interpreter that will run the trials, never assumed from this one.
    answer = launchers.make("local", python=one_python(python, "list")).available()
    where = f"Python {answer['version']} ({answer['executable']})"
    table = Table(title=f"strategies, available under {where}", title_justify="left", header_style="bold")
    for col in ("name", "family", "available", "what it does"):
        table.add_column(col)
    for entry in registry.REGISTRY.values():
        if entry.test_only:
            continue
        ok, why = answer["strategies"].get(entry.name, (False, "not known to that worker"))
        shown = f"yes (opt-in: -s {entry.name})" if entry.opt_in else "yes"
        table.add_row(
            esc(entry.name), entry.family.value, shown if ok else f"[red]no: {esc(why)}[/]", esc(entry.summary)
        )
    con.print(table)
    table = Table(title="work kinds (scenario `kind = ...`)", title_justify="left", header_style="bold")
    for col in ("kind", "available", "what it does"):
        table.add_column(col)
    for name in kinds.KINDS:
        ok, why = answer["kinds"].get(name, (False, "not known to that worker"))
        table.add_row(name, "yes" if ok else f"[red]no: {esc(why)}[/]", kinds.get(name).summary if ok else "")
    con.print(table)
    folder = scenarios_dir or scenario.scenario_dir()
    table = Table(title=f"scenarios in {esc(folder)}", title_justify="left", header_style="bold")
    for col in ("file", "scenario", "description"):
        table.add_column(col)
    for path in sorted(folder.glob("*.toml")):
        try:
            for item in scenario.load(path):
                table.add_row(esc(path.name), esc(item.scenario.name), esc(item.scenario.description))
        except errors.ScenarioError as exc:
            table.add_row(esc(path.name), "[red]invalid[/]", esc(exc))
    con.print(table)
    con.print(f"default suite (queuebench run with no files): {', '.join(scenario.DEFAULT_SUITE)}")


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
) -> None:
    """Run scenarios against strategies; every trial in a fresh process, under a watchdog."""
    from harness import scenario
    from harness.analysis.summary import summarize
    from harness.presentation import terminal as render
    from harness.running import suite

    paths = files or scenario.default_suite()
    loaded = scenario.load_many(paths)
    opts = _options(strategy, repeat, warmup, start_method, python[0] if python else None, timeout, out, force)
    opts.recalibrate = recalibrate
    if python and len(python) > 1:
        if dask is not None:
            fail("several --python with --dask: a Dask worker runs its own interpreter; give one --python")
        opts.pythons = list(python)
    planned = suite.plan(loaded, opts)
    if dry_run:
        _dry_run(planned, opts)
        return
    run_dir, run = measure(loaded, opts, dask, each_worker, dask_timeout)
    con = render.console()
    print_summary(run, summarize(run, rank_by.value), con, said=True)
    con.print(f"results: {esc(run_dir)}")
    if make_report:
        write_report(run_dir, None, con, rank_by.value)
    bad = [t for t in run.trials if not t.ok]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {esc(run_dir)}`")
        raise typer.Exit(1)


def _dry_run(planned: list[suite.Planned], opts: Options) -> None:
    """What ``run`` would do: the trials and each strategy's pre-flight estimate; no probe, no trial."""
    import multiprocessing
    import shutil

    from harness.presentation import terminal as render
    from harness.running import preflight

    method = opts.start_method or multiprocessing.get_start_method()
    pairs = {(id(p.loaded), p.strategy): (p.loaded, p.strategy) for p in planned}
    sides = max(1, len(opts.pythons))
    estimates = preflight.check(
        [(p.loaded, p.strategy) for p in planned] * sides, method, opts.force, timeout=opts.timeout
    )
    con = render.console()
    each = ""
    if len(opts.pythons) > 1:  # not started, so not asked what each can run: only that it is there
        for python in opts.pythons:
            if shutil.which(python) is None:
                fail(f"--python {python!r}: no such executable")
        each = f" under each of {len(opts.pythons)} interpreters (what each can run is asked when the run starts)"
    total = len(planned) * max(1, len(opts.pythons))
    con.print(f"dry run: {total} trial(s) of {len(pairs)} scenario x strategy pair(s){each}; nothing was run")
    for e in estimates:
        con.print(e.line(), markup=False, highlight=False)
    seconds, limit = preflight.total_seconds(estimates), preflight.TIME_LIMIT_S
    bound = preflight.duration(limit)
    over = f", over the limit of {bound} (--force)" if seconds > limit else f"; the limit is {bound}"
    con.print(
        f"time: about {preflight.duration(seconds)} (each trial's ideal makespan + ~{preflight.STARTUP_S:g} s "
        f"start-up){over}",
        markup=False,
        highlight=False,
    )


@app.command()
def sweep(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.toml", help="A scenario TOML file (one scenario, or pick one with --scenario)."),
    ],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            metavar="PARAM=VALUES",
            help="PARAM=VALUES: a range 1..8 (1..16:2 steps, 1..64*2 doubles) or a list 1e2,1e4,1e6. "
            "Repeatable: a grid, the first is the x axis.",
            show_default=False,
        ),
    ],
    scenario_name: Annotated[
        str | None, typer.Option("--scenario", metavar="NAME", help="Which scenario of the file to sweep.")
    ] = None,
    strategy: StrategyOpt = None,
    repeat: RepeatOpt = None,
    warmup: WarmupOpt = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: TimeoutOpt = None,
    out: OutOpt = Path("results"),
    rank_by: RankByOpt = RankBy.total,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    dask: DaskOpt = None,
    dask_timeout: DaskTimeoutOpt = None,
    recalibrate: RecalibrateOpt = False,
) -> None:
    """Run a scenario at each value of a parameter, such as readers=1..8: best value and knee per strategy.

    Prints and plots (sweep.png) throughput and p99 against the parameter; the knee is the
    smallest value reaching 95% of the best throughput."""
    from harness import scenario
    from harness.presentation import terminal as render
    from harness.running import suite
    from harness.sweeps import findings as sw

    varies = [sw.parse_vary(v) for v in vary]
    chosen = sw.pick(scenario.load(file), scenario_name)
    points = sw.expand(chosen, varies)
    loaded = [p.loaded for p in points]
    opts = _options(strategy, repeat, warmup, start_method, one_python(python, "sweep"), timeout, out, force)
    opts.extra = {"sweep": sw.record(chosen, varies, points)}
    opts.recalibrate = recalibrate
    opts.rounds_span_scenarios = True  # repeat by repeat over every point: load bursts spread out
    planned = suite.plan(loaded, opts)
    con = render.console()
    con.print(f"sweep of {chosen.scenario.name}: {len(points)} points, {len(planned)} trials")
    if dry_run:
        _dry_run(planned, opts)
        return
    run_dir, run = measure(loaded, opts, dask, dask_timeout=dask_timeout)
    print_sweep(run, run_dir, con, rank_by=rank_by.value)
    bad = [t for t in run.trials if not t.ok]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {esc(run_dir)}`")
        raise typer.Exit(1)


def _options(
    strategy: list[str] | None,
    repeat: int | None,
    warmup: int | None,
    start_method: StartMethod | None,
    python: str | None,
    timeout: float | None,
    out: Path,
    force: bool = False,
) -> Options:
    """The run options shared by run, sweep, stress and ab; ``out`` is checked first (one line
    for a path too long, a place nothing can be made in, a file there, a full disk)."""
    from harness.rundir import paths
    from harness.running import suite

    paths.writable_dir(out, "--out", room=paths.RUN_ROOM, needs=paths.RUN_NEEDS)
    return suite.Options(
        strategies=strategy or [],
        repeat=repeat,
        warmup=warmup,
        start_method=start_method.value if start_method else None,
        python=python or sys.executable,
        timeout=timeout,
        out=out,
        force=force,
    )


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
) -> None:
    """Run the fault matrix (strategies x faults) and print the survival matrix.

    Each cell says how the strategy ended under that fault: recovered (items delivered of
    expected, lost, raised), hung (killed by the watchdog after the timeout) or crashed.
    Hangs and losses are findings, not errors: the exit code is 0 unless the input is bad."""
    from harness import scenario
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
    opts = _options(strategy or registry.names(), repeat, 0, start_method, python_one, timeout, out, force)
    suite.plan(loaded, opts)  # an unknown strategy is one line, before anything runs
    run_dir, run = measure(loaded, opts, dask, dask_timeout=dask_timeout, named=bool(strategy))
    con = render.console()
    matrix = survival(run)  # built once: the terminal table and survival.md render the same data
    con.print(render.survival_table(matrix))
    md = run_dir / "survival.md"
    store.atomic_write(md, survival_markdown(matrix).encode())
    png = save(survival_figure(matrix), run_dir / "survival.png")
    con.print(f"results: {esc(run_dir)}  (matrix: {esc(md)}, figure: {esc(png)})")
