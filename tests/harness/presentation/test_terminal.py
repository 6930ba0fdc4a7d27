"""The terminal's summary table as a user reads it: it fits the terminal without ever cutting a
scenario or strategy name, says which columns it left out and how to see them, explains every
column it shows in a legend under it, and names the window of each figure."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from harness.analysis.summary import summarize
from harness.cli import app
from harness.presentation import terminal
from tests.helpers import as_run, make_doc, spread, write_run

NAMES = ("threads", "mp-queue", "manager-pool", "asyncio-uvloop", "subinterpreters")


def _doc() -> dict[str, Any]:
    doc = make_doc({("build-and-push", s): spread(100.0 * (i + 1), 5, 0.3) for i, s in enumerate(NAMES)})
    for t in doc["trials"]:
        if t["warmup"]:
            continue
        m = t["metrics"]
        m.update(
            throughput_total=m["throughput"] * 0.8, setup_s=0.2, teardown_s=0.01, makespan_s=0.1, total_s=0.125,
            e2e_p50_ms=12.5, e2e_p99_ms=1234.5, efficiency=0.9, ideal_makespan_s=0.09, cpu_parallelism=1.25,
            max_concurrency=3, pool_size=3, expected=10, consumed=10, lost=0, duplicated=0, unexpected=0,
            exactly_once=True, produced_before_start=0,
        )  # fmt: skip
    return doc


def _frame() -> pd.DataFrame:
    return summarize(as_run(_doc()))


def _render(table: Any, width: int) -> str:
    con = Console(width=width, record=True, highlight=False, color_system=None)
    con.print(table)
    return con.export_text()


@pytest.mark.parametrize("width", [70, 80, 100, 120, 160])
def test_the_table_fits_the_terminal_and_never_cuts_a_name(width: int) -> None:
    text = _render(terminal.summary_table(_frame(), width=width, wide_hint="queuebench show RUN --wide"), width)
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert all(len(line) <= width for line in table), text
    for name in (*NAMES, "build-and-push"):
        assert re.search(rf"[│┃] [★≈ ]*{re.escape(name)} ", text), (name, text)
    assert "…" not in "\n".join(table)  # no header nor cell cut either


def test_left_out_columns_are_named_with_the_way_to_see_them() -> None:
    table = terminal.summary_table(_frame(), width=100, wide_hint="queuebench show R --wide")
    text = " ".join(_render(table, 100).split())
    left = re.search(r"Left out to fit 100 columns: (.*?); every column \(queuebench show R --wide\)", text)
    assert left is not None, text
    assert "teardown ms" in left[1] and "setup ms" in left[1]
    wide = " ".join(_render(terminal.summary_table(_frame(), width=None), 300).split())
    assert "Left out" not in wide
    for header in ("setup ms", "teardown ms", "p50 ms", "cpu∥ (total)", "min–max", "conc", "failed"):
        assert f"┃ {header} " in _render(terminal.summary_table(_frame()), 300) or header in wide


def test_every_column_shown_has_a_line_in_the_legend() -> None:
    for width in (None, 100, 80):
        table = terminal.summary_table(_frame(), width=width)
        legend = " ".join(str(table.caption).split())
        for column in table.columns:
            header = str(column.header)
            if header in ("scenario", "strategy"):
                continue
            assert re.search(rf"{re.escape(header)}: \w", legend), (header, legend)
    assert "eff. (total): ideal makespan ÷ measured total window" in legend


def test_show_wide_prints_every_column_and_show_fits_by_default(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", _doc())
    runner = CliRunner()
    fitted = runner.invoke(app, ["show", str(run_dir)], env={"COLUMNS": "100"})
    assert fitted.exit_code == 0, fitted.output
    assert "teardown ms" not in fitted.output.split("┗")[0].split("Left out")[0].split("└")[0]
    assert f"queuebench show {run_dir} --wide" in " ".join(fitted.output.split()).replace(" --wide", " --wide")
    wide = runner.invoke(app, ["show", str(run_dir), "--wide"], env={"COLUMNS": "100"})
    assert wide.exit_code == 0, wide.output
    assert "teardown ms" in wide.output and "Left out" not in wide.output
    assert "manager-pool" in wide.output


def test_a_run_says_its_pools_are_fixed_and_points_to_sweep() -> None:
    note = terminal.pool_note(_frame(), [Path("scenarios/io-bound.toml")])
    assert note is not None
    assert "a pool of 3 reader(s)" in note and "queuebench sweep scenarios/io-bound.toml --vary readers=" in note


def test_a_tie_that_skips_a_strategy_says_why() -> None:
    noisy = [50.0, 400.0, 90.0, 350.0, 120.0]
    steady = {("s", "a"): [300.0, 301, 302, 303, 304], ("s", "b"): [200.0, 201, 202, 203, 204]}
    doc = make_doc({**steady, ("s", "c"): noisy})
    frame = summarize(as_run(doc))
    assert list(frame.sort_values("rank")["strategy"]) == ["a", "b", "c"]
    assert list(frame.sort_values("rank")["verdict"]) == ["tie", "", "tie"]
    caption = " ".join(str(terminal.summary_table(frame).caption).split())
    assert "s: tie: a, c" in caption and "a steady strategy ranked between two tied ones" in caption


def test_show_report_and_plot_take_a_folder_of_runs_as_compare_does(tmp_path: Path) -> None:
    """One window everywhere (items/s over the total, named), and the inputs compare and export take."""
    folder = tmp_path / "ci"
    older, newer = write_run(folder / "20260101T000000Z-a", _doc()), write_run(folder / "20260102T000000Z-a", _doc())
    runner = CliRunner()
    shown = runner.invoke(app, ["show", str(folder)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"run: {newer} (the newest run in {folder})" in shown.output
    assert "ranked by items/s over the total window" in shown.output
    plotted = runner.invoke(app, ["plot", str(folder)], env={"COLUMNS": "200"})
    assert plotted.exit_code == 0, plotted.output
    assert f"{folder}: {older.name}, {newer.name}" in plotted.output
    figure = older / "queuebench-throughput_total-by-run.png"  # the total window, as the table
    assert figure.is_file() and f"figure: {figure}" in " ".join(plotted.output.split())


def test_a_sweep_warns_of_a_busy_machine_before_its_verdicts(tmp_path: Path) -> None:
    """The audit: no warning at a recorded load of 7.7 on 2 cores, where run, show and report warn."""
    from harness.cli.results_cmds import print_sweep
    from harness.rundir.model import Run
    from tests.harness.analysis.test_ranking import _sweep_doc

    doc = _sweep_doc([("threads", n, 10.0 * n, math.nan) for n in (1, 2, 3)])
    con = Console(width=200, record=True, color_system=None)
    print_sweep(Run.from_doc(doc), tmp_path, con, figure=False)
    assert "too busy" not in con.export_text()
    doc["fingerprint"]["load_average"] = [7.7]
    print_sweep(Run.from_doc(doc), tmp_path, con, figure=False)
    text = con.export_text()
    assert "⚠ The machine was too busy to trust these timings" in text and "load average 7.7" in text
    assert text.index("too busy") < text.index("items/s")
