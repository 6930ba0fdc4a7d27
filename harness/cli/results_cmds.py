"""The verbs that read stored runs: ``show``, ``report``, ``plot`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness import errors
from harness.cli.common import RankBy, RankByOpt, app, esc, fail
from harness.exports import FORMATS

if TYPE_CHECKING:
    from rich.console import Console

    from harness.rundir.model import Run
    from harness.running.launchers.base import Probe


RunDirArg = Annotated[
    Path,
    typer.Argument(
        metavar="RUN",
        help="A results directory (results/<time>-<host>), a folder of runs (its newest, e.g. results/ci), or a "
        "saved baseline's name: the same inputs `compare` and `export` accept.",
    ),
]
ResultsOpt = Annotated[
    Path, typer.Option("--results", metavar="DIR", help="Saved baselines are <results>/baselines/NAME.")
]


def one_run(arg: Path, results: Path, con: Console | None = None) -> Path:
    """A run argument as a run directory, as ``compare`` reads it: a run, a folder of runs (its newest)
    or a saved baseline's name; says which run when it was not named directly."""
    from harness.gate import baseline
    from harness.rundir import store

    found = baseline.resolve(str(arg), results)
    if con is not None and found != store.run_dir_of(arg):
        con.print(f"run: {esc(found)} (the newest run in {esc(arg)})" if found.parent == arg else f"run: {esc(found)}")
    return found


def all_runs(arg: Path, results: Path) -> list[Path]:
    """A ``plot`` argument as run directories: a run, every run of a folder of runs, or a saved baseline."""
    from harness.rundir import store

    try:
        held = sorted(p.parent for p in arg.glob(f"*/{store.RUN_FILE}")) if not (arg / store.RUN_FILE).exists() else []
    except OSError:
        held = []
    return held or [one_run(arg, results)]


def parallelism_line(probe: Probe) -> str:
    """'effective parallelism 0.45 of 2 usable cores (...)': the probe's figure, with what it means."""
    par = probe.effective_parallelism
    cores = probe.machine.get("usable_cores")
    of = f" of {cores} usable cores" if cores else ""
    return f"effective parallelism {par}{of} (how many cores a burst of CPU work got just now; ideally all of them)"


def print_summary(
    run: Run, frame: Any, con: Console, said: bool = False, run_dir: Path | None = None, wide: bool = False
) -> None:
    """The busy-machine warning (when there is one), then the summary table, fitted to the terminal
    (``wide``: every column, however wide). ``said``: the warning was printed in full already
    (``run``'s header): a one-line reminder is enough."""
    from harness.analysis import trust
    from harness.presentation import interpreters
    from harness.presentation import terminal as render

    warning = trust.run_warning(run)
    if warning is not None and said:
        fp = run.machine
        reasons = trust.busy_reasons(fp.effective_parallelism, fp.usable_cores, fp.load_average)
        con.print(f"[bold yellow]⚠ the machine was too busy to trust these timings: {esc('; '.join(reasons))}[/]")
    elif (busy := render.busy_line(warning)) is not None:
        con.print(busy)
    where = esc(run_dir) if run_dir is not None else "RUN_DIR"
    table = render.summary_table(frame, width=None if wide else con.width, wide_hint=f"queuebench show {where} --wide")
    if wide:  # as wide as the table needs (a terminal narrower than that wraps it; `less -S` keeps it whole)
        width, con.width = con.width, max(con.width, render.natural_width(table))
        con.print(table)
        con.width = width
    else:
        con.print(table)
    rank_by = str(frame["rank_by"].iloc[0]) if len(frame) else "total"
    render.print_blocks(interpreters.section(run, rank_by), con)  # several --python: side by side


