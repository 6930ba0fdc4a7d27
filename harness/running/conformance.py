"""``queuebench check STRATEGY``: the checks every built-in strategy passes, run against any one
(yours as "module:callable", an installed one, or a built-in one), said in plain words.

anyio's pytest plugin is the model: a kit users run on their own code. The scenarios are
``scenarios/conformance.toml``; every trial is a real trial, in its own worker process, judged
by the harness's own checks (:func:`harness.running.suite.classify`). One Ctrl+C check on POSIX:
a whole ``queuebench run`` of the strategy interrupted mid-trial must exit 130 and leave no
process of its session behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.running.launchers.base import UserCode

#: The checks, in the order they are told: name -> what it means.
CHECKS = {
    "runs": "runs to the end without an error of its own",
    "exactly-once": "delivers every item exactly once (none lost, none twice, none unknown)",
    "pool limit": "never has more items in its readers at once than the pool size",
    "start line": "stamps the start line (Trace.start) before any item is made",
    "no process left": "leaves no process behind when it returns",
}


@dataclass(frozen=True)
class Finding:
    check: str
    passed: bool
    #: One line: what was seen (the failing scenario and why, or what the faults did).
    said: str


@dataclass
class Report:
    strategy: str
    findings: list[Finding] = field(default_factory=list)
    run_dir: Path | None = None

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.findings)


def _judge(trials: list[dict[str, Any]], faulty: set[str]) -> list[Finding]:
    """The findings from the run's trials: the checks over the plain scenarios, the faults (the
    scenarios named in ``faulty``) told. A check no trial reached says so and does not pass."""
    plain = [t for t in trials if t["scenario"] not in faulty]
    failures: dict[str, list[str]] = {name: [] for name in CHECKS}
    for t in plain:
        m, where = t.get("metrics") or {}, t["scenario"]
        if t["status"] in ("error", "timeout", "unavailable"):
            failures["runs"].append(f"{where}: {t['status']}: {'; '.join(t['errors'])[:300]}")
            continue
        if not m.get("exactly_once", False):
            failures["exactly-once"].append(
                f"{where}: lost {m.get('lost')}, duplicated {m.get('duplicated')}, unexpected {m.get('unexpected')}"
            )
        if m.get("max_concurrency", 0) > m.get("pool_size", 0):
            failures["pool limit"].append(f"{where}: {m['max_concurrency']} at once with a pool of {m['pool_size']}")
        if any("start line" in e for e in t["errors"]):
            failures["start line"].append(f"{where}: " + next(e for e in t["errors"] if "start line" in e))
        if t.get("leftovers"):
            failures["no process left"].append(f"{where}: {'; '.join(t['leftovers'])[:200]}")
        other = [
            e for e in t["errors"] if not any(w in e for w in ("exactly-once", "concurrency", "start line", "left"))
        ]
        if other:
            failures["runs"].append(f"{where}: {'; '.join(other)[:300]}")
    ran = sum(t["status"] not in ("error", "timeout", "unavailable") for t in plain)
    out = []
    for name in CHECKS:
        if failures[name]:
            out.append(Finding(name, False, failures[name][0]))
        elif name != "runs" and not ran:
            out.append(Finding(name, False, "not checked: no workload ran to the end"))
        else:
            out.append(Finding(name, True, f"{ran if name != 'runs' else len(plain)} workloads"))
    for t in (t for t in trials if t["scenario"] in faulty and "faults" in t):
        f = t["faults"]
        told = f"{t['scenario']}: {f['outcome']}, {f['delivered']} delivered, {f['lost']} lost"
        if t.get("leftovers"):
            told += f"; left {len(t['leftovers'])} process(es) behind"
        out.append(Finding(f"fault {t['scenario'].removeprefix('check-')}", not t.get("leftovers"), told))
    return out


def interrupted(strategy: str, user: UserCode, python: str, grace_s: float = 20.0) -> Finding:
    """Ctrl+C in the middle of a trial: ``queuebench run`` must exit 130 and leave no process of
    its session behind (POSIX: the signal goes to the process group, as a terminal sends it)."""
    if not hasattr(os, "killpg"):  # pragma: no cover - Windows: CTRL_C_EVENT needs a console
        return Finding("ctrl+c", True, "not checked on this platform (needs POSIX process groups)")
    with tempfile.TemporaryDirectory(prefix="queuebench-check-") as tmp:
        scenario = Path(tmp) / "long.toml"
        scenario.write_text(
            '[[scenario]]\nname = "check-interrupted"\nwriters = 2\nreaders = 2\nitems_per_writer = 400\n'
            'reader_work = { kind = "io", ms = 50 }\nrepeats = 1\nwarmup = 0\ntimeout = 120\n'
        )
        out = str(Path(tmp) / "out")
        cmd = [sys.executable, "-m", "queuebench", "run", str(scenario), "-s", strategy, "-o", out, "--python", python]
        for path in user.paths:
            cmd += ["--path", path]
        with open(Path(tmp) / "output.txt", "wb") as said, _interruptible_children():
            proc = subprocess.Popen(
                cmd, cwd=tmp, stdin=subprocess.DEVNULL, stdout=said, stderr=subprocess.STDOUT, start_new_session=True
            )
        started = _wait_for(lambda: any(Path(tmp, "out").glob("*/run.json")), 60.0)
        time.sleep(2.0 if started else 0.0)  # the probe is done, a trial is under way
        os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
        left = _session_members(proc.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            return Finding("ctrl+c", False, f"still running {grace_s:g} s after Ctrl+C; killed")
        if proc.returncode != 130:
            tail = " / ".join(Path(tmp, "output.txt").read_text(errors="replace").strip().splitlines()[-3:])
            return Finding("ctrl+c", False, f"exited {proc.returncode} after Ctrl+C, not 130 (it said: {tail[-300:]})")
        if left:
            return Finding("ctrl+c", False, f"left {len(left)} process(es) of its session: pids {left[:5]}")
        return Finding("ctrl+c", True, "stopped mid-trial with 130; no process left")


@contextlib.contextmanager
def _interruptible_children() -> Iterator[None]:
    """Children started inside take Ctrl+C as from a terminal, whatever this process does with it.

    A process started with SIGINT ignored keeps it ignored, and Python then never raises
    KeyboardInterrupt: ``queuebench check`` run in the background of a script (``&``: the shell
    ignores SIGINT for it), or under a parent that ignores it, would pass that on to the run it
    interrupts, which would then finish its trial and exit 0, failing the check for the wrong
    reason. Ignored dispositions survive exec, handled ones become the default, so SIGINT is given
    a handler here (from the main thread only: Python allows nothing else) until the child is
    started."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is not None:  # None: set outside Python, and it cannot be put back from here
            signal.signal(signal.SIGINT, previous)


