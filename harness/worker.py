"""The measured side: runs one strategy on one workload in a fresh process.

Standard library only, so it starts fast under ``spawn`` and runs under any
interpreter (``--python``). The local launcher (harness.running.launchers.local) starts it as

    python -m harness.worker probe [--recalibrate] [--path DIR]... [--strategy M:F]...  -> JSON
    python -m harness.worker trial SPEC OUT_DIR     -> files in OUT_DIR

``--path`` puts the user's project on ``sys.path`` (the trial spec's ``paths`` do the same in a
trial), and ``--strategy`` names the user's strategies the probe describes (``user_strategies``).

A trial writes ``meta.json`` (phase stamps, errors, CPU, its own peak memory); the per-item records
are in the record files the readers and writers wrote to ``OUT_DIR/scratch``
(strategies.records), which the harness reads even after killing the trial.
The launcher (harness.running.launchers) decides where this runs; the in-process launcher calls
:func:`execute` directly.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import platform
import signal
import sys
import sysconfig
import threading
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
        return {"user": t.user, "sys": t.system}
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "user": me.ru_utime + ch.ru_utime,
        "sys": me.ru_stime + ch.ru_stime,
    }


def _spin(n: int) -> int:
    acc = 0
    for i in range(n):
        acc ^= i
    return acc


def parallelism(seconds: float = 0.15) -> float:
    """How many cores this machine gives right now: N * t(1 alone) / t(N at once).

    The N spins run one per pool worker and start together: each task waits at a barrier
    before it spins (so no worker can take two tasks while another is still starting, which
    made 16 idle cores read as 7), and the N-at-once time is taken from the workers' own
    clocks (first start to last end), not from the pool's dispatch."""
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
    barrier = ctx.Barrier(n_cpu)
    with ctx.Pool(n_cpu, initializer=_keep_barrier, initargs=(barrier,)) as pool:
        try:
            spans = pool.map(_spin_together, [units] * n_cpu, chunksize=1)
        except threading.BrokenBarrierError:  # a worker never came (a machine in trouble): say so
            return 0.0
    # perf_counter is CLOCK_MONOTONIC on Linux, mach_absolute_time on macOS and QPC on
    # Windows: one clock for every process of the machine.
    tn = max(end for _, end in spans) - min(start for start, _ in spans)
    return round(min(float(n_cpu), n_cpu * t1 / tn), 2)


_BARRIER: Any = None


def _keep_barrier(barrier: Any) -> None:
    """The pool worker's start: keep the barrier, and let SIGTERM end it as it ends any process.
    Forked from a process with a handler of its own for SIGTERM (the harness while it runs
    trials, when this runs in-process), a worker inherits it, and the handler, run inside the
    pool's queue locks, left one alive through the pool's terminate(): the probe hung."""
    global _BARRIER
    _BARRIER = barrier
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _spin_together(units: int) -> tuple[float, float]:
    _BARRIER.wait(timeout=30.0)
    start = time.perf_counter()
    _spin(units)
    return start, time.perf_counter()


def _timed_spin(units: int) -> float:
    t0 = time.perf_counter()
    _spin(units)
    return time.perf_counter() - t0


