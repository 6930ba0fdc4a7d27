"""The contended service: its capacity model, its TCP server, its clients, and every strategy on it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest

from harness import errors, scenario
from harness.analysis import metrics
from harness.running import launchers
from harness.running.launchers import TrialSpec
from harness.running.launchers.proctree import find_leftovers
from strategies import base, kinds, registry, service_server
from strategies.kinds import service
from tests.helpers import SCENARIOS, START_METHODS, run, skip_unless_available, small_workload

#: Base service time for the TCP model checks: long enough that scheduling noise and
#: the arrival skew of the clients (milliseconds) stay small against it.
BASE = 0.2


# --------------------------------------------------------------------------- #
# The model, without time.


def test_rate_is_full_speed_up_to_capacity_then_shared_or_collapsing() -> None:
    """rate(n): 1 up to capacity; share gives C/n; collapse gives (C/n) / (1 + penalty (n - C))."""
    assert [service.rate(n, 3, "share", 0.5) for n in (1, 3, 6)] == [1.0, 1.0, 0.5]
    assert service.rate(4, 3, "collapse", 0.5) == pytest.approx(0.75 / 1.5)
    # Total throughput (n x rate) is flat beyond capacity when shared, and falls when it collapses.
    shared = [n * service.rate(n, 3, "share", 0.5) for n in range(3, 9)]
    collapsed = [n * service.rate(n, 3, "collapse", 0.5) for n in range(3, 9)]
    assert shared == pytest.approx([3.0] * 6)
    assert collapsed == pytest.approx([3 / (1 + 0.5 * k) for k in range(6)])
    assert service.rate(10, 3, "collapse", 0.0) == service.rate(10, 3, "share", 0.0)


@pytest.mark.parametrize(("capacity", "sigma"), [(1, 0.0), (3, 0.05), (3, 0.5), (5, 0.0), (5, 0.2)])
def test_usl_model_is_the_law_with_its_peak_at_the_capacity(capacity: int, sigma: float) -> None:
    """usl: total throughput n x rate(n) is n / (1 + σ(n − 1) + κn(n − 1)) with κ = (1 − σ) / C²,
    so the law's N* = √((1 − σ) / κ) is the capacity, and the best whole pool is the capacity."""
    kappa = (1 - sigma) / capacity**2
    total = {n: n * service.rate(n, capacity, "usl", sigma) for n in range(1, 13)}
    assert total == pytest.approx({n: n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in range(1, 13)})
    assert max(total, key=lambda n: total[n]) == capacity
    assert service.rate(1, capacity, "usl", sigma) == 1.0