def _wait_for(ready: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ready():
            return True
        time.sleep(0.1)
    return False


def _session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (Linux: /proc; elsewhere psutil's process list)."""
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if p.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(p.info["pid"]) == sid:
                found.append(p.info["pid"])
    return found


def check(strategy: str, user: UserCode, out: Path, python: str = sys.executable, ctrl_c: bool = True) -> Report:
    """Run the conformance scenarios against ``strategy``; raises as :func:`suite.prepare` does, and
    WorkerError (one line) when the worker cannot even load it."""
    from harness import scenario
    from harness.errors import WorkerError
    from harness.running import suite

    loaded = scenario.load(scenario.scenario_dir() / "conformance.toml")
    opts = suite.Options(strategies=[strategy], repeat=1, warmup=0, python=python, out=out, user=user, force=True)
    prepared = suite.prepare(loaded, opts)
    ok, why = prepared.probe.strategies.get(strategy, (True, ""))
    if not ok:
        hint = "" if user.paths else " (is your project on the worker's path? give --path DIR)"
        raise WorkerError(f"strategy {strategy!r} cannot run under {python}: {why}{hint}")
    run_dir, doc = prepared.run()
    faulty = {ls.scenario.name for ls in loaded if ls.scenario.faults is not None}
    report = Report(strategy, _judge(list(doc["trials"]), faulty), run_dir)
    if ctrl_c:
        report.findings.append(interrupted(strategy, user, python))
    return report
