"""The pipeline's own work: build one image, push one image. Plain Docker SDK code.

``client`` is a ``docker.DockerClient`` (or, offline, :class:`imagepipe.offline.OfflineDocker`,
which answers the same calls).
"""

from __future__ import annotations

import io
import tarfile
from typing import Any


class PushError(RuntimeError):
    """The registry refused a push."""


def context(payload: bytes) -> io.BytesIO:
    """A build context as a tar stream: a Dockerfile and the item's own bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", b"FROM scratch\nCOPY layer.bin /layer.bin\n"), ("layer.bin", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def build_image(client: Any, ref: str, payload: bytes) -> None:
    """Build the image ``ref`` from ``payload``."""
    client.images.build(fileobj=context(payload), custom_context=True, tag=ref, rm=True)


def push_image(client: Any, ref: str) -> None:
    """Push ``ref`` to its registry; raise PushError if the registry says no."""
    repository, _, tag = ref.rpartition(":")
    for line in client.images.push(repository, tag=tag, stream=True, decode=True):
        if "error" in line:
            raise PushError(f"{ref}: {line['error']}")
