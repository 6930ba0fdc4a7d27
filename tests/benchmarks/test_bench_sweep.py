"""`make bench-sweep`'s comparison (benchmarks/sweep_compare.py) on synthetic run documents: what
it reads from a sweep, when --auto agrees with the full sweep, the fractions, N*'s coverage of
the true capacity, the issue's targets, the ETA and the JSON summary. No real sweep runs here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import sweep_compare as sc
from harness.rundir.model import Run
from harness.sweeps import usl

ROOT = Path(__file__).resolve().parents[2]
NOISE = (0.98, 1.0, 1.02)  # three repeats a point, 2% apart


def _run(
    rows: dict[str, dict[int, float]], repeats: int = 3, warmups: int = 1, auto: dict[str, Any] | None = None
) -> Run:
    """A sweep run over readers: per strategy, readers -> median items/s, each point ``repeats``
    passing trials around it (plus ``warmups`` warmup trials at the first point)."""
    values = sorted({n for points in rows.values() for n in points})
    trials: list[dict[str, Any]] = []
    for strategy, points in rows.items():
        first = min(points)
        trials += [{"strategy": strategy, "readers": first, "thr": points[first], "warmup": True}] * warmups
        for n, thr in points.items():
            trials += [
                {"strategy": strategy, "readers": n, "thr": thr * NOISE[r % 3], "warmup": False} for r in range(repeats)
            ]
    doc_trials = [
        {
            "id": f"t{i}",
            "scenario": f"s.readers-{t['readers']}",
            "strategy": t["strategy"],
            "status": "ok",
            "warmup": t["warmup"],
            "metrics": {
                "throughput": t["thr"],
                "throughput_total": t["thr"],
                "e2e_p99_ms": 10.0,
                "expected": 100,
                "ideal_makespan_s": 0.5,
            },
        }
        for i, t in enumerate(trials)
    ]
    points = {f"s.readers-{v}": {"readers": v} for v in values}
    sweep = {"scenario": "s", "param": "readers", "values": values, "params": {"readers": values}, "points": points}
    doc: dict[str, Any] = {"status": "complete", "sweep": sweep, "trials": doc_trials, "scenarios": {}}
    if auto is not None:
        doc["auto"] = auto
    return Run.from_doc(doc)


def _peaked(peak_at: float = 3.0) -> dict[int, float]:
    """A USL curve with σ = 0.1 and κ chosen so that N* = ``peak_at``: gradual contention."""
    kappa = 0.9 / peak_at**2
    ns = np.arange(1, 9, dtype=float)
    return {int(n): float(v) for n, v in zip(ns, usl.usl(ns, 40.0, 0.1, kappa), strict=True)}


CLIFF = {1: 36.0, 2: 71.0, 3: 105.0, 4: 80.0, 5: 60.0, 6: 48.0, 7: 40.0, 8: 35.0}  # registry-push's collapse


def test_a_sweep_is_read_with_the_harness_findings_and_fit() -> None:
    run = _run({"threads": _peaked(3.0), "asyncio": CLIFF, "sequential": {1: 15.0}})
    got = sc.read_sweep(run, "full", "results/x", 120.0)
    assert got.trials == 2 * (1 + 8 * 3) + (1 + 3)  # warmups count: they cost time
    threads, asyncio = got.line("threads"), got.line("asyncio")
    assert threads is not None and asyncio is not None and got.line("sequential") is None
    assert threads.best == 3 and threads.tie_with is None  # 3 repeats, all above 4's: separated
    assert threads.peak == pytest.approx(3.0, rel=0.1) and sc.covers(threads, 3)
    # A capacity cliff: the law is refused in words, and a refused fit covers nothing.
    assert asyncio.best == 3 and asyncio.peak is None and "capacity cliff" in asyncio.refusal
    assert not sc.covers(asyncio, 3)
    assert got.one_point == {"sequential": (1,)} and got.one_point_rate == {"sequential": pytest.approx(15.0)}
    assert got.stopped == ""


def test_an_auto_sweep_keeps_why_it_stopped_and_counts_only_what_it_ran() -> None:
    points = {n: v for n, v in _peaked(3.0).items() if n in (1, 2, 3, 4, 8)}
    run = _run({"threads": points}, auto={"log": [], "stopped": "every strategy settled"})
    got = sc.read_sweep(run, "auto", "results/y", 50.0)
    assert got.trials == 1 + 5 * 3 and got.stopped == "every strategy settled"
    line = got.line("threads")
    assert line is not None and line.best == 3


def _line(best: int, tie_with: int | None = None, low: float | None = None, high: float | None = None) -> sc.Line:
    peak = None if low is None else (low + (high if high is not None and math.isfinite(high) else low)) / 2
    return sc.Line("threads", best, 100.0, tie_with, peak, low, high, "" if low is not None else "does not fit")


@pytest.mark.parametrize(
    ("full", "auto", "said"),
    [
        (_line(3), _line(3), "same"),
        (_line(3, tie_with=4), _line(4), "tie"),  # the full sweep could not separate 3 from 4
        (_line(3), _line(4, tie_with=3), "tie"),  # --auto could not
        (_line(3, tie_with=2), _line(4), "differ"),  # a tie, but not with the other side's best
        (_line(3), _line(5), "differ"),
        (_line(3), None, "missing"),
    ],
)
def test_agreement_counts_a_tie_the_rank_test_could_not_separate(
    full: sc.Line, auto: sc.Line | None, said: str
) -> None:
    assert sc.agreement(full, auto) == said
    assert (said in sc.AGREES) == (said in ("same", "tie"))


@pytest.mark.parametrize(
    ("line", "capacity", "covered"),
    [
        (_line(3, low=2.6, high=3.5), 3, True),
        (_line(3, low=3.0, high=3.0), 3, True),  # the ends count
        (_line(3, low=3.2, high=4.1), 3, False),
        (_line(3, low=2.0, high=math.inf), 5, True),  # no upper bound: any capacity above the low end
        (_line(3), 3, False),  # refused: no interval
        (_line(3, low=2.6, high=3.5), None, False),  # no known capacity
        (None, 3, False),
    ],
)
def test_coverage_of_the_true_capacity(line: sc.Line | None, capacity: int | None, covered: bool) -> None:
    assert sc.covers(line, capacity) is covered


@pytest.mark.parametrize(
    ("line", "capacity", "covered"),
    [
        (_line(3, low=3.08, high=3.13), 3, True),  # points to 3, though 3.0 lies outside
        (_line(3, low=3.4, high=3.6), 3, True),  # 3 to 4
        (_line(3, low=3.5, high=4.3), 3, False),  # halves go up: 4 only
        (_line(3, low=2.0, high=math.inf), 7, True),
        (_line(3), 3, False),
        (None, 3, False),
    ],
)
def test_coverage_in_whole_pools(line: sc.Line | None, capacity: int | None, covered: bool) -> None:
    assert sc.covers_whole(line, capacity) is covered
    assert not (line is not None and sc.covers(line, capacity) and not covered)  # covering implies pointing to


def _sweep(mode: str, trials: int, wall: float, lines: list[sc.Line], seq: tuple[int, ...] = (1,)) -> sc.SweepResult:
    return sc.SweepResult(mode, f"r/{mode}", trials, wall, tuple(lines), {"sequential": seq}, {"sequential": 15.0})


def _pair(run: int, full: sc.Line, auto: sc.Line, auto_trials: int = 80, seq: tuple[int, ...] = (1,)) -> sc.Pair:
    return sc.Pair(
        run, "s", 3, "full", _sweep("full", 200, 600.0, [full]), _sweep("auto", auto_trials, 240.0, [auto], seq)
    )


def test_a_pair_gives_autos_fractions_and_whether_sequential_ran_at_one_point() -> None:
    pair = _pair(1, _line(3), _line(3))
    assert pair.trials_fraction == pytest.approx(0.4) and pair.wall_fraction == pytest.approx(0.4)
    assert pair.all_agree and pair.agreement == {"threads": "same"} and pair.one_point is True
    assert _pair(1, _line(3), _line(3), seq=(1, 2)).one_point is False
    none = sc.Pair(1, "s", 3, "auto", sc.SweepResult("full", "", 0, 0.0, (), {}, {}), _sweep("auto", 1, 1.0, []))
    assert none.one_point is True and math.isnan(none.trials_fraction) and not none.all_agree


def _met(targets: list[sc.Target]) -> list[bool | None]:
    return [t.met for t in targets]


def test_the_issues_targets_are_judged_over_the_runs_done() -> None:
    good = [_pair(i, _line(3, low=2.5, high=3.5), _line(3)) for i in range(9)]
    ten = [*good, _pair(9, _line(3, low=3.5, high=4.0), _line(5), auto_trials=120)]
    targets = sc.targets(ten)
    assert _met(targets) == [True, True, True, True]  # 9 of 10 is enough for each
    assert targets[0].got == "9 of 10 run(s) done (the issue asks 10)"
    assert targets[1].got.endswith("median 40%") and targets[2].got == "threads 9/10"
    eight = [*good[:8], ten[-1], ten[-1]]
    assert _met(sc.targets(eight))[:3] == [False, False, False]
    # One run: it must succeed; sequential at two points fails its own target.
    assert _met(sc.targets([_pair(0, _line(3, low=2.5, high=3.5), _line(3), seq=(1, 2))])) == [True, True, True, False]
    assert sc.targets([]) == []
    assert sc.needed(10, 0.9) == 9 and sc.needed(1, 0.9) == 1 and sc.needed(3, 0.5) == 2


def test_the_summary_is_plain_json_and_says_each_strategys_answers() -> None:
    pairs = [_pair(1, _line(3, 4, low=2.0, high=math.inf), _line(4)), _pair(2, _line(3), _line(3))]
    got = sc.summary("s", 3, pairs)
    text = json.dumps(sc.json_safe(got), allow_nan=False)  # no NaN or Infinity in the file
    assert '"inf"' in text
    per = got["strategies"]["threads"]
    assert per["full_best"] == [3, 3] and per["auto_best"] == [4, 3] and per["agreement"] == ["tie", "same"]
    assert per["covers"] == 1 and per["covers_whole"] == 1 and per["n_star"].endswith("fitted 1/2")
    assert got["trials_fraction"] == [pytest.approx(0.4)] * 2 and len(got["targets"]) == 4
    assert sc.counts([3, 3, 4]) == "3×2 4×1" and sc.counts([3]) == "3"


def test_the_eta_learns_from_the_sweeps_done() -> None:
    assert sc.eta([], [("a", "full")]) is None
    done = [("a", "full", 600.0), ("a", "auto", 200.0)]
    assert sc.eta(done, [("a", "full"), ("a", "auto")]) == pytest.approx(800.0)
    assert sc.eta(done, [("b", "auto")]) == pytest.approx(200.0)  # another scenario: the same mode's mean
    assert sc.eta([("a", "full", 600.0)], [("b", "auto")]) == pytest.approx(600.0)  # else any sweep's
    assert sc.json_safe({"x": [math.nan, -math.inf, 1.5]}) == {"x": [None, "-inf", 1.5]}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--runs", "0"], "--runs 0: at least 1"),
        (["--scenarios", "nope"], "'nope' is neither one of registry-push"),
        (["--scenarios", "benchmarks/gate-suite.toml"], "holds 5 scenarios; a benchmark file holds one"),
        (["--scenarios", "README.md"], "README.md: not valid TOML"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_sweep(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "benchmarks/bench_sweep.py", *args, "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("bench-sweep: ") and words in done.stderr and done.stderr.count("\n") == 1
    assert not out.exists()
