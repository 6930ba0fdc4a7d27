"""Reports and figures, drawn from real small runs and checked through matplotlib's objects."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from typer.testing import CliRunner

from harness.analysis import metrics, trust
from harness.analysis.summary import ranked, summarize
from harness.cli import app
from harness.presentation import report
from harness.presentation.figures import run as figures
from harness.presentation.figures import runs as plot_runs
from harness.presentation.figures import samples as sample_figures
from harness.presentation.figures import style as figure_style
from harness.presentation.scenarios import no_queue
from harness.rundir import store
from harness.rundir.model import Run
from tests.helpers import SCENARIOS, START_METHODS

cli = CliRunner()
SMOKE = str(SCENARIOS / "smoke.toml")
POOL = 2  # smoke.toml's readers


def _run(out: Path, *args: str) -> tuple[int, str, Path]:
    result = cli.invoke(app, ["run", SMOKE, "-r", "2", "--warmup", "0", "--out", str(out), *args])
    (run_dir,) = out.iterdir()
    return result.exit_code, result.output, run_dir


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """`run --report` with two good strategies, one that loses an item and one over the pool limit."""
    out = tmp_path_factory.mktemp("failing")
    strategies = ["-s", "threads", "-s", "sequential", "-s", "test-lose", "-s", "test-overlimit"]
    return _run(out, *strategies, "--start-method", START_METHODS[0], "--report")


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("passing")
    code, output, run_dir = _run(out, "-s", "threads", "-s", "sequential", "--start-method", START_METHODS[-1])
    assert code == 0, output
    return run_dir


def _doc(run_dir: Path) -> Run:
    return store.read_run(run_dir)


def _labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_run_report_writes_markdown_html_and_figures(failing: tuple[int, str, Path]) -> None:
    """`queuebench run --report` writes the report next to the run, and still exits 1 on a failed trial."""
    code, output, run_dir = failing
    assert code == 1, output
    assert f"report: {run_dir / 'report.html'}" in output.replace("\n", "")
    names = {
        "report.md",
        "report.html",
        "throughput.png",
        "efficiency.png",
        "latency-smoke.png",
        "concurrency-smoke.png",
    }
    assert names <= {p.name for p in run_dir.iterdir()}
    for png in run_dir.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_markdown_states_failures_first_then_the_ranked_table(failing: tuple[int, str, Path]) -> None:
    """The first call-out is the failure verdict, naming the exceeded limit; the table ranks the rest."""
    md = (failing[2] / "report.md").read_text(encoding="utf-8")
    quotes = [line for line in md.splitlines() if line.startswith("> ")]
    assert quotes[0] == (
        "> **4 of 8 trials did not pass**; **the reader limit was exceeded in 2**. Their strategies are not ranked."
    )
    assert md.index("did not pass") < md.index("## Which strategy to use") < md.index("## Scenario `smoke`")
    assert "**reader limit exceeded: 3 busy, pool of 2**" in md
    assert "exactly-once broken: lost 1" in md
    assert (
        "| rank | strategy | items/s (total) | min–max | items/s (makespan) | setup ms | makespan ms | teardown ms "
        "| p50 ms | p99 ms | eff. (total) | eff. (makespan) | pool busy | cpu∥ (total) | tree peak MB (PSS) "
        "| largest process MB (RSS) | conc | failed | status |"
    ) in md
    rows = [
        line for line in md.split("## Scenario `smoke`")[1].split("## Machine")[0].splitlines() if line.startswith("| ")
    ][2:]
    assert [r.split(" | ")[1] for r in rows[:2]] in (["threads", "sequential"], ["sequential", "threads"])
    assert rows[0].startswith("| tie 1 |") and rows[1].startswith("| tie 2 |")  # 2 repeats: a tie
    assert len(rows) == 4 and {r.split(" | ")[1] for r in rows[2:]} == {"test-lose", "test-overlimit"}
    assert all(r.startswith("| — |") and "**failed 2/2**" in r for r in rows[2:])
    for png in ("throughput.png", "efficiency.png", "latency-smoke.png", "concurrency-smoke.png"):
        assert f"]({png})" in md
    assert "CPython" in md and "## Machine" in md


class _Page(HTMLParser):
    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")
        elif tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_embeds_every_figure(failing: tuple[int, str, Path]) -> None:
    run_dir = failing[2]
    page = _Page()
    page.feed((run_dir / "report.html").read_text(encoding="utf-8"))
    page.close()
    assert page.stack == []
    prefix = "data:image/png;base64,"
    assert len(page.images) == 4 and all(src.startswith(prefix) for src in page.images)
    embedded = {base64.b64decode(src[len(prefix) :]) for src in page.images}
    assert embedded == {p.read_bytes() for p in run_dir.glob("*.png")}
    text = " ".join(page.text)
    assert text.index("4 of 8 trials did not pass") < text.index("Which strategy to use")


def test_passing_run_report_says_all_passed(passing: Path, tmp_path: Path) -> None:
    written = report.write_report(passing, tmp_path / "elsewhere")
    md = written.markdown.read_text(encoding="utf-8")
    assert written.markdown.parent == tmp_path / "elsewhere" and len(written.figures) == 4
    first = next(line for line in md.splitlines() if line.startswith("> "))
    assert first.startswith("> **All 4 trials passed**")
    assert "| smoke | tie: threads, sequential |" in md  # 2 repeats each: no rank test can separate them


def test_throughput_figure_shows_every_repeat(failing: tuple[int, str, Path]) -> None:
    doc = _doc(failing[2])
    fig = figures.throughput_figure(doc)
    (ax,) = fig.axes
    labels = _labels(fig)
    assert labels[0].startswith("tie · ") and labels[0].endswith("/s")  # 2 repeats: never a clear winner
    assert {label.removeprefix("tie · ").split()[0] for label in labels[:2]} == {"threads", "sequential"}
    assert sorted(label.split()[0] for label in labels[2:]) == ["test-lose", "test-overlimit"]
    assert all(label.endswith("failed 2/2") for label in labels[2:])
    dots = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    good = [c for c in dots if c.get_label() in ("threads", "sequential")]
    assert sorted(len(c.get_offsets()) for c in good) == [2, 2]  # one dot per repeat
    for c in good:
        assert to_hex(c.get_facecolor()[0]) == figure_style.strategy_colour(c.get_label()).lower()
    failed = [c for c in dots if to_hex(c.get_facecolor()[0]) == figure_style.FAIL_COLOUR.lower()]
    assert sum(len(c.get_offsets()) for c in failed) == 4  # every failed trial marked
    assert ax.get_xlabel().startswith("items per second") and ax.get_title(loc="left") == "smoke"


def test_latency_figure_has_three_log_panels_one_curve_per_strategy(failing: tuple[int, str, Path]) -> None:
    doc = _doc(failing[2])
    fig = sample_figures.latency_figure(doc, failing[2], "smoke")
    panels = fig.axes
    assert [ax.get_title(loc="left").split(" (")[0] for ax in panels] == ["queue wait", "service", "end to end"]
    strategies = {"threads", "sequential", "test-lose", "test-overlimit"}
    for ax in panels:
        assert ax.get_xscale() == "log" and "milliseconds" in ax.get_xlabel()
        curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert {line.get_label() for line in curves} == strategies
        for line in curves:
            assert line.get_color() == figure_style.strategy_colour(str(line.get_label()))
            assert line.get_ydata()[-1] == pytest.approx(1.0)  # an ECDF ends at 1
    legend = fig.legends[0]
    best_first = ranked(summarize(doc), "smoke")
    queued = [n for n in best_first if not no_queue(n)]  # best first; strategies with no queue last, named so
    unqueued = [f"{n} (no queue:\nnot comparable)" for n in best_first if no_queue(n)]
    assert "sequential (no queue:\nnot comparable)" in unqueued and "threads" in queued
    assert [t.get_text() for t in legend.get_texts()] == queued + unqueued
    (seq,) = [ln for ln in panels[0].get_lines() if ln.get_label() == "sequential"]
    assert seq.get_linestyle() == "--"


def test_concurrency_figure_draws_the_pool_limit_and_the_overrun(failing: tuple[int, str, Path]) -> None:
    run_dir = failing[2]
    doc = _doc(run_dir)
    fig = sample_figures.concurrency_figure(doc, run_dir, "smoke")
    assert len(fig.axes) == 4
    peaks = {}
    for ax in fig.axes:
        limits = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert len(limits) == 1 and list(limits[0].get_ydata()) == [POOL, POOL]
        (busy,) = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("busy readers")]
        name = str(busy.get_label())[len("busy readers (") : -1]
        peaks[name] = int(np.max(np.asarray(busy.get_ydata())))
        if name == "test-overlimit":
            assert "LIMIT EXCEEDED" in ax.get_title(loc="left")
    assert peaks == {"threads": 2, "sequential": 1, "test-lose": 1, "test-overlimit": 3}
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()][-1] == "pool limit (2 readers)"


def test_busy_readers_matches_the_trial_metric(failing: tuple[int, str, Path]) -> None:
    run_dir = failing[2]
    for trial in _doc(run_dir).trials:
        records = store.load_samples(run_dir, trial)
        _times, busy = metrics.busy_readers(records, int(records[:, 4].min()))
        assert busy.max() == trial.metric("max_concurrency")
        assert busy[-1] == 0


def test_efficiency_figure_is_one_matrix_row_per_scenario_and_shows_no_efficiency_for_failures(
    failing: tuple[int, str, Path],
) -> None:
    """Scenarios x strategies: passing medians in the cells; a failed strategy shows no efficiency, only
    its count of failed repeats; a busy machine is said on the figure."""
    doc = _doc(failing[2])
    fig = figures.efficiency_figure(doc)
    eff, cpu = fig.axes
    assert eff.get_title(loc="left").startswith("efficiency") and "total window" in cpu.get_title(loc="left")
    assert [t.get_text() for t in eff.get_yticklabels()] == ["smoke"]
    names = [t.get_text() for t in eff.get_xticklabels()]
    cells = dict(zip(names, [t.get_text() for t in eff.texts], strict=True))
    assert cells["test-lose"].startswith("—") and "2 failed" in cells["test-lose"]
    assert cells["test-overlimit"].startswith("—") and "2 failed" in cells["test-overlimit"]  # never above 100%
    assert cells["threads"].endswith("%") and "failed" not in cells["threads"]
    busy = trust.run_warning(doc)
    note = fig.get_supxlabel() if fig._supxlabel is not None else ""
    assert ("The machine was busy" in note) == (busy is not None)
    busy_fp = dataclasses.replace(doc.machine, effective_parallelism=0.4, usable_cores=2)
    note = figures.efficiency_figure(dataclasses.replace(doc, fingerprint=busy_fp))._supxlabel
    assert note is not None and "effective parallelism 0.4 of 2 usable cores" in note.get_text()


def test_strategy_colour_is_fixed_and_distinct() -> None:
    shipped = ["seed-pool", "manager-pool", "mp-queue", "process-pool", "threads", "asyncio", "sequential"]
    colours = [figure_style.strategy_colour(n) for n in shipped]
    assert len(set(colours)) == len(shipped)
    assert figure_style.strategy_colour("threads") == "#0072B2"
    assert figure_style.strategy_colour("my-own") == figure_style.strategy_colour("my-own")
    assert figure_style.strategy_colour("my-own").startswith("#")


def test_plot_by_start_method_and_normalized(failing: tuple[int, str, Path], passing: Path, tmp_path: Path) -> None:
    """Two runs in one figure, grouped by start method; normalized, the reference sits at 1 in each run."""
    runs = [failing[2], passing]
    out = tmp_path / "by.png"
    result = cli.invoke(
        app, ["plot", *map(str, runs), "--by", "start-method", "--normalize", "threads", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    methods = list(dict.fromkeys([START_METHODS[0], START_METHODS[-1]]))
    assert f"grouped by start-method: {methods[0]} (" in result.output
    loaded = plot_runs.load_runs(runs, "start-method")
    frame = plot_runs.collect(loaded, "throughput", "threads")
    ref = frame[frame["strategy"] == "threads"].groupby("run")["value"].median()
    assert list(ref) == [pytest.approx(1.0), pytest.approx(1.0)]
    assert set(frame.dropna()["strategy"]) == {"threads", "sequential"}  # failed trials carry no value
    fig = plot_runs.compare_figure(frame, "start-method", "throughput", "threads", len(loaded))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] and ax.get_title(loc="left") == "smoke"
    assert any(list(ln.get_xdata()) == [1.0, 1.0] for ln in ax.get_lines())  # the reference line
    assert [t.get_text() for t in fig.legends[0].get_texts()] == methods
    assert "relative to threads" in fig.get_suptitle()


def test_plot_refuses_runs_with_different_definitions(passing: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(passing, other)
    doc = json.loads((other / "run.json").read_text())
    doc["scenarios"]["smoke"]["definition"]["readers"] = 3
    doc["scenarios"]["smoke"]["definition"]["repeats"] = 9  # not part of the workload: ignored
    (other / "run.json").write_text(json.dumps(doc))
    result = cli.invoke(app, ["plot", str(passing), str(other), "--by", "run", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: scenario 'smoke' is defined differently in {passing} and {other} (differs in: readers); "
        "compare like with like, or pass --split-mismatched"
    )
    result = cli.invoke(
        app, ["plot", str(passing), str(other), "--by", "run", "--split-mismatched", "-o", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 0, result.output
    frame = plot_runs.collect(plot_runs.load_runs([passing, other], "run"), "throughput", None, split=True)
    assert list(dict.fromkeys(frame["facet"])) == ["smoke (definition 1 of 2)", "smoke (definition 2 of 2)"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "{missing}"], "error: '{missing}' is neither a run directory nor a saved baseline"),
        (["report", "{empty}"], "error: {empty}: no run.json here"),
        (["plot"], "error: give at least one run directory"),
        (["plot", "{run}", "--by", "colour"], "error: unknown --by 'colour'; choose one of: platform, python,"),
        (["plot", "{run}", "--normalize", "nope"], "error: --normalize nope: no such strategy in these runs"),
        (["plot", "{run}", "--metric", "speed"], "error: unknown metric 'speed'; choose one of: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(passing: Path, tmp_path: Path, args: list[str], message: str) -> None:
    names = {"missing": str(tmp_path / "missing"), "empty": str(tmp_path), "run": str(passing)}
    result = cli.invoke(app, [a.format(**names) for a in args])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith(message.format(**names))


def test_figure_lines_are_labelled(failing: tuple[int, str, Path]) -> None:
    """Every figure has a title, every panel a title, and some axis a label."""
    run_dir = failing[2]
    doc = _doc(run_dir)
    for fig in (
        figures.throughput_figure(doc),
        sample_figures.latency_figure(doc, run_dir, "smoke"),
        sample_figures.concurrency_figure(doc, run_dir, "smoke"),
        figures.efficiency_figure(doc),
    ):
        assert fig.get_suptitle()
        assert all(ax.get_title(loc="left") for ax in fig.axes)
        assert any(ax.get_xlabel() for ax in fig.axes), fig.get_suptitle()


def test_report_of_a_run_without_measured_trials(passing: Path, tmp_path: Path) -> None:
    """An interrupted run with nothing measured still gets a report that says so, and no figures."""
    empty = tmp_path / "empty"
    shutil.copytree(passing, empty)
    doc = json.loads((empty / "run.json").read_text())
    doc.update(status="incomplete", trials=[])
    (empty / "run.json").write_text(json.dumps(doc))
    result = cli.invoke(app, ["report", str(empty)])
    assert result.exit_code == 0, result.output
    md = (empty / "report.md").read_text(encoding="utf-8")
    assert "**The run is incomplete**" in md and "No measured trials in this run" in md
    assert "![" not in md and not list(empty.glob("*.png")) and "trials passed" not in md


def test_pool_busy_is_the_share_of_reader_time_used(failing: tuple[int, str, Path]) -> None:
    """One reader at a time can fill at most 1/pool of the pool; a strategy over the limit can exceed 100%."""
    busy = metrics.pool_busy(_doc(failing[2]), failing[2])
    # Medians of the passing repeats only: test-lose and test-overlimit never passed (the audit found
    # 47–73% "pool busy" for strategies with no passing repeat, under a footnote saying otherwise).
    assert set(busy) == {("smoke", s) for s in ("threads", "sequential")}
    assert 0 < busy[("smoke", "sequential")] <= 1 / POOL
    assert 0 < busy[("smoke", "threads")] <= 1


def _copy(run_dir: Path, dest: Path, **changes: Any) -> Path:
    """A copy of a run with run.json's top-level fields changed."""
    shutil.copytree(run_dir, dest)
    doc = json.loads((dest / "run.json").read_text())
    doc.update(changes)
    (dest / "run.json").write_text(json.dumps(doc))
    return dest


