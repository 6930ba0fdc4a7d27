"""The regression gate on synthetic run documents: statistics, verdicts, safety, CLI, baselines."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import mannwhitneyu
from typer.testing import CliRunner

from harness import errors
from harness.analysis import rankstats
from harness.cli import app
from harness.errors import CompareError
from harness.gate import baseline
from harness.gate.compare import Verdict, compare, metric, parse_threshold
from tests.helpers import as_run, make_doc, make_run, spread, write_run

cli = CliRunner()


def one(values_base: list[float], values_cur: list[float], key: str = "throughput", **kw: Any) -> Any:
    report = compare(
        make_run({("io", "threads"): values_base}, key), make_run({("io", "threads"): values_cur}, key), **kw
    )
    (row,) = report.rows
    return row


# --- rank statistics -----------------------------------------------------------------


def test_null_counts_are_the_mann_whitney_distribution() -> None:
    """Counts sum to C(n+m, n), are symmetric, and match the known 3 vs 3 table."""
    assert rankstats.null_counts(3, 3) == (1, 1, 2, 3, 3, 3, 3, 2, 1, 1)
    for n, m in [(1, 1), (4, 7), (10, 10), (12, 5)]:
        counts = rankstats.null_counts(n, m)
        assert sum(counts) == math.comb(n + m, n) and counts == counts[::-1]


def test_critical_counts_and_minimum_repeats() -> None:
    """3 vs 3 can never reach 0.01; 5 vs 5 needs all but one pair; 10 vs 10 needs 81 of 100."""
    assert rankstats.critical_count(3, 3, 0.01) is None
    assert rankstats.critical_count(3, 3, 0.05) == 9
    assert rankstats.critical_count(5, 5, 0.01) == 24
    assert rankstats.critical_count(10, 10, 0.01) == 81
    assert [rankstats.min_repeats(a) for a in (0.05, 0.01, 0.001)] == [3, 5, 7]
    assert not rankstats.possible(4, 4, 0.01) and rankstats.possible(5, 5, 0.01) and rankstats.possible(4, 6, 0.01)


def test_interval_excludes_zero_exactly_when_the_test_rejects() -> None:
    """Hodges–Lehmann bounds are the dual of scipy's exact one-sided Mann–Whitney test."""
    rng = random.Random(4)
    for _ in range(400):
        n, m = rng.randint(5, 14), rng.randint(5, 14)
        shift = rng.choice([0.0, 0.5, 1.0, 2.0])
        x = [rng.gauss(0, 1) for _ in range(n)]
        y = [rng.gauss(shift, 1) for _ in range(m)]
        s = rankstats.hodges_lehmann(x, y, 0.01)
        assert s is not None and s.low <= s.estimate <= s.high
        greater = mannwhitneyu(y, x, alternative="greater", method="exact").pvalue
        less = mannwhitneyu(y, x, alternative="less", method="exact").pvalue
        assert (s.low > 0) == (greater <= 0.01)
        assert (s.high < 0) == (less <= 0.01)


# --- verdicts --------------------------------------------------------------------------


def test_same_data_is_unchanged() -> None:
    row = one(spread(100), spread(100))
    assert row.verdict is Verdict.UNCHANGED and row.ratio == pytest.approx(1.0)
    assert 0.99 < row.ci_low <= 1 <= row.ci_high < 1.01


def test_twenty_percent_slower_throughput_is_slower() -> None:
    """Throughput / 1.2 with 10 vs 10 repeats: the most extreme ranks, p = 1/C(20,10)."""
    row = one(spread(100), spread(100 / 1.2))
    assert row.verdict is Verdict.SLOWER
    assert row.ratio == pytest.approx(1 / 1.2, rel=1e-3)
    assert row.p_value == pytest.approx(1 / math.comb(20, 10))
    assert row.ci_high < 1 / 1.1


def test_direction_depends_on_the_metric() -> None:
    """Higher throughput is faster; higher latency is slower; lower latency is faster."""
    assert one(spread(100), spread(120)).verdict is Verdict.FASTER
    assert one(spread(5), spread(6), key="e2e_p99_ms", metric_name="p99").verdict is Verdict.SLOWER
    assert one(spread(6), spread(5), key="e2e_p99_ms", metric_name="p99").verdict is Verdict.FASTER


def test_significant_but_below_the_threshold_is_unchanged() -> None:
    """3% slower, measured precisely: real, but under the 10% that counts."""
    row = one(spread(100), spread(100 / 1.03))
    assert row.p_value < 1e-4 and row.verdict is Verdict.UNCHANGED


