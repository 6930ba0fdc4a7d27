"""The terminal renderer (rich): the summary, the survival matrix and the sweep pivots as
tables. The number formats it shares with the report and the figures are in
:mod:`~harness.presentation.numbers`, the one-line facts in :mod:`~harness.presentation.facts`."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from harness.analysis.ranking import ALPHA, min_repeats_for_a_verdict
from harness.analysis.summary import tied
from harness.presentation.blocks import Bullets, Heading, Para
from harness.presentation.blocks import Table as TableBlock
from harness.presentation.numbers import ms, pct, pivot_rows, si
from harness.sweeps.findings import KNEE

if TYPE_CHECKING:
    from harness.analysis.survival import Survival
    from harness.sweeps.answer import Answer
    from harness.sweeps.findings import Pivot


#: The summary table's optional columns, in the order they are left out when the terminal is too
#: narrow (first left out first). The scenario, the strategy, items/s, eff. and the status always
#: show, and names are never cut.
DROP_ORDER = ("teardown ms", "setup ms", "failed", "p50 ms", "cpu∥ (total)", "min–max", "conc", "p99 ms")

#: The two windows items/s and efficiency may be measured over (``--rank-by``).
WINDOWS = {
    "total": "the strategy's first step to its return, what you wait for",
    "makespan": "the start line to the last item done, the pipeline alone",
}

_SHORT = {"total": "first step to return", "makespan": "start line to last item done"}

#: What the summary's marks mean (the first line of the legend under the table).
LEGEND = (
    "★ the best, distinguishable from every other strategy over the repeats (rank tests; noise is "
    "crowned at most {alpha:g} of the time); ≈ not distinguishable from the best (a tie). "
    "Medians of the passing repeats."
)

#: Why a tie can skip a strategy ranked between two tied ones.
TIE_NOTE = (
    "A tie lists the strategies whose repeats cannot be told from the best's. Each is tested against "
    "the best on its own repeats, so a steady strategy ranked between two tied ones can be told apart "
    "while a noisier one below it cannot."
)

_ORDER = ("items/s", "min–max", "setup ms", "teardown ms", "p50 ms", "p99 ms", "eff.", "cpu∥ (total)", "conc", "failed")


def legend(header: str, window: str) -> str:
    """One column of the summary table in a few words (its entry in the legend under the table)."""
    other = "makespan" if window == "total" else "total"
    return {
        "items/s": f"median over the {window} window ({_SHORT[window]}; --rank-by {other}: {_SHORT[other]})",
        "min–max": "over the passing repeats",
        "setup ms": "first step to the start line (pools built)",
        "teardown ms": "last item done to the return (pools shut down)",
        "p50 ms": "median end-to-end latency (made to done)",
        "p99 ms": "99th-percentile end-to-end latency",
        "eff.": f"ideal makespan ÷ measured {window} window",
        "cpu∥ (total)": "CPU s ÷ wall s (cores kept busy)",
        "conc": "most items in work at once / pool size",
        "failed": "repeats that did not pass",
        "status": "ok, or the worst outcome",
    }.get(header, "")


def _header(name: str, window: str) -> str:
    return {"items/s": f"items/s ({window})", "eff.": f"eff. ({window})"}.get(name, name)


def _cells(row: Any) -> dict[str, str]:
    """A summary row's cells, by column (items/s and eff. without their window)."""
    conc = f"{int(row.max_concurrency)}/{int(row.pool_size)}" if math.isfinite(row.max_concurrency) else "—"
    if math.isfinite(row.max_concurrency) and row.max_concurrency > row.pool_size:
        conc = f"[bold red]{conc}[/]"
    return {
        "items/s": si(row.throughput),
        "min–max": f"{si(row.throughput_min)}–{si(row.throughput_max)}",
        "setup ms": ms(row.setup_s * 1000),
        "teardown ms": ms(row.teardown_s * 1000),
        "p50 ms": ms(row.e2e_p50_ms),
        "p99 ms": ms(row.e2e_p99_ms),
        "eff.": pct(row.efficiency),
        "cpu∥ (total)": "—" if not math.isfinite(row.cpu_parallelism) else f"{row.cpu_parallelism:.2f}",
        "conc": conc,
        "failed": f"[red]{row.failed}[/]" if row.failed else "0",
        "status": "[green]ok[/]" if row.status == "ok" else f"[bold red]{escape(row.status)}[/]",
    }


_Row = tuple[str, str, dict[str, str], bool]  # scenario cell, strategy cell, the others, a new section


def summary_table(
    frame: pd.DataFrame, title: str = "queuebench summary", width: int | None = None, wide_hint: str = ""
) -> Table:
    """The run's summary: ★ a clear winner, ≈ strategies tied with the best (the caption names them).

    ``width``: the terminal's columns. Lower-priority columns (:data:`DROP_ORDER`) are left out
    until the table fits, and the legend says which and how to see them (``wide_hint``, e.g.
    ``queuebench show RUN --wide``). None: every column. The scenario and strategy names are
    never cut."""

    used = str(frame["rank_by"].iloc[0]) if len(frame) else "total"
    rows, ties = _rows(frame)
    dropped: list[str] = []
    table = _table(used, rows, dropped, title)
    for column in DROP_ORDER:
        if width is None or natural_width(table) <= width:
            break
        dropped.append(column)
        table = _table(used, rows, dropped, title)
    shown = [c for c in (*_ORDER, "status") if c not in dropped]
    lines = [LEGEND.format(alpha=ALPHA), " · ".join(f"{_header(c, used)}: {legend(c, used)}" for c in shown)]
    if dropped:
        how = f" ({wide_hint})" if wide_hint else ""
        left = ", ".join(dropped)
        lines.append(f"Left out to fit {width} columns: {left}; every column{how} and the report show them.")
    table.caption = "\n".join([*lines, *ties])
    return table


def _rows(frame: pd.DataFrame) -> tuple[list[_Row], list[str]]:
    """The table's rows, scenarios in run order and strategies best first, and the tie notes."""
    previous = None
    ties, rows = [], []
    order = frame.assign(_order=pd.factorize(frame["scenario"])[0])
    for row in order.sort_values(["_order", "rank"], kind="stable", na_position="last").itertuples():
        if row.scenario != previous and (group := tied(frame, row.scenario)):
            ranked = frame[(frame["scenario"] == row.scenario) & frame["rank"].notna()]
            repeats = int(ranked["ok"].min())
            few = (
                f" ({repeats} repeat(s): too few for any rank test to separate them; use -r {need} or more)"
                if repeats < (need := min_repeats_for_a_verdict(len(ranked)))
                else ""
            )
            ties.append(f"{escape(row.scenario)}: tie: {escape(', '.join(group))}{few}")
        if row.verdict == "best":
            name = f"[bold green]★ {escape(row.strategy)}[/]"
        elif row.verdict == "tie":
            name = f"[bold]≈ {escape(row.strategy)}[/]"
        else:
            name = f"  {escape(row.strategy)}"
        first = row.scenario != previous
        rows.append((escape(row.scenario) if first else "", name, _cells(row), first and previous is not None))
        previous = row.scenario
    if any(_skips(frame, scenario) for scenario in frame["scenario"].unique()):
        ties.append(TIE_NOTE)
    return rows, ties


def _skips(frame: pd.DataFrame, scenario: str) -> bool:
    """Does the scenario's tie leave out a strategy ranked between two tied ones?"""
    mine = frame[(frame["scenario"] == scenario) & frame["rank"].notna()].sort_values("rank", kind="stable")
    tie = list(mine["verdict"] == "tie")
    return any(tie) and not all(tie[: len(tie) - tie[::-1].index(True)])


def _table(window: str, rows: list[_Row], dropped: list[str], title: str) -> Table:
    table = Table(
        title=f"{title} · ranked by items/s over the {window} window",
        title_justify="left",
        header_style="bold",
        caption_justify="left",
    )
    for header, names in (("scenario", [r[0] for r in rows]), ("strategy", [r[1] for r in rows])):
        widest = max([len(header), *(Text.from_markup(n).cell_len for n in names)])  # names whole, always
        table.add_column(header, no_wrap=True, min_width=widest)
    columns = [c for c in _ORDER if c not in dropped]
    for c in columns:
        table.add_column(_header(c, window), justify="right", style="dim" if c == "min–max" else None)
    table.add_column("status")
    for scenario, name, cells, section in rows:
        if section:
            table.add_section()
        table.add_row(scenario, name, *(cells[c] for c in columns), cells["status"])
    return table


def natural_width(table: Table) -> int:
    """The columns the table takes with no cell wrapped."""
    wide = Console(width=10_000, highlight=False)
    return Measurement.get(wide, wide.options, table).maximum


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
            table.add_row("[dim](ideal bound: items ÷ ideal makespan)[/]", *(f"[dim]{si(v)}[/]" for v in pivot.ideal))
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
    if not con.is_terminal and not os.environ.get("COLUMNS", "").isdigit():  # COLUMNS, where set, wins
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


def pool_note(frame: pd.DataFrame, files: list[Path], extra: str = "") -> str | None:
    """A run's pool sizes are the scenario files' ``readers``, fixed: say so, and where the question
    "which pool size?" is answered (``sweep``); ``extra``: the run's own options the sweep needs too
    (``--path`` for the user's code)."""
    pools = frame.dropna(subset=["pool_size"]).groupby("scenario", sort=False)["pool_size"].max()
    if pools.empty:
        return None
    sizes = sorted({int(p) for p in pools})
    fixed = (
        f"a pool of {sizes[0]} reader(s)"
        if len(sizes) == 1
        else "pools of " + ", ".join(f"{int(p)} ({s})" for s, p in pools.items())
    )
    example = files[0] if files else Path("FILE.toml")
    return (
        f"Every scenario ran {fixed}, as its file fixes (`readers`): this compares strategies at that pool "
        f"size. Which pool size is best is a sweep's question: queuebench sweep {example} --vary readers=1..8{extra}"
    )
