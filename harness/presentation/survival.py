"""The survival matrix (:class:`~harness.analysis.survival.Survival`) as a table block for
Markdown and HTML, and as the ``survival.md`` document ``queuebench stress`` writes."""

from __future__ import annotations

from pathlib import Path

from harness.analysis.survival import LEGEND, Survival
from harness.presentation import markdown
from harness.presentation.blocks import Para, Table


def survival_block(matrix: Survival) -> Table:
    """The matrix as a table block (Markdown, HTML); a cell lists its trials one per line."""
    rows = [
        [
            markdown.escape(s),
            *("\n".join(markdown.escape(o.text) for o in matrix.at(s, sc)) or "—" for sc in matrix.scenarios),
        ]
        for s in matrix.strategies
    ]
    return Table(["strategy", *(markdown.escape(sc) for sc in matrix.scenarios)], rows)


def survival_markdown(matrix: Survival) -> str:
    """The matrix as a GitHub-flavoured Markdown document (``survival.md``)."""
    return markdown.to_markdown([survival_block(matrix), Para(markdown.escape(LEGEND))], Path("."))
