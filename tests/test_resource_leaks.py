"""tests/conftest.py's garbage collection after each test: a resource a test leaves unclosed
fails that test (at its teardown, naming where the resource was made), not a later one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

PLANTED = '''
import gc
import socket


class Client:
    """Holds a socket in a reference cycle, as an SDK client does: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # planted: never closed


def test_leaks() -> None:
    client = Client()
    gc.collect()  # still referenced: it moves to the oldest generation, as a long-lived client would
    del client  # unreachable now, and only a full collection finds it


def test_next() -> None:
    pass
'''


def _pytest(folder: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}  # summary lines not cut short
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-rA", *args, "test_planted.py"]
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=120)
    return done.stdout + done.stderr


def test_a_planted_socket_leak_fails_the_test_that_made_it(tmp_path: Path) -> None:
    (tmp_path / "test_planted.py").write_text(PLANTED)
    out = _pytest(tmp_path, "-p", "tests.conftest")
    summary = out.strip().splitlines()[-1]
    assert "2 passed, 1 error" in summary, out
    assert "ERROR test_planted.py::test_leaks - pytest.PytestUnraisableExceptionWarning" in out, out
    assert "ResourceWarning: unclosed <socket.socket" in out
    # the error names the line that made the socket
    assert "the socket was made at (most recent call last):" in out
    assert 'test_planted.py", line 11, in __init__' in out and "planted: never closed" in out
    assert "PASSED test_planted.py::test_next" in out


def test_without_the_collection_the_leak_is_not_pinned_on_its_test(tmp_path: Path) -> None:
    """The control: without tests/conftest.py the same leak is not reported at test_leaks."""
    (tmp_path / "test_planted.py").write_text(PLANTED)
    out = _pytest(tmp_path)
    assert "ERROR test_planted.py::test_leaks" not in out, out
    assert "the socket was made at" not in out


PLANTED_PLAIN = """
import socket


def test_leaks_without_a_cycle() -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # planted: never closed
    del sock  # freed at once, unclosed


def test_next() -> None:
    pass
"""


def test_a_socket_freed_unclosed_during_the_test_also_says_where_it_was_made(tmp_path: Path) -> None:
    (tmp_path / "test_planted.py").write_text(PLANTED_PLAIN)
    out = _pytest(tmp_path, "-p", "tests.conftest")
    assert "FAILED test_planted.py::test_leaks_without_a_cycle - pytest.PytestUnraisableExceptionWarning" in out, out
    assert "1 failed, 1 passed" in out.strip().splitlines()[-1]
    assert "the socket was made at (most recent call last):" in out
    assert 'test_planted.py", line 6, in test_leaks_without_a_cycle' in out
