"""The in-process launcher: runs a trial inside the harness's own process.

For fast tests of well-behaved strategies only: there is no fresh interpreter, no
process group and no watchdog (a hanging strategy hangs the caller), and the harness's
own state (imports, memory) is the trial's. Child processes a strategy leaves behind
are still found, reported and killed. The local launcher is what measurements use.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from harness import worker
from harness.running.launchers.base import Probe, TrialOutput, TrialSpec, UserCode
from harness.running.launchers.collect import read_records, scratch_root, trial_prefix
from strategies import faults


class InProcessLauncher:
    name = "inprocess"

    def __init__(self, python: str | None = None, recalibrate: bool = False, user: UserCode | None = None) -> None:
        if python not in (None, sys.executable):
            raise ValueError("the in-process launcher runs in the harness's own interpreter; --python needs 'local'")
        self.recalibrate = recalibrate
        self.user = user or UserCode()

    def probe(self) -> Probe:
        worker.use_paths(list(self.user.paths))
        return Probe.from_answer(worker.probe(self.recalibrate, self.user.strategies))

    def available(self) -> dict[str, Any]:
        worker.use_paths(list(self.user.paths))
        return worker.available(self.user.strategies)

    def run(self, spec: TrialSpec) -> TrialOutput:
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        with tempfile.TemporaryDirectory(prefix=trial_prefix(), dir=scratch_root()) as tmp:
            out = Path(tmp) / "out"
            out.mkdir()
            doc = {"strategy": spec.strategy, "workload": spec.workload.to_dict(), "paths": list(self.user.paths)}
            doc = json.loads(json.dumps(doc))
            t0 = time.perf_counter()
            status, errors = "ok", []
            meta = worker.execute(doc, str(out), lifeline=False)
            ended_ns = time.perf_counter_ns()
            if meta.get("crashed"):
                status = "error"
            errors.extend(meta.get("errors", []))
            if meta.get("children_left"):
                errors.append(f"strategy returned with live children: {meta['children_left']}")
            leftovers = []
            for p in psutil.Process().children(recursive=True):
                if p.pid not in before:
                    with contextlib.suppress(psutil.Error):
                        leftovers.append(f"pid {p.pid}: {' '.join(p.cmdline())[:120]}")
                        p.kill()
            scratch = out / "scratch"
            reads, writes = read_records(scratch, spec.workload.writers, spec.workload.items_per_writer)
            return TrialOutput(
                status=status,
                meta=meta,
                reads=reads,
                writes=writes,
                wall_s=time.perf_counter() - t0,
                pid=os.getpid(),
                ended_ns=ended_ns,
                fault_events=faults.read_events(str(scratch)),
                errors=errors,
                leftovers=leftovers,
                where=socket.gethostname(),
            )