class FakeTime:
    """A clock and a one-shot timer queue the test advances by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None], list[bool]]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> Any:
        cancelled = [False]
        self.timers.append((self.now + delay, fn, cancelled))

        class Handle:
            def cancel(self) -> None:
                cancelled[0] = True

        return Handle()

    def run_until(self, t: float) -> None:
        while True:
            live = sorted((when, i) for i, (when, _, c) in enumerate(self.timers) if not c[0] and when <= t)
            if not live:
                break
            when, i = live[0]
            _, fn, c = self.timers[i]
            c[0] = True
            self.now = when
            fn()
        self.now = t


def _finish_times(capacity: int, model: str, arrivals: list[tuple[float, float]], penalty: float = 0.5) -> list[float]:
    clock = FakeTime()
    res = service_server.Resource(capacity, model, penalty, lambda: clock.now, clock.call_later)
    done: list[float] = [float("nan")] * len(arrivals)
    for i, (at, work_s) in sorted(enumerate(arrivals), key=lambda x: x[1][0]):
        clock.run_until(at)
        res.submit(work_s, lambda i=i: done.__setitem__(i, clock.now))  # type: ignore[misc]
    clock.run_until(1e9)
    return done


@pytest.mark.parametrize(
    ("capacity", "model", "n", "expected"),
    [
        (2, "share", 2, 1.0),  # within capacity: the base time
        (2, "share", 4, 2.0),  # twice the capacity, fair share: twice the time
        (2, "collapse", 4, 4.0),  # rate (2/4) / (1 + 0.5 * 2) = 1/4
        (3, "collapse", 4, 2.0),  # rate (3/4) / 1.5 = 1/2
        (3, "usl", 3, 1.0 + 0.5 * 2 + (0.5 / 9) * 3 * 2),  # σ = 0.5, κ = (1 − σ) / 9: 1 / rate(3)
    ],
)
def test_resource_processor_sharing_exactly(capacity: int, model: str, n: int, expected: float) -> None:
    """n equal requests arriving together all finish at base / rate(n)."""
    assert _finish_times(capacity, model, [(0.0, 1.0)] * n) == pytest.approx([expected] * n)


def test_resource_rates_change_as_requests_come_and_go() -> None:
    """Capacity 1, shared: a (2 s of work) runs alone for 1 s, then shares with b (1 s of work)."""
    a, b = _finish_times(1, "share", [(0.0, 2.0), (1.0, 1.0)])
    # From t=1 both run at 1/2: b needs 2 s -> done at 3; a has 1 s left, also done at 3.
    assert (a, b) == pytest.approx((3.0, 3.0))
    a, b = _finish_times(1, "share", [(0.0, 1.0), (0.5, 2.0)])
    # a: 0.5 alone, 0.5 left at half speed -> done at 1.5; b: 0.5 done by then, 1.5 alone -> 3.0.
    assert (a, b) == pytest.approx((1.5, 3.0))


def test_resource_counts_requests_and_peak() -> None:
    clock = FakeTime()
    res = service_server.Resource(2, "share", 0.0, lambda: clock.now, clock.call_later)
    for _ in range(3):
        res.submit(1.0, lambda: None)
    clock.run_until(10.0)
    res.submit(0.0, lambda: None)  # no work: served at once
    stats = res.stats()
    assert (stats["requests"], stats["peak_active"]) == (4, 3)
    with pytest.raises(ValueError, match="bad service model"):
        service_server.Resource(0, "share", 0.0, time.monotonic, clock.call_later)
    with pytest.raises(ValueError, match="bad service model"):
        service_server.Resource(3, "usl", 1.0, time.monotonic, clock.call_later)


# --------------------------------------------------------------------------- #
# The real server over TCP. Generous factors, never tight times.


def _sync_latencies(port: int, clients: int, seconds: float) -> list[tuple[float, float]]:
    """(client-measured latency, server-held time) of ``clients`` concurrent blocking requests."""
    barrier = threading.Barrier(clients)
    out: list[tuple[float, float]] = []

    def one() -> None:
        barrier.wait()
        t0 = time.perf_counter()
        held = service.request(port, seconds)
        out.append((time.perf_counter() - t0, held / 1e9))

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize(
    ("model", "clients", "factor"),
    [("share", 1, 1.0), ("share", 2, 1.0), ("share", 4, 2.0), ("collapse", 2, 1.0), ("collapse", 4, 4.0)],
)
def test_capacity_2_measured_over_tcp(model: str, clients: int, factor: float) -> None:
    """Capacity 2: up to 2 concurrent requests take the base time; 4 take 2x (share) or 4x (collapse)."""
    server = service.ServiceProcess(2, model, 0.5)
    try:
        measured = _sync_latencies(server.port, clients, BASE)
    finally:
        stats = server.stop()
    expected = factor * BASE
    for latency, held in measured:
        assert held <= latency
        assert 0.85 * expected <= held <= 1.5 * expected + 0.15, (model, clients, measured)
    assert (stats["requests"], stats["errors"], stats["exit_code"]) == (clients, 0, 0)
    assert stats["peak_active"] <= clients


def test_asyncio_clients_use_streams_and_see_the_same_model() -> None:
    """aperform on a service spec: 4 concurrent tasks against capacity 2, shared -> about 2x the base."""
    server = service.ServiceProcess(2, "share", 0.5)
    spec = base.WorkSpec("service", BASE * 1e3, params=(("capacity", 2), ("port", server.port)))
    perform = kinds.get("service").aprepare(spec, base.Calibration())

    async def timed() -> float:
        t0 = time.perf_counter()
        await perform(BASE)
        return time.perf_counter() - t0

    async def main() -> list[float]:
        return list(await asyncio.gather(*(timed() for _ in range(4))))

    try:
        latencies = asyncio.run(main())
    finally:
        stats = server.stop()
    assert all(0.85 * 2 * BASE <= t <= 1.5 * 2 * BASE + 0.15 for t in latencies), latencies
    assert (stats["requests"], stats["peak_active"], stats["errors"]) == (4, 4, 0)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((service.HOST, port), timeout=2):
        return True
    return False


def test_server_stops_cleanly_and_frees_its_port() -> None:
    """After stop: exit code 0, the process is gone, nothing listens, the port can be bound again."""
    me = psutil.Process()
    before = {c.laddr for c in me.net_connections("tcp")}
    server = service.ServiceProcess(1, "share", 0.0)
    for _ in range(5):
        service.request(server.port, 0.001)
    assert _listening(server.port)
    stats = server.stop()
    assert stats["exit_code"] == 0 and stats["requests"] == 5
    assert server.stop() is stats  # idempotent
    assert not psutil.pid_exists(server.pid) or psutil.Process(server.pid).status() == psutil.STATUS_ZOMBIE
    assert not _listening(server.port)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((service.HOST, server.port))
    # The clients left no socket open in this process.
    assert {c.laddr for c in me.net_connections("tcp")} <= before


def test_server_exits_when_its_parent_dies() -> None:
    """A worker killed without stopping its server: the server sees stdin close and exits."""
    code = (
        "import json, os\nfrom strategies.kinds import service\n"
        "s = service.ServiceProcess(1, 'share', 0.0)\n"
        "print(json.dumps([s.pid, s.port]), flush=True)\nos._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    pid, port = (int(x) for x in out.stdout.strip()[1:-1].split(","))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        psutil.Process(pid).kill()
        pytest.fail("the orphaned server did not exit")
    assert not _listening(port)


def test_request_without_a_server_says_so() -> None:
    perform = kinds.get("service").prepare(base.WorkSpec("service", 1.0, params=(("capacity", 1),)), base.Calibration())
    with pytest.raises(service.ServiceError, match="needs a running server"):
        perform(0.001)


def test_bench_measures_the_server_itself() -> None:
    """The self-measurement runs, and its zero-work requests all succeed."""
    result = service_server.bench(seconds=0.3, processes=1, clients=2)
    assert result["requests"] > 0 and result["server"]["errors"] == 0
    assert result["server"]["requests"] == result["requests"]


# --------------------------------------------------------------------------- #
# Through the worker: every strategy, the watchdog, the scenario model.


def _service_workload(**overrides: Any) -> base.Workload:
    spec = base.WorkSpec("service", 2.0, "uniform", params=(("capacity", 2), ("model", "collapse"), ("penalty", 0.5)))
    fields: dict[str, Any] = {"readers": 3, "reader_work": spec, "start_method": None, **overrides}
    return small_workload(**fields)


SERVICE_CASES = [(name, None) for name in registry.names()]
SERVICE_CASES += [("seed-pool", m) for m in START_METHODS if m != "fork"]  # the port travels pickled


@pytest.mark.parametrize(
    ("strategy", "start_method"), SERVICE_CASES, ids=[f"{s}-{m or 'default'}" for s, m in SERVICE_CASES]
)
def test_every_strategy_runs_service_work(strategy: str, start_method: str | None) -> None:
    """Exactly once, within the pool, one request per item, the server stopped cleanly; no leftovers."""
    skip_unless_available(strategy)
    wl = _service_workload(start_method=start_method)
    out = run(strategy, wl)
    assert out.status == "ok", out.errors
    assert out.errors == [] and out.leftovers == []
    rec = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    d = metrics.delivery(rec, wl.writers, wl.items_per_writer)
    assert (d.lost, d.duplicated, d.unique) == (0, 0, wl.total_items)
    stats = out.meta["kinds"]["reader"]
    assert stats["requests"] == wl.total_items
    assert 1 <= stats["peak_active"] <= wl.readers
    assert (stats["errors"], stats["exit_code"]) == (0, 0)
    assert not _listening(stats["port"])
    m = metrics.trial_metrics(rec, wl, out.meta, 2.0, writes=out.writes)
    assert m["service_requests"] == wl.total_items


def test_writers_can_use_a_service_too() -> None:
    """Each side whose work is ``service`` gets its own server."""
    spec = base.WorkSpec("service", 1.0, params=(("capacity", 4),))
    wl = small_workload(None, writer_work=spec, reader_work=spec)
    out = run("threads", wl)
    assert out.status == "ok", out.errors
    assert {side: s["requests"] for side, s in out.meta["kinds"].items()} == {
        "writer": wl.total_items,
        "reader": wl.total_items,
    }


def test_timeout_kills_the_server_with_the_trial() -> None:
    """A hung trial is killed with its whole process group, the service's server included."""
    out = launchers.make("local").run(TrialSpec("test-hang", _service_workload(), timeout=1.5))
    assert out.status == "timeout"
    assert find_leftovers(out.pid, grace=3.0) == []  # nothing alive in its group (zombies are dead)


