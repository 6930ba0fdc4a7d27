"""What every verb group of the command line shares: the typer app, the run options, and
how errors and outside text are shown.

Heavy modules (pandas, numpy, pyarrow, pydantic, matplotlib) are imported inside commands,
so ``queuebench --help`` stays fast.
"""

from __future__ import annotations

import errno
import itertools
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from harness.errors import OptionValueError, QueuebenchError

#: Control characters but tab and newline: C0, DEL and C1 (a terminal reads 0x9b as CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: OS errors that are the place's, not queuebench's: said in one line, exit 2, wherever met.
PLACE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.ENAMETOOLONG, errno.EACCES, errno.EPERM})

#: The order of ``queuebench --help``: by task, not by the module that registers each verb.
COMMAND_ORDER = ("list", "run", "sweep", "show", "stress", "ab", "compare", "export", "report", "plot", "baseline")


class _InTaskOrder(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        """The one place a bad input becomes one line on stderr and exit code 2, for every verb:
        any :class:`~harness.errors.QueuebenchError` a command lets through, and an OS error of
        the place written to (a full disk, a read-only file system: see :data:`PLACE_ERRORS`)."""
        try:
            return super().invoke(ctx)
        except QueuebenchError as exc:
            fail(str(exc))
        except OSError as exc:
            if exc.errno not in PLACE_ERRORS:
                raise
            from harness.rundir import paths

            fail(f"{paths.short(exc.filename) if exc.filename else 'writing'}: {paths.reason(exc)}")

    def list_commands(self, ctx: Any) -> list[str]:
        last = len(COMMAND_ORDER)
        return sorted(super().list_commands(ctx), key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else last)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Each command with its whole first sentence, wrapped (click cuts it at the terminal width)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


#: How a value's type reads in help, for people: typer would print ``<int range>``, ``<list[Path]>``.
_PLAIN_TYPES = {"int": "N", "int range": "N", "float": "NUMBER", "float range": "NUMBER", "str": "TEXT"}


def _plain(label: str | None) -> str | None:
    """``<int range>`` -> ``N``, ``<path>`` -> ``PATH``, ``<list[Path]>`` -> ``PATH``..."""
    if not label:
        return label
    inner = label.strip("<>").removesuffix("...")
    inner = inner.removeprefix("list[").removesuffix("]")
    return _PLAIN_TYPES.get(inner.lower(), inner.upper())


def _option_type(self: TyperOption, ctx: Any) -> str | None:
    return self.metavar if self.metavar is not None else _plain(self.display_type(ctx))


def _argument_name(self: TyperArgument) -> str:
    return self.display_name_raw.upper() if self.metavar is None else self.display_name_raw


def _argument_usage(self: TyperArgument) -> str:
    """``FILE`` for a required argument, ``[FILE]`` for an optional one (typer writes ``{FILE}``)."""
    name = _argument_name(self) if self.required else f"[{_argument_name(self)}]"
    return name + ("..." if self.nargs != 1 else "")


# Help for people, not type names: arguments are named by their metavar (their help says what they
# are), options by their metavar or a plain word. typer has no setting for it; these are the hooks
# its help formatter calls (guarded, so a typer without them keeps its own help).
if all(hasattr(TyperArgument, a) for a in ("display_type_rich", "_usage_display_name", "_rich_display_name")):
    TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]
    TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]
    TyperArgument._rich_display_name = _argument_name  # type: ignore[method-assign]
if hasattr(TyperOption, "display_type_rich"):
    TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]


