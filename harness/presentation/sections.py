"""The sections of a run's report, as blocks (:mod:`harness.presentation.blocks`): what went wrong, which
strategy to use, a section per scenario, the sweep, the survival matrix and the machine.

Sections only decide what to say; :mod:`harness.presentation.markdown` and :mod:`harness.presentation.html`
decide how it looks. Outside text (errors, paths, labels) goes through
:func:`harness.presentation.markdown.escape`.
"""

from __future__ import annotations

import math
from pathlib import Path

from harness.analysis.errors_digest import MAX_IDS, grouped, without_pids
from harness.analysis.survival import LEGEND, Survival
from harness.gate.baseline import read_meta
from harness.presentation.blocks import Block, Bullets, Heading, Image, Para, Table
from harness.presentation.markdown import code, escape
from harness.presentation.numbers import pivot_rows, si
from harness.presentation.survival import survival_block
from harness.rundir.model import Run, Trial
from harness.sweeps import answer as sweep_answer
from harness.sweeps import findings as sweep
from harness.sweeps import notes as sweep_notes
from harness.sweeps import usl as sweep_usl
from harness.sweeps import verdict as sweep_verdict

MAX_WHY = 300  # characters of a trial's errors in the verdict list (run.json holds them all)


def _exceeded(trial: Trial) -> bool:
    busy, pool = trial.metric("max_concurrency"), trial.metric("pool_size")  # counts: never null
    return bool(trial.metrics) and (busy or 0) > (math.inf if pool is None else pool)


