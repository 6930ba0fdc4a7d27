"""``make fuzz``: hostile scenario files through ``queuebench run --dry-run``, and damaged results
folders through every command that reads one, in-process (typer's CliRunner) and a few as real
subprocesses; and Dask addresses that refuse, stay silent or have no worker through ``run --dask``
(tests/fuzz/dask_addresses.py), as real processes; over-long and unwritable output paths through
every command that writes (tests/fuzz/hostile_paths.py); markup, escape sequences and HTML in every
name, judged in the terminal, Markdown, HTML and figures (tests/fuzz/markup_names.py); and real
runs of valid but extreme scenarios, each counting what it left in /dev/shm and its temporary
folder (tests/fuzz/real_runs.py). Counts tracebacks, hangs (a per-case alarm), errors that are not
one line, leftovers, and the peak memory of every process.

    python -m tests.fuzzing --scenarios 10000 --results 5000 --numbers 1000 --dask-cases 12 \
        --paths 60 --markup 120 --real-runs 16 --jobs 2

``tests/fuzz/test_slice.py`` runs a few hundred cases of each under pytest (``make test``).
Seeded: the same arguments give the same cases.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tests.fuzz.cases import make_bases, results_chunk, scenario_chunk, subprocess_cases
from tests.fuzz.dask_addresses import dask_cases
from tests.fuzz.hostile_paths import paths_chunk
from tests.fuzz.huge_numbers import numbers_chunk
from tests.fuzz.markup_names import markup_chunk
from tests.fuzz.peaks import own_peak_kb
from tests.fuzz.real_runs import real_runs


def fuzz(
    n_scenarios: int,
    n_results: int,
    jobs: int,
    seed: int,
    n_procs: int = 6,
    root: Path | None = None,
    kinds: tuple[str, ...] = ("plain", "sweep", "stress"),
    n_dask: int = 0,
    n_numbers: int = 0,
    n_paths: int = 0,
    n_markup: int = 0,
    n_real: int = 0,
) -> dict[str, Any]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="queuebench-fuzz-", dir=root))
    total: Counter[str] = Counter()
    problems: list[str] = []
    peak_kb, worst = 0, ""
    try:
        bases = make_bases(workdir, kinds)
        per_task = {"scenarios": 250, "results": 50}
        tasks: list[tuple[Callable[[Any], dict[str, Any]], Any]] = [
            (results_chunk, (seed, s, min(per_task["results"], n_results - s), str(workdir), bases))
            for s in range(0, n_results, per_task["results"])
        ] + [
            (scenario_chunk, (seed, s, min(per_task["scenarios"], n_scenarios - s), str(workdir)))
            for s in range(0, n_scenarios, per_task["scenarios"])
        ]
        tasks += [
            (numbers_chunk, (seed, s, min(per_task["results"], n_numbers - s), str(workdir), bases))
            for s in range(0, n_numbers, per_task["results"])
        ]
        for chunk, n in ((paths_chunk, n_paths), (markup_chunk, n_markup)):
            tasks += [(chunk, (seed, s, min(5, n - s), str(workdir), bases)) for s in range(0, n, 5)]
        # Fresh workers every round (memory that builds up over thousands of in-process commands
        # goes with them); not max_tasks_per_child, which can stall the pool on Python 3.11.
        done_tasks, per_round = 0, jobs * 8
        for lo in range(0, len(tasks), per_round):
            # spawn: a fresh interpreter per worker, so its peak is its own, not the driver's pages.
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(fn, arg) for fn, arg in tasks[lo : lo + per_round]]
                for f in futures:
                    done = f.result()
                    total.update(done["counts"])
                    problems += done["problems"]
                    if done["peak_kb"] > peak_kb:
                        peak_kb, worst = done["peak_kb"], done["worst"]
                    done_tasks += 1
                    if done_tasks % 10 == 0 or done_tasks == len(tasks):
                        print(f"  {done_tasks}/{len(tasks)} tasks, {time.monotonic() - started:.0f} s", flush=True)
        total["peak_worker_mb"] = peak_kb // 1024
        total.update(subprocess_cases(workdir, bases, n_procs, seed))
        dask_counts, dask_problems = dask_cases(n_dask, seed, workdir)
        total.update(dask_counts)
        problems += dask_problems
        real_counts, real_problems = real_runs(n_real, seed, workdir)
        total.update(real_counts)
        problems += real_problems
        total["peak_children_mb"] = total.pop("peak_process_kb", 0) // 1024
        total["peak_main_mb"] = own_peak_kb() // 1024  # the driver: make fuzz's own process (in pytest: pytest)
        peak_kb = max(peak_kb, 1024 * total["peak_children_mb"])
        escaped = [p for p in workdir.parent.glob("ESCAPED*")] + list(workdir.rglob("ESCAPED*"))
        total["escaped_files"] += len(escaped)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "counts": total, "problems": problems, "peak_mb": peak_kb / 1024, "worst": worst,
        "seconds": time.monotonic() - started,
    }  # fmt: skip


def _exits(counts: dict[str, int]) -> str:
    """Every exit status the commands ended with, each counted (3: the gate could not judge)."""
    codes = sorted((k.removeprefix("exit "), v) for k, v in counts.items() if k.startswith("exit "))
    return "exit " + ", ".join(f"{code}: {n:,}" for code, n in codes) if codes else "no commands"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--results", type=int, default=5_000)
    parser.add_argument("--dask-cases", type=int, default=12, help="run --dask with hostile addresses (real processes)")
    parser.add_argument("--numbers", type=int, default=1_000, help="runs with huge, NaN and infinite metrics")
    parser.add_argument("--paths", type=int, default=60, help="cases of over-long and unwritable output paths")
    parser.add_argument("--markup", type=int, default=120, help="runs with markup, escapes and HTML in every name")
    parser.add_argument("--real-runs", type=int, default=16, help="real runs of extreme scenarios (leftovers)")
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    found = fuzz(
        args.scenarios, args.results, args.jobs, args.seed, n_dask=args.dask_cases, n_numbers=args.numbers,
        n_paths=args.paths, n_markup=args.markup, n_real=args.real_runs,
    )  # fmt: skip
    c = found["counts"]
    for line in found["problems"][:50]:
        print(line)
    print(
        f"scenario files: {c['files']:,} ({c['valid']:,} valid, {c['refused']:,} refused in one line) · "
        f"results folders: {c['folders']:,} x 6 commands = {c['commands']:,} "
        f"({_exits(c)}) · subprocesses: {c['processes']:,} · "
        f"dask addresses: {c['dask_cases']:,} (exit 2: {c['dask exit 2']:,}, not one line: {c['not_one_line']})"
    )
    numbers = {k.removeprefix("numbers "): v for k, v in c.items() if k.startswith("numbers exit ")}
    print(
        f"extreme metrics: {c['number_folders']:,} runs ({c['number_inside']:,} inside their ranges, "
        f"{c['number_beyond']:,} past them) x 9 commands ({_exits(numbers)}) · misjudged: {c['number_misjudged']}"
    )
    paths = {k.removeprefix("paths "): v for k, v in c.items() if k.startswith("paths exit ")}
    print(
        f"output paths: {c['path_cases']:,} cases x {c['path_places'] // max(c['path_cases'], 1)} places x 8 commands "
        f"({_exits(paths)}; tmpfs mounted by the workers: {c['path_mounts']}) · misjudged: {c['path_misjudged']}"
    )
    marks = {k.removeprefix("markup "): v for k, v in c.items() if k.startswith("markup exit ")}
    print(f"hostile names: {c['markup_runs']:,} runs x 5 commands ({_exits(marks)}) · leaks: {c['markup_leaks']}")
    reals = {k.removeprefix("real "): v for k, v in c.items() if k.startswith("real exit ")}
    print(
        f"real runs of extreme scenarios: {c['real_runs']:,} ({_exits(reals)}) · left in /dev/shm under their pid: "
        f"{c['real_shm_left']} · left in their temp folder: {c['real_tmp_left']}"
    )
    bad = c["tracebacks"] + c["hangs"] + c["wrote_outside"] + c["escaped_files"] + c["wrote_runs"] + c["not_one_line"]
    bad += c["number_misjudged"] + c["path_misjudged"] + c["markup_leaks"] + c["real_shm_left"] + c["real_tmp_left"]
    peak = max(found["peak_mb"], c["peak_main_mb"])
    print(
        f"tracebacks: {c['tracebacks']} · hangs: {c['hangs']} · wrote outside: {c['wrote_outside']} · "
        f"escaped files: {c['escaped_files']} · peak RSS of any process: {peak:.0f} MB "
        f"(fuzz workers {c['peak_worker_mb']}, driver {c['peak_main_mb']}, its children {c['peak_children_mb']}) · "
        f"{found['seconds']:.0f} s"
    )
    print(f"the fuzz workers' highest command: {found['worst']}")
    return 1 if bad or peak > 500 else 0


if __name__ == "__main__":
    sys.exit(main())
