"""The numbers a user acts on: which window ranks, who wins (only when the repeats say so),
failed repeats out of the medians, a busy machine said plainly, and the words a sweep needs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from harness.analysis import ranking, trust
from harness.analysis.errors_digest import grouped
from harness.analysis.summary import summarize, tied, window, winner
from harness.presentation.figures import samples as sample_figures
from harness.rundir.model import Run
from harness.sweeps import findings as sweep
from harness.sweeps import notes as sweep_notes
from tests.helpers import FINGERPRINT


def _trial(strategy: str, status: str = "ok", scenario: str = "s", **metrics: float) -> dict[str, Any]:
    return {"id": f"{scenario}/{strategy}", "scenario": scenario, "strategy": strategy, "status": status,
            "warmup": False, "errors": [], "metrics": metrics}  # fmt: skip


def _doc(trials: list[dict[str, Any]], **fingerprint: Any) -> dict[str, Any]:
    names = dict.fromkeys(t["scenario"] for t in trials)
    machine = {**FINGERPRINT, "effective_parallelism": 2.0, "usable_cores": 2, "load_average": [0.5]}
    return {
        "trials": trials,
        "scenarios": {n: {"definition": {"readers": 2}} for n in names},
        "fingerprint": {**machine, **fingerprint},
        "status": "complete",
    }


def _run(trials: list[dict[str, Any]], **fingerprint: Any) -> Run:
    """The typed run of :func:`_doc` (built directly: its trials and definitions are sketches)."""
    return Run.from_doc(_doc(trials, **fingerprint))


def _repeats(strategy: str, makespan_tp: list[float], total_tp: list[float]) -> list[dict[str, Any]]:
    return [
        _trial(strategy, throughput=m, throughput_total=t, setup_s=0.1, teardown_s=0.01)
        for m, t in zip(makespan_tp, total_tp, strict=True)
    ]


# --------------------------------------------------------------------------- #
# The rank test.


def test_distinguishable_needs_the_repeats_to_say_so() -> None:
    assert ranking.distinguishable([10, 11, 12], [1, 2, 3])  # 3 v 3, separated: p = 0.05
    assert not ranking.distinguishable([10, 11], [1, 2])  # 2 v 2: no rank test reaches p <= 0.05
    assert not ranking.distinguishable([10, 2, 11, 3], [1, 12, 2.5, 9])  # interleaved
    assert not ranking.distinguishable([5, 5, 5], [5, 5, 5])
    assert ranking.distinguishable([1.0], [])  # a strategy with values beats one without
    assert ranking.min_repeats_for_a_verdict() == 4  # 1/C(8,4) = 0.014 <= 0.05 / 2
    assert ranking.min_repeats_for_a_verdict(7) == 4  # the same however many strategies


def test_tie_group_holds_everyone_not_distinguishable_from_the_best() -> None:
    samples = {"a": [10.0, 11, 12, 13, 14], "b": [9.0, 10.5, 12.5, 13.5, 15], "c": [1.0, 2, 3, 4, 5]}
    assert ranking.tie_group(samples, ["a", "b", "c"]) == ["a", "b"]
    assert ranking.tie_group({"a": [10.0, 11, 12, 13], "c": [1.0, 2, 3, 4]}, ["a", "c"]) == ["a"]
    # Three repeats each: p = 1/20 at best, which is no evidence once the best was picked from two.
    assert ranking.tie_group({"a": [10.0, 11, 12], "c": [1.0, 2, 3]}, ["a", "c"]) == ["a", "c"]


@pytest.mark.parametrize("strategies", range(2, 8))
def test_identical_strategies_are_crowned_at_most_five_percent_of_the_time(strategies: int) -> None:
    """A/A by simulation: k strategies with i.i.d. repeats, the best picked by median as the summary
    does. The audit measured 9.6% for two with the old one-sided test of the best."""
    rng = np.random.default_rng(20261206 + strategies)
    names = [f"s{i}" for i in range(strategies)]
    crowned = total = 0
    for repeats in range(3, 11):
        data = rng.lognormal(0.0, 0.3, size=(1000, strategies, repeats))
        orders = np.argsort(-np.median(data, axis=2), axis=1, kind="stable")
        for trial, order in zip(data, orders, strict=True):
            samples = {s: trial[i].tolist() for i, s in enumerate(names)}
            crowned += len(ranking.tie_group(samples, [names[i] for i in order])) == 1
        total += len(data)
    rate = crowned / total
    assert rate <= ranking.ALPHA, f"{strategies} identical strategies: crowned in {rate:.1%} of {total}"


def test_the_crown_rate_of_two_identical_strategies_is_bounded_exactly() -> None:
    """The bound behind the simulations: two identical strategies, either picked as the best, each
    compared at the crown level: 2 × P(U >= the critical count) <= ALPHA for 3–10 repeats."""
    from harness.analysis import rankstats

    for n in range(3, 11):
        need = rankstats.critical_count(n, n, ranking.crown_level())
        if need is None:
            continue
        tail = sum(rankstats.null_counts(n, n)[need:]) / math.comb(2 * n, n)
        assert 2 * tail <= ranking.ALPHA, (n, tail)


@pytest.mark.parametrize("strategies", range(3, 8))
def test_two_identical_on_top_of_the_rest_are_crowned_at_most_five_percent(strategies: int) -> None:
    """The worst case for the crown: two identical strategies well above the others, whose
    presence does not make it harder to beat them."""
    rng = np.random.default_rng(6122026 + strategies)
    names = [f"s{i}" for i in range(strategies)]
    crowned = total = 0
    for repeats in range(3, 11):
        data = rng.lognormal(0.0, 0.3, size=(800, strategies, repeats))
        data[:, 2:, :] *= 0.2  # every other strategy far below the two on top
        orders = np.argsort(-np.median(data, axis=2), axis=1, kind="stable")
        for trial, order in zip(data, orders, strict=True):
            samples = {s: trial[i].tolist() for i, s in enumerate(names)}
            crowned += len(ranking.tie_group(samples, [names[i] for i in order])) == 1
        total += len(data)
    assert crowned / total <= ranking.ALPHA, f"crowned in {crowned / total:.1%} of {total}"


# --------------------------------------------------------------------------- #
# The summary: window, verdict, failed repeats.


def test_rank_by_total_counts_start_up_and_can_flip_the_ranking() -> None:
    """A process pool fast once started but slow to start loses on total, wins on makespan."""
    doc = _run(
        _repeats("pool", [300, 301, 302, 303, 304], [130, 131, 132, 133, 134])
        + _repeats("threads", [290, 291, 292, 293, 294], [280, 281, 282, 283, 284])
    )
    total = summarize(doc)  # the default: what the user waits for
    assert list(total.sort_values("rank")["strategy"]) == ["threads", "pool"]
    assert winner(total, "s") == "threads" and total["rank_by"].iloc[0] == "total"
    assert total.set_index("strategy").loc["threads", "throughput"] == 282
    makespan = summarize(doc, "makespan")
    assert winner(makespan, "s") == "pool" and makespan.set_index("strategy").loc["pool", "throughput"] == 302
    row = makespan.set_index("strategy").loc["pool"]
    assert (row["throughput_total"], row["setup_s"], row["teardown_s"]) == (132, 0.1, 0.01)
    with pytest.raises(ValueError, match="rank_by"):
        summarize(doc, "wall")


def test_a_run_recorded_before_totals_ranks_by_makespan() -> None:
    doc = _run([_trial("a", throughput=5.0), _trial("b", throughput=4.0)])
    assert window(doc) == "makespan" and summarize(doc)["rank_by"].iloc[0] == "makespan"


def test_overlapping_repeats_are_a_tie_not_a_winner() -> None:
    doc = _run(
        _repeats("a", [1] * 5, [100, 90, 110, 95, 101])
        + _repeats("b", [1] * 5, [95, 105, 85, 99, 92])
        + _repeats("c", [1] * 5, [10, 11, 12, 13, 14])
    )
    frame = summarize(doc)
    assert winner(frame, "s") is None and tied(frame, "s") == ["a", "b"]
    assert dict(zip(frame["strategy"], frame["verdict"], strict=True)) == {"a": "tie", "b": "tie", "c": ""}


def test_medians_exclude_failed_repeats_and_count_them() -> None:
    trials = _repeats("a", [1, 1, 1], [100, 102, 104])
    trials.append(_trial("a", status="error", throughput=1, throughput_total=9999.0, efficiency=1.7))
    trials += _repeats("b", [1, 1], [50, 52])
    frame = summarize(_run(trials)).set_index("strategy")
    assert frame.loc["a", "throughput"] == 102 and frame.loc["a", "throughput_max"] == 104
    assert frame.loc["a", "failed"] == 1 and frame.loc["b", "failed"] == 0
    assert math.isnan(frame.loc["a", "efficiency"])  # the failed trial's 170% is never shown
    assert math.isnan(frame.loc["a", "rank"])  # not every trial passed: not ranked


# --------------------------------------------------------------------------- #
# A busy machine.


def test_busy_machine_is_said_with_its_reasons_and_what_to_do() -> None:
    assert trust.busy_warning(1.9, 2, [0.3]) is None
    low = trust.busy_warning(0.45, 2, [0.3])
    assert low is not None and "effective parallelism 0.45 of 2 usable cores" in low
    assert "Close other work and rerun" in low and "repeats" in low
    loaded = trust.busy_warning(2.0, 2, [7.8, 6.0, 3.0])
    assert loaded is not None and "1-minute load average 7.8 above 2 usable cores" in loaded
    assert trust.busy_warning(None, None, []) is None  # nothing recorded: nothing claimed
    assert trust.run_warning(_run([], effective_parallelism=0.5)) is not None
    assert trust.run_warning(_run([])) is None
    probe = {"effective_parallelism": 0.5, "machine": {"usable_cores": 2, "load_average": [0.1]}}
    assert trust.probe_warning(probe) is not None


# --------------------------------------------------------------------------- #
# Words for repeated errors and sweeps.


def test_repeated_messages_are_grouped_with_a_count() -> None:
    assert grouped(["BrokenProcessPool: x"] * 10 + ["other"]) == ["BrokenProcessPool: x (× 10)", "other"]


def _sweep_doc(rows: list[tuple[str, int, float, float]], capacity: int | None = None) -> dict[str, Any]:
    """One point per readers value; rows: (strategy, readers, throughput, service peak in flight)."""
    values = sorted({r[1] for r in rows})
    work = {"kind": "service", "capacity": capacity} if capacity else {"kind": "io"}
    trials = [
        _trial(s, scenario=f"p.readers-{n}", throughput=t, service_peak_active=peak, pool_size=n)
        for s, n, t, peak in rows
        for _ in range(4)  # the fewest repeats with which the best of two can be crowned
    ]
    doc = _doc(trials)
    doc["scenarios"] = {f"p.readers-{n}": {"definition": {"readers": n, "reader_work": work}} for n in values}
    doc["sweep"] = {"scenario": "p", "param": "readers", "values": values, "params": {"readers": values},
                    "points": {f"p.readers-{n}": {"readers": n} for n in values}}  # fmt: skip
    return doc


def _sweep_run(rows: list[tuple[str, int, float, float]], capacity: int | None = None) -> Run:
    return Run.from_doc(_sweep_doc(rows, capacity))


def test_sweep_says_when_the_best_is_at_the_edge_of_the_range() -> None:
    doc = _sweep_run([("threads", n, 10.0 * n, math.nan) for n in (1, 2, 3)])
    frame = sweep.results(doc)
    (note,) = sweep_notes.notes(doc, frame, sweep.findings(doc, frame))
    assert note.startswith("threads: best readers = 3 is the largest value swept; the optimum may lie beyond")


def test_sweep_explains_a_slow_recipe_that_wins_past_capacity() -> None:
    """Past the service's capacity, seed-pool's overhead keeps fewer pushes in flight: it wins because it is slow."""
    rows = [("threads", 3, 90.0, 3), ("seed-pool", 3, 60.0, 3), ("threads", 5, 40.0, 5), ("seed-pool", 5, 55.0, 3)]
    doc = _sweep_run(rows, capacity=3)
    frame = sweep.results(doc)
    (note,) = sweep_notes.slow_wins(doc, frame)
    assert note.startswith("readers = 5: seed-pool wins because it is slower")
    assert "at most 3 requests" in note and "against 5 for threads" in note and "a pool of 3" in note


# --------------------------------------------------------------------------- #
# Busy readers drawn truthfully at any scale.


def test_binned_busy_readers_average_is_the_true_occupancy() -> None:
    """1000 busy intervals of 1 µs each, 1 ms apart, over 1 s: on average 0.001 readers busy in every bin,
    not a solid block at 1 (the old step drawing); each bin's peak is still 1."""
    starts = np.arange(1000) * 1.0  # ms
    times = np.concatenate([[0.0], np.ravel(np.column_stack([starts + 0.5, starts + 0.501]))])
    busy = np.concatenate([[0], np.tile([1, 0], 1000)])
    edges, avg, peak = sample_figures.binned(times, busy, 1000.0, bins=100)
    assert len(edges) == 101 and np.allclose(avg, 0.001, rtol=1e-6)
    assert peak.max() == 1 and avg.sum() * 10.0 == pytest.approx(1000 * 0.001)  # area = busy reader-ms


