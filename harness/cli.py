"""queuebench's command line (typer). Thin: it parses, calls the harness, prints, exits.

Heavy modules (pandas, numpy, pyarrow, pydantic) are imported inside commands, so
``queuebench --help`` stays fast. Exit codes: 0 fine, 1 a trial failed, 2 bad
input, 130 interrupted.
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from harness.exports import FORMATS

if TYPE_CHECKING:
    from rich.console import Console

    from harness.scenario import LoadedScenario
    from harness.suite import Options

app = typer.Typer(
    name="queuebench",
    help="Benchmark and stress-test Python concurrency strategies on writer/reader pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: fast (no rich import for --help), and brackets in help texts stay literal.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"queuebench {version('queuebench')}")
        except PackageNotFoundError:
            typer.echo("queuebench (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Benchmark and stress-test Python concurrency strategies on writer/reader pipelines."""


class StartMethod(StrEnum):
    fork = "fork"
    forkserver = "forkserver"
    spawn = "spawn"


# Options shared by the commands that run trials (run, stress, sweep).
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option("--strategy", "-s", help="Strategy to run (repeatable). Default: the scenario's list, else all."),
]
StartMethodOpt = Annotated[
    StartMethod | None, typer.Option("--start-method", help="multiprocessing start method. Default: the platform's.")
]
PythonOpt = Annotated[
    str | None, typer.Option("--python", help="Interpreter the worker runs under. Default: this one.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Directory for results.")]
RepeatOpt = Annotated[
    int | None,
    typer.Option("--repeat", "-r", min=1, help="Measured repeats per strategy (overrides the scenario file)."),
]
WarmupOpt = Annotated[
    int | None, typer.Option("--warmup", min=0, help="Warmup trials, discarded (overrides the scenario file).")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0.1, help="Seconds per trial before it is killed (overrides the scenario file)."),
]


def esc(value: object) -> str:
    """Text from outside (paths, error messages) shown literally, never read as rich markup."""
    from rich.markup import escape

    return escape(str(value))


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command("list")
def list_cmd(
    scenarios_dir: Annotated[
        Path | None, typer.Option("--scenarios", help="Directory of scenario files to list.")
    ] = None,
) -> None:
    """List strategies (with availability) and the shipped scenarios."""
    from rich.table import Table

    from harness import render, scenario
    from strategies import base

    if scenarios_dir is not None and not scenarios_dir.is_dir():
        fail(f"--scenarios {scenarios_dir}: not a directory")
    con = render.console()
    table = Table(title="strategies", title_justify="left", header_style="bold")
    for col in ("name", "kind", "available", "what it does"):
        table.add_column(col)
    for entry in base.REGISTRY.values():
        if entry.test_only:
            continue
        ok, why = entry.available()
        table.add_row(entry.name, entry.family, "yes" if ok else f"[red]no: {why}[/]", entry.summary)
    con.print(table)
    folder = scenarios_dir or scenario.scenario_dir()
    table = Table(title=f"scenarios in {folder}", title_justify="left", header_style="bold")
    for col in ("file", "scenario", "description"):
        table.add_column(col)
    for path in sorted(folder.glob("*.toml")):
        try:
            for item in scenario.load(path):
                table.add_row(path.name, item.scenario.name, item.scenario.description)
        except scenario.ScenarioError as exc:
            table.add_row(path.name, "[red]invalid[/]", str(exc))
    con.print(table)
    con.print(f"default suite (queuebench run with no files): {', '.join(scenario.DEFAULT_SUITE)}")


