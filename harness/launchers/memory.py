"""The memory a trial's process tree really uses, sampled from outside.

A process's own ``ru_maxrss`` is no use here: Linux carries the high-water mark across
fork and exec, so a worker started by a 300 MB harness reports 300 MB whatever it does.
So the launcher samples the tree (the worker and every descendant) while the trial
runs: the sum of PSS (proportional set size: a page shared by k processes counts 1/k
in each, so the sum is the tree's real footprint; USS, then RSS where the OS has no
PSS) and the largest single process's RSS. Sampling costs about 30 µs (RSS) to 350 µs
(PSS) per process; the interval stretches so the sampler stays under ~3% of one core.
A peak shorter than the interval can be missed: the figures are sampled peaks.
"""

from __future__ import annotations

import contextlib
import threading
import time

import psutil

from harness.launchers.proctree import tree_of

MIN_INTERVAL_S = 0.05


def _footprint(p: psutil.Process) -> tuple[float, float]:
    """(proportional bytes, resident bytes) of one process."""
    full = p.memory_full_info()
    share = getattr(full, "pss", None) or getattr(full, "uss", None) or full.rss
    return float(share), float(full.rss)


class TreeSampler:
    """Samples the memory of ``pid``'s tree on a thread until :meth:`stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tree_peak = 0.0
        self.largest_peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="queuebench-memory", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        total, largest = 0.0, 0.0
        for p in tree_of(self.pid):
            with contextlib.suppress(psutil.Error):
                share, rss = _footprint(p)
                total += share
                largest = max(largest, rss)
        if total:
            self.samples += 1
            self.tree_peak = max(self.tree_peak, total)
            self.largest_peak = max(self.largest_peak, largest)

    def _loop(self) -> None:
        wait = 0.005  # dense at first: a short trial still gets a few samples
        while not self._stop.is_set():
            t0 = time.perf_counter()
            self._sample()
            wait = max(min(2 * wait, MIN_INTERVAL_S), 30 * (time.perf_counter() - t0))
            self._stop.wait(wait)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {
            "tree_peak_bytes": self.tree_peak,
            "largest_process_peak_bytes": self.largest_peak,
            "samples": self.samples,
        }