def test_report_of_a_baseline_saved_without_samples(passing: Path, tmp_path: Path) -> None:
    """A baseline keeps run.json only: the report is still written, says so, and leaves out per-item figures."""
    from harness.gate import baseline

    saved = baseline.save(passing, "nosamples", tmp_path / "results")
    assert not (saved / "samples").exists()
    result = cli.invoke(app, ["report", str(saved)])
    assert result.exit_code == 0, result.output
    assert "2 figure(s)" in result.output.replace("\n", "")
    md = (saved / "report.md").read_text(encoding="utf-8")
    assert "> **The per-item samples are not here**: none of the 4 measured trials" in md
    assert "a baseline saved without `--with-samples`" in md and "pool-busy" in md
    assert {p.name for p in saved.glob("*.png")} == {"throughput.png", "efficiency.png"}
    assert "latency-" not in md and "concurrency-" not in md
    assert "| smoke | tie: threads, sequential |" in md  # still ranked, from run.json (2 repeats: a tie)
    table = md.split("## Scenario `smoke`")[1].split("## Machine")[0]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ")][2:]
    assert len(rows) == 2 and all(r[12] == "—" for r in rows)  # pool busy needs the samples


def test_report_with_some_samples_missing_draws_from_the_rest(passing: Path, tmp_path: Path) -> None:
    run = _copy(passing, tmp_path / "partial")
    doc = store.load_run(run)
    (run / doc["trials"][0]["samples"]).unlink()
    written = report.write_report(run)
    md = written.markdown.read_text(encoding="utf-8")
    assert "**Samples missing for 1 of 4 measured trials**" in md
    assert "](latency-smoke.png)" in md and "](concurrency-smoke.png)" in md