@app.command()
def run(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario TOML files. Default: the default suite (see `queuebench list`).", show_default=False
        ),
    ] = None,
    strategy: StrategyOpt = None,
    repeat: RepeatOpt = None,
    warmup: WarmupOpt = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: TimeoutOpt = None,
    out: OutOpt = Path("results"),
    make_report: Annotated[
        bool, typer.Option("--report", help="Write report.md, report.html and figures into the run directory.")
    ] = False,
) -> None:
    """Run scenarios against strategies; every trial in a fresh process, under a watchdog."""
    from harness import render, scenario, suite
    from harness.summary import summarize
    from strategies import base

    try:
        paths = files or scenario.default_suite()
        loaded = scenario.load_many(paths)
        opts = _options(strategy, repeat, warmup, start_method, python, timeout, out)
        planned = suite.plan(loaded, opts)
    except (scenario.ScenarioError, base.UnknownStrategy) as exc:
        fail(str(exc))
    run_dir, doc = _measure(loaded, opts, len(planned))
    con = render.console()
    frame = summarize(doc)
    con.print(render.summary_table(frame))
    con.print(f"results: {esc(run_dir)}")
    if make_report:
        _write_report(run_dir, None, con)
    bad = [t for t in doc["trials"] if t["status"] != "ok"]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {esc(run_dir)}`")
        raise typer.Exit(1)


def _execute(
    loaded: list[LoadedScenario], opts: Options, probe: dict[str, Any], total: int, con: Console
) -> tuple[Path, dict[str, Any]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness import suite

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=con, transient=True) as progress:
        task = progress.add_task("starting", total=total)

        def on_progress(planned: suite.Planned, trial: dict[str, Any] | None) -> None:
            if trial is None:
                progress.update(task, description=planned.label)
                return
            progress.advance(task)
            if trial["status"] != "ok":
                why = "; ".join(trial["errors"])[:400]
                progress.console.print(f"[red]{trial['status']}[/] {esc(planned.label)}: {esc(why)}")

        return suite.execute(loaded, opts, probe, on_progress)


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="A scenario TOML file (one scenario, or pick one with --scenario).")],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="PARAM=VALUES: a range 1..8 (1..16:2 steps, 1..64*2 doubles) or a list 1e2,1e4,1e6. "
            "Repeatable: a grid, the first is the x axis.",
            show_default=False,
        ),
    ],
    scenario_name: Annotated[
        str | None, typer.Option("--scenario", help="Which scenario of the file to sweep.")
    ] = None,
    strategy: StrategyOpt = None,
    repeat: RepeatOpt = None,
    warmup: WarmupOpt = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: TimeoutOpt = None,
    out: OutOpt = Path("results"),
) -> None:
    """Run a scenario at each value of a parameter (e.g. readers=1..8): best value and knee per strategy.

    Prints and plots (sweep.png) throughput and p99 against the parameter; the knee is the
    smallest value reaching 95% of the best throughput."""
    from harness import render, scenario, suite
    from harness import sweep as sw
    from strategies import base

    try:
        varies = [sw.parse_vary(v) for v in vary]
        chosen = sw.pick(scenario.load(file), scenario_name)
        points = sw.expand(chosen, varies)
        loaded = [p.loaded for p in points]
        opts = _options(strategy, repeat, warmup, start_method, python, timeout, out)
        opts.extra = {"sweep": sw.record(chosen, varies, points)}
        planned = suite.plan(loaded, opts)
    except (sw.SweepError, scenario.ScenarioError, base.UnknownStrategy) as exc:
        fail(str(exc))
    con = render.console()
    con.print(f"sweep of {chosen.scenario.name}: {len(points)} points, {len(planned)} trials")
    run_dir, doc = _measure(loaded, opts, len(planned))
    _print_sweep(doc, run_dir, con)
    bad = [t for t in doc["trials"] if t["status"] != "ok"]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {run_dir}`")
        raise typer.Exit(1)


def _print_sweep(doc: dict[str, Any], run_dir: Path, con: Console, figure: bool = True) -> None:
    from harness import render, sweep_plot
    from harness import sweep as sw

    frame = sw.results(doc)
    found = sw.findings(doc, frame)
    for table in render.sweep_tables(sw.pivots(doc, frame, found)):
        con.print(table)
    for finding in found:
        for line in finding.lines():
            con.print(line, markup=False)
    if figure and not frame.empty:
        con.print(f"figure: {esc(sweep_plot.write(doc, frame, found, run_dir / 'sweep.png'))}")
    if figure:
        con.print(f"results: {esc(run_dir)}")


