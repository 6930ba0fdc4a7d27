"""What the command line and the report say to people: help without type names, --rank-by,
the busy-machine warning, grouped errors, --strict before printing, export of a folder of
runs, cpu work per item, and a stress report that leads with its matrix."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.analysis.summary import summarize
from harness.cli import app
from harness.cli.common import COMMAND_ORDER
from harness.presentation.blocks import Bullets, Heading, Para
from harness.presentation.markdown import to_markdown
from harness.presentation.report import build
from harness.presentation.scenarios import scenario_section
from harness.rundir import store
from harness.rundir.model import Run
from tests.helpers import as_run, make_doc, spread, write_run

cli = CliRunner()


def _run_doc(**fingerprint: Any) -> dict[str, Any]:
    """A pool fast once started but slow to start, against threads: total and makespan disagree."""
    doc = make_doc({("io", "pool"): spread(300, 5), ("io", "threads"): spread(290, 5)})
    for t in doc["trials"]:
        m = t["metrics"]
        m["throughput_total"] = m["throughput"] * (0.45 if t["strategy"] == "pool" else 0.97)
        m.update(setup_s=0.2, teardown_s=0.01, makespan_s=0.1, total_s=0.31)
    doc["fingerprint"].update(fingerprint)
    return doc


def _help(*args: str) -> str:
    result = cli.invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [c for c in COMMAND_ORDER if c != "baseline"] + ["baseline save"])
def test_help_names_values_for_people_not_types(command: str) -> None:
    text = _help(*command.split())
    assert not re.search(r"<(int|str|path|float|list\[|int range)", text), text
    assert not re.search(r"\{[A-Za-z_.]+\}", text), text  # typer's {file} for a required argument


def test_top_level_help_says_each_command_in_a_whole_sentence() -> None:
    text = _help().split("Commands:")[1]
    assert "..." not in text and "(e.g." not in text
    assert "best value and knee per strategy." in " ".join(text.split())


def test_compare_metric_help_lists_its_keys() -> None:
    text = " ".join(_help("compare").split())
    for key in ("throughput", "makespan", "p99", "efficiency", "rss", "wait_p99_ms"):
        assert key in text


def test_show_ranks_by_the_chosen_window(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", _run_doc())
    total = cli.invoke(app, ["show", str(run)], terminal_width=200)
    assert total.exit_code == 0, total.output
    assert "items/s (total)" in total.output and "ranked by items/s over the total window" in total.output
    assert re.search(r"★ threads", total.output)  # 5 v 5 repeats, separated: a clear winner
    makespan = cli.invoke(app, ["show", str(run), "--rank-by", "makespan"], terminal_width=200)
    assert "items/s (makespan)" in makespan.output and re.search(r"★ pool", makespan.output)
    assert "setup ms" in makespan.output and "teardown ms" in makespan.output and "failed" in makespan.output
    bad = cli.invoke(app, ["show", str(run), "--rank-by", "wall"])
    assert bad.exit_code == 2


def test_show_and_report_say_a_busy_machine_plainly(tmp_path: Path) -> None:
    quiet = write_run(tmp_path / "quiet", _run_doc())
    busy = write_run(tmp_path / "busy", _run_doc(effective_parallelism=0.45, load_average=[7.8, 6, 3]))
    assert "too busy" not in cli.invoke(app, ["show", str(quiet)], terminal_width=200).output
    out = " ".join(cli.invoke(app, ["show", str(busy)], terminal_width=200).output.split())
    assert "The machine was too busy to trust these timings (effective parallelism 0.45 of 2 usable cores" in out
    assert "Close other work and rerun" in out
    blocks = build(store.read_run(busy), busy, {})
    warn = [b for b in blocks if isinstance(b, Para) and b.tone == "warn" and "too busy" in b.text]
    assert len(warn) == 1


def test_show_groups_a_repeated_error_with_a_count(tmp_path: Path) -> None:
    doc = _run_doc()
    bad = next(t for t in doc["trials"] if not t["warmup"])
    bad.update(status="error", errors=["BrokenProcessPool: a child died"] * 10)
    out = cli.invoke(app, ["show", str(write_run(tmp_path / "r", doc))], terminal_width=300).output
    assert out.count("BrokenProcessPool") == 1 and "BrokenProcessPool: a child died (× 10)" in out


def test_compare_strict_refuses_before_printing_a_verdict(tmp_path: Path) -> None:
    base = write_run(tmp_path / "base", _run_doc())
    other = _run_doc()
    other["fingerprint"]["logical_cores"] = 8
    result = cli.invoke(app, ["compare", str(base), str(write_run(tmp_path / "other", other)), "--strict"])
    assert result.exit_code == 2
    assert "not like for like" in result.output and "logical cores" in result.output
    assert "no regression" not in result.output and "threads" not in result.output  # no table came first


def test_export_accepts_a_folder_of_runs_like_compare(tmp_path: Path) -> None:
    folder = tmp_path / "ci"
    write_run(folder / "20260101T000000Z-ci", _run_doc())
    newest = write_run(folder / "20260102T000000Z-ci", _run_doc())
    out = tmp_path / "bench.json"
    result = cli.invoke(app, ["export", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert str(newest) in result.output and out.is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.invoke(app, ["export", str(empty), "-o", str(out)]).exit_code == 2


def test_report_says_the_cpu_work_per_item_against_nominal() -> None:
    doc = _run_doc()
    doc["scenarios"]["io"]["definition"]["reader_work"] = {"kind": "cpu", "ms": 5.0, "gil": "hold"}
    for t in doc["trials"]:
        t["metrics"]["reader_work_cpu_ms"] = 5.1
    run = as_run(doc)
    blocks = scenario_section(run, "io", summarize(run), {}, {})
    text = to_markdown(blocks, Path("."))
    assert "reader work took **5.1 ms of CPU per item** (nominal 5)" in text
    assert "tree peak MB (PSS)" in text and "largest process MB (RSS)" in text


def test_a_fault_run_leads_with_its_matrix_and_groups_repeated_failures(tmp_path: Path) -> None:
    doc = copy.deepcopy(_run_doc())
    for i, t in enumerate(doc["trials"]):
        if t["strategy"] == "pool" and not t["warmup"]:  # the same failure, each with its own pid
            t.update(status="crashed", errors=["BrokenProcessPool: a child died"] * 3 + [f"reader-1 (pid {i}) exited"])
    doc["scenarios"]["io"]["definition"]["faults"] = {"reader_crash": 0.5}
    png = tmp_path / "survival.png"
    png.write_bytes(b"")
    blocks = build(Run.from_doc(doc), tmp_path, {"survival": png})  # "crashed": built as given, unchecked
    headings = [b.text for b in blocks if isinstance(b, Heading)]
    first_bullets = next(i for i, b in enumerate(blocks) if isinstance(b, Bullets))
    survival_at = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "Survival under faults")
    assert "Survival under faults" in headings and survival_at < first_bullets
    (bullet,) = blocks[first_bullets].items
    assert bullet.startswith("× 5 ") and "and 1 more" in bullet and "(× 3)" in bullet
    assert bullet.endswith("BrokenProcessPool: a child died (× 3); reader-1 exited")


class _Config:
    def __init__(self, option: str | None, ini: str) -> None:
        self.option, self.ini = option, ini

    def getoption(self, name: str, default: Any = None) -> Any:
        assert name == "queuebench_out"
        return self.option

    def getini(self, name: str) -> str:
        assert name == "queuebench_out"
        return self.ini


class _Tmp:
    def mktemp(self, name: str) -> Path:
        return Path("/pytest-tmp") / name


def test_the_fixture_writes_results_where_the_user_asks_else_to_pytest_tmp() -> None:
    from harness.pytest_plugin import queuebench_benchmark, results_dir

    def where(out: str | None, option: str | None, ini: str) -> Path:
        return results_dir(_Config(option, ini), _Tmp(), out)  # type: ignore[arg-type]

    assert where(None, None, "") == Path("/pytest-tmp/queuebench")  # nobody asked: pytest's tmp
    assert where(None, None, "results") == Path("results")  # the ini option
    assert where(None, "ci-runs", "results") == Path("ci-runs")  # --queuebench-out over the ini
    assert where("mine", "ci-runs", "results") == Path("mine")  # out= over everything
    doc = queuebench_benchmark.__wrapped__.__doc__ or ""  # type: ignore[attr-defined]
    assert "out=" in doc and "--queuebench-out" in doc and "queuebench_out = results" in doc


def test_plot_accepts_the_memory_and_window_metrics(tmp_path: Path) -> None:
    doc = _run_doc()
    for t in doc["trials"]:
        t["metrics"].update(tree_peak_mb=40.0 if t["strategy"] == "pool" else 12.0, largest_process_peak_mb=20.0)
    run = write_run(tmp_path / "run", doc)
    for metric in ("tree_peak_mb", "largest_process_peak_mb", "throughput_total"):
        out = tmp_path / f"{metric}.png"
        result = cli.invoke(app, ["plot", str(run), "--metric", metric, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.is_file()
    assert "tree_peak_mb" in " ".join(_help("plot").split())


def test_latency_plot_puts_a_strategy_with_no_queue_last_and_names_it(tmp_path: Path) -> None:
    from harness.presentation.figures import runs as plot_runs

    doc = make_doc({("io", "sequential"): spread(1.0, 3), ("io", "threads"): spread(20.0, 3)}, key="e2e_p99_ms")
    run = plot_runs.Run(write_run(tmp_path / "run", doc), as_run(doc), "run")
    fig = plot_runs.compare_figure(plot_runs.collect([run], "e2e_p99_ms", None), "run", "e2e_p99_ms", None, 1)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["threads", "sequential\n(no queue: not comparable)"]


def test_show_of_a_fault_run_leads_with_the_matrix_and_groups_failures(tmp_path: Path) -> None:
    doc = _run_doc()
    fault = {"outcome": "recovered", "injected": ["reader_die 0/3"], "delivered": 19, "lost": 1, "duplicated": 0,
             "failed_with_error": 1, "detection_s": 0.2, "leftover_processes": 0}  # fmt: skip
    for i, t in enumerate(doc["trials"]):
        t["faults"] = fault
        if t["strategy"] == "pool" and not t["warmup"]:
            t.update(status="failed", errors=[f"reader-1 (pid {i}) exited with code 1"])
    out = cli.invoke(app, ["show", str(write_run(tmp_path / "r", doc))], terminal_width=300).output
    assert out.index("survival matrix") < out.index("queuebench summary")
    (line,) = [ln for ln in out.splitlines() if "exited with code 1" in ln]
    assert line.startswith("failed × 5 io-pool-r0, io-pool-r1, io-pool-r2, io-pool-r3 and 1 more: reader-1 exited")


def test_a_tie_from_too_few_repeats_says_how_many_to_use(tmp_path: Path) -> None:
    doc = make_doc({("io", "sequential"): [800.0, 820.0], ("io", "threads"): [40.0, 60.0]})
    out = " ".join(cli.invoke(app, ["show", str(write_run(tmp_path / "r", doc))], terminal_width=250).output.split())
    assert "io: tie: sequential, threads (2 repeat(s): too few for any rank test to separate them; use -r 4" in out


def test_export_and_plot_write_into_the_run_directory_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not into wherever the command was typed: next to the run, and the one line says where."""
    folder = tmp_path / "ci"
    older = write_run(folder / "20260101T000000Z-ci", _run_doc())
    newest = write_run(folder / "20260102T000000Z-ci", _run_doc())
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for fmt in ("pytest-benchmark", "bencher"):
        result = cli.invoke(app, ["export", str(newest), "--format", fmt], terminal_width=400)
        assert result.exit_code == 0, result.output
        written = newest / f"queuebench-{fmt}.json"
        assert result.output.splitlines() == [f"wrote 2 benchmark(s) to {written}"], result.output
        assert json.loads(written.read_text())
    result = cli.invoke(app, ["export", str(folder)], terminal_width=400)  # a folder of runs: its newest
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"wrote 2 benchmark(s) to {newest / 'queuebench-pytest-benchmark.json'}"
    result = cli.invoke(app, ["plot", str(older), str(newest), "--normalize", "threads"], terminal_width=400)
    assert result.exit_code == 0, result.output
    figure = older / "queuebench-throughput_total-by-run-vs-threads.png"
    assert result.output.splitlines()[-1] == f"figure: {figure}" and figure.is_file()
    result = cli.invoke(app, ["plot", str(newest / "run.json"), "--metric", "total_s"], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"figure: {newest / 'queuebench-total_s-by-run.png'}"
    assert list(here.iterdir()) == []  # nothing in the current directory
    explicit = here / "x.json"  # -o still wins
    result = cli.invoke(app, ["export", str(newest), "-o", str(explicit)], terminal_width=400)
    assert result.exit_code == 0 and explicit.is_file(), result.output