def test_sweep_stars_a_best_value_only_when_the_repeats_separate_it() -> None:
    rows = [("threads", 1, 10.0, math.nan), ("threads", 2, 30.0, math.nan), ("threads", 3, 20.0, math.nan)]
    clear = _sweep_run(rows)
    frame = sweep.results(clear)
    (found,) = sweep.findings(clear, frame)
    assert found.best == 2 and found.tie_with is None  # 3 repeats each, separated: p = 0.05
    (throughput, _p99) = sweep.pivots(clear, frame, [found])
    assert [c.mark if c else "" for c in throughput.rows[0][1]] == ["", "★◆", ""]
    moved = _sweep_doc(rows)
    for t in moved["trials"]:  # readers 3 now overlaps readers 2
        if t["scenario"] == "p.readers-3":
            t["metrics"]["throughput"] = 31.0 if t is moved["trials"][-1] else 29.0
    close = Run.from_doc(moved)
    frame = sweep.results(close)
    (found,) = sweep.findings(close, frame)
    assert found.tie_with is not None and "not distinguishable from readers =" in found.lines()[0]
    (throughput, _p99) = sweep.pivots(close, frame, [found])
    assert "★" not in "".join(c.mark for c in throughput.rows[0][1] if c)


def test_a_lone_strategy_is_ranked_but_never_crowned() -> None:
    frame = summarize(_run(_repeats("threads", [100.0] * 5, [90.0] * 5)))
    assert list(frame["rank"]) == [1] and list(frame["verdict"]) == [""]  # no runner-up to beat
    assert trust.busy_warning(1.15, 2, [0.7]) is None  # an idle 2-core VM's noisy probe is not "busy"


