"""The report's verdict on each scenario, as blocks: which strategy to use (or which tie), and a
section per scenario with every figure of its summary row (:mod:`harness.analysis.summary`).

A strategy is crowned only when the repeats separate it from the runner-up
(:mod:`harness.analysis.ranking`); otherwise the report names the tie. Items/s, min–max and the lead
are over the window the summary was ranked by (``total`` unless ``--rank-by makespan``);
setup, makespan and teardown are shown beside it, and cpu∥ is over the total window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from harness.analysis.ranking import ALPHA, crown_level, min_repeats_for_a_verdict
from harness.analysis.summary import ranked, scenarios_of, tied, winner
from harness.presentation.blocks import Block, Bullets, Heading, Image, Para, Table
from harness.presentation.facts import workload_line
from harness.presentation.markdown import code, escape
from harness.presentation.numbers import ms, pct, si
from harness.rundir.model import Run
from strategies.registry import no_queue


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if math.isfinite(a) and math.isfinite(b) and b > 0 else "—"


def _cpu(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else "—"


def _mb(value: float) -> str:
    return (
        f"{value:,.0f}" if math.isfinite(value) and value >= 100 else (f"{value:.3g}" if math.isfinite(value) else "—")
    )


def recommendations(run: Run, summary: pd.DataFrame, busy: dict[tuple[str, str], float]) -> list[Block]:
    """One row per scenario: the clear winner and the measured reasons it wins, or the tie."""
    window = str(summary["rank_by"].iloc[0])
    rows, notes = [], []
    for scenario in scenarios_of(run):
        s = summary[summary["scenario"] == scenario].sort_values("rank", na_position="last")
        passed = s[s["rank"].notna()]
        if passed.empty:
            rows.append([escape(scenario), "no strategy passed every trial", "—", "—", "—", "—", "—", "—", "—"])
            continue
        best = passed.iloc[0]
        runner = passed.iloc[1] if len(passed) > 1 else None
        seq = passed[passed["strategy"] == "sequential"]
        group = tied(summary, scenario)
        use = f"★ **{escape(best.strategy)}**" if winner(summary, scenario) else f"tie: {escape(', '.join(group))}"
        lead = "—" if runner is None else f"{_ratio(best.throughput, runner.throughput)} {escape(runner.strategy)}"
        floor = "—" if seq.empty or best.strategy == "sequential" else _ratio(best.throughput, seq.iloc[0].throughput)
        p99 = ms(best.e2e_p99_ms) + (" (no queue)" if no_queue(best.strategy) else "")
        rows.append(
            [
                escape(scenario),
                use,
                si(best.throughput),
                lead,
                floor,
                pct(best.efficiency),
                pct(busy.get((scenario, best.strategy), math.nan)),
                p99,
                _cpu(best.cpu_parallelism),
            ]
        )
        if group:
            repeats, need = int(passed["ok"].min()), min_repeats_for_a_verdict(len(passed))
            more = (
                f" With {repeats} repeat(s) no rank test can separate them: rerun with -r {need} or more."
                if repeats < need
                else " Rerun with more repeats to separate them."
            )
            notes.append(
                f"**{escape(scenario)}**: {escape(', '.join(group))} are not distinguishable over the repeats "
                f"(one-sided Mann–Whitney against the best, p > {crown_level(len(passed)):.2g}): "
                f"choose on latency or CPU cost.{more}"
            )
    header = [
        "scenario",
        "use",
        f"items/s ({window})",
        "lead over the runner-up",
        "× sequential",
        f"eff. ({window})",
        "pool busy",
        "p99 ms",
        "cpu∥ (total)",
    ]
    return [
        Heading(2, "Which strategy to use"),
        Para(
            f"Ranked by median items/s over the **{window}** window among strategies whose every trial passed "
            "(total: the strategy's first step to its return, what you wait for; makespan: the start line to the "
            "last item done; choose with `--rank-by`). ★ marks a winner only when its repeats are distinguishable "
            "from every other strategy's (exact Mann–Whitney, each two-sided at "
            f"{ALPHA:g}: the best was picked before it was tested, so noise is crowned at most {ALPHA:g} of the "
            "time); otherwise the strategies not distinguishable from the best are a *tie*. Each is "
            "tested against the best on its own repeats, so a tie can skip a steadier strategy ranked between "
            "two tied ones. *lead over the runner-up* is the ratio of the medians, not a test: a large lead "
            "over few or noisy repeats can still be a tie. "
            f"*eff.* is the ideal makespan ÷ the measured {window} window; *pool busy* is the share of the pool's "
            "reader-time spent working (a bounded pool is only as fast as it is kept full); *p99* is end-to-end "
            "latency (*no queue*: items never wait, so it is not comparable); *cpu∥* is how many cores the trial kept "
            "busy over the total window."
        ),
        Table(header, rows, frozenset({2, 4, 5, 6, 7, 8})),
        *([Bullets(notes)] if notes else []),
    ]


def _work_line(summary_rows: pd.DataFrame, definition: Mapping[str, Any]) -> str | None:
    """'work took X ms of CPU per item (nominal Y)' for a cpu side, from the passing trials' medians."""
    parts = []
    for side, column in (("reader", "reader_work_cpu_ms"), ("writer", "writer_work_cpu_ms")):
        work = definition.get(f"{side}_work") or {}
        values = summary_rows[column].dropna()
        if work.get("kind") == "cpu" and len(values):
            parts.append(
                f"{side} work took **{float(values.median()):.3g} ms of CPU per item** (nominal {work.get('ms', 0):g})"
            )
    return "; ".join(parts) + "." if parts else None


