"""The ``docker-build`` work kind (writer side): build one small, unique image per item.

Each item's work is a real build on the project's Docker engine (``make docker``) through the
docker SDK: a ``FROM scratch`` image with one ``COPY`` of ``image_bytes`` bytes drawn from a
generator seeded by the item (so every image's layer is unique: nothing is deduplicated by the
engine or the registry), tagged ``queuebench-<trial>:w<writer>-<seq>``. ``FROM scratch`` pulls
nothing: no traffic leaves the machine.

Sync strategies call the SDK directly; ``asyncio`` runs the blocking SDK call in a thread, as
anyone using the SDK from asyncio must: one per writer task (see ``DockerKind.aprepare_item``).

Around the trial: ``start`` names the trial (its images' repository, shared with
``docker-push``); ``stop`` counts the trial's images and their layers (what the registry must
hold afterwards), then removes every one of them and the engine's records of their pushes
(:func:`~strategies.kinds.docker_engine.forget_pushes`), so a run leaves the engine's disk as it
found it.
"""

from __future__ import annotations

import io
import math
import random
import tarfile
from collections.abc import Mapping
from typing import Any, ClassVar

from strategies.base import Calibration, WorkSpec
from strategies.kinds import ItemPerform, Running
from strategies.kinds import docker_engine as engine

MAX_IMAGE_BYTES = 64 * 1024 * 1024
DOCKERFILE = b"FROM scratch\nCOPY payload /payload\n"


class BuildError(RuntimeError):
    """The engine refused or failed a build."""


def context(trial: str, writer: int, seq: int, size: int) -> io.BytesIO:
    """The build context as an uncompressed tar: a Dockerfile and the item's own payload."""
    payload = random.Random(f"{trial}/{writer}/{seq}").randbytes(size)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", DOCKERFILE), ("payload", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def build(trial: str, writer: int, seq: int, size: int) -> str:
    """Build item (writer, seq)'s image; returns its reference."""
    import docker

    ref = engine.image_ref(trial, writer, seq)
    try:
        engine.client().images.build(
            fileobj=context(trial, writer, seq, size), custom_context=True, tag=ref, rm=True, forcerm=True
        )
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise BuildError(f"build of {ref} failed: {exc}") from None
    return ref


class DockerBuild(engine.DockerKind):
    requires = ("docker",)  # imported lazily, inside functions (the worker side is stdlib at import)
    name = "docker-build"
    summary = "build one unique FROM-scratch image of `image_bytes` per item on the project's Docker engine"
    params: ClassVar[Mapping[str, Any]] = {"image_bytes": 1024 * 1024, "trial": ""}

    def check(self, spec: WorkSpec) -> None:
        size = spec.param("image_bytes", 1024 * 1024)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_IMAGE_BYTES:
            raise ValueError(f"image_bytes: must be a whole number from 1 to {MAX_IMAGE_BYTES} (64 MiB)")

    def prepare_item(self, spec: WorkSpec, cal: Calibration) -> ItemPerform:
        trial, size = str(spec.param("trial")), int(spec.param("image_bytes"))
        if not trial:
            raise BuildError("docker-build needs a trial name: run it through the worker (Kind.start)")
        engine.client()  # connected while the side is set up, not on its first item

        def perform(seconds: float, writer: int, seq: int, payload: bytes) -> str:
            return build(trial, writer, seq, size)

        return perform

    def start(self, spec: WorkSpec, role: str) -> Running:
        engine.client()  # the SDK imported before the strategy forks: its processes inherit it, as a script's would
        trial = engine.new_trial()

        def stop() -> dict[str, Any]:
            engine.end_side_threads()
            images = engine.images_of(trial.name)
            repo = engine.repository(trial.name)
            trial.built = {t for img in images for t in img.tags if t.startswith(f"{repo}:")}
            trial.built_stopped = True
            diffids = [d for img in images for d in (img.attrs.get("RootFS") or {}).get("Layers") or []]
            removed = engine.remove_images(trial.name)
            return {
                "trial": trial.name,
                "images_built": len(trial.built),
                "layers": len(diffids),
                "images_removed": removed,
                "images_left": len(engine.images_of(trial.name)),
                # The pushes are done (the strategy has returned): the engine's records of them go too.
                "push_records_removed": engine.forget_pushes(diffids),
            }

        return Running(spec.with_param("trial", trial.name), stop)

    def trial_metrics(self, role: str, stats: Mapping[str, Any]) -> dict[str, float]:
        return {
            "docker_images_built": stats.get("images_built", math.nan),
            "docker_layers": stats.get("layers", math.nan),
            "docker_images_left": stats.get("images_left", math.nan),
        }


KIND = DockerBuild()