def test_report_of_a_run_stopped_during_warmup(passing: Path, tmp_path: Path) -> None:
    """Only warmup trials ran: the report says nothing is measured yet, never that all passed."""
    doc = store.load_run(passing)
    warm = [{**t, "warmup": True} for t in doc["trials"]]
    run = _copy(passing, tmp_path / "warm", status="incomplete", trials=warm)
    result = cli.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    md = (run / "report.md").read_text(encoding="utf-8")
    assert "**No measured trials yet**: only 4 warmup trial(s) ran" in md
    assert "**The run is incomplete**" in md and "No measured trials in this run (only 4 warmup" in md
    assert "trials passed" not in md and "![" not in md


def test_report_of_a_sweep_includes_the_sweep_figure_and_table(tmp_path: Path) -> None:
    args = ["sweep", SMOKE, "--vary", "readers=1,2", "-s", "threads", "-s", "sequential", "-r", "1"]
    result = cli.invoke(app, [*args, "--warmup", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    written = report.write_report(run, tmp_path / "rep")
    md = written.markdown.read_text(encoding="utf-8")
    assert tmp_path / "rep" / "sweep.png" in written.figures
    assert "## Sweep of `smoke` over readers" in md and "](sweep.png)" in md
    assert "| strategy | readers=1 | 2 |" in md
    assert "- threads: knee readers = " in md
    assert md.index("## Sweep") < md.index("## Which strategy to use")


def test_throughput_panel_without_a_passing_trial_says_so(passing: Path) -> None:
    doc = store.load_run(passing)
    gone = {"throughput": None, "makespan_s": None, "efficiency": None}
    doc["trials"] = [{**t, "status": "timeout", "metrics": {**t["metrics"], **gone}} for t in doc["trials"]]
    (ax,) = figures.throughput_figure(Run.from_doc(doc)).axes
    assert "no passing trial (every trial timed out)" in [t.get_text() for t in ax.texts]
    assert list(ax.get_xticks()) == []


def test_latency_axes_are_consistent_and_readable(passing: Path) -> None:
    fig = sample_figures.latency_figure(store.read_run(passing), passing, "smoke")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["0%", "25%", "50% (p50)", "75%", "90% (p90)", "99% (p99)"]
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        shown = [t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
        assert len(shown) >= 3, ax.get_title(loc="left")


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0.003, 20, [0.01, 0.1, 1.0, 10.0]),
        (0.9, 18, [1.0, 2.0, 5.0, 10.0]),
        (1.05, 1.85, [1.25, 1.5, 1.75]),
        (1.05, 1.5, [1.1, 1.2, 1.3, 1.4, 1.5]),
        (0.9, 2.5, [0.9, 1.0, 2.0]),
    ],
)
def test_log_ticks_label_at_least_three(lo: float, hi: float, expected: list[float]) -> None:
    assert figure_style.log_ticks(lo, hi) == pytest.approx(expected)