def scenario_section(
    run: Run, scenario: str, summary: pd.DataFrame, pics: dict[str, Path], busy: dict[tuple[str, str], float]
) -> list[Block]:
    definition = run.scenarios[scenario].definition
    mine = summary[summary["scenario"] == scenario]
    window = str(summary["rank_by"].iloc[0])
    other = "makespan" if window == "total" else "total"  # the window the ranking did not use
    rows = []
    for name in ranked(summary, scenario):
        r = mine[mine["strategy"] == name].iloc[0]
        mark = {"best": "★ ", "tie": "tie "}.get(r["verdict"], "")
        rank = "—" if pd.isna(r["rank"]) else f"{mark}{int(r['rank'])}"
        conc = "—" if pd.isna(r["max_concurrency"]) else f"{int(r['max_concurrency'])}/{int(r['pool_size'])}"
        status = r["status"] if r["status"] == "ok" else f"**{r['status']}**"
        latency = " (no queue)" if no_queue(name) else ""
        rows.append(
            [
                rank,
                escape(name),
                si(r["throughput"]),
                f"{si(r['throughput_min'])}–{si(r['throughput_max'])}",
                si(r[f"throughput_{other}"]),
                ms(r["setup_s"] * 1000),
                ms(r["makespan_s"] * 1000),
                ms(r["teardown_s"] * 1000),
                ms(r["e2e_p50_ms"]),
                ms(r["e2e_p99_ms"]) + latency,
                pct(r[f"efficiency_{window}"]),
                pct(r[f"efficiency_{other}"]),
                pct(busy.get((scenario, name), math.nan)),
                _cpu(r["cpu_parallelism"]),
                _mb(r["tree_peak_mb"]),
                _mb(r["largest_process_peak_mb"]),
                conc,
                str(int(r["failed"])),
                status,
            ]
        )
    blocks: list[Block] = [Heading(2, f"Scenario {code(scenario)}")]
    text = definition.get("description") or ""
    blocks.append(Para(f"{escape(text) + ' — ' if text else ''}{workload_line(definition)}."))  # the file's text
    if (work := _work_line(mine, definition)) is not None:
        blocks.append(Para(work))
    header = [
        "rank",
        "strategy",
        f"items/s ({window})",
        "min–max",
        f"items/s ({other})",
        "setup ms",
        "makespan ms",
        "teardown ms",
        "p50 ms",
        "p99 ms",
        f"eff. ({window})",
        f"eff. ({other})",
        "pool busy",
        "cpu∥ (total)",
        "tree peak MB (PSS)",
        "largest process MB (RSS)",
        "conc",
        "failed",
        "status",
    ]
    blocks.append(Table(header, rows, frozenset(range(2, 18))))
    blocks.append(
        Para(
            "Medians of the passing repeats (*failed*: repeats that did not pass; they never show an efficiency). "
            "*total* = setup + makespan + teardown. *tree peak*: the trial's whole process tree, PSS summed (a "
            "shared page counts once), sampled; *largest process*: its biggest single process, RSS (shared pages "
            "in full, so it can exceed the tree's PSS). *cpu∥*: CPU seconds ÷ wall seconds over the total window."
        )
    )
    for kind, alt in (("latency", "latency distributions"), ("concurrency", "busy readers over time")):
        if f"{kind}-{scenario}" in pics:
            blocks.append(Image(pics[f"{kind}-{scenario}"], f"{scenario}: {alt}"))
    return blocks
