"""The same runs give the same bytes: ``show``, ``compare`` (table, Markdown, JSON) and every
``export`` format on two stored runs (a plain run and an ``ab`` run) against outputs kept in
tests/data/golden/expected. A refactor that changes what a user reads fails here.

The expected files were made with the code before the harness was grouped into layer folders
and checked identical after it (only the run paths differ: these use relative ones). Where a
change of output is meant, regenerate them: ``python -m tests.test_golden``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

DATA = ROOT / "tests" / "data" / "golden"
RUNS = ("plain", "ab")
FORMATS = ("pytest-benchmark", "bencher", "github-action-benchmark-bigger", "github-action-benchmark-smaller")
ENV = {"COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1"}


def outputs(work: Path) -> dict[str, str]:
    """Every command's output on the copies of the runs under ``work``, by file name."""
    shutil.copytree(DATA / "runs", work / "runs", dirs_exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")} | ENV
    out: dict[str, str] = {}

    def cli(name: str, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "queuebench", *args], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
        out[name] = done.stdout + done.stderr + f"rc={done.returncode}\n"

    for run in RUNS:
        cli(f"show-{run}.txt", "show", f"runs/{run}")
        for fmt in FORMATS:
            cli(f"export-{run}-{fmt}.log", "export", f"runs/{run}", "-f", fmt, "-o", f"export-{run}-{fmt}.json")
            out[f"export-{run}-{fmt}.json"] = (work / f"export-{run}-{fmt}.json").read_text(encoding="utf-8")
    cli("compare-plain.txt", "compare", "runs/plain", "runs/plain", "--json", "c.json", "--markdown", "c.md")
    out["compare-plain.json"] = (work / "c.json").read_text(encoding="utf-8")
    out["compare-plain.md"] = (work / "c.md").read_text(encoding="utf-8")
    cli("compare-ab.txt", "compare", "runs/ab", "runs/ab")
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "expected").iterdir()))
def test_the_same_run_reads_the_same(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = _cache(tmp_path_factory)
    assert cache[name] == (DATA / "expected" / name).read_text(encoding="utf-8")


_CACHE: dict[str, str] = {}


def _cache(factory: pytest.TempPathFactory) -> dict[str, str]:
    if not _CACHE:
        _CACHE.update(outputs(factory.mktemp("golden")))
    return _CACHE


if __name__ == "__main__":  # regenerate the expected outputs (a meant change of output)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        made = outputs(Path(tmp))
    (DATA / "expected").mkdir(exist_ok=True)
    for file_name, text in made.items():
        (DATA / "expected" / file_name).write_text(text, encoding="utf-8")
    print(f"wrote {len(made)} files to {DATA / 'expected'}")
