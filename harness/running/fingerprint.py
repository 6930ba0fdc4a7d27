"""The machine fingerprint recorded with every run (what makes two runs comparable)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from harness.running.launchers.base import Probe

PACKAGES = ("queuebench", "numpy", "pandas", "pyarrow", "psutil", "pydantic", "typer", "rich")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5
            )
            return out.stdout.strip() or platform.processor()
        except OSError:
            pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(root: Path) -> str | None:
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS/Windows
        return os.cpu_count() or 1


def _local_machine() -> dict[str, Any]:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = []
    return {
        "host": socket.gethostname(),
        "os": platform.system(),
        "os_release": platform.release(),
        "os_version": platform.version(),
        "arch": platform.machine(),
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "load_average": load,
    }


def fingerprint(worker_probe: Probe, start_method: str, root: Path | None) -> dict[str, Any]:
    """Everything that matters for comparing runs: OS, CPU, cores, Python, versions, load.

    The machine facts are the worker's probe's (where the trials run); the harness's own
    only fill in what a probe does not say (an older worker).
    """
    machine = {**_local_machine(), **worker_probe.machine}
    local = machine["host"] == socket.gethostname()
    return {
        **machine,
        "physical_cores": psutil.cpu_count(logical=False) if local else None,
        "effective_parallelism": worker_probe.effective_parallelism,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1) if local else None,
        "python": worker_probe.python_facts(),
        "harness_python": platform.python_version(),
        "start_method": start_method,
        "calibration": dataclasses.asdict(worker_probe.calibration),
        "calibration_source": worker_probe.calibration_source,
        "packages": _versions(),
        "git_commit": git_commit(root) if root is not None else None,
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
