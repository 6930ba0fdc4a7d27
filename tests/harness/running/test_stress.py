"""`queuebench stress`: the survival matrix from real fault trials, in the terminal, Markdown and a figure."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from matplotlib.patches import Rectangle
from typer.testing import CliRunner

from harness.analysis.survival import cell, survival
from harness.cli import app
from harness.presentation import report
from harness.presentation.figures import survival as stress_figure
from harness.rundir import store
from strategies import registry

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


ONE_FAULT = FAULTS.split('\n[[scenario]]\nname = "die"')[0]


def _worker_runs_only(monkeypatch: pytest.MonkeyPatch, runs: set[str]) -> None:
    """The worker's probe answers as a default install's would: every strategy but ``runs``
    cannot run there ('not installed here'), whatever this interpreter has."""
    from harness.running.launchers.local import LocalLauncher

    real = LocalLauncher.probe_answer

    def probe_answer(self: LocalLauncher, timeout: float = 60.0) -> dict[str, Any]:
        answer = real(self, timeout)
        for name in answer["strategies"]:
            if name not in runs:
                answer["strategies"][name] = [False, f"{name} is not installed here"]
        return answer

    monkeypatch.setattr(LocalLauncher, "probe_answer", probe_answer)


def test_stress_without_s_runs_what_the_worker_can_and_lists_the_rest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`queuebench stress` as the README shows it, no -s: the strategies the worker cannot run
    (uvloop, subinterpreters, dask on a default install) are said with why, not an exit 2."""
    _worker_runs_only(monkeypatch, {"threads", "sequential"})
    spec = tmp_path / "faults.toml"
    spec.write_text(ONE_FAULT)
    out = tmp_path / "res"
    result = CliRunner().invoke(app, ["stress", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if line.startswith("unavailable ")]
    others = [n for n in registry.names() if n not in ("threads", "sequential")]
    assert said == [f"unavailable {n}: {n} is not installed here (not run)" for n in others]
    (run_dir,) = out.iterdir()
    md = (run_dir / "survival.md").read_text().splitlines()
    assert md[0] == "| strategy | raise |"
    rows = [line for line in md[2:] if line.startswith("|")]
    assert [row.split(" | ")[0] for row in rows] == ["| threads", "| sequential"]
    assert any("the watchdog killed the trial at its timeout" in line for line in md)  # the legend, under it
    doc = json.loads((run_dir / "run.json").read_text())
    assert sorted(t["strategy"] for t in doc["trials"]) == ["sequential", "threads"]


def test_stress_with_s_naming_one_the_worker_cannot_run_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _worker_runs_only(monkeypatch, {"threads"})
    spec = tmp_path / "faults.toml"
    spec.write_text(ONE_FAULT)
    out = tmp_path / "res"
    result = CliRunner().invoke(app, ["stress", str(spec), "-s", "threads", "-s", "dask", "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"error: strategy 'dask' cannot run under {sys.executable}: dask is not installed here"
    )
    assert not out.exists() or not any(out.iterdir())  # refused before anything ran
