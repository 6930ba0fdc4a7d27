"""Family-wise error control (Holm over every pair of a comparison) and the gate's exit codes."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.analysis.rankstats import holm
from harness.cli import app
from harness.gate.compare import Verdict, compare, decide, metric
from harness.gate.verdicts import EXIT_OK, EXIT_REGRESSION, EXIT_UNJUDGED
from tests.helpers import make_doc, make_run, spread, write_run

cli = CliRunner()


def test_holm_adjusts_step_down_and_stays_monotone() -> None:
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]) == []
    assert holm([0.004]) == pytest.approx([0.004])  # a family of one is the test itself


def _aa_pairs(count: int = 60, seed: int = 5) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """count pairs whose two sides are drawn from one lognormal distribution (30% spread): an A/A
    comparison. Seed 5 is one where some pair, tested alone, says "slower"."""
    rng = random.Random(seed)

    def draw() -> list[float]:
        return [rng.lognormvariate(math.log(100), 0.3) for _ in range(10)]

    return {("aa", f"s{i:02d}"): (draw(), draw()) for i in range(count)}


def test_an_aa_comparison_of_many_pairs_says_slower_nowhere_for_the_family() -> None:
    pairs = _aa_pairs()
    m = metric("throughput")
    alone = [decide(b, c, m, 0.10, 0.01)[4] for b, c in pairs.values()]
    assert alone.count(Verdict.SLOWER) >= 1  # the unadjusted test cries wolf somewhere
    base = make_run({key: b for key, (b, _) in pairs.items()})
    cur = make_run({key: c for key, (_, c) in pairs.items()})
    report = compare(base, cur)
    assert report.family == 60
    assert report.count(Verdict.SLOWER, Verdict.FASTER) == 0
    flagged = [r for r, v in zip(report.rows, alone, strict=True) if v is Verdict.SLOWER]
    for row in flagged:  # shown, and said why: significant alone, not for the family
        assert row.p_value <= 0.01 < row.p_adjusted
        assert "not significant for the family" in row.reason and "over 60 pair(s)" in row.reason
    assert report.exit_code() != EXIT_REGRESSION


def test_a_real_slowdown_among_many_pairs_is_still_found() -> None:
    pairs = {("io", f"s{i:02d}"): spread(100) for i in range(35)}
    slow = {**pairs, ("io", "s07"): spread(100 / 1.3)}
    report = compare(make_run(pairs), make_run(slow))
    (row,) = [r for r in report.rows if r.verdict is Verdict.SLOWER]
    assert row.strategy == "s07" and row.p_adjusted <= 0.01
    assert row.reason.startswith("×1.300 worse > ×1.1 limit; Holm p=")
    assert report.exit_code() == EXIT_REGRESSION


def test_reasons_speak_the_thresholds_unit_both_ways() -> None:
    base = make_run({("io", "a"): spread(100), ("io", "b"): spread(100)})
    cur = make_run({("io", "a"): spread(100 * 1.25), ("io", "b"): spread(100)})
    rows = {r.strategy: r for r in compare(base, cur).rows}
    assert rows["a"].verdict is Verdict.FASTER and rows["a"].reason.startswith("×1.250 better > ×1.1 limit")
    assert rows["b"].verdict is Verdict.UNCHANGED and "within ×1.1 both ways" in rows["b"].reason
    latency = compare(
        make_run({("io", "a"): spread(10)}, "e2e_p99_ms"), make_run({("io", "a"): spread(12)}, "e2e_p99_ms"), "p99"
    )
    (row,) = latency.rows
    assert row.verdict is Verdict.SLOWER and row.reason.startswith("×1.200 worse > ×1.1 limit; p=")


def test_could_not_judge_has_its_own_exit_code() -> None:
    pairs = {("io", "threads"): spread(100)}
    same = compare(make_run(pairs), make_run(pairs))
    assert same.exit_code() == EXIT_OK
    noisy = compare(
        make_run({("io", "threads"): spread(100, width=0.6)}), make_run({("io", "threads"): spread(95, width=0.6)})
    )
    assert noisy.count(Verdict.INCONCLUSIVE) == 1
    assert noisy.exit_code() == EXIT_UNJUDGED
    assert noisy.exit_code(accept_inconclusive=True) == EXIT_OK
    assert noisy.exit_code(fail_on_inconclusive=True) == EXIT_REGRESSION


def test_cli_headline_and_exit_3_for_too_few_repeats(tmp_path: Path) -> None:
    few = write_run(tmp_path / "few", make_doc({("io", "threads"): spread(100, 3)}))
    result = cli.invoke(app, ["compare", str(few), str(few)])
    assert result.exit_code == 3, result.output
    assert "COULD NOT JUDGE 1 of 1 pair(s): 1 too few repeats" in result.output
    accepted = cli.invoke(app, ["compare", str(few), str(few), "--accept-inconclusive"])
    assert accepted.exit_code == 0 and "no regression found, 1 pair(s) not judged (accepted)" in accepted.output
    both = cli.invoke(app, ["compare", str(few), str(few), "--accept-inconclusive", "--fail-on-inconclusive"])
    assert both.exit_code == 2 and "contradict" in both.output


def test_markdown_shows_the_adjusted_p(tmp_path: Path) -> None:
    pairs = {("io", "a"): spread(100), ("io", "b"): spread(100)}
    base = write_run(tmp_path / "base", make_doc(pairs))
    slow = write_run(tmp_path / "slow", make_doc({**pairs, ("io", "a"): spread(100 / 1.2)}))
    md = tmp_path / "c.md"
    result = cli.invoke(app, ["compare", str(base), str(slow), "--markdown", str(md)])
    assert result.exit_code == 1, result.output
    text = md.read_text()
    assert "| p | Holm p | could see | verdict | why |" in text
    assert "Holm over 2 tested pair(s)" in text
    assert "Holm p" in result.output
