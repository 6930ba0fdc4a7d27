"""What can run, and does it conform: ``queuebench list`` (strategies, kinds and scenarios, as the
worker's interpreter answers) and ``queuebench check`` (the conformance checks, run against one
strategy, yours included)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import errors
from harness.cli.common import PathOpt, PythonOpt, app, esc, fail, one_python


@app.command()
def check(
    strategy: Annotated[
        str,
        typer.Argument(
            metavar="STRATEGY",
            help="The strategy to check: yours as module:function, an installed one or a built-in one.",
        ),
    ],
    path: PathOpt = None,
    python: PythonOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Keep the check's run here. Default: a temporary folder."),
    ] = None,
    ctrl_c: Annotated[bool, typer.Option("--ctrl-c/--no-ctrl-c", help="Also interrupt a run of it mid-trial.")] = True,
) -> None:
    """Check a strategy the way every built-in one is checked: exactly-once delivery, the pool limit,
    the start line, no process left behind, faults and Ctrl+C. Exit 0 when every check passes, else 1."""
    import sys
    import tempfile

    from harness.presentation import terminal as render
    from harness.running import conformance
    from harness.running.project import user_code

    user = user_code(path, [], [strategy])
    con = render.console()
    worker = one_python(python, "check") or sys.executable
    with tempfile.TemporaryDirectory(prefix="queuebench-check-") as tmp:
        with con.status(f"checking {strategy}: {len(conformance.CHECKS)} checks over 5 workloads, then Ctrl+C"):
            report = conformance.check(strategy, user, out or Path(tmp), worker, ctrl_c)
        for finding in report.findings:
            mark = "[green]✓[/]" if finding.passed else "[red]✗[/]"
            meaning = conformance.CHECKS.get(finding.check, "")
            con.print(f"{mark} {esc(finding.check)}: {esc(meaning + ' · ' if meaning else '')}{esc(finding.said)}")
        if out is not None:
            con.print(f"the check's run: {esc(report.run_dir)}")
    failed = [f.check for f in report.findings if not f.passed]
    if failed:
        con.print(f"[bold red]{esc(strategy)} failed {len(failed)} check(s)[/]: {esc(', '.join(failed))}")
        raise typer.Exit(1)
    con.print(f"[bold green]{esc(strategy)} passed every check[/]")


@app.command("list")
def list_cmd(
    scenarios_dir: Annotated[
        Path | None, typer.Option("--scenarios", metavar="DIR", help="Directory of scenario files to list.")
    ] = None,
    python: PythonOpt = None,
    path: PathOpt = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", metavar="MODULE:FUNCTION", help="Also describe this strategy of yours."),
    ] = None,
) -> None:
    """List strategies (built in, installed, yours) and work kinds, available under the worker's
    interpreter or why not, and the shipped scenarios."""
    from rich.table import Table

    from harness import scenario
    from harness.presentation import terminal as render
    from harness.running import launchers
    from harness.running.project import user_code
    from strategies import kinds, registry

    if scenarios_dir is not None and not scenarios_dir.is_dir():
        fail(f"--scenarios {scenarios_dir}: not a directory")
    con = render.console()
    # Asked of the interpreter that will run the trials, never assumed from this one.
    user = user_code(path, [], strategy or [])
    answer = launchers.make("local", python=one_python(python, "list"), user=user).available()
    registry.learn(answer.get("user_strategies") or {})  # installed and yours, as the worker described them
    where = f"Python {answer['version']} ({answer['executable']})"
    table = Table(title=f"strategies, available under {where}", title_justify="left", header_style="bold")
    for col in ("name", "family", "available", "from", "what it does"):
        table.add_column(col)
    for entry in [*registry.REGISTRY.values(), *map(registry.get, answer.get("user_strategies") or {})]:
        if entry.test_only:
            continue
        ok, why = answer["strategies"].get(entry.name, (False, "not known to that worker"))
        shown = f"yes (opt-in: -s {entry.name})" if entry.opt_in else "yes"
        said = shown if ok else f"[red]no: {esc(why)}[/]"
        table.add_row(esc(entry.name), entry.family.value, said, esc(entry.origin), esc(entry.summary))
    con.print(table)
    table = Table(title="work kinds (scenario `kind = ...`)", title_justify="left", header_style="bold")
    for col in ("kind", "available", "what it does"):
        table.add_column(col)
    for name in dict.fromkeys([*kinds.KINDS, *answer["kinds"]]):
        ok, why = answer["kinds"].get(name, (False, "not known to that worker"))
        table.add_row(
            name,
            "yes" if ok else f"[red]no: {esc(why)}[/]",
            kinds.get(name).summary if ok and kinds.exists(name) else "",
        )
    con.print(table)
    folder = scenarios_dir or scenario.scenario_dir()
    table = Table(title=f"scenarios in {esc(folder)}", title_justify="left", header_style="bold")
    for col in ("file", "scenario", "description"):
        table.add_column(col)
    for file in sorted(folder.glob("*.toml")):
        try:
            for item in scenario.load(file):
                table.add_row(esc(file.name), esc(item.scenario.name), esc(item.scenario.description))
        except errors.ScenarioError as exc:
            table.add_row(esc(file.name), "[red]invalid[/]", esc(exc))
    con.print(table)
    con.print(f"default suite (queuebench run with no files): {', '.join(scenario.DEFAULT_SUITE)}")