@app.command()
def show(run_dir: Annotated[Path, typer.Argument(help="A results directory (results/<time>-<host>).")]) -> None:
    """Show a stored run: fingerprint, summary table, and any trial that did not pass."""
    from harness import render, store
    from harness.summary import summarize

    try:
        doc = store.load_run(run_dir)
    except store.RunDirError as exc:
        fail(str(exc))
    con = render.console()
    con.print(f"run {esc(run_dir)} · status {esc(doc['status'])} · started {esc(doc['started_at'])}")
    if doc["status"] != "complete":
        why = "interrupted" if doc["status"] == "incomplete" else "the harness stopped mid-run (killed?)"
        con.print(f"[yellow]partial results: {why}; {len(doc['trials'])} trial(s) stored[/]")
    con.print(render.fingerprint_line(doc["fingerprint"]), markup=False)
    con.print(render.summary_table(summarize(doc)))
    if doc.get("sweep"):
        _print_sweep(doc, run_dir, con, figure=False)
    for t in doc["trials"]:
        if t["status"] != "ok":
            con.print(f"[red]{esc(t['status'])}[/] {esc(t['id'])}: {esc('; '.join(t['errors']))}")


def _options(
    strategy: list[str] | None,
    repeat: int | None,
    warmup: int | None,
    start_method: StartMethod | None,
    python: str | None,
    timeout: float | None,
    out: Path,
) -> Options:
    """The run options shared by run, sweep and stress."""
    from harness import suite

    return suite.Options(
        strategies=strategy or [],
        repeat=repeat,
        warmup=warmup,
        start_method=start_method.value if start_method else None,
        python=python or sys.executable,
        timeout=timeout,
        out=out,
    )


def _measure(loaded: list[LoadedScenario], opts: Options, total: int) -> tuple[Path, dict[str, Any]]:
    """Probe the worker, run every planned trial with a progress bar; handles bad --python and Ctrl+C."""
    from harness import render, runner, scenario, store

    con = render.console()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with con.status("probing the worker interpreter: calibrating cpu work, measuring parallelism"):
            probe = runner.probe(opts.python)
    except runner.WorkerError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        con.print("[bold yellow]interrupted[/] before any trial ran; nothing was written")
        raise typer.Exit(130) from None
    par = probe["effective_parallelism"]
    con.print(f"worker: {esc(probe['implementation'])} {esc(probe['version'])} · effective parallelism {par}")
    try:
        return _execute(loaded, opts, probe, total, con)
    except (scenario.ScenarioError, store.RunDirError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        con.print("[bold yellow]interrupted[/]: trial processes killed; partial results marked incomplete")
        raise typer.Exit(130) from None


@app.command()
def stress(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario files with [scenario.faults]. Default: scenarios/faults.toml.", show_default=False
        ),
    ] = None,
    strategy: StrategyOpt = None,
    repeat: Annotated[int | None, typer.Option("--repeat", "-r", min=1, help="Trials per cell.")] = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Seconds before a trial counts as hung and is killed."),
    ] = None,
    out: OutOpt = Path("results"),
) -> None:
    """Run the fault matrix (strategies x faults) and print the survival matrix.

    Each cell says how the strategy ended under that fault: recovered (items delivered of
    expected, lost, raised), hung (killed by the watchdog after the timeout) or crashed.
    Hangs and losses are findings, not errors: the exit code is 0 unless the input is bad."""
    from harness import render, scenario, store, suite
    from harness.survival import survival
    from strategies import base

    try:
        loaded = scenario.load_many(files or [scenario.scenario_dir() / "faults.toml"])
        opts = _options(strategy, repeat, 0, start_method, python, timeout, out)
        planned = suite.plan(loaded, opts)
    except (scenario.ScenarioError, base.UnknownStrategy) as exc:
        fail(str(exc))
    run_dir, doc = _measure(loaded, opts, len(planned))
    con = render.console()
    matrix = survival(doc)  # built once: the terminal table and survival.md render the same data
    con.print(render.survival_table(matrix))
    md = run_dir / "survival.md"
    store.atomic_write(md, matrix.markdown().encode())
    con.print(f"results: {esc(run_dir)}  (matrix: {esc(md)})")


