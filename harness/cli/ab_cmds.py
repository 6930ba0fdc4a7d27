"""The interleaved A/B verb: ``queuebench ab A B [FILES...]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness import errors
from harness.cli.common import (
    AcceptInconclusiveOpt,
    AlphaOpt,
    FailOnInconclusiveOpt,
    MarkdownOpt,
    MaxRegressionOpt,
    MetricOpt,
    OutOpt,
    PathOpt,
    PythonOpt,
    StartMethodOpt,
    StrategyOpt,
    TimeoutOpt,
    WarmupOpt,
    app,
    esc,
    one_python,
)
from harness.cli.gate_cmds import conclude
from harness.cli.measuring import sigterm_as_ctrl_c
from harness.cli.planning import run_options, with_user_code

if TYPE_CHECKING:
    from harness.gate.auto_repeat import AutoRepeat
    from harness.rundir.model import Run


@app.command()
def ab(
    side_a: Annotated[str, typer.Argument(metavar="A", help="Baseline side: a tree, a git ref, or python:PATH.")],
    side_b: Annotated[str, typer.Argument(metavar="B", help="Current side: a tree, a git ref, or python:PATH.")],
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario TOML files. Default: the default suite.", show_default=False),
    ] = None,
    strategy: StrategyOpt = None,
    repeat: Annotated[
        str | None,
        typer.Option(
            "--repeat",
            "-r",
            metavar="N|auto",
            help="Measured repeats per side, or 'auto': until every pair is settled (judged at planned looks, "
            "alpha spent over them).",
        ),
    ] = None,
    budget: Annotated[float, typer.Option("--budget", min=1, help="--repeat auto: seconds to spend at most.")] = 600.0,
    max_repeat: Annotated[int, typer.Option("--max-repeat", min=5, help="--repeat auto: repeats at most.")] = 30,
    warmup: WarmupOpt = None,
    start_method: StartMethodOpt = None,
    python: PythonOpt = None,
    timeout: TimeoutOpt = None,
    out: OutOpt = Path("results"),
    a_env: Annotated[
        list[str] | None, typer.Option("--a-env", help="KEY=VALUE for side A's worker (repeatable).")
    ] = None,
    b_env: Annotated[
        list[str] | None, typer.Option("--b-env", help="KEY=VALUE for side B's worker (repeatable).")
    ] = None,
    metric: MetricOpt = "throughput_total",
    max_regression: MaxRegressionOpt = "10%",
    alpha: AlphaOpt = 0.01,
    fail_on_inconclusive: FailOnInconclusiveOpt = False,
    accept_inconclusive: AcceptInconclusiveOpt = False,
    markdown: MarkdownOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write every pair's verdict as JSON.")] = None,
    path: PathOpt = None,
) -> None:
    """Run both sides in one run, trials alternating (A B, B A next repeat), then judge B against A as compare does.

    A side is a source tree (a directory holding strategies/), a git ref of this repository
    (checked out into a temporary worktree, removed after) or python:PATH (this tree, another
    interpreter); `ab . .` is an A/A run. In your own project, a side is a ref of it (or a folder):
    each side runs that commit's functions and strategies, with queuebench as installed.
    Exit codes as compare: 0 no regression, 1 regression,
    2 bad input, 3 could not judge."""
    from harness import scenario
    from harness.gate import ab as abmod
    from harness.gate import compare as cmp
    from harness.gate.auto_repeat import AutoRepeat
    from harness.presentation import terminal as render
    from harness.rundir import paths

    if fail_on_inconclusive and accept_inconclusive:
        raise errors.CompareError("--fail-on-inconclusive and --accept-inconclusive contradict each other")
    threshold = cmp.parse_threshold(max_regression)
    cmp.check_alpha(alpha)
    cmp.metric(metric)
    for given, option in ((markdown, "--markdown"), (json_out, "--json")):
        if given is not None:
            paths.writable_file(given, option)
    envs = abmod.parse_env(a_env, "--a-env"), abmod.parse_env(b_env, "--b-env")
    loaded = scenario.load_many(files or scenario.default_suite())
    auto = repeat is not None and repeat.strip().lower() == "auto"
    repeats = AutoRepeat.first_repeats(alpha, max_repeat) if auto else _repeats(repeat)
    opts = run_options(strategy, repeats, warmup, start_method, one_python(python, "ab"), timeout, out)
    with_user_code(opts, path, files or [], loaded)
    _refuse_unreachable(loaded, opts, alpha, max_repeat if auto else None)
    con = render.console()
    with sigterm_as_ctrl_c():
        try:
            with (
                abmod.resolve("A", side_a, opts.python, envs[0]) as a,
                abmod.resolve("B", side_b, opts.python, envs[1]) as b,
            ):
                con.print(f"A (baseline) {esc(a.describe())}\nB (current)  {esc(b.describe())}")
                same = abmod.same_code(a, b)
                if same:
                    con.print(f"[bold yellow]WARNING: {esc(same)}[/]")
                with con.status("probing both sides' workers"):
                    prepared = abmod.prepare(loaded, opts, a, b)
                stepper = AutoRepeat(prepared, metric, threshold, alpha, budget, max_repeat) if auto else None
                if stepper is not None:
                    stepper.warn = lambda said: con.print(f"[bold yellow]WARNING: {esc(said)}[/]")
                run_dir, run = _run(prepared, con, stepper)
        except KeyboardInterrupt:
            con.print("[bold yellow]interrupted[/]: trial processes killed; partial results marked incomplete")
            raise typer.Exit(130) from None
    con.print(f"results: {esc(run_dir)}")
    report = stepper.judge(run) if stepper else abmod.judge(run, metric, threshold, alpha)
    if same:
        report.warnings.append(same)
    conclude(report, f"A {side_a}", f"B {side_b}", fail_on_inconclusive, accept_inconclusive, markdown, json_out)


def _refuse_unreachable(loaded: list[Any], opts: Any, alpha: float, max_repeat: int | None) -> None:
    """Refuse, before anything runs, repeats that can reach no verdict (CompareError: one line, exit 2)."""
    from harness.errors import CompareError
    from harness.gate.auto_repeat import looks
    from harness.gate.sensitivity import unreachable
    from harness.running.suite import strategies_for

    pairs = sum(len(strategies_for(one, opts)) for one in loaded)
    if max_repeat is not None:
        why = unreachable(max_repeat, pairs, alpha, len(looks(alpha, max_repeat)))
        if why:
            raise CompareError(f"-r auto --max-repeat {max_repeat}: {why}; raise --max-repeat")
        return
    for one in loaded:
        repeats = opts.repeat if opts.repeat is not None else one.scenario.repeats
        why = unreachable(repeats, pairs, alpha)
        if why:
            named = f"-r {repeats}" if opts.repeat is not None else f"{one.scenario.name}'s repeats = {repeats}"
            raise CompareError(f"{named}: {why}; use more repeats (-r N) or -r auto")


def _repeats(text: str | None) -> int | None:
    from harness.errors import CompareError

    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise CompareError(f"--repeat {text!r}: a number of repeats, or auto") from None
    if value < 1:
        raise CompareError(f"--repeat {text!r}: at least 1")
    return value


def _run(prepared: Any, con: Any, stepper: AutoRepeat | None) -> tuple[Path, Run]:
    from harness.cli.measuring import run_with_progress

    return run_with_progress(prepared, con, stepper.on_progress if stepper is not None else None)
