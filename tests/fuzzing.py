"""``make fuzz``: hostile scenario files through ``queuebench run --dry-run``, and damaged results
folders through every command that reads one, in-process (typer's CliRunner) and a few as real
subprocesses. Counts tracebacks, hangs (a per-case alarm) and the peak memory of every process.

    python tests/fuzzing.py --scenarios 10000 --results 5000 --jobs 2

``tests/test_fuzz_slice.py`` runs a few hundred cases of each under pytest (``make test``).
Seeded: the same arguments give the same cases.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASE_SECONDS = 30
FIELDS = [
    "name", "description", "writers", "readers", "items_per_writer", "payload_bytes", "queue_maxsize",
    "writer_work", "reader_work", "repeats", "warmup", "timeout", "seed", "strategies", "faults",
]  # fmt: skip
WORK = ["kind", "ms", "dist", "jitter", "gil", "capacity", "overload", "colour"]
FAULTS = ["reader_raise", "reader_die", "reader_hang", "writer_die", "slow_spike", "hang_s", "seed"]
HUGE = [2**63, 2**64, -(2**63) - 1, 10**30, 9223372036854775807, 1e308, -1e308, 1e-308]


class Hang(Exception):
    """A case that ran past CASE_SECONDS."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- scenario files


def _scalar(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return str(rng.choice(HUGE)) if rng.random() < 0.7 else "nan"
    if kind == 1:
        return rng.choice(["true", "false", "inf", "-inf", "nan", "+nan"])
    if kind == 2:
        return json.dumps("".join(chr(rng.randrange(0, 0x250)) for _ in range(rng.randrange(0, 30))))
    if kind == 3:
        return json.dumps(rng.choice(["io", "cpu", "none", "service", "hold", "release", "exponential", "[/]", "x\ny"]))
    if kind == 4:
        return rng.choice(["1979-05-27T07:32:00Z", "07:32:00", "0x7fffffffffffffff", "0o777", "1_000", "'lit'"])
    if kind == 5:
        return f"{rng.uniform(-1e6, 1e6)!r}"
    if kind == 6:
        return json.dumps(rng.choice(["threads", "seed-pool", "asyncio", "test-hang", "../x", "a b"]))
    return str(rng.randrange(-5, 2000))


def _value(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth < 3 and r < 0.12:
        return "[" + ", ".join(_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))) + "]"
    if depth < 3 and r < 0.24:
        keys = rng.sample(WORK + FAULTS, rng.randrange(0, 4))
        return "{" + ", ".join(f"{k} = {_value(rng, depth + 1)}" for k in keys) + "}"
    if r < 0.26:
        n = rng.choice([50, 300, 1000, 5000])
        return "[" * n + "1" + "]" * n
    return _scalar(rng)