def _cpu_model() -> str:
    from strategies.calibration import cpu_model

    return cpu_model()


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS/Windows
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """Facts about the machine the trials run on (the worker's, not the harness's)."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = []
    return {
        "host": platform.node(),
        "os": platform.system(),
        "os_release": platform.release(),
        "os_version": platform.version(),
        "arch": platform.machine(),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "load_average": load,
    }


def calibration(recalibrate: bool = False) -> dict[str, Any]:
    """The cpu work's units per ms, cached per machine and interpreter build
    (:mod:`strategies.calibration`); ``--recalibrate`` measures afresh."""
    from strategies import calibration as cache

    return cache.calibration(recalibrate)


def use_paths(paths: list[str]) -> None:
    """Put the user's project folders on this process's ``sys.path`` (after the harness's own
    tree) and on ``PYTHONPATH``, so every process a strategy starts finds them too (spawn copies
    ``sys.path``; a subprocess of the user's code reads ``PYTHONPATH``)."""
    fresh = [p for p in paths if p and p not in sys.path]
    sys.path[1:1] = fresh
    if fresh:
        old = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = os.pathsep.join([*([old] if old else []), *fresh])


def available(strategies: tuple[str, ...] = ()) -> dict[str, Any]:
    """What this interpreter can run: each strategy and work kind, with the reason if not
    (the cheap part of the probe: no calibration, no parallelism measurement); ``strategies``:
    the user's, "module:callable"."""
    from strategies import kinds, registry

    return {
        "version": platform.python_version(),
        "executable": sys.executable,
        "gil_enabled": bool(getattr(sys, "_is_gil_enabled", lambda: True)()),
        "strategies": registry.availability(strategies),
        "user_strategies": registry.facts(strategies),
        "kinds": kinds.availability(),
    }


def probe(recalibrate: bool = False, strategies: tuple[str, ...] = ()) -> dict[str, Any]:
    """Facts about this interpreter and machine, the cpu-work calibration, and which
    strategies this interpreter can run (asked here, never assumed by the harness)."""
    from strategies import kinds, registry

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    cal = calibration(recalibrate)
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "executable": sys.executable,
        "gil_enabled": bool(gil),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "default_start_method": mp.get_start_method(),
        "start_methods": mp.get_all_start_methods(),
        "calibration": {"hold_per_ms": cal["hold_per_ms"], "release_per_ms": cal["release_per_ms"]},
        "calibration_source": f"{cal['source']} {cal['measured_at']}",
        "effective_parallelism": parallelism(),
        "machine": machine(),
        "strategies": registry.availability(strategies),
        "user_strategies": registry.facts(strategies),
        "kinds": kinds.availability(),
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


def _peak_rss_self() -> float:
    """This process's own peak resident memory (bytes), or NaN where it cannot be known.

    Linux's VmHWM belongs to this process's address space, which exec made new: unlike
    ``ru_maxrss``, it does not carry the high-water mark of the harness that started us.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("nan")


def _name_semaphores(prefix: str) -> None:
    """Name this trial's POSIX semaphores ``<prefix>-*`` (multiprocessing names them ``/mp-*``).

    A trial killed by the watchdog takes its resource tracker with it, and nothing
    unlinks the semaphores it made (/dev/shm/sem.mp-*): with a prefix of the trial's own,
    the launcher sweeps exactly those. A private setting of multiprocessing, inherited by
    forked children; where it is missing, semaphores keep their usual names.
    """
    config = getattr(mp.current_process(), "_config", None)
    if isinstance(config, dict) and "semprefix" in config:
        config["semprefix"] = prefix


def execute(spec: dict[str, Any], out_dir: str, lifeline: bool = True) -> dict[str, Any]:
    """Run one trial described by ``spec``; write and return its ``meta.json``."""
    from strategies import kinds, registry
    from strategies.base import Trace, Workload

    scratch = os.path.join(out_dir, "scratch")
    os.makedirs(scratch, exist_ok=True)
    use_paths([str(p) for p in spec.get("paths") or ()])
    os.environ["QUEUEBENCH_SCRATCH"] = scratch  # where the user's code leaves its tracebacks (kinds.call)
    workload = Workload.from_dict({**spec["workload"], "scratch": scratch, "main_pid": os.getpid()})
    if lifeline:
        _lifeline(os.getppid(), float(spec.get("deadline_s", 0)), os.path.dirname(os.path.abspath(out_dir)))
    if spec.get("semprefix"):
        _name_semaphores(str(spec["semprefix"]))
    meta: dict[str, Any] = {"pid": os.getpid(), "errors": [], "crashed": False}
    try:  # the user's strategy or work may not even import: the trial fails now, saying why
        entry = registry.get(spec["strategy"])
        strategy = entry.load()
        for role in ("writer", "reader"):
            side = getattr(workload, f"{role}_work")
            kinds.get(side.kind).ready(side, entry.family is registry.Family.ASYNC)
    except Exception as exc:
        meta.update(crashed=True, user_code_failed=True, wall_ns=0, start=0, end=0, setup_start=0, children_left=[])
        plain = getattr(exc, "plain", False)  # kinds.call's errors say it all themselves
        meta["errors"].append(str(exc) if plain else "".join(traceback.format_exception_only(type(exc), exc)).strip())
        _write_json(os.path.join(out_dir, "meta.json"), meta)
        return meta
    # What each side's work kind needs around the trial (e.g. the service's server).
    running: dict[str, kinds.Running] = {}
    changes: dict[str, Any] = {}
    try:
        for role in ("writer", "reader"):
            side = getattr(workload, f"{role}_work")
            running[role] = kinds.get(side.kind).start(side, role)
            changes[f"{role}_work"] = running[role].spec
        before, t0 = _usage(), time.perf_counter_ns()
        try:
            trace = strategy(dataclasses.replace(workload, **changes))
        except BaseException as exc:  # the strategy's failure is the measurement
            trace = Trace()
            meta["crashed"] = True
            meta["errors"].append("".join(traceback.format_exception_only(type(exc), exc)).strip())
        t1, after = time.perf_counter_ns(), _usage()
    finally:  # stopped after the usage is read: a server's CPU is not the strategy's
        meta["kinds"] = {role: r.stop() for role, r in running.items()}
    # The user's own tracebacks (kinds.call) first: they say what went wrong, and where.
    told = [e for stats in meta["kinds"].values() for e in stats.pop("user_errors", ())]
    meta["errors"][:0] = list(dict.fromkeys(told))
    meta["user_code_failed"] = bool(told)
    meta["errors"].extend(trace.errors)
    meta.update(
        wall_ns=t1 - t0,
        strategy_start=t0,
        strategy_end=t1,
        setup_start=trace.setup_start,
        start=trace.start,
        end=trace.end,
        cpu_user=after["user"] - before["user"],
        cpu_sys=after["sys"] - before["sys"],
        # forkserver's processes are children of the fork server, not of this worker, so
        # RUSAGE_CHILDREN never sees them: their CPU time would be silently missing.
        cpu_children_measured=resource is not None
        and not (workload.start_method == "forkserver" and entry.uses_start_method),
        peak_rss_self=_peak_rss_self(),
        children_left=[p.pid for p in mp.active_children()],
    )
    _write_json(os.path.join(out_dir, "meta.json"), meta)
    return meta


def trial(spec_path: str, out_dir: str) -> int:
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    execute(spec, out_dir)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] in (["available"], ["probe"]):
        flags, paths, strategies = argv[1:], list[str](), list[str]()
        while flags[:1] in (["--path"], ["--strategy"]) and len(flags) >= 2:
            (paths if flags[0] == "--path" else strategies).append(flags[1])
            flags = flags[2:]
        use_paths(paths)
        if argv[0] == "available" and not flags:
            json.dump(available(tuple(strategies)), sys.stdout)
            return 0
        if argv[0] == "probe" and flags in ([], ["--recalibrate"]):
            json.dump(probe(recalibrate=flags == ["--recalibrate"], strategies=tuple(strategies)), sys.stdout)
            return 0
    if argv[:1] == ["trial"] and len(argv) == 3:
        return trial(argv[1], argv[2])
    print(
        "usage: python -m harness.worker probe|available [--path DIR]... [--strategy M:F]... [--recalibrate]"
        " | trial SPEC OUT_DIR",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
