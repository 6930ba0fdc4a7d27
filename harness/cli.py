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
)


class StartMethod(StrEnum):
    fork = "fork"
    forkserver = "forkserver"
    spawn = "spawn"


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
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", help="Strategy to run (repeatable). Default: the scenario's list, else all."),
    ] = None,
    repeat: Annotated[
        int | None, typer.Option("--repeat", "-r", min=1, help="Measured repeats per strategy (overrides the files).")
    ] = None,
    warmup: Annotated[
        int | None, typer.Option("--warmup", min=0, help="Warmup trials, discarded (overrides the files).")
    ] = None,
    start_method: Annotated[
        StartMethod | None,
        typer.Option("--start-method", help="multiprocessing start method. Default: the platform's."),
    ] = None,
    python: Annotated[
        str | None, typer.Option("--python", help="Interpreter the worker runs under. Default: this one.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Seconds per trial before it is killed (overrides the files)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for results.")] = Path("results"),
) -> None:
    """Run scenarios against strategies; every trial in a fresh process, under a watchdog."""
    from harness import render, runner, scenario, suite
    from harness.summary import summarize
    from strategies import base

    try:
        paths = files or scenario.default_suite()
        loaded = scenario.load_many(paths)
        opts = suite.Options(
            strategies=strategy or [],
            repeat=repeat,
            warmup=warmup,
            start_method=start_method.value if start_method else None,
            python=python or sys.executable,
            timeout=timeout,
            out=out,
        )
        planned = suite.plan(loaded, opts)
    except (scenario.ScenarioError, base.UnknownStrategy) as exc:
        fail(str(exc))
    con = render.console()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with con.status("probing the worker interpreter: calibrating cpu work, measuring parallelism"):
            probe = runner.probe(opts.python)
        par = probe["effective_parallelism"]
        con.print(f"worker: {probe['implementation']} {probe['version']} · effective parallelism {par}")
        run_dir, doc = _execute(loaded, opts, probe, len(planned), con)
    except runner.WorkerError as exc:
        fail(str(exc))
    except scenario.ScenarioError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        con.print("[bold yellow]interrupted[/]: trial processes killed; partial results marked incomplete")
        raise typer.Exit(130) from None
    frame = summarize(doc)
    con.print(render.summary_table(frame))
    con.print(f"results: {run_dir}")
    bad = [t for t in doc["trials"] if t["status"] != "ok"]
    if bad:
        con.print(f"[bold red]{len(bad)} trial(s) did not pass[/]; see `queuebench show {run_dir}`")
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
                why = "; ".join(trial["errors"])[:200]
                progress.console.print(f"[red]{trial['status']}[/] {planned.label}: {why}")

        return suite.execute(loaded, opts, probe, on_progress)


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
    con.print(f"run {run_dir} · status {doc['status']} · started {doc['started_at']}")
    con.print(render.fingerprint_line(doc["fingerprint"]))
    con.print(render.summary_table(summarize(doc)))
    for t in doc["trials"]:
        if t["status"] != "ok":
            con.print(f"[red]{t['status']}[/] {t['id']}: {'; '.join(t['errors'])}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
