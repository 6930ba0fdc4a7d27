"""The report's (and the terminal's) section for a run of several interpreters
(:mod:`harness.running.interpreters` plans such a run and holds its numbers)."""

from __future__ import annotations

import math

from harness.presentation.blocks import Block, Bullets, Heading, Para, Table
from harness.presentation.markdown import code, escape
from harness.presentation.numbers import si
from harness.rundir.model import Run
from harness.running.interpreters import describe, of_run, side_by_side


def section(run: Run, rank_by: str = "total") -> list[Block]:
    """The report's (and the terminal's) side-by-side view: which interpreter ran what, and per
    scenario x strategy the median items/s under each (over the window the table ranks by) with
    the ratio to the first. Empty for a one-interpreter run."""
    metric = "throughput" if rank_by == "makespan" else "throughput_total"
    found = of_run(run)
    frame = side_by_side(run, metric)
    if frame.empty:
        return []
    names = list(found)
    lines = []
    for name, entry in found.items():
        text = f"{code(name)}: {escape(describe(entry))} ({code(str(entry.get('executable')))}"
        given = entry.get("given")
        text += f", given as {code(str(given))})" if given and given != entry.get("executable") else ")"
        if entry.get("unavailable"):
            text += "; not run here: " + ", ".join(
                f"{escape(s)} ({escape(str(why))})" for s, why in entry["unavailable"].items()
            )
        lines.append(text)
    ratios = [c for c in frame.columns if "÷" in str(c)]
    header = ["scenario", "strategy", *(f"{n} items/s" for n in names), *ratios]
    rows = []
    for _, row in frame.iterrows():
        cells = [escape(str(row["scenario"])), escape(str(row["strategy"]))]
        cells += ["—" if math.isnan(row[n]) else si(row[n]) for n in names]
        cells += ["—" if math.isnan(row[c]) else f"×{row[c]:.2f}" for c in ratios]
        rows.append(cells)
    window = "total window" if metric == "throughput_total" else "makespan"
    return [
        Heading(2, "Interpreters side by side"),
        Bullets(lines),
        Para(
            f"Median items/s ({escape(window)}) over the passing repeats; trials of the interpreters took turns "
            f"in this one run, so drift hit them alike. The ratios divide by the first interpreter, "
            f"{code(names[0])}, whose cpu calibration every interpreter ran: the same work everywhere."
        ),
        Table(header, rows, frozenset(range(2, len(header)))),
    ]
