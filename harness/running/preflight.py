"""Pre-flight: what a trial of each planned strategy will take, against what this machine gives.

Checked before any trial starts (from :func:`harness.running.suite.prepare`), so an absurd but valid
size is refused in one line rather than found out by swapping, a fork bomb or a full
``/dev/shm`` half an hour in. ``--force`` runs it anyway. The estimate is per trial (trials
run one at a time) and per strategy family, counting what each mechanism really holds:

* **processes** (and threads, which Linux counts against ``ulimit -u`` too) against
  ``RLIMIT_NPROC`` less what this user already runs, and an own cap of ``MAX_PROCESSES``;
* **bytes in flight**: an unbounded queue can hold every item, a bounded one ``queue_maxsize``
  plus one per writer and reader; each held item costs one payload per copy the mechanism
  makes (threads and asyncio share the object; a multiprocessing queue holds the pickled
  bytes in the writer's feeder buffer; a Manager queue holds a copy in the manager process;
  seed-pool's ``apply_async`` and process-pool's executor hold one more in the dispatcher), and
  each item in transit is in a pipe and unpickled in its reader; plus about ``PROCESS_MB`` per
  process; all against available memory;
* **record files** in ``/dev/shm``: each reader's file is sparse (2 x items x 64 bytes
  reserved), but what is written is 64 bytes per item plus 16 per item in the writers' files;
* **file descriptors** (pipes per child process, a socket per concurrent ``service`` request)
  against ``RLIMIT_NOFILE``;
* **time**, for the whole run: each trial's ideal makespan at its work's mean durations
  (:func:`harness.analysis.metrics.nominal_ideal_makespan`, no longer than the trial's timeout)
  plus ``STARTUP_S`` of start-up, times its trials (warmups and repeats, every side), summed
  over strategies and scenarios, against ``TIME_LIMIT_S``. The ideal is a lower bound on
  any strategy's makespan, so the estimate errs short: a run it refuses cannot be quick.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, replace

from harness.errors import TooBig
from harness.scenario import LoadedScenario
from strategies import registry
from strategies.registry import Family

#: More processes than this in one trial measure fork and the scheduler, not a queue.
MAX_PROCESSES = 512
#: Resident memory of one more Python process, MB: a forked child shares most pages.
PROCESS_MB = {"fork": 12, "forkserver": 25, "spawn": 25}
#: Share of the available memory a trial may plan to use.
MEMORY_SHARE = 0.75
RECORD_BYTES = 64 + 16
#: A run estimated to take longer than this is refused unless forced (seconds).
TIME_LIMIT_S = 30 * 60.0
#: Start-up and wind-down of one trial beyond its makespan: a fresh worker process, its imports,
#: the strategy's pool, collecting and analysing its records (about 0.3 s measured for smoke).
STARTUP_S = 0.5
#: (copies of each item held in the queue, processes beyond writers + readers, threads per writer).
MECHANISM = {
    "seed-pool": (3, 1, 0),
    "manager-pool": (2, 1, 0),
    "mp-queue": (1, 0, 1),
    "process-pool": (2, 0, 1),
}


@dataclass(frozen=True)
class Limits:
    """What the machine gives; ``None`` where the platform does not say (no check)."""

    processes: int | None
    files: int | None
    memory: int | None
    shm: int | None

    @classmethod
    def here(cls) -> Limits:
        import psutil

        processes = files = None
        try:
            import resource

            soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
            if soft != resource.RLIM_INFINITY:
                mine = sum(p.info["uids"] and p.info["uids"].real == os.getuid() for p in psutil.process_iter(["uids"]))
                processes = max(soft - mine, 0)
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            files = None if soft == resource.RLIM_INFINITY else soft
        except (ImportError, OSError, ValueError):
            pass
        from harness.running.launchers.collect import scratch_root

        try:
            shm: int | None = shutil.disk_usage(scratch_root() or tempfile.gettempdir()).free
        except OSError:
            shm = None
        return cls(processes, files, psutil.virtual_memory().available, shm)


@dataclass(frozen=True)
class Estimate:
    strategy: str
    scenario: str
    processes: int
    threads: int
    memory: int
    records: int
    files: int
    ideal_s: float = 0.0  # the trial's ideal makespan, no longer than its timeout
    trials: int = 1  # how many trials of this pair the run plans (warmups, repeats, sides)

    @property
    def trial_s(self) -> float:
        """One trial's estimated time: its ideal makespan plus start-up."""
        return self.ideal_s + STARTUP_S

    @property
    def run_s(self) -> float:
        """Every trial of this pair, one after another."""
        return self.trial_s * self.trials

    def line(self) -> str:
        return (
            f"{self.scenario} / {self.strategy}: {self.processes} process(es), {self.threads} thread(s), "
            f"~{_size(self.memory)} in memory, {_size(self.records)} of records, ~{self.files} file descriptors, "
            f"~{duration(self.trial_s)} a trial x {self.trials:,} = ~{duration(self.run_s)}"
        )


