"""Real runs of valid but extreme scenarios (issue #28, item 5): many writers or readers, one item
or a megabyte payload, a queue of one, a timeout the trial overruns, a reader that dies or hangs,
a writer that dies; each run a process of its own, with a temporary folder of its own.

Counted per run, after it ended: what it left in /dev/shm under its own pid (trial folders
``queuebench-<pid>-*``, semaphores ``sem.mp-qb<pid>-*``) and anything left in its temporary
folder. Other runs on the machine leave their own pids: only this run's are counted, which
decides whether leftovers seen while others ran were this harness's. Leftovers are removed
once counted. Seeded, like every family.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.fuzz import ROOT

STRATEGIES = ["threads", "asyncio", "sequential", "mp-queue", "process-pool", "manager-pool", "seed-pool"]
SHM = Path("/dev/shm")
RUN_SECONDS = 180


def extreme_scenario(rng: random.Random) -> str:
    """A valid scenario at the edges of what is sensible for a few seconds' run."""
    writers, items = rng.choice([(1, 1), (64, 1), (16, 2), (3, 6), (1, 40)])
    readers = rng.choice([1, 2, 8, 32])
    payload = rng.choice([0, 1, 64, 65_536, 1_048_576])
    work = rng.choice(['{ kind = "io", ms = 0.01 }', '{ kind = "io", ms = 1 }', '{ kind = "cpu", ms = 0.5 }'])
    lines = [
        "[[scenario]]",
        f'name = "extreme-{rng.randrange(10**6)}"',
        f"writers = {writers}",
        f"readers = {readers}",
        f"items_per_writer = {items}",
        f"payload_bytes = {payload}",
        f"queue_maxsize = {rng.choice([0, 1, 2])}",
        f"reader_work = {work}",
        "repeats = 1",
        "warmup = 0",
        f"timeout = {rng.choice([0.5, 3, 10])}",
    ]
    total = writers * items
    fault = rng.choice(["none", "none", "reader_die", "reader_hang", "reader_raise", "writer_die"])
    if fault == "writer_die":
        lines += ["[scenario.faults]", f"writer_die = [[{rng.randrange(writers)}, {rng.randrange(items)}]]"]
    elif fault != "none":
        lines += ["[scenario.faults]", f"{fault} = [{rng.randrange(total)}]"]
        lines += ["hang_s = 30"] if fault == "reader_hang" else []
    return "\n".join(lines) + "\n"


def _run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``args`` in a session of its own; its result and its pid. Past RUN_SECONDS its whole
    process group is killed and TimeoutExpired raised."""
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err), proc.pid


def own_leftovers(pid: int, tmp: Path) -> tuple[list[Path], list[Path]]:
    """What the run of ``pid`` left: in /dev/shm under its pid, and anything in its temp folder."""
    shm = []
    if SHM.is_dir():
        mine = (f"queuebench-{pid}-", f"sem.mp-qb{pid}-")
        shm = [p for p in SHM.iterdir() if p.name.startswith(mine)]
    return shm, sorted(tmp.iterdir()) if tmp.is_dir() else []


def real_runs(n: int, seed: int, workdir: Path) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for i in range(n):
        rng = random.Random(seed * 2_000_003 + i)
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="real-"))
        tmp = box / "tmp"
        tmp.mkdir()
        scenario = box / "extreme.toml"
        scenario.write_text(extreme_scenario(rng))
        chosen = rng.sample(STRATEGIES, rng.choice([1, 2]))
        args = [sys.executable, "-m", "harness.cli", "run", str(scenario), "--out", str(box / "out"), "--force"]
        args += [a for s in chosen for a in ("-s", s)]
        env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
        started = time.monotonic()
        try:
            done, pid = _run(args, env)
        except subprocess.TimeoutExpired:
            counts["hangs"] += 1
            problems.append(f"real run {i} ({', '.join(chosen)}): still running after {RUN_SECONDS} s")
            shutil.rmtree(box, ignore_errors=True)
            continue
        counts["real_runs"] += 1
        counts[f"real exit {done.returncode}"] += 1
        if "Traceback" in done.stderr or done.returncode not in (0, 1, 2):
            counts["tracebacks"] += 1
            problems.append(f"real run {i} ({', '.join(chosen)}): rc {done.returncode}: {done.stderr[-300:]!r}")
        shm, temp = own_leftovers(pid, tmp)
        counts["real_shm_left"] += len(shm)
        counts["real_tmp_left"] += len(temp)
        if shm or temp:
            left = ", ".join(p.name for p in [*shm, *temp][:4])
            problems.append(f"real run {i} ({', '.join(chosen)}, {time.monotonic() - started:.0f} s) left: {left}")
        for p in shm:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        shutil.rmtree(box, ignore_errors=True)
    return counts, problems