def test_scenario_service_work_is_validated() -> None:
    table = "[[scenario]]\nname='s'\ndescription='d'\nwriters=1\nreaders=1\nitems_per_writer=1\n"
    with pytest.raises(errors.ScenarioError, match="kind 'service' needs capacity"):
        scenario.parse(table + "reader_work = { kind = 'service', ms = 5 }\n", "x.toml")
    with pytest.raises(
        errors.ScenarioError, match=r"field 'reader_work.capacity': must be a whole number from 1 to 4096"
    ):
        scenario.parse(table + "reader_work = { kind = 'service', ms = 5, capacity = 0 }\n", "x.toml")
    with pytest.raises(errors.ScenarioError, match=r"reader_work.model"):
        scenario.parse(table + "reader_work = { kind = 'service', ms = 5, capacity = 2, model = 'x' }\n", "x.toml")
    with pytest.raises(errors.ScenarioError, match=r"reader_work.penalty.*usl model's contention must be from 0 to"):
        scenario.parse(
            table + "reader_work = { kind = 'service', ms = 5, capacity = 2, model = 'usl', penalty = 1 }\n", "x.toml"
        )
    (sc,) = scenario.parse(table + "reader_work = { kind = 'service', ms = 5, capacity = 2 }\n", "x.toml")
    spec = sc.reader_work.spec()
    assert (spec.kind, spec.param("capacity"), spec.param("model"), spec.param("port", 0)) == ("service", 2, "share", 0)
    assert sc.writer_work.spec().param("capacity") is None


