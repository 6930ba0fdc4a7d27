"""The wheel is what users get: it holds every package, and installed into a clean virtual
environment outside the checkout it gives a working ``queuebench`` command, ``python -m
queuebench``, ``import queuebench`` and a smoke run. A foreign ``harness`` is one line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, clean_env

PACKAGES = ("queuebench", "harness", "strategies")


def _packages_in_tree() -> set[str]:
    return {
        ".".join(d.relative_to(ROOT).parts)
        for top in PACKAGES
        for d in (ROOT / top).rglob("*")
        if d.is_dir() and (d / "__init__.py").is_file() and "__pycache__" not in d.parts
    } | set(PACKAGES)


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
def test_the_installed_wheel_works_outside_the_checkout(wheel_venv: Path, tmp_path: Path) -> None:
    """pip install of the wheel into a fresh venv (its dependencies from the package index, or
    pip's cache), then every way in, from a folder that is not the checkout."""
    bin_dir, env_dir = wheel_venv, wheel_venv.parent
    python = bin_dir / "python"
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = clean_env()

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
