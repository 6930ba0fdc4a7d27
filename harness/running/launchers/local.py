"""The local launcher: each trial is a fresh ``python -m harness.worker`` on this machine.

The worker runs in its own process group (a session on POSIX) under a watchdog: a trial
that outlives its timeout is killed with its whole process tree and reported as
``timeout``; processes still alive after a trial ended (orphans of the strategy) are
found, reported and killed. Its memory is sampled from outside (:mod:`.memory`).

``python`` picks the worker's interpreter (``--python``), ``root`` the source tree put
on its ``PYTHONPATH`` (the tree holding ``harness/`` and ``strategies/``): another
checkout can be measured by the same harness. The worker starts in a folder of its own:
``python -m`` puts the current folder first on ``sys.path``, ahead of ``PYTHONPATH``, so a
worker started from a checkout's top would import that checkout's ``harness/`` and
``strategies/`` (and the user's packages) instead of ``root``'s: both sides of an ``ab``
run from the top of a repository would have measured the working copy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.errors import WorkerError
from harness.running.launchers.base import Probe, TrialOutput, TrialSpec, UserCode
from harness.running.launchers.collect import (
    read_records,
    scratch_root,
    sweep_semaphores,
    sweep_stale_trials,
    trial_prefix,
)
from harness.running.launchers.memory import TrialMemory
from harness.running.launchers.proctree import POSIX, find_leftovers, kill_tree, wait_exit
from strategies import faults

#: The directory holding ``harness/`` and ``strategies/`` of this checkout.
ROOT = Path(__file__).resolve().parents[3]
#: The oldest Python the worker side (harness/worker.py, strategies/) runs under.
MIN_WORKER_VERSION = (3, 10)
MIN_WORKER = ".".join(map(str, MIN_WORKER_VERSION))


def worker_env(root: Path, tmpdir: Path | None = None, paths: tuple[str, ...] = ()) -> dict[str, str]:
    """The worker's environment: the harness's tree first on ``PYTHONPATH``, then the user's
    ``paths`` (their project: it never shadows the harness), then what was there."""
    env = dict(os.environ)
    if tmpdir is not None:  # multiprocessing's pymp-* folders land here, removed with the trial
        env["TMPDIR"] = str(tmpdir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), *paths, env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _popen_kwargs() -> dict[str, Any]:
    if POSIX:
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


class LocalLauncher:
    name = "local"

    def __init__(
        self,
        python: str | None = None,
        root: Path | None = None,
        recalibrate: bool = False,
        env: dict[str, str] | None = None,
        user: UserCode | None = None,
    ) -> None:
        self.python = python or sys.executable
        #: The user's project folders and strategies (``--path``, ``-s module:callable``).
        self.user = user or UserCode()
        self.root = Path(root) if root is not None else ROOT
        self.recalibrate = recalibrate
        #: Extra environment for the worker (and its probe), e.g. {"PYTHONMALLOC": "debug"} for an ab side.
        self.env = dict(env or {})
        sweep_stale_trials()

    def probe(self, timeout: float = 60.0) -> Probe:
        """Ask the worker interpreter about itself and its machine; calibrate cpu work."""
        return Probe.from_answer(self.probe_answer(timeout))

    def probe_answer(self, timeout: float = 60.0) -> dict[str, Any]:
        """The worker's probe as it answered it (JSON): what a Dask worker sends back."""
        return self._ask(["probe", *self.user.probe_args()] + (["--recalibrate"] if self.recalibrate else []), timeout)

    def available(self, timeout: float = 60.0) -> dict[str, Any]:
        """Which strategies and work kinds the worker interpreter can run, and why not (cheap)."""
        return self._ask(["available", *self.user.probe_args()], timeout)

    def _ask(self, question: list[str], timeout: float) -> dict[str, Any]:
        cmd = [self.python, "-m", "harness.worker", *question]
        try:
            env = worker_env(self.root, paths=self.user.paths) | self.env
            with tempfile.TemporaryDirectory(prefix="queuebench-probe-") as away:
                done = subprocess.run(cmd, env=env, cwd=away, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WorkerError(f"cannot run worker interpreter {self.python!r}: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise WorkerError(
                f"worker interpreter {self.python!r} failed its probe "
                f"(queuebench's worker needs Python >= {MIN_WORKER}): {tail}"
            )
        try:
            result: dict[str, Any] = json.loads(done.stdout)
            version = tuple(int(p) for p in str(result["version"]).split(".")[:2])
        except (ValueError, KeyError, TypeError):
            raise WorkerError(f"{self.python!r} did not answer the worker probe; is it a Python interpreter?") from None
        if version < MIN_WORKER_VERSION:
            raise WorkerError(
                f"worker interpreter {self.python!r} is Python {result['version']}; queuebench needs >= {MIN_WORKER}"
            )
        return result

    def run(self, spec: TrialSpec) -> TrialOutput:
        """Run one trial in a fresh worker process and collect its raw output."""
        workload = spec.workload
        with tempfile.TemporaryDirectory(prefix=trial_prefix(), dir=scratch_root()) as tmp:
            spec_path, out, tmpdir = Path(tmp) / "spec.json", Path(tmp) / "out", Path(tmp) / "tmp"
            out.mkdir()
            tmpdir.mkdir()
            # The harness's pid in the name: whose semaphores they are, on a machine shared by many runs.
            semprefix = f"/mp-qb{os.getpid()}-{Path(tmp).name.rsplit('-', 1)[-1]}"
            # The worker kills itself a little after the harness would, should the harness die.
            doc = {
                "strategy": spec.strategy,
                "workload": workload.to_dict(),
                "deadline_s": spec.timeout + 30,
                "semprefix": semprefix,
                "paths": list(self.user.paths),
            }
            spec_path.write_text(json.dumps(doc))
            stderr_path = Path(tmp) / "stderr.txt"
            meter = TrialMemory(Path(tmp).name, out / "scratch" / "roles")
            t0 = time.perf_counter()
            with open(stderr_path, "wb") as err:
                proc = subprocess.Popen(
                    meter.wrap([self.python, "-m", "harness.worker", "trial", str(spec_path), str(out)]),
                    env=worker_env(self.root, tmpdir, self.user.paths) | self.env,
                    cwd=tmp,  # not the caller's folder: `python -m` puts it first on sys.path (see module doc)
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=err,
                    **_popen_kwargs(),
                )
                meter.start(proc.pid)
                status, errors = "ok", []
                try:
                    wait_exit(proc, spec.timeout)
                    ended_ns = time.perf_counter_ns()
                except subprocess.TimeoutExpired:
                    ended_ns = time.perf_counter_ns()
                    status = "timeout"
                    errors.append(
                        f"timed out after {spec.timeout:g} s from the trial's start; killed the trial's process tree"
                    )
                finally:
                    memory = meter.stop()
                    if proc.poll() is None:  # timeout, Ctrl+C or any error while waiting
                        kill_tree(proc.pid)
                        proc.wait()
            wall = time.perf_counter() - t0
            leftovers = find_leftovers(proc.pid) if status != "timeout" else []
            meter.close()
            sweep_semaphores(semprefix)
            scratch = out / "scratch"
            reads, writes = read_records(scratch, workload.writers, workload.items_per_writer)
            meta_path = out / "meta.json"
            meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            if status == "ok":
                if not meta:
                    tail = stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
                    errors.append(f"worker exited with code {proc.returncode}: {' | '.join(tail) or 'no output'}")
                    status = "error"
                elif meta.get("crashed"):
                    status = "error"
            errors.extend(meta.get("errors", []))
            if meta.get("children_left"):
                errors.append(f"strategy returned with live children: {meta['children_left']}")
            return TrialOutput(
                status=status,
                meta=meta,
                reads=reads,
                writes=writes,
                wall_s=wall,
                pid=proc.pid,
                ended_ns=ended_ns,
                fault_events=faults.read_events(str(scratch)) if scratch.is_dir() else [],
                errors=errors,
                leftovers=leftovers,
                memory=memory,
                where=socket.gethostname(),
            )
