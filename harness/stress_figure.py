"""The survival matrix as a figure: strategies x faults, one coloured cell per outcome."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from harness import stress
from harness.figures import DPI, style

OUTCOME_COLOURS = {"recovered": "#9BD3AE", "hung": "#F5C26B", "crashed": "#E8857A", "ok": "#D9EAD3", "other": "#DDDDDD"}


def _outcome(trial: dict[str, Any]) -> str:
    f = trial.get("faults")
    if f is not None:
        return str(f["outcome"])
    return "ok" if trial["status"] == "ok" else "other"


def has_faults(doc: dict[str, Any]) -> bool:
    return any(t.get("faults") for t in doc["trials"])


def survival_figure(doc: dict[str, Any]) -> Figure:
    """Rows: strategies; columns: fault scenarios; each cell coloured by how the trial ended."""
    strategies, scenarios, cells = stress.matrix(doc)
    with style():
        fig = Figure(figsize=(1.0 + 2.0 * len(scenarios), 0.9 + 0.55 * len(strategies)), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        for i, strategy in enumerate(strategies):
            for j, scenario in enumerate(scenarios):
                trials = cells.get((strategy, scenario), [])
                outcome = _outcome(trials[0]) if trials else "other"
                colour = OUTCOME_COLOURS.get(outcome, OUTCOME_COLOURS["other"])
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white", lw=2))
                text = "\n".join(stress.cell(t).replace(", ", "\n", 1) for t in trials[:1]) or "—"
                ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=7)
        ax.set_xlim(0, len(scenarios))
        ax.set_ylim(len(strategies), 0)
        ax.set_xticks([j + 0.5 for j in range(len(scenarios))], scenarios, rotation=20, ha="right")
        ax.set_yticks([i + 0.5 for i in range(len(strategies))], strategies)
        ax.tick_params(length=0)
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title("Survival matrix: how each strategy ended under each fault")
        used = sorted({_outcome(t) for ts in cells.values() for t in ts})
        ax.legend(
            handles=[Patch(facecolor=OUTCOME_COLOURS[o], label=o) for o in used],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title="outcome",
        )
    return fig
