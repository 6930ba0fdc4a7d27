"""The memory a trial's process tree really uses, sampled from outside.

A process's own ``ru_maxrss`` is no use here: Linux carries the high-water mark across
fork and exec, so a worker started by a 300 MB harness reports 300 MB whatever it does.
So the launcher samples the tree (the worker and every descendant) while the trial runs.

Two figures: the **tree's peak**, the sum of PSS over its processes (proportional set
size: a page shared by k processes counts 1/k in each, so the sum is the tree's real
footprint; USS, then RSS, where the OS has no PSS), and the **largest process's** peak
RSS. Reading PSS costs about 350 µs per process, RSS about 30 µs, so the sampler reads
RSS every tick and PSS only when the tree's summed RSS reaches a new high (by 5%): the
PSS sum is taken at the moments the tree was largest. Ticks stretch so that sampling
stays under ~5% of one core. A peak shorter than a tick can be missed: these are
sampled peaks, and the report says so.
"""

from __future__ import annotations

import contextlib
import threading
import time

import psutil

from harness.running.launchers.proctree import tree_of

TICK_S = 0.02
NEW_HIGH = 1.05


def _proportional(p: psutil.Process) -> float:
    full = p.memory_full_info()
    return float(getattr(full, "pss", None) or getattr(full, "uss", None) or full.rss)


class TreeSampler:
    """Samples the memory of ``pid``'s tree on a thread until :meth:`stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tree_peak = 0.0
        self.largest_peak = 0.0
        self.samples = 0
        self._rss_high = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="queuebench-memory", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        procs, rss = [], []
        for p in tree_of(self.pid):
            with contextlib.suppress(psutil.Error):
                rss.append(float(p.memory_info().rss))
                procs.append(p)
        if not procs:
            return
        self.samples += 1
        self.largest_peak = max(self.largest_peak, max(rss))
        total = sum(rss)
        if total > self._rss_high * NEW_HIGH:  # the tree is at its largest so far: weigh it truly
            self._rss_high = total
            shared = 0.0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    shared += _proportional(p)
            self.tree_peak = max(self.tree_peak, shared)

    def _loop(self) -> None:
        wait = 0.002  # dense at first: a short trial still gets a few samples
        while not self._stop.is_set():
            t0 = time.perf_counter()
            self._sample()
            wait = max(min(2 * wait, TICK_S), 20 * (time.perf_counter() - t0))
            self._stop.wait(wait)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {
            "tree_peak_bytes": self.tree_peak,
            "largest_process_peak_bytes": self.largest_peak,
            "samples": self.samples,
        }
