"""Damaged results folders: run.json with values deleted, retyped or made extreme, cut or packed
bytes, broken Parquet samples, special files (FIFOs, links, sparse files) where files were, and
output traps (links where a command's outputs go)."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:6]):
            yield from _paths(v, (*prefix, i))


DEEP = "\x00deep\x00"
MUTANTS: list[Callable[[random.Random], Any]] = [
    lambda r: None,
    lambda r: float("nan"),
    lambda r: float("inf"),
    lambda r: -float("inf"),
    lambda r: r.choice([-1, 0, -(2**63), 2**63, 10**30, 1e308]),
    lambda r: r.choice(
        ["", "[/]", "[bold]x[/bold", "x/../../../ESCAPED", "../../ESCAPED", "a\nb", "\x1b[2J", "é" * 50]
    ),
    lambda r: r.choice([True, False]),
    lambda r: r.choice([[], [1, 2], ["a"], [None]]),
    lambda r: r.choice([{}, {"a": 1}, {"kind": "io"}]),
    lambda r: "x" * r.choice([1000, 200_000]),
    lambda r: DEEP,
    lambda r: "io",
]
TARGETS = [
    ("scenarios", "*", "definition"), ("started_at",), ("options",), ("sweep",), ("status",),
    ("scenarios", "*", "definition", "reader_work"), ("trials", "*", "metrics", "pool_size"),
    ("trials", "*", "metrics", "throughput"), ("trials", "*", "strategy"), ("trials", "*", "scenario"),
    ("trials", "*", "samples"), ("fingerprint", "python"), ("trials", "*", "faults"), ("trials", "*", "status"),
]  # fmt: skip


def _resolve(doc: Any, path: tuple[Any, ...], rng: random.Random) -> tuple[Any, ...] | None:
    node, out = doc, []
    for part in path:
        if part == "*":
            keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
            if not keys:
                return None
            part = rng.choice(keys)
        elif not isinstance(node, dict) or part not in node:
            return (*out, part) if isinstance(node, dict) else None
        out.append(part)
        node = node[part]
    return tuple(out)


def mutate_json(doc: dict[str, Any], rng: random.Random) -> str:
    """The document with one to three values deleted, retyped or made extreme, as JSON text."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        path = _resolve(doc, rng.choice(TARGETS), rng) if rng.random() < 0.4 else rng.choice(list(_paths(doc)))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if rng.random() < 0.2:
            if isinstance(parent, dict):
                parent.pop(last, None)
            elif isinstance(parent, list) and last < len(parent):
                parent.pop(last)
            continue
        if isinstance(parent, list) and last >= len(parent):
            continue
        if isinstance(parent, dict) and rng.random() < 0.1:  # rename the key instead
            parent[rng.choice(["[/]", "../ESCAPED", "x/../../ESCAPED", ""])] = parent.pop(last, None)
            continue
        parent[last] = rng.choice(MUTANTS)(rng)
    text = json.dumps(doc, allow_nan=True)
    return text.replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000)


def _parquet_damage(file: Path, rng: random.Random) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    how = rng.randrange(9)
    try:
        table = pq.read_table(file)
    except pa.ArrowException:  # an earlier step left something else here: damage its bytes
        how, table = 6 + how % 3, None
    n = table.num_rows if table is not None else 0
    file.unlink()
    if how == 0:
        table = table.set_column(0, table.column_names[0], pa.array([None] * n, pa.int64()))
    elif how == 1:
        table = table.drop_columns([rng.choice(table.column_names)])
    elif how == 2:
        table = table.set_column(2, table.column_names[2], pa.array(["x"] * n))
    elif how == 3:
        table = table.set_column(3, table.column_names[3], pa.array([1.5] * n))
    elif how == 4:
        table = table.slice(0, 0)
    elif how == 5:
        table = table.set_column(4, table.column_names[4], pa.array([rng.choice([-(2**63), 2**63 - 1, 0])] * n))
    if how <= 5:
        pq.write_table(table, file)
    elif how == 6:
        file.write_bytes(os.urandom(rng.randrange(0, 4000)))
    elif how == 7:
        file.write_bytes(b"PAR1" + os.urandom(100) + b"PAR1")
    else:
        file.write_bytes(b"")


