"""Terminal tables (rich) for summaries and fingerprints."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table


def si(value: float, unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def ms(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def pct(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.0f}%"


def summary_table(frame: pd.DataFrame, title: str = "queuebench summary") -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("scenario")
    table.add_column("strategy")
    table.add_column("items/s", justify="right")
    table.add_column("min–max", justify="right", style="dim")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("eff.", justify="right")
    table.add_column("cpu∥", justify="right")
    table.add_column("setup ms", justify="right")
    table.add_column("conc", justify="right")
    table.add_column("status")
    previous = None
    order = frame.assign(_order=pd.factorize(frame["scenario"])[0])  # scenarios in run order
    for row in order.sort_values(["_order", "rank"], kind="stable", na_position="last").itertuples():
        if previous is not None and row.scenario != previous:
            table.add_section()
        best = row.rank == 1
        name = f"[bold green]★ {row.strategy}[/]" if best else f"  {row.strategy}"
        conc = f"{int(row.max_concurrency)}/{int(row.pool_size)}" if math.isfinite(row.max_concurrency) else "—"
        if math.isfinite(row.max_concurrency) and row.max_concurrency > row.pool_size:
            conc = f"[bold red]{conc}[/]"
        status = "[green]ok[/]" if row.status == "ok" else f"[bold red]{row.status}[/]"
        table.add_row(
            row.scenario if row.scenario != previous else "",
            name,
            si(row.throughput),
            f"{si(row.throughput_min)}–{si(row.throughput_max)}",
            ms(row.e2e_p50_ms),
            ms(row.e2e_p99_ms),
            pct(row.efficiency),
            "—" if not math.isfinite(row.cpu_parallelism) else f"{row.cpu_parallelism:.2f}",
            ms(row.setup_s * 1000),
            conc,
            status,
        )
        previous = row.scenario
    return table


def survival_table(doc: dict[str, Any]) -> Table:
    """Strategies x fault scenarios: how each trial ended."""
    from harness import stress

    strategies, scenarios, cells = stress.matrix(doc)
    table = Table(title="survival matrix", title_justify="left", header_style="bold", show_lines=True)
    table.add_column("strategy")
    for sc in scenarios:
        table.add_column(sc)
    colours = {"recovered": "green", "hung": "yellow", "crashed": "red"}
    for s in strategies:
        row = []
        for sc in scenarios:
            lines = []
            for t in cells.get((s, sc), []):
                how = (t.get("faults") or {}).get("outcome", "ok" if t["status"] == "ok" else "")
                colour = colours.get(how, "green" if t["status"] == "ok" else "red")
                lines.append(f"[{colour}]{stress.cell(t)}[/]")
            row.append("\n".join(lines) or "—")
        table.add_row(s, *row)
    return table


def fingerprint_line(fp: dict[str, Any]) -> str:
    py = fp["python"]
    gil = "" if py.get("gil_enabled", True) else " (free-threaded)"
    return (
        f"{fp['os']} {fp['os_release']} {fp['arch']} · {fp['cpu_model']} · "
        f"{fp['logical_cores']} cores, {fp['effective_parallelism']} effective · "
        f"{py['implementation']} {py['version']}{gil} · start method {fp['start_method']}"
    )


def console() -> Console:
    """A console that keeps tables whole when piped to a file or a CI log."""
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=160)
    return con
