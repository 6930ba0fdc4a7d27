"""Measure the regression gate itself (`make bench-gate`): does it cry wolf, does it catch a
real slowdown, and does it refuse to judge a machine that changed?

Three parts, each judged exactly as the CLI judges (harness.gate.ab / harness.gate.compare, defaults:
throughput, threshold 10%, alpha 0.01 family-wise with Holm):

* ``aa`` — ``queuebench ab . .`` over benchmarks/gate-suite.toml (a gate-sized copy of the
  whole default suite: every scenario and strategy). Target: rounds with any "slower"
  <= 1 in 20 (<= 5%).
* ``malloc`` — ``queuebench ab . . --b-env PYTHONMALLOC=debug`` on scenarios/overhead.toml
  with ``-s threads`` (the issue's recipe) and ``-s sequential`` beside it in the same run:
  side B runs the same tree under the debug allocator. Target: "slower" for threads in >= 19
  of 20 rounds; sequential's count is printed beside it (the same change, measured without
  seven threads handing the GIL around in an 8 ms window).
* ``drift`` — two plain runs of the gate suite's cpu-hold-gil scenario minutes apart, a
  CPU-bound load of our own started in between, judged by ``compare``. Target: never
  "slower" (the drift guard says "inconclusive: machine changed" where the machine moved).

* ``effect`` (not in the default parts) — the debug allocator's cost on the uninstrumented
  mechanism (benchmarks/minimal.py), A/B alternated: the change the malloc part asks for, as
  an independent figure.
* ``aa-overhead`` (not in the default parts) — ``ab . .`` on the malloc part's pairs: the
  false-alarm side of the same measurement, e.g. with ``--repeats auto``.

``--repeats auto`` runs the ``ab`` parts as ``ab -r auto`` does (planned looks, alpha spent over
them: harness.gate.auto_repeat).

    python benchmarks/bench_gate.py [--rounds 20] [--repeats 10|auto] [--parts aa,malloc,drift,aa-overhead]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import scenario
from harness.gate import ab, compare
from harness.gate.auto_repeat import AutoRepeat
from harness.rundir import store
from harness.rundir.model import Run
from harness.running import suite

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THRESHOLD, ALPHA, METRIC = 0.10, 0.01, "throughput"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def ab_round(
    files: list[Path],
    strategies: list[str],
    repeats: int | str,
    out: Path,
    b_env: dict[str, str],
    max_repeats: int = 30,
    budget_s: float = 600.0,
) -> tuple[compare.Report, float]:
    """One ``ab . .`` run (side B with ``b_env``; ``repeats`` a number or "auto", as the CLI's
    ``-r``, with its ``--max-repeat`` and ``--budget``): its report and wall seconds."""
    loaded = scenario.load_many(files)
    auto = repeats == "auto"
    first = AutoRepeat.first_repeats(ALPHA, max_repeats) if auto else int(repeats)
    opts = suite.Options(strategies=strategies, repeat=first, out=out)
    t0 = time.monotonic()
    with ab.resolve("A", ".", cwd=ROOT) as a, ab.resolve("B", ".", env=b_env, cwd=ROOT) as b:
        prepared = ab.prepare(loaded, opts, a, b)
        stepper = AutoRepeat(prepared, METRIC, THRESHOLD, ALPHA, budget_s, max_repeats) if auto else None
        _, doc = prepared.run(stepper.on_progress) if stepper else prepared.run()
    run = Run.from_doc(doc)
    report = stepper.judge(run) if stepper else ab.judge(run, METRIC, THRESHOLD, ALPHA)
    return report, time.monotonic() - t0


def plain_run(files: list[Path], only: list[str], repeats: int, out: Path) -> Run:
    loaded = [ls for ls in scenario.load_many(files) if not only or ls.scenario.name in only]
    _, doc = suite.prepare(loaded, suite.Options(repeat=repeats, out=out)).run()
    return Run.from_doc(doc)


def burner(count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` CPU-bound processes of our own: the machine's load changes."""
    code = "import time\nend = time.monotonic() + 900\nwhile time.monotonic() < end: pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]