def _damage_bytes(file: Path, rng: random.Random) -> str:
    """Cut the file, replace it by noise, put a BOM before it, or pack it with tiny JSON values
    (objects many times its size, under the byte limit). Streamed: an earlier step may have
    made it a 100 MB sparse file, which the fuzzer must not read whole (its own peak counts)."""
    cut = rng.randrange(max(file.stat().st_size, 1))
    how = rng.randrange(4)
    if how == 0:
        os.truncate(file, cut)
    elif how == 1:
        file.write_bytes(os.urandom(cut % 500))
    elif how == 2:
        with open(file, "rb") as src, open(file.with_name(".bom"), "wb") as dst:
            dst.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(src, dst, 1 << 20)
        file.with_name(".bom").replace(file)
    else:
        unit = rng.choice([b"[],", b"{},", b"0,", b'"",', b"1.5,"])
        file.write_bytes(b'{"tool": "queuebench", "x": [' + unit * rng.choice([1_000, 6_000_000]) + b"0]}")
        return "json-packed"
    return "json-bytes"


def make_special(path: Path, rng: random.Random, victim: Path) -> None:
    """Put something that is not a regular file where ``path`` was."""
    _remove(path)
    how = rng.randrange(6)
    if how == 0:
        path.mkdir()
    elif how == 1:
        os.mkfifo(path)
    elif how == 2:
        path.symlink_to("/dev/zero")
    elif how == 3:
        path.symlink_to(victim)
    elif how == 4:
        path.symlink_to(path.parent / "nowhere")
    else:
        with open(path, "wb") as fh:  # sparse: 100 MB that costs nothing on disk
            fh.truncate(100 * 2**20)


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def damage(run: Path, base_doc: dict[str, Any], rng: random.Random, victim: Path, out: Path) -> str:
    """Damage a copy of a run folder in one or two ways; returns a label of what was done. (The
    damage itself only reads regular files: an earlier step may have left a FIFO.)"""
    done = []
    for _ in range(rng.choice([1, 1, 2])):
        kind = rng.random()
        samples_dir = run / "samples"
        samples = [p for p in sorted(samples_dir.glob("*.parquet")) if _regular(p)] if _regular_dir(samples_dir) else []
        if kind < 0.55:
            if not _regular(run / "run.json"):
                _remove(run / "run.json")
            (run / "run.json").write_text(mutate_json(json.loads(json.dumps(base_doc)), rng))
            done.append("json")
        elif kind < 0.62 and _regular(run / "run.json"):
            done.append(_damage_bytes(run / "run.json", rng))
        elif kind < 0.67:
            make_special(run / "run.json", rng, victim)
            done.append("json-special")
        elif kind < 0.8 and samples:
            _parquet_damage(rng.choice(samples), rng)
            done.append("parquet")
        elif kind < 0.86 and samples:
            make_special(rng.choice(samples), rng, victim)
            done.append("parquet-special")
        elif kind < 0.89:
            make_special(run / rng.choice(["summary.csv", "samples", "baseline.json"]), rng, victim)
            done.append("folder-special")
        else:  # output traps: links where outputs and their old temp names go
            for name in rng.sample(["throughput.png", ".report.md.tmp", "report.md", "report.html", "sweep.png"], 2):
                target = run / name
                if not target.exists() and not target.is_symlink():
                    target.symlink_to(victim)
            (out / "report").mkdir(parents=True, exist_ok=True)
            for name in ("report.md", "efficiency.png", ".report.html.tmp"):
                if not (out / "report" / name).is_symlink():
                    (out / "report" / name).symlink_to(victim)
            if not (out / "export.json").is_symlink():
                (out / "export.json").symlink_to(victim)
            done.append("traps")
    return "+".join(done)


def _regular_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove(path: Path) -> None:
    if _regular_dir(path):
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