def _key(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return rng.choice(FIELDS)
    if r < 0.85:
        return rng.choice(["unknown_key", "Writers", "writers ", '"writers"', "reader_work.kind", "faults.reader_die"])
    if r < 0.92:
        return ".".join(rng.choice(["a", "b", "writer_work"]) for _ in range(rng.choice([2, 20, 200, 3000])))
    return json.dumps("".join(chr(rng.randrange(1, 0x80)) for _ in range(rng.randrange(1, 12))))


def scenario_text(rng: random.Random) -> str:
    """One hostile scenario file: random structure, wrong types, huge numbers, deep nesting,
    control characters, unknown keys; about one in five is near-valid."""
    if rng.random() < 0.2:  # near-valid: a real scenario with one or two fields made extreme
        fields = {"name": '"s"', "writers": "2", "readers": "1", "items_per_writer": "10"}
        for _ in range(rng.randrange(1, 3)):
            fields[rng.choice(FIELDS)] = _value(rng)
        return "[[scenario]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    out = []
    if rng.random() < 0.3:
        out.append("[defaults]")
        out += [f"{_key(rng)} = {_value(rng)}" for _ in range(rng.randrange(0, 4))]
    for _ in range(rng.randrange(0, 3)):
        out.append(rng.choice(["[[scenario]]", "[[scenario]]", "[scenario]", "scenario = [1]", "[[scenario.x]]"]))
        out += [f"{_key(rng)} = {_value(rng)}" for _ in range(rng.randrange(0, 8))]
        if rng.random() < 0.2:
            out.append(f"[scenario.{rng.choice(['reader_work', 'writer_work', 'faults', 'x'])}]")
            out += [f"{rng.choice(WORK + FAULTS)} = {_value(rng)}" for _ in range(rng.randrange(0, 4))]
    text = "\n".join(out) + "\n"
    if rng.random() < 0.05:
        text = text.replace("\n", rng.choice(["\r", "\x00", "\n\x1b[31m", "\u2028"]), rng.randrange(1, 4))
    if rng.random() < 0.01:
        text += "x = " + json.dumps("y" * rng.choice([10_000, 2_000_000])) + "\n"
    return text


# --------------------------------------------------------------------------- damaged results


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


def _special(path: Path, rng: random.Random, victim: Path) -> None:
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
            _special(run / "run.json", rng, victim)
            done.append("json-special")
        elif kind < 0.8 and samples:
            _parquet_damage(rng.choice(samples), rng)
            done.append("parquet")
        elif kind < 0.86 and samples:
            _special(rng.choice(samples), rng, victim)
            done.append("parquet-special")
        elif kind < 0.89:
            _special(run / rng.choice(["summary.csv", "samples", "baseline.json"]), rng, victim)
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


def commands(run: Path, out: Path, base: Path, traps: bool = False) -> list[list[str]]:
    """Every command that reads a results folder; with ``traps``, report also writes into the run."""
    return [
        ["show", str(run)],
        ["report", str(run)] if traps else ["report", str(run), "-o", str(out / "report")],
        ["plot", str(run), "-o", str(out / "plot.png")],
        ["compare", str(base), str(run), "--markdown", str(out / "cmp.md")],
        ["export", str(run), "-o", str(out / "export.json")],
        ["baseline", "save", str(run), "b", "--results", str(out), "--force", "--with-samples"],
    ]


class Runner:
    """typer's CliRunner, with the click command built once (typer rebuilds it on every invoke)."""

    def __init__(self) -> None:
        import typer.testing

        from harness.cli import app

        build = typer.testing._get_command
        command = build(app)
        typer.testing._get_command = lambda a: command if a is app else build(a)  # type: ignore[assignment]
        self.runner, self.app = typer.testing.CliRunner(), app

    def invoke(self, args: list[str]) -> Any:
        result = self.runner.invoke(self.app, args)
        release(result)
        return result


def release(result: Any) -> None:
    """Drop the tracebacks of a finished in-process command. CliRunner.invoke keeps
    ``sys.exc_info()`` in its frame, and the frames on a traceback reach back (``f_back``) to the
    caller's frame that holds the result: a reference cycle that keeps every frame of a failed
    command (a 40 MB run.json's bytes and its decoded text, say) until the cyclic collector runs,
    which counts objects, not bytes. In one fuzz worker such garbage took it from 240 to 700 MB
    over the six commands of one case. A real command is its own process; here each one must
    start from what the worker held before it. The result keeps its exception, message and exit
    code; the exceptions it was raised from go."""
    seen: set[int] = set()
    pending = [result.exception, *(result.exc_info or ())[1:2]]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseException) and id(exc) not in seen:
            seen.add(id(exc))
            traceback.clear_frames(exc.__traceback__)
            pending += [exc.__context__, exc.__cause__]
            exc.__traceback__ = exc.__context__ = exc.__cause__ = None  # (json's error keeps the text)
    if result.exc_info:
        result.exc_info = (*result.exc_info[:2], None)


# --------------------------------------------------------------------------- checking


def _verdict(result: Any) -> str:
    """ok, or what went wrong with one in-process command."""
    exc = result.exception
    if isinstance(exc, Hang):
        return "hang"
    if exc is not None and not isinstance(exc, SystemExit):
        return f"traceback: {type(exc).__name__}: {str(exc)[:200]}"
    if result.exit_code not in (0, 1, 2, 3, 130):  # 3: compare could not judge (too few repeats)
        return f"exit {result.exit_code}"
    if result.exit_code == 2:
        lines = result.output.strip().splitlines()
        if not lines or not lines[-1].startswith("error: ") or len(lines) > 2:
            return f"not one line: {result.output[:300]!r}"
    return "ok"


