"""Markup, escape sequences and HTML in every name (issue #28): a real run whose strategy names,
run folder name, machine facts (host, os, cpu model, interpreter), trial errors and scenario
descriptions are replaced by hostile text the schema takes, through ``show``, ``report`` (Markdown
and HTML), ``plot`` and ``report``'s figures (real PNGs: their titles and legends), ``compare
--markdown`` and ``export``.

Judged where each text lands: the terminal gets no escape sequence (ESC, CSI, BEL, backspace,
CR) and no rich markup is read as markup; report.html and report.md carry no tag of the name's
own (``<script>``, ``<img>``); every Markdown table row has its header's number of cells; no
figure title fails to draw (``$`` would start mathtext). Every command must accept the run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from tests.fuzz.in_process import CASE_SECONDS, Hang, Runner, deadline, verdict_of
from tests.fuzz.peaks import Peaks

#: Hostile texts; each holds a marker (QBM: markup, QBE: escapes, QBH: HTML, QBD: Markdown, QBF: figures).
MARKUP = ["[red]QBM[/red]", "[link=https://evil.example]QBM[/link]", "[/]QBM", "[bold", "QBM[/]", "\\[b]QBM"]
ESCAPES = [
    "\x1b[31mQBE\x1b[0m", "\x1b]8;;https://evil.example\x07QBE\x1b]8;;\x07", "\x1b[2JQBE", "QBE\rspoof",
    "QBE\x08\x08\x08xxx", "\x9b31mQBE", "\x07QBE", "\u202eQBE", "QBE\x00nul",
]  # fmt: skip
HTML = ["<script>alert('QBH')</script>", "<img src=x onerror=alert('QBH')>", "</td></tr><tr><td>QBH", "&lt;QBH&amp;"]
MARKDOWN = ["| QBD |", "**QBD**", "`QBD", "[QBD](javascript:alert(1))", "![QBD](http://x/y.png)", "# QBD", "QBD\n# h"]
FIGURES = ["$\\frac{QBF}{0}$", "$x^$QBF", "$$QBF", "QBF\\", "%s%d{0}QBF", "$\\mathrm{QBF$", "QBF" + "$" * 7]
ALL = MARKUP + ESCAPES + HTML + MARKDOWN + FIGURES
#: What the terminal must never receive from a name.
SEQUENCES = ("\x1b", "\x9b", "\x07", "\x08", "\r")
#: The files each command writes, to be judged.
WRITES = {"report": ("report.html", "report.md"), "compare": ("c.md",)}
#: A name's own tags, as they would appear unescaped in HTML or Markdown.
TAGS = re.compile(r"<script>alert|<img src=x|</td></tr><tr><td>QBH")


def _printable(text: str) -> str:
    """What a strategy name may hold (printable: no C0 or C1 control, no DEL)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", text) or "QBP"


def _folder_name(text: str) -> str:
    """What a run folder's name may hold (no '/', no NUL, at most 200 bytes)."""
    name = text.replace("/", "∕").replace("\x00", "")[:60] or "QBP"
    return "." + name if name in (".", "..") else name


def poison(doc: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str, str]:
    """The run with hostile names, its folder's new name, and a label of what was used."""
    text = rng.choice(ALL)
    renamed: dict[str, str] = {}
    for t in doc["trials"]:
        new = renamed.setdefault(t["strategy"], _printable(rng.choice([text, *rng.sample(ALL, 2)]))[:200])
        t["strategy"] = new
        if t.get("status") != "ok" or rng.random() < 0.3:
            t["errors"] = [rng.choice(ALL) for _ in range(rng.randrange(1, 3))]
            t["status"] = "failed" if t.get("status") == "ok" and rng.random() < 0.5 else t["status"]
    options = doc.get("options") or {}
    options["strategies"] = [renamed.get(s, s) for s in options.get("strategies") or []]
    fp = doc["fingerprint"]
    for key in ("host", "os", "os_release", "arch", "cpu_model"):
        if key in fp and rng.random() < 0.6:
            fp[key] = rng.choice([text, *ALL])[:900]
    for key in ("implementation", "version", "compiler", "executable"):
        if key in fp.get("python", {}) and rng.random() < 0.3:
            fp["python"][key] = rng.choice(ALL)
    for scenario in doc["scenarios"].values():
        if isinstance(scenario.get("definition"), dict):
            scenario["definition"]["description"] = rng.choice(ALL)
    return doc, _folder_name(rng.choice([text, *ALL])), repr(text)


