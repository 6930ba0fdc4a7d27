"""A registry that stalls: a loopback TCP proxy shaping concurrent uploads (standard library only).

It sits between the Docker engine and a trial's registry (both on ``127.0.0.1``) and forwards
bytes both ways, untouched. What it shapes is the **blob uploads**: an HTTP ``PATCH`` request
(how the engine sends a layer's bytes) is an upload from its first byte until the registry's
response begins. With ``n`` uploads in flight, each moves at ``bandwidth x rate(n)`` bytes per
second, ``rate`` being the contended-service model of :mod:`strategies.kinds.service`
(``capacity`` full-speed slots; beyond them ``share`` divides a fixed bandwidth and
``collapse`` loses throughput as ``n`` grows: the origin story's registry, on which pushes
stalled beyond 2 or 3 at once). Every other request (blob checks, manifest PUTs) passes at
full speed.

The rate is re-read for every chunk forwarded (at most :data:`CHUNK` bytes), so an upload
slows down and speeds up as others start and finish (processor sharing, in chunk steps).

It runs in its own process (``python -m strategies.upload_proxy serve TARGET_PORT CAPACITY
MODEL PENALTY BANDWIDTH``), started by the ``docker-push`` kind around a trial like the
service kind's server: it prints ``{"port", "pid"}``, and on a ``stop`` line (or EOF) prints
what it saw as JSON: uploads, peak uploads in flight, bytes, per-upload time, and its own lag
(how late its shaping sleeps woke up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from typing import Any

from strategies.kinds.service import CAPACITY_MODELS, HOST, rate

#: Bytes forwarded per shaping step: small enough to follow changes in the number of uploads.
CHUNK = 16 * 1024
#: Request methods that carry a blob's bytes (the shaped uploads).
UPLOAD_METHODS = (b"PATCH ",)
MAX_SAMPLES = 100_000


class Shaper:
    """The uploads in flight and the model deciding their byte rate; what was seen, for the stats."""

    def __init__(self, capacity: int, model: str, penalty: float, bandwidth: float) -> None:
        if capacity < 1 or model not in CAPACITY_MODELS or penalty < 0 or bandwidth <= 0:
            raise ValueError(f"bad proxy model: capacity={capacity}, model={model!r}, penalty={penalty}")
        self.capacity, self.model, self.penalty, self.bandwidth = capacity, model, penalty, bandwidth
        self.active = 0
        self.peak = 0
        self.uploads = 0
        self.uploads_beyond = 0  # uploads that saw more than `capacity` in flight at some point
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.upload_s: list[float] = []
        self.lags: list[float] = []
        #: Seconds spent with n uploads in flight (n >= 1): what a pool really held at the registry.
        self.level_s: dict[int, float] = {}
        self._since = 0.0

    def _tick(self, t: float | None = None) -> None:
        """Charge the time since the last change to the current number of uploads in flight."""
        t = time.perf_counter() if t is None else t
        if self.active:
            self.level_s[self.active] = self.level_s.get(self.active, 0.0) + t - self._since
        self._since = t

    def begin(self, t: float | None = None) -> None:
        self._tick(t)
        self.active += 1
        self.uploads += 1
        self.peak = max(self.peak, self.active)

    def end(self, seconds: float, beyond: bool, t: float | None = None) -> None:
        self._tick(t)
        self.active -= 1
        self.uploads_beyond += beyond
        if len(self.upload_s) < MAX_SAMPLES:
            self.upload_s.append(seconds)

    def delay(self, nbytes: int) -> float:
        """How long ``nbytes`` of one upload take now, at its share of the bandwidth."""
        return nbytes / (self.bandwidth * rate(self.active, self.capacity, self.model, self.penalty))

    def stats(self) -> dict[str, Any]:
        lags, ups = sorted(self.lags), sorted(self.upload_s)

        def pct(values: list[float], p: float) -> float:
            return values[min(len(values) - 1, int(p * len(values)))] * 1e3 if values else 0.0

        busy = sum(self.level_s.values())
        return {
            "connections": self.connections,
            "uploads": self.uploads,
            "peak_uploads": self.peak,
            # Time-weighted over the time any upload was in flight: the pool's real hold on the registry.
            "mean_uploads": sum(n * s for n, s in self.level_s.items()) / busy if busy else 0.0,
            "upload_busy_s": busy,
            "beyond_capacity_s": sum(s for n, s in self.level_s.items() if n > self.capacity),
            "level_s": {str(n): round(s, 4) for n, s in sorted(self.level_s.items())},
            "uploads_beyond_capacity": self.uploads_beyond,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "upload_ms_mean": sum(ups) / len(ups) * 1e3 if ups else 0.0,
            "upload_ms_p50": pct(ups, 0.5),
            "upload_ms_max": ups[-1] * 1e3 if ups else 0.0,
            "lag_p50_ms": pct(lags, 0.5),
            "lag_p99_ms": pct(lags, 0.99),
            "lag_max_ms": lags[-1] * 1e3 if lags else 0.0,
        }


class Link:
    """One client connection and its connection to the registry."""

    def __init__(self, shaper: Shaper) -> None:
        self.shaper = shaper
        self.uploading = False
        self.new_request = True  # the next client bytes start a request
        self.t0 = 0.0
        self.beyond = False

    def finish_upload(self) -> None:
        if self.uploading:
            self.uploading = False
            self.shaper.end(time.perf_counter() - self.t0, self.beyond)

    async def upstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client to registry: uploads shaped, everything else forwarded as it comes."""
        shaper = self.shaper
        while chunk := await reader.read(CHUNK):
            if self.new_request:
                self.new_request = False
                if chunk.startswith(UPLOAD_METHODS):
                    self.uploading, self.t0, self.beyond = True, time.perf_counter(), False
                    shaper.begin()
            if self.uploading:
                self.beyond = self.beyond or shaper.active > shaper.capacity
                wait = shaper.delay(len(chunk))
                t0 = time.perf_counter()
                await asyncio.sleep(wait)
                if len(shaper.lags) < MAX_SAMPLES:
                    shaper.lags.append(max(0.0, time.perf_counter() - t0 - wait))
            shaper.bytes_up += len(chunk)
            writer.write(chunk)
            await writer.drain()

    async def downstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Registry to client: the response's first bytes end the upload they answer."""
        while chunk := await reader.read(64 * 1024):
            self.finish_upload()
            self.new_request = True
            self.shaper.bytes_down += len(chunk)
            writer.write(chunk)
            await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _serve(target: int, shaper: Shaper) -> dict[str, Any]:
    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        shaper.connections += 1
        link = Link(shaper)
        try:
            r_reader, r_writer = await asyncio.open_connection(HOST, target)
        except OSError:
            await _close(c_writer)
            return
        pumps = [
            asyncio.create_task(link.upstream(c_reader, r_writer)),
            asyncio.create_task(link.downstream(r_reader, c_writer)),
        ]
        try:  # either side closing ends the link (HTTP/1.1 keep-alive ends with a close)
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            link.finish_upload()
            await _close(r_writer)
            await _close(c_writer)

    cpu0 = os.times()
    server = await asyncio.start_server(handle, HOST, 0, backlog=256)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    await stop.wait()
    server.close()
    cpu1 = os.times()
    return {**shaper.stats(), "cpu_s": round(cpu1.user - cpu0.user + cpu1.system - cpu0.system, 4), "port": port}


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop on a ``stop`` line or at EOF (the trial that started us is gone)."""
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(stop.set)


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 6:
        shaper = Shaper(int(argv[2]), argv[3], float(argv[4]), float(argv[5]))
        print(json.dumps(asyncio.run(_serve(int(argv[1]), shaper))), flush=True)
        return 0
    usage = "usage: python -m strategies.upload_proxy serve TARGET_PORT CAPACITY MODEL PENALTY BANDWIDTH"
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
