"""The ``docker-push`` work kind (reader side): push each item's image to a registry that stalls.

Each item's work is a real push on the project's Docker engine through the docker SDK: the
image ``docker-build`` made for the item (its reference follows from the trial's name, the
item's writer and seq: :func:`strategies.kinds.docker_engine.image_ref`) is tagged for the
registry and pushed with ``api.push(..., stream=True, decode=True)``; an error in the stream
fails the item. ``asyncio`` runs the blocking SDK call in a thread, one per reader task.

Around the trial, ``start`` runs, on ``127.0.0.1`` only:

* **a registry of the trial's own** (``docker-registry serve``, the distribution registry that
  ``make docker`` installs) with its storage in a fresh folder, so that afterwards its catalog
  holds exactly what this trial pushed, and its removal is the folder's;
* **the stalling proxy** in front of it (:mod:`strategies.upload_proxy`): uploads beyond
  ``capacity`` slow down by the ``share`` / ``collapse`` model, ``bandwidth_mib_s`` being one
  upload's speed at full rate. The engine pushes to the proxy's port.

``stop`` asks the registry (directly, not through the proxy) for its catalog and tags: every
image ``docker-build`` made must be there once, and nothing else (``registry_tags_*``). Then
it stops both processes and removes the registry's folder.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from typing import Any, ClassVar

from strategies.base import Calibration, WorkSpec
from strategies.kinds import ItemPerform, Running
from strategies.kinds import docker_engine as engine
from strategies.kinds.service import CAPACITY_MODELS, _env

REGISTRY = "docker-registry"


class PushError(RuntimeError):
    """A push failed, or the registry or proxy could not be run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((engine.HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def registry_get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://{engine.HOST}:{port}{path}", timeout=10) as resp:
        return json.loads(resp.read())


class RegistryProcess:
    """A distribution registry on 127.0.0.1 with its storage in ``folder`` (removed at stop)."""

    def __init__(self, folder: str) -> None:
        exe = shutil.which(REGISTRY)
        if exe is None:
            raise PushError(f"{REGISTRY} not found; {engine.HOW_TO_START}")
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.port = free_port()
        config = os.path.join(folder, "config.yml")
        with open(config, "w", encoding="utf-8") as fh:  # JSON is YAML: no YAML writer needed
            json.dump(
                {
                    "version": 0.1,
                    "log": {"level": "error", "accesslog": {"disabled": True}},
                    "storage": {"filesystem": {"rootdirectory": os.path.join(folder, "data")}},
                    "http": {"addr": f"{engine.HOST}:{self.port}"},
                },
                fh,
            )
        with open(os.path.join(folder, "registry.log"), "wb") as log:
            self.proc = subprocess.Popen([exe, "serve", config], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        with open(os.path.join(folder, "registry.pid"), "w", encoding="ascii") as fh:  # for `make docker-down`
            fh.write(str(self.proc.pid))

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the registry answers ``GET /v2/`` (it was started by ``__init__``; the proxy can
        start meanwhile: it connects to the registry only when a push connects to it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                registry_get(self.port, "/v2/")
                return
            except (OSError, ValueError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise PushError(f"registry on {engine.HOST}:{self.port} did not start; see {self.folder}") from None
                time.sleep(0.01)

    def tags(self) -> dict[str, list[str]]:
        """repository -> its tags, from the catalog."""
        repos = registry_get(self.port, "/v2/_catalog?n=1000").get("repositories") or []
        return {repo: registry_get(self.port, f"/v2/{repo}/tags/list").get("tags") or [] for repo in repos}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class ProxyProcess:
    """The stalling proxy's process (strategies.upload_proxy); ``stop()`` returns what it saw."""

    def __init__(self, target: int, capacity: int, model: str, penalty: float, bandwidth: float) -> None:
        cmd = [sys.executable, "-m", "strategies.upload_proxy", "serve", str(target), str(capacity), model]
        cmd += [repr(float(penalty)), repr(float(bandwidth))]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise PushError(f"upload proxy failed to start (exit code {self.proc.returncode})")
        self.port: int = json.loads(line)["port"]

    def stop(self) -> dict[str, Any]:
        try:
            out, _ = self.proc.communicate(b"stop\n", timeout=10)
            lines = out.decode(errors="replace").strip().splitlines()
            stats: dict[str, Any] = json.loads(lines[-1]) if lines else {"errors": 1}
        except (subprocess.TimeoutExpired, OSError, ValueError):
            self.proc.kill()
            self.proc.communicate()
            stats = {"errors": 1, "killed": True}
        return stats

    def record_pid(self, folder: str) -> None:
        """For `make docker-down`, beside the registry's (the proxy also ends when its trial does:
        at EOF on its stdin)."""
        with open(os.path.join(folder, "proxy.pid"), "w", encoding="ascii") as fh:
            fh.write(str(self.proc.pid))


def push(trial: str, port: int, writer: int, seq: int) -> None:
    """Push item (writer, seq)'s image to the registry behind ``port``; raise on any error."""
    import docker

    api = engine.client().api
    repo, tag = f"{engine.HOST}:{port}/{engine.repository(trial)}", engine.item_tag(writer, seq)
    try:
        api.tag(engine.image_ref(trial, writer, seq), repo, tag)
        for event in api.push(repo, tag=tag, stream=True, decode=True):
            if "error" in event or "errorDetail" in event:
                raise PushError(f"push of {repo}:{tag} failed: {event.get('error') or event.get('errorDetail')}")
    except docker.errors.APIError as exc:
        raise PushError(f"push of {repo}:{tag} failed: {exc}") from None


class DockerPush(engine.DockerKind):
    requires = ("docker",)  # imported lazily, inside functions (the worker side is stdlib at import)
    name = "docker-push"
    summary = "push each item's image (from docker-build) through a loopback proxy that stalls beyond `capacity`"
    params: ClassVar[Mapping[str, Any]] = {
        "capacity": None,
        "model": "collapse",
        "penalty": 0.5,
        "bandwidth_mib_s": 8.0,
        "port": 0,
        "trial": "",
    }

    def available(self) -> tuple[bool, str]:
        ok, why = super().available()
        if ok and shutil.which(REGISTRY) is None:
            return False, f"{REGISTRY} (the registry each trial runs) not found; {engine.HOW_TO_START}"
        return ok, why

    def check(self, spec: WorkSpec) -> None:
        capacity = spec.param("capacity")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 4096:
            raise ValueError("capacity: kind 'docker-push' needs capacity (uploads at full speed), 1 to 4096, e.g. 3")
        if spec.param("model", "collapse") not in CAPACITY_MODELS:
            raise ValueError(f"model: must be one of {', '.join(CAPACITY_MODELS)}")
        for name, top in (("penalty", 100), ("bandwidth_mib_s", 10_000)):
            value = spec.param(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
                raise ValueError(f"{name}: must be a number from 0 to {top}")
        if not spec.param("bandwidth_mib_s") > 0:
            raise ValueError("bandwidth_mib_s: must be more than 0")

    def capacity(self, spec: WorkSpec) -> int | None:
        return max(int(spec.param("capacity") or 1), 1)

    def prepare_item(self, spec: WorkSpec, cal: Calibration) -> ItemPerform:
        trial, port = str(spec.param("trial")), int(spec.param("port", 0))
        if not trial or port <= 0:
            raise PushError("docker-push needs its registry and proxy: run it through the worker (Kind.start)")
        engine.client()  # connected while the side is set up, not on its first item

        def perform(seconds: float, writer: int, seq: int, payload: bytes) -> None:
            push(trial, port, writer, seq)

        return perform

    def start(self, spec: WorkSpec, role: str) -> Running:
        if not engine.CURRENT:
            raise PushError("docker-push pushes the images docker-build makes: set writer_work kind = 'docker-build'")
        trial = engine.CURRENT[0]
        registry = RegistryProcess(os.path.join(engine.env_dir(), "trials", trial.name))
        try:  # the proxy starts while the registry does
            proxy = ProxyProcess(
                registry.port,
                int(spec.param("capacity")),
                str(spec.param("model")),
                float(spec.param("penalty")),
                float(spec.param("bandwidth_mib_s")) * 2**20,
            )
        except BaseException:
            registry.stop()
            raise
        try:
            proxy.record_pid(registry.folder)
            registry.wait_ready()
        except BaseException:
            proxy.stop()
            registry.stop()
            raise

        def stop() -> dict[str, Any]:
            engine.end_side_threads()
            stats: dict[str, Any] = {"proxy": proxy.stop()}
            try:
                found = registry.tags()
                repo = engine.repository(trial.name)
                tags = [f"{r}:{t}" for r, ts in found.items() for t in ts]
                expected = trial.built if trial.built_stopped else set()
                stats.update(
                    registry_tags_expected=len(expected),
                    registry_tags_found=len(expected & set(tags)),
                    registry_tags_unexpected=len(set(tags) - expected),
                    registry_repos=sorted(found),
                    registry_repo=repo,
                    registry_disk_bytes=_disk_bytes(registry.folder),
                )
            except (OSError, ValueError) as exc:
                stats["registry_error"] = f"registry could not be read: {exc}"
            finally:
                registry.stop()
                engine.CURRENT.clear()
            stats["registry_left"] = os.path.exists(registry.folder)
            return stats

        return Running(spec.with_param("trial", trial.name).with_param("port", proxy.port), stop)

    def trial_metrics(self, role: str, stats: Mapping[str, Any]) -> dict[str, float]:
        proxy = stats.get("proxy") or {}
        return {
            "proxy_uploads": proxy.get("uploads", math.nan),
            "proxy_peak_uploads": proxy.get("peak_uploads", math.nan),
            # Time-weighted uploads in flight while any was: what the pool really held at the registry.
            "proxy_mean_uploads": proxy.get("mean_uploads", math.nan),
            "proxy_upload_ms_mean": proxy.get("upload_ms_mean", math.nan),
            "proxy_lag_p99_ms": proxy.get("lag_p99_ms", math.nan),
            "registry_tags_expected": stats.get("registry_tags_expected", math.nan),
            "registry_tags_found": stats.get("registry_tags_found", math.nan),
            "registry_tags_unexpected": stats.get("registry_tags_unexpected", math.nan),
        }


def _disk_bytes(folder: str) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


KIND = DockerPush()
