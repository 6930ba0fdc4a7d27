"""The survival matrix as data: strategies x fault scenarios, how each measured trial ended.

Built once per run by :func:`survival`; the terminal table (:func:`harness.presentation.terminal.survival_table`),
the Markdown/HTML table (:meth:`Survival.block`) and the figure (:mod:`harness.presentation.figures.survival`)
all draw this one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.presentation import markdown
from harness.presentation.blocks import Table
from harness.running import faults as stress


@dataclass(frozen=True)
class Outcome:
    kind: str  # recovered, hung or crashed (a fault trial); ok or other (a trial without faults)
    text: str  # e.g. "recovered: 17/18, lost 1" (see harness.running.faults.cell)


@dataclass(frozen=True)
class Survival:
    strategies: list[str]  # rows, in run order
    scenarios: list[str]  # columns, in run order
    cells: dict[tuple[str, str], list[Outcome]]  # (strategy, scenario) -> one outcome per measured trial

    def at(self, strategy: str, scenario: str) -> list[Outcome]:
        return self.cells.get((strategy, scenario), [])

    def kinds(self) -> list[str]:
        """Every kind of ending in the matrix, sorted."""
        return sorted({o.kind for outcomes in self.cells.values() for o in outcomes})

    def block(self) -> Table:
        """The matrix as a table block (Markdown, HTML); a cell lists its trials one per line."""
        rows = [
            [
                markdown.escape(s),
                *("\n".join(markdown.escape(o.text) for o in self.at(s, sc)) or "—" for sc in self.scenarios),
            ]
            for s in self.strategies
        ]
        return Table(["strategy", *(markdown.escape(sc) for sc in self.scenarios)], rows)

    def markdown(self) -> str:
        """The matrix as a GitHub-flavoured Markdown document (``survival.md``)."""
        return markdown.to_markdown([self.block()], Path("."))


def kind(trial: dict[str, Any]) -> str:
    f = trial.get("faults")
    if f is not None:
        return str(f["outcome"])
    return "ok" if trial["status"] == "ok" else "other"


def has_faults(doc: dict[str, Any]) -> bool:
    return any(t.get("faults") for t in doc["trials"])


def survival(doc: dict[str, Any]) -> Survival:
    strategies, scenarios, trials = stress.matrix(doc)
    cells = {key: [Outcome(kind(t), stress.cell(t)) for t in ts] for key, ts in trials.items()}
    return Survival(strategies, scenarios, cells)