def _mde(value: float) -> float | str | None:
    """An MDE for JSON: "none" where no change could be seen at these repeats (inf), None where
    the noise is unknown (NaN: a broken pair)."""
    if math.isinf(value):
        return "none"
    return round(value, 4) if math.isfinite(value) else None


def verdict_counts(report: compare.Report) -> dict[str, int]:
    return dict(collections.Counter(r.verdict.value for r in report.rows))


def part_ab(
    name: str, args: argparse.Namespace, out: Path, files: list[Path], strategies: list[str], env: dict[str, str]
) -> dict[str, Any]:
    rounds: list[dict[str, Any]] = []
    for i in range(args.rounds):
        report, wall = ab_round(files, strategies, args.repeats, out / name, env, args.max_repeat, args.budget)
        counts = verdict_counts(report)
        slower = [f"{r.scenario}/{r.strategy} ×{r.ratio:.3f}" for r in report.rows if r.verdict.value == "slower"]
        ratios = {f"{r.scenario}/{r.strategy}": round(r.ratio, 4) for r in report.rows}
        repeats = {f"{r.scenario}/{r.strategy}": r.n_base for r in report.rows}
        # the smallest slowdown each pair could have caught (0.23: 23%), as the verdict prints it
        mdes = {f"{r.scenario}/{r.strategy}": _mde(r.mde) for r in report.rows}
        rounds.append(
            {
                "round": i + 1,
                "wall_s": round(wall, 1),
                "counts": counts,
                "slower": slower,
                "ratios": ratios,
                "repeats": repeats,
                "mde": mdes,
                "verdicts": {f"{r.scenario}/{r.strategy}": r.verdict.value for r in report.rows},
                "exit_code": report.exit_code(),
                "load": load_average(),
            }
        )
        # kept after every round (replaced whole), so that a part cut short keeps what it measured
        store.atomic_write(out / f"{name}-rounds.json", (json.dumps(rounds, indent=1) + "\n").encode())
        print(
            f"{name} round {i + 1}/{args.rounds}: {wall:.0f}s · {counts} · exit {report.exit_code()} · "
            f"slower: {', '.join(slower) or 'none'} · repeats {sorted(set(repeats.values()))} · load {load_average()}",
            flush=True,
        )
    per_strategy = {name: sum(any(f"/{name} " in x for x in r["slower"]) for r in rounds) for name in strategies or []}
    first = strategies[0] if strategies else None
    counted = per_strategy[first] if name == "malloc" and first else sum(bool(r["slower"]) for r in rounds)
    return {"rounds": rounds, "rounds_with_slower": counted, "rounds_with_slower_by_strategy": per_strategy}


def part_effect(args: argparse.Namespace) -> dict[str, Any]:
    """The debug allocator's cost on the uninstrumented mechanism (benchmarks/minimal.py, the
    overhead scenario's shape), A/B alternated: an independent figure for the change the
    malloc part asks the gate to find, beside what queuebench's trials measure of it."""
    shape = ["4", "3", "400", "100", "fork"]  # writers, readers, items per writer, payload, start method
    out: dict[str, Any] = {}
    for name in ("threads", "sequential"):
        seconds: dict[str, list[float]] = {"A": [], "B": []}
        for i in range(args.rounds):
            for side in ("A", "B") if i % 2 == 0 else ("B", "A"):
                env = {**os.environ, **({"PYTHONMALLOC": "debug"} if side == "B" else {})}
                cmd = [sys.executable, str(HERE / "minimal.py"), name, *shape]
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120)
                seconds[side].append(float(done.stdout.split()[-1]))
        a, b = statistics.median(seconds["A"]), statistics.median(seconds["B"])
        out[name] = {"median_s": {"A": a, "B": b}, "throughput_ratio": a / b, "runs": args.rounds}
        print(
            f"effect {name}: minimal loop {a * 1e3:.2f} ms, under PYTHONMALLOC=debug {b * 1e3:.2f} ms: "
            f"throughput x{a / b:.3f} ({b / a:.3f} times slower), median of {args.rounds} alternated runs",
            flush=True,
        )
    return out


