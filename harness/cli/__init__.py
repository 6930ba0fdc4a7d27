"""queuebench's command line (typer). Thin: it parses, calls the harness, prints, exits.

One module per verb group: :mod:`~harness.cli.run_cmds` (run, stress), :mod:`~harness.cli.sweep_cmds` (sweep),
:mod:`~harness.cli.results_cmds` (show, report, plot, export) and :mod:`~harness.cli.gate_cmds`
(compare, baseline), :mod:`~harness.cli.ab_cmds` (ab), :mod:`~harness.cli.check_cmds` (list, check); the app
and what they share are in :mod:`~harness.cli.common`.

Heavy modules (pandas, numpy, pyarrow, pydantic) are imported inside commands, so
``queuebench --help`` stays fast. Exit codes: 0 fine, 1 a trial failed, 2 bad
input (any :class:`~harness.errors.QueuebenchError`: see :mod:`~harness.cli.common`), 130 interrupted.
"""

from __future__ import annotations

import sys

import typer

from harness.cli import (  # noqa: F401  (importing registers the commands)
    ab_cmds,
    check_cmds,
    gate_cmds,
    history_cmds,
    results_cmds,
    run_cmds,
    sweep_cmds,
)
from harness.cli.common import app, esc, fail

__all__ = ["app", "esc", "fail", "main"]


def main() -> None:
    """Entry point: usage errors become one line on stderr with exit code 2, like every bad input."""
    # click's UsageError, whether typer vendors click or depends on it.
    usage_error: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = str(getattr(exc, "format_message", exc.__str__)()).replace("Value error, ", "")
        typer.echo(f"error: {message}{hint}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl+C outside a run (while parsing or probing)
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
