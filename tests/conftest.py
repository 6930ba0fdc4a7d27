"""Fixtures, markers and the log header; shared helpers are in :mod:`tests.helpers`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

# The cpu-work calibration cache: the tests' own, never the user's.
os.environ.setdefault("QUEUEBENCH_CACHE", tempfile.mkdtemp(prefix="queuebench-test-cache-"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the ``docker_engine`` fixture needs the engine: marked so, wherever it lives."""
    for item in items:
        if "docker_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What the tests run against, at the top of every log (CI's too): the Docker engine, the
    Dask package, the free-threaded build. Each line says whether it is there."""
    import importlib.util
    import subprocess

    from strategies.kinds.docker_engine import engine_url, ping

    lines = []
    # Asked with the standard library first: the Docker SDK's client, made for an engine that is
    # not there, leaves the socket of its failed version request unclosed (docker 7), and -W error
    # turns that into an error at whichever later test the collector happens to run in.
    why = ping(engine_url())
    if why:
        lines.append(f"queuebench: no Docker engine at {engine_url()} ({why}): the Docker tests skip")
    else:
        try:
            import docker

            with docker.DockerClient(base_url=engine_url(), timeout=5) as client:
                version = client.version().get("Version", "?")
            lines.append(f"queuebench: Docker engine {version} at {engine_url()}: the Docker tests run against it")
        except Exception as exc:  # any failure means: no engine to test against
            said = f"no Docker engine at {engine_url()} ({type(exc).__name__})"
            lines.append(f"queuebench: {said}: the Docker tests skip")
    dask = importlib.util.find_spec("distributed") is not None
    said = "installed: the Dask tests run" if dask else "missing: the Dask tests skip"
    lines.append(f"queuebench: distributed {said}")
    found = subprocess.run([str(ROOT / "tools" / "python-ft.sh"), "--path"], capture_output=True, text=True)
    ft = found.stdout.strip() if found.returncode == 0 else "none (its tests skip)"
    lines.append(f"queuebench: free-threaded build {ft}")
    return lines
