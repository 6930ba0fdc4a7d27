"""Check the trial memory figures against independent outside pollers (issue 24, item 1).

    python benchmarks/bench_memory.py [--repeats N] [--method cgroup|sample]

Two poller processes of their own, both at nice -15 where allowed, neither sharing code with
what they check:

* ``--poll``: every 10 ms, the PSS of every process in the session of each running trial worker
  (``python -m harness.worker trial``: the launcher starts each in a session of its own), and
  each session's largest sum: the audit's reference. Reading PSS (``smaps_rollup``) walks a
  process's page tables under its mmap lock, so it stalls while a trial maps or unmaps its
  8 MB copies: on a loaded machine its gaps reach hundreds of ms and it misses short peaks.
* ``--poll-usage`` (cgroup method only): every 1 ms, the kernel's current charge of each trial
  cgroup (``memory.usage_in_bytes`` on v1, ``memory.current`` on v2: a counter read, no page
  walk, no lock), its largest value, and ``memory.stat``'s split at that moment (anonymous,
  file and shared memory, kernel): whether the charge is the processes' own memory.

Trials run one at a time through the local launcher; each trial's figure is set beside both
pollers'. Linux only (``/proc``). Prints one markdown table; exit 0 always.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
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


def _until_sigterm() -> threading.Event:
    """Set when this poller is told to stop (SIGTERM): it then writes what it saw."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    return stopped


def poll(out: str) -> None:
    """Every 10 ms: sum PSS per trial session; on SIGTERM write {sid: peak bytes} as JSON."""
    peaks: dict[int, float] = {}
    order: list[int] = []
    stopped = _until_sigterm()
    known: dict[int, bool] = {}
    ticks: dict[int, int] = {}
    gaps: dict[int, float] = {}
    last: dict[int, float] = {}
    while not stopped.is_set():
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


def _memory_cgroup_parent() -> tuple[Path, int] | None:
    """This process's own memory cgroup folder (v2 first) and its version: where trials' are made."""
    own = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as fh:
        for line in fh:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    for mount, version, key in (("/sys/fs/cgroup", 2, ""), ("/sys/fs/cgroup/memory", 1, "memory")):
        mine = next((p for c, p in own.items() if c == key or key in c.split(",")), None)
        folder = Path(mount) / (mine or "/").lstrip("/")
        if mine is not None and (folder / ("memory.current" if version == 2 else "memory.usage_in_bytes")).exists():
            return folder, version
    return None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


#: memory.stat's fields for the split at the peak: (anonymous, file, shared memory) per version.
STAT_FIELDS = {1: ("total_rss", "total_cache", "total_shmem"), 2: ("anon", "file", "shmem")}


def _split(group: Path, version: int) -> list[float]:
    """[anonymous, file (page cache), of which shared memory, kernel] bytes charged now."""
    got: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError), open(group / "memory.stat", encoding="utf-8") as fh:
        for line in fh:
            key, value = line.split()
            got[key] = int(value)
    anon, file, shmem = (float(got.get(k, 0)) for k in STAT_FIELDS[version])
    kernel = got.get("kernel", 0) if version == 2 else _read_int(group / "memory.kmem.usage_in_bytes") or 0
    return [anon, file, shmem, float(kernel)]


def _leader(group: Path) -> int | None:
    """The trial worker in a cgroup: the process that leads a session of its own."""
    with contextlib.suppress(OSError, ValueError):
        for pid in (group / "cgroup.procs").read_text().split():
            st = _stat(pid)
            if st is not None and st[1] == int(pid):
                return int(pid)
    return None


def _hwm(pid: str) -> int:
    """A process's VmHWM (the kernel's high-water mark of its RSS), bytes; 0 when gone."""
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class _Charge:
    """What the charge poller saw of one trial cgroup."""

    worker: int | None = None
    peak: int = 0
    ticks: int = 0
    gap: float = 0.0
    last: float = 0.0
    split: list[float] = field(default_factory=list)
    hwm: dict[str, int] = field(default_factory=dict)  # pid -> its VmHWM, last read


def poll_usage(out: str) -> None:
    """Every 1 ms: each trial cgroup's charge (every 10th tick, its processes' VmHWM too); on
    SIGTERM write [[worker pid, [peak, ticks, longest gap, split at the peak, sum of VmHWM]]]."""
    found = _memory_cgroup_parent()
    stopped = _until_sigterm()
    seen: dict[str, _Charge] = {}
    while not stopped.is_set() and found is not None:
        parent, version = found
        t0 = time.perf_counter()
        with contextlib.suppress(OSError):
            for group in parent.glob("queuebench-*"):
                usage = _read_int(group / ("memory.current" if version == 2 else "memory.usage_in_bytes"))
                if usage is None:
                    continue
                c = seen.setdefault(group.name, _Charge(last=t0))
                c.worker = c.worker or _leader(group)
                c.ticks, c.gap, c.last = c.ticks + 1, max(c.gap, t0 - c.last), t0
                if usage > c.peak:
                    c.peak, c.split = usage, _split(group, version)
                if c.ticks % 10 == 0:
                    with contextlib.suppress(OSError):
                        for pid in (group / "cgroup.procs").read_text().split():
                            c.hwm[pid] = max(c.hwm.get(pid, 0), _hwm(pid))
        time.sleep(max(0.0, 0.001 - (time.perf_counter() - t0)))
    rows = [[c.worker, [c.peak, c.ticks, c.gap, c.split, sum(c.hwm.values())]] for c in seen.values() if c.worker]
    Path(out).write_text(json.dumps(rows))


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


