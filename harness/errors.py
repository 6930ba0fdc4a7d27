"""The one error base, and every error a user's input can cause.

Every bad input, a scenario file, a results folder, a flag, a side of ``ab``, derives from
:class:`QueuebenchError`; its message is one line for the user, and the command line turns it
into that line on stderr and exit code 2 in one place (:func:`harness.cli.main`). Each also
derives from the built-in error it always was (``ValueError``, ``KeyError``, ``RuntimeError``),
so a caller that catches those still does.

Standard library only, and imports nothing at import time (difflib only when a typo is to be
matched): it is the bottom of the house, below the measured side (``strategies/`` raises it for
an unknown strategy or work kind).
"""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(name: object, valid: Iterable[str]) -> str:
    """``"; did you mean 'io'?"`` when ``name`` is close to one of ``valid``, else ``""``: the hint
    every "unknown name" line carries. Close: the same but for case and punctuation (``IO``,
    ``docker_push``), spelled nearly alike (:func:`difflib.get_close_matches`: ``ioo``, ``thread``),
    or starting with a valid name (``io-bound``, ``cpu_heavy``: the longest such)."""
    import difflib
    import re

    names = list(valid)
    text = str(name)

    def plain(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", s.lower())

    same = [v for v in names if plain(v) == plain(text)]
    close = same or difflib.get_close_matches(text.lower(), names, n=1)
    if not close:
        close = sorted((v for v in names if len(plain(v)) >= 2 and plain(text).startswith(plain(v))), key=len)[-1:]
    return f"; did you mean {close[0]!r}?" if close else ""


class QueuebenchError(Exception):
    """Base of every error a user's input can cause; the message is one line for the user."""


class ScenarioError(QueuebenchError, ValueError):
    """A scenario file that cannot be used."""


class TooBig(ScenarioError):
    """A planned trial this machine cannot take; one line naming the limit and ``--force``."""


class RunDirError(QueuebenchError, ValueError):
    """A results directory that cannot be read."""


class UnsafeTarget(RunDirError):
    """An output path queuebench will not write through (a symbolic link, a directory)."""


class UnwritablePath(RunDirError):
    """A place output cannot go: too long a path, nothing can be made there, a file where a folder
    is wanted, no space left (:mod:`harness.rundir.paths`)."""


class SchemaError(QueuebenchError, ValueError):
    """One thing wrong with a run document (``run.json``)."""


class WorkerError(QueuebenchError, RuntimeError):
    """The worker interpreter could not be used at all (bad --python, broken install)."""


class SweepError(QueuebenchError, ValueError):
    """A bad ``--vary`` spec or sweep."""


class CompareError(QueuebenchError, ValueError):
    """Input that cannot be compared."""


class BaselineError(QueuebenchError, ValueError):
    """A baseline that cannot be saved or found."""


class SideError(QueuebenchError, ValueError):
    """A side of ``ab`` that cannot be used."""


class PlotError(QueuebenchError, ValueError):
    """Bad input for a multi-run plot."""


class UnknownFormat(QueuebenchError, ValueError):
    """An export format name that is not known."""


class OptionValueError(QueuebenchError, ValueError):
    """An option that takes a value was given another option instead (``--dask --out X``)."""


class HistoryError(QueuebenchError, ValueError):
    """Runs that cannot be read as a history (``history``, ``publish``)."""
