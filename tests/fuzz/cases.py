"""The cases: a chunk of hostile scenario files and a chunk of damaged results folders (each run
in a pool worker, in-process), a few real subprocesses, and the small real runs that are damaged."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from tests.fuzz import ROOT
from tests.fuzz.damaged_results import damage, make_special
from tests.fuzz.hostile_scenarios import scenario_text
from tests.fuzz.in_process import CASE_SECONDS, Hang, Runner, deadline, fast_savefig, light_figures, verdict_of
from tests.fuzz.peaks import Peaks, run_sampled


def commands(run: Path, out: Path, base: Path, traps: bool = False) -> list[list[str]]:
    """Every command that reads a results folder; with ``traps``, report also writes into the run."""
    return [
        ["show", str(run)],
        ["report", str(run)] if traps else ["report", str(run), "-o", str(out / "report")],
        ["plot", str(run), "-o", str(out / "plot.png")],
        ["compare", str(base), str(run), "--markdown", str(out / "cmp.md")],
        ["export", str(run), "-o", str(out / "export.json")],
        ["baseline", "save", str(run), "b", "--results", str(out), "--force", "--with-samples"],
    ]


def scenario_chunk(args: tuple[int, int, int, str]) -> dict[str, Any]:
    seed, start, count, workdir = args
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    folder = Path(tempfile.mkdtemp(dir=workdir, prefix="sc-"))
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        file = folder / f"case-{i}.toml"
        file.write_text(scenario_text(rng), encoding="utf-8", errors="surrogatepass")
        with deadline(CASE_SECONDS):
            try:
                result = runner.invoke(["run", str(file), "--dry-run", "-o", str(folder / "never")])
            except Hang:
                result = None
        peaks.mark(f"scenario case {i}")
        verdict = "hang" if result is None else verdict_of(result)
        counts["files"] += 1
        counts["valid" if result is not None and result.exit_code == 0 else "refused"] += 1
        if verdict != "ok":
            counts["hangs" if verdict == "hang" else "tracebacks"] += 1
            problems.append(f"scenario case {i}: {verdict}")
        file.unlink()
    counts["wrote_runs"] += (folder / "never").exists()
    shutil.rmtree(folder, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}


def results_chunk(args: tuple[int, int, int, str, list[str]]) -> dict[str, Any]:
    seed, start, count, workdir, bases = args
    fast_savefig()
    light_figures()
    os.fsync = lambda fd: None  # durability is not under test here, and fsync is slow on shared disks
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    docs = [json.loads((Path(b) / "run.json").read_text()) for b in bases]
    for i in range(start, start + count):
        rng = random.Random(seed * 7_000_003 + i)
        which = rng.randrange(len(bases))
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="case-")) / "a" / "b" / "box"
        run, out, victim = box / "run", box / "out", box / "victim"
        shutil.copytree(bases[which], run)
        out.mkdir()
        victim.write_text("precious")
        label = damage(run, docs[which], rng, victim, out)
        peaks.mark(f"results case {i} ({label}): damaging it")
        before = sorted(p.name for p in box.iterdir())
        for args_ in commands(run, out, Path(bases[which]), traps="traps" in label):
            with deadline(CASE_SECONDS):
                try:
                    result = runner.invoke(args_)
                except Hang:
                    result = None
            peaks.mark(f"results case {i} ({label}) {args_[0]}")
            verdict = "hang" if result is None else verdict_of(result)
            counts["commands"] += 1
            counts[f"exit {result.exit_code if result is not None else 'hang'}"] += 1
            if verdict != "ok":
                counts["hangs" if verdict == "hang" else "tracebacks"] += 1
                problems.append(f"results case {i} ({label}) {args_[0]}: {verdict}")
        counts["folders"] += 1
        if victim.read_text() != "precious" or sorted(p.name for p in box.iterdir()) != before:
            counts["wrote_outside"] += 1
            problems.append(f"results case {i} ({label}): wrote outside its folders")
        shutil.rmtree(box.parent.parent.parent, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}


def make_bases(workdir: Path, kinds: tuple[str, ...] = ("plain", "sweep", "stress")) -> list[str]:
    """Three small real runs: a plain one, a sweep and a fault run (samples, sweep, faults)."""
    from typer.testing import CliRunner

    from harness.cli import app

    smoke = str(ROOT / "scenarios" / "smoke.toml")
    plans = {
        "plain": ["run", smoke, "-s", "threads", "-s", "sequential", "-r", "2", "--warmup", "1"],
        "sweep": ["sweep", smoke, "--vary", "readers=1..2", "-s", "threads", "-r", "1", "--warmup", "0"],
        "stress": ["stress", "-s", "threads", "-r", "1", "--timeout", "5"],
    }
    bases = []
    for name, args in plans.items():
        if name not in kinds:
            continue
        out = workdir / f"base-{name}"
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code in (0, 1), (name, result.output)
        (run,) = out.iterdir()
        bases.append(str(run))
    return bases


def subprocess_cases(workdir: Path, bases: list[str], n: int, seed: int) -> Counter[str]:
    """A few cases as real processes: the installed entry point, its own exit codes, a FIFO."""
    counts: Counter[str] = Counter()
    exe = [sys.executable, "-m", "harness.cli"]
    for i in range(n):
        rng = random.Random(seed + i)
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="proc-"))
        run, out, victim = box / "run", box / "out", box / "victim"
        shutil.copytree(rng.choice(bases), run)
        out.mkdir()
        victim.write_text("precious")
        if i % 3 == 0:
            make_special(run / "run.json", rng, victim)
        else:
            damage(run, json.loads((run / "run.json").read_text()), rng, victim, out)
        file = box / "s.toml"
        if i % 4 == 0:
            os.mkfifo(file)
        else:
            file.write_text(scenario_text(rng), encoding="utf-8", errors="surrogatepass")
        for args in [["run", str(file), "--dry-run"], ["show", str(run)], ["report", str(run), "-o", str(out / "r")]]:
            try:
                done, peak = run_sampled([*exe, *args], timeout=60)
                counts["processes"] += 1
                counts["peak_process_kb"] = max(counts["peak_process_kb"], peak)
                if "Traceback" in done.stderr or done.returncode not in (0, 1, 2, 3):
                    counts["tracebacks"] += 1
                    print(f"subprocess {args[0]} case {i}: rc {done.returncode}: {done.stderr[-300:]}")
            except subprocess.TimeoutExpired:
                counts["hangs"] += 1
        if victim.read_text() != "precious":
            counts["wrote_outside"] += 1
        shutil.rmtree(box, ignore_errors=True)
    return counts