def check_option_values(params: list[Any], args: list[str]) -> None:
    """Refuse an option that takes a value followed by another option (``--dask --out X`` would take
    ``--out`` as the scheduler's address): one line, before anything runs. A value that only starts
    with ``-`` (``-1``) is still a value; ``--opt=--x`` says it is meant. An option with a callback of
    its own checks its value itself, in its own words (``--dask``)."""
    takes = {
        name
        for p in params
        if isinstance(p, TyperOption) and not p.is_flag and not p.count and p.callback is None
        for name in p.opts
    }
    known = {name for p in params if isinstance(p, TyperOption) for name in (*p.opts, *p.secondary_opts)}
    known |= {"-h", "--help"}
    for option, value in itertools.pairwise(args):
        if option == "--":
            return
        if option in takes and (value in known or (value.startswith("--") and len(value) > 2)):
            meant = f", or {option}={value} if that is the value" if option.startswith("--") else ""
            raise OptionValueError(
                f"{option} takes a value, but the next word is the option {value}; give {option} its value "
                f"({option} VALUE{meant})"
            )


_parse_args = TyperCommand.parse_args


def _checked_parse_args(self: TyperCommand, ctx: Any, args: list[str]) -> list[str]:
    check_option_values(list(self.params), list(args))
    return _parse_args(self, ctx, args)


TyperCommand.parse_args = _checked_parse_args  # type: ignore[method-assign,assignment]


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


class RankBy(StrEnum):
    total = "total"
    makespan = "makespan"


#: Which window items/s is measured over and ranked by (run, show, report, sweep).
RankByOpt = Annotated[
    RankBy,
    typer.Option(
        "--rank-by",
        metavar="total|makespan",
        help="Rank and show items/s over the total window (the strategy's first step to its return: "
        "what you wait for, with start-up and shut-down) or over the makespan (start line to the last "
        "item done: the pipeline alone).",
    ),
]


class StartMethod(StrEnum):
    fork = "fork"
    forkserver = "forkserver"
    spawn = "spawn"


# Options shared by the commands that run trials (run, stress, sweep).
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--strategy",
        "-s",
        metavar="NAME",
        help="Strategy to run (repeatable, or a comma-separated list): a built-in name, an installed one, "
        "or yours as module:function. Default: the scenario's list, else all built-in ones.",
    ),
]
PathOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--path",
        metavar="DIR",
        help="A folder of your project to put on the worker's sys.path (repeatable). The scenario file's "
        "folder, and the project it is in (the nearest folder above holding pyproject.toml), are added by themselves.",
    ),
]
StartMethodOpt = Annotated[
    StartMethod | None,
    typer.Option(
        "--start-method",
        metavar="fork|forkserver|spawn",
        help="multiprocessing start method. Default: the platform's.",
    ),
]
PythonOpt = Annotated[
    list[str] | None,
    typer.Option("--python", metavar="PATH", help="Interpreter the worker runs under. Default: this one."),
]


def one_python(given: list[str] | None, command: str) -> str | None:
    """The one --python of a command that runs one interpreter; given twice, one line and exit 2
    (typer would silently keep the last)."""
    if given and len(given) > 1:
        hint = "give each as a side, python:PATH" if command == "ab" else "`queuebench run` takes several"
        fail(f"--python given {len(given)} times: {command} runs one interpreter ({hint})")
    return given[0] if given else None


PythonsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--python",
        metavar="PATH",
        help="Interpreter the worker runs under. Repeat it to measure several side by side: their trials "
        "take turns in one run, and the table shows strategy@version. Default: this one.",
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Check the files and options, print the plan and the estimate; run nothing."),
]
# The gate's judging options, shared by compare and ab.
MetricOpt = Annotated[
    str,
    typer.Option(
        "--metric",
        "-m",
        metavar="METRIC",
        help="throughput_total (items/s over the total window: the default, as in `run` and `show`), "
        "throughput (items/s over the makespan), total (total_s), makespan (makespan_s), p50, p90, p99, max "
        "(end-to-end latency ms), "
        "efficiency, rss (peak_rss_mb), or a latency key <e2e|wait|service|put>_<p50|p90|p99|max>_ms "
        "such as wait_p99_ms.",
    ),
]
MaxRegressionOpt = Annotated[
    str, typer.Option("--max-regression", help="Smallest change that counts, as a factor: 10% = x1.10 worse.")
]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level for the whole family of pairs (Holm).")]
FailOnInconclusiveOpt = Annotated[
    bool, typer.Option("--fail-on-inconclusive", help="Exit 1 (not 3) when a pair could not be judged.")
]
AcceptInconclusiveOpt = Annotated[
    bool,
    typer.Option("--accept-inconclusive", help="Exit 0 (not 3) when no pair regressed but some could not be judged."),
]
MarkdownOpt = Annotated[Path | None, typer.Option("--markdown", help="Also write the verdicts as Markdown.")]
#: The limits a scenario file has (harness.scenario): an option may not go past them either.
MAX_REPEAT, MAX_WARMUP, MAX_TIMEOUT = 1000, 100, 24 * 3600.0


