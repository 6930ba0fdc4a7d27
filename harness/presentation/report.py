"""A run's report: ``report.md`` (GitHub-flavoured, fits a CI job summary), ``report.html``
(one self-contained file, figures embedded) and the PNG figures, next to the run or in DIR.

Both documents are rendered from one list of blocks (:mod:`harness.presentation.blocks`, built here from
:mod:`harness.presentation.sections`), so they always say the same thing, in the same order:
verdicts first (trials that did not pass, exceeded limits), then which strategy wins each
scenario and by how much, the figures, a ranked table per scenario, and the machine fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.analysis.metrics import pool_busy
from harness.analysis.summary import DEFAULT_RANK_BY, scenarios_of, summarize
from harness.analysis.survival import has_faults, survival
from harness.analysis.trust import run_warning
from harness.presentation import interpreters
from harness.presentation.blocks import Block, Heading, Image, Para
from harness.presentation.facts import fingerprint_line
from harness.presentation.figures import run as figures
from harness.presentation.figures import samples as sample_figures
from harness.presentation.figures import survival as stress_figure
from harness.presentation.figures import sweep as sweep_plot
from harness.presentation.figures.style import save
from harness.presentation.html import to_html
from harness.presentation.markdown import escape, to_markdown
from harness.presentation.scenarios import recommendations, scenario_section
from harness.presentation.sections import machine_section, samples_note, survival_section, sweep_section, verdicts
from harness.rundir import store
from harness.sweeps import findings as sweep


@dataclass(frozen=True)
class Written:
    markdown: Path
    html: Path
    figures: list[Path]


def missing_samples(doc: dict[str, Any], run_dir: Path) -> list[str]:
    """Measured trials whose samples file run.json names is not in the directory (e.g. a baseline
    saved without ``--with-samples``)."""
    return [
        t["id"]
        for t in doc["trials"]
        if not t.get("warmup") and t.get("samples") and not (Path(run_dir) / t["samples"]).is_file()
    ]


def without_samples(doc: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """A copy of the run whose trials ``ids`` have no samples: every per-item figure skips them."""
    gone = set(ids)
    trials = [{k: v for k, v in t.items() if k != "samples"} if t["id"] in gone else t for t in doc["trials"]]
    return {**doc, "trials": trials}


def _has_samples(doc: dict[str, Any], scenario: str) -> bool:
    return any(t["scenario"] == scenario and not t.get("warmup") and t.get("samples") for t in doc["trials"])


def draw_figures(doc: dict[str, Any], run_dir: Path, out: Path, rank_by: str = DEFAULT_RANK_BY) -> dict[str, Path]:
    """Every figure of the run as a PNG in ``out``; keys name them (e.g. ``latency-io-bound``).
    Per-item figures (latency, concurrency) only for scenarios whose samples are present."""
    if not scenarios_of(doc):
        return {}
    paths = {
        "throughput": save(figures.throughput_figure(doc, rank_by), out / "throughput.png"),
        "efficiency": save(figures.efficiency_figure(doc), out / "efficiency.png"),
    }
    for name in scenarios_of(doc):
        if not _has_samples(doc, name):
            continue
        latency = sample_figures.latency_figure(doc, run_dir, name, rank_by)
        paths[f"latency-{name}"] = save(latency, out / f"latency-{name}.png")
        busy = sample_figures.concurrency_figure(doc, run_dir, name, rank_by)
        paths[f"concurrency-{name}"] = save(busy, out / f"concurrency-{name}.png")
    if has_faults(doc):
        paths["survival"] = save(stress_figure.survival_figure(survival(doc)), out / "survival.png")
    if doc.get("sweep"):
        frame = sweep.results(doc, rank_by)
        if not frame.empty:
            paths["sweep"] = sweep_plot.write(doc, frame, sweep.findings(doc, frame), out / "sweep.png")
    return paths


def build(
    doc: dict[str, Any],
    run_dir: Path,
    pics: dict[str, Path],
    missing: list[str] | None = None,
    rank_by: str = DEFAULT_RANK_BY,
) -> list[Block]:
    """The report's blocks; ``missing``: measured trials whose samples are not in the run directory."""
    summary = summarize(doc, rank_by)
    busy_machine = run_warning(doc)
    blocks: list[Block] = [
        Heading(1, f"queuebench report · {escape(Path(run_dir).resolve().name)}"),
        Para(f"`{fingerprint_line(doc['fingerprint'])}` · started {doc.get('started_at')} · status {doc['status']}"),
    ]
    if "survival" in pics:  # a fault run: how each strategy ended leads, before the list of failures
        blocks += survival_section(survival(doc), pics)
    blocks += verdicts(doc)
    if busy_machine:  # right after what went wrong: how far the timings below can be trusted
        blocks.append(Para(f"**{escape(busy_machine)}**", "warn"))
    if summary.empty:
        warmups = sum(1 for t in doc["trials"] if t.get("warmup"))
        so_far = f" (only {warmups} warmup trial(s) ran)" if warmups else ""
        return [
            *blocks,
            Para(f"No measured trials in this run{so_far}: nothing to rank or draw."),
            *machine_section(doc),
        ]
    blocks += samples_note(doc, run_dir, missing or [])
    blocks += sweep_section(doc, pics, rank_by)
    busy = pool_busy(doc, run_dir)
    blocks += recommendations(doc, summary, busy)
    blocks += interpreters.section(doc, str(summary["rank_by"].iloc[0]))  # several --python: side by side
    blocks.append(Heading(2, "Figures"))
    for key, alt in (("throughput", "throughput per strategy"), ("efficiency", "efficiency and CPU parallelism")):
        if key in pics:
            blocks.append(Image(pics[key], alt))
    for scenario in scenarios_of(doc):
        blocks += scenario_section(doc, scenario, summary, pics, busy)
    return [*blocks, *machine_section(doc)]


def write_report(run_dir: Path, out: Path | None = None, rank_by: str = DEFAULT_RANK_BY) -> Written:
    """Read a run, draw its figures and write report.md and report.html; raises errors.RunDirError."""
    run_dir = Path(run_dir)
    doc = store.load_run(run_dir)
    out = Path(out) if out is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    missing = missing_samples(doc, run_dir)
    doc = without_samples(doc, missing)
    pics = draw_figures(doc, run_dir, out, rank_by)
    blocks = build(doc, run_dir, pics, missing, rank_by)
    md, page = out / "report.md", out / "report.html"
    store.atomic_write(md, to_markdown(blocks, out).encode())
    store.atomic_write(page, to_html(blocks, f"queuebench report · {run_dir.resolve().name}").encode())
    return Written(md, page, list(pics.values()))
