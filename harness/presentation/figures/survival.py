"""The survival matrix as a figure: strategies x faults, one coloured cell per outcome."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from harness.analysis.survival import Survival
from harness.presentation.figures.style import DPI, style

OUTCOME_COLOURS = {"recovered": "#9BD3AE", "hung": "#F5C26B", "crashed": "#E8857A", "ok": "#D9EAD3", "other": "#DDDDDD"}


def survival_figure(matrix: Survival) -> Figure:
    """Rows: strategies; columns: fault scenarios; each cell coloured by how its first trial ended."""
    strategies, scenarios = matrix.strategies, matrix.scenarios
    with style():
        fig = Figure(figsize=(1.0 + 2.0 * len(scenarios), 0.9 + 0.55 * len(strategies)), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        for i, strategy in enumerate(strategies):
            for j, scenario in enumerate(scenarios):
                outcomes = matrix.at(strategy, scenario)
                kind = outcomes[0].kind if outcomes else "other"
                colour = OUTCOME_COLOURS.get(kind, OUTCOME_COLOURS["other"])
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white", lw=2))
                text = "\n".join(o.text.replace(", ", "\n", 1) for o in outcomes[:1]) or "—"
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
        ax.legend(
            handles=[
                Patch(facecolor=OUTCOME_COLOURS.get(k, OUTCOME_COLOURS["other"]), label=k) for k in matrix.kinds()
            ],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title="outcome",
        )
    return fig
