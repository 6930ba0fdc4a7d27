"""Interruptions and OS errors (issue #17, part 5): Ctrl+C while storing a trial or writing a
report, a full disk, a name too long, and run folders made by many callers at once."""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.presentation import report
from harness.rundir import store
from harness.rundir.model import Trial
from strategies import records
from tests.helpers import ROOT

SMOKE = str(ROOT / "scenarios" / "smoke.toml")
cli = CliRunner()


def writer(tmp_path: Path) -> store.RunWriter:
    return store.RunWriter(store.new_run_dir(tmp_path), {"host": "x"}, {}, {})


def rows(n: int = 1000) -> np.ndarray:
    return np.arange(n * records.WIDTH, dtype=np.int64).reshape(n, records.WIDTH)


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp")]


def test_ctrl_c_during_the_parquet_write_keeps_the_finished_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = writer(tmp_path)
    # A CI job started in the background inherits SIGINT ignored: Ctrl+C must mean Ctrl+C here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupted_mid_write(run, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted_mid_write(run: store.RunWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    real = store.write_samples

    def interrupted_write(path: Path, data: np.ndarray) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C arrives mid-write
        real(path, data)

    monkeypatch.setattr(store, "write_samples", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        run.add_trial({"id": "0000-s-threads-r1", "scenario": "s"}, rows())
    doc = json.loads((run.path / "run.json").read_text())
    assert [t["id"] for t in doc["trials"]] == ["0000-s-threads-r1"]  # stored, then the interrupt
    assert (run.path / doc["trials"][0]["samples"]).is_file()
    stored = Trial("0000-s-threads-r1", "s", "threads", "ok", samples=doc["trials"][0]["samples"])
    assert store.load_samples(run.path, stored).shape == (1000, records.WIDTH)
    assert temps(run.path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_an_interrupted_atomic_write_leaves_no_temp_and_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), store.atomic_file(target) as fh:
        fh.write(b"half")
        raise KeyboardInterrupt
    assert target.read_text() == "old" and temps(tmp_path) == []


def _full_disk_after(monkeypatch: pytest.MonkeyPatch, calls: int, target: str) -> None:
    real = getattr(store, target)
    seen = {"n": 0}

    def maybe_full(*args: Any) -> Any:
        seen["n"] += 1
        if seen["n"] > calls:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(store, target, maybe_full)


def test_a_full_disk_mid_run_is_one_line_and_the_run_is_marked_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _full_disk_after(monkeypatch, 1, "write_samples")  # the second trial's samples do not fit
    result = cli.invoke(app, ["run", SMOKE, "-s", "sequential", "-r", "3", "--warmup", "0", "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("error: ") and "No space left" in result.output
    (run_dir,) = tmp_path.iterdir()
    doc = json.loads((run_dir / "run.json").read_text())
    assert doc["status"] == "incomplete" and len(doc["trials"]) == 1
    assert temps(run_dir) == []


def test_a_disk_too_full_for_run_json_still_marks_the_run_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No run.json fits any more: the one last written is marked in place (issue #28, item 3)."""
    _full_disk_after(monkeypatch, 2, "atomic_write")  # run.json written twice, then nothing fits
    result = cli.invoke(app, ["run", SMOKE, "-s", "sequential", "-r", "3", "--warmup", "0", "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "No space left" in result.output and "marked 'incomplete'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "incomplete"


def test_a_name_too_long_for_out_is_one_line(tmp_path: Path) -> None:
    result = cli.invoke(app, ["run", SMOKE, "-s", "sequential", "-r", "1", "-o", str(tmp_path / ("x" * 300))])
    assert result.exit_code == 2, result.output
    assert "File name too long" in result.output and result.output.strip().splitlines()[-1].startswith("error: ")
    long = str(tmp_path / ("x" * 300))
    for args in (["show", long], ["report", long], ["export", long], ["compare", long, long]):
        shown = cli.invoke(app, args)
        assert shown.exit_code == 2 and shown.output.startswith("error: "), (args[0], shown.output)


def test_a_name_too_long_for_an_output_is_one_line(tmp_path: Path) -> None:
    made = cli.invoke(app, ["run", SMOKE, "-s", "sequential", "-r", "1", "--warmup", "0", "-o", str(tmp_path / "r")])
    assert made.exit_code == 0, made.output
    (run,) = (tmp_path / "r").iterdir()
    long = str(tmp_path / ("x" * 300))
    for args in (
        ["report", str(run), "-o", long],
        ["plot", str(run), "-o", long + ".png"],
        ["export", str(run), "-o", long],
        ["baseline", "save", str(run), "b", "--results", long],
    ):
        result = cli.invoke(app, args)
        assert result.exit_code == 2 and "File name too long" in result.output, (args[0], result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_180_simultaneous_run_folders_are_all_made_and_distinct(tmp_path: Path) -> None:
    made: list[Path] = []
    errors: list[BaseException] = []
    start = threading.Barrier(180)

    def one() -> None:
        start.wait()
        try:
            made.append(store.new_run_dir(tmp_path))
        except BaseException as exc:  # every failure counts
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(180)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(made)) == 180
    assert all((p / "samples").is_dir() for p in made)


def test_ctrl_c_during_report_exits_130_with_a_message_and_no_half_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    made = cli.invoke(app, ["run", SMOKE, "-s", "sequential", "-r", "1", "--warmup", "0", "-o", str(out)])
    assert made.exit_code == 0, made.output
    (run_dir,) = out.iterdir()

    def interrupted(*args: Any, **kwargs: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "to_html", interrupted)
    result = cli.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 130 and "interrupted" in result.output, result.output
    assert temps(run_dir) == []
    for png in run_dir.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"), png
