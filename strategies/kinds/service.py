"""The ``service`` work kind: one request per item to a contended local TCP server.

Each item's work is one request over a real TCP connection to ``127.0.0.1``: the
client sends the item's service time, the server (:mod:`strategies.service_server`,
a process of its own started around the trial) holds it for that long at full speed,
longer when more than ``capacity`` requests are active (``model`` = ``share`` or
``collapse``), or by the Universal Scalability Law (``model`` = ``usl``: total throughput
peaks at exactly ``capacity`` requests at once). The item's payload is not uploaded: the service time is the request's
drawn duration, the same for every strategy.

Clients open **one connection per request** (connect, send, wait, close): stateless,
so it works identically in every strategy (even seed-pool's one-task-per-item pool
workers), and no connection outlives its request. Sync strategies use a blocking
socket; ``asyncio`` uses asyncio streams.

Wire format: request ``b"QBS1"`` + float64 seconds of service; response int64
nanoseconds the server held the request (both big-endian).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import socket
import struct
import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from strategies.base import Calibration, WorkSpec
from strategies.kinds import APerform, Kind, Perform, Running

HOST = "127.0.0.1"
MODELS = ("share", "collapse", "usl")
#: What the docker-push kind's upload proxy models (its bandwidth is shared or collapses past its capacity).
CAPACITY_MODELS = ("share", "collapse")
REQUEST = struct.Struct("!4sd")
RESPONSE = struct.Struct("!q")
MAGIC = b"QBS1"


class ServiceError(RuntimeError):
    """The service could not be started or a request failed."""


def rate(n: int, capacity: int, model: str, penalty: float) -> float:
    """Progress rate of each of ``n`` active requests (1.0 = full speed).

    ``usl``: ``1 / (1 + σ(n − 1) + κn(n − 1))`` with contention ``σ = penalty`` and crosstalk
    ``κ = (1 − σ) / capacity²``, so the total throughput ``n × rate(n)`` follows the law and
    peaks at ``N* = √((1 − σ) / κ) = capacity``: the one model whose true N* is known exactly."""
    if model == "usl":
        kappa = (1.0 - penalty) / (capacity * capacity)
        return 1.0 / (1.0 + penalty * (n - 1) + kappa * n * (n - 1))
    if n <= capacity:
        return 1.0
    share = capacity / n
    if model == "share":
        return share
    return share / (1.0 + penalty * (n - capacity))


def request(port: int, seconds: float) -> int:
    """One request on a blocking socket; returns the server's time in service (ns)."""
    if port <= 0:
        raise ServiceError("service work needs a running server (no port): run it through the worker")
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(REQUEST.pack(MAGIC, seconds))
        data = b""
        while len(data) < RESPONSE.size:
            chunk = sock.recv(RESPONSE.size - len(data))
            if not chunk:
                raise ServiceError("service closed the connection before answering")
            data += chunk
    held: int = RESPONSE.unpack(data)[0]
    return held


async def arequest(port: int, seconds: float) -> int:
    """One request with asyncio streams; returns the server's time in service (ns)."""
    import asyncio

    if port <= 0:
        raise ServiceError("service work needs a running server (no port): run it through the worker")
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(REQUEST.pack(MAGIC, seconds))
        await writer.drain()
        try:
            data = await reader.readexactly(RESPONSE.size)
        except asyncio.IncompleteReadError:
            raise ServiceError("service closed the connection before answering") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    held: int = RESPONSE.unpack(data)[0]
    return held


def _env() -> dict[str, str]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class ServiceProcess:
    """One server process; ``stop()`` returns its stats and guarantees it is gone."""

    def __init__(self, capacity: int, model: str, penalty: float) -> None:
        import subprocess

        cmd = [sys.executable, "-m", "strategies.service_server", "serve", str(capacity), model, repr(float(penalty))]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise ServiceError(f"service server failed to start (exit code {self.proc.returncode})")
        info = json.loads(line)
        self.port: int = info["port"]
        self.pid: int = info["pid"]
        self._stats: dict[str, Any] | None = None

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        import subprocess

        if self._stats is not None:
            return self._stats
        try:
            out, _ = self.proc.communicate(b"stop\n", timeout=timeout)
            lines = out.decode(errors="replace").strip().splitlines()
            self._stats = json.loads(lines[-1]) if lines else {"errors": 1}
        except (subprocess.TimeoutExpired, OSError, ValueError):
            self.proc.kill()
            self.proc.communicate()
            self._stats = {"errors": 1, "killed": True}
        self._stats["exit_code"] = self.proc.returncode
        return self._stats


class Service(Kind):
    name = "service"
    summary = "one TCP request to a local server of `capacity` slots (share or collapse beyond; usl peaks there)"
    awaits = True
    params: ClassVar[Mapping[str, Any]] = {"capacity": None, "model": "share", "penalty": 0.5, "port": 0}

    def check(self, spec: WorkSpec) -> None:
        capacity = spec.param("capacity")
        if capacity is None:
            raise ValueError(
                "capacity: kind 'service' needs capacity "
                "(concurrent requests served at full speed; usl: its peak), e.g. 3"
            )
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 4096:
            raise ValueError("capacity: must be a whole number from 1 to 4096")
        model = spec.param("model", "share")
        if model not in MODELS:
            raise ValueError(f"model: must be one of {', '.join(MODELS)}")
        penalty = spec.param("penalty", 0.5)
        if isinstance(penalty, bool) or not isinstance(penalty, int | float) or not 0 <= penalty <= 100:
            raise ValueError("penalty: must be a number from 0 to 100")
        if model == "usl" and not penalty < 1:
            raise ValueError("penalty: the usl model's contention must be from 0 to below 1, e.g. 0.05")

    def capacity(self, spec: WorkSpec) -> int | None:
        return max(int(spec.param("capacity") or 1), 1)

    def sustained(self, spec: WorkSpec, pool: int) -> float | None:
        if spec.param("model", "share") != "usl":
            return super().sustained(spec, pool)
        capacity, penalty = self.capacity(spec) or 1, float(spec.param("penalty", 0.5))
        return max(n * rate(n, capacity, "usl", penalty) for n in range(1, max(pool, 1) + 1))

    def prepare(self, spec: WorkSpec, cal: Calibration) -> Perform:
        port = int(spec.param("port", 0))

        def perform(seconds: float) -> int:
            return request(port, seconds)

        return perform

    def aprepare(self, spec: WorkSpec, cal: Calibration) -> APerform:
        port = int(spec.param("port", 0))

        async def perform(seconds: float) -> int:
            return await arequest(port, seconds)

        return perform

    def start(self, spec: WorkSpec, role: str) -> Running:
        server = ServiceProcess(
            int(spec.param("capacity")), str(spec.param("model", "share")), float(spec.param("penalty", 0.5))
        )
        return Running(dataclasses.replace(spec, params=spec.with_param("port", server.port).params), server.stop)

    def trial_metrics(self, role: str, stats: Mapping[str, Any]) -> dict[str, float]:
        if role != "reader":
            return {}
        return {
            "service_requests": stats.get("requests", math.nan),
            "service_peak_active": stats.get("peak_active", math.nan),
            "service_lag_p99_ms": stats.get("lag_p99_ms", math.nan),
        }


KIND = Service()