def test_the_threshold_decides_not_the_test_alone() -> None:
    """A precise 20% slowdown is within a 25% threshold."""
    row = one(spread(100), spread(100 / 1.2), max_regression=0.25)
    assert row.verdict is Verdict.UNCHANGED


def test_noisy_pair_is_inconclusive() -> None:
    """±30% noise around a 5% slowdown: the interval reaches far past ±10% both ways."""
    base = spread(100, width=0.6)
    cur = spread(95, width=0.6)
    random.Random(1).shuffle(cur)
    row = one(base, cur)
    assert row.verdict is Verdict.INCONCLUSIVE
    assert row.ci_low < 1 / 1.1 and row.ci_high > 1.1
    assert "straddles the ×1.1 limit" in row.reason


def test_big_but_not_significant_move_is_inconclusive() -> None:
    """Median 15% lower, but the samples overlap too much for p <= 0.01 with 5 vs 5."""
    row = one([100, 101, 102, 103, 104], [80, 84, 88, 101.5, 103.5])
    assert row.verdict is Verdict.INCONCLUSIVE
    assert row.p_value > 0.01 and "not significant" in row.reason


def test_too_few_repeats_is_said_plainly() -> None:
    row = one(spread(100, 3), spread(50, 3))
    assert row.verdict is Verdict.TOO_FEW
    assert row.reason == "too few repeats (3 vs 3): need at least 5 per side for alpha=0.01"
    assert row.ratio == pytest.approx(0.5)  # the ratio of the medians, always shown
    assert math.isnan(row.ci_low) and math.isnan(row.p_value)  # but no interval, no test
    assert one(spread(100, 3), spread(50, 3), alpha=0.05).verdict is Verdict.SLOWER


def test_broken_current_trials_are_a_regression() -> None:
    base = make_run({("io", "threads"): spread(100)})
    cur = make_run({("io", "threads"): spread(100)}, statuses={"threads-3": "failed"})
    report = compare(base, cur)
    (row,) = report.rows
    assert row.verdict is Verdict.BROKEN and "1 current trial(s) did not pass: failed" in row.reason
    assert report.exit_code() == 1


def test_broken_the_same_way_in_both_is_not_a_regression() -> None:
    """Trials failing in the baseline with the same status: "broken in both", exit 0; a new
    failure (a status the baseline did not have, or a baseline that passed) still fails."""
    base = make_run({("io", "threads"): spread(100)}, statuses={"threads-3": "failed"})
    same = make_run({("io", "threads"): spread(100)}, statuses={"threads-5": "failed"})
    report = compare(base, same)
    (row,) = report.rows
    assert row.verdict is Verdict.BROKEN_BOTH and report.exit_code() == 0
    assert row.reason == "1 current trial(s) did not pass (failed), as 1 did in the baseline"
    assert row.ratio == pytest.approx(1.0, rel=0.01)  # of the medians of the passing trials
    assert report.exit_code(fail_on_inconclusive=True) == 0
    new = make_run({("io", "threads"): spread(100)}, statuses={"threads-5": "failed", "threads-6": "timeout"})
    report = compare(base, new)
    (row,) = report.rows
    assert row.verdict is Verdict.BROKEN and report.exit_code() == 1
    assert "(new: timeout; the baseline had failed)" in row.reason


def test_exit_codes() -> None:
    pairs = {("io", "threads"): spread(100), ("io", "asyncio"): spread(100)}
    same = compare(make_run(pairs), make_run(pairs))
    assert same.exit_code() == 0 and same.count(Verdict.UNCHANGED) == 2
    noisy = make_run({("io", "threads"): spread(100), ("io", "asyncio"): spread(95, width=0.6)})
    report = compare(make_run({**pairs, ("io", "asyncio"): spread(100, width=0.6)}), noisy)
    assert report.count(Verdict.INCONCLUSIVE) == 1
    assert report.exit_code() == 3  # could not judge: its own exit code
    assert report.exit_code(accept_inconclusive=True) == 0 and report.exit_code(fail_on_inconclusive=True) == 1


