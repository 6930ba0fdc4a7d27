"""The contended server behind the ``service`` work kind (standard library only).

It models a shared resource (a registry, a database) with a ``capacity``: with ``share``
and ``collapse``, up to ``capacity`` requests at once are each served at full speed, so a
request that needs ``s`` seconds of service takes ``s``. Beyond it (and with ``usl`` at every
``n``), with ``n`` requests active, every request progresses at ``rate(n)`` (processor
sharing, simulated exactly):

* ``share``    — fair sharing of a fixed bandwidth: ``rate = C/n``; total throughput
  stays at its peak, latency grows with ``n``.
* ``collapse`` — congestion collapse: ``rate = (C/n) / (1 + penalty * (n - C))``;
  total throughput *falls* as ``n`` grows past ``C`` (the registry stall).
* ``usl``      — the Universal Scalability Law at every ``n``:
  ``rate = 1 / (1 + σ(n − 1) + κn(n − 1))``, ``σ = penalty``, ``κ = (1 − σ) / C²``; total
  throughput rises, peaks at exactly ``C`` and falls gently beyond.

It runs in **its own process** (``python -m strategies.service_server serve CAPACITY
MODEL PENALTY``), started by the ``service`` kind (:mod:`strategies.kinds.service`)
in the trial's main process before the strategy and stopped after it, so it never
competes for a ``threads`` strategy's GIL and its CPU is not charged to the strategy.
It binds ``127.0.0.1`` port 0 and prints the port on its stdout; it stops on a ``stop``
line, or when its stdin closes (the worker died), printing its stats as JSON. It is in
the trial's process group, so the watchdog kills it with the rest of the tree.

``python -m strategies.service_server bench [SECONDS]`` measures how many requests per
second the server itself turns around.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from strategies.kinds.service import HOST, MAGIC, MODELS, REQUEST, RESPONSE, ServiceProcess, arequest, rate

#: Remaining work below this (seconds) counts as done: timers may fire a hair early.
EPSILON = 1e-6
#: Lags kept for percentiles; beyond this, only the maximum is tracked.
MAX_LAGS = 200_000


class Job:
    __slots__ = ("done", "remaining")

    def __init__(self, remaining: float, done: Callable[[], None]) -> None:
        self.remaining = remaining
        self.done = done


class Resource:
    """A shared resource of ``capacity`` full-speed slots; beyond it, requests slow down.

    Event driven: on every arrival or completion, the work done since the last event
    is subtracted at the rate that held, and one timer is set for the next completion.
    ``clock`` and ``call_later`` are injected so the model is testable without time.
    """

    def __init__(
        self,
        capacity: int,
        model: str,
        penalty: float,
        clock: Callable[[], float],
        call_later: Callable[[float, Callable[[], None]], Any],
    ) -> None:
        if capacity < 1 or model not in MODELS or penalty < 0 or (model == "usl" and penalty >= 1):
            raise ValueError(f"bad service model: capacity={capacity}, model={model!r}, penalty={penalty}")
        self.capacity, self.model, self.penalty = capacity, model, penalty
        self.clock, self.call_later = clock, call_later
        self.jobs: list[Job] = []
        self.last = clock()
        self.timer: Any = None
        self.due = 0.0  # when the pending timer should fire
        self.requests = 0
        self.peak = 0
        self.lags: list[float] = []
        self.max_lag = 0.0

    def submit(self, seconds: float, done: Callable[[], None]) -> None:
        """Start a request needing ``seconds`` of full-speed service; ``done()`` when served."""
        self._advance()
        self.requests += 1
        self.jobs.append(Job(max(seconds, 0.0), done))
        self.peak = max(self.peak, len(self.jobs))
        self._reschedule()

    def _advance(self) -> None:
        now = self.clock()
        if self.jobs:
            r = rate(len(self.jobs), self.capacity, self.model, self.penalty)
            spent = (now - self.last) * r
            for job in self.jobs:
                job.remaining -= spent
        self.last = now

    def _on_timer(self) -> None:
        lag = max(0.0, self.clock() - self.due)  # how late the timer fired: the server's own delay
        self.max_lag = max(self.max_lag, lag)
        if len(self.lags) < MAX_LAGS:
            self.lags.append(lag)
        self.timer = None
        self._advance()
        self._reschedule()

    def _reschedule(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        finished = [j for j in self.jobs if j.remaining <= EPSILON]
        if finished:
            self.jobs = [j for j in self.jobs if j.remaining > EPSILON]
            for job in finished:
                job.done()
        if self.jobs:
            r = rate(len(self.jobs), self.capacity, self.model, self.penalty)
            delay = min(j.remaining for j in self.jobs) / r
            self.due = self.clock() + delay
            self.timer = self.call_later(delay, self._on_timer)

    def stats(self) -> dict[str, Any]:
        lags = sorted(self.lags)

        def pct(p: float) -> float:
            return lags[min(len(lags) - 1, int(p * len(lags)))] * 1e3 if lags else 0.0

        return {
            "requests": self.requests,
            "peak_active": self.peak,
            "lag_p50_ms": pct(0.50),
            "lag_p99_ms": pct(0.99),
            "lag_max_ms": self.max_lag * 1e3,
        }


# --------------------------------------------------------------------------- #
# The server process.


class _Connection(asyncio.Protocol):
    """One request per connection. A bare Protocol (no streams, no task per connection)
    keeps the server's own cost per request small: it must never be the bottleneck."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.t0 = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.t0 or self.transport is None:
            return  # one request per connection; anything more is ignored
        self.buf += data
        if len(self.buf) < REQUEST.size:
            return
        try:
            magic, seconds = REQUEST.unpack(self.buf[: REQUEST.size])
        except struct.error:
            magic, seconds = b"", 0.0
        if magic != MAGIC or not seconds >= 0.0:
            self.server.errors += 1
            self.transport.close()
            return
        self.t0 = self.server.clock()
        self.server.resource.submit(seconds, self.answer)

    def answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE.pack(round((self.server.clock() - self.t0) * 1e9)))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.t0:
            self.server.errors += 1  # closed before a whole request arrived
        self.transport = None


