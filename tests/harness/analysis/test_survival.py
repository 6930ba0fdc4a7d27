"""The survival matrix's cells and legend (harness.analysis.survival)."""

from __future__ import annotations

from harness.analysis.survival import LEGEND, Outcome, Survival, cell
from harness.presentation.survival import survival_markdown
from harness.rundir.model import Faults, Trial


def _hung(detection_s: float) -> Trial:
    faults = Faults(outcome="hung", injected=("reader_hang 0/1",), delivered=3, lost=1, detection_s=detection_s)
    return Trial(id="0001-hang-threads-r1", scenario="hang", strategy="threads", status="timeout", faults=faults)


def test_a_hung_cell_says_its_time_counts_from_the_fault() -> None:
    """The log says "timed out after 5 s" (from the trial's start) and the matrix 4.6 s (from the
    fault): the cell says which, so the two figures do not read as a contradiction."""
    assert cell(_hung(4.6)) == "hung (4.6 s after the fault)"
    assert "from the trial's start" in LEGEND and "after the first injected fault" in LEGEND


def test_the_legend_is_under_the_markdown_matrix() -> None:
    matrix = Survival(["threads"], ["hang"], {("threads", "hang"): [Outcome("hung", cell(_hung(4.6)))]})
    text = survival_markdown(matrix)
    assert "hung (4.6 s after the fault)" in text
    assert "the watchdog killed the trial at its timeout" in text