def test_registry_push_scenario_is_the_story() -> None:
    (loaded,) = scenario.load(SCENARIOS / "registry-push.toml")
    sc = loaded.scenario
    assert sc.total_items == 100 and sc.writers >= 10
    spec = sc.reader_work.spec()
    assert (spec.kind, spec.param("capacity"), spec.param("model")) == ("service", 3, "collapse")


def test_ideal_makespan_knows_the_service_capacity() -> None:
    """Readers beyond the capacity do not lower the bound: 24 x 10 ms over min(8, 2) = 120 ms."""
    spec = base.WorkSpec("service", 10.0, params=(("capacity", 2),))
    few = small_workload(None, readers=1, writer_work=base.WorkSpec(), reader_work=spec)
    many = small_workload(None, readers=8, writer_work=base.WorkSpec(), reader_work=spec)
    assert metrics.ideal_makespan(few, 2.0) == pytest.approx(0.24)
    assert metrics.ideal_makespan(many, 2.0) == pytest.approx(0.12)


def test_ideal_makespan_of_a_usl_service_is_what_it_sustains() -> None:
    """usl, capacity 3, σ 0: a pool of 8 sustains at most 1.8 requests' worth (at n = 3), not 3 or 8;
    a pool of 2, 2 / (1 + 2/9) = 1.636: the bound is 24 x 10 ms over that."""
    spec = base.WorkSpec("service", 10.0, params=(("capacity", 3), ("model", "usl"), ("penalty", 0.0)))
    kind = service.KIND
    assert kind.sustained(spec, 8) == pytest.approx(1.8)
    assert kind.sustained(spec, 2) == pytest.approx(2 / (1 + 2 / 9))
    plain = base.WorkSpec("service", 10.0, params=(("capacity", 2),))
    assert (kind.sustained(plain, 1), kind.sustained(plain, 8)) == (1.0, 2.0)
    for readers, sustained in ((8, 1.8), (2, 2 / (1 + 2 / 9))):
        wl = small_workload(None, readers=readers, writer_work=base.WorkSpec(), reader_work=spec)
        assert metrics.ideal_makespan(wl, 2.0) == pytest.approx(0.24 / sustained)
        assert metrics.nominal_ideal_makespan(wl, 2.0) == pytest.approx(0.24 / sustained)
