"""Export a run in the Bencher Metric Format (BMF) JSON (``bencher run --adapter json``).

BMF is an object of Benchmarks, each an object of Measures, each a Metric holding a
required ``value`` and optional ``lower_value`` and ``upper_value`` (numbers). One Benchmark
per scenario x strategy (``<scenario>/<strategy>``). Two Measures, Bencher's built-in ones:

* ``throughput`` (operations per second): items per second;
* ``latency`` (nanoseconds): the end-to-end p50 of an item.

``value`` is the median over the measured trials that passed; ``lower_value`` and
``upper_value`` are their minimum and maximum.
"""

from __future__ import annotations

import json
import statistics

from harness.exports import Exported
from harness.exports.measured import by_pair
from harness.rundir.model import Run

#: Bencher measure slug -> (run metric key, factor to the measure's unit).
MEASURES = {"throughput": ("throughput", 1.0), "latency": ("e2e_p50_ms", 1e6)}


def export(run: Run) -> Exported:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for slug, (key, scale) in MEASURES.items():
        for name, values in by_pair(run, key).items():
            out.setdefault(name, {})[slug] = {
                "value": statistics.median(values) * scale,
                "lower_value": min(values) * scale,
                "upper_value": max(values) * scale,
            }
    return Exported(json.dumps(out, indent=2) + "\n", count=len(out), noun="benchmark")
