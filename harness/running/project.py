"""Where the user's code lives: the folders the worker puts on its ``sys.path`` for a run.

A scenario that names the user's functions (``kind = "call"``) or strategies
(``"mypkg.pipeline:run"``) needs their project importable in the worker's interpreter, under
every start method and launcher. Three sources, in this order:

* ``--path DIR`` on the command line (repeatable), as given;
* the scenario file's own folder (a module beside the scenario);
* the project the scenario file is in: the nearest folder above it holding ``pyproject.toml``,
  ``setup.py`` or ``setup.cfg`` (not above a git repository's top), and its ``src/`` if it has one.

An installed project needs none of them: the worker's interpreter imports it as any other.
The folders go *after* the harness's own tree on the worker's path, so a project can never
shadow queuebench's ``harness`` or ``strategies``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.errors import ScenarioError
from harness.running.launchers.base import UserCode

#: Files that mark a folder as a Python project's top.
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def project_of(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a project file, not looking above a
    git repository's top (a folder holding ``.git``); None where there is none."""
    for folder in (start, *start.parents):
        if folder.name in ("site-packages", "dist-packages"):  # an installed copy is no project
            return None
        if any((folder / name).is_file() for name in PROJECT_FILES):
            return folder
        if (folder / ".git").exists():
            return None
    return None


def folders_for(scenario_files: Iterable[Path]) -> list[Path]:
    """The folders that make each scenario file's project importable (see the module docstring)."""
    from harness.scenario import scenario_dir

    shipped = scenario_dir().resolve()
    out: list[Path] = []
    for file in scenario_files:
        here = Path(file).resolve().parent
        if here == shipped:  # queuebench's own scenarios: no project of yours
            continue
        out.append(here)
        if (top := project_of(here)) is not None:
            out += [top / "src", top] if (top / "src").is_dir() else [top]
    return out


def user_code(paths: Iterable[Path] | None, scenario_files: Iterable[Path], strategies: Iterable[str]) -> UserCode:
    """What the worker needs of the user's code: ``paths`` (``--path``, each must be a folder)
    then the scenario files' folders and projects, and the strategies named "module:callable".
    Raises ScenarioError (one line) for a ``--path`` that is not a folder."""
    given: list[Path] = []
    for path in paths or ():
        if not Path(path).is_dir():
            raise ScenarioError(f"--path {str(path)!r}: not a folder (give your project's folder, e.g. --path .)")
        given.append(Path(path).resolve())
    folders = [str(p) for p in (*given, *folders_for(scenario_files)) if p.is_dir()]
    mine = [name for name in strategies if ":" in name]
    return UserCode(paths=tuple(dict.fromkeys(folders)), strategies=tuple(dict.fromkeys(mine)))
