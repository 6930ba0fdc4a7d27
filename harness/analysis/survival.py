"""The survival matrix as data: strategies x fault scenarios, how each measured trial ended.

Built once per run by :func:`survival`; the terminal table (``presentation.terminal``), the
Markdown/HTML table (``presentation.survival``) and the figure (``presentation.figures.survival``)
all draw this one object. Numbers and words only: nothing here renders.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.rundir.model import Run, Trial


@dataclass(frozen=True)
class Outcome:
    kind: str  # recovered, hung or crashed (a fault trial); ok or other (a trial without faults)
    text: str  # e.g. "recovered: 17/18, lost 1" (see :func:`cell`)


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


LEGEND = (
    "recovered: N/M = items delivered of expected (lost, dup: duplicated, raised: failed with an error, "
    "orphans: processes left behind); hung (T s after the fault): the watchdog killed the trial at its "
    "timeout, counted from the trial's start, T s after the first injected fault; crashed: the strategy "
    "raised or its worker died"
)


def cell(trial: Trial) -> str:
    """One matrix cell, e.g. ``recovered: 17/18, lost 1`` or ``hung (4.6 s after the fault)``.

    A hung trial's time counts from its first injected fault, not from its start: the watchdog
    kills it at the scenario's timeout from the start (the log's "timed out after 5 s"), which is
    the fault's delay earlier; :data:`LEGEND` says so under the matrix."""
    f = trial.faults
    if f is None:
        return trial.status
    # The schema lets a stored run omit a count (it reads as 0, delivered as "?").
    text = f.outcome
    if f.outcome == "hung":
        text += f" ({f.detection_s:.1f} s after the fault)" if f.detection_s is not None else ""
    else:
        delivered = "?" if f.delivered is None else f.delivered
        text += f": {delivered}/{trial.metrics.get('expected', '?')}"
    extras = []
    if f.lost and f.outcome != "hung":
        extras.append(f"lost {f.lost}")
    if f.duplicated:
        extras.append(f"dup {f.duplicated}")
    if f.failed_with_error:
        extras.append(f"{f.failed_with_error} raised")
    if f.leftover_processes:
        extras.append(f"{f.leftover_processes} orphans")
    return text + (", " + ", ".join(extras) if extras else "")


def matrix(run: Run) -> tuple[list[str], list[str], dict[tuple[str, str], list[Trial]]]:
    """Strategies (rows), scenarios (columns) and the measured trials of each cell."""
    cells: dict[tuple[str, str], list[Trial]] = {}
    strategies: list[str] = []
    scenarios: list[str] = []
    for t in run.measured:
        strategies += [t.strategy] if t.strategy not in strategies else []
        scenarios += [t.scenario] if t.scenario not in scenarios else []
        cells.setdefault((t.strategy, t.scenario), []).append(t)
    return strategies, scenarios, cells


def kind(trial: Trial) -> str:
    if trial.faults is not None:
        return trial.faults.outcome
    return "ok" if trial.ok else "other"


def has_faults(run: Run) -> bool:
    return any(t.faults for t in run.trials)


def survival(run: Run) -> Survival:
    strategies, scenarios, trials = matrix(run)
    cells = {key: [Outcome(kind(t), cell(t)) for t in ts] for key, ts in trials.items()}
    return Survival(strategies, scenarios, cells)
