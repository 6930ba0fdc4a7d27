"""Over-long and unwritable output paths (issue #28, item 3) through every command that writes
where it is told: ``run``/``sweep``/``stress --out``, ``report --out``, ``plot -o``,
``export -o``, ``compare --markdown`` and ``--json``, ``baseline save --results``.

The places: a name over 255 bytes (ASCII, multi-byte, bytes that are no UTF-8), a path over
PATH_MAX, ``/proc`` and ``/sys``, a file, a FIFO or a device where a folder is wanted, a folder
below a file, and, where this process may mount (root), a read-only tmpfs and a full one. Each
command must exit 2 in one line before any work: no trial runs, nothing is left in its box (no
probe folder, no run folder), nothing outside it changes. Seeded, like every family.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.fuzz import ROOT
from tests.fuzz.in_process import CASE_SECONDS, Hang, Runner, deadline, verdict_of
from tests.fuzz.peaks import Peaks

SMOKE = str(ROOT / "scenarios" / "smoke.toml")


def _name(rng: random.Random, over: int) -> str:
    """One path name of more than ``over`` bytes: ASCII, multi-byte, or undecodable bytes."""
    kind = rng.choice(["ascii", "wide", "bytes"])
    if kind == "wide":  # 3 bytes a character: fewer characters than bytes
        return "".join(rng.choice("ÿ漢字€ス") for _ in range(over // 2 + rng.randrange(1, 400)))
    if kind == "bytes":  # what a shell passes for bytes that are no UTF-8 (surrogateescape)
        return os.fsdecode(bytes(rng.randrange(0x80, 0x100) for _ in range(over + rng.randrange(1, 300))))
    return "".join(rng.choice("abcXYZ09._- ") for _ in range(over + rng.randrange(1, 2000)))


def places(box: Path, rng: random.Random, mounts: dict[str, Path]) -> dict[str, Path]:
    """Every bad place, as a folder path (file outputs go inside it)."""
    (box / "file").write_text("x")
    fifo = box / "fifo"
    os.mkfifo(fifo)
    depth = 4200 // 120 + rng.randrange(1, 10)
    found = {
        "name too long": box / _name(rng, 255),
        "path too long": box.joinpath(*("p" * rng.randrange(100, 250) for _ in range(depth))),
        "file": box / "file",
        "below a file": box / "file" / "sub" / "deeper",
        "fifo": fifo,
        "device": Path("/dev/null"),
        "below a device": Path("/dev/null/sub"),
        "proc": Path("/proc") / f"queuebench-{rng.randrange(10**6)}",
        "sys": Path("/sys") / f"queuebench-{rng.randrange(10**6)}",
    }
    found.update({kind: where / "sub" for kind, where in mounts.items()})
    return {k: v for k, v in found.items() if not k.startswith(("proc", "sys")) or v.parent.is_dir()}


def commands(run: Path, place: Path, file: Callable[[str], str]) -> list[list[str]]:
    """Each command pointed at ``place`` (``file(name)``: where a file output goes)."""
    quick = ["-s", "sequential", "-r", "1", "--warmup", "0"]
    return [
        ["run", SMOKE, *quick, "--out", str(place)],
        ["sweep", SMOKE, "--vary", "readers=1..2", *quick, "--out", str(place)],
        ["stress", "-s", "sequential", "-r", "1", "--out", str(place)],
        ["report", str(run), "--out", str(place)],
        ["plot", str(run), "-o", file("f.png")],
        ["export", str(run), "-o", file("x.json")],
        ["compare", str(run), str(run), "--markdown", file("c.md"), "--json", file("c.json")],
        ["baseline", "save", str(run), "b", "--results", str(place)],
    ]


@contextlib.contextmanager
def tmpfs_places(workdir: Path) -> Iterator[dict[str, Path]]:
    """A read-only tmpfs and a full one, where this process may mount them (root); else none."""
    made: dict[str, Path] = {}
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount"):
        for kind, options in (("read-only", "ro,size=64k"), ("full disk", "size=128k")):
            where = Path(tempfile.mkdtemp(dir=workdir, prefix=f"mnt-{kind.split()[0]}-"))
            if subprocess.run(
                ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
            ).returncode:
                break
            made[kind] = where
        if "full disk" in made:
            with contextlib.suppress(OSError), open(made["full disk"] / "filler", "wb") as fh:
                fh.write(b"\0" * 200_000)
    try:
        yield made
    finally:
        for where in made.values():
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def paths_chunk(args: tuple[int, int, int, str, list[str]]) -> dict[str, Any]:
    seed, start, count, workdir, bases = args
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    with tmpfs_places(Path(workdir)) as mounts:
        for i in range(start, start + count):
            rng = random.Random(seed * 5_000_011 + i)
            box = Path(tempfile.mkdtemp(dir=workdir, prefix="path-"))
            run = box / "run"
            shutil.copytree(rng.choice(bases), run)
            for kind, place in places(box, rng, mounts).items():
                before = _snapshot(box, mounts)
                for args_ in commands(run, place, _file_in(kind, place)):
                    with deadline(CASE_SECONDS):
                        try:
                            result = runner.invoke(args_)
                        except Hang:
                            result = None
                    peaks.mark(f"paths case {i} ({kind}) {args_[0]}")
                    verdict = "hang" if result is None else verdict_of(result)
                    counts["path_commands"] += 1
                    counts[f"paths exit {result.exit_code if result is not None else 'hang'}"] += 1
                    if verdict != "ok":
                        counts["hangs" if verdict == "hang" else "tracebacks"] += 1
                        problems.append(f"paths case {i} ({kind}) {args_[0]}: {verdict}")
                    elif result is not None and (result.exit_code != 2 or len(result.output.strip().splitlines()) != 1):
                        counts["path_misjudged"] += 1
                        problems.append(f"paths case {i} ({kind}) {' '.join(args_[:2])}: {result.output[-240:]!r}")
                if _snapshot(box, mounts) != before:
                    counts["wrote_outside"] += 1
                    problems.append(f"paths case {i} ({kind}): left something behind")
                counts["path_places"] += 1
            counts["path_cases"] += 1
            shutil.rmtree(box, ignore_errors=True)
    counts["path_mounts"] = max(counts["path_mounts"], len(mounts))
    return {"counts": counts, "problems": problems[:20], **peaks.report()}


def _file_in(kind: str, place: Path) -> Callable[[str], str]:
    """Where a file output goes: the device or FIFO itself, else a name inside the place."""
    if kind in ("device", "fifo"):
        return lambda name: str(place)
    return lambda name: str(place / name)


def _snapshot(box: Path, mounts: dict[str, Path]) -> list[str]:
    """Every name in the box and the mounts (a probe folder, a run folder, a half-written file)."""
    found = []
    for top in (box, *mounts.values()):
        for path in top.rglob("*"):
            with contextlib.suppress(OSError):
                found.append(f"{path}:{path.lstat().st_size if path.is_file() else ''}")
    return sorted(found)