def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _without_code_and_escapes(markdown: str) -> str:
    """The Markdown's text outside code spans (a run of n backticks to the next run of exactly n,
    an escaped backtick opening none) with backslash escapes removed."""
    text = re.sub(r"\\[\\`<>]", "", markdown)
    return re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", text, flags=re.S)


def _table_rows_broken(markdown: str) -> list[str]:
    """Markdown table rows whose number of cells is not their header's."""
    broken, width = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        if width is None:
            width = cells
        elif cells != width:
            broken.append(line[:160])
    return broken


def judge(result: Any, out: Path, command: str) -> list[str]:
    """What leaked from a name into this command's outputs."""
    found = []
    shown = result.output
    if any(s in shown for s in SEQUENCES):
        found.append(f"escape sequence in the terminal: {shown[:200]!r}")
    literal = [m for m in MARKUP] + [_folder_name(m) for m in MARKUP]  # as written, or as a folder's name
    if "QBM" in shown and not any(m in shown for m in literal):
        found.append(f"rich markup read as markup in the terminal: {shown[:200]!r}")
    for name in WRITES.get(command, ()):
        file = out / name
        if file.is_file():
            text = file.read_text(encoding="utf-8", errors="replace")
            # Markdown is judged as a reader's renderer sees it: a real CommonMark parser with GFM
            # tables (markdown-it-py, rich's own), so a tag in a code span or escaped (\<) is text.
            # Its table rows are judged on the raw lines: in GFM an unescaped pipe splits a cell
            # even inside a code span.
            rendered = _markdown().render(text) if name.endswith(".md") else text
            # and, stricter than any renderer, no tag left in the Markdown outside code spans and escapes
            outside = _without_code_and_escapes(text) if name.endswith(".md") else ""
            if tag := TAGS.search(rendered) or TAGS.search(outside):
                found.append(f"{name}: a name's own tag: {tag.group(0)!r}")
            if name.endswith(".md") and (rows := _table_rows_broken(text)):
                found.append(f"{name}: a table row broken by a name: {rows[0]!r}")
    return found


def markup_chunk(args: tuple[int, int, int, str, list[str]]) -> dict[str, Any]:
    seed, start, count, workdir, bases = args
    os.environ["COLUMNS"] = "400"  # wide tables: a name is not wrapped mid-marker
    os.fsync = lambda fd: None  # durability is not under test here
    runner, counts, problems = Runner(), Counter[str](), []
    peaks = Peaks()
    docs = [json.loads((Path(b) / "run.json").read_text()) for b in bases]
    for i in range(start, start + count):
        rng = random.Random(seed * 3_000_017 + i)
        which = rng.randrange(len(bases))
        box = Path(tempfile.mkdtemp(dir=workdir, prefix="mk-"))
        doc, folder, label = poison(json.loads(json.dumps(docs[which])), rng)
        run, out = box / folder, box / "out"
        shutil.copytree(bases[which], run)
        out.mkdir()
        (run / "run.json").write_text(json.dumps(doc))
        for args_ in (
            ["show", str(run)],
            ["report", str(run), "-o", str(out)],
            ["plot", str(run), str(bases[which]), "-o", str(out / "f.png")],
            ["compare", str(run), str(run), "--markdown", str(out / "c.md")],
            ["export", str(run), "-o", str(out / "x.json")],
        ):
            with deadline(CASE_SECONDS * 2):  # real figures
                try:
                    result = runner.invoke(args_)
                except Hang:
                    result = None
            peaks.mark(f"markup case {i} ({label}) {args_[0]}")
            verdict = "hang" if result is None else verdict_of(result)
            counts["markup_commands"] += 1
            counts[f"markup exit {result.exit_code if result is not None else 'hang'}"] += 1
            if verdict != "ok":
                counts["hangs" if verdict == "hang" else "tracebacks"] += 1
                problems.append(f"markup case {i} ({label}) {args_[0]}: {verdict}")
                continue
            assert result is not None
            leaks = judge(result, out, args_[0])
            if result.exit_code == 2 and "no measured trial passed" not in result.output:
                leaks.append(f"refused: {result.output.strip()[-200:]!r}")
            counts["markup_leaks"] += len(leaks)
            problems += [f"markup case {i} ({label}) {args_[0]}: {leak}" for leak in leaks]
        counts["markup_runs"] += 1
        shutil.rmtree(box, ignore_errors=True)
    return {"counts": counts, "problems": problems[:20], **peaks.report()}