def _fast_savefig() -> None:
    """Figures are built in full (axes, limits, labels: where bad values raise) but encoded by a
    stub in most cases: PNG encoding is the slow part and reads no input."""
    from matplotlib.figure import Figure

    real = Figure.savefig
    counter = {"n": 0}

    def savefig(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
        counter["n"] += 1
        if counter["n"] % 40 == 0:
            real(self, fname, *args, **kwargs)
            return
        fname.write(b"\x89PNG\r\n\x1a\nstub")

    Figure.savefig = savefig  # type: ignore[method-assign]


#: Figures are built in full for one results case in this many; the others skip building them
#: (the data behind them, samples included, is still read: report's pool-busy column reads every
#: trial's samples). Building a figure takes a second or more on a busy 2-core machine.
FIGURE_EVERY = 16


def _light_figures() -> None:
    from matplotlib.figure import Figure

    from harness import plot_runs, report

    real_draw, real_compare = report.draw_figures, plot_runs.compare_figure
    seen = {"report": 0, "plot": 0}

    def draw(doc: Any, run_dir: Path, out: Path, *rest: Any) -> dict[str, Path]:
        seen["report"] += 1
        return real_draw(doc, run_dir, out, *rest) if seen["report"] % FIGURE_EVERY == 0 else {}

    def compare_figure(*args: Any) -> Figure:
        seen["plot"] += 1
        return real_compare(*args) if seen["plot"] % FIGURE_EVERY == 0 else Figure()

    report.draw_figures = draw  # type: ignore[assignment]
    plot_runs.compare_figure = compare_figure  # type: ignore[assignment]


def _scenario_chunk(args: tuple[int, int, int, str]) -> dict[str, Any]:
    seed, start, count, workdir = args
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    folder = Path(tempfile.mkdtemp(dir=workdir, prefix="sc-"))
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        file = folder / f"case-{i}.toml"
        file.write_text(scenario_text(rng), encoding="utf-8", errors="surrogatepass")
        with deadline(CASE_SECONDS):
            try:
                result = runner.invoke(["run", str(file), "--dry-run", "-o", str(folder / "never")])
            except Hang:
                result = None
        peaks.mark(f"scenario case {i}")
        verdict = "hang" if result is None else _verdict(result)
        counts["files"] += 1
        counts["valid" if result is not None and result.exit_code == 0 else "refused"] += 1
        if verdict != "ok":
            counts["hangs" if verdict == "hang" else "tracebacks"] += 1
            problems.append(f"scenario case {i}: {verdict}")
        file.unlink()
    counts["wrote_runs"] += (folder / "never").exists()
    shutil.rmtree(folder, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}


def _results_chunk(args: tuple[int, int, int, str, list[str]]) -> dict[str, Any]:
    seed, start, count, workdir, bases = args
    _fast_savefig()
    _light_figures()
    os.fsync = lambda fd: None  # durability is not under test here, and fsync is slow on shared disks
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    docs = [json.loads((Path(b) / "run.json").read_text()) for b in bases]
    for i in range(start, start + count):
        rng = random.Random(seed * 7_000_003 + i)
        which = rng.randrange(len(bases))
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="case-")) / "a" / "b" / "box"
        run, out, victim = box / "run", box / "out", box / "victim"
        shutil.copytree(bases[which], run)
        out.mkdir()
        victim.write_text("precious")
        label = damage(run, docs[which], rng, victim, out)
        peaks.mark(f"results case {i} ({label}): damaging it")
        before = sorted(p.name for p in box.iterdir())
        for args_ in commands(run, out, Path(bases[which]), traps="traps" in label):
            with deadline(CASE_SECONDS):
                try:
                    result = runner.invoke(args_)
                except Hang:
                    result = None
            peaks.mark(f"results case {i} ({label}) {args_[0]}")
            verdict = "hang" if result is None else _verdict(result)
            counts["commands"] += 1
            counts[f"exit {result.exit_code if result is not None else 'hang'}"] += 1
            if verdict != "ok":
                counts["hangs" if verdict == "hang" else "tracebacks"] += 1
                problems.append(f"results case {i} ({label}) {args_[0]}: {verdict}")
        counts["folders"] += 1
        if victim.read_text() != "precious" or sorted(p.name for p in box.iterdir()) != before:
            counts["wrote_outside"] += 1
            problems.append(f"results case {i} ({label}): wrote outside its folders")
        shutil.rmtree(box.parent.parent.parent, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}


