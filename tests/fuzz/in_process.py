"""Commands run in-process: typer's CliRunner (the click command built once), a per-case alarm,
each command's failed frames released, a verdict on each; and the figure shortcuts of a results
worker (most figures not built, most PNGs encoded by a stub: slow work that reads no input)."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CASE_SECONDS = 30


class Hang(Exception):
    """A case that ran past CASE_SECONDS."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Runner:
    """typer's CliRunner, with the click command built once (typer rebuilds it on every invoke)."""

    def __init__(self) -> None:
        import typer.testing

        from harness.cli import app

        build = typer.testing._get_command
        command = build(app)
        typer.testing._get_command = lambda a: command if a is app else build(a)  # type: ignore[assignment]
        self.runner, self.app = typer.testing.CliRunner(), app

    def invoke(self, args: list[str]) -> Any:
        result = self.runner.invoke(self.app, args)
        release(result)
        return result


def release(result: Any) -> None:
    """Drop the tracebacks of a finished in-process command. CliRunner.invoke keeps
    ``sys.exc_info()`` in its frame, and the frames on a traceback reach back (``f_back``) to the
    caller's frame that holds the result: a reference cycle that keeps every frame of a failed
    command (a 40 MB run.json's bytes and its decoded text, say) until the cyclic collector runs,
    which counts objects, not bytes. In one fuzz worker such garbage took it from 240 to 700 MB
    over the six commands of one case. A real command is its own process; here each one must
    start from what the worker held before it. The result keeps its exception, message and exit
    code; the exceptions it was raised from go."""
    seen: set[int] = set()
    pending = [result.exception, *(result.exc_info or ())[1:2]]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseException) and id(exc) not in seen:
            seen.add(id(exc))
            traceback.clear_frames(exc.__traceback__)
            pending += [exc.__context__, exc.__cause__]
            exc.__traceback__ = exc.__context__ = exc.__cause__ = None  # (json's error keeps the text)
    if result.exc_info:
        result.exc_info = (*result.exc_info[:2], None)


def verdict_of(result: Any) -> str:
    """ok, or what went wrong with one in-process command."""
    exc = result.exception
    if isinstance(exc, Hang):
        return "hang"
    if exc is not None and not isinstance(exc, SystemExit):
        return f"traceback: {type(exc).__name__}: {str(exc)[:200]}"
    if result.exit_code not in (0, 1, 2, 3, 130):  # 3: compare could not judge (too few repeats)
        return f"exit {result.exit_code}"
    if result.exit_code == 2:
        lines = result.output.strip().splitlines()
        if not lines or not lines[-1].startswith("error: ") or len(lines) > 2:
            return f"not one line: {result.output[:300]!r}"
    return "ok"


def fast_savefig() -> None:
    """Figures are built in full (axes, limits, labels: where bad values raise) but encoded by a
    stub in most cases: PNG encoding is the slow part and reads no input."""
    from matplotlib.figure import Figure

    real = Figure.savefig
    counter = {"n": 0}

    def savefig(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
        counter["n"] += 1
        if counter["n"] % 40 == 0:
            real(self, fname, *args, **kwargs)
            return
        fname.write(b"\x89PNG\r\n\x1a\nstub")

    Figure.savefig = savefig  # type: ignore[method-assign]


#: Figures are built in full for one results case in this many; the others skip building them
#: (the data behind them, samples included, is still read: report's pool-busy column reads every
#: trial's samples). Building a figure takes a second or more on a busy 2-core machine.
FIGURE_EVERY = 16


def light_figures() -> None:
    from matplotlib.figure import Figure

    from harness.presentation import report
    from harness.presentation.figures import runs as plot_runs

    real_draw, real_compare = report.draw_figures, plot_runs.compare_figure
    seen = {"report": 0, "plot": 0}

    def draw(doc: Any, run_dir: Path, out: Path, *rest: Any) -> dict[str, Path]:
        seen["report"] += 1
        return real_draw(doc, run_dir, out, *rest) if seen["report"] % FIGURE_EVERY == 0 else {}

    def compare_figure(*args: Any) -> Figure:
        seen["plot"] += 1
        return real_compare(*args) if seen["plot"] % FIGURE_EVERY == 0 else Figure()

    report.draw_figures = draw  # type: ignore[assignment]
    plot_runs.compare_figure = compare_figure  # type: ignore[assignment]
