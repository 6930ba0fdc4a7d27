"""What the verbs that run trials share before they run one: their options (``run_options``),
the user's code the worker needs (``with_user_code``) and ``--dry-run``'s plan and time estimate
(``print_plan``). Used by run, sweep, stress and ab."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import StartMethod, fail
from harness.errors import OptionValueError

if TYPE_CHECKING:
    from harness.running import suite
    from harness.running.suite import Options
    from harness.scenario import LoadedScenario


def print_plan(planned: list[suite.Planned], opts: Options) -> None:
    """What ``run`` would do: the trials and each strategy's pre-flight estimate; no probe, no trial."""
    import multiprocessing
    import shutil

    from harness.presentation import terminal as render
    from harness.running import preflight

    method = opts.start_method or multiprocessing.get_start_method()
    pairs = {(id(p.loaded), p.strategy): (p.loaded, p.strategy) for p in planned}
    sides = max(1, len(opts.pythons))
    estimates = preflight.check(
        [(p.loaded, p.strategy) for p in planned] * sides, method, opts.force, timeout=opts.timeout
    )
    con = render.console()
    each = ""
    if len(opts.pythons) > 1:  # not started, so not asked what each can run: only that it is there
        for python in opts.pythons:
            if shutil.which(python) is None:
                fail(f"--python {python!r}: no such executable")
        each = f" under each of {len(opts.pythons)} interpreters (what each can run is asked when the run starts)"
    total = len(planned) * max(1, len(opts.pythons))
    con.print(f"dry run: {total} trial(s) of {len(pairs)} scenario x strategy pair(s){each}; nothing was run")
    for e in estimates:
        con.print(e.line(), markup=False, highlight=False)
    seconds, limit = preflight.total_seconds(estimates), preflight.TIME_LIMIT_S
    bound = preflight.duration(limit)
    over = f", over the limit of {bound} (--force)" if seconds > limit else f"; the limit is {bound}"
    con.print(
        f"time: about {preflight.duration(seconds)} (each trial's ideal makespan + ~{preflight.STARTUP_S:g} s "
        f"start-up){over}",
        markup=False,
        highlight=False,
    )
    from harness.running import timing

    history = timing.learn(opts.out)  # this machine's trial costs, from the runs in --out
    learned = history.estimate(((p.loaded, p.strategy) for p in planned), opts.timeout) * sides
    con.print(f"time, learned: about {preflight.duration(learned)} ({history.said()})", markup=False, highlight=False)


def with_user_code(opts: Options, path: list[Path] | None, files: list[Path], loaded: list[LoadedScenario]) -> None:
    """The user's code the worker needs: ``--path``, the scenario files' projects, and the
    strategies named "module:callable" (with -s or in the scenarios' lists)."""
    from harness.running.project import user_code

    named = [*opts.strategies, *(n for item in loaded for n in item.scenario.strategies or ())]
    opts.user = user_code(path, files, named)


def strategy_names(values: list[str] | None) -> list[str]:
    """``-s threads,mp-queue -s asyncio`` as ``-s threads -s mp-queue -s asyncio`` (no name holds a
    comma); an empty ``-s ""`` is refused, not read as "every strategy"."""
    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    if values and not names:
        raise OptionValueError(f"-s/--strategy {values[0]!r}: no strategy name in it; give a name such as threads")
    return names


def run_options(
    strategy: list[str] | None,
    repeat: int | None,
    warmup: int | None,
    start_method: StartMethod | None,
    python: str | None,
    timeout: float | None,
    out: Path,
    force: bool = False,
) -> Options:
    """The run options shared by run, sweep, stress and ab; ``out`` is checked first (one line
    for a path too long, a place nothing can be made in, a file there, a full disk)."""
    from harness.rundir import paths
    from harness.running import suite

    paths.writable_dir(out, "--out", room=paths.RUN_ROOM, needs=paths.RUN_NEEDS)
    return suite.Options(
        strategies=strategy_names(strategy),
        repeat=repeat,
        warmup=warmup,
        start_method=start_method.value if start_method else None,
        python=python or sys.executable,
        timeout=timeout,
        out=out,
        force=force,
    )
