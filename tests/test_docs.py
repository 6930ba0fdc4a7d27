"""The README stays a short front door, and every relative link in the docs leads to a file."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_env

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

#: The one expected exception: docs/extending.md is written with the redesign's code, in
#: another branch, and linked before it exists here. While it is missing, links to it pass;
#: once it is merged it is checked like any other file (and its own links too).
#: Remove this entry after the merge.
NOT_YET_MERGED = {ROOT / "docs" / "extending.md"}

# [text](target) and [text](target "title"); images too. Targets never contain spaces here.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def relative_links(path: Path) -> list[str]:
    """Link targets in a Markdown file that point into the repository (code blocks skipped)."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # http:, https:, mailto: ... and anchors within the same file
        targets.append(target.split("#", 1)[0])
    return targets


def test_readme_is_at_most_300_lines() -> None:
    """The README is a front door; the rest lives in docs/."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines"


def test_readme_names_the_two_commands() -> None:
    """`make run` and `make test` are the two commands a newcomer needs."""
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text


def test_readme_answers_the_push_question_on_the_first_screen() -> None:
    """The first 40 lines give the registry-push answer: how many pushes at once."""
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:40]).lower()
    assert "pool" in first_screen
    assert "push" in first_screen
    assert "registry" in first_screen


def test_docs_folder_holds_the_moved_documents() -> None:
    """The README's old sections went to these files."""
    names = {p.name for p in DOCS}
    assert {"usage.md", "measurements.md", "findings.md", "architecture.md"} <= names


def test_the_not_yet_merged_link_is_still_linked() -> None:
    """extending.md is expected from the code branch, and the README already points at it."""
    assert "docs/extending.md" in relative_links(README)


@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_lead_to_files(doc: Path) -> None:
    """Every relative link resolves to a file or folder in the repository."""
    missing = []
    for target in relative_links(doc):
        path = (doc.parent / target).resolve()
        if not path.exists() and path not in NOT_YET_MERGED:
            missing.append(target)
    assert missing == [], f"{doc.name}: broken links {missing}"


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_measure_your_own_code_is_on_the_first_screen() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "(#measure-your-own-code)" in first_screen


@pytest.mark.slow
def test_the_readmes_own_code_example_runs_as_written(tmp_path: Path) -> None:
    """The README's files, written where their first line says, and its first command run in that
    folder (one repeat, no warmup: the example, not a measurement)."""
    section = _section("Measure your own code")
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    files = [(lang, body) for lang, body in blocks if lang in ("python", "toml")]
    assert len(files) == 2 and len(files[0][1].strip().splitlines()) <= 6
    for _, body in files:
        where = tmp_path / body.splitlines()[0].lstrip("# ").strip()
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(body)
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    commands = next(body for lang, body in blocks if lang == "sh").splitlines()
    argv = shlex.split(commands[0].split("#")[0])
    assert argv[0] == "queuebench"
    done = subprocess.run(
        [sys.executable, "-m", "queuebench", *argv[1:], "-r", "1", "--warmup", "0", "-o", "out"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for strategy in ("threads", "mp-queue", "seed-pool"):
        assert strategy in done.stdout