def part_drift(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    files, only = [HERE / "gate-suite.toml"], ["gate-cpu-hold-gil"]
    rounds: list[dict[str, Any]] = []
    for i in range(args.rounds):
        t0 = time.monotonic()
        repeats = 10 if args.repeats == "auto" else int(args.repeats)  # plain runs: compare has no auto
        base = plain_run(files, only, repeats, out / "drift")
        procs = burner(args.burners)
        try:
            time.sleep(args.settle)
            cur = plain_run(files, only, repeats, out / "drift")
        finally:
            for p in procs:
                p.kill()
                p.wait()
        report = compare.compare(base, cur, METRIC, THRESHOLD, ALPHA)
        counts = verdict_counts(report)
        # What the verdicts would have been without the guard (as if one session), for contrast.
        unguarded = verdict_counts(compare.compare(base, cur, METRIC, THRESHOLD, ALPHA, same_session=True))
        wall = time.monotonic() - t0
        rounds.append(
            {
                "round": i + 1,
                "wall_s": round(wall, 1),
                "counts": counts,
                "unguarded": unguarded,
                "drift": report.drift,
                "exit_code": report.exit_code(),
            }
        )
        print(
            f"drift round {i + 1}/{args.rounds}: {wall:.0f}s · {counts} (without the guard: {unguarded}) · "
            f"exit {report.exit_code()} · "
            f"moved: {'; '.join(report.drift) or 'nothing'}",
            flush=True,
        )
    return {"rounds": rounds, "rounds_with_slower": sum(bool(r["counts"].get("slower")) for r in rounds)}


def mde_line(rounds: list[dict[str, Any]], pair: str | None) -> str:
    """The MDE the verdicts printed for ``pair`` (every pair: None) over the rounds, beside the
    change actually measured (B's slowdown, 1 / ratio - 1) in the rounds that said slower."""
    keys = [pair] if pair else sorted({k for r in rounds for k in r["mde"]})
    stated = [r["mde"][k] for r in rounds for k in keys if k in r["mde"]]
    printed = sorted(v for v in stated if isinstance(v, float))
    unseeable = sum(v == "none" for v in stated)
    caught = sorted(1 / r["ratios"][k] - 1 for r in rounds for k in keys if r["verdicts"].get(k) == "slower")
    text = "MDE " + (
        f"median {statistics.median(printed):.1%} ({printed[0]:.1%}-{printed[-1]:.1%})" if printed else "never stated"
    )
    if unseeable:
        text += f", none seeable in {unseeable}"
    if caught:
        text += f"; slowdown where caught median {statistics.median(caught):.1%} ({caught[0]:.1%}-{caught[-1]:.1%})"
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=20, help="rounds of each part (default 20)")
    ap.add_argument("--repeats", default="10", help="measured repeats per side, or auto as ab -r auto (default 10)")
    ap.add_argument("--max-repeat", type=int, default=30, help="--repeats auto: repeats at most (default 30)")
    ap.add_argument(
        "--budget", type=float, default=600.0, help="--repeats auto: seconds a round spends at most (default 600)"
    )
    ap.add_argument(
        "--parts",
        default="aa,malloc,drift",
        help="which parts, comma-separated (default aa,malloc,drift; also aa-overhead: the malloc part's pairs, A/A)",
    )
    ap.add_argument("--burners", type=int, default=(os.cpu_count() or 1) * 2, help="drift: CPU-bound processes started")
    ap.add_argument("--settle", type=float, default=20.0, help="drift: seconds between starting them and the run")
    ap.add_argument("--out", type=Path, default=None, help="run directories (default results/bench-gate/<time>)")
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    known = ("aa", "malloc", "drift", "effect", "aa-overhead")
    if unknown := [p for p in parts if p not in known]:
        ap.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    if len(set(parts)) < len(parts):
        ap.error("--parts names a part twice")
    out = args.out or ROOT / "results" / "bench-gate" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"bench-gate: parts {', '.join(parts)} · {args.rounds} round(s) x {args.repeats} repeats · "
        f"threshold {THRESHOLD:.0%}, alpha {ALPHA} (Holm) · load {load_average()}",
        flush=True,
    )
    t0 = time.monotonic()
    results: dict[str, Any] = {}
    overhead = [ROOT / "scenarios" / "overhead.toml"]
    both = ["threads", "sequential"]  # the malloc part judges the first against the target
    for part in parts:  # in the order given: the part that most needs a quiet machine can go first
        if part == "aa":
            results["aa"] = part_ab("aa", args, out, [HERE / "gate-suite.toml"], [], {})
        elif part == "malloc":
            results["malloc"] = part_ab("malloc", args, out, overhead, both, {"PYTHONMALLOC": "debug"})
        elif part == "effect":
            results["effect"] = part_effect(args)
        elif part == "aa-overhead":  # the malloc part's pairs with no change: its false-alarm side
            results["aa-overhead"] = part_ab("aa-overhead", args, out, overhead, both, {})
        elif part == "drift":
            results["drift"] = part_drift(args, out)
    n = args.rounds
    Passes = Callable[[int], bool]
    verdicts: dict[str, tuple[str, Passes, str]] = {
        "aa": ("A/A ab . . (gate suite)", lambda k: k <= n / 20, f"<= {n / 20:g}"),
        "malloc": ("A/B PYTHONMALLOC=debug (overhead, threads)", lambda k: k >= n * 19 / 20, f">= {n * 19 / 20:g}"),
        "aa-overhead": ("A/A ab . . (overhead, threads and sequential)", lambda k: k <= n / 20, f"<= {n / 20:g}"),
        "drift": ("A/A compare across a load change", lambda k: k == 0, "0"),
    }
    ok = True
    print(f"\n{(time.monotonic() - t0) / 60:.1f} min · load {load_average()}")
    for part, (label, passes, target) in verdicts.items():
        if part in results:
            k = results[part]["rounds_with_slower"]
            good = passes(k)
            ok &= good
            print(f"{label}: rounds with 'slower' {k}/{n} (target {target}) {'PASS' if good else 'FAIL'}")
            if part in ("malloc", "aa-overhead"):
                by = results[part]["rounds_with_slower_by_strategy"]
                print("  by strategy: " + ", ".join(f"{s} {c}/{n}" for s, c in by.items()))
                rounds = results[part]["rounds"]
                for pair in rounds[0]["ratios"]:
                    got = sorted(r["ratios"][pair] for r in rounds if pair in r["ratios"])
                    reps = sorted(r["repeats"][pair] for r in rounds if pair in r["repeats"])
                    print(
                        f"  {pair}: ratio B/A median {statistics.median(got):.3f} ({got[0]:.3f}-{got[-1]:.3f}), "
                        f"repeats a side {reps[0]}-{reps[-1]} (median {statistics.median(reps):g}); "
                        + mde_line(rounds, pair)
                    )
            if part in ("aa", "malloc", "aa-overhead"):
                print(f"  MDE over all pairs and rounds: {mde_line(results[part]['rounds'], None)}")
    summary = {
        "rounds": n,
        "repeats": args.repeats,
        "threshold": THRESHOLD,
        "alpha": ALPHA,
        "metric": METRIC,
        "elapsed_s": round(time.monotonic() - t0, 1),
        "parts": results,
    }
    (out / "bench-gate.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"details: {out / 'bench-gate.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