@app.command()
def show(
    run_dir: RunDirArg,
    rank_by: RankByOpt = RankBy.total,
    results: ResultsOpt = Path("results"),
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Every column of the summary, however wide (default: fit the terminal)."),
    ] = False,
) -> None:
    """Show a stored run: fingerprint, summary table, and any trial that did not pass."""
    from harness.analysis.errors_digest import failure_groups, ids_line
    from harness.analysis.summary import summarize
    from harness.analysis.survival import has_faults, survival
    from harness.presentation import terminal as render
    from harness.presentation.facts import fingerprint_line
    from harness.rundir import store

    con = render.console()
    run_dir = one_run(run_dir, results, con)
    run = store.read_run(run_dir)
    con.print(f"run {esc(run_dir)} · status {esc(run.status)} · started {esc(run.started_at)}")
    if run.status != "complete":
        why = "interrupted" if run.status == "incomplete" else "the harness stopped mid-run (killed?)"
        con.print(f"[yellow]partial results: {why}; {len(run.trials)} trial(s) stored[/]")
    con.print(esc(fingerprint_line(run.machine)))  # machine facts come from the run: outside text
    if has_faults(run):  # a fault run: how each strategy ended leads, as in its report
        con.print(render.survival_table(survival(run)))
    frame = summarize(run, rank_by.value)
    print_summary(run, frame, con, run_dir=run_dir, wide=wide)
    if run.sweep is not None and not frame.empty:  # a sweep stopped before its first measured trial has none
        print_sweep(run, run_dir, con, figure=False, rank_by=rank_by.value, warn=False)
    for (status, why), ids in failure_groups(t for t in run.trials if not t.ok).items():
        count = f" × {len(ids)}" if len(ids) > 1 else ""
        con.print(f"[red]{esc(status)}{count}[/] {esc(ids_line(ids))}: {esc(why)}")


def print_sweep(
    run: Run, run_dir: Path, con: Console, figure: bool = True, rank_by: str = RankBy.total.value, warn: bool = True
) -> None:
    """The sweep's tables, findings and answer; first the busy-machine warning (``warn``; ``show``
    printed it above its summary already): a pool size picked on a busy machine may not hold."""
    from harness.analysis import trust
    from harness.presentation import terminal as render
    from harness.presentation.figures import sweep as sweep_plot
    from harness.sweeps import answer as sweep_answer
    from harness.sweeps import findings as sw
    from harness.sweeps import notes as sweep_notes
    from harness.sweeps import usl as sweep_usl
    from harness.sweeps import verdict as sweep_verdict

    frame = sw.results(run, rank_by)
    found = sw.findings(run, frame)
    if warn and (busy := render.busy_line(trust.run_warning(run))) is not None:
        con.print(busy)
    for table in render.sweep_tables(sw.pivots(run, frame, found)):
        con.print(table)
    for finding in found:
        for line in finding.lines():
            con.print(line, markup=False)
    fitted = sweep_usl.fits(run, found, rank_by) if not frame.empty else []
    for fit in fitted:
        con.print(fit.line(), markup=False)
    for line in sweep_notes.notes(run, frame, found):
        con.print(line, markup=False)
    pushes = sweep_answer.answer(run, frame, found)
    if pushes is not None:  # the origin story's question, in its terms
        con.print(render.answer_table(pushes))
        for line in pushes.lines:
            con.print(line, markup=False)
    for line in sweep_verdict.verdict(run, found, rank_by):
        con.print(line, markup=False)
    if figure and not frame.empty:
        con.print(f"figure: {esc(sweep_plot.write(run, frame, found, run_dir / 'sweep.png', fitted))}")
    if figure:
        con.print(f"results: {esc(run_dir)}")


@app.command()
def export(
    run_dir: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="A results directory, a folder of runs (its newest run, e.g. results/ci), or a saved baseline's "
            "name: the same inputs `compare` accepts.",
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMAT", help=f"Output format: {', '.join(FORMATS)}.")
    ] = "pytest-benchmark",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="File to write. Default: queuebench-FORMAT.json in the run directory.",
            show_default=False,
        ),
    ] = None,
    results: ResultsOpt = Path("results"),
) -> None:
    """Write a run in another tool's format: pytest-benchmark JSON, Bencher Metric Format, github-action-benchmark."""
    from harness import exports
    from harness.gate import baseline
    from harness.rundir import paths, store

    try:
        write = exports.exporter(fmt)  # before reading the run: a bad --format is a usage error
    except errors.UnknownFormat as exc:
        fail(f"--format: {exc}")
    found = baseline.resolve(run_dir, results)  # what compare accepts: a run, a folder of runs, a name
    run = store.read_run(found)
    if output is not None:  # after the run: a bad run is said first, as every command says it
        paths.writable_file(output, "--output")
    done = write(run)
    if not done.count:
        fail(f"{found}: no measured trial passed; nothing to export")
    if output is None:  # next to the run it came from, never the current directory
        output = found / f"queuebench-{fmt}.json"
    try:
        store.atomic_write(output, done.text.encode())
    except OSError as exc:
        raise paths.say(exc, str(output)) from None
    if found != store.run_dir_of(Path(run_dir)):  # a folder of runs or a baseline's name: say which run
        typer.echo(f"run: {found}")
    typer.echo(f"wrote {done.count} {done.noun}(s) to {output}")


