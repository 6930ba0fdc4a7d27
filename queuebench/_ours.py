"""Are the ``harness`` and ``strategies`` that Python would import this distribution's own?

Both are also names of other distributions on PyPI. Installed beside queuebench, one of them
would shadow ours (or overwrite it), and the failure would come much later, deep in an
import. The check finds the packages without importing them (``importlib.util.find_spec``)
and reads one marker line: cheap enough for every start-up.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
MARK = "__queuebench__ = True"


class NotOurs(ImportError):
    """``harness`` or ``strategies`` resolves to another distribution's package; one line."""


def _owner(path: Path) -> str:
    """The installed distribution a package folder belongs to, where one says so (error path only)."""
    from importlib.metadata import packages_distributions

    dists = sorted(set(packages_distributions().get(path.name, [])) - {"queuebench"})
    return f" (installed by {', '.join(dists)})" if dists else ""


def problem() -> str:
    """Why the ``harness`` or ``strategies`` Python would import is not queuebench's, or ""."""
    for name in ("harness", "strategies"):
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
        try:
            ours = origin is not None and origin.parent.parent == HERE and MARK in origin.read_text(encoding="utf-8")
        except OSError:
            ours = False
        if not ours:
            where = origin.parent if origin is not None else "missing"
            return (
                f"the imported {name!r} package is {where}{_owner(Path(str(where)))}, not queuebench's "
                f"(expected {HERE / name}): another distribution of that name shadows it; "
                "install queuebench into a virtual environment of its own"
            )
    return ""


def check_ours() -> None:
    """Raise :class:`NotOurs` (one line) where :func:`problem` finds one."""
    why = problem()
    if why:
        raise NotOurs(why)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("queuebench")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"
