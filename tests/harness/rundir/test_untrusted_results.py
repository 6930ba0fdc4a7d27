"""Results folders are untrusted input (issue #17, part 1): damaged documents, traversal names,
symbolic links, temp-name traps, FIFOs and devices, rich markup. Every command gives one line
and exit 2, and nothing is ever written outside the folder a command was given."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import errors
from harness.cli import app
from harness.rundir import store
from tests.helpers import ROOT

cli = CliRunner()


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real run (2 strategies x 1 repeat of smoke), made once for the module."""
    out = tmp_path_factory.mktemp("real")
    args = ["run", str(ROOT / "scenarios" / "smoke.toml"), "-s", "threads", "-s", "sequential", "-r", "1"]
    result = cli.invoke(app, [*args, "--warmup", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (run_dir,) = out.iterdir()
    return run_dir


@pytest.fixture
def run_dir(real_run: Path, tmp_path: Path) -> Path:
    """A private copy of the real run, inside a sandbox folder (tmp_path/box/run)."""
    dest = tmp_path / "box" / "run"
    shutil.copytree(real_run, dest)
    return dest


def commands(run: Path, out: Path) -> dict[str, list[str]]:
    return {
        "show": ["show", str(run)],
        "report": ["report", str(run), "-o", str(out / "report")],
        "plot": ["plot", str(run), "-o", str(out / "plot.png")],
        "compare": ["compare", str(run), str(run), "--results", str(out)],
        "export": ["export", str(run), "-o", str(out / "export.json")],
        "baseline": ["baseline", "save", str(run), "b", "--results", str(out), "--force", "--with-samples"],
    }


def edit(run: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads((run / "run.json").read_text())
    change(doc)
    (run / "run.json").write_text(json.dumps(doc, allow_nan=True))


def assert_one_line_exit_2(run: Path, out: Path, expected: str = "") -> None:
    for name, args in commands(run, out).items():
        result = cli.invoke(app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert result.exit_code == 2, (name, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], (name, result.output)


def _trial0(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["trials"][0]  # type: ignore[no-any-return]


DAMAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "no definition": lambda d: d["scenarios"]["smoke"].pop("definition"),
    "no started_at": lambda d: d.pop("started_at"),
    "null metric": lambda d: _trial0(d)["metrics"].update(throughput=None),
    "NaN metric": lambda d: _trial0(d)["metrics"].update(throughput=float("nan")),
    "Infinity metric": lambda d: _trial0(d)["metrics"].update(makespan_s=float("inf")),
    "null pool_size": lambda d: _trial0(d)["metrics"].update(pool_size=None),
    "sweep a list": lambda d: d.update(sweep=[1, 2]),
    "sweep a string": lambda d: d.update(sweep="readers"),
    "options null": lambda d: d.update(options=None),
    "reader_work a string": lambda d: d["scenarios"]["smoke"]["definition"].update(reader_work="io"),
    "strategy with a newline": lambda d: _trial0(d).update(strategy="a\nb"),
    "status with markup": lambda d: d.update(status="[/]"),
    "scenario traversal": lambda d: d.update(
        scenarios={"x/../../../ESCAPED": d["scenarios"]["smoke"]},
        trials=[{**t, "scenario": "x/../../../ESCAPED"} for t in d["trials"]],
    ),
    "samples traversal": lambda d: _trial0(d).update(samples="../../../etc/hostname"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_but_valid_json_is_one_line_for_every_command(run_dir: Path, tmp_path: Path, damage: str) -> None:
    edit(run_dir, DAMAGES[damage])
    assert_one_line_exit_2(run_dir, tmp_path / "out")
    assert not list(tmp_path.rglob("ESCAPED*"))


def test_run_json_as_a_directory_a_fifo_or_dev_zero(run_dir: Path, tmp_path: Path) -> None:
    file = run_dir / "run.json"
    file.unlink()
    file.mkdir()
    assert_one_line_exit_2(run_dir, tmp_path / "out", "not a regular file")
    file.rmdir()
    os.mkfifo(file)  # opened without blocking: a hang would be caught by the test's timeout
    assert_one_line_exit_2(run_dir, tmp_path / "out", "not a regular file")
    file.unlink()
    file.symlink_to("/dev/zero")
    assert_one_line_exit_2(run_dir, tmp_path / "out", "symbolic link")


def test_read_regular_caps_size_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 1000)
    with pytest.raises(errors.RunDirError, match="at most 100 are read"):
        store.read_regular(big, 100)
    assert store.read_regular(big, 1000) == b"x" * 1000


def test_run_json_that_would_parse_into_far_more_than_its_size_is_refused_unparsed(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the byte limit, tiny values build objects many times their size (64 MiB of `[],`
    took 1.7 GB): refused by a count before parsing, like a file that is not an object at all
    (a 40 MB run.json of zero bytes was decoded whole to find that out)."""
    file = run_dir / "run.json"
    packed = b'{"tool": "queuebench", "x": [' + b"[]," * (store.MAX_RUN_VALUES // 2) + b"[]]}"
    for raw, expected in [(packed, "JSON values; at most 2,500,000 are read"), (b"\0" * 2**20, "not a JSON object")]:
        file.write_bytes(raw)
        assert_one_line_exit_2(run_dir, tmp_path / "out", expected)
        with monkeypatch.context() as m:
            m.setattr(store.json, "loads", lambda *a, **k: pytest.fail("parsed"))
            with pytest.raises(errors.RunDirError, match=expected):
                store.load_run(run_dir)


@pytest.mark.parametrize("how", ["null column", "missing column", "text column", "garbage", "link to /dev/zero"])
def test_damaged_samples_are_one_line(run_dir: Path, tmp_path: Path, how: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (file,) = sorted((run_dir / "samples").glob("*threads*.parquet"))
    table = pq.read_table(file)
    if how == "null column":
        table = table.set_column(0, "writer", pa.array([None] * table.num_rows, pa.int64()))
    elif how == "missing column":
        table = table.drop_columns(["reader"])
    elif how == "text column":
        table = table.set_column(2, "produced", pa.array(["x"] * table.num_rows))
    file.unlink()
    if how == "garbage":
        file.write_bytes(b"PAR1 not really")
    elif how == "link to /dev/zero":
        file.symlink_to("/dev/zero")
    else:
        pq.write_table(table, file)
    result = cli.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "out")])
    if how == "link to /dev/zero":  # not a file: the report treats its samples as absent, reads nothing
        assert result.exit_code == 0 and "samples" in (tmp_path / "out" / "report.md").read_text(), result.output
        return
    assert result.exit_code == 2 and result.output.startswith("error: ") and "samples" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_atomic_write_never_writes_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.txt").symlink_to(victim)
    with pytest.raises(errors.UnsafeTarget, match="symbolic link"):
        store.atomic_write(tmp_path / "out.txt", b"evil")
    assert victim.read_text() == "precious"
    store.atomic_write(tmp_path / "fine.txt", b"ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fine.txt", "out.txt", "victim"]  # no temp left


def test_report_through_a_figure_link_is_refused_and_temp_traps_are_ignored(run_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (run_dir / "throughput.png").symlink_to(victim)
    result = cli.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2 and "symbolic link" in result.output, result.output
    assert victim.read_text() == "precious"
    out = tmp_path / "out"  # the old predictable temp names are traps no longer
    out.mkdir()
    for name in (".report.md.tmp", ".report.html.tmp", ".throughput.png.tmp"):
        (out / name).symlink_to(victim)
    result = cli.invoke(app, ["report", str(run_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious" and (out / "report.md").is_file() and (out / "throughput.png").is_file()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") and not p.is_symlink()]


def test_baseline_with_samples_copies_only_regular_files(run_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("do not copy")
    (run_dir / "samples" / "secret.parquet").symlink_to(secret)
    (run_dir / "samples" / "zero.parquet").symlink_to("/dev/zero")
    os.mkfifo(run_dir / "samples" / "fifo.parquet")
    results = tmp_path / "results"
    args = ["baseline", "save", str(run_dir), "main", "--results", str(results), "--with-samples"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    copied = sorted(p.name for p in (results / "baselines" / "main" / "samples").iterdir())
    assert copied == sorted(p.name for p in (run_dir / "samples").iterdir() if p.is_file() and not p.is_symlink())
    assert all(not p.is_symlink() for p in (results / "baselines" / "main").rglob("*"))


def test_baseline_failure_leaves_no_temp_folder(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_SAMPLES_FILE", 10)  # every samples file is now too big
    results = tmp_path / "results"
    args = ["baseline", "save", str(run_dir), "main", "--results", str(results), "--with-samples"]
    result = cli.invoke(app, args)
    assert result.exit_code == 2 and "at most 10" in result.output, result.output
    assert list((results / "baselines").iterdir()) == []


def test_markup_in_texts_does_not_crash_list_show_or_compare(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "m.toml").write_text(
        '[[scenario]]\nname = "m"\ndescription = "[/] [bold]x"\nwriters = 1\nreaders = 1\nitems_per_writer = 1\n'
    )
    (folder / "bad[b].toml").write_text('[[scenario]]\nname = "[/]"\n')
    listed = cli.invoke(app, ["list", "--scenarios", str(folder)], terminal_width=300)
    assert listed.exit_code == 0 and "[/] [bold]x" in listed.output, listed.output
    edit(run_dir, lambda d: d["scenarios"]["smoke"]["definition"].update(description="[/] [red]"))
    edit(run_dir, lambda d: _trial0(d).update(status="failed", errors=["[/] boom [bold]"], strategy="x[/]y"))
    shown = cli.invoke(app, ["show", str(run_dir)], terminal_width=300)
    assert shown.exit_code == 0 and "[/] boom [bold]" in shown.output and "x[/]y" in shown.output, shown.output
    compared = cli.invoke(app, ["compare", str(run_dir), str(run_dir)], terminal_width=300)
    assert compared.exception is None or isinstance(compared.exception, SystemExit), compared.exception


def test_baseline_json_as_a_fifo_or_dev_zero_is_not_waited_on(run_dir: Path, tmp_path: Path) -> None:
    """report (on a run without samples) and baseline list read baseline.json: a FIFO there hung
    them, a link to /dev/zero read until memory ran out. Now it reads as no baseline.json."""
    shutil.rmtree(run_dir / "samples")
    results = tmp_path / "results"
    assert cli.invoke(app, ["baseline", "save", str(run_dir), "b", "--results", str(results)]).exit_code == 0
    saved = results / "baselines" / "b"
    for make in (os.mkfifo, lambda f: f.symlink_to("/dev/zero")):
        for folder in (run_dir, saved):
            (folder / "baseline.json").unlink(missing_ok=True)
            make(folder / "baseline.json")
        result = cli.invoke(app, ["report", str(run_dir), "-o", str(tmp_path / "report")])
        assert result.exit_code == 0, result.output
        assert "per-item samples are not here" in (tmp_path / "report" / "report.md").read_text()
        result = cli.invoke(app, ["baseline", "list", "--results", str(results)])
        assert result.exit_code == 0 and "b" in result.output, result.output