@app.command()
def compare(
    baseline: Annotated[str, typer.Argument(help="Baseline: a run directory or a saved baseline name.")],
    current: Annotated[str, typer.Argument(help="Current: a run directory (or a folder: its newest run).")],
    metric: Annotated[
        str, typer.Option("--metric", "-m", help="throughput, makespan, p50, p90, p99, max, efficiency, rss, or a key.")
    ] = "throughput",
    max_regression: Annotated[
        str, typer.Option("--max-regression", help="Smallest change that counts, as a factor: 10% = x1.10 worse.")
    ] = "10%",
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of the one-sided rank test.")] = 0.01,
    fail_on_inconclusive: Annotated[
        bool, typer.Option("--fail-on-inconclusive", help="Exit 1 when a pair is inconclusive or has too few repeats.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse (exit 2) when scenarios or machines differ, or repeats are too few."),
    ] = False,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the verdicts as Markdown.")] = None,
    results: Annotated[Path, typer.Option("--results", help="Saved baselines are <results>/baselines/NAME.")] = Path(
        "results"
    ),
) -> None:
    """Regression gate: per strategy x scenario, the ratio, its confidence interval and a verdict.

    Exit 0 no regression, 1 regression (slower, or trials that broke), 2 bad input."""
    from harness import baseline as bl
    from harness import compare as cmp
    from harness import compare_render, render, store

    try:
        threshold = cmp.parse_threshold(max_regression)
        cmp.check_alpha(alpha)
        cmp.metric(metric)
        if markdown is not None:  # before comparing: a bad path must not cost the verdict's exit code
            cmp.check_output_file(markdown, "--markdown")
        base_dir, cur_dir = bl.resolve(baseline, results), bl.resolve(current, results)
        base_doc, cur_doc = store.load_run(base_dir), store.load_run(cur_dir)
        report = cmp.compare(base_doc, cur_doc, metric, threshold, alpha)
    except (cmp.CompareError, bl.BaselineError, store.RunDirError) as exc:
        fail(str(exc))
    same = cmp.same_run(base_dir, cur_dir, base_doc, cur_doc)
    if same:
        report.warnings.append(same)
    con = render.console()
    con.print(f"baseline {esc(base_dir)}\ncurrent  {esc(cur_dir)}")
    for line in report.warnings:
        con.print(f"[bold yellow]WARNING: {esc(line)}[/]")
    for line in report.mismatches:
        con.print(f"[bold yellow]WARNING: not like for like: {esc(line)}[/]")
    con.print(compare_render.table(report, fail_on_inconclusive))
    for line in report.notes + compare_render.advice(report):
        con.print(f"note: {esc(line)}")
    if markdown is not None:
        text = compare_render.markdown(report, str(base_dir), str(cur_dir), fail_on_inconclusive)
        try:
            markdown.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"{markdown}: cannot write: {exc.strerror or exc}")
    if strict and report.mismatches:
        fail(f"--strict: refusing to judge runs that are not like for like ({len(report.mismatches)} difference(s))")
    if strict and report.too_few:
        fail(f"--strict: {len(report.too_few)} pair(s) have too few repeats for a verdict at alpha={alpha:g}")
    raise typer.Exit(report.exit_code(fail_on_inconclusive))