def test_plot_refuses_an_unknown_figure_format_up_front(passing: Path, tmp_path: Path) -> None:
    for name, message in (
        ("x.txt", "format '.txt' is not supported; use a file name ending in .png, .svg, .pdf"),
        ("noext", "no file extension is not supported"),
    ):
        result = cli.invoke(app, ["plot", str(passing), "--out", str(tmp_path / name)])
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert result.output.startswith(f"error: --out {tmp_path / name}: {message}")
    result = cli.invoke(app, ["plot", str(passing), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.output
    result = cli.invoke(app, ["plot", str(passing), "--out", str(tmp_path / "f.svg")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")


def test_report_out_must_be_a_directory(passing: Path, tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    for out, tail in ((file, "not a directory;"), (file / "sub", f"not a directory ({file} is a file);")):
        result = cli.invoke(app, ["report", str(passing), "--out", str(out)])
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert result.output.startswith(f"error: --out {out}: {tail}")


def test_paths_and_errors_are_never_markup(passing: Path, tmp_path: Path) -> None:
    """Rich markup in a path, Markdown/HTML in a trial's errors: printed and written literally."""
    doc = store.load_run(passing)
    errors = ["[red]boom[/] in `<module>` **x** _y_"]
    trials = [{**doc["trials"][0], "status": "failed", "errors": errors}, *doc["trials"][1:]]
    run = _copy(passing, tmp_path / "run[bold red]x", trials=trials)
    out = tmp_path / "out[bold]"
    result = cli.invoke(app, ["report", str(run), "--out", str(out)], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert r"\[red\]boom\[/\] in \`\<module\>\` \*\*x\*\* \_y\_" in md
    assert "# queuebench report · run\\[bold red\\]x\n" in md
    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    assert errors[0] in "".join(page.text) and "run[bold red]x" in " ".join(page.text)
    result = cli.invoke(app, ["plot", str(run), "--out", str(out / "p[red].png")], terminal_width=400)
    assert result.exit_code == 0, result.output
    assert (
        "grouped by run: run[bold red]x (1 run)" in result.output and f"figure: {out / 'p[red].png'}" in result.output
    )


def test_run_header_says_what_effective_parallelism_means(failing: tuple[int, str, Path]) -> None:
    """The header's figure comes with its meaning; a busy machine is warned about before the table too."""
    text = " ".join(failing[1].split())
    assert "usable cores (how many cores a burst of CPU work got just now; ideally all of them)" in text
    busy = trust.run_warning(_doc(failing[2]))
    assert ("the machine was too busy to trust these timings: " in text) == (busy is not None)