def test_efficiency_is_over_the_window_items_per_second_is_ranked_by() -> None:
    """The audit: manager-pool showed 91% (makespan) beside items/s over the total window, where its
    efficiency was 52%. A row's figures share one window, and each says which."""
    trials = [
        _trial("a", throughput=100.0, throughput_total=52.0, efficiency=0.91, ideal_makespan_s=0.091,
               makespan_s=0.1, total_s=0.175)
        for _ in range(3)
    ]  # fmt: skip
    total, makespan = summarize(_run(trials)), summarize(_run(trials), "makespan")
    assert total["efficiency"].iloc[0] == pytest.approx(0.52)
    assert makespan["efficiency"].iloc[0] == pytest.approx(0.91)
    assert total["efficiency_makespan"].iloc[0] == pytest.approx(0.91)
    assert total["efficiency_total"].iloc[0] == pytest.approx(0.52)


def test_busy_advice_asks_for_more_repeats_than_the_run_had() -> None:
    """The tester ran -r 10 and was told to add repeats "(e.g. -r 10)"."""
    assert "(e.g. -r 10)" in (trust.busy_warning(0.4, 2, [3.0], repeats=3) or "")
    assert "(this run had 10; e.g. -r 20)" in (trust.busy_warning(0.4, 2, [3.0], repeats=10) or "")
