"""What the ``docker-build`` and ``docker-push`` work kinds share (not a kind itself).

The engine is the project's own (``make docker``: ``scripts/docker-env.sh``), reached on a
unix socket: ``$QUEUEBENCH_DOCKER_HOST``, by default ``unix://<project>/.docker-env/docker.sock``
(``$QUEUEBENCH_DOCKER_DIR`` moves the whole folder). The docker SDK is imported lazily, inside
functions only: this module runs on the worker side, which is standard library at import.

**A trial's images.** ``docker-build``'s :meth:`~strategies.kinds.Kind.start` names the trial
(``qb<pid>x<random>``); every item's image is tagged from that name, its writer and its seq
(:func:`image_ref`), so the reader that gets the item knows which image to push without the
item carrying anything. ``docker-push``'s ``start`` (called next, in the same process, by the
worker) picks up the same trial name from :data:`CURRENT`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from strategies.base import Calibration, WorkSpec
from strategies.kinds import AItemPerform, ItemPerform, Kind

HOST = "127.0.0.1"
#: A hint the user can act on, in every "engine unreachable" line.
HOW_TO_START = "run `make docker`"


def project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env_dir() -> str:
    """The folder ``make docker`` keeps its engine's state in (and the trials their registries)."""
    return os.environ.get("QUEUEBENCH_DOCKER_DIR") or os.path.join(project_root(), ".docker-env")


def engine_url() -> str:
    return os.environ.get("QUEUEBENCH_DOCKER_HOST") or f"unix://{os.path.join(env_dir(), 'docker.sock')}"


def ping(url: str, timeout: float = 2.0) -> str:
    """'' when the engine at ``url`` answers ``GET /_ping`` with 200, else why not (stdlib only:
    availability is asked before the SDK is used, and must not depend on it)."""
    if not url.startswith("unix://"):
        return f"only a local engine on a unix socket is used (got {url})"
    path = url.removeprefix("unix://")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            head = sock.recv(64)
    except OSError as exc:
        return exc.strerror or str(exc)
    return "" if head.startswith(b"HTTP/1.") and head.split(b" ")[1:2] == [b"200"] else f"answered {head[:32]!r}"


_CLIENTS: dict[int, Any] = {}
#: Clients a forked child inherited from its parent: kept, never used, never closed here. Left to
#: the collector, their pooled sockets would be finalized unclosed in the child (a ResourceWarning,
#: an error under -W error); closed, they would take the pool's lock, which a thread of the parent
#: may have held at the fork. They are the parent's connections: they end with the process.
_INHERITED: list[Any] = []


def client() -> Any:
    """This process's SDK client on the project's engine: one per process (a forked child must not
    share its parent's connections), with a pool big enough for every thread of a trial."""
    pid = os.getpid()
    found = _CLIENTS.get(pid)
    if found is None:
        import docker

        _INHERITED.extend(_CLIENTS.values())
        _CLIENTS.clear()
        found = _CLIENTS[pid] = docker.DockerClient(base_url=engine_url(), timeout=300, max_pool_size=256)
    return found


@dataclass
class Trial:
    """The trial being run in this (the trial's main) process, as the docker kinds see it."""

    name: str
    #: Image references ``docker-build`` found built when it stopped (what must be in the registry).
    built: set[str] = field(default_factory=set)
    built_stopped: bool = False


#: Set by docker-build's start(), read by docker-push's start() and stop(); one trial at a time.
CURRENT: list[Trial] = []


def new_trial() -> Trial:
    trial = Trial(f"qb{os.getpid()}x{secrets.token_hex(4)}")
    CURRENT[:] = [trial]
    return trial


def repository(trial: str) -> str:
    """The one repository (locally and in the trial's registry) holding a trial's images."""
    return f"queuebench-{trial}"


def item_tag(writer: int, seq: int) -> str:
    return f"w{writer}-{seq}"


def image_ref(trial: str, writer: int, seq: int) -> str:
    return f"{repository(trial)}:{item_tag(writer, seq)}"


