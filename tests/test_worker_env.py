"""`make worker-env PYTHON=X` fails loudly when X cannot run (a pyenv shim for a version not
installed): one line on stderr, exit 2, nothing on stdout for `--python "$(...)"` to take."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import ROOT


def test_an_interpreter_that_cannot_run_is_one_line_exit_2(tmp_path: Path) -> None:
    shim = tmp_path / "python3.99"
    shim.write_text('#!/bin/sh\necho "pyenv: python3.99: command not found" >&2\nexit 127\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(ROOT / "tools" / "worker-env.sh"), "python3.99"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "worker-env: cannot run python3.99 (pyenv: python3.99: command not found); install it or name another "
        "interpreter"
    ]
