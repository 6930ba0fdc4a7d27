"""One answer in the user's terms for every sweep, and Little's law's sizing where service time is known."""

from __future__ import annotations

from harness.rundir.model import Run
from harness.sweeps import findings as sweep
from harness.sweeps import verdict


def _run(rows: list[tuple[str, int, list[float]]], param: str = "readers") -> Run:
    """(strategy, value, repeats' items/s); every trial passed, 20 ms service time."""
    values = sorted({v for _, v, _ in rows})
    points = {f"s.{param}-{v}": {param: v} for v in values}
    trials = [
        {
            "id": f"{strategy}-{v}-{i}",
            "scenario": f"s.{param}-{v}",
            "strategy": strategy,
            "status": "ok",
            "warmup": False,
            "metrics": {"throughput": x, "throughput_total": x, "e2e_p99_ms": 1.0, "service_p50_ms": 20.0},
        }
        for strategy, v, xs in rows
        for i, x in enumerate(xs)
    ]
    rec = {"scenario": "s", "param": param, "values": values, "params": {param: values}, "points": points}
    return Run.from_doc({"status": "complete", "sweep": rec, "trials": trials, "scenarios": {}})


def _said(run: Run) -> list[str]:
    frame = sweep.results(run, "makespan")
    return verdict.verdict(run, sweep.findings(run, frame), "makespan")


def test_the_answer_names_the_strategy_the_pool_the_ties_and_the_classic_recipe() -> None:
    run = _run(
        [
            ("threads", 1, [50, 51, 49]),
            ("threads", 3, [120, 121, 119]),
            ("asyncio", 1, [48, 49, 50]),
            ("asyncio", 3, [119, 122, 118]),
            ("seed-pool", 1, [40, 41, 39]),
            ("seed-pool", 3, [88, 89, 90]),
        ]
    )
    answer, little = _said(run)
    assert answer == (
        "answer: use threads with a pool of 3: 120 items/s (3 repeat(s) there: the rank test needs 4 to "
        "separate it from any other); the classic recipe (seed-pool) reaches 89 at its best (a pool of 3)"
    )
    # 120 items/s x 0.020 s = 2.4 items in service: a pool of at least 3.
    assert little.startswith("Little's law: sustaining 120 items/s at 20 ms an item")
    assert little.endswith("keeps 2.4 items in service at once on average: a pool of at least 3")


def test_a_sweep_of_another_parameter_says_its_value_and_no_littles_law() -> None:
    run = _run([("threads", 100, [10, 11, 12]), ("threads", 1000, [30, 31, 29])], param="payload_bytes")
    assert _said(run) == [
        "answer: use threads with payload_bytes = 1000: 30 items/s "
        "(3 repeat(s) there: the rank test needs 4 to separate it from any other)"
    ]


def test_too_few_repeats_to_separate_anything_is_said_instead_of_a_list_of_ties() -> None:
    run = _run([("threads", 1, [50, 51]), ("threads", 3, [120, 121]), ("sequential", 1, [40, 41])])
    (answer, _) = _said(run)
    assert answer == (
        "answer: use threads with a pool of 3: 120 items/s (2 repeat(s) there: the rank test needs 4 to separate "
        "it from any other)"
    )