def _out_path(value: str | Path) -> Path:
    if isinstance(value, str) and not value.strip():
        raise typer.BadParameter("empty path; name a directory for the results")
    return Path(value)


OutOpt = Annotated[Path, typer.Option("--out", "-o", parser=_out_path, metavar="DIR", help="Directory for results.")]
RepeatOpt = Annotated[
    int | None,
    typer.Option(
        "--repeat",
        "-r",
        min=1,
        max=MAX_REPEAT,
        metavar="N",
        help="Measured repeats per strategy (overrides the scenario file).",
    ),
]
WarmupOpt = Annotated[
    int | None,
    typer.Option(
        "--warmup", min=0, max=MAX_WARMUP, metavar="N", help="Warmup trials, discarded (overrides the scenario file)."
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        max=MAX_TIMEOUT,
        metavar="SECONDS",
        help="Seconds per trial before it is killed (overrides the scenario file).",
    ),
]


def _dask_address(value: str | None) -> str | None:
    """``--dask``'s value, checked as it is parsed: ``--dask --out X`` would take ``--out`` as the
    address (click gives an option its next word whatever it is); one line and exit 2 instead."""
    if value is None or value == "local" or value.startswith(("tcp://", "tls://")):
        return value
    if value.startswith("-"):
        fail(f"--dask got {value!r}, which is an option, not an address: give --dask local or --dask tcp://HOST:PORT")
    fail(f"--dask {value!r}: give 'local' or a scheduler address such as tcp://HOST:8786")


DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        callback=_dask_address,
        metavar="local|tcp://HOST:PORT",
        help="Run the trials on a Dask cluster: 'local' starts a loopback one for the run; an address uses "
        "a running scheduler whose workers hold the resource trial=1 (one trial per machine at a time).",
    ),
]
#: The most a --dask-timeout may be: an hour (a wait longer than that is no deadline).
MAX_DASK_TIMEOUT = 3600.0
DaskTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--dask-timeout",
        min=0.1,
        max=MAX_DASK_TIMEOUT,
        metavar="SECONDS",
        envvar="QUEUEBENCH_DASK_TIMEOUT",
        show_envvar=True,
        help="With --dask, and for the dask strategy: the most each wait on a Dask scheduler, worker or "
        "cluster start may take before the run stops with one line (connecting, a worker holding trial=1 "
        "to appear or start, a trial no worker can take). Default: 10.",
    ),
]
EachWorkerOpt = Annotated[
    bool,
    typer.Option("--each-worker", help="With --dask: the whole run once on every worker, one results folder each."),
]
RecalibrateOpt = Annotated[
    bool,
    typer.Option("--recalibrate", help="Measure the cpu work's units per ms afresh instead of this machine's cache."),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Run even what the pre-flight estimate says this machine cannot take."),
]


def esc(value: object) -> str:
    """Text from outside (paths, error messages) shown literally: never read as rich markup, and
    a control character (ESC, CSI, BEL, CR) shown by its escape (``\\x1b``), never sent to the
    terminal."""
    from rich.markup import escape

    return escape(_CONTROL.sub(lambda m: repr(m.group(0))[1:-1], str(value)))


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
