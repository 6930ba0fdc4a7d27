"""``ab`` in the user's own repository: each side is a commit of *their* project, checked out and
put on the worker's path, with queuebench from where it is installed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.gate import ab
from harness.running.launchers.base import UserCode
from harness.running.launchers.local import ROOT

PUSH = """
import os
from pathlib import Path

VERSION = {version!r}


def push(writer, seq, payload):
    (Path(os.environ["MYPKG_CALLS"]) / f"{{VERSION}}-{{writer}}-{{seq}}").touch()
"""
SCENARIO = """
[[scenario]]
name = "pushes"
writers = 2
readers = 2
items_per_writer = 3
reader_work = { kind = "call", call = "mypkg.push:push" }
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's project, two commits: push v1, then push v2, in src/ layout."""
    root = tmp_path / "proj"
    (root / "src" / "mypkg").mkdir(parents=True)
    (root / "bench").mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "mypkg"\nversion = "1"\n')
    (root / "src" / "mypkg" / "__init__.py").write_text("")
    (root / "bench" / "p.toml").write_text(SCENARIO)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "tests@queuebench.invalid")
    _git(root, "config", "user.name", "queuebench tests")
    for version in ("v1", "v2"):
        (root / "src" / "mypkg" / "push.py").write_text(PUSH.format(version=version))
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", version)
    (root / "src" / "mypkg" / "push.py").write_text(PUSH.format(version="working-copy"))  # never measured
    (tmp_path / "calls").mkdir()
    monkeypatch.setenv("MYPKG_CALLS", str(tmp_path / "calls"))
    monkeypatch.chdir(root)
    return root


def test_a_ref_of_your_project_is_a_side_with_its_own_checkout_on_the_path(repo: Path) -> None:
    user = UserCode(paths=(str(repo / "bench"), str(repo / "src"), str(repo), "/elsewhere"))
    with ab.resolve("A", "HEAD~1", cwd=repo) as side:
        assert side.kind == "project-git" and side.root == ROOT  # queuebench as installed
        assert side.project is not None and side.project != repo
        assert (side.project / "src" / "mypkg" / "push.py").read_text() == PUSH.format(version="v1")
        mapped = side.user_code(user).paths
        assert mapped == (
            str(side.project / "src"),
            str(side.project),
            str(side.project / "bench"),
            "/elsewhere",  # outside the repository: the same for both sides
        )
        assert "your project at HEAD~1" in side.describe()
        tree = side.project
    assert not tree.exists()  # the checkout is removed afterwards


def test_ab_in_your_repository_measures_each_commit_s_own_code(repo: Path, tmp_path: Path) -> None:
    args = ["ab", "HEAD~1", "HEAD", "bench/p.toml", "-s", "threads", "-r", "5", "--warmup", "0", "-o", "out"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 3), result.output  # the same work on both sides: unchanged, or unjudged
    assert "A (baseline) your project at HEAD~1" in result.output
    calls = {p.name.split("-")[0] for p in (tmp_path / "calls").iterdir()}
    assert calls == {"v1", "v2"}  # each side its own commit; never the working copy
    assert len(list((tmp_path / "calls").iterdir())) == 2 * 6  # each side called for each of its 6 items
    (run_json,) = (repo / "out").glob("*/run.json")
    sides = json.loads(run_json.read_text())["ab"]["sides"]
    assert sides["A"]["kind"] == sides["B"]["kind"] == "project-git"
    assert sides["A"]["commit"] != sides["B"]["commit"]
