"""The ``sweep`` verb: a scenario at each value of a parameter, ``--auto``'s search and ``--direct``'s check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness.cli.common import (
    DaskOpt,
    DaskTimeoutOpt,
    DryRunOpt,
    ForceOpt,
    OutOpt,
    PathOpt,
    PythonOpt,
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
from harness.cli.results_cmds import print_sweep

if TYPE_CHECKING:
    from harness.running.suite import Options


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
    auto: Annotated[
        bool,
        typer.Option(
            "--auto",
            help="Search for the best pool size instead of measuring every value: a first look at 1, 2, 4, 8..., "
            "then points and repeats where they decide (one --vary readers=LO..HI).",
        ),
    ] = False,
    budget: Annotated[
        str,
        typer.Option("--budget", metavar="TIME", help="--auto stops adding trials after this long (600, 90s, 15m)."),
    ] = "15m",
    direct: Annotated[
        bool,
        typer.Option(
            "--direct",
            help="After a sweep over readers, run the fastest strategy once at its best pool with 100 items and "
            "print it beside the '100 items in T s' model.",
        ),
    ] = False,
    path: PathOpt = None,
) -> None:
    """Run a scenario at each value of a parameter, such as readers=1..8: best value and knee per strategy.

    Prints and plots (sweep.png) throughput and p99 against the parameter; the knee is the
    smallest value reaching 95% of the best throughput."""
    from harness import scenario
    from harness.presentation import terminal as render
    from harness.running import suite
    from harness.sweeps import findings as sw
    from harness.sweeps import planning as sweep_planning

    varies = [sw.parse_vary(v) for v in vary]
    chosen = sw.pick(scenario.load(file), scenario_name)
    points = sw.expand(chosen, varies)
    loaded = [p.loaded for p in points]
    opts = run_options(strategy, repeat, warmup, start_method, one_python(python, "sweep"), timeout, out, force)
    with_user_code(opts, path, [file], loaded)
    opts.extra = {"sweep": sw.record(chosen, varies, points)}
    opts.recalibrate = recalibrate
    opts.rounds_span_scenarios = True  # repeat by repeat over every point: load bursts spread out
    opts.skip = sweep_planning.one_point_skips([(p.loaded, p.values) for p in points], opts)
    one = sorted({strategy for _, strategy in opts.skip})
    adapt, record = None, dict[str, Any]()
    if auto:
        adapt = _auto(points, opts, record, budget, rank_by)
    planned = suite.plan(loaded, opts) if adapt is None else record.pop("first_round")
    con = render.console()
    then = f" in its first look, more as the search decides (budget {budget})" if auto else ""
    con.print(f"sweep of {chosen.scenario.name}: {len(points)} points, {len(planned)} trials{then}")
    if one:
        con.print(f"{esc(', '.join(one))}: runs no pool, so measured at one {varies[0].param} value only")
    if dry_run:
        print_plan(planned, opts)
        if auto:
            con.print(f"(the first look only: the search adds trials where they decide, for up to {budget})")
        return
    run_dir, run = measure(loaded, opts, dask, dask_timeout=dask_timeout, adapt=adapt)
    if auto:
        measured = sorted({int(run.swept.points[t.scenario]["readers"]) for t in run.measured})
        for line in [f"first look at readers = {', '.join(map(str, record.get('first_look', [])))}", *record["log"]]:
            con.print(f"auto: {line}", markup=False)
        stopped = record.get("stopped") or "interrupted"
        con.print(f"auto: stopped: {stopped}; measured readers = {measured} in {len(run.trials)} trials", markup=False)
    print_sweep(run, run_dir, con, rank_by=rank_by.value)
    if direct:
        _direct(run, run_dir, chosen, opts, rank_by, dask, dask_timeout)
    bad = [t for t in run.trials if not t.ok]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {esc(run_dir)}`")
        raise typer.Exit(1)


def _auto(points: list[Any], opts: Options, record: dict[str, Any], budget: str, rank_by: RankBy) -> Any:
    """``sweep --auto``: the search's hook for :func:`measure` (harness.sweeps.auto); the first look's
    points only in the plan the pre-flight estimates."""
    from harness.analysis.summary import RANK_BY
    from harness.running import suite
    from harness.sweeps import auto as sweep_auto

    if {tuple(p.values) for p in points} != {("readers",)}:
        fail("--auto searches for a pool size: give one --vary readers=LO..HI")
    by_value = {p.values["readers"]: p.loaded for p in points}
    record["budget_s"] = sweep_auto.parse_budget(budget)
    opts.extra["auto"] = record  # the search's log, written with the run
    look = sweep_auto.first_look(sorted(by_value))
    later = {
        (ls.scenario.name, s) for v, ls in by_value.items() if v not in look for s in suite.strategies_for(ls, opts)
    }
    opts.skip = opts.skip | later
    record["first_round"] = sweep_auto.first_round(by_value, opts)  # what the dry run and the count show
    return sweep_auto.searcher(by_value, opts, RANK_BY[rank_by.value], record["budget_s"], record)


def _direct(
    run: Any, run_dir: Path, base: Any, opts: Options, rank_by: RankBy, dask: str | None, dask_timeout: float | None
) -> None:
    """``--direct``: one long trial at the best pool, said beside the model (harness.sweeps.direct);
    its own run folder, and ``direct`` in the sweep's run.json."""
    import dataclasses
    import json

    from harness.presentation import terminal as render
    from harness.rundir import store
    from harness.sweeps import direct as sweep_direct
    from harness.sweeps import findings as sw

    con = render.console()
    frame = sw.results(run, rank_by.value)
    check = sweep_direct.target(run, sw.findings(run, frame))
    if check is None:
        con.print("direct: nothing to check (a sweep over readers with a passing trial of a pooled strategy)")
        return
    loaded = sweep_direct.scenario(base, check)
    con.print(f"direct: {loaded.scenario.total_items} items by {check.strategy} with a pool of {check.pool}")
    one = dataclasses.replace(opts, extra={}, skip=frozenset(), repeat=None, warmup=None, strategies=[check.strategy])
    direct_dir, direct_run = measure([loaded], one, dask, dask_timeout=dask_timeout)
    check = sweep_direct.measured(check, direct_run)
    con.print(check.line(), markup=False)
    doc = json.loads((run_dir / store.RUN_FILE).read_text())
    doc["direct"] = {**check.record(), "run": str(direct_dir)}
    store.atomic_write(run_dir / store.RUN_FILE, json.dumps(doc, indent=1).encode())
