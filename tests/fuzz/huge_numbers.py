"""Huge, NaN and infinite numbers in every metric field (issue #28, item 2): a real run's run.json
with one to three metric values (in one trial, or in every trial) replaced by an extreme number,
as JSON text: 1e308, 1e309 (read as inf), the NaN and Infinity literals JSON does not have, whole
numbers past 64 bits, and values just inside and just past each unit's physical range.

Each case runs every command that reads a run (show, report, plot, compare, export in each format,
baseline save). Past the range, every command must refuse in one line (exit 2): the schema is the
one place numbers are bounded. Inside it, none may refuse or crash. Seeded, like every family.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from harness.rundir import schema
from tests.fuzz.cases import commands
from tests.fuzz.in_process import CASE_SECONDS, Hang, Runner, deadline, fast_savefig, light_figures, verdict_of
from tests.fuzz.peaks import Peaks

#: JSON texts no metric may hold: past every range, infinite once read, or no JSON number at all.
BEYOND = ["1e308", "-1e308", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e30", str(10**30), str(2**63)]
FORMATS = ["bencher", "github-action-benchmark-bigger", "github-action-benchmark-smaller"]
COUNTED = (*schema.COUNTS, "pool_size")


def _inside(key: str, rng: random.Random) -> str:
    """A value at or near the edge of ``key``'s range, which every command must take."""
    if key in COUNTED:
        return str(rng.choice([1, schema.MAX_COUNT, schema.MAX_COUNT // 3]))
    lo, hi, _ = schema.metric_bounds(key)
    return repr(rng.choice([float(hi), hi / 2, float(max(lo, 0)), 5e-324, float(lo)]))


def _beyond(key: str, rng: random.Random) -> str:
    """A value past ``key``'s range (just past its edge in one case of three)."""
    if rng.random() < 0.33:
        if key in COUNTED:
            return str(schema.MAX_COUNT + 1)
        lo, hi, _ = schema.metric_bounds(key)
        return repr(rng.choice([hi * 1.001, lo * 1.001 if lo < 0 else -1e-9]))
    return rng.choice(BEYOND)


def mutate(doc: dict[str, Any], rng: random.Random) -> tuple[str, bool, str]:
    """The document with one to three metric values made extreme, as JSON text; whether the
    values stay inside their ranges (every command must then work); a label of what changed."""
    inside = rng.random() < 0.4
    trials = [t for t in doc["trials"] if isinstance(t.get("metrics"), dict)]
    everywhere = rng.random() < 0.3
    chosen, texts = [], {}
    for n in range(rng.choice([1, 1, 2, 3])):
        keys = [k for k in trials[0]["metrics"] if not (inside and k == "exactly_once")]
        key = rng.choice(keys)
        text = _inside(key, rng) if inside else _beyond(key, rng)
        marker = f"\x00{n}\x00"
        for t in trials if everywhere else [rng.choice(trials)]:
            t["metrics"][key] = marker
        texts[json.dumps(marker)] = text
        chosen.append(f"{key}={text}")
    out = json.dumps(doc)
    for marker, text in texts.items():
        out = out.replace(marker, text)
    return out, inside, ("every trial: " if everywhere else "") + ", ".join(chosen)


def _nothing_to_export(result: Any, inside: bool) -> bool:
    """export's answer for a run whose values, inside their ranges, fail every trial (a billion
    items lost): there is nothing to export, said in one line; not a value refused."""
    return inside and "no measured trial passed; nothing to export" in result.output


def numbers_chunk(args: tuple[int, int, int, str, list[str]]) -> dict[str, Any]:
    seed, start, count, workdir, bases = args
    fast_savefig()
    light_figures()
    os.fsync = lambda fd: None  # durability is not under test here
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    docs = [json.loads((Path(b) / "run.json").read_text()) for b in bases]
    for i in range(start, start + count):
        rng = random.Random(seed * 9_000_011 + i)
        which = rng.randrange(len(bases))
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="num-"))
        run, out = box / "run", box / "out"
        shutil.copytree(bases[which], run)
        out.mkdir()
        text, inside, label = mutate(json.loads(json.dumps(docs[which])), rng)
        (run / "run.json").write_text(text)
        exports = [["export", str(run), "-f", f, "-o", str(out / f"{f}.json")] for f in FORMATS]
        for args_ in [*commands(run, out, Path(bases[which])), *exports]:
            with deadline(CASE_SECONDS):
                try:
                    result = runner.invoke(args_)
                except Hang:
                    result = None
            peaks.mark(f"numbers case {i} ({label}) {args_[0]}")
            verdict = "hang" if result is None else verdict_of(result)
            counts["number_commands"] += 1
            counts[f"numbers exit {result.exit_code if result is not None else 'hang'}"] += 1
            if verdict != "ok":
                counts["hangs" if verdict == "hang" else "tracebacks"] += 1
                problems.append(f"numbers case {i} ({label}) {args_[0]}: {verdict}")
            elif result is not None and (result.exit_code == 2) == inside and not _nothing_to_export(result, inside):
                counts["number_misjudged"] += 1
                why = "refused a value inside its range" if inside else "took a value past its range"
                problems.append(f"numbers case {i} ({label}) {args_[0]}: {why}: {result.output[-200:]!r}")
        counts["number_folders"] += 1
        counts["number_inside" if inside else "number_beyond"] += 1
        shutil.rmtree(box, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}
