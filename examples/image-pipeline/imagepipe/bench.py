"""What queuebench calls: one function per item for each side, and one client per reader.

``bench/pushes.toml`` names these as ``module:function``. queuebench calls ``build`` for
every item a writer makes and ``push`` for every item a reader takes, each with the item's
identity (writer, seq), its payload, and what ``docker_client`` yielded for that writer or
reader (one client per thread, task or process, opened before the first item and closed
after the last).

Set ``IMAGEPIPE_DOCKER=1`` to talk to the real engine (and ``IMAGEPIPE_REGISTRY``, default
``localhost:5000``); otherwise :mod:`imagepipe.offline` stands in for it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from imagepipe.images import build_image, push_image


def _ref(writer: int, seq: int) -> str:
    registry = os.environ.get("IMAGEPIPE_REGISTRY", "localhost:5000")
    return f"{registry}/imagepipe/w{writer}:{seq}"


@contextlib.contextmanager
def docker_client() -> Iterator[Any]:
    if os.environ.get("IMAGEPIPE_DOCKER"):
        import docker

        client = docker.from_env()
    else:
        from imagepipe.offline import OfflineDocker

        client = OfflineDocker()
    try:
        yield client
    finally:
        client.close()


def build(writer: int, seq: int, payload: bytes, client: Any) -> None:
    build_image(client, _ref(writer, seq), payload)


def push(writer: int, seq: int, payload: bytes, client: Any) -> None:
    push_image(client, _ref(writer, seq))
