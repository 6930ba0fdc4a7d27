"""Measure the regression gate itself (`make bench-gate`): how often it cries wolf, how
often it catches a real slowdown.

Each of N rounds makes three runs of benchmarks/gate.toml with the test-only strategy
``test-slow`` (``sequential`` with reader work scaled by ``delay_factor``):

* base — delay_factor 1.0
* same — delay_factor 1.0 again: the A/A pair (base, same) must not say "slower"
* slow — delay_factor 1.2: the A/B pair (base, slow) must say "slower"

and judges both pairs exactly as ``queuebench compare`` does (harness.compare). The order
of ``same`` and ``slow`` alternates between rounds so that drift of a shared machine
favours neither. Targets (issue 4), for N = 20: A/A at most 1 "slower", A/B at least 19.
The last pair of each kind also goes through the real CLI, to check its exit codes.

    python benchmarks/bench_gate.py [--rounds 20] [--repeats 10] [--factor 1.2]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import compare, launchers, render, scenario, suite

HERE = Path(__file__).resolve().parent


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def one_run(
    loaded: list[scenario.LoadedScenario], probe: dict[str, Any], out: Path, repeats: int, factor: float
) -> tuple[Path, dict[str, Any]]:
    opts = suite.Options(repeat=repeats, out=out, strategy_options=(("delay_factor", factor),))
    return suite.execute(loaded, opts, probe)


def verdict(base: dict[str, Any], cur: dict[str, Any], metric: str, args: argparse.Namespace) -> compare.Row:
    report = compare.compare(base, cur, metric, compare.parse_threshold(args.max_regression), args.alpha)
    (row,) = report.rows
    return row


def cli_exit(base: Path, cur: Path, args: argparse.Namespace) -> int:
    cmd = [sys.executable, "-m", "harness.cli", "compare", str(base), str(cur)]
    cmd += ["--max-regression", args.max_regression, "--alpha", str(args.alpha)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=20, help="A/A and A/B pairs to make (default 20)")
    ap.add_argument("--repeats", type=int, default=10, help="measured repeats per run (default 10)")
    ap.add_argument("--factor", type=float, default=1.2, help="injected slowdown of reader work (default 1.2)")
    ap.add_argument("--max-regression", default="10%", help="compare's threshold (default 10%%)")
    ap.add_argument("--alpha", type=float, default=0.01, help="compare's alpha (default 0.01)")
    ap.add_argument("--scenario", type=Path, default=HERE / "gate.toml")
    ap.add_argument("--out", type=Path, default=None, help="run directories (default results/bench-gate/<time>)")
    args = ap.parse_args()
    out = args.out or Path("results") / "bench-gate" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    loaded = scenario.load(args.scenario)
    probe = launchers.make("local").probe()
    load_start, t0 = load_average(), time.monotonic()
    print(
        f"bench-gate: {args.rounds} rounds x 3 runs x {args.repeats} repeats of {args.scenario.name}, "
        f"injected factor {args.factor}, threshold {args.max_regression}, alpha {args.alpha}"
    )
    print(f"load average at start: {load_start} · effective parallelism {probe['effective_parallelism']}")
    metrics = ("throughput", "p50", "p99")
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    rows: list[dict[str, Any]] = []
    last: dict[str, tuple[Path, Path]] = {}
    for i in range(args.rounds):
        base_dir, base = one_run(loaded, probe, out, args.repeats, 1.0)
        order = [("same", 1.0), ("slow", args.factor)]
        if i % 2:
            order.reverse()
        runs = {label: one_run(loaded, probe, out, args.repeats, f) for label, f in order}
        line = []
        for label, kind in (("same", "A/A"), ("slow", "A/B")):
            cur_dir, cur = runs[label]
            last[kind] = (base_dir, cur_dir)
            for m in metrics:
                row = verdict(base, cur, m, args)
                counts[f"{kind} {m}"][row.verdict.value] += 1
                rows.append({"round": i + 1, "pair": kind, "metric": m, "ratio": row.ratio, "verdict": row.verdict})
                if m == "throughput":
                    line.append(f"{kind} {row.ratio:.3f} {row.verdict.value}")
        print(f"round {i + 1:2d}/{args.rounds}: {' · '.join(line)} · load {load_average()}", flush=True)
    elapsed = time.monotonic() - t0
    cli = {kind: cli_exit(*pair, args) for kind, pair in last.items()}
    aa = counts["A/A throughput"]["slower"]
    ab = counts["A/B throughput"]["slower"]
    n = args.rounds
    aa_ok, ab_ok = aa <= n / 20, ab >= n * 19 / 20
    print()
    print(render.fingerprint_line(json.loads((last["A/A"][0] / "run.json").read_text())["fingerprint"]))
    print(f"load average: start {load_start}, end {load_average()} · {elapsed / 60:.1f} min")
    for key in sorted(counts):
        print(f"  {key:16s} " + ", ".join(f"{v} {k}" for k, v in sorted(counts[key].items())))
    print(f"A/A (same code twice):        {aa}/{n} slower  (target <= {n / 20:g})  {'PASS' if aa_ok else 'FAIL'}")
    verdict_ab = "PASS" if ab_ok else "FAIL"
    print(f"A/B ({args.factor:g}x reader work): {ab}/{n} slower  (target >= {n * 19 / 20:g})  {verdict_ab}")
    print(f"CLI exit codes on the last pairs: A/A {cli['A/A']} (want 0), A/B {cli['A/B']} (want 1)")
    summary = {
        "rounds": n,
        "repeats": args.repeats,
        "factor": args.factor,
        "max_regression": args.max_regression,
        "alpha": args.alpha,
        "load_average_start": load_start,
        "load_average_end": load_average(),
        "elapsed_s": round(elapsed, 1),
        "counts": {k: dict(v) for k, v in counts.items()},
        "cli_exit": cli,
        "rows": rows,
    }
    (out / "bench-gate.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"details: {out / 'bench-gate.json'}")
    return 0 if aa_ok and ab_ok and cli == {"A/A": 0, "A/B": 1} else 1


if __name__ == "__main__":
    sys.exit(main())