def _ratios(pairs: list[tuple[float, float]]) -> str:
    got = [a / b for a, b in pairs if b]
    return f"{min(got):.2f}-{max(got):.2f}" if got else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--method", choices=("cgroup", "sample"), default="cgroup")
    ap.add_argument("--poll", help=argparse.SUPPRESS)
    ap.add_argument("--poll-usage", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.poll or args.poll_usage:
        poll(args.poll) if args.poll else poll_usage(args.poll_usage)
        return
    if args.method == "sample":
        os.environ["QUEUEBENCH_MEMORY"] = "sample"
    files = {m: Path(f"/tmp/queuebench-{m}-{os.getpid()}.json") for m in ("poll", "poll-usage")}
    if args.method == "sample":
        del files["poll-usage"]
    # The pollers outrank the trials (as root: nice -15), so that on a busy machine they keep their ticks.
    pollers = [
        subprocess.Popen([sys.executable, __file__, f"--{m}", str(f)], preexec_fn=_outrank) for m, f in files.items()
    ]
    time.sleep(0.5)
    launcher = launchers.make("local")
    ours: list[tuple[str, int, dict[str, Any]]] = []
    for case, (strategy, wl) in CASES.items():
        for _ in range(args.repeats):
            out = launcher.run(TrialSpec(strategy, wl, 120))
            ours.append((case, out.pid, dict(out.memory, status=out.status, hwm=out.meta.get("peak_rss_self"))))
    time.sleep(0.3)
    for poller in pollers:
        poller.send_signal(signal.SIGTERM)
        poller.wait()
    outside, usage = (
        {int(k): v for k, v in json.loads(f.read_text())} if f.exists() else {}
        for f in (files["poll"], files.get("poll-usage", Path("/nonexistent")))
    )
    for f in files.values():
        f.unlink(missing_ok=True)
    print(f"method asked: {args.method}; load {os.getloadavg()[0]:.2f}")
    print(
        "| case | method | queuebench tree peak MB | PSS poller MB (ticks, longest gap ms) | ratio | "
        "charge poller MB (ticks, gap ms) | ratio | at its peak: anon/file/kernel MB | sum of VmHWM MB "
        "| sampler MB (samples) "
        "| largest MB | worker VmHWM MB | roles MB (worker/writer/reader/manager/other) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    per_case: dict[str, list[tuple[float, float, float, float, float]]] = {}
    for case, pid, mem in ours:
        peak, ticks, gap = outside.get(pid, (0.0, 0, 0.0))
        charge, cticks, cgap, split, hwm_sum = usage.get(pid, (0.0, 0, 0.0, [], 0))
        tree, poll_peak = mem.get("tree_peak_bytes", 0.0) / MB, peak / MB
        sampled = mem.get("sampled_tree_peak_bytes", 0.0)
        per_case.setdefault(case, []).append((tree, poll_peak, charge / MB, hwm_sum / MB, sampled / MB))
        roles = "/".join(
            f"{mem.get(f'{r}_bytes', 0.0) / MB:.0f}" for r in ("worker", "writer", "reader", "manager", "other")
        )
        ratio = f"{tree / poll_peak:.2f}" if poll_peak else "n/a"
        cratio = f"{tree / (charge / MB):.2f}" if charge else "n/a"
        parts = "/".join(f"{x / MB:.1f}" for x in (split[0], split[1], split[3])) if split else "n/a"
        print(
            f"| {case} | {mem.get('method', 'old sampler')} | {tree:.1f} | {poll_peak:.1f} ({ticks}, {gap * 1e3:.0f}) "
            f"| {ratio} | {charge / MB:.1f} ({cticks}, {cgap * 1e3:.0f}) | {cratio} | {parts} | {hwm_sum / MB:.0f} "
            f"| {mem.get('sampled_tree_peak_bytes', 0.0) / MB:.1f} ({mem.get('samples', 0)}) "
            f"| {mem.get('largest_process_peak_bytes', 0.0) / MB:.1f} | "
            f"{(mem.get('hwm') or 0.0) / MB:.1f} | {roles} |"
        )
    print(
        "\nper case, queuebench / poller (range over the repeats): PSS poller; charge poller; "
        "at or below the sum of its processes' VmHWM (each one's own peak: the tree cannot hold more at once); "
        "the dense sampler's own estimate (run beside every trial; the figure where no cgroup can be had) / "
        "the kernel's peak"
    )
    for case, rows in per_case.items():
        inside = sum(t <= h for t, _, _, h, _ in rows if h)
        kernel = [(x, t) for t, _, _, h, x in rows if h]  # a cgroup measured the trial
        print(
            f"- {case}: {_ratios([(t, p) for t, p, *_ in rows])}; {_ratios([(t, c) for t, _, c, *_ in rows])}; "
            f"{inside} of {sum(1 for *_, h, _ in rows if h)}; {_ratios(kernel)}"
        )


if __name__ == "__main__":
    main()
