"""The worked example, as a user gets it: queuebench from its wheel in a clean venv, the
example's project in a git repository of its own (outside the checkout), its strategy
checked, a short sweep, and the ab gate between two of its commits: a slower push is
called slower, a comment is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env

EXAMPLE = ROOT / "examples" / "image-pipeline"
SLOWER = '    repository, _, tag = ref.rpartition(":")\n'


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def _project(where: Path) -> Path:
    """The example copied into a fresh git repository: one commit."""
    repo = where / "image-pipeline"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", "results"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "tests@queuebench.invalid")
    _git(repo, "config", "user.name", "queuebench tests")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "the image pipeline")
    return repo


def _commit(repo: Path, message: str, old: str, new: str) -> None:
    path = repo / "imagepipe" / "images.py"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    _git(repo, "commit", "-q", "-am", message)


@pytest.mark.packaging
@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_example_is_checked_swept_and_gated_from_the_wheel(wheel_venv: Path, tmp_path: Path) -> None:
    repo = _project(tmp_path)
    queuebench = str(wheel_venv / "queuebench")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [queuebench, *args], cwd=repo, env=clean_env(), capture_output=True, text=True, timeout=900
        )

    checked = run("check", "imagepipe.pipeline:run", "--path", ".")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]

    swept = run("sweep", "bench/pushes.toml", "--path", ".", "--vary", "readers=1..3", "-s", "threads",
                "-s", "imagepipe.pipeline:run", "-r", "1", "--warmup", "0", "-o", "out")  # fmt: skip
    assert swept.returncode == 0, swept.stdout[-3000:] + swept.stderr[-2000:]
    assert len(list((repo / "out").glob("*/run.json"))) == 1

    # The second commit makes each push 30% slower (3 ms more than the offline registry's 10 ms).
    _commit(repo, "push: wait for the registry", SLOWER, SLOWER + "    time.sleep(0.003)\n")
    _commit(repo, "push: import time", "import io\n", "import io\nimport time\n")
    gate = ("bench/pushes.toml", "-s", "threads", "-r", "auto", "--max-repeat", "30", "--budget", "400", "-o", "ab")
    slower = run("ab", "HEAD~2", "HEAD", *gate)
    assert slower.returncode == 1, slower.stdout[-3000:] + slower.stderr[-2000:]
    assert "slower" in slower.stdout

    _commit(repo, "push: a comment", "def push_image(", "# Pushes one image.\ndef push_image(")
    same = run("ab", "HEAD~1", "HEAD", *gate)
    assert same.returncode in (0, 3), same.stdout[-3000:] + same.stderr[-2000:]
