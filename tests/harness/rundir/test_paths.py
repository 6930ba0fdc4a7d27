"""Output paths and disks (issue #28, item 3): ``--out``, ``baseline save``'s ``--results``, the
``-o`` of ``plot`` and ``export`` and ``--markdown`` each give one line and exit 2 for an
over-long path, an unwritable place and a full disk, before any work; a disk that fills during a
run leaves it ``incomplete``. A read-only place and a real full disk need a small tmpfs (root
can mount one); without it those cases are skipped."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import UnwritablePath
from harness.rundir import paths
from tests.helpers import ROOT, make_doc, write_run

SMOKE = str(ROOT / "scenarios" / "smoke.toml")
cli = CliRunner()


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``where`` (root only), unmounted after; else the test is skipped."""
    where.mkdir(parents=True, exist_ok=True)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def bad_places(tmp_path: Path) -> dict[str, Path]:
    """Each kind of place nothing can be written, as a folder path (a file goes inside it)."""
    (tmp_path / "a-file").write_text("x")
    deep = tmp_path.joinpath(*["d" * 200] * 22)  # 4,400 bytes: over PATH_MAX, every name short enough
    places = {
        "a name too long": tmp_path / ("x" * 300),
        "a path too long": deep,
        "a file in the way": tmp_path / "a-file",
        "under a file": tmp_path / "a-file" / "sub",
    }
    if Path("/proc/self").is_dir():
        places["/proc"] = Path("/proc/queuebench-test")
    return places


def one_line(result: object) -> str:
    output = getattr(result, "output", "")
    assert getattr(result, "exit_code", None) == 2, output
    exc = getattr(result, "exception", None)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in output, output
    return lines[0]


@pytest.fixture(scope="module")
def a_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(
        tmp_path_factory.mktemp("runs") / "20260101T000000Z-ci", make_doc({("s", "threads"): [10.0, 11.0, 12.0]})
    )


def commands(run: Path, place: Path) -> dict[str, list[str]]:
    """Every command and option that writes where it is told, pointed at ``place``."""
    return {
        "run --out": ["run", SMOKE, "-s", "sequential", "-r", "1", "--warmup", "0", "--out", str(place)],
        "sweep --out": ["sweep", SMOKE, "--vary", "readers=1..2", "-s", "sequential", "--out", str(place)],
        "stress --out": ["stress", "-s", "sequential", "--out", str(place)],
        "report --out": ["report", str(run), "--out", str(place)],
        "plot -o": ["plot", str(run), "-o", str(place / "f.png")],
        "export -o": ["export", str(run), "-o", str(place / "x.json")],
        "baseline save": ["baseline", "save", str(run), "nm", "--results", str(place)],
        "compare --markdown": ["compare", str(run), str(run), "--markdown", str(place / "x.md")],
    }


@pytest.mark.parametrize("kind", ["a name too long", "a path too long", "a file in the way", "under a file", "/proc"])
def test_every_output_refuses_a_bad_place_in_one_line_before_any_work(a_run: Path, tmp_path: Path, kind: str) -> None:
    places = bad_places(tmp_path)
    if kind not in places:
        pytest.skip(f"no {kind} here")
    for name, args in commands(a_run, places[kind]).items():
        line = one_line(cli.invoke(app, args))
        assert "worker" not in line, (name, line)  # refused before probing, not after
    assert not list(tmp_path.rglob(".queuebench-probe-*")), "the probe folder is removed"


def test_the_reason_is_said(tmp_path: Path) -> None:
    places = bad_places(tmp_path)
    expect = {
        "a name too long": "File name too long (a name of 300 bytes; at most",
        "a path too long": "File name too long (",
        "a file in the way": "is not a directory",
        "under a file": "a-file is not a directory",
        "/proc": "cannot write in /proc",
    }
    for kind, place in places.items():
        with pytest.raises(UnwritablePath, match=r"^--out ") as caught:
            paths.writable_dir(place, "--out", room=paths.RUN_ROOM, needs=paths.RUN_NEEDS)
        assert expect[kind] in str(caught.value), (kind, str(caught.value))
        assert len(str(caught.value)) < 400 and "\n" not in str(caught.value)


