"""A slice of ``make fuzz`` (tests/fuzzing.py) for ``make test``: a few hundred hostile scenario
files through ``run --dry-run`` and a few dozen damaged results folders through every command
(show, report, plot, compare, export, baseline save), in worker processes, plus a few real
subprocesses. Zero tracebacks, zero hangs, nothing written outside, no process above 500 MB."""

from __future__ import annotations

from pathlib import Path

import fuzzing  # tests/fuzzing.py


def test_fuzz_slice(tmp_path: Path) -> None:
    found = fuzzing.fuzz(300, 40, jobs=2, seed=1717, n_procs=2, root=tmp_path, kinds=("plain", "sweep"))
    c = found["counts"]
    assert found["problems"] == []
    assert c["files"] == 300 and c["folders"] == 40 and c["commands"] == 40 * 6 and c["processes"] == 6
    assert c["tracebacks"] == c["hangs"] == c["wrote_outside"] == c["escaped_files"] == c["wrote_runs"] == 0
    assert c["exit 2"] > 0 and c["exit 0"] > 0  # both refusals and damaged-but-readable folders were met
    assert found["peak_mb"] < 500