def test_only_common_pairs_are_compared() -> None:
    base = make_run({("io", "threads"): spread(100), ("io", "asyncio"): spread(100)})
    cur = make_run({("io", "threads"): spread(100), ("io", "mp-queue"): spread(100)})
    report = compare(base, cur)
    assert [(r.scenario, r.strategy) for r in report.rows] == [("io", "threads")]
    assert "only in the baseline run (not compared): io/asyncio" in report.notes
    with pytest.raises(CompareError, match="no scenario x strategy is present in both runs"):
        compare(make_run({("io", "asyncio"): spread(100)}), make_run({("io", "threads"): spread(100)}))


# --- safety -----------------------------------------------------------------------------


def test_scenario_and_machine_differences_are_mismatches() -> None:
    base = make_doc({("io", "threads"): spread(100)})
    cur = make_doc({("io", "threads"): spread(100)})
    cur["scenarios"]["io"]["definition"]["reader_work"]["ms"] = 5.0
    cur["scenarios"]["io"]["definition"]["description"] = "reworded"  # not a difference that matters
    cur["scenarios"]["io"]["definition"]["repeats"] = 20  # nor this
    cur["fingerprint"]["cpu_model"] = "Apple M2"
    cur["fingerprint"]["python"]["version"] = "3.13.1"
    cur["fingerprint"]["git_commit"] = "def"  # expected to differ: that is the point
    cur["fingerprint"]["packages"] = {"queuebench": "0.2.0"}
    report = compare(as_run(base), as_run(cur))
    assert report.mismatches == [
        "scenario 'io' is defined differently: reader_work.ms 4.0 → 5.0",
        "different CPU model: 'AMD EPYC' → 'Apple M2'",
        "different Python version: '3.11.7' → '3.13.1'",
    ]


def test_parse_threshold_and_metric() -> None:
    assert parse_threshold("10%") == pytest.approx(0.1) and parse_threshold("0.05") == pytest.approx(0.05)
    for bad, why in (("ten", "expected a percentage"), ("10", "ambiguous"), ("0%", "above 0%"), ("-5%", "above 0%")):
        with pytest.raises(CompareError, match=why):
            parse_threshold(bad)
    assert metric("throughput").higher_is_better and not metric("p99").higher_is_better
    assert metric("wait_p99_ms").key == "wait_p99_ms" and not metric("wait_p99_ms").higher_is_better
    with pytest.raises(CompareError, match="unknown metric 'speed'"):
        metric("speed")


# --- command line and baselines ---------------------------------------------------------


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    pairs = {("io", "threads"): spread(100), ("io", "asyncio"): spread(200)}
    slow = {("io", "threads"): spread(100 / 1.2), ("io", "asyncio"): spread(200)}
    other_machine = make_doc(pairs)
    other_machine["fingerprint"]["logical_cores"] = 8
    return {
        "base": write_run(tmp_path / "r" / "base", make_doc(pairs)),
        "same": write_run(tmp_path / "r" / "same", make_doc(pairs)),
        "slow": write_run(tmp_path / "r" / "slow", make_doc(slow)),
        "other": write_run(tmp_path / "r" / "other", other_machine),
        "few": write_run(tmp_path / "r" / "few", make_doc({("io", "threads"): spread(100, 3)})),
        "mpq": write_run(tmp_path / "r" / "mpq", make_doc({("io", "mp-queue"): spread(100)})),
        "mpq1": write_run(tmp_path / "r" / "mpq1", make_doc({("io", "mp-queue"): [934.0]})),
        "mpq1slow": write_run(tmp_path / "r" / "mpq1slow", make_doc({("io", "mp-queue"): [53.6]})),
    }


def test_cli_same_passes_slow_fails_with_a_table(runs: dict[str, Path], tmp_path: Path) -> None:
    same = cli.invoke(app, ["compare", str(runs["base"]), str(runs["same"])])
    assert same.exit_code == 0, same.output
    assert "no regression: 2 unchanged" in same.output
    md = tmp_path / "summary.md"
    args = ["compare", str(runs["base"]), str(runs["slow"]), "--markdown", str(md)]
    slow = cli.invoke(app, args, env={"COLUMNS": "250"})
    assert slow.exit_code == 1, slow.output
    assert "REGRESSION: 1 slower, 1 unchanged" in slow.output and "×1.200 worse > ×1.1 limit" in slow.output
    text = md.read_text()
    assert text.startswith("### ❌ queuebench compare — REGRESSION: 1 slower, 1 unchanged")
    assert "| io | threads | 10/10 | 100 | 83.3 | 0.833 | 0.833 |" in text and "🔴 **slower**" in text