def verdicts(run: Run) -> list[Block]:
    """What went wrong, first: trials that did not pass (exceeded limits named), an unfinished run."""
    trials = run.trials
    measured = run.measured
    bad = [t for t in trials if not t.ok]
    blocks: list[Block] = []
    if bad:
        over = [t for t in bad if _exceeded(t)]
        limit = f"; **the reader limit was exceeded in {len(over)}**" if over else ""
        blocks.append(
            Para(
                f"**{len(bad)} of {len(trials)} trials did not pass**{limit}. Their strategies are not ranked.",
                "bad",
            )
        )
        groups: dict[str, list[str]] = {}  # one bullet per distinct finding, with its trials
        for t in bad:
            m = t.metrics
            flag = (
                f"**reader limit exceeded: {m['max_concurrency']} busy, pool of {m['pool_size']}** · "
                if t in over
                else ""
            )
            why = "; ".join(grouped(without_pids(e) for e in t.errors)) or "no detail recorded"
            why = escape(why if len(why) <= MAX_WHY else why[: MAX_WHY - 1] + "…")
            groups.setdefault(f"{flag}**{t.status}**: {why}", []).append(
                f"`{t.id}`" + (" (warmup)" if t.warmup else "")
            )
        items = []
        for text, ids in groups.items():
            shown = ", ".join(ids[:MAX_IDS]) + (f" and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else "")
            count = f"× {len(ids)} " if len(ids) > 1 else ""
            items.append(f"{count}{shown} — {text}")
        blocks.append(Bullets(items))
    if run.status != "complete":
        blocks.append(Para(f"**The run is {run.status}**: it stopped early; only finished trials are shown.", "warn"))
    if trials and not measured:
        blocks.append(
            Para(
                f"**No measured trials yet**: only {len(trials)} warmup trial(s) ran, and warmups are not "
                "measured; nothing can be ranked or said to have passed.",
                "warn",
            )
        )
    elif measured and not bad:
        blocks.append(
            Para(
                f"**All {len(trials)} trials passed**: every item was consumed exactly once "
                "and no pool ever ran more readers than its limit.",
                "ok",
            )
        )
    return blocks + _measurement_caveats(run)


def _measurement_caveats(run: Run) -> list[Block]:
    """Warn when the ideal makespan was computed from a parallelism the machine then exceeded."""
    effs = [t.metrics.get("efficiency") for t in run.trials if t.ok]
    above = [e for e in effs if isinstance(e, float) and e > 1.05]
    if not above:
        return []
    fp = run.machine
    load = " ".join(str(x) for x in fp.load_average or ()) or "unknown"
    return [
        Para(
            f"**Efficiency above 100% in {len(above)} passing trial(s)** (up to {max(above):.0%}): the ideal "
            f"makespan spreads cpu work over all {fp.usable_cores} usable cores, using the cpu-work "
            "calibration made once at the start of the run; a few percent over 100% is that calibration's noise "
            f"(load average at the start: {load}). Compare strategies with each other there, not with 100%.",
            "warn",
        )
    ]


def machine_section(run: Run) -> list[Block]:
    fp = run.machine
    gil = "on" if fp.python.get("gil_enabled", True) else "off"
    pkgs = ", ".join(f"{k} {v}" for k, v in fp.packages.items())
    rows = [
        ["host", fp.host if fp.host is not None else "—"],
        ["system", f"{fp.os} {fp.os_release} ({fp.arch})"],
        ["CPU", f"{fp.cpu_model}"],
        ["cores", f"{fp.logical_cores} logical, {fp.physical_cores} physical, {fp.usable_cores} usable"],
        ["effective parallelism", f"{fp.effective_parallelism} (measured at the start of the run)"],
        ["memory", f"{fp.memory_gb} GB"],
        ["load average", " ".join(map(str, fp.load_average or ())) or "—"],
        [
            "worker Python",
            f"{fp.python_implementation} {fp.python_version} · {fp.python.get('build', '')} · GIL {gil}",
        ],
        ["start method", str(fp.start_method)],
        ["git commit", str(fp.git_commit or "—")],
        ["packages", pkgs or "—"],
    ]
    # The machine's facts are the run's text, not ours: literal, whatever a host or CPU name holds.
    return [Heading(2, "Machine"), Table(["property", "value"], [[f"**{k}**", escape(str(v))] for k, v in rows])]


def samples_note(run: Run, run_dir: Path, missing: list[str]) -> list[Block]:
    """Say plainly that per-item samples are not there, and what the report leaves out for it."""
    if not missing:
        return []
    have = sum(1 for t in run.measured if t.samples)
    measured = have + len(missing)
    meta = read_meta(run_dir)
    why = " (a baseline saved without `--with-samples`)" if meta is not None and not meta.get("samples") else ""
    where = escape(str(Path(run_dir) / "samples"))
    if not have:
        return [
            Para(
                f"**The per-item samples are not here**: none of the {len(missing)} measured trials has its "
                f"samples file in {where}{why}. The latency, concurrency and pool-busy figures and columns are "
                "left out; throughput, efficiency and the ranking come from run.json.",
                "warn",
            )
        ]
    return [
        Para(
            f"**Samples missing for {len(missing)} of {measured} measured trials** (not in {where}{why}): "
            "the latency, concurrency and pool-busy figures and columns use only the trials that have them.",
            "warn",
        )
    ]


def sweep_section(run: Run, pics: dict[str, Path], rank_by: str = "total") -> list[Block]:
    """A sweep run: median throughput and p99 per strategy against the swept parameter, best and knee."""
    record = run.sweep
    if record is None:
        return []
    frame = sweep.results(run, rank_by)
    if frame.empty:
        return []
    found = sweep.findings(run, frame)
    param = record.param
    throughput, p99 = (pivot_table(p) for p in sweep.pivots(run, frame, found))
    blocks: list[Block] = [
        Heading(2, f"Sweep of {code(record.scenario)} over {escape(param)}"),
        Para(
            f"Median items/s ({frame['rank_by'].iloc[0]} window) per strategy at each {param} "
            f"(★ best, where the repeats separate it from the next best {param}; ◆ knee: the smallest {param} "
            f"reaching {sweep.KNEE:.0%} of the best; ✗ a trial did not pass)."
        ),
        throughput,
        Para(f"Median p99 end-to-end latency, ms, at each {param}."),
        p99,
    ]
    lines = [escape(line) for f in found for line in f.lines()]
    lines += [escape(fit.line()) for fit in sweep_usl.fits(run, found, rank_by)]
    lines += [escape(line) for line in sweep_notes.notes(run, frame, found)]
    if lines:
        blocks.append(Bullets(lines))
    pushes = sweep_answer.answer(run, frame, found)
    if pushes is not None:  # the origin story's question, in its terms
        header = ["pool of N pushes", *(f"N={v}" if i == 0 else str(v) for i, v in enumerate(pushes.values))]
        rows = [
            [escape(s), *("✗" if c is None else "—" if math.isnan(c) else f"{c:.0f} s" for c in cells)]
            for s, cells in pushes.rows
        ]
        blocks += [
            Para(escape(pushes.title) + "."),
            Table(header, rows, frozenset(range(1, len(header)))),
            Bullets([escape(line) for line in pushes.lines]),
        ]
    if said := sweep_verdict.verdict(run, found, rank_by):
        blocks.append(Para(" ".join(f"**{escape(line)}**" if i == 0 else escape(line) for i, line in enumerate(said))))
    if "sweep" in pics:
        blocks.append(Image(pics["sweep"], f"throughput and p99 against {param}"))
    return blocks


def pivot_table(pivot: sweep.Pivot) -> Table:
    """A sweep pivot as a table block: the best and knee in bold, a point that did not pass crossed."""
    rows = [[escape(label), *texts] for label, texts in pivot_rows(pivot, "{} ✗", "**{}**")]
    if pivot.ideal is not None:
        rows.append(["*ideal bound* (items ÷ ideal makespan)", *(si(v) for v in pivot.ideal)])
    header = ["strategy", *(f"{pivot.param}={v}" if i == 0 else str(v) for i, v in enumerate(pivot.values))]
    return Table(header, rows, frozenset(range(1, len(header))))


def survival_section(matrix: Survival, pics: dict[str, Path]) -> list[Block]:
    """A fault run: how each strategy ended under each fault (comes before any speed)."""
    blocks: list[Block] = [Heading(2, "Survival under faults"), survival_block(matrix), Para(escape(LEGEND))]
    if "survival" in pics:
        blocks.append(Image(pics["survival"], "survival matrix"))
    return blocks