def write_report(run_dir: Path, out: Path | None, con: Console, rank_by: str = RankBy.total.value) -> None:

    from harness.presentation import report as reporting
    from harness.rundir import paths

    try:
        for above in [out, *out.parents] if out is not None else []:
            if above.exists():
                if not above.is_dir():
                    where = "" if above == out else f" ({above} is a file)"
                    fail(f"--out {out}: not a directory{where}; the report is written into a directory")
                break
    except OSError as exc:  # a name too long, a loop of links
        fail(f"--out {paths.short(out)}: {paths.reason(exc)}")
    if out is not None:
        paths.writable_dir(out, "--out")
    try:
        written = reporting.write_report(run_dir, out, rank_by)
    except OSError as exc:
        fail(f"cannot write the report: {paths.reason(exc)}")
    except KeyboardInterrupt:  # every file is written by rename: none is left half-written
        con.print("[bold yellow]interrupted[/] while writing the report; files already written are whole")
        raise typer.Exit(130) from None
    con.print(esc(f"report: {written.html} · {written.markdown} · {len(written.figures)} figure(s)"))


@app.command()
def report(
    run_dir: RunDirArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Directory for the report. Default: the run directory."),
    ] = None,
    rank_by: RankByOpt = RankBy.total,
    results: ResultsOpt = Path("results"),
) -> None:
    """Write report.md (fits a CI job summary), a self-contained report.html and PNG figures for a run."""
    from harness.presentation import terminal as render

    con = render.console()
    write_report(one_run(run_dir, results, con), out, con, rank_by.value)


@app.command()
def plot(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="RUN",
            help="Results directories to put in one figure; a folder of runs (e.g. results/ci) adds every run in "
            "it, a saved baseline's name its run.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str,
        typer.Option("--by", metavar="GROUPING", help="Group runs by: platform, python, start-method, host or run."),
    ] = "run",
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            metavar="KEY",
            help="Trial metric: throughput_total (items/s over the total window, the default everywhere), "
            "throughput (over the makespan), e2e_p99_ms, efficiency, cpu_parallelism, "
            "tree_peak_mb, largest_process_peak_mb, setup_s, teardown_s, total_s, or any key of a trial's metrics.",
        ),
    ] = "throughput_total",
    normalize: Annotated[
        str | None,
        typer.Option(
            "--normalize",
            metavar="STRATEGY",
            help="Show each strategy as a ratio to this strategy measured in the same run.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Figure file to write: .png, .svg or .pdf. Default: "
            "queuebench-METRIC-by-GROUPING.png in the (first) run directory.",
            show_default=False,
        ),
    ] = None,
    split_mismatched: Annotated[
        bool,
        typer.Option("--split-mismatched", help="Show scenarios defined differently under one name apart."),
    ] = False,
    results: ResultsOpt = Path("results"),
) -> None:
    """Several runs in one figure: a panel per scenario, one marker per group of runs."""

    from harness.presentation import terminal as render
    from harness.presentation.figures import runs as plot_runs
    from harness.rundir import paths, store

    if out is not None:
        paths.writable_file(out, "--out", make_parents=True)
    con = render.console()
    given = run_dirs or []
    runs = [run for arg in given for run in all_runs(store.run_dir_of(arg), results)]
    for arg in given:
        if (held := all_runs(store.run_dir_of(arg), results)) != [store.run_dir_of(arg)]:
            con.print(esc(f"{arg}: {', '.join(p.name for p in held)}"))
    if out is None and runs:  # next to the (first) run, never the current directory
        vs = f"-vs-{normalize}" if normalize else ""
        out = runs[0] / f"queuebench-{metric}-by-{by}{vs}.png"
    try:
        try:
            path, groups = plot_runs.plot_runs(runs, by, metric, normalize, out, split_mismatched)
        except errors.PlotError as exc:  # runs older than the total window: the makespan's, said
            if metric != "throughput_total" or "unknown metric" not in str(exc):
                raise
            con.print("these runs predate the total window: plotted as items/s over the makespan (throughput)")
            path, groups = plot_runs.plot_runs(runs, by, "throughput", normalize, out, split_mismatched)
    except OSError as exc:
        fail(f"cannot write the figure {paths.short(out)}: {paths.reason(exc)}")
    listed = ", ".join(f"{g} ({n} run{'s' if n > 1 else ''})" for g, n in groups.items())
    con.print(esc(f"grouped by {by}: {listed}"))
    con.print(esc(f"figure: {path}"))