baseline_app = typer.Typer(
    help="Save and list baselines (results/baselines/NAME, meant to be committed).", no_args_is_help=True
)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("save")
def baseline_save(
    run_dir: Annotated[Path, typer.Argument(help="A results directory to keep as a baseline.")],
    name: Annotated[str, typer.Argument(help="Baseline name: letters, digits, . _ -")],
    results: Annotated[Path, typer.Option("--results", help="Baselines go to <results>/baselines/NAME.")] = Path(
        "results"
    ),
    with_samples: Annotated[
        bool, typer.Option("--with-samples", help="Copy the per-item Parquet samples too (large; compare needs none).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing baseline, or save an unfinished run.")] = (
        False
    ),
) -> None:
    """Copy a run (run.json, summary.csv) into results/baselines/NAME."""
    from harness import baseline as bl
    from harness import store

    try:
        dest = bl.save(run_dir, name, results, with_samples=with_samples, force=force)
    except (bl.BaselineError, store.RunDirError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot save baseline {name!r}: {exc.strerror or exc}")
    typer.echo(f"saved baseline {name!r}: {dest}")


@baseline_app.command("list")
def baseline_list(
    results: Annotated[Path, typer.Option("--results", help="Baselines are read from <results>/baselines.")] = Path(
        "results"
    ),
) -> None:
    """List saved baselines: when, from which run, machine, and what they hold."""
    from rich.table import Table

    from harness import baseline as bl
    from harness import render

    saved = bl.list_saved(results)
    con = render.console()
    if not saved:
        con.print(f"no baselines in {bl.baselines_dir(results)}; save one with `queuebench baseline save RUN_DIR NAME`")
        return
    table = Table(title=f"baselines in {bl.baselines_dir(results)}", title_justify="left", header_style="bold")
    for col in ("name", "saved", "machine", "scenario / strategy (passing repeats)"):
        table.add_column(col)
    for item in saved:
        if item.doc is None:
            table.add_row(item.name, item.saved_at, f"[red]{item.problem}[/]", "")
            continue
        pairs = ", ".join(f"{s}/{t} ({n})" for (s, t), n in item.pairs.items())
        table.add_row(item.name, item.saved_at, render.fingerprint_line(item.doc["fingerprint"]), pairs)
    con.print(table)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A results directory (or a saved baseline's directory).")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")
    ] = "pytest-benchmark",
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path("queuebench-benchmark.json"),
) -> None:
    """Write a run in another tool's format (pytest-benchmark JSON: `pytest-benchmark compare` reads it)."""
    from harness import exports, store

    try:
        write = exports.exporter(fmt)  # before reading the run: a bad --format is a usage error
    except exports.UnknownFormat as exc:
        fail(f"--format: {exc}")
    try:
        run_dir = store.run_dir_of(run_dir)  # a path to its run.json names the run too
        doc = store.load_run(run_dir)
    except store.RunDirError as exc:
        fail(str(exc))
    done = write(doc)
    if not done.count:
        fail(f"{run_dir}: no measured trial passed; nothing to export")
    try:
        output.write_text(done.text, encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror or exc}")
    typer.echo(f"wrote {done.count} {done.noun}(s) to {output}")


def _write_report(run_dir: Path, out: Path | None, con: Console) -> None:
    from rich.markup import escape

    from harness import report as reporting
    from harness import store

    for above in [out, *out.parents] if out is not None else []:
        if above.exists():
            if not above.is_dir():
                where = "" if above == out else f" ({above} is a file)"
                fail(f"--out {out}: not a directory{where}; the report is written into a directory")
            break
    try:
        written = reporting.write_report(run_dir, out)
    except store.RunDirError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report: {exc}")
    con.print(escape(f"report: {written.html} · {written.markdown} · {len(written.figures)} figure(s)"))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A results directory (results/<time>-<host>).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Directory for the report. Default: the run directory.")
    ] = None,
) -> None:
    """Write report.md (fits a CI job summary), a self-contained report.html and PNG figures for a run."""
    from harness import render

    _write_report(run_dir, out, render.console())


@app.command()
def plot(
    run_dirs: Annotated[
        list[Path] | None, typer.Argument(help="Results directories to put in one figure.", show_default=False)
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="Group runs by: platform, python, start-method, host or run.")
    ] = "run",
    metric: Annotated[
        str, typer.Option("--metric", help="Trial metric: throughput, e2e_p99_ms, efficiency, cpu_parallelism, ...")
    ] = "throughput",
    normalize: Annotated[
        str | None,
        typer.Option("--normalize", help="Show each strategy as a ratio to this strategy measured in the same run."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Figure file to write: .png, .svg or .pdf.")] = None,
    split_mismatched: Annotated[
        bool,
        typer.Option("--split-mismatched", help="Show scenarios defined differently under one name apart."),
    ] = False,
) -> None:
    """Several runs in one figure: a panel per scenario, one marker per group of runs."""
    from rich.markup import escape

    from harness import plot_runs, render, store

    try:
        path, groups = plot_runs.plot_runs(run_dirs or [], by, metric, normalize, out, split_mismatched)
    except (store.RunDirError, plot_runs.PlotError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the figure: {exc}")
    con = render.console()
    listed = ", ".join(f"{g} ({n} run{'s' if n > 1 else ''})" for g, n in groups.items())
    con.print(escape(f"grouped by {by}: {listed}"))
    con.print(escape(f"figure: {path}"))


def main() -> None:
    """Entry point: usage errors become one line on stderr with exit code 2, like every bad input."""
    # click's UsageError, whether typer vendors click or depends on it.
    usage_error: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = str(getattr(exc, "format_message", exc.__str__)()).replace("Value error, ", "")
        typer.echo(f"error: {message}{hint}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl+C outside a run (while parsing or probing)
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
