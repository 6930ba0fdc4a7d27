"""The verbs that read stored runs: ``show``, ``report``, ``plot`` and ``export``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness.cli.common import app, esc, fail
from harness.exports import FORMATS

if TYPE_CHECKING:
    from rich.console import Console


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
    frame = summarize(doc)
    con.print(render.summary_table(frame))
    if doc.get("sweep") and not frame.empty:  # a sweep stopped before its first measured trial has none
        print_sweep(doc, run_dir, con, figure=False)
    for t in doc["trials"]:
        if t["status"] != "ok":
            con.print(f"[red]{esc(t['status'])}[/] {esc(t['id'])}: {esc('; '.join(t['errors']))}")


def print_sweep(doc: dict[str, Any], run_dir: Path, con: Console, figure: bool = True) -> None:
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
        store.atomic_write(output, done.text.encode())
    except store.RunDirError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror or exc}")
    typer.echo(f"wrote {done.count} {done.noun}(s) to {output}")


def write_report(run_dir: Path, out: Path | None, con: Console) -> None:
    from rich.markup import escape

    from harness import report as reporting
    from harness import store

    try:
        for above in [out, *out.parents] if out is not None else []:
            if above.exists():
                if not above.is_dir():
                    where = "" if above == out else f" ({above} is a file)"
                    fail(f"--out {out}: not a directory{where}; the report is written into a directory")
                break
    except OSError as exc:  # a name too long, a loop of links
        fail(f"--out: cannot use it ({exc.strerror or exc})")
    try:
        written = reporting.write_report(run_dir, out)
    except store.RunDirError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report: {exc.strerror or exc}")
    except KeyboardInterrupt:  # every file is written by rename: none is left half-written
        con.print("[bold yellow]interrupted[/] while writing the report; files already written are whole")
        raise typer.Exit(130) from None
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

    write_report(run_dir, out, render.console())


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
