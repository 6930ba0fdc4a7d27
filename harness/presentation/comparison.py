"""How a comparison reads: a rich table for the terminal, blocks (rendered as Markdown) for a
CI summary; both share the cells of :func:`_numbers`."""

from __future__ import annotations

import math
from pathlib import Path

from rich.markup import escape as escape_markup
from rich.table import Table

from harness.analysis.rankstats import min_repeats
from harness.gate import sensitivity
from harness.gate.compare import Report, Row, Verdict
from harness.gate.verdicts import EXIT_REGRESSION, EXIT_UNJUDGED, UNJUDGED, median_ratio
from harness.presentation import numbers
from harness.presentation.blocks import Block, Bullets, Heading, Para
from harness.presentation.blocks import Table as TableBlock
from harness.presentation.markdown import code, escape, to_markdown

_STYLE = {
    Verdict.SLOWER: "bold red",
    Verdict.BROKEN: "bold red",
    Verdict.BROKEN_BOTH: "magenta",
    Verdict.FASTER: "bold green",
    Verdict.UNCHANGED: "green",
    Verdict.INCONCLUSIVE: "yellow",
    Verdict.MACHINE_CHANGED: "yellow",
    Verdict.TOO_FEW: "yellow",
}
_MARK = {
    Verdict.SLOWER: "🔴",
    Verdict.BROKEN: "🔴",
    Verdict.BROKEN_BOTH: "🟠",
    Verdict.FASTER: "🟢",
    Verdict.UNCHANGED: "⚪",
    Verdict.INCONCLUSIVE: "🟡",
    Verdict.MACHINE_CHANGED: "🟡",
    Verdict.TOO_FEW: "🟡",
}
_ORDER = list(_STYLE)


