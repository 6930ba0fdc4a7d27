"""``queuebench check``: the conformance checks, run against one strategy (yours included)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import PathOpt, PythonOpt, app, esc, one_python


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
