"""Kept for imports from before :mod:`harness.exports`: pytest-benchmark's format lives in
:mod:`harness.exports.pytest_benchmark` (the pytest plugin reads ``extra_info`` from here)."""

from harness.exports.pytest_benchmark import (
    EXTRA_METRICS,
    FORMAT_VERSION,
    bench_stats,
    extra_info,
    machine_info,
    to_pytest_benchmark,
)

__all__ = ["EXTRA_METRICS", "FORMAT_VERSION", "bench_stats", "extra_info", "machine_info", "to_pytest_benchmark"]