def _value(report: Report, v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if report.metric.key.endswith("_ms"):
        return numbers.ms(v)
    if report.metric.key == "efficiency":
        return numbers.pct(v)
    return numbers.si(v)


def _ratio(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.3f}"


def _interval(row: Row) -> str:
    if not math.isfinite(row.ci_low):
        return "—"
    return f"{row.ci_low:.3f}–{row.ci_high:.3f}"


def _p(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.2g}"


def _sorted(report: Report) -> list[Row]:
    return sorted(report.rows, key=lambda r: (_ORDER.index(r.verdict), r.scenario, r.strategy))


def headline(report: Report, fail_on_inconclusive: bool = False, accept_inconclusive: bool = False) -> str:
    """REGRESSION (exit 1), COULD NOT JUDGE (exit 3), or no regression (exit 0), with the counts."""
    counts = ", ".join(f"{report.count(v)} {v.value}" for v in Verdict if report.count(v))
    code = report.exit_code(fail_on_inconclusive, accept_inconclusive)
    unjudged = report.count(*UNJUDGED)
    if code == EXIT_UNJUDGED:
        return f"COULD NOT JUDGE {unjudged} of {len(report.rows)} pair(s): {counts}"
    if code == EXIT_REGRESSION:
        return f"REGRESSION: {counts}"
    if unjudged:
        return f"no regression found, {unjudged} pair(s) not judged (accepted): {counts}"
    return f"no regression: {counts}"


def describe(report: Report) -> str:
    m = report.metric
    better = "higher" if m.higher_is_better else "lower"
    level = (1 - 2 * report.alpha) * 100
    return (
        f"metric {m.key} ({better} is better) · threshold {report.max_regression * 100:g}% "
        f"(×{1 + report.max_regression:g} worse or better) · {_alpha(report)} · {level:.4g}% interval of "
        f"current/baseline per pair · could see: the smallest slowdown this run calls slower with "
        f"{sensitivity.POWER:.0%} probability at its noise and repeats"
    )


def _alpha(report: Report) -> str:
    if report.looks > 1:  # ab --repeat auto: the error spent over the looks
        return (
            f"alpha {report.alpha * report.looks:.2g} over {report.looks} looks ({report.alpha:.2g} each, "
            f"Holm over {report.family} tested pair(s) within a look)"
        )
    return f"alpha {report.alpha:g} for the family (Holm over {report.family} tested pair(s))"


def headers(report: Report) -> list[str]:
    """The columns of :func:`_numbers`: which estimate each is (the medians, their ratio, and the
    Hodges–Lehmann ratio the interval and the verdict use)."""
    level = (1 - 2 * report.alpha) * 100
    return [
        "scenario",
        "strategy",
        "n",
        f"baseline median {report.metric.label}",
        "current median",
        "ratio (medians)",
        "ratio (HL)",
        f"{level:.4g}% interval (HL)",
        "p",
        "Holm p",
        "could see",
    ]


#: What the ratio columns are, under the table (the audit's "883 → 1.06k, ratio 0.981" read as a bug).
RATIOS = (
    "ratio (medians) = current median ÷ baseline median; ratio (HL) = the Hodges–Lehmann estimate of current ÷ "
    "baseline (the median of every pairwise ratio), which the interval and the verdict use. On repeats with "
    "two modes the two can differ, even in direction."
)


def _numbers(report: Report, row: Row) -> list[str]:
    """The cells both the terminal table and the Markdown share: who, how many, what changed."""
    tested = math.isfinite(row.ci_low)  # the HL estimate and its interval exist only for a tested pair
    return [
        row.scenario,
        row.strategy,
        f"{row.n_base}/{row.n_cur}",
        _value(report, row.base_median),
        _value(report, row.cur_median),
        _ratio(median_ratio(row.base_median, row.cur_median)),
        _ratio(row.ratio) if tested else "—",
        _interval(row),
        _p(row.p_value),
        _p(row.p_adjusted),
        sensitivity.describe_mde(row.mde),
    ]


def _why(report: Report, row: Row) -> str:
    """The verdict's reason, and for an unjudged pair the repeats that would judge it."""
    needed = sensitivity.needed_text(row, report.max_regression)
    return f"{row.reason}; {needed}" if needed else row.reason


def table(report: Report, fail_on_inconclusive: bool = False, accept_inconclusive: bool = False) -> Table:
    t = Table(
        title=f"queuebench compare — {headline(report, fail_on_inconclusive, accept_inconclusive)}",
        caption=f"{describe(report)}\n{RATIOS}",
        title_justify="left",
        caption_justify="left",
        header_style="bold",
    )
    for i, name in enumerate(headers(report)):
        t.add_column(escape_markup(name), justify="left" if i < 2 else "right")
    t.add_column("verdict")
    t.add_column("why", style="dim")
    for row in _sorted(report):
        style = _STYLE[row.verdict]
        cells = (escape_markup(c) for c in _numbers(report, row))  # names and reasons are shown literally
        t.add_row(*cells, f"[{style}]{row.verdict.value}[/]", escape_markup(_why(report, row)))
    return t


def advice(report: Report) -> list[str]:
    """Plain sentences for what cannot be judged, printed after the table."""
    lines = []
    if report.too_few:
        need = min_repeats(report.alpha)
        had = sorted({f"{r.n_base} vs {r.n_cur}" for r in report.too_few})
        most = max(max(r.n_base, r.n_cur) for r in report.too_few)
        lines.append(
            f"{len(report.too_few)} pair(s) had too few passing repeats for any verdict at alpha={report.alpha:g} "
            f"({', '.join(had)}): a rank test needs at least {need} per side, and failed repeats do not count "
            f"(`queuebench show` says why they failed); run with -r {max(10, need, 2 * most)} or more for verdicts "
            "that also detect modest slowdowns. They show the ratio of medians only, with no interval."
        )
        t = report.max_regression
        moved = [
            r
            for r in report.too_few
            if math.isfinite(r.ratio) and (r.ratio < 1 / (1 + t) if report.metric.higher_is_better else r.ratio > 1 + t)
        ]
        if moved:
            pairs = ", ".join(f"{r.scenario}/{r.strategy} ×{r.ratio:.3g}" for r in moved)
            lines.append(
                f"medians moved beyond the {t * 100:g}% threshold for the worse in {pairs}: "
                "not judged with so few repeats, rerun with more to tell."
            )
    if report.count(Verdict.INCONCLUSIVE):
        lines.append("inconclusive: too noisy to tell at this threshold; use more repeats or a quieter machine.")
    if report.count(Verdict.MACHINE_CHANGED):
        lines.append(
            "inconclusive: the machine changed between the runs (" + "; ".join(report.drift) + "): run both "
            "sides in one session, interleaved (`queuebench ab`), to compare them fairly."
        )
    if report.family > 1:
        reachable = [1 / math.comb(r.n_base + r.n_cur, r.n_base) for r in report.rows if r.n_base and r.n_cur]
        best = min(reachable, default=1.0)
        if best * report.family > report.alpha:
            lines.append(
                f"{report.family} pairs tested together: Holm's first step needs p <= "
                f"{report.alpha:g}/{report.family} = {report.alpha / report.family:.2g}, and these repeats "
                f"reach at best p = {best:.2g}, so no pair can be called slower or faster; "
                "add repeats (-r) or test fewer pairs."
            )
    if report.count(Verdict.BROKEN_BOTH):
        lines.append(
            f"{report.count(Verdict.BROKEN_BOTH)} pair(s) broken in both: their trials failed in the baseline "
            "the same way, so this is not a regression, but they are still broken."
        )
    return lines


def blocks(
    report: Report, baseline: str, current: str, fail_on_inconclusive: bool = False, accept_inconclusive: bool = False
) -> list[Block]:
    """The comparison as blocks (a CI job summary): headline, warnings, the verdict table, notes."""
    exit_code = report.exit_code(fail_on_inconclusive, accept_inconclusive)
    mark = {EXIT_REGRESSION: "❌", EXIT_UNJUDGED: "⚠️"}.get(exit_code, "✅")
    out: list[Block] = [
        Heading(
            3, f"{mark} queuebench compare — {escape(headline(report, fail_on_inconclusive, accept_inconclusive))}"
        ),
        Para(f"Baseline {code(baseline)} → current {code(current)}; {escape(describe(report))}."),
    ]
    out += [Para(f"⚠️ **Warning:** {escape(line)}", "warn") for line in report.warnings]
    out += [Para(f"⚠️ **Not like for like:** {escape(line)}", "warn") for line in report.mismatches]
    header = [*(escape(h) for h in headers(report)), "verdict", "why"]
    rows = [
        [
            *(escape(cell) for cell in _numbers(report, row)),
            f"{_MARK[row.verdict]} **{row.verdict.value}**",
            escape(_why(report, row)),
        ]
        for row in _sorted(report)
    ]
    out.append(TableBlock(header, rows, frozenset(range(2, 10))))
    extra = [RATIOS, *report.notes, *advice(report)]
    if extra:
        out.append(Bullets([escape(line) for line in extra]))
    return out


def markdown(
    report: Report, baseline: str, current: str, fail_on_inconclusive: bool = False, accept_inconclusive: bool = False
) -> str:
    """The comparison as GitHub-flavoured Markdown (``compare --markdown``)."""
    return to_markdown(blocks(report, baseline, current, fail_on_inconclusive, accept_inconclusive), Path("."))
