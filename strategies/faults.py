"""Fault injection, applied identically to every strategy (standard library only).

Items are named by their global number ``writer * items_per_writer + seq``.

* ``reader_raise`` — the reader raises :class:`InjectedError` on these items (or on
  each item with ``reader_raise_probability``, drawn from a seeded generator).
* ``reader_die`` — the reader dies abruptly mid-item: SIGKILL to itself where it is
  a process of its own; a thread or task ends at once (:class:`InjectedDeath`, a
  BaseException that ``except Exception`` does not catch); in a strategy whose
  only reader is the trial's main process, the trial itself crashes.
* ``reader_hang`` — the reader sleeps ``hang_s`` on the item (far past any timeout).
* ``slow_spike`` — the item's reader work takes ``spike_factor`` times longer.
* ``writer_die`` — writer ``w`` dies abruptly before making its item ``seq``.

Each fault that fires is appended to ``<scratch>/faults.log`` *before* it acts, so
the harness knows what was injected and when, even from a process that then dies.
"""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from typing import Any

EVENTS_FILE = "faults.log"


class InjectedError(Exception):
    """The failure a reader raises on an item chosen by ``reader_raise``."""


class InjectedDeath(BaseException):
    """A thread or task's stand-in for a process dying abruptly: nothing catches it."""


@dataclass(frozen=True)
class FaultSpec:
    reader_raise: tuple[int, ...] = ()
    reader_raise_probability: float = 0.0
    reader_die: tuple[int, ...] = ()
    reader_hang: tuple[int, ...] = ()
    hang_s: float = 3600.0
    slow_spike: tuple[int, ...] = ()
    spike_factor: float = 100.0
    #: (writer, seq) pairs.
    writer_die: tuple[tuple[int, int], ...] = ()
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FaultSpec | None:
        if not data:
            return None
        data = dict(data)
        for key in ("reader_raise", "reader_die", "reader_hang", "slow_spike"):
            data[key] = tuple(data.get(key, ()))
        data["writer_die"] = tuple(tuple(p) for p in data.get("writer_die", ()))
        return cls(**data)


@dataclass(frozen=True)
class Injector:
    """What one process needs to apply faults: the spec, where to log, who is 'main'."""

    spec: FaultSpec
    scratch: str
    main_pid: int
    items_per_writer: int

    def log(self, kind: str, writer: int, seq: int) -> None:
        line = f"{kind} {writer} {seq} {time.perf_counter_ns()} {os.getpid()}\n".encode()
        fd = os.open(os.path.join(self.scratch, EVENTS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def die(self) -> None:
        """Die abruptly: the whole process if it is a reader/writer process, else the thread/task."""
        if os.getpid() != self.main_pid:
            if hasattr(signal, "SIGKILL"):
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(70)  # Windows: no SIGKILL; as abrupt as it gets
        raise InjectedDeath("injected death")

    def before_read(self, writer: int, seq: int, seconds: float) -> tuple[float, bool]:
        """Apply reader faults to one item; returns (seconds of work, sleep instead of work)."""
        spec = self.spec
        n = writer * self.items_per_writer + seq
        raise_it = n in spec.reader_raise or (
            spec.reader_raise_probability > 0
            and random.Random(f"{spec.seed}/raise/{n}").random() < spec.reader_raise_probability
        )
        if raise_it:
            self.log("reader_raise", writer, seq)
            raise InjectedError(f"injected failure on item {writer}/{seq}")
        if n in spec.reader_die:
            self.log("reader_die", writer, seq)
            self.die()
        if n in spec.reader_hang:
            self.log("reader_hang", writer, seq)
            return spec.hang_s, True
        if n in spec.slow_spike:
            self.log("slow_spike", writer, seq)
            return seconds * spec.spike_factor, False
        return seconds, False

    def before_write(self, writer: int, seq: int) -> None:
        if (writer, seq) in self.spec.writer_die:
            self.log("writer_die", writer, seq)
            self.die()


def read_events(scratch: str) -> list[dict[str, Any]]:
    """The faults that fired in a trial, in the order they were logged."""
    path = os.path.join(scratch, EVENTS_FILE)
    if not os.path.exists(path):
        return []
    events = []
    with open(path, encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 5:
                kind, w, s, stamp, pid = parts
                events.append({"kind": kind, "writer": int(w), "seq": int(s), "at": int(stamp), "pid": int(pid)})
    return events