def test_cli_mismatch_warns_and_strict_refuses(runs: dict[str, Path]) -> None:
    loose = cli.invoke(app, ["compare", str(runs["base"]), str(runs["other"])])
    assert loose.exit_code == 0, loose.output
    assert "WARNING: not like for like: different logical cores: 2 → 8" in loose.output
    strict = cli.invoke(app, ["compare", str(runs["base"]), str(runs["other"]), "--strict"])
    assert strict.exit_code == 2
    assert "error: --strict: refusing to judge runs that are not like for like (1 difference(s))" in strict.output


def test_cli_too_few_repeats(runs: dict[str, Path]) -> None:
    result = cli.invoke(app, ["compare", str(runs["few"]), str(runs["few"])])
    assert result.exit_code == 3, result.output
    assert "too few passing repeats" in result.output and "needs at least 5 per side" in result.output
    assert cli.invoke(app, ["compare", str(runs["few"]), str(runs["few"]), "--fail-on-inconclusive"]).exit_code == 1
    strict = cli.invoke(app, ["compare", str(runs["few"]), str(runs["few"]), "--strict"])
    assert strict.exit_code == 2 and "too few repeats for a verdict at alpha=0.01" in strict.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "{base}"], "error: 'nope' is neither a run directory nor a saved baseline"),
        (["{tmp}", "{base}"], "no run.json here"),
        (["{base}", "{same}", "--max-regression", "ten"], "error: --max-regression 'ten': expected a percentage"),
        (["{base}", "{same}", "--alpha", "2"], "error: --alpha 2.0: must be between 0 and 0.5"),
        (["{base}", "{same}", "--metric", "speed"], "error: unknown metric 'speed'"),
        (["{base}", "{few}", "--metric", "p99"], "error: no scenario x strategy has e2e_p99_ms values"),
        (["{base}", "{mpq}"], "error: no scenario x strategy is present in both runs (baseline has io/asyncio"),
        (["{base}", "{slow}", "--markdown", "{tmp}/no/such/dir/x.md"], "error: --markdown {tmp}/no/such/dir/x.md: "),
        (["{base}", "{slow}", "--markdown", "{tmp}"], "error: --markdown {tmp}: is a directory; give a file name"),
        (["{base}", "{slow}", "--markdown", "{base}/run.json/x.md"], "run.json is not a directory"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(runs: dict[str, Path], tmp_path: Path, args: list[str], message: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [a.format(tmp=empty, **{k: str(v) for k, v in runs.items()}) for a in args]
    result = cli.invoke(app, ["compare", *argv, "--results", str(tmp_path / "results")])
    assert result.exit_code == 2, result.output
    assert message.format(tmp=empty) in result.output and len(result.output.strip().splitlines()) == 1


def test_baseline_save_list_and_compare_by_name(runs: dict[str, Path], tmp_path: Path) -> None:
    results = tmp_path / "results"
    saved = cli.invoke(app, ["baseline", "save", str(runs["base"]), "main", "--results", str(results)])
    assert saved.exit_code == 0, saved.output
    dest = results / "baselines" / "main"
    assert sorted(p.name for p in dest.iterdir()) == ["baseline.json", "run.json", "summary.csv"]
    assert json.loads((dest / "baseline.json").read_text())["source"] == str(runs["base"])
    again = cli.invoke(app, ["baseline", "save", str(runs["slow"]), "main", "--results", str(results)])
    assert again.exit_code == 2 and "already exists" in again.output
    forced = ["baseline", "save", str(runs["base"]), "main", "--results", str(results), "--force", "--with-samples"]
    assert cli.invoke(app, forced).exit_code == 0
    assert (dest / "samples" / "x.parquet").is_file()
    listed = cli.invoke(app, ["baseline", "list", "--results", str(results)])
    assert listed.exit_code == 0 and "main" in listed.output and "io/threads (10)" in listed.output
    result = cli.invoke(app, ["compare", "main", str(runs["slow"]), "--results", str(results)])
    assert result.exit_code == 1 and f"baseline {dest}" in result.output
    bad = cli.invoke(app, ["baseline", "save", str(runs["base"]), "../evil", "--results", str(results)])
    assert bad.exit_code == 2 and "baseline name '../evil'" in bad.output


def test_baseline_refuses_unfinished_runs_and_resolves_folders(runs: dict[str, Path], tmp_path: Path) -> None:
    doc = json.loads((runs["base"] / "run.json").read_text())
    unfinished = write_run(tmp_path / "u" / "20260101T000000Z-ci", {**doc, "status": "incomplete"})
    with pytest.raises(errors.BaselineError, match="not complete; use --force"):
        baseline.save(unfinished, "x", tmp_path / "results")
    newer = write_run(tmp_path / "u" / "20260102T000000Z-ci", doc)
    assert baseline.resolve(str(tmp_path / "u"), tmp_path / "results") == newer


def test_help_does_not_import_scipy() -> None:
    code = (
        "import sys\nfrom harness.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('scipy', 'pandas', 'numpy') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout
    assert "compare" in out.stdout and "baseline" in out.stdout and "export" in out.stdout


def test_cli_markdown_checked_before_comparing(runs: dict[str, Path], tmp_path: Path) -> None:
    """A bad --markdown destination is refused up front (exit 2, one line, no table), never
    after printing a verdict whose exit code it would replace."""
    bad = cli.invoke(app, ["compare", str(runs["base"]), str(runs["slow"]), "--markdown", "/nonexistent/dir/x.md"])
    assert bad.exit_code == 2
    assert bad.output.strip() == "error: --markdown /nonexistent/dir/x.md: /nonexistent/dir does not exist"
    good = cli.invoke(app, ["compare", str(runs["base"]), str(runs["slow"]), "--markdown", str(tmp_path / "ok.md")])
    assert good.exit_code == 1 and (tmp_path / "ok.md").is_file()


def test_cli_too_few_repeats_still_shows_the_ratio(runs: dict[str, Path], tmp_path: Path) -> None:
    """1 vs 1 repeat, 934 -> 53.6 items/s: no verdict, but the ratio of medians is shown and
    the move beyond the threshold is pointed out."""
    md = tmp_path / "few.md"
    args = ["compare", str(runs["mpq1"]), str(runs["mpq1slow"]), "--markdown", str(md)]
    result = cli.invoke(app, args, terminal_width=200)
    assert result.exit_code == 3, result.output
    assert "0.057" in result.output and "too few repeats" in result.output
    assert "medians moved beyond the 10% threshold for the worse in io/mp-queue ×0.0574" in result.output
    assert (
        "| io | mp-queue | 1/1 | 934 | 53.6 | 0.057 | — | — | — | — | none | 🟡 **too few repeats** |" in md.read_text()
    )


def test_cli_same_run_on_both_sides_warns(runs: dict[str, Path], tmp_path: Path) -> None:
    result = cli.invoke(app, ["compare", str(runs["slow"]), str(runs["slow"])], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"WARNING: both sides are the same run ({runs['slow']})" in result.output
    results = tmp_path / "results"
    assert cli.invoke(app, ["baseline", "save", str(runs["slow"]), "s", "--results", str(results)]).exit_code == 0
    md = tmp_path / "same.md"
    copy_ = cli.invoke(
        app, ["compare", "s", str(runs["slow"]), "--results", str(results), "--markdown", str(md)], terminal_width=200
    )
    assert copy_.exit_code == 0 and "WARNING: both sides hold the same run (identical trials" in copy_.output
    assert "> ⚠️ **Warning:** both sides hold the same run" in md.read_text()
    other = cli.invoke(app, ["compare", str(runs["base"]), str(runs["slow"])], terminal_width=200)
    assert "same run" not in other.output


def test_cli_broken_in_both_does_not_fail(tmp_path: Path) -> None:
    """`compare rstress rstress`: every pair equally broken on both sides is not a regression."""
    doc = make_doc({("io", "threads"): spread(100), ("io", "asyncio"): spread(100)}, statuses={"threads-1": "failed"})
    broken = write_run(tmp_path / "rstress", doc)
    result = cli.invoke(app, ["compare", str(broken), str(broken)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "no regression: 1 unchanged, 1 broken in both" in result.output
    assert "1 pair(s) broken in both" in result.output
    fixed = write_run(tmp_path / "fixed", make_doc({("io", "threads"): spread(100), ("io", "asyncio"): spread(100)}))
    worse = cli.invoke(app, ["compare", str(fixed), str(broken)], terminal_width=200)
    assert worse.exit_code == 1 and "REGRESSION: 1 unchanged, 1 broken" in worse.output


def test_a_path_to_run_json_names_its_run(runs: dict[str, Path], tmp_path: Path) -> None:
    """compare, baseline save and export accept .../run.json as the run directory."""
    base_json, slow_json = runs["base"] / "run.json", runs["slow"] / "run.json"
    result = cli.invoke(app, ["compare", str(base_json), str(slow_json)], terminal_width=200)
    assert result.exit_code == 1, result.output
    assert f"baseline {runs['base']}" in result.output and "REGRESSION: 1 slower" in result.output
    assert baseline.resolve(str(base_json), tmp_path / "results") == runs["base"]
    results = tmp_path / "results"
    saved = cli.invoke(app, ["baseline", "save", str(base_json), "main", "--results", str(results)])
    assert saved.exit_code == 0, saved.output
    meta = json.loads((results / "baselines" / "main" / "baseline.json").read_text())
    assert meta["source"] == str(runs["base"])
    out = tmp_path / "b.json"
    exported = cli.invoke(app, ["export", str(base_json), "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert {b["name"] for b in json.loads(out.read_text())["benchmarks"]} == {"io[threads]", "io[asyncio]"}
    missing = cli.invoke(app, ["export", str(runs["base"] / "nope.json"), "-o", str(out)])
    assert missing.exit_code == 2 and missing.output.startswith("error: ")


def test_the_medians_and_the_ratio_estimate_are_separate_labelled_columns(tmp_path: Path) -> None:
    """The user's manager-pool: baseline 883 -> current 1.06k beside "ratio 0.981" read as a bug. Two
    modes: the medians move up while the Hodges–Lehmann estimate (which the verdict uses) does not."""
    base = [700.0, 705, 710, 715, 720, 883, 1060, 1065, 1070, 1075]
    cur = [700.0, 705, 710, 715, 1055, 1060, 1062, 1065, 1070, 1075]
    docs = {name: make_doc({("io", "manager-pool"): v}, "throughput_total") for name, v in (("b", base), ("c", cur))}
    paths = [str(write_run(tmp_path / name, doc)) for name, doc in docs.items()]
    md = tmp_path / "c.md"
    result = cli.invoke(app, ["compare", *paths, "--markdown", str(md)], env={"COLUMNS": "250"})
    assert result.exit_code in (0, 3), result.output
    text = md.read_text()
    header = "| n | baseline median items/s (total) | current median | ratio (medians) | ratio (HL) |"
    assert header in text, text
    (row,) = [line for line in text.splitlines() if line.startswith("| io | manager-pool |")]
    cells = row.split(" | ")
    assert float(cells[5]) > 1.05 and float(cells[6]) < float(cells[5])  # the medians' ratio vs the HL estimate
    assert "ratio (medians) = current median ÷ baseline median; ratio (HL) = the Hodges–Lehmann estimate" in (
        " ".join(result.output.split())
    )


def test_compare_defaults_to_the_total_window_as_the_table_does(tmp_path: Path) -> None:
    doc = make_doc({("io", "threads"): spread(100)})
    for t in doc["trials"]:
        t["metrics"]["throughput_total"] = t["metrics"]["throughput"] / 2
    report = compare(as_run(doc), as_run(doc))
    assert report.metric.key == "throughput_total" and report.rows[0].base_median == pytest.approx(50)
    older = compare(make_run({("io", "threads"): spread(100)}), make_run({("io", "threads"): spread(100)}))
    assert older.metric.key == "throughput"
    assert "neither run measured the total window (both are older): compared over the makespan" in older.notes


def test_too_few_advice_asks_for_more_than_the_run_had() -> None:
    """A run of -r 10 with failed repeats is not told to "run with -r 10": the advice names the
    passing counts, says failed repeats do not count and asks for more than the run had."""
    from harness.presentation.comparison import advice

    statuses = {f"threads-{i}": "failed" for i in range(6)}  # 4 of 10 passing on the current side
    report = compare(
        make_run({("io", "threads"): spread(100, 10)}),
        make_run({("io", "threads"): spread(100, 10)}, statuses=statuses),
    )
    (row,) = report.rows
    assert row.verdict is Verdict.BROKEN  # failed trials make the pair broken, and no too-few advice
    few = compare(make_run({("io", "threads"): spread(100, 3)}), make_run({("io", "threads"): spread(100, 3)}))
    (line, *_) = advice(few)
    assert "(3 vs 3)" in line and "failed repeats do not count" in line and "-r 10 or more" in line
    eight = compare(
        make_run({("io", "threads"): spread(100, 4)}), make_run({("io", "threads"): spread(100, 4)}), alpha=0.001
    )
    (line, *_) = advice(eight)
    assert "(4 vs 4)" in line and "-r 10 or more" in line
