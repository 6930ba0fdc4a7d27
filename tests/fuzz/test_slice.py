"""A slice of ``make fuzz`` (tests/fuzzing.py) for ``make test``: a few hundred hostile scenario
files through ``run --dry-run``, a few dozen damaged results folders and a dozen runs with
huge, NaN or infinite metrics through every command (show, report, plot, compare, export,
baseline save), in worker processes, plus a few real subprocesses; two cases of over-long and
unwritable output paths, two real runs of extreme scenarios (their /dev/shm and temp leftovers)
and four runs with markup, escapes and HTML in every name. Zero tracebacks, zero hangs, nothing
written outside, nothing left behind, no process above 500 MB."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from tests import fuzzing
from tests.fuzz.in_process import Runner  # tests/fuzz/in_process.py

pytestmark = pytest.mark.slow


def test_fuzz_slice(tmp_path: Path) -> None:
    found = fuzzing.fuzz(
        300, 40, jobs=2, seed=1717, n_procs=2, root=tmp_path, kinds=("plain", "sweep"), n_numbers=12,
        n_paths=2, n_real=2,
    )  # fmt: skip
    c = found["counts"]
    assert found["problems"] == []
    # Over-long and unwritable output paths (tests/fuzz/hostile_paths.py): every command refuses in one line.
    assert c["path_cases"] == 2 and c["path_commands"] == 8 * c["path_places"] and c["path_misjudged"] == 0
    assert c["paths exit 2"] == c["path_commands"]
    # Real runs of extreme scenarios (tests/fuzz/real_runs.py): nothing left under their pid, nor in their temp folder.
    assert c["real_runs"] == 2 and c["real_shm_left"] == c["real_tmp_left"] == 0
    # Huge, NaN and infinite metrics (tests/fuzz/huge_numbers.py): refused past their ranges, taken inside.
    assert c["number_folders"] == 12 and c["number_commands"] == 12 * 9 and c["number_misjudged"] == 0
    assert c["number_inside"] > 0 and c["number_beyond"] > 0
    assert c["numbers exit 2"] == 9 * c["number_beyond"] and c["numbers exit 0"] > 0
    assert c["files"] == 300 and c["folders"] == 40 and c["commands"] == 40 * 6 and c["processes"] == 6
    assert c["tracebacks"] == c["hangs"] == c["wrote_outside"] == c["escaped_files"] == c["wrote_runs"] == 0
    assert c["exit 2"] > 0 and c["exit 0"] > 0  # both refusals and damaged-but-readable folders were met
    assert found["peak_mb"] < 500


def test_markup_in_names_leaks_nowhere(tmp_path: Path) -> None:
    from tests.fuzz.cases import make_bases
    from tests.fuzz.markup_names import markup_chunk

    found = markup_chunk((17, 0, 4, str(tmp_path), make_bases(tmp_path, ("plain",))))
    c = found["counts"]
    assert c["markup_runs"] == 4 and c["tracebacks"] == c["hangs"] == 0, found["problems"]
    assert found["problems"] == [] and c["markup_leaks"] == 0


def test_a_failed_in_process_command_leaves_no_garbage(tmp_path: Path) -> None:
    """CliRunner keeps the exception in a reference cycle with every frame of the command: without
    ``fuzz.in_process.release``, each failed command's data (here a 5 MB run.json's text, kept by json's
    error) stayed until the cyclic collector ran, and one fuzz worker grew by 470 MB in one case."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_bytes(b"{" + b"x" * 5_000_000)
    runner = Runner()
    runner.invoke(["show", str(run)])  # imports and caches, before anything is counted
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        result = runner.invoke(["show", str(run)])
        assert result.exit_code == 2 and "damaged or not JSON" in result.output
        del result
        held, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        gc.enable()
    assert held < 1_000_000, f"{held:,} bytes still held after the command"


def test_the_summary_counts_every_exit_status() -> None:
    # Exit 3 (the gate could not judge) was left out of the summary's counts before.
    assert fuzzing._exits({"exit 3": 1588, "exit 0": 6617, "exit 2": 21798, "files": 9}) == (
        "exit 0: 6,617, 2: 21,798, 3: 1,588"
    )
