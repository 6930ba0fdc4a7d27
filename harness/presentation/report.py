"""A run's report: ``report.md`` (GitHub-flavoured, fits a CI job summary), ``report.html``
(one self-contained file, figures embedded) and the PNG figures, next to the run or in DIR.

Both documents are rendered from one list of blocks (:mod:`harness.presentation.blocks`, built here from
:mod:`harness.presentation.sections`), so they always say the same thing, in the same order:
verdicts first (trials that did not pass, exceeded limits), then which strategy wins each
scenario and by how much, the figures, a ranked table per scenario, and the machine fingerprint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

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
from harness.presentation.markdown import code, escape, to_markdown
from harness.presentation.scenarios import recommendations, scenario_section
from harness.presentation.sections import machine_section, samples_note, survival_section, sweep_section, verdicts
from harness.rundir import store
from harness.rundir.model import Run
from harness.sweeps import findings as sweep


@dataclass(frozen=True)
class Written:
    markdown: Path
    html: Path
    figures: list[Path]


def missing_samples(run: Run, run_dir: Path) -> list[str]:
    """Measured trials whose samples file run.json names is not in the directory (e.g. a baseline
    saved without ``--with-samples``)."""
    return [t.id for t in run.measured if t.samples and not (Path(run_dir) / t.samples).is_file()]


def without_samples(run: Run, ids: list[str]) -> Run:
    """A copy of the run whose trials ``ids`` have no samples: every per-item figure skips them."""
    gone = set(ids)
    return dataclasses.replace(run, trials=tuple(t.without_samples() if t.id in gone else t for t in run.trials))


def _has_samples(run: Run, scenario: str) -> bool:
    return any(t.scenario == scenario and t.samples for t in run.measured)


def draw_figures(run: Run, run_dir: Path, out: Path, rank_by: str = DEFAULT_RANK_BY) -> dict[str, Path]:
    """Every figure of the run as a PNG in ``out``; keys name them (e.g. ``latency-io-bound``).
    Per-item figures (latency, concurrency) only for scenarios whose samples are present."""
    if not scenarios_of(run):
        return {}
    paths = {
        "throughput": save(figures.throughput_figure(run, rank_by), out / "throughput.png"),
        "efficiency": save(figures.efficiency_figure(run, rank_by), out / "efficiency.png"),
    }
    for name in scenarios_of(run):
        if not _has_samples(run, name):
            continue
        latency = sample_figures.latency_figure(run, run_dir, name, rank_by)
        paths[f"latency-{name}"] = save(latency, out / f"latency-{name}.png")
        busy = sample_figures.concurrency_figure(run, run_dir, name, rank_by)
        paths[f"concurrency-{name}"] = save(busy, out / f"concurrency-{name}.png")
    if has_faults(run):
        paths["survival"] = save(stress_figure.survival_figure(survival(run)), out / "survival.png")
    if run.sweep is not None:
        frame = sweep.results(run, rank_by)
        if not frame.empty:
            paths["sweep"] = sweep_plot.write(run, frame, sweep.findings(run, frame), out / "sweep.png")
    return paths


def build(
    run: Run,
    run_dir: Path,
    pics: dict[str, Path],
    missing: list[str] | None = None,
    rank_by: str = DEFAULT_RANK_BY,
) -> list[Block]:
    """The report's blocks; ``missing``: measured trials whose samples are not in the run directory."""
    summary = summarize(run, rank_by)
    busy_machine = run_warning(run)
    blocks: list[Block] = [
        Heading(1, f"queuebench report · {escape(Path(run_dir).resolve().name)}"),
        Para(f"{code(fingerprint_line(run.machine))} · started {run.started_at} · status {run.status}"),
    ]
    if "survival" in pics:  # a fault run: how each strategy ended leads, before the list of failures
        blocks += survival_section(survival(run), pics)
    blocks += verdicts(run)
    if busy_machine:  # right after what went wrong: how far the timings below can be trusted
        blocks.append(Para(f"**{escape(busy_machine)}**", "warn"))
    if summary.empty:
        warmups = len(run.trials) - len(run.measured)
        so_far = f" (only {warmups} warmup trial(s) ran)" if warmups else ""
        return [
            *blocks,
            Para(f"No measured trials in this run{so_far}: nothing to rank or draw."),
            *machine_section(run),
        ]
    blocks += samples_note(run, run_dir, missing or [])
    blocks += sweep_section(run, pics, rank_by)
    busy = pool_busy(run, run_dir)
    blocks += recommendations(run, summary, busy)
    blocks += interpreters.section(run, str(summary["rank_by"].iloc[0]))  # several --python: side by side
    blocks.append(Heading(2, "Figures"))
    for key, alt in (("throughput", "throughput per strategy"), ("efficiency", "efficiency and CPU parallelism")):
        if key in pics:
            blocks.append(Image(pics[key], alt))
    for scenario in scenarios_of(run):
        blocks += scenario_section(run, scenario, summary, pics, busy)
    return [*blocks, *machine_section(run)]


def write_report(run_dir: Path, out: Path | None = None, rank_by: str = DEFAULT_RANK_BY) -> Written:
    """Read a run, draw its figures and write report.md and report.html; raises errors.RunDirError."""
    run_dir = Path(run_dir)
    run = store.read_run(run_dir)
    out = Path(out) if out is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    missing = missing_samples(run, run_dir)
    run = without_samples(run, missing)
    pics = draw_figures(run, run_dir, out, rank_by)
    blocks = build(run, run_dir, pics, missing, rank_by)
    md, page = out / "report.md", out / "report.html"
    store.atomic_write(md, to_markdown(blocks, out).encode())
    store.atomic_write(page, to_html(blocks, f"queuebench report · {run_dir.resolve().name}").encode())
    return Written(md, page, list(pics.values()))
