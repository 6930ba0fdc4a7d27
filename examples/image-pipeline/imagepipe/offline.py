"""A stand-in for the Docker engine when there is none (a laptop, a macOS or Windows CI
runner): it answers ``images.build`` and ``images.push`` after a fixed delay, so the
pipeline's own code around those calls is what changes between two commits."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

#: Seconds one build and one push take here (a registry on a fast local network).
BUILD_S = 0.004
PUSH_S = 0.010


class _Images:
    def build(self, fileobj: Any, **_: Any) -> tuple[None, list[dict[str, str]]]:
        hashlib.sha256(fileobj.read()).hexdigest()
        time.sleep(BUILD_S)
        return None, []

    def push(self, repository: str, tag: str, **_: Any) -> Iterator[dict[str, str]]:
        time.sleep(PUSH_S)
        yield {"status": f"{repository}:{tag} pushed"}


class OfflineDocker:
    """The part of ``docker.DockerClient`` the pipeline uses."""

    def __init__(self) -> None:
        self.images = _Images()

    def close(self) -> None:
        pass
