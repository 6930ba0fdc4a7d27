"""The Docker work kinds against the REAL engine and registry (``make docker``): no mocks.

Without an engine these tests skip, saying how to start one; under CI (``CI=true``) they
fail instead: CI starts the engine (``.ci/run``), so a skip there would hide a broken setup.
No timing thresholds: what is compared is counts (tags, images, uploads in flight) and order
(an upload among more than ``capacity`` is slower than one alone).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.analysis import metrics
from harness.running import suite
from harness.scenario import load
from strategies import base, kinds
from strategies.kinds import docker_engine as engine
from strategies.kinds.service import rate
from strategies.upload_proxy import Shaper
from tests.helpers import ROOT, run

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _push_spec(capacity: int = 2, bandwidth: float = 64.0, model: str = "collapse") -> base.WorkSpec:
    params = {"capacity": capacity, "model": model, "penalty": 1.0, "bandwidth_mib_s": bandwidth}
    return base.WorkSpec("docker-push", params=tuple(sorted(params.items())))


def _workload(readers: int, writers: int = 3, items: int = 2, image_bytes: int = 64 * 1024, **push: Any) -> Any:
    return base.Workload(
        writers=writers,
        readers=readers,
        items_per_writer=items,
        payload_bytes=16,
        writer_work=base.WorkSpec("docker-build", params=(("image_bytes", image_bytes),)),
        reader_work=_push_spec(**push),
        seed=3,
    )


@pytest.fixture(scope="module")
def docker_engine() -> Iterator[Any]:
    """The project's engine, or a skip (a failure under CI) saying how to start it."""
    for name in ("docker-build", "docker-push"):
        ok, why = kinds.get(name).available()
        if not ok:
            if IN_CI:
                pytest.fail(f"CI must run the Docker tests against a real engine: {why}")
            pytest.skip(why)
    import docker

    client = docker.DockerClient(base_url=engine.engine_url())
    try:
        yield client
    finally:
        client.close()


def _ours(client: Any) -> set[str]:
    """Every image reference a queuebench trial made that the engine still holds."""
    return {t for img in client.images.list(all=True) for t in img.tags if "queuebench-qb" in t}


def _trial(strategy: str, workload: base.Workload) -> tuple[str, list[str], dict[str, Any], dict[str, Any]]:
    out = run(strategy, workload, timeout=120)
    rows = metrics.join_records(out.reads, out.writes, workload.items_per_writer)
    m = metrics.trial_metrics(rows, workload, out.meta, 1.0, out.writes, out.memory)
    status, errors = suite.classify(out, m)
    return status, errors, m, out.meta.get("kinds") or {}


@pytest.mark.parametrize("strategy", ["threads", "mp-queue", "seed-pool", "asyncio"])
def test_builds_and_pushes_every_item_once_and_leaves_nothing(strategy: str, docker_engine: Any) -> None:
    before = _ours(docker_engine)
    status, errors, m, stats = _trial(strategy, _workload(readers=2))
    assert (status, errors) == ("ok", [])
    assert m["exactly_once"] and m["consumed"] == 6
    # The registry's catalog, read after the trial: every item's image there once, nothing else.
    assert (m["registry_tags_expected"], m["registry_tags_found"], m["registry_tags_unexpected"]) == (6, 6, 0)
    assert stats["reader"]["registry_repos"] == [stats["reader"]["registry_repo"]]
    assert m["docker_images_built"] == 6 and m["docker_layers"] == 6  # FROM scratch + one COPY: one layer
    # Cleanup: the trial's images are gone from the engine, its registry's folder from the disk.
    assert m["docker_images_left"] == 0 and _ours(docker_engine) == before
    assert stats["reader"]["registry_left"] is False
    assert not (Path(engine.env_dir()) / "trials" / stats["writer"]["trial"]).exists()
    assert m["proxy_peak_uploads"] <= m["pool_size"]


def _engine_files(client: Any) -> set[str]:
    """Every file under the engine's data root (its images, layers and its own records)."""
    root = Path(client.info()["DockerRootDir"])
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_trials_leave_the_engines_disk_as_they_found_it(docker_engine: Any) -> None:
    """Trial after trial, in every pooled strategy: no image, layer, record of a push (dockerd
    keeps those after the image goes) or registry folder is left behind."""
    before, trials = _engine_files(docker_engine), Path(engine.env_dir()) / "trials"
    for strategy in ("threads", "asyncio", "seed-pool", "manager-pool", "mp-queue", "process-pool"):
        status, errors, m, stats = _trial(strategy, _workload(readers=2, writers=2, items=2))
        assert (status, errors) == ("ok", []) and m["registry_tags_found"] == 4
        assert stats["writer"]["push_records_removed"] == 4
    assert _engine_files(docker_engine) == before
    assert not trials.exists() or list(trials.iterdir()) == []


