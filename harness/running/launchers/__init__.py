"""Launchers: the seam between the harness and wherever a trial runs (see :mod:`.base`)."""

from __future__ import annotations

from typing import Any

from harness.errors import WorkerError
from harness.running.launchers.base import Launcher, Probe, TrialOutput, TrialSpec
from strategies.loader import resolve

__all__ = ["LAUNCHERS", "Launcher", "Probe", "TrialOutput", "TrialSpec", "WorkerError", "make"]

#: name -> "module:class"; each class takes keyword options (e.g. ``python``).
LAUNCHERS: dict[str, str] = {
    "local": "harness.running.launchers.local:LocalLauncher",
    "inprocess": "harness.running.launchers.inprocess:InProcessLauncher",
    "dask": "harness.running.launchers.dask:DaskLauncher",
}


def make(name: str = "local", **options: Any) -> Launcher:
    """The launcher called ``name``, built with ``options``."""
    try:
        target = LAUNCHERS[name]
    except KeyError:
        raise ValueError(f"unknown launcher {name!r}; valid launchers: {', '.join(LAUNCHERS)}") from None
    launcher: Launcher = resolve(target)(**options)
    return launcher
