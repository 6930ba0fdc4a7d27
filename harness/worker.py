"""The measured side: runs one strategy on one workload in a fresh process.

Standard library only, so it starts fast under ``spawn`` and runs under any
interpreter (``--python``). The parent (harness.runner) starts it as

    python -m harness.worker probe               -> JSON on stdout
    python -m harness.worker trial SPEC OUT_DIR  -> files in OUT_DIR

A trial writes ``meta.json`` (phase stamps, errors, CPU, RSS); the per-item records
are in the record files the readers and writers wrote to ``OUT_DIR/scratch``
(strategies.records), which the harness reads even after killing the trial.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import sys
import time
import traceback
from typing import Any

try:  # POSIX only; on Windows children's CPU is not measured (said in meta).
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]


def _usage() -> dict[str, float]:
    if resource is None:  # pragma: no cover - Windows
        t = os.times()
        return {"user": t.user, "sys": t.system, "rss_self": 0, "rss_children": 0}
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return {
        "user": me.ru_utime + ch.ru_utime,
        "sys": me.ru_stime + ch.ru_stime,
        "rss_self": me.ru_maxrss * scale,
        "rss_children": ch.ru_maxrss * scale,
    }


def _spin(n: int) -> int:
    acc = 0
    for i in range(n):
        acc ^= i
    return acc


def parallelism(seconds: float = 0.15) -> float:
    """How many cores this machine gives right now: N * t(1 alone) / t(N at once)."""
    n_cpu = os.cpu_count() or 1
    units = 100_000
    while True:
        t0 = time.perf_counter()
        _spin(units)
        t1 = time.perf_counter() - t0
        if t1 >= seconds / 4:
            break
        units *= 2
    t1 = min(t1, _timed_spin(units))
    if n_cpu == 1:
        return 1.0
    ctx = mp.get_context("spawn" if sys.platform == "win32" else None)
    with ctx.Pool(n_cpu) as pool:
        pool.map(_spin, [1] * n_cpu)  # start every worker before timing
        t0 = time.perf_counter()
        pool.map(_spin, [units] * n_cpu, chunksize=1)
        tn = time.perf_counter() - t0
    return round(min(float(n_cpu), n_cpu * t1 / tn), 2)


def _timed_spin(units: int) -> float:
    t0 = time.perf_counter()
    _spin(units)
    return time.perf_counter() - t0


def probe() -> dict[str, Any]:
    """Facts about this interpreter and machine, plus the cpu-work calibration."""
    from strategies import work

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    cal = work.calibrate()
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "executable": sys.executable,
        "gil_enabled": bool(gil),
        "default_start_method": mp.get_start_method(),
        "start_methods": mp.get_all_start_methods(),
        "calibration": {"hold_per_ms": cal.hold_per_ms, "release_per_ms": cal.release_per_ms},
        "effective_parallelism": parallelism(),
    }


def _lifeline(parent: int, deadline_s: float, scratch_root: str) -> None:
    """Never outlive the harness: if it dies (or the deadline passes), kill this trial's group.

    The harness kills trials itself; this covers a harness that was SIGKILLed, whose
    watchdog is gone with it.
    """
    import threading

    def watch() -> None:
        t_end = time.monotonic() + deadline_s if deadline_s > 0 else float("inf")
        while os.getppid() == parent and time.monotonic() < t_end:
            time.sleep(0.25)
        if os.getppid() != parent:  # the harness is gone: nobody else will remove its temp dir
            import shutil

            shutil.rmtree(scratch_root, ignore_errors=True)
        if hasattr(os, "killpg"):
            os.killpg(os.getpgid(0), 9)
        os._exit(137)

    threading.Thread(target=watch, name="queuebench-lifeline", daemon=True).start()


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def trial(spec_path: str, out_dir: str) -> int:
    from strategies import base, service

    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    scratch = os.path.join(out_dir, "scratch")
    os.makedirs(scratch, exist_ok=True)
    workload = base.Workload.from_dict({**spec["workload"], "scratch": scratch, "main_pid": os.getpid()})
    _lifeline(os.getppid(), float(spec.get("deadline_s", 0)), os.path.dirname(os.path.abspath(out_dir)))
    strategy = base.get(spec["strategy"]).load()
    meta: dict[str, Any] = {"pid": os.getpid(), "errors": [], "crashed": False}
    served = service.serve(workload)  # a server process per side whose work is "service"
    try:
        before, t0 = _usage(), time.perf_counter_ns()
        try:
            trace = strategy(served.workload)
        except BaseException as exc:  # the strategy's failure is the measurement
            trace = base.Trace()
            meta["crashed"] = True
            meta["errors"].append("".join(traceback.format_exception_only(type(exc), exc)).strip())
        t1, after = time.perf_counter_ns(), _usage()
    finally:  # stopped after the usage is read: the server's CPU is not the strategy's
        meta["service"] = served.stop()
    meta["errors"].extend(trace.errors)
    meta.update(
        wall_ns=t1 - t0,
        setup_start=trace.setup_start,
        start=trace.start,
        end=trace.end,
        cpu_user=after["user"] - before["user"],
        cpu_sys=after["sys"] - before["sys"],
        # forkserver's processes are children of the fork server, not of this worker, so
        # RUSAGE_CHILDREN never sees them: their CPU time would be silently missing.
        cpu_children_measured=resource is not None
        and not (workload.start_method == "forkserver" and base.get(spec["strategy"]).uses_start_method),
        rss_self=after["rss_self"],
        rss_children=after["rss_children"],
        children_left=[p.pid for p in mp.active_children()],
    )
    _write_json(os.path.join(out_dir, "meta.json"), meta)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["probe"]:
        json.dump(probe(), sys.stdout)
        return 0
    if argv[:1] == ["trial"] and len(argv) == 3:
        return trial(argv[1], argv[2])
    print("usage: python -m harness.worker probe | trial SPEC OUT_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
