"""The push sweep's answer in the user's terms: "pool of N pushes: 100 images in T s"."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest

from harness.rundir.model import Run
from harness.sweeps import answer as sweep_answer
from harness.sweeps import findings as sweep


def _doc(rows: list[tuple[str, int, list[float], str]], kind: str = "docker-push") -> dict[str, Any]:
    """A push sweep: per (strategy, readers) the items/s of each repeat, all with one status."""
    values = sorted({r[1] for r in rows})
    points = {f"p.readers-{v}": {"readers": v} for v in values}
    definition = {"writers": 6, "items_per_writer": 1, "reader_work": {"kind": kind, "capacity": 3}}
    trials = [
        {
            "id": f"p.readers-{readers}-{strategy}-r{i}",
            "scenario": f"p.readers-{readers}",
            "strategy": strategy,
            "status": status,
            "warmup": False,
            "metrics": {
                "throughput": thr,
                "throughput_total": thr,
                "e2e_p99_ms": 1.0,
                "expected": 6,
                "total_s": 6 / thr,
                "first_read_s": FIRST_READ,
                "teardown_s": TEARDOWN,
            },
        }
        for strategy, readers, repeats, status in rows
        for i, thr in enumerate(repeats)
    ]
    record = {"scenario": "p", "param": "readers", "values": values, "params": {"readers": values}, "points": points}
    scenarios = {p: {"definition": definition} for p in points}
    return {"status": "complete", "sweep": record, "trials": trials, "scenarios": scenarios}


FIRST_READ, TEARDOWN = 1.0, 0.2


def _seconds(thr: float) -> float:
    """The stated model, computed here from a trial's figures: start-up once, pushes per image."""
    once = FIRST_READ + TEARDOWN
    return once + 100 * (6 / thr - once) / 6


def _answer(doc: dict[str, Any]) -> sweep_answer.Answer | None:
    run = Run.from_doc(doc)
    frame = sweep.results(run)
    return sweep_answer.answer(run, frame, sweep.findings(run, frame))


ROWS = [
    ("threads", 1, [1.0, 0.9, 1.1], "ok"),
    ("threads", 2, [2.0, 1.9, 2.1], "ok"),
    ("threads", 3, [2.5, 2.4, 2.6], "ok"),
    ("threads", 4, [2.0, 1.8, 2.2], "ok"),
    ("seed-pool", 1, [0.8, 0.8, 0.8], "ok"),
    ("seed-pool", 2, [1.6, 1.5, 1.7], "ok"),
    ("seed-pool", 3, [2.0, 2.1, 1.9], "ok"),
    ("seed-pool", 4, [9.0], "failed"),
]


def test_each_pool_size_as_seconds_for_100_images() -> None:
    """T per point: the median over its passing repeats of each trial's start-up once plus 100 times
    its per-image push time; a point whose trial failed has none."""
    found = _answer(_doc(ROWS))
    assert found is not None and found.values == [1, 2, 3, 4] and found.images_per_trial == 6
    table = dict(found.rows)
    for strategy, readers, repeats, status in ROWS:
        expected = statistics.median(_seconds(t) for t in repeats) if status == "ok" else None
        assert table[strategy][readers - 1] == pytest.approx(expected)
    assert "start-up once + 100 x the per-image time" in found.title and "trials of 6 images" in found.title
    # Not 100 / items/s: a 6-image trial's start-up is paid once by a run of 100.
    assert table["threads"][2] == pytest.approx(1.2 + 100 * (6 / 2.5 - 1.2) / 6) != pytest.approx(100 / 2.5)


def test_best_knee_fastest_and_the_classic_recipe() -> None:
    found = _answer(_doc(ROWS))
    assert found is not None
    assert found.lines == [
        "seed-pool: best pool of 3 pushes: 100 images in 31 s; knee 3",
        "threads: best pool of 3 pushes: 100 images in 21 s; knee 3",
        "fastest: threads with a pool of 3 pushes: 100 images in 21 s",
        "the classic recipe (seed-pool) at its best pool of 3 pushes: 100 images in 31 s, 10 s (47%) slower "
        "than the fastest (threads, pool of 3)",
        "T is a model: against a real engine it came out 13-22% short of direct runs (a long run builds while it "
        "pushes); `sweep --direct` runs 100 images once at the best pool and prints both",
    ]


def test_a_best_the_repeats_do_not_separate_says_so() -> None:
    rows = [("threads", 3, [2.5], "ok"), ("threads", 4, [2.2], "ok"), ("asyncio", 3, [2.45], "ok")]
    found = _answer(_doc(rows))
    assert found is not None
    assert found.lines[1] == (
        "threads: best pool of 3 pushes: 100 images in 21 s (not separated from a pool of 4 over the repeats); knee 3"
    )
    assert found.lines[2] == (
        "fastest: threads with a pool of 3 pushes: 100 images in 21 s "
        "(not separated from asyncio at its best over the repeats)"
    )


def test_only_for_a_sweep_of_push_pools() -> None:
    assert _answer(_doc(ROWS, kind="service")) is None
    doc = _doc(ROWS)
    doc["sweep"]["param"] = "writers"
    assert sweep_answer.answer(Run.from_doc(doc), sweep.results(Run.from_doc(_doc(ROWS))), []) is None


def test_a_flat_strategy_says_so() -> None:
    found = _answer(_doc([("threads", 3, [2.5], "ok"), ("threads", 4, [2.45], "ok")]))
    assert found is not None
    assert found.lines[0] == (
        "threads: best pool of 3 pushes: 100 images in 21 s (flat: every pool size within 5%); knee 3"
    )


def test_a_trial_without_its_first_read_gives_no_seconds() -> None:
    """A run stored before first_read_s existed: no T is made up (shown as —, said unknown)."""
    doc = _doc([("threads", 3, [2.5], "ok"), ("threads", 4, [2.0], "ok")])
    for t in doc["trials"]:
        del t["metrics"]["first_read_s"]
    found = _answer(doc)
    assert found is not None and all(math.isnan(c) for c in dict(found.rows)["threads"] if c is not None)
    assert found.lines[0].startswith("threads: best pool of 3 pushes: 100 images in unknown")


def test_when_the_start_up_decides_the_best_the_line_says_so() -> None:
    """A pool of 4 best by items/s only because its trial started up faster: counted once, as 100
    images would, a pool of 3 is quicker, and the line says both (it decides nothing itself)."""
    doc = _doc([("process-pool", 3, [2.0], "ok"), ("process-pool", 4, [2.2], "ok")])
    slow_start = next(t for t in doc["trials"] if t["scenario"].endswith("-3"))
    slow_start["metrics"]["first_read_s"] = 1.9  # pushes: 3.0 - 1.9 - 0.2 = 0.9 s for 6 images
    found = _answer(doc)
    assert found is not None
    assert found.lines[0] == (
        "process-pool: best pool of 4 pushes: 100 images in 27 s (not separated from a pool of 3 over the repeats); "
        "knee 4; but counting the start-up once, as 100 images would, a pool of 3 is quicker (17 s): "
        "the trials' start-up varied more than the pools differ"
    )