class DockerKind(Kind):
    """A kind run through the project's Docker engine: unavailable, with the way to start one,
    when the SDK is missing or no engine answers."""

    requires: tuple[str, ...] = ("docker",)
    #: No duration of its own: an item takes what the engine takes (``ms`` stays 0).
    timed = False
    #: Async strategies await it: the blocking SDK call runs in a thread of the side's own.
    awaits = True
    per_item = True

    def available(self) -> tuple[bool, str]:
        ok, why = super().available()
        if not ok:
            return ok, why
        url = engine_url()
        problem = ping(url)
        if problem:
            return False, f"no Docker engine at {url} ({problem}); {HOW_TO_START}"
        return True, ""

    def aprepare_item(self, spec: WorkSpec, cal: Calibration, prepared: ItemPerform | None = None) -> AItemPerform:
        """The blocking SDK call on a thread of this side's own (one per writer task, one per reader
        task: the worker prepares each side once), so an event loop keeps serving its other tasks
        and a pool of ``readers`` reader tasks holds ``readers`` SDK calls at once.

        Not ``asyncio.to_thread``: that shares the loop's default executor, ``min(32, cores + 4)``
        threads (6 on 2 cores), FIFO, between the builds and the pushes. Measured before this change
        (docs/findings.md): a push queued behind the writers' builds waited 1-3 s for a thread, so the
        registry saw fewer than ``readers`` uploads at the start of every trial by a varying amount,
        and a pool beyond 6 never held more than 6 pushes.
        """
        import asyncio
        from concurrent.futures import ThreadPoolExecutor

        sync = prepared or self.prepare_item(spec, cal)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-sdk")
        _SIDE_THREADS.append(pool)

        async def perform(seconds: float, writer: int, seq: int, payload: bytes) -> object:
            return await asyncio.get_running_loop().run_in_executor(pool, sync, seconds, writer, seq, payload)

        return perform


#: The async sides' own SDK threads (DockerKind.aprepare_item); ended by :func:`end_side_threads`.
_SIDE_THREADS: list[Any] = []


def end_side_threads() -> None:
    """End the async sides' SDK threads: at once where idle, else when their call returns (a
    strategy that failed may have left one running; the trial's stop must not wait for it)."""
    while _SIDE_THREADS:
        _SIDE_THREADS.pop().shutdown(wait=False, cancel_futures=True)


def images_of(trial: str) -> list[Any]:
    """Every image that has a reference in the trial's repository (local or registry-prefixed)."""
    repo = repository(trial)
    return [
        img
        for img in client().images.list(all=True)
        if any(t.rpartition(":")[0].rpartition("/")[2] == repo for t in img.tags)
    ]


def remove_images(trial: str) -> int:
    """Remove the trial's images (every reference); returns how many images were removed."""
    import docker

    removed = 0
    for img in images_of(trial):
        try:
            client().images.remove(img.id, force=True, noprune=False)
            removed += 1
        except docker.errors.NotFound:
            pass
    return removed


_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")


def forget_pushes(diffids: Iterable[str]) -> int:
    """Remove the engine's records of where these layers were pushed; returns how many layers'.

    dockerd keeps, per pushed layer, two small files under its data root
    (``image/<driver>/distribution/v2metadata-by-diffid/`` and ``diffid-by-digest/``) after the
    image is removed, and never prunes them: about 300 bytes and two files per push, so a run of
    many trials would not leave the disk as it found it. Only on the project's own engine (its
    data root under :func:`env_dir`), only for the given layers (a trial's own: unique bytes)."""
    info = client().info()
    base = os.path.realpath(os.path.join(str(info.get("DockerRootDir", "")), "image", str(info.get("Driver", ""))))
    if not base.startswith(os.path.realpath(env_dir()) + os.sep):
        return 0  # not our engine: its files are not ours to touch
    base = os.path.join(base, "distribution")
    forgotten = 0
    for diffid in diffids:
        found = _SHA256.fullmatch(diffid)
        if found is None:
            continue
        record = os.path.join(base, "v2metadata-by-diffid", "sha256", found.group(1))
        try:
            with open(record, encoding="utf-8") as fh:
                entries = json.load(fh)
        except (OSError, ValueError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            digest = _SHA256.fullmatch(str(entry.get("Digest", "")) if isinstance(entry, dict) else "")
            if digest is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(base, "diffid-by-digest", "sha256", digest.group(1)))
        with contextlib.suppress(FileNotFoundError):
            os.remove(record)
            forgotten += 1
    return forgotten
