"""Peak memory: this process's own high-water mark, split by command (``Peaks``), and that of a
subprocess, sampled from outside."""

from __future__ import annotations

import resource
import subprocess
import time
from contextlib import suppress
from typing import Any

from tests.fuzz import ROOT


def own_peak_kb() -> int:
    """This process's own peak RSS (KiB). Linux's VmHWM belongs to this address space; ru_maxrss
    would carry the high-water mark of whatever this process was forked or exec'd from (pytest,
    at 500 MB by the end of a suite): the fuzz must not be charged with its runner's memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class Peaks:
    """A worker's peak memory, split by command: ``mark`` reads this process's high-water mark
    since the last mark, then resets it (Linux: ``clear_refs``), so each command is charged
    with its own peak. ``worst`` names the command with the highest peak and what the worker
    held just before it (its footprint so far: interpreter, pandas, pyarrow, matplotlib...)."""

    def __init__(self) -> None:
        self.peak_kb = self.worst_kb = self.held_kb = 0
        self.worst = ""
        self.mark("start")

    def mark(self, label: str) -> int:
        kb = own_peak_kb()
        self.peak_kb = max(self.peak_kb, kb)
        if kb > self.worst_kb:
            self.worst_kb, self.worst = kb, f"{label} (from {self.held_kb // 1024} MB)"
        with suppress(OSError), open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # VmHWM := VmRSS (without it, marks only ever see the whole run's peak)
        self.held_kb = own_peak_kb()
        return kb

    def report(self) -> dict[str, Any]:
        self.mark("end")
        return {"peak_kb": self.peak_kb, "worst": f"{self.worst_kb // 1024} MB in {self.worst}"}


def run_sampled(cmd: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``cmd``; its result and its peak RSS (KiB), sampled from outside every 10 ms."""
    import psutil

    peak = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) as proc:
        deadline = time.monotonic() + timeout
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.communicate()
                raise subprocess.TimeoutExpired(cmd, timeout)
            with suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss // 1024)
            time.sleep(0.01)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak
