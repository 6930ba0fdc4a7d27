"""Exports: a run written in another tool's format, chosen by name (``queuebench export --format``).

:data:`FORMATS` maps a format's name to ``"module:function"``; the function takes a stored
run (:class:`~harness.rundir.model.Run`, from :func:`harness.rundir.store.read_run`) and returns
an :class:`Exported`. Adding a format is its module plus one line here. Modules are imported
only when their format is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from harness.errors import UnknownFormat
from harness.rundir.model import Run
from strategies.loader import resolve

FORMATS: dict[str, str] = {
    "pytest-benchmark": "harness.exports.pytest_benchmark:export",
    "bencher": "harness.exports.bencher:export",
    "github-action-benchmark-bigger": "harness.exports.github_action_benchmark:bigger",
    "github-action-benchmark-smaller": "harness.exports.github_action_benchmark:smaller",
}


@dataclass(frozen=True)
class Exported:
    text: str  # the file's content
    count: int  # how many records it holds; 0: nothing worth writing
    noun: str = "record"  # what one record is called, e.g. "benchmark"


def exporter(fmt: str) -> Callable[[Run], Exported]:
    """The function registered for ``fmt``."""
    target = FORMATS.get(fmt)
    if target is None:
        raise UnknownFormat(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return cast(Callable[[Run], Exported], resolve(target))


def export(run: Run, fmt: str) -> Exported:
    """The run in the format named ``fmt``; raises UnknownFormat."""
    return exporter(fmt)(run)
