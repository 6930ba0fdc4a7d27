"""Many runs over time: ``queuebench history DIR...`` (change points per series)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import MetricOpt, app, esc


@app.command()
def history(
    paths: Annotated[list[Path], typer.Argument(metavar="DIR...", help="Run directories, or folders holding runs.")],
    metric: MetricOpt = "throughput",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write series and change points as JSON.")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every series, not only those with a change.")] = False,
) -> None:
    """Series per machine x interpreter x scenario x strategy, and the change points in each, with
    their commit, size and confidence (ruptures PELT, each checked by a rank test). Machines never mix."""
    from rich.table import Table

    from harness.history import report, series
    from harness.presentation import terminal as render
    from harness.rundir import paths as outputs
    from harness.rundir import store

    if json_out is not None:
        outputs.writable_file(json_out, "--json")
    hist = series.gather(paths, metric)
    found = report.analyse(hist)
    con = render.console()
    con.print(f"{len(hist.runs)} run(s), {len(hist.machines)} machine(s), {len(hist.series)} series of {hist.metric}")
    for m in hist.machines:
        con.print(f"  machine {m.id}: {esc(m.label)}")
    for a in hist.arrivals:
        why = "; ".join(a.differs) or "fingerprint differs"
        con.print(
            f"[bold yellow]machine change[/] at {esc(a.run.name)} (commit {esc((a.commit or '?')[:12])}): "
            f"{a.after} → {a.machine} ({esc(why)}); its series start there"
        )
    table = Table(title=f"change points ({hist.metric})", title_justify="left", header_style="bold")
    for name in ("machine", "python", "scenario", "strategy", "runs", "change at", "commit", "size", "confidence"):
        table.add_column(name, justify="right" if name in ("runs", "size", "confidence") else "left")
    changed = 0
    for f in found:
        k = f.series.key
        cells = [k.machine, esc(k.python), esc(k.scenario), esc(k.strategy), str(len(f.series.points))]
        if not f.changes and show_all:
            table.add_row(*cells, "—", "", "", "")
        for c in f.changes:
            changed += 1
            size = f"×{c.ratio:.3f} " + ("[red]worse[/]" if c.worse else "[green]better[/]")
            commit = f"{(c.before.commit or '?')[:8]}..{(c.point.commit or '?')[:8]}"
            table.add_row(*cells, esc(c.point.run.name), commit, size, f"{c.confidence:.3f} (p={c.p_value:.1g})")
    con.print(table)
    if not changed:
        con.print("no change point in any series")
    for line in hist.skipped:
        con.print(f"note: left out {esc(line)}")
    if json_out is not None:
        store.atomic_write(json_out, (json.dumps(report.document(hist, found), indent=1) + "\n").encode())


@app.command()
def publish(
    paths: Annotated[list[Path], typer.Argument(metavar="DIR...", help="Run directories, or folders holding runs.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="The site's folder (made if missing).")
    ] = Path("site"),
) -> None:
    """Write a static, offline dashboard: index.html (opens from file://, no server, no CDN) and data.json,
    with the series and their change points, A/B verdict cards, sweeps, machines and every run.json."""
    from harness.presentation import terminal as render
    from harness.presentation.dashboard.site import publish as write
    from harness.rundir import paths as outputs

    outputs.writable_dir(out, "--out")
    index = write(paths, out)
    render.console().print(f"dashboard: {esc(index)} (open it in a browser: file://{esc(index.resolve())})")
