"""The worker imports the tree it was given, whatever folder the harness runs in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.running.launchers.local import LocalLauncher
from tests.helpers import ROOT


def _fake_tree(top: Path) -> Path:
    (top / "harness").mkdir(parents=True)
    (top / "harness" / "__init__.py").write_text("")
    answer = json.dumps({"version": "3.11.0", "tree": "fake"})
    (top / "harness" / "worker.py").write_text(f"print({answer!r})\n")
    return top


def test_the_workers_root_wins_over_the_harness_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # From the top of a checkout (where `ab HEAD~1 HEAD` is typed), `python -m` would put that
    # checkout first on sys.path: both sides of an ab run would measure the working copy.
    monkeypatch.chdir(ROOT)
    fake = _fake_tree(tmp_path / "side")
    answer = LocalLauncher(root=fake).probe_answer(timeout=60)
    assert answer.get("tree") == "fake", f"the worker came from the current folder, not from root: {answer}"
