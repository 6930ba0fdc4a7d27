"""`make bench-gate`'s bookkeeping (benchmarks/bench_gate.py) without running a gate: how each
pair's printed MDE is recorded and summed up beside the slowdown caught, and its refusals."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

from benchmarks import bench_gate

ROOT = Path(__file__).resolve().parents[2]


def test_the_mde_summary_keeps_unseeable_apart_from_unknown_and_sets_it_beside_what_was_caught() -> None:
    """inf (no change could be seen at these repeats) is counted as such; NaN (noise unknown: a
    broken pair) is neither a figure nor "none"; the slowdown caught is B's, 1 / ratio - 1."""
    assert bench_gate._mde(math.inf) == "none" and bench_gate._mde(math.nan) is None
    assert bench_gate._mde(0.123456) == 0.1235
    rounds = [
        {
            "mde": {"o/threads": bench_gate._mde(0.2), "o/seq": bench_gate._mde(math.inf)},
            "ratios": {"o/threads": 0.8, "o/seq": 1.0},
            "verdicts": {"o/threads": "slower", "o/seq": "inconclusive"},
        },
        {
            "mde": {"o/threads": bench_gate._mde(0.1), "o/seq": bench_gate._mde(math.nan)},
            "ratios": {"o/threads": 1.0, "o/seq": 0.5},
            "verdicts": {"o/threads": "unchanged", "o/seq": "broken"},
        },
    ]
    line = bench_gate.mde_line(rounds, "o/threads")
    assert line == "MDE median 15.0% (10.0%-20.0%); slowdown where caught median 25.0% (25.0%-25.0%)"
    assert bench_gate.mde_line(rounds, "o/seq") == "MDE never stated, none seeable in 1"
    assert bench_gate.mde_line(rounds, None).startswith("MDE median 15.0% (10.0%-20.0%), none seeable in 1;")


def test_unknown_or_repeated_parts_are_refused_before_anything_runs() -> None:
    for parts, words in (("aa,drfit", "unknown part(s) drfit"), ("effect,effect", "names a part twice")):
        done = subprocess.run(
            [sys.executable, "benchmarks/bench_gate.py", "--parts", parts, "--out", "/nonexistent/x"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