def make_bases(workdir: Path, kinds: tuple[str, ...] = ("plain", "sweep", "stress")) -> list[str]:
    """Three small real runs: a plain one, a sweep and a fault run (samples, sweep, faults)."""
    from typer.testing import CliRunner

    from harness.cli import app

    smoke = str(ROOT / "scenarios" / "smoke.toml")
    plans = {
        "plain": ["run", smoke, "-s", "threads", "-s", "sequential", "-r", "2", "--warmup", "1"],
        "sweep": ["sweep", smoke, "--vary", "readers=1..2", "-s", "threads", "-r", "1", "--warmup", "0"],
        "stress": ["stress", "-s", "threads", "-r", "1", "--timeout", "5"],
    }
    bases = []
    for name, args in plans.items():
        if name not in kinds:
            continue
        out = workdir / f"base-{name}"
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code in (0, 1), (name, result.output)
        (run,) = out.iterdir()
        bases.append(str(run))
    return bases


def own_peak_kb() -> int:
    """This process's own peak RSS (KiB). Linux's VmHWM belongs to this address space; ru_maxrss
    would carry the high-water mark of whatever this process was forked or exec'd from (pytest,
    at 500 MB by the end of a suite): the fuzz must not be charged with its runner's memory."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class Peaks:
    """A worker's peak memory, split by command: ``mark`` reads this process's high-water mark
    since the last mark, then resets it (Linux: ``clear_refs``), so each command is charged
    with its own peak. ``worst`` names the command with the highest peak and what the worker
    held just before it (its footprint so far: interpreter, pandas, pyarrow, matplotlib...)."""

    def __init__(self) -> None:
        self.peak_kb = self.worst_kb = self.held_kb = 0
        self.worst = ""
        self.mark("start")

    def mark(self, label: str) -> int:
        kb = own_peak_kb()
        self.peak_kb = max(self.peak_kb, kb)
        if kb > self.worst_kb:
            self.worst_kb, self.worst = kb, f"{label} (from {self.held_kb // 1024} MB)"
        with suppress(OSError), open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # VmHWM := VmRSS (without it, marks only ever see the whole run's peak)
        self.held_kb = own_peak_kb()
        return kb

    def report(self) -> dict[str, Any]:
        self.mark("end")
        return {"peak_kb": self.peak_kb, "worst": f"{self.worst_kb // 1024} MB in {self.worst}"}


def _run_sampled(cmd: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``cmd``; its result and its peak RSS (KiB), sampled from outside every 10 ms."""
    import psutil

    peak = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) as proc:
        deadline = time.monotonic() + timeout
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.communicate()
                raise subprocess.TimeoutExpired(cmd, timeout)
            with suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss // 1024)
            time.sleep(0.01)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak


def subprocess_cases(workdir: Path, bases: list[str], n: int, seed: int) -> Counter[str]:
    """A few cases as real processes: the installed entry point, its own exit codes, a FIFO."""
    counts: Counter[str] = Counter()
    exe = [sys.executable, "-m", "harness.cli"]
    for i in range(n):
        rng = random.Random(seed + i)
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="proc-"))
        run, out, victim = box / "run", box / "out", box / "victim"
        shutil.copytree(rng.choice(bases), run)
        out.mkdir()
        victim.write_text("precious")
        if i % 3 == 0:
            _special(run / "run.json", rng, victim)
        else:
            damage(run, json.loads((run / "run.json").read_text()), rng, victim, out)
        file = box / "s.toml"
        if i % 4 == 0:
            os.mkfifo(file)
        else:
            file.write_text(scenario_text(rng), encoding="utf-8", errors="surrogatepass")
        for args in [["run", str(file), "--dry-run"], ["show", str(run)], ["report", str(run), "-o", str(out / "r")]]:
            try:
                done, peak = _run_sampled([*exe, *args], timeout=60)
                counts["processes"] += 1
                counts["peak_process_kb"] = max(counts["peak_process_kb"], peak)
                if "Traceback" in done.stderr or done.returncode not in (0, 1, 2, 3):
                    counts["tracebacks"] += 1
                    print(f"subprocess {args[0]} case {i}: rc {done.returncode}: {done.stderr[-300:]}")
            except subprocess.TimeoutExpired:
                counts["hangs"] += 1
        if victim.read_text() != "precious":
            counts["wrote_outside"] += 1
        shutil.rmtree(box, ignore_errors=True)
    return counts