def duration(seconds: float) -> str:
    """A span of time in words: 0.52 s, 40 s, 12 min, 3 h 20 min, 41.7 days."""
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 600:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{seconds / 86400:,.1f} days"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def ideal_seconds(loaded: LoadedScenario, timeout: float | None = None, parallelism: float | None = None) -> float:
    """A trial's ideal makespan (seconds) at its work's mean durations, no longer than its
    timeout (``timeout``: the run's --timeout, else the scenario's): a trial stops there."""
    from harness.analysis import metrics
    from strategies import base

    sc = loaded.scenario
    wl = base.Workload(
        writers=sc.writers,
        readers=sc.readers,
        items_per_writer=sc.items_per_writer,
        writer_work=sc.writer_work.spec(),
        reader_work=sc.reader_work.spec(),
    )
    ideal = metrics.nominal_ideal_makespan(wl, parallelism if parallelism is not None else usable_cores())
    return min(ideal, timeout if timeout is not None else sc.timeout)


def estimate(
    loaded: LoadedScenario,
    strategy: str,
    start_method: str,
    timeout: float | None = None,
    parallelism: float | None = None,
) -> Estimate:
    """What one trial of ``strategy`` on ``loaded`` will hold at its worst, and its ideal time."""
    sc = loaded.scenario
    family = registry.get(strategy).family
    total = sc.total_items
    held = total if sc.queue_maxsize == 0 else min(sc.queue_maxsize, total) + sc.writers + sc.readers
    servers = sum(side.kind == "service" for side in (sc.writer_work, sc.reader_work))
    sockets = sc.readers * (sc.reader_work.kind == "service") + sc.writers * (sc.writer_work.kind == "service")
    if family is Family.PROCESS:
        copies, extra, feeder = MECHANISM.get(strategy, (2, 1, 1))
        processes = sc.writers + sc.readers + extra + servers
        threads = sc.writers * feeder + 4
        in_flight = sc.payload_bytes * (held * copies + (sc.writers + sc.readers) * 2)
        memory = in_flight + processes * PROCESS_MB.get(start_method, 25) * 2**20
        files = 16 + 4 * processes + 2 * sockets
    else:
        processes = servers
        threads = sc.writers + sc.readers if family is Family.THREAD else 1
        memory = sc.payload_bytes * (held + sc.writers + sc.readers) + processes * PROCESS_MB["spawn"] * 2**20
        files = 16 + 4 * processes + 2 * sockets
    records = total * RECORD_BYTES + 4096 * (sc.readers + sc.writers)
    ideal = ideal_seconds(loaded, timeout, parallelism)
    return Estimate(strategy, sc.name, processes, threads, memory, records, files, ideal)


def problems(e: Estimate, limits: Limits) -> list[str]:
    """Each limit the estimate goes past, as a phrase."""
    out = []
    if e.processes > MAX_PROCESSES:
        out.append(f"{e.processes:,} processes (queuebench's cap is {MAX_PROCESSES:,})")
    if limits.processes is not None and e.processes + e.threads > limits.processes:
        out.append(f"{e.processes + e.threads:,} processes and threads (ulimit -u leaves {limits.processes:,})")
    if limits.memory is not None and e.memory > limits.memory * MEMORY_SHARE:
        out.append(f"~{_size(e.memory)} of memory ({_size(limits.memory)} available)")
    if limits.shm is not None and e.records > limits.shm:
        out.append(f"{_size(e.records)} of record files ({_size(limits.shm)} free for them)")
    if limits.files is not None and e.files > limits.files:
        out.append(f"~{e.files:,} file descriptors (ulimit -n is {limits.files:,})")
    return out


def check(
    trials: list[tuple[LoadedScenario, str]],
    start_method: str,
    force: bool,
    limits: Limits | None = None,
    timeout: float | None = None,
    time_limit_s: float = TIME_LIMIT_S,
    parallelism: float | None = None,
) -> list[Estimate]:
    """Estimate every (scenario, strategy) pair of the planned ``trials`` (one entry per trial:
    a pair that comes back is counted again); raise TooBig for the first pair that does not fit,
    then for a run whose estimated time is over ``time_limit_s``, unless ``force``. Returns one
    estimate per pair (``--dry-run`` prints them; :func:`total_seconds` adds them up)."""
    limits = limits or Limits.here()
    counts = Counter((id(loaded), strategy) for loaded, strategy in trials)
    pairs = {(id(loaded), strategy): (loaded, strategy) for loaded, strategy in trials}
    estimates, sources = [], []
    for key, (loaded, strategy) in pairs.items():
        e = replace(estimate(loaded, strategy, start_method, timeout, parallelism), trials=counts[key])
        estimates.append(e)
        sources.append(loaded.source)
        found = problems(e, limits)
        if found and not force:
            raise TooBig(
                f"{loaded.source}: scenario {e.scenario!r} with {strategy} would need {'; '.join(found)}; "
                "make it smaller, or run it anyway with --force"
            )
    total = total_seconds(estimates)
    if total > time_limit_s and not force:
        i = max(range(len(estimates)), key=lambda k: estimates[k].run_s)
        e = estimates[i]
        raise TooBig(
            f"{sources[i]}: the run would take about {duration(total)} ({sum(counts.values()):,} trial(s); "
            f"{e.scenario} / {e.strategy}: {e.trials:,} x ~{duration(e.trial_s)}), over the limit of "
            f"{duration(time_limit_s)}; make it shorter (fewer repeats, items or strategies), "
            "or run it anyway with --force"
        )
    return estimates


def total_seconds(estimates: list[Estimate]) -> float:
    """The whole run's estimated time: every pair's trials, one after another."""
    return sum(e.run_s for e in estimates)