def test_a_missing_tag_fails_the_trial(docker_engine: Any) -> None:
    status, _, m, _ = _trial("threads", _workload(readers=1, writers=2, items=1))
    assert status == "ok" and suite.registry_problems(m) == []
    m["registry_tags_found"] -= 1  # what a push lost by the registry would leave
    assert suite.registry_problems(m) == [
        "registry exactly-once broken: 1 of 2 items' images in the registry (2 built, 0 unexpected tag(s))"
    ]


def test_the_proxy_stalls_uploads_beyond_capacity(docker_engine: Any) -> None:
    """One push at a time never exceeds capacity; six at once do, and each upload is slower."""
    slow = {"capacity": 2, "bandwidth": 1.0, "image_bytes": 256 * 1024, "writers": 6, "items": 2}
    _, _, alone, _ = _trial("threads", _workload(readers=1, **slow))
    _, _, crowd, _ = _trial("threads", _workload(readers=6, **slow))
    assert alone["proxy_peak_uploads"] == 1
    assert crowd["proxy_peak_uploads"] > 2  # beyond capacity: the model applies
    assert alone["proxy_uploads"] == crowd["proxy_uploads"] >= 12  # each image: its layer and its config
    assert crowd["proxy_upload_ms_mean"] > alone["proxy_upload_ms_mean"]


def test_the_shaper_gives_each_upload_the_models_rate() -> None:
    """No clock needed: the delay of a chunk is its bytes over bandwidth x rate(n)."""
    shaper = Shaper(3, "collapse", 0.5, bandwidth=1000.0)
    for n in range(1, 8):
        shaper.begin()
        assert math.isclose(shaper.delay(1000), 1 / rate(n, 3, "collapse", 0.5))
    assert shaper.peak == 7 and shaper.uploads == 7
    assert shaper.delay(1000) > 1.0  # beyond capacity: slower than full speed


def test_the_upload_proxy_models_only_a_shared_or_collapsing_bandwidth() -> None:
    """The service kind's usl model is not the proxy's: refused by the kind and by the shaper."""
    with pytest.raises(ValueError, match="model: must be one of share, collapse"):
        kinds.get("docker-push").check(_push_spec(model="usl"))
    with pytest.raises(ValueError, match="bad proxy model"):
        Shaper(3, "usl", 0.5, bandwidth=1000.0)
    kinds.get("docker-push").check(_push_spec(model="share"))  # the two it models pass


def test_the_shaper_charges_time_to_the_number_of_uploads_in_flight() -> None:
    """The time-weighted uploads in flight, from the clock values given (no sleeping)."""
    shaper = Shaper(3, "collapse", 0.5, bandwidth=1000.0)
    shaper.begin(t=0.0)
    shaper.begin(t=1.0)  # 1 s alone
    shaper.end(0.0, False, t=4.0)  # 3 s at two
    shaper.end(0.0, False, t=5.0)  # 1 s alone
    shaper.begin(t=9.0)  # 4 s with none: not counted
    shaper.end(0.0, False, t=10.0)
    stats = shaper.stats()
    assert stats["level_s"] == {"1": 3.0, "2": 3.0}
    assert stats["upload_busy_s"] == 6.0 and stats["mean_uploads"] == 1.5 and stats["beyond_capacity_s"] == 0.0


def test_async_sides_each_get_their_own_sdk_thread() -> None:
    """asyncio's reader and writer tasks run the blocking SDK call on a thread each, never queued
    behind one another in the loop's default executor (min(32, cores + 4) threads): 40 sides whose
    calls can only return once all 40 are in flight at the same time all return."""
    import asyncio
    import threading

    sides = 40
    barrier = threading.Barrier(sides, timeout=120)  # a hang guard, not a timing threshold

    class Blocking(engine.DockerKind):
        name = "blocking-sdk"

        def prepare_item(self, spec: base.WorkSpec, cal: base.Calibration) -> Any:
            return lambda seconds, writer, seq, payload: barrier.wait()

    kind = Blocking()
    performs = [kind.aprepare_item(base.WorkSpec("blocking-sdk"), base.Calibration()) for _ in range(sides)]

    async def main() -> list[object]:
        return await asyncio.gather(*(perform(0.0, w, 0, b"") for w, perform in enumerate(performs)))

    try:
        assert sorted(asyncio.run(main())) == list(range(sides))  # type: ignore[type-var]
    finally:
        engine.end_side_threads()


