"""What every verb group of the command line shares: the typer app, the run options, and
how errors and outside text are shown.

Heavy modules (pandas, numpy, pyarrow, pydantic, matplotlib) are imported inside commands,
so ``queuebench --help`` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

#: The order of ``queuebench --help``: by task, not by the module that registers each verb.
COMMAND_ORDER = ("list", "run", "sweep", "show", "stress", "compare", "export", "report", "plot", "baseline")


class _InTaskOrder(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        last = len(COMMAND_ORDER)
        return sorted(super().list_commands(ctx), key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else last)


app = typer.Typer(
    name="queuebench",
    cls=_InTaskOrder,
    help="Benchmark and stress-test Python concurrency strategies on writer/reader pipelines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: fast (no rich import for --help), and brackets in help texts stay literal.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"queuebench {version('queuebench')}")
        except PackageNotFoundError:
            typer.echo("queuebench (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Benchmark and stress-test Python concurrency strategies on writer/reader pipelines."""


class StartMethod(StrEnum):
    fork = "fork"
    forkserver = "forkserver"
    spawn = "spawn"


# Options shared by the commands that run trials (run, stress, sweep).
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option("--strategy", "-s", help="Strategy to run (repeatable). Default: the scenario's list, else all."),
]
StartMethodOpt = Annotated[
    StartMethod | None, typer.Option("--start-method", help="multiprocessing start method. Default: the platform's.")
]
PythonOpt = Annotated[
    str | None, typer.Option("--python", help="Interpreter the worker runs under. Default: this one.")
]
#: The limits a scenario file has (harness.scenario): an option may not go past them either.
MAX_REPEAT, MAX_WARMUP, MAX_TIMEOUT = 1000, 100, 24 * 3600.0


def _out_path(value: str | Path) -> Path:
    if isinstance(value, str) and not value.strip():
        raise typer.BadParameter("empty path; name a directory for the results")
    return Path(value)


OutOpt = Annotated[Path, typer.Option("--out", "-o", parser=_out_path, help="Directory for results.")]
RepeatOpt = Annotated[
    int | None,
    typer.Option(
        "--repeat", "-r", min=1, max=MAX_REPEAT, help="Measured repeats per strategy (overrides the scenario file)."
    ),
]
WarmupOpt = Annotated[
    int | None,
    typer.Option("--warmup", min=0, max=MAX_WARMUP, help="Warmup trials, discarded (overrides the scenario file)."),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        max=MAX_TIMEOUT,
        help="Seconds per trial before it is killed (overrides the scenario file).",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Run even what the pre-flight estimate says this machine cannot take."),
]


def esc(value: object) -> str:
    """Text from outside (paths, error messages) shown literally, never read as rich markup."""
    from rich.markup import escape

    return escape(str(value))


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
