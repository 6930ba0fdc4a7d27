"""Dask addresses that refuse, stay silent, have no worker, or are no address at all, through
``queuebench run --dask ADDR`` as real processes: each must end in one line on stderr and exit 2,
within its outer bound, never a hang, a traceback or a run written.

Every address is on 127.0.0.1: a port bound but not listening (refused), a port listening that
never answers (silent), a real scheduler with no worker or only a worker without ``trial=1`` (when
``distributed`` imports), and hostile spellings (bad ports, a scheme without its configuration, a
value that is an option). Seeded: the same arguments give the same cases.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import random
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.fuzz import ROOT

#: The deadline each case gives its waits (--dask-timeout), and the outer bound of its process.
DASK_TIMEOUT_S, CASE_OUTER_S = 2, 120
#: Spellings that are no usable address, all of them on 127.0.0.1 (or no host at all).
HOSTILE = (
    "tcp://127.0.0.1:99999",
    "tcp://127.0.0.1:-1",
    "tcp://127.0.0.1:abc",
    "tcp://127.0.0.1:",
    "tcp://127.0.0.1:9/x",
    "tcp://127.0.0.1:9 ",
    "tls://127.0.0.1:9",
    "--out",
    "-o",
    "-",
    "bogus",
    "",
)


@contextlib.contextmanager
def _refusing() -> Iterator[str]:
    """A port of ours, bound and not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def _silent() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def _without_trial_worker(n_workers: int) -> Callable[[], contextlib.AbstractContextManager[str]]:
    @contextlib.contextmanager
    def scheduler() -> Iterator[str]:
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=n_workers,
            processes=False,
            threads_per_worker=1,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,
        ) as cluster:
            yield cluster.scheduler_address

    return scheduler


@contextlib.contextmanager
def _spelled(address: str) -> Iterator[str]:
    yield address


def families() -> dict[str, list[Callable[[], contextlib.AbstractContextManager[str]]]]:
    """Each family's ways to make an address; "no worker" only where distributed imports."""
    found: dict[str, list[Callable[[], contextlib.AbstractContextManager[str]]]] = {
        "refuses": [_refusing],
        "silent": [_silent],
        "hostile": [lambda a=a: _spelled(a) for a in HOSTILE],  # type: ignore[misc]
    }
    if importlib.util.find_spec("distributed") is not None:
        found["no worker"] = [_without_trial_worker(0), _without_trial_worker(1)]
    return found


def dask_cases(n: int, seed: int, root: Path | None = None) -> tuple[Counter[str], list[str]]:
    """``n`` cases, the families taken in turn (each at least once when ``n`` allows), as real processes."""
    counts: Counter[str] = Counter()
    problems: list[str] = []
    fams = families()
    names = sorted(fams)
    for i in range(n):
        rng = random.Random(seed * 9_000_011 + i)
        family = names[i % len(names)]
        make = rng.choice(fams[family])
        with tempfile.TemporaryDirectory(dir=root, prefix="dask-") as tmp, make() as address:
            out = Path(tmp) / "out"
            cmd = [sys.executable, "-m", "harness.cli", "run", "scenarios/smoke.toml", "-s", "threads"]
            cmd += ["-r", "1", "--warmup", "0", "--dask-timeout", str(DASK_TIMEOUT_S), "-o", str(out)]
            cmd += ["--dask", address]
            label = f"dask case {i} ({family}: {address!r})"
            counts["dask_cases"] += 1
            try:
                done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CASE_OUTER_S)
            except subprocess.TimeoutExpired:
                counts["hangs"] += 1
                problems.append(f"{label}: hang")
                continue
            counts[f"dask exit {done.returncode}"] += 1
            lines = done.stderr.strip().splitlines()
            if "Traceback" in done.stderr or done.returncode != 2:
                counts["tracebacks"] += 1
                problems.append(f"{label}: rc {done.returncode}: {done.stderr[-300:]}")
            elif len(lines) != 1 or not lines[0].startswith("error: "):
                counts["not_one_line"] += 1
                problems.append(f"{label}: {len(lines)} lines on stderr: {done.stderr[-300:]}")
            if out.exists() and any(out.rglob("run.json")):
                counts["wrote_runs"] += 1
                problems.append(f"{label}: wrote a run")
    return counts, problems
