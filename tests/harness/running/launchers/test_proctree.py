"""wait_exit: a trial's end seen when it happens, not at the next look of a polling wait."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil
import pytest

from harness.running.launchers import proctree

WAITS_FOR_STDIN = [sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit(7)"]


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(WAITS_FOR_STDIN, stdin=subprocess.PIPE)


def _has_pidfd() -> bool:
    fd = proctree._pidfd(os.getpid())
    if fd is not None:
        os.close(fd)
    return fd is not None


@pytest.mark.skipif(not _has_pidfd(), reason="no pidfd here (not Linux, an old kernel, a sandbox): it is Popen.wait")
def test_the_wait_wakes_on_the_exit_and_never_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    # Popen.wait(timeout) sleeps between looks (up to 50 ms each): the end of a trial was seen late.
    proc = _start()
    assert proc.stdin is not None
    closer = threading.Timer(0.2, proc.stdin.close)  # the child exits only once its stdin is closed

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"the wait polled (slept {seconds} s)")

    monkeypatch.setattr(time, "sleep", no_sleep)
    closer.start()
    try:
        assert proctree.wait_exit(proc, 60.0) == 7
    finally:
        closer.join()
        monkeypatch.undo()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "popen-wait"])  # popen-wait: macOS, Windows, ...
def test_a_timeout_raises_as_popen_wait_does_and_the_process_can_be_waited_again(
    pidfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfd:
        monkeypatch.setattr(proctree, "_pidfd", lambda pid: None)
    proc = _start()
    assert proc.stdin is not None
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proctree.wait_exit(proc, 0.05)
        assert proc.returncode is None
        proc.stdin.close()
        assert proctree.wait_exit(proc, 60.0) == 7
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_ended_process_answers_its_code_and_so_does_a_reaped_one() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child = psutil.Process(proc.pid)
    for _ in range(1000):  # until it is a zombie: ended, not reaped
        if child.status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.01)
    assert proctree.wait_exit(proc, 60.0) == 3
    assert proctree.wait_exit(proc, 60.0) == 3  # reaped already: the code it had
