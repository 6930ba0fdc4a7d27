"""Fixtures, markers and the log header; shared helpers are in :mod:`tests.helpers`."""

from __future__ import annotations

import gc
import os
import socket
import sys
import tempfile
import traceback
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

# The cpu-work calibration cache: the tests' own, never the user's.
os.environ.setdefault("QUEUEBENCH_CACHE", tempfile.mkdtemp(prefix="queuebench-test-cache-"))


#: Where each socket of this process was made: id(socket) -> (a weak reference to it, the stack),
#: for the error a socket left unclosed becomes. Keyed by id, not weakly by the socket: the
#: collector clears weak references before it finalizes. Only sockets: tracemalloc, which would
#: name where any object was made, slows the whole suite many times over (see _record_sockets).
_MADE_AT: dict[int, tuple[weakref.ref[socket.socket], str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    _record_sockets()


def _record_sockets() -> None:
    """Record where each socket is made (a stack per socket: sockets are few, so this is cheap).
    Not tracemalloc: started here with 16 frames, it made importing hypothesis alone take 25 s
    and tests hit their 120 s timeout; with 1 frame it names socket.py, not the caller. Under
    ``python -X tracemalloc=16 -m pytest`` pytest adds tracemalloc's "Object allocated at" too."""
    real_init = socket.socket.__init__
    if getattr(real_init, "_records", False):
        return

    def init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        if len(_MADE_AT) > 4096:  # forget the sockets long gone (one in a cycle is not gone yet)
            for key in [k for k, (ref, _) in _MADE_AT.items() if ref() is None]:
                del _MADE_AT[key]
        _MADE_AT[id(self)] = (weakref.ref(self), "".join(traceback.format_stack(limit=16)[:-1]))

    init._records = True  # type: ignore[attr-defined]
    socket.socket.__init__ = init  # type: ignore[method-assign]


def _with_where_made(forward: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook that adds, to an unclosed socket's error, where the socket was made."""

    def hook(unraisable: Any) -> None:
        found = _MADE_AT.get(id(unraisable.object)) if isinstance(unraisable.object, socket.socket) else None
        if found is not None and unraisable.exc_value is not None:
            unraisable.exc_value.add_note(f"the socket was made at (most recent call last):\n{found[1]}")
        forward(unraisable)

    return hook


def _collect() -> None:
    """A full collection, each unraisable error it causes (a resource finalized unclosed) passed
    on to pytest's hook with where the socket was made: pytest reports it at this test."""
    previous = sys.unraisablehook
    sys.unraisablehook = _with_where_made(previous)
    try:
        gc.collect()
    finally:
        sys.unraisablehook = previous


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Collect garbage after each test, once its other fixtures are torn down (an autouse fixture
    is set up first, so torn down last): a resource the test left unclosed inside a reference
    cycle (a socket held by a client object) is finalized now, and its ResourceWarning (an error
    under -W error) fails this test's teardown, instead of some later test's set-up.

    Kept cheap by freezing what survives (gc.freeze): the modules, caches and pytest's own objects
    are not walked again after each test, only what the test made. While the test runs, a socket
    finalized unclosed (no cycle: freed at once) gets where it was made added too."""
    previous = sys.unraisablehook  # pytest's, which reports at this test's next phase
    sys.unraisablehook = _with_where_made(previous)
    try:
        yield
    finally:
        sys.unraisablehook = previous
    _collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="module")
def _collect_garbage_after_each_module() -> Iterator[None]:
    """At a module's end, after its module-scoped fixtures are torn down: everything unfrozen and
    collected once, so what lived through the module (its fixtures) is checked too."""
    yield
    gc.unfreeze()
    _collect()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the ``docker_engine`` fixture needs the engine: marked so, wherever it lives."""
    for item in items:
        if "docker_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """queuebench's wheel, built once per session, offline, from a copy of the tree."""
    from tests.helpers import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (its dependencies from the index or pip's cache): its bin folder."""
    from tests.helpers import venv_with

    return venv_with(tmp_path_factory.mktemp("wheel-venv") / "venv", str(wheel))


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
    url = engine_url()
    # Asked with the standard library first: the SDK's client, connecting to a socket with no
    # engine behind it, leaves its new socket unclosed in the exception's traceback, and -W error
    # turns that into an error at whichever later test collects it (here, the first test's set-up).
    problem = ping(url)
    try:
        if problem:
            raise ConnectionError(problem)
        import docker

        # Closed here: a client left to the garbage collector leaves its socket unclosed too.
        # (docker 7's DockerClient is no context manager: `with` raised TypeError, and the header
        # said "no Docker engine" while the Docker tests ran against one.)
        client = docker.DockerClient(base_url=url, timeout=5)
        try:
            version = client.version().get("Version", "?")
        finally:
            client.close()
        lines.append(f"queuebench: Docker engine {version} at {url}: the Docker tests run against it")
    except Exception as exc:  # any failure means: no engine to test against
        lines.append(f"queuebench: no Docker engine at {url} ({type(exc).__name__}: {exc}): the Docker tests skip")
    dask = importlib.util.find_spec("distributed") is not None
    said = "installed: the Dask tests run" if dask else "missing: the Dask tests skip"
    lines.append(f"queuebench: distributed {said}")
    found = subprocess.run([str(ROOT / "tools" / "python-ft.sh"), "--path"], capture_output=True, text=True)
    ft = found.stdout.strip() if found.returncode == 0 else "none (its tests skip)"
    lines.append(f"queuebench: free-threaded build {ft}")
    return lines
