"""Export a run for github-action-benchmark's custom tools.

The action reads a JSON array of objects with ``name``, ``unit`` and ``value`` (required)
and ``range`` and ``extra`` (optional strings); the tool says which way is better:

* ``github-action-benchmark-bigger`` (``tool: customBiggerIsBetter``): throughput, items/s;
* ``github-action-benchmark-smaller`` (``tool: customSmallerIsBetter``): end-to-end p50 and
  p99 latency, ms.

One entry per scenario x strategy (and metric): ``value`` is the median over the measured
trials that passed, ``range`` ``± half their spread``, ``extra`` how many trials and their
minimum and maximum.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from harness.exports import Exported
from harness.exports.measured import by_pair
from harness.rundir.model import Run


def _entries(run: Run, metrics: tuple[tuple[str, str, str], ...]) -> Exported:
    entries: list[dict[str, Any]] = []
    for key, label, unit in metrics:
        for name, values in sorted(by_pair(run, key).items()):
            lo, hi = min(values), max(values)
            entries.append(
                {
                    "name": f"{name} {label}",
                    "unit": unit,
                    "value": statistics.median(values),
                    "range": f"± {(hi - lo) / 2:.4g}",
                    "extra": f"median of {len(values)} trial(s); min {lo:.4g}, max {hi:.4g}",
                }
            )
    return Exported(json.dumps(entries, indent=2) + "\n", count=len(entries), noun="benchmark")


def bigger(run: Run) -> Exported:
    """``customBiggerIsBetter``: throughput."""
    return _entries(run, (("throughput", "throughput", "items/s"),))


def smaller(run: Run) -> Exported:
    """``customSmallerIsBetter``: latency percentiles."""
    return _entries(run, (("e2e_p50_ms", "e2e p50", "ms"), ("e2e_p99_ms", "e2e p99", "ms")))