def fuzz(
    n_scenarios: int,
    n_results: int,
    jobs: int,
    seed: int,
    n_procs: int = 6,
    root: Path | None = None,
    kinds: tuple[str, ...] = ("plain", "sweep", "stress"),
) -> dict[str, Any]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="queuebench-fuzz-", dir=root))
    total: Counter[str] = Counter()
    problems: list[str] = []
    peak_kb, worst = 0, ""
    try:
        bases = make_bases(workdir, kinds)
        per_task = {"scenarios": 250, "results": 50}
        tasks: list[tuple[Callable[[Any], dict[str, Any]], Any]] = [
            (_results_chunk, (seed, s, min(per_task["results"], n_results - s), str(workdir), bases))
            for s in range(0, n_results, per_task["results"])
        ] + [
            (_scenario_chunk, (seed, s, min(per_task["scenarios"], n_scenarios - s), str(workdir)))
            for s in range(0, n_scenarios, per_task["scenarios"])
        ]
        # Fresh workers every round (memory that builds up over thousands of in-process commands
        # goes with them); not max_tasks_per_child, which can stall the pool on Python 3.11.
        done_tasks, per_round = 0, jobs * 8
        for lo in range(0, len(tasks), per_round):
            # spawn: a fresh interpreter per worker, so its peak is its own, not the driver's pages.
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(fn, arg) for fn, arg in tasks[lo : lo + per_round]]
                for f in futures:
                    done = f.result()
                    total.update(done["counts"])
                    problems += done["problems"]
                    if done["peak_kb"] > peak_kb:
                        peak_kb, worst = done["peak_kb"], done["worst"]
                    done_tasks += 1
                    if done_tasks % 10 == 0 or done_tasks == len(tasks):
                        print(f"  {done_tasks}/{len(tasks)} tasks, {time.monotonic() - started:.0f} s", flush=True)
        total["peak_worker_mb"] = peak_kb // 1024
        total.update(subprocess_cases(workdir, bases, n_procs, seed))
        total["peak_children_mb"] = total.pop("peak_process_kb", 0) // 1024
        total["peak_main_mb"] = own_peak_kb() // 1024  # the driver: make fuzz's own process (in pytest: pytest)
        peak_kb = max(peak_kb, 1024 * total["peak_children_mb"])
        escaped = [p for p in workdir.parent.glob("ESCAPED*")] + list(workdir.rglob("ESCAPED*"))
        total["escaped_files"] += len(escaped)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "counts": total, "problems": problems, "peak_mb": peak_kb / 1024, "worst": worst,
        "seconds": time.monotonic() - started,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--results", type=int, default=5_000)
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    found = fuzz(args.scenarios, args.results, args.jobs, args.seed)
    c = found["counts"]
    for line in found["problems"][:50]:
        print(line)
    print(
        f"scenario files: {c['files']:,} ({c['valid']:,} valid, {c['refused']:,} refused in one line) · "
        f"results folders: {c['folders']:,} x 6 commands = {c['commands']:,} "
        f"(exit 0: {c['exit 0']:,}, 1: {c['exit 1']:,}, 2: {c['exit 2']:,}) · subprocesses: {c['processes']:,}"
    )
    bad = c["tracebacks"] + c["hangs"] + c["wrote_outside"] + c["escaped_files"] + c["wrote_runs"]
    peak = max(found["peak_mb"], c["peak_main_mb"])
    print(
        f"tracebacks: {c['tracebacks']} · hangs: {c['hangs']} · wrote outside: {c['wrote_outside']} · "
        f"escaped files: {c['escaped_files']} · peak RSS of any process: {peak:.0f} MB "
        f"(fuzz workers {c['peak_worker_mb']}, driver {c['peak_main_mb']}, its children {c['peak_children_mb']}) · "
        f"{found['seconds']:.0f} s"
    )
    print(f"the fuzz workers' highest command: {found['worst']}")
    return 1 if bad or peak > 500 else 0


if __name__ == "__main__":
    sys.exit(main())
