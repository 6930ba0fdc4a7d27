"""Check the trial memory figures against an independent outside poller (issue 24, item 1).

    python benchmarks/bench_memory.py [--repeats N] [--method cgroup|sample]

A poller process of its own (``--poll``) reads, every 10 ms, the PSS of every process in the
session of each running trial worker (``python -m harness.worker trial``: the launcher starts
each in a session of its own) and keeps each session's largest sum. Trials run one at a time
through the local launcher; each trial's figure is set beside the poller's for its session.
Linux only (``/proc``). Prints one markdown table; exit 0 always.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.running import launchers  # noqa: E402
from harness.running.launchers import TrialSpec  # noqa: E402
from strategies import base  # noqa: E402

MB = 2.0**20


def _stat(pid: str) -> tuple[int, int] | None:
    """(ppid, session) of a process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[1]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def _pss(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 0.0


def _is_worker(sid: int) -> bool:
    try:
        with open(f"/proc/{sid}/cmdline", "rb") as fh:
            cmd = fh.read().split(b"\0")
    except OSError:
        return False
    return b"harness.worker" in cmd and b"trial" in cmd


def poll(out: str) -> None:
    """Every 10 ms: sum PSS per trial session; on SIGTERM write {sid: peak bytes} as JSON."""
    peaks: dict[int, float] = {}
    order: list[int] = []
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    known: dict[int, bool] = {}
    ticks: dict[int, int] = {}
    gaps: dict[int, float] = {}
    last: dict[int, float] = {}
    while running:
        t0 = time.perf_counter()
        sums: dict[int, float] = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            st = _stat(pid)
            if st is None:
                continue
            sid = st[1]
            if sid not in known or not known[sid]:
                known[sid] = _is_worker(sid)
            if known[sid]:
                sums[sid] = sums.get(sid, 0.0) + _pss(pid)
        now = time.perf_counter()
        for sid, total in sums.items():
            if sid not in peaks:
                order.append(sid)
                ticks[sid], gaps[sid], last[sid] = 0, 0.0, now
            peaks[sid] = max(peaks.get(sid, 0.0), total)
            ticks[sid] += 1
            gaps[sid], last[sid] = max(gaps[sid], now - last[sid]), now
        time.sleep(max(0.0, 0.01 - (time.perf_counter() - t0)))
    Path(out).write_text(json.dumps([[sid, [peaks[sid], ticks[sid], gaps[sid]]] for sid in order]))


#: The audit's large case: 4 writers x 5 items of 8 MB, a pool of 3, 5 ms of io each side.
EIGHT_MB = base.Workload(
    writers=4,
    readers=3,
    items_per_writer=5,
    payload_bytes=8 << 20,
    writer_work=base.WorkSpec("io", 5),
    reader_work=base.WorkSpec("io", 5),
)

CASES: dict[str, tuple[str, base.Workload]] = {
    "manager-pool, 8 MB payloads": (
        "manager-pool",
        EIGHT_MB,
    ),
    "mp-queue, 8 MB payloads": (
        "mp-queue",
        EIGHT_MB,
    ),
    "process-pool, 8 MB payloads": (
        "process-pool",
        EIGHT_MB,
    ),
    "tiny (threads, smoke shape)": (
        "threads",
        base.Workload(
            writers=4,
            readers=2,
            items_per_writer=10,
            payload_bytes=64,
            writer_work=base.WorkSpec("io", 0.2),
            reader_work=base.WorkSpec("io", 1),
        ),
    ),
}


def _outrank() -> None:
    with contextlib.suppress(OSError):  # not root: the poller runs at the trials' priority
        os.nice(-15)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--method", choices=("cgroup", "sample"), default="cgroup")
    ap.add_argument("--poll", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.poll:
        poll(args.poll)
        return
    if args.method == "sample":
        os.environ["QUEUEBENCH_MEMORY"] = "sample"
    peaks_file = Path(f"/tmp/queuebench-poller-{os.getpid()}.json")
    # The poller outranks the trials (as root: nice -15), so that on a busy machine it keeps its ticks.
    poller = subprocess.Popen([sys.executable, __file__, "--poll", str(peaks_file)], preexec_fn=_outrank)
    time.sleep(0.5)
    launcher = launchers.make("local")
    ours: list[tuple[str, int, dict[str, Any]]] = []
    for case, (strategy, wl) in CASES.items():
        for _ in range(args.repeats):
            out = launcher.run(TrialSpec(strategy, wl, 120))
            ours.append((case, out.pid, dict(out.memory, status=out.status, hwm=out.meta.get("peak_rss_self"))))
    time.sleep(0.3)
    poller.send_signal(signal.SIGTERM)
    poller.wait()
    outside = dict(json.loads(peaks_file.read_text()))
    peaks_file.unlink()
    print(f"method asked: {args.method}; load {os.getloadavg()[0]:.2f}")
    print(
        "| case | method | queuebench tree peak MB | outside poller MB (ticks, longest gap ms) | ratio | samples "
        "| largest MB | worker VmHWM MB | roles MB (worker/writer/reader/manager/other) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for case, pid, mem in ours:
        peak, ticks, gap = outside.get(pid, (0.0, 0, 0.0))
        tree, poll_peak = mem.get("tree_peak_bytes", 0.0) / MB, peak / MB
        roles = "/".join(
            f"{mem.get(f'{r}_bytes', 0.0) / MB:.0f}" for r in ("worker", "writer", "reader", "manager", "other")
        )
        ratio = tree / poll_peak if poll_peak else float("nan")
        print(
            f"| {case} | {mem.get('method', 'old sampler')} | {tree:.1f} | {poll_peak:.1f} ({ticks}, {gap * 1e3:.0f}) "
            f"| {ratio:.2f} | {mem.get('samples', 0)} | {mem.get('largest_process_peak_bytes', 0.0) / MB:.1f} | "
            f"{(mem.get('hwm') or 0.0) / MB:.1f} | {roles} |"
        )


if __name__ == "__main__":
    main()