def test_room_below_the_path_counts(tmp_path: Path) -> None:
    """A path that fits, but not with the run folder and its samples below it."""
    limit = os.pathconf(tmp_path, "PC_PATH_MAX")
    left = limit - len(os.fsencode(tmp_path)) - 100
    near = tmp_path.joinpath(*["n" * 99] * (left // 100))
    paths.writable_dir(near, "--out")
    with pytest.raises(UnwritablePath, match="more with what is written in it"):
        paths.writable_dir(near, "--out", room=paths.RUN_ROOM)


def test_a_file_output_refuses_devices_folders_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(UnwritablePath, match="is a directory; give a file name"):
        paths.writable_file(tmp_path, "-o")
    if Path("/dev/null").exists():
        with pytest.raises(UnwritablePath, match="not a regular file"):
            paths.writable_file(Path("/dev/null"), "-o")
    with pytest.raises(UnwritablePath, match="does not exist"):
        paths.writable_file(tmp_path / "no" / "x.json", "--output")
    assert paths.writable_file(tmp_path / "no" / "x.png", "-o", make_parents=True) == tmp_path / "no" / "x.png"
    assert not (tmp_path / "no").exists(), "checking makes nothing"


def test_a_disk_without_room_to_start_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.statvfs(tmp_path)

    class Full:
        f_bavail, f_frsize = 3, real.f_frsize

    monkeypatch.setattr(paths.os, "statvfs", lambda p: Full)
    with pytest.raises(UnwritablePath, match=r"No space left on device \(\d+ KiB free, 64 KiB needed\)"):
        paths.writable_dir(tmp_path / "r", "--out", needs=paths.RUN_NEEDS)


def test_the_status_is_padded_so_a_full_disk_can_still_mark_it(tmp_path: Path) -> None:
    from harness.rundir import store

    writer = store.RunWriter(store.new_run_dir(tmp_path), {"host": "x"}, {}, {})
    raw = (writer.path / "run.json").read_bytes()
    assert b'\n "status": "running"   ,' in raw and json.loads(raw)["status"] == "running"
    assert writer._mark_in_place("incomplete")
    assert json.loads((writer.path / "run.json").read_bytes())["status"] == "incomplete"
    assert len((writer.path / "run.json").read_bytes()) == len(raw)


def test_a_read_only_place_is_one_line(a_run: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        for name, args in commands(a_run, ro / "x").items():
            assert "Read-only file system" in one_line(cli.invoke(app, args)), name


def test_a_full_disk_is_refused_up_front(a_run: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=200k") as full:
        with contextlib.suppress(OSError), open(full / "filler", "wb") as fh:
            fh.write(b"\0" * 300_000)
        line = one_line(cli.invoke(app, commands(a_run, full / "r")["run --out"]))
        assert "No space left on device" in line
        for name in ("plot -o", "export -o", "report --out", "baseline save"):
            line = one_line(cli.invoke(app, commands(a_run, full / "r")[name]))
            assert "No space left on device" in line, name


@pytest.mark.slow
def test_a_disk_that_fills_during_a_run_leaves_it_incomplete(tmp_path: Path) -> None:
    """A real process on a 200 KiB tmpfs: run.json (a long description makes it ~40 KiB, written
    twice on each rewrite) fills the disk by the third trial; exit 2, one line, ``incomplete``."""
    scenario = tmp_path / "fat.toml"
    text = Path(SMOKE).read_text().replace('description = "', f'description = "{"x" * 40_000} ')
    scenario.write_text(text)
    with tmpfs(tmp_path / "full", "size=200k") as full:
        (full / "filler").write_bytes(b"\0" * 96 * 1024)  # leaves ~100 KiB: the pre-flight passes
        args = ["run", str(scenario), "-s", "sequential", "-r", "8", "--warmup", "0", "--out", str(full / "r")]
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.count("\n") == 1 and "No space left on device" in done.stderr, done.stderr
        assert "marked 'incomplete'" in done.stderr
        (run_dir,) = (full / "r").iterdir()
        doc = json.loads((run_dir / "run.json").read_text())
        assert doc["status"] == "incomplete" and 0 < len(doc["trials"]) < 8
        assert not [p for p in run_dir.rglob("*.tmp")], "no temporary file is left"