class _Server:
    def __init__(self, resource: Resource, clock: Callable[[], float]) -> None:
        self.resource = resource
        self.clock = clock
        self.errors = 0


async def _serve(capacity: int, model: str, penalty: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    cpu0 = os.times()
    state = _Server(Resource(capacity, model, penalty, loop.time, loop.call_later), loop.time)
    server = await loop.create_server(lambda: _Connection(state), HOST, 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    await stop.wait()
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2.0)
    cpu1 = os.times()
    user, system = cpu1.user - cpu0.user, cpu1.system - cpu0.system
    stats = state.resource.stats()
    return {**stats, "errors": state.errors, "cpu_user_s": round(user, 4), "cpu_sys_s": round(system, 4), "port": port}


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop on a ``stop`` line or at EOF (the worker that started us is gone)."""
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    with contextlib.suppress(RuntimeError):  # the loop already closed
        loop.call_soon_threadsafe(stop.set)


def serve_main(capacity: int, model: str, penalty: float) -> int:
    stats = asyncio.run(_serve(capacity, model, penalty))
    print(json.dumps(stats), flush=True)
    return 0


# --------------------------------------------------------------------------- #
# Self-measurement: how many requests per second can the server itself turn around?


async def _hammer(port: int, clients: int, seconds: float) -> int:
    deadline = time.perf_counter() + seconds
    count = 0

    async def client() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await arequest(port, 0.0)
            count += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return count


def _hammer_process(port: int, clients: int, seconds: float, barrier: Any, out: Any) -> None:
    barrier.wait()  # every client process starts hammering at the same moment
    out.put(asyncio.run(_hammer(port, clients, seconds)))


def bench(seconds: float = 2.0, processes: int = 2, clients: int = 8) -> dict[str, Any]:
    """Zero-service requests from ``processes`` x ``clients`` asyncio clients for ``seconds``.

    The rate measured is a lower bound on what the server can turn around: the
    clients, in Python too, share the machine's cores with it.
    """
    import multiprocessing as mp

    server = ServiceProcess(1_000_000, "share", 0.0)
    try:
        ctx = mp.get_context("spawn")
        q, barrier = ctx.Queue(), ctx.Barrier(processes)
        procs = [
            ctx.Process(target=_hammer_process, args=(server.port, clients, seconds, barrier, q))
            for _ in range(processes)
        ]
        for p in procs:
            p.start()
        total = sum(q.get() for _ in procs)
        for p in procs:
            p.join()
    finally:
        stats = server.stop()
    cpu = stats.get("cpu_user_s", 0.0) + stats.get("cpu_sys_s", 0.0)
    return {
        "clients": processes * clients,
        "requests": total,
        "requests_per_s": round(total / seconds),
        # What the server itself spent: its turnaround capacity on one core, clients aside.
        "server_cpu_ms_per_request": round(cpu * 1e3 / total, 3) if total else None,
        "server_requests_per_cpu_s": round(total / cpu) if cpu else None,
        "server": stats,
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 4:
        return serve_main(int(argv[1]), argv[2], float(argv[3]))
    if argv[:1] == ["bench"]:
        print(json.dumps(bench(float(argv[1]) if len(argv) > 1 else 2.0)))
        return 0
    print("usage: python -m strategies.service_server serve CAPACITY MODEL PENALTY | bench [SECONDS]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