def test_without_an_engine_the_kinds_say_how_to_start_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("QUEUEBENCH_DOCKER_HOST", url)
    for name in ("docker-build", "docker-push"):
        ok, why = kinds.get(name).available()
        assert not ok and why.startswith(f"no Docker engine at {url} (") and why.endswith("; run `make docker`")


def test_the_scenario_without_an_engine_marks_every_trial_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The worker's probe answers the kinds' availability (the env var reaches the worker)."""
    monkeypatch.setenv("QUEUEBENCH_DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    loaded = load(ROOT / "scenarios" / "docker-push.toml")
    prepared = suite.prepare(loaded, suite.Options(out=tmp_path / "results", strategies=["threads"]))
    _, doc = prepared.run()
    assert {t["status"] for t in doc["trials"]} == {"unavailable"}
    assert all("run `make docker`" in t["errors"][0] for t in doc["trials"])


@pytest.mark.docker
def test_the_engine_script_reports_its_state() -> None:
    """`make docker`'s script says where the engine listens, or how to start it (exit 3)."""
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("no bash")
    done = subprocess.run([str(ROOT / "scripts" / "docker-env.sh"), "status"], capture_output=True, text=True)
    if done.returncode == 0:
        assert "listening on unix://" in done.stdout
    else:
        assert done.returncode == 3 and "make docker" in done.stdout


def _alive(pid: int) -> bool:
    """A process that still runs (a zombie has ended: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((engine.HOST, port)) == 0


@pytest.mark.docker
def test_docker_down_leaves_no_daemon_registry_proxy_port_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second engine of its own (its own folder), a trial's registry and proxy left running as a
    killed trial leaves them, then `docker-env.sh down`: nothing it started runs or listens, and
    its folder is gone. Needs root and dockerd (as `make docker` does); under CI it must run."""
    import subprocess

    from strategies.kinds import docker_push

    if os.geteuid() != 0 or shutil.which("dockerd") is None or shutil.which(docker_push.REGISTRY) is None:
        if IN_CI:
            pytest.fail("CI must run the docker-down test: it needs root, dockerd and docker-registry")
        pytest.skip("needs root, dockerd and docker-registry (make docker installs them)")
    folder = tmp_path / "eng"
    monkeypatch.setenv("QUEUEBENCH_DOCKER_DIR", str(folder))
    monkeypatch.delenv("QUEUEBENCH_DOCKER_HOST", raising=False)
    script = str(ROOT / "scripts" / "docker-env.sh")
    try:
        up = subprocess.run([script, "up"], capture_output=True, text=True, timeout=120)
        assert up.returncode == 0, up.stdout + up.stderr
        dockerd = int((folder / "dockerd.pid").read_text())
        registry = docker_push.RegistryProcess(str(folder / "trials" / "killed"))
        proxy = docker_push.ProxyProcess(registry.port, 3, "collapse", 0.5, 2**20)
        proxy.record_pid(registry.folder)
        registry.wait_ready()
        ports = [registry.port, proxy.port]
        assert all(map(_listening, ports)) and _alive(dockerd)
    finally:
        down = subprocess.run([script, "down"], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    registry.proc.wait(10)  # our children: reaped here, having been killed by `down`
    proxy.proc.wait(10)
    for pipe in (proxy.proc.stdin, proxy.proc.stdout):
        if pipe is not None:
            pipe.close()
    assert registry.proc.returncode != 0 and proxy.proc.returncode != 0  # killed, not stopped by us
    assert not _alive(dockerd) and not any(map(_listening, ports))
    assert not folder.exists()
    with open("/proc/self/mounts", encoding="utf-8") as fh:
        assert str(folder) not in fh.read()
    leftovers = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and str(folder).encode() in cmdline and _alive(int(proc.name)):
            leftovers.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    assert leftovers == []  # containerd and anything else started under the folder


def test_a_run_that_cannot_start_anything_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What the CLI exits 2 with: the kinds' own reason (Prepared.unrunnable)."""
    url = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("QUEUEBENCH_DOCKER_HOST", url)
    prepared = suite.prepare(load(ROOT / "scenarios" / "docker-push.toml"), suite.Options(out=tmp_path / "results"))
    line = prepared.unrunnable()
    assert line is not None and line.startswith(f"no Docker engine at {url}") and "\n" not in line
    io = load(ROOT / "scenarios" / "io-bound.toml")
    assert suite.prepare(io, suite.Options(out=tmp_path / "results")).unrunnable() is None
