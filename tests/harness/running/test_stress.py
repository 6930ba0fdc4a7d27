"""`queuebench stress`: the survival matrix from real fault trials, in the terminal, Markdown and a figure."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.patches import Rectangle
from typer.testing import CliRunner

from harness.analysis.survival import cell, survival
from harness.cli import app
from harness.presentation import report
from harness.presentation.figures import survival as stress_figure
from harness.rundir import store

FAULTS = """
[defaults]
writers = 2
readers = 2
items_per_writer = 5
reader_work = { kind = "io", ms = 1 }
repeats = 1
warmup = 0
timeout = 20

[[scenario]]
name = "raise"
description = "reader raises on item 3"
[scenario.faults]
reader_raise = [3]

[[scenario]]
name = "die"
description = "reader dies on item 3"
[scenario.faults]
reader_die = [3]
"""


def test_stress_prints_and_writes_the_survival_matrix(tmp_path: Path) -> None:
    spec = tmp_path / "faults.toml"
    spec.write_text(FAULTS)
    out = tmp_path / "res"
    result = CliRunner().invoke(app, ["stress", str(spec), "-s", "threads", "-s", "sequential", "--out", str(out)])
    assert result.exit_code == 0, result.output  # findings, not errors
    assert "survival matrix" in result.output
    (run_dir,) = out.iterdir()
    md = (run_dir / "survival.md").read_text()
    assert (run_dir / "survival.png").is_file() and "survival.png" in result.output  # not only after `report`
    assert md.splitlines()[0] == "| strategy | raise | die |"
    assert "| threads | recovered: 9/10, lost 1, 1 raised | recovered: 9/10, lost 1 |" in md
    # sequential goes round-robin over writers: 6 items (seq 0-2 of both) come before item 0/3.
    assert "| sequential | crashed: 6/10, lost 4, 1 raised | crashed: 6/10, lost 4 |" in md
    doc = json.loads((run_dir / "run.json").read_text())
    fault = next(t["faults"] for t in doc["trials"] if t["strategy"] == "threads" and t["scenario"] == "die")
    assert fault["injected"] == ["reader_die 0/3"] and fault["detection_s"] > 0

    run = store.read_run(run_dir)
    fig = stress_figure.survival_figure(survival(run))
    ax = fig.axes[0]
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["threads", "sequential"]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"recovered", "crashed"}

    written = report.write_report(run_dir)
    text = written.markdown.read_text()
    assert "## Survival under faults" in text and "survival.png" in text
    assert cell(run.trials[0]).startswith("recovered")
