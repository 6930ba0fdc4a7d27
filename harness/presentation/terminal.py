"""The terminal renderer (rich): the summary, the survival matrix and the sweep pivots as
tables. The number formats it shares with the report and the figures are in
:mod:`~harness.presentation.numbers`, the one-line facts in :mod:`~harness.presentation.facts`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.analysis.ranking import min_repeats_for_a_verdict
from harness.analysis.summary import throughput_label, tied
from harness.presentation.blocks import Bullets, Heading, Para
from harness.presentation.blocks import Table as TableBlock
from harness.presentation.numbers import ms, pct, pivot_rows, si
from harness.sweeps.findings import KNEE

if TYPE_CHECKING:
    from harness.analysis.survival import Survival
    from harness.sweeps.answer import Answer
    from harness.sweeps.findings import Pivot


def summary_table(frame: pd.DataFrame, title: str = "queuebench summary") -> Table:
    """The run's summary: ★ a clear winner, ≈ strategies tied with the best (the caption names them)."""

    used = str(frame["rank_by"].iloc[0]) if len(frame) else "total"
    table = Table(
        title=f"{title} · ranked by items/s over the {used} window",
        title_justify="left",
        header_style="bold",
        caption_justify="left",
    )
    table.add_column("scenario")
    table.add_column("strategy")
    table.add_column(throughput_label(frame), justify="right")
    table.add_column("min–max", justify="right", style="dim")
    table.add_column("setup ms", justify="right")
    table.add_column("teardown ms", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("eff.", justify="right")
    table.add_column("cpu∥ (total)", justify="right")
    table.add_column("conc", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("status")
    previous = None
    ties = []
    order = frame.assign(_order=pd.factorize(frame["scenario"])[0])  # scenarios in run order
    for row in order.sort_values(["_order", "rank"], kind="stable", na_position="last").itertuples():
        if previous is not None and row.scenario != previous:
            table.add_section()
        if row.scenario != previous and (group := tied(frame, row.scenario)):
            repeats = int(frame[(frame["scenario"] == row.scenario) & frame["rank"].notna()]["ok"].min())
            few = (
                f" ({repeats} repeat(s): too few for any rank test to separate them; use -r {need} or more)"
                if repeats < (need := min_repeats_for_a_verdict())
                else ""
            )
            ties.append(f"{escape(row.scenario)}: tie: {escape(', '.join(group))}{few}")
        if row.verdict == "best":
            name = f"[bold green]★ {escape(row.strategy)}[/]"
        elif row.verdict == "tie":
            name = f"[bold]≈ {escape(row.strategy)}[/]"
        else:
            name = f"  {escape(row.strategy)}"
        conc = f"{int(row.max_concurrency)}/{int(row.pool_size)}" if math.isfinite(row.max_concurrency) else "—"
        if math.isfinite(row.max_concurrency) and row.max_concurrency > row.pool_size:
            conc = f"[bold red]{conc}[/]"
        status = "[green]ok[/]" if row.status == "ok" else f"[bold red]{escape(row.status)}[/]"
        table.add_row(
            escape(row.scenario) if row.scenario != previous else "",
            name,
            si(row.throughput),
            f"{si(row.throughput_min)}–{si(row.throughput_max)}",
            ms(row.setup_s * 1000),
            ms(row.teardown_s * 1000),
            ms(row.e2e_p50_ms),
            ms(row.e2e_p99_ms),
            pct(row.efficiency),
            "—" if not math.isfinite(row.cpu_parallelism) else f"{row.cpu_parallelism:.2f}",
            conc,
            f"[red]{row.failed}[/]" if row.failed else "0",
            status,
        )
        previous = row.scenario
    table.caption = "\n".join([LEGEND, *ties])
    return table


#: What the summary's marks and columns mean (the terminal table's caption).
LEGEND = (
    "★ the best, distinguishable from the runner-up over the repeats (rank test, p ≤ 0.05); "
    "≈ not distinguishable from the best (a tie). Medians of the passing repeats; failed = repeats "
    "that did not pass. cpu∥ = CPU seconds ÷ wall seconds over the total window."
)


def busy_line(warning: str | None) -> str | None:
    """The busy-machine warning as a rich line (None when the machine looked quiet)."""
    return None if warning is None else f"[bold yellow]⚠ {escape(warning)}[/]"


_OUTCOME_COLOURS = {"recovered": "green", "hung": "yellow", "crashed": "red", "ok": "green"}


def survival_table(matrix: Survival) -> Table:
    """Strategies x fault scenarios: how each trial ended, coloured by outcome."""
    table = Table(title="survival matrix", title_justify="left", header_style="bold", show_lines=True)
    table.add_column("strategy")
    for sc in matrix.scenarios:
        table.add_column(escape(sc))
    for s in matrix.strategies:
        row = []
        for sc in matrix.scenarios:
            lines = [f"[{_OUTCOME_COLOURS.get(o.kind, 'red')}]{escape(o.text)}[/]" for o in matrix.at(s, sc)]
            row.append("\n".join(lines) or "—")
        table.add_row(escape(s), *row)
    return table


def sweep_tables(pivots: list[Pivot]) -> list[Table]:
    """The sweep's pivots: items/s (best ★, knee ◆, a point that did not pass in red) and p99 ms."""

    out = []
    for pivot in pivots:
        param, values = pivot.param, pivot.values
        if pivot.column == "throughput":
            title = (
                f"items/s ({pivot.window}) vs {param} (median) · ★ best (separated from the next by the repeats) · "
                f"◆ knee: smallest {param} >= {KNEE:.0%} of best"
            )
        else:
            title = f"p99 end-to-end latency, ms, vs {param} (median)"
        table = Table(title=title, title_justify="left", header_style="bold")
        table.add_column("strategy")
        for v in values:
            table.add_column(f"{param}={v}" if v == values[0] else str(v), justify="right")
        for label, texts in pivot_rows(pivot, "[red]{} ✗[/]", "[bold]{}[/]"):
            table.add_row(escape(label), *texts)
        if pivot.ideal is not None:
            table.add_row("[dim](ideal bound)[/]", *(f"[dim]{si(v)}[/]" for v in pivot.ideal))
        out.append(table)
    return out


def answer_table(answer: Answer) -> Table:
    """A push sweep's answer in the user's terms: seconds for 100 images per strategy and pool size."""
    table = Table(title=answer.title, title_justify="left", header_style="bold")
    table.add_column("pool of N pushes")
    for v in answer.values:
        table.add_column(f"N={v}" if v == answer.values[0] else str(v), justify="right")
    for label, cells in answer.rows:
        table.add_row(
            escape(label), *("[red]✗[/]" if c is None else "—" if math.isnan(c) else f"{c:.0f} s" for c in cells)
        )
    return table


def console() -> Console:
    """A console that keeps tables whole when piped to a file or a CI log."""
    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=160)
    return con


def _plain(text: str) -> str:
    """Block text (Markdown's inline subset, outside text escaped) as the terminal shows it."""
    import re

    text = re.sub(r"(`+) ?(.*?) ?\1", lambda m: m[2].replace("\\", "\x00"), text)  # code spans stay literal
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return re.sub(r"\\(.)", r"\1", text).replace("\x00", "\\")


def print_blocks(blocks: list[Any], con: Console) -> None:
    """Blocks on the terminal: headings bold, tables as tables, text without its Markdown marks."""

    for block in blocks:
        if isinstance(block, Heading):
            con.print(f"[bold]{escape(_plain(block.text))}[/]")
        elif isinstance(block, Para):
            con.print(escape(_plain(block.text)))
        elif isinstance(block, Bullets):
            for item in block.items:
                con.print(f"  • {escape(_plain(item))}")
        elif isinstance(block, TableBlock):
            table = Table(header_style="bold")
            for i, name in enumerate(block.header):
                table.add_column(escape(_plain(name)), justify="right" if i in block.right else "left")
            for row in block.rows:
                table.add_row(*(escape(_plain(c)) for c in row))
            con.print(table)
