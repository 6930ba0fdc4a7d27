"""Measure ``sweep --auto`` against the full sweep (`make bench-sweep`, issue 25's "Measure it").

For each scenario and each run, side by side (which goes first alternates run by run):

* the full sweep, ``queuebench sweep FILE --vary readers=1..8`` at the scenario's own repeats;
* ``queuebench sweep FILE --vary readers=1..8 --auto`` on the same file.

Both are read back from their run.json with the harness's own code (harness.rundir,
harness.sweeps.findings, harness.sweeps.usl; the comparison's pure functions are in
benchmarks/sweep_compare.py, tested in tests/benchmarks/) and compared per strategy: the full sweep's best
pool, --auto's, whether they agree (a best the rank test could not separate from its runner-up,
Finding.tie_with, agrees when the other side's best is that runner-up: said as "tie"), --auto's
trials and wall time as fractions of the full sweep's, the USL's N* interval on the full sweep
and whether it covers the true capacity (the service kind's ``capacity``, read from the
scenario), and whether ``sequential`` ran at one point. The issue's targets (same best in >= 9
of 10 runs, <= 50% of the trials, N* covering the capacity in >= 9 of 10) are judged over the
runs actually done.

    python benchmarks/bench_sweep.py [--runs 10] [--scenarios registry-push,...] [-s threads,...] [--out DIR]

The scenarios: scenarios/registry-push.toml (capacity 3, collapsing beyond), and two benchmark
files beside this one: sweep-capacity5.toml (capacity 5) and sweep-gentle.toml (capacity 3,
degrading gently); scenarios/docker-push.toml when a Docker engine answers (skipped with one
line otherwise). ``--readers 1..4`` narrows the swept range for a quick look while developing.
Each sweep's output goes to ``logs/`` under ``--out``, its run folder to ``runs/``; the summary
to ``bench-sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sweep_compare import AGREES, RUNS_ASKED, Pair, SweepResult, counts, eta, json_safe, read_sweep, summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The issue's scenarios, by the name given to --scenarios.
SCENARIOS = {
    "registry-push": ROOT / "scenarios" / "registry-push.toml",
    "registry-push-cap5": HERE / "sweep-capacity5.toml",
    "registry-push-gentle": HERE / "sweep-gentle.toml",
    "docker-push": ROOT / "scenarios" / "docker-push.toml",
}


def fail(message: str) -> NoReturn:
    """Bad input: one line on stderr, exit 2."""
    print(f"bench-sweep: {message}", file=sys.stderr)
    raise SystemExit(2)


def capacity_of(file: Path) -> int | None:
    """The true capacity: the readers' work kind's own ``capacity`` (service, docker-push; None for
    a kind without one). The file must hold one scenario (a sweep of it needs no --scenario)."""
    from harness import scenario
    from harness.errors import QueuebenchError
    from strategies import kinds

    try:
        loaded = scenario.load(file)
    except QueuebenchError as exc:
        fail(str(exc))
    if len(loaded) != 1:
        fail(f"{file}: holds {len(loaded)} scenarios; a benchmark file holds one")
    work = loaded[0].scenario.reader_work
    return kinds.get(work.kind).capacity(work.spec())


def unavailable(name: str) -> str:
    """Why a scenario cannot run here ('' when it can): docker-push needs an engine that answers."""
    if name != "docker-push":
        return ""
    from strategies.kinds.docker_engine import engine_url, ping

    problem = ping(engine_url())
    return f"no Docker engine answers at {engine_url()} ({problem}); `make docker` starts one" if problem else ""


def run_sweep(file: Path, mode: str, args: argparse.Namespace, runs_dir: Path, log: Path) -> SweepResult:
    """One ``queuebench sweep`` as a user runs it, its output to ``log``; read back from its run.json."""
    from harness.rundir import store

    cmd = [sys.executable, "-m", "queuebench", "sweep", str(file), "--vary", f"readers={args.readers}"]
    cmd += ["-o", str(runs_dir), *(f"-s{s}" for s in args.strategies)] + (["--auto"] if mode == "auto" else [])
    runs_dir.mkdir(parents=True, exist_ok=True)
    before = set(runs_dir.iterdir())
    t0 = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    wall = time.monotonic() - t0
    made = sorted(p for p in set(runs_dir.iterdir()) - before if (p / store.RUN_FILE).exists())
    if code not in (0, 1) or not made:  # 1: a trial failed, the sweep still stands
        tail = log.read_text().strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"bench-sweep: `{' '.join(cmd)}` exited {code}: {tail[0]} (log: {log})")
    return read_sweep(store.read_run(made[-1]), mode, str(made[-1]), wall)


def _minutes(seconds: float | None) -> str:
    return "after the first sweep" if seconds is None else f"{seconds / 60:.0f} min"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def table(summaries: Sequence[Mapping[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(title="sweep --auto against the full sweep (readers; a tie: not separated by the rank test)")
    cols = ("scenario", "strategy", "full best", "auto best", "agree", "N* [95%] full", "covers", "whole", "auto/full")
    for col in cols:
        t.add_column(col, justify="left" if col in ("scenario", "strategy", "N* [95%] full") else "right")
    for s in summaries:
        trials, wall = s["trials_fraction"], s["wall_fraction"]
        cost = f"trials {statistics.median(trials):.0%}, wall {statistics.median(wall):.0%}"
        first = True
        for name, per in s["strategies"].items():
            n_ok = sum(a in AGREES for a in per["agreement"])
            agree = counts(per["agreement"]) if s["runs"] == 1 else f"{n_ok}/{s['runs']}"
            where = f"{s['scenario']} (capacity {s['capacity'] or 'unknown'})" if first else ""
            cov, whole = f"{per['covers']}/{s['runs']}", f"{per['covers_whole']}/{s['runs']}"
            bests = counts(per["full_best"]), counts(per["auto_best"])
            t.add_row(where, name, *bests, agree, per["n_star"], cov, whole, cost if first else "")
            first = False
        for name, rate in s["one_point_rate"].items():
            one = "one point" if all(s["one_point"]) else "NOT one point"
            t.add_row("" if not first else s["scenario"], name, f"{rate:.3g}/s", "", one, "no pool", "", "", "")
    return t


def write_summary(
    out: Path,
    args: argparse.Namespace,
    elapsed: float,
    pairs: Mapping[str, list[Pair]],
    capacity: Mapping[str, int | None],
) -> list[dict[str, Any]]:
    """The summary of the pairs done so far, to ``bench-sweep.json`` (replaced whole, never half-written)."""
    summaries = [summary(name, capacity[name], got) for name, got in pairs.items() if got]
    done = min((len(got) for got in pairs.values()), default=0)
    doc = {"runs": args.runs, "runs_done": done, "readers": args.readers, "strategies": args.strategies}
    tmp = out / "bench-sweep.json.tmp"
    tmp.write_text(json.dumps(json_safe({**doc, "elapsed_s": elapsed, "scenarios": summaries}), indent=1) + "\n")
    tmp.replace(out / "bench-sweep.json")
    return summaries


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=RUNS_ASKED, help=f"runs per scenario (default {RUNS_ASKED})")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated names or TOML files")
    ap.add_argument("-s", "--strategy", action="append", default=[], help="passed to each sweep (repeat, or a,b)")
    ap.add_argument("--readers", default="1..8", help="the swept range (default 1..8; smaller for a quick look)")
    ap.add_argument("--out", type=Path, default=None, help="runs and summary (default results/bench-sweep/<time>)")
    args = ap.parse_args()
    args.strategies = [s.strip() for x in args.strategy for s in x.split(",") if s.strip()]
    if args.runs < 1:
        fail(f"--runs {args.runs}: at least 1")
    files: dict[str, Path] = {}
    capacity: dict[str, int | None] = {}
    for name in (x.strip() for x in args.scenarios.split(",") if x.strip()):
        path = SCENARIOS.get(name) or Path(name)
        if not path.is_file():
            fail(f"--scenarios: {name!r} is neither one of {', '.join(SCENARIOS)} nor a file")
        if why := unavailable(name):
            print(f"skipped {name}: {why}", flush=True)
            continue
        files[name], capacity[name] = path, capacity_of(path)
    if not files:
        fail("no scenario left to run: every one named was skipped")
    out = args.out or ROOT / "results" / "bench-sweep" / time.strftime("%Y%m%dT%H%M%S")
    (out / "logs").mkdir(parents=True, exist_ok=True)
    plan = [(i, name) for i in range(args.runs) for name in files]
    order = {(i, n): ("full", "auto") if i % 2 == 0 else ("auto", "full") for i, n in plan}
    todo = [(n, m) for i, n in plan for m in order[(i, n)]]
    print(
        f"bench-sweep: {args.runs} run(s) × {', '.join(files) or 'no scenario'} · readers {args.readers} · "
        f"strategies {', '.join(args.strategies) or 'the default'} · {len(todo)} sweeps · load {load_average()}",
        flush=True,
    )
    t0, done = time.monotonic(), list[tuple[str, str, float]]()
    pairs: dict[str, list[Pair]] = {name: [] for name in files}
    for i, name in plan:
        got: dict[str, SweepResult] = {}
        for mode in order[(i, name)]:
            todo.pop(0)
            k = len(done) + 1
            print(
                f"[{k}/{k + len(todo)}] run {i + 1}/{args.runs} {name}: {mode} sweep · "
                f"{(time.monotonic() - t0) / 60:.0f} min so far, ETA {_minutes(eta(done, [(name, mode), *todo]))} · "
                f"load {load_average()}",
                flush=True,
            )
            log = out / "logs" / f"{i + 1}-{name}-{mode}.log"
            got[mode] = r = run_sweep(files[name], mode, args, out / "runs", log)
            done.append((name, mode, r.wall_s))
            print(f"    {r.trials} trials in {r.wall_s / 60:.1f} min: {r.run_dir}", flush=True)
        pairs[name].append(Pair(i + 1, name, capacity[name], order[(i, name)][0], got["full"], got["auto"]))
        # Written after every pair, so that a protocol cut short keeps the summary of what it did.
        write_summary(out, args, time.monotonic() - t0, pairs, capacity)
    summaries = write_summary(out, args, time.monotonic() - t0, pairs, capacity)
    from harness.presentation import terminal

    con = terminal.console()
    con.print(table(summaries))
    elapsed = time.monotonic() - t0
    print(f"\n{elapsed / 60:.1f} min · load {load_average()} · details: {out / 'bench-sweep.json'}")
    ok = True
    for s in summaries:
        for t in s["targets"]:
            said = {True: "met", False: "NOT MET", None: "not judged"}[t["met"]]
            ok &= t["met"] is not False
            print(f"{s['scenario']}: {t['text']}: {t['got']}: {said}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench-sweep: interrupted (the sweeps done so far are under --out's runs/)", file=sys.stderr)
        sys.exit(130)
