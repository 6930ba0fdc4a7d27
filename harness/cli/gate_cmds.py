"""The regression gate's verbs: ``compare`` and ``baseline save|list``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from harness import errors
from harness.cli.common import (
    AcceptInconclusiveOpt,
    AlphaOpt,
    FailOnInconclusiveOpt,
    MarkdownOpt,
    MaxRegressionOpt,
    MetricOpt,
    app,
    esc,
    fail,
)

if TYPE_CHECKING:
    from harness.gate.verdicts import Report


@app.command()
def compare(
    baseline: Annotated[str, typer.Argument(help="Baseline: a run directory or a saved baseline name.")],
    current: Annotated[str, typer.Argument(help="Current: a run directory (or a folder: its newest run).")],
    metric: MetricOpt = "throughput_total",
    max_regression: MaxRegressionOpt = "10%",
    alpha: AlphaOpt = 0.01,
    fail_on_inconclusive: FailOnInconclusiveOpt = False,
    accept_inconclusive: AcceptInconclusiveOpt = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse (exit 2) when scenarios or machines differ, or repeats are too few."),
    ] = False,
    markdown: MarkdownOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write every pair (ratio, interval, p, adjusted p, verdict).")
    ] = None,
    results: Annotated[Path, typer.Option("--results", help="Saved baselines are <results>/baselines/NAME.")] = Path(
        "results"
    ),
) -> None:
    """Regression gate: per strategy x scenario, the ratio, its confidence interval and a verdict.

    Exit 0 no regression, 1 regression (slower, or trials that broke), 2 bad input, 3 could not
    judge (a pair inconclusive, too few repeats, or the machine changed; see --accept-inconclusive)."""
    from harness.gate import baseline as bl
    from harness.gate import compare as cmp
    from harness.presentation import terminal as render
    from harness.rundir import paths, store

    if fail_on_inconclusive and accept_inconclusive:
        raise errors.CompareError("--fail-on-inconclusive and --accept-inconclusive contradict each other")
    threshold = cmp.parse_threshold(max_regression)
    cmp.check_alpha(alpha)
    cmp.metric(metric)
    for path, option in ((markdown, "--markdown"), (json_out, "--json")):
        if path is not None:  # before comparing: a bad path must not cost the verdict's exit code
            paths.writable_file(path, option)
    base_dir, cur_dir = bl.resolve(baseline, results), bl.resolve(current, results)
    base_run, cur_run = store.read_run(base_dir), store.read_run(cur_dir)
    report = cmp.compare(base_run, cur_run, metric, threshold, alpha)
    # --strict refuses before anything is printed: no table under "no regression" and then exit 2.
    if strict and report.mismatches:
        n, lines = len(report.mismatches), "; ".join(report.mismatches)
        fail(f"--strict: refusing to judge runs that are not like for like ({n} difference(s)): {lines}")
    if strict and report.too_few:
        fail(f"--strict: {len(report.too_few)} pair(s) have too few repeats for a verdict at alpha={alpha:g}")
    same = cmp.same_run(base_dir, cur_dir, base_run, cur_run)
    if same:
        report.warnings.append(same)
    render.console().print(f"baseline {esc(base_dir)}\ncurrent  {esc(cur_dir)}")
    conclude(report, str(base_dir), str(cur_dir), fail_on_inconclusive, accept_inconclusive, markdown, json_out)


def conclude(
    report: Report,
    baseline: str,
    current: str,
    fail_on_inconclusive: bool,
    accept_inconclusive: bool,
    markdown: Path | None,
    json_out: Path | None,
) -> NoReturn:
    """Print the verdict table and its notes, write --markdown and --json, exit with the gate's code
    (``compare`` and ``ab`` end alike)."""
    from harness.gate import document as compare_json
    from harness.presentation import comparison as compare_render
    from harness.presentation import terminal as render
    from harness.rundir import paths, store

    con = render.console()
    for line in report.warnings:
        con.print(f"[bold yellow]WARNING: {esc(line)}[/]")
    for line in report.mismatches:
        con.print(f"[bold yellow]WARNING: not like for like: {esc(line)}[/]")
    con.print(compare_render.table(report, fail_on_inconclusive, accept_inconclusive))
    for line in report.notes + compare_render.advice(report):
        con.print(f"note: {esc(line)}")
    if markdown is not None:
        text = compare_render.markdown(report, baseline, current, fail_on_inconclusive, accept_inconclusive)
        try:
            store.atomic_write(markdown, text.encode())
        except OSError as exc:
            raise paths.say(exc, str(markdown)) from None
    code = report.exit_code(fail_on_inconclusive, accept_inconclusive)
    if json_out is not None:
        head = compare_render.headline(report, fail_on_inconclusive, accept_inconclusive)
        try:
            store.atomic_write(json_out, compare_json.dumps(report, baseline, current, code, head).encode())
        except OSError as exc:
            raise paths.say(exc, str(json_out)) from None
    raise typer.Exit(code)


baseline_app = typer.Typer(
    help="Save and list baselines (results/baselines/NAME, meant to be committed).", no_args_is_help=True
)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("save")
def baseline_save(
    run_dir: Annotated[Path, typer.Argument(help="A results directory to keep as a baseline.")],
    name: Annotated[str, typer.Argument(help="Baseline name: letters, digits, . _ -")],
    results: Annotated[Path, typer.Option("--results", help="Baselines go to <results>/baselines/NAME.")] = Path(
        "results"
    ),
    with_samples: Annotated[
        bool, typer.Option("--with-samples", help="Copy the per-item Parquet samples too (large; compare needs none).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing baseline, or save an unfinished run.")] = (
        False
    ),
) -> None:
    """Copy a run (run.json, summary.csv) into results/baselines/NAME."""
    from harness.gate import baseline as bl
    from harness.rundir import paths

    bl.check_name(name)
    paths.writable_dir(bl.baselines_dir(results), "--results", room=paths.BASELINE_ROOM)
    try:
        dest = bl.save(run_dir, name, results, with_samples=with_samples, force=force)
    except OSError as exc:
        fail(f"cannot save baseline {name!r}: {paths.reason(exc)}")
    typer.echo(f"saved baseline {name!r}: {dest}")


@baseline_app.command("list")
def baseline_list(
    results: Annotated[Path, typer.Option("--results", help="Baselines are read from <results>/baselines.")] = Path(
        "results"
    ),
) -> None:
    """List saved baselines: when, from which run, machine, and what they hold."""
    from rich.table import Table

    from harness.gate import baseline as bl
    from harness.presentation import terminal as render
    from harness.presentation.facts import fingerprint_line

    saved = bl.list_saved(results)
    con = render.console()
    if not saved:
        con.print(
            f"no baselines in {esc(bl.baselines_dir(results))}; save one with `queuebench baseline save RUN_DIR NAME`"
        )
        return
    table = Table(title=f"baselines in {esc(bl.baselines_dir(results))}", title_justify="left", header_style="bold")
    for col in ("name", "saved", "machine", "scenario / strategy (passing repeats)"):
        table.add_column(col)
    for item in saved:
        if item.run is None:
            table.add_row(esc(item.name), esc(item.saved_at), f"[red]{esc(item.problem)}[/]", "")
            continue
        pairs = ", ".join(f"{s}/{t} ({n})" for (s, t), n in item.pairs.items())
        table.add_row(esc(item.name), esc(item.saved_at), esc(fingerprint_line(item.run.machine)), esc(pairs))
    con.print(table)
