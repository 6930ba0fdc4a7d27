"""The wheel is what users get: it holds every package, and installed into a clean virtual
environment outside the checkout it gives a working ``queuebench`` command, ``python -m
queuebench``, ``import queuebench`` and a smoke run. A foreign ``harness`` is one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("queuebench", "harness", "strategies")
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".venvs", "results", "build", "*.egg-info", "__pycache__", ".docker-env"
)


def _packages_in_tree() -> set[str]:
    return {
        ".".join(d.relative_to(ROOT).parts)
        for top in PACKAGES
        for d in (ROOT / top).rglob("*")
        if d.is_dir() and (d / "__init__.py").is_file() and "__pycache__" not in d.parts
    } | set(PACKAGES)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a copy of the tree (a build leaves build/ and egg-info behind)."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, work / "tree", ignore=IGNORED)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(work), "."],
        cwd=work / "tree",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (found,) = work.glob("queuebench-*.whl")
    return found


@pytest.mark.packaging
@pytest.mark.slow
def test_the_wheel_holds_every_package_and_the_shipped_scenarios(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {str(Path(n).parent).replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert _packages_in_tree() - in_wheel == set()
    assert {"harness.cli", "harness.running.launchers", "harness.exports", "strategies.kinds"} <= in_wheel
    shipped = {Path(n).name for n in names if "/share/queuebench/scenarios/" in n}
    assert shipped == {p.name for p in (ROOT / "scenarios").glob("*.toml")}
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "queuebench = queuebench.__main__:main" in zipfile.ZipFile(wheel).read(entry).decode()


@pytest.mark.packaging
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """pip install of the wheel into a fresh venv (its dependencies from the package index, or
    pip's cache), then every way in, from a folder that is not the checkout."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(cmd), cwd=away, env=env, capture_output=True, text=True, timeout=300)

    version = run(str(bin_dir / "queuebench"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("queuebench "), version.stderr
    assert run(str(python), "-m", "queuebench", "--version").stdout == version.stdout
    imported = run(str(python), "-c", "import queuebench, harness; print(queuebench.__version__, harness.__file__)")
    assert imported.returncode == 0, imported.stderr
    assert str(env_dir) in imported.stdout and str(ROOT) not in imported.stdout  # the wheel's, not the checkout's
    listed = run(str(bin_dir / "queuebench"), "list")
    assert listed.returncode == 0 and "threads" in listed.stdout and "smoke.toml" in listed.stdout, listed.stderr
    smoke = run(str(bin_dir / "queuebench"), "run", "scenarios/smoke.toml", "-s", "threads", "-r", "1", "-o", "out")
    assert smoke.returncode == 0, smoke.stdout[-2000:] + smoke.stderr[-2000:]
    assert len(list((away / "out").glob("*/run.json"))) == 1


def test_a_foreign_harness_package_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Another distribution's ``harness`` first on the path: the command says which, and stops."""
    (tmp_path / "harness").mkdir()
    (tmp_path / "harness" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "queuebench", "--version"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the imported 'harness' package is "), done.stderr
    assert "shadows it" in lines[0] and "Traceback" not in done.stderr
