"""A run's report: ``report.md`` (GitHub-flavoured, fits a CI job summary), ``report.html``
(one self-contained file, figures embedded) and the PNG figures, next to the run or in DIR.

Both documents are rendered from one list of blocks, so they always say the same thing,
in the same order: verdicts first (trials that did not pass, exceeded limits), then which
strategy wins each scenario and by how much, the figures, a ranked table per scenario,
and the machine fingerprint.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import figures, metrics, store, stress, stress_figure, sweep, sweep_plot
from harness.render import fingerprint_line, ms, pct, si
from harness.summary import summarize

NEAR_TIE = 1.05  # a lead under 5% is within the noise of a shared machine
MAX_WHY = 300  # characters of a trial's errors in the verdict list (run.json holds them all)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str  # may hold **bold** and `code`
    tone: str = ""  # "", "ok", "bad" or "warn": a call-out box in HTML, a quote in Markdown


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    right: frozenset[int] = field(default_factory=frozenset)  # right-aligned (numeric) columns


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


Block = Heading | Para | Bullets | Table | Image


@dataclass(frozen=True)
class Written:
    markdown: Path
    html: Path
    figures: list[Path]


def md_escape(text: str) -> str:
    """Dynamic text (trial errors, paths) as literal Markdown: no emphasis, code, links or HTML."""
    return re.sub(r"([\\`*_\[\]<>#~])", r"\\\1", text)


def missing_samples(doc: dict[str, Any], run_dir: Path) -> list[str]:
    """Measured trials whose samples file run.json names is not in the directory (e.g. a baseline
    saved without ``--with-samples``)."""
    return [
        t["id"]
        for t in doc["trials"]
        if not t.get("warmup") and t.get("samples") and not (Path(run_dir) / t["samples"]).is_file()
    ]


def without_samples(doc: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """A copy of the run whose trials ``ids`` have no samples: every per-item figure skips them."""
    gone = set(ids)
    trials = [{k: v for k, v in t.items() if k != "samples"} if t["id"] in gone else t for t in doc["trials"]]
    return {**doc, "trials": trials}


def _has_samples(doc: dict[str, Any], scenario: str) -> bool:
    return any(t["scenario"] == scenario and not t.get("warmup") and t.get("samples") for t in doc["trials"])


def draw_figures(doc: dict[str, Any], run_dir: Path, out: Path) -> dict[str, Path]:
    """Every figure of the run as a PNG in ``out``; keys name them (e.g. ``latency-io-bound``).
    Per-item figures (latency, concurrency) only for scenarios whose samples are present."""
    if not figures.scenarios_of(doc):
        return {}
    paths = {
        "throughput": figures.save(figures.throughput_figure(doc), out / "throughput.png"),
        "efficiency": figures.save(figures.efficiency_figure(doc), out / "efficiency.png"),
    }
    for name in figures.scenarios_of(doc):
        if not _has_samples(doc, name):
            continue
        for kind, draw in (("latency", figures.latency_figure), ("concurrency", figures.concurrency_figure)):
            paths[f"{kind}-{name}"] = figures.save(draw(doc, run_dir, name), out / f"{kind}-{name}.png")
    if stress_figure.has_faults(doc):
        paths["survival"] = figures.save(stress_figure.survival_figure(doc), out / "survival.png")
    if doc.get("sweep"):
        frame = sweep.results(doc)
        if not frame.empty:
            paths["sweep"] = sweep_plot.write(doc, frame, sweep.findings(doc, frame), out / "sweep.png")
    return paths


def _exceeded(trial: dict[str, Any]) -> bool:
    m = trial.get("metrics") or {}
    return bool(m) and m.get("max_concurrency", 0) > m.get("pool_size", math.inf)


def verdicts(doc: dict[str, Any]) -> list[Block]:
    """What went wrong, first: trials that did not pass (exceeded limits named), an unfinished run."""
    trials = doc["trials"]
    measured = [t for t in trials if not t.get("warmup")]
    bad = [t for t in trials if t["status"] != "ok"]
    blocks: list[Block] = []
    if bad:
        over = [t for t in bad if _exceeded(t)]
        limit = f"; **the reader limit was exceeded in {len(over)}**" if over else ""
        blocks.append(
            Para(
                f"❌ **{len(bad)} of {len(trials)} trials did not pass**{limit}. Their strategies are not ranked.",
                "bad",
            )
        )
        items = []
        for t in bad:
            m = t.get("metrics") or {}
            flag = (
                f"**reader limit exceeded: {m['max_concurrency']} busy, pool of {m['pool_size']}** · "
                if t in over
                else ""
            )
            why = "; ".join(t.get("errors") or []) or "no detail recorded"
            why = md_escape(why if len(why) <= MAX_WHY else why[: MAX_WHY - 1] + "…")
            warm = " (warmup)" if t.get("warmup") else ""
            items.append(f"`{t['id']}`{warm} — {flag}**{t['status']}**: {why}")
        blocks.append(Bullets(items))
    if doc["status"] != "complete":
        blocks.append(
            Para(f"⚠️ **The run is {doc['status']}**: it stopped early; only finished trials are shown.", "warn")
        )
    if trials and not measured:
        blocks.append(
            Para(
                f"⏳ **No measured trials yet**: only {len(trials)} warmup trial(s) ran, and warmups are not "
                "measured; nothing can be ranked or said to have passed.",
                "warn",
            )
        )
    elif measured and not bad:
        blocks.append(
            Para(
                f"✅ **All {len(trials)} trials passed**: every item was consumed exactly once "
                "and no pool ever ran more readers than its limit.",
                "ok",
            )
        )
    return blocks + _measurement_caveats(doc)


def _measurement_caveats(doc: dict[str, Any]) -> list[Block]:
    """Warn when the ideal makespan was computed from a parallelism the machine then exceeded."""
    effs = [(t.get("metrics") or {}).get("efficiency") for t in doc["trials"] if t["status"] == "ok"]
    above = [e for e in effs if isinstance(e, float) and e > 1.05]
    if not above:
        return []
    fp = doc["fingerprint"]
    load = " ".join(str(x) for x in fp.get("load_average") or []) or "unknown"
    return [
        Para(
            f"⚠️ **Efficiency above 100% in {len(above)} passing trial(s)** (up to {max(above):.0%}): the ideal "
            f"makespan spreads cpu work over all {fp.get('usable_cores')} usable cores, using the cpu-work "
            "calibration made once at the start of the run; a few percent over 100% is that calibration's noise "
            f"(load average at the start: {load}). Compare strategies with each other there, not with 100%.",
            "warn",
        )
    ]


def pool_busy(doc: dict[str, Any], run_dir: Path) -> dict[tuple[str, str], float]:
    """Median over repeats of reader-busy time ÷ (pool size × makespan): how full each strategy kept the pool."""
    shares: dict[tuple[str, str], list[float]] = {}
    for t in doc["trials"]:
        m = t.get("metrics") or {}
        makespan, pool = m.get("makespan_s"), m.get("pool_size")
        if t.get("warmup") or not t.get("samples") or not makespan or not pool:
            continue
        records = store.load_samples(run_dir, t)
        busy_s = float((records[:, metrics.DONE] - records[:, metrics.DEQUEUED]).sum()) / 1e9
        shares.setdefault((t["scenario"], t["strategy"]), []).append(busy_s / (pool * makespan))
    return {key: float(np.median(v)) for key, v in shares.items()}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if math.isfinite(a) and math.isfinite(b) and b > 0 else "—"


def recommendations(doc: dict[str, Any], summary: pd.DataFrame, busy: dict[tuple[str, str], float]) -> list[Block]:
    """One row per scenario: the best strategy and the measured reasons it wins."""
    rows, notes = [], []
    for scenario in figures.scenarios_of(doc):
        s = summary[summary["scenario"] == scenario].sort_values("rank", na_position="last")
        ranked = s[s["rank"].notna()]
        if ranked.empty:
            rows.append([scenario, "no strategy passed every trial", "—", "—", "—", "—", "—", "—", "—"])
            continue
        best = ranked.iloc[0]
        runner = ranked.iloc[1] if len(ranked) > 1 else None
        seq = ranked[ranked["strategy"] == "sequential"]
        lead = "—" if runner is None else f"{_ratio(best.throughput, runner.throughput)} {runner.strategy}"
        floor = "—" if seq.empty or best.strategy == "sequential" else _ratio(best.throughput, seq.iloc[0].throughput)
        rows.append(
            [
                scenario,
                f"★ **{best.strategy}**",
                si(best.throughput),
                lead,
                floor,
                pct(best.efficiency),
                pct(busy.get((scenario, best.strategy), math.nan)),
                ms(best.e2e_p99_ms),
                f"{best.cpu_parallelism:.2f}" if math.isfinite(best.cpu_parallelism) else "—",
            ]
        )
        if runner is not None and best.throughput < NEAR_TIE * runner.throughput:
            notes.append(
                f"**{scenario}**: {best.strategy} and {runner.strategy} are within 5% — a tie on this machine; "
                "choose on latency or CPU cost."
            )
    header = [
        "scenario",
        "use",
        "items/s",
        "lead over the runner-up",
        "× sequential",
        "eff.",
        "pool busy",
        "p99 ms",
        "cpu∥",
    ]
    return [
        Heading(2, "Which strategy to use"),
        Para(
            "Ranked by median throughput among strategies whose every trial passed. *eff.* is the ideal "
            "makespan ÷ the measured one; *pool busy* is the share of the pool's reader-time spent working "
            "(a bounded pool is only as fast as it is kept full); *p99* is end-to-end latency; *cpu∥* is how many "
            "cores the trial kept busy."
        ),
        Table(header, rows, frozenset({2, 4, 5, 6, 7, 8})),
        *([Bullets(notes)] if notes else []),
    ]


def scenario_section(
    doc: dict[str, Any], scenario: str, summary: pd.DataFrame, pics: dict[str, Path], busy: dict[tuple[str, str], float]
) -> list[Block]:
    definition = doc["scenarios"][scenario]["definition"]
    rows = []
    for name in figures.ranked(summary, scenario):
        r = summary[(summary["scenario"] == scenario) & (summary["strategy"] == name)].iloc[0]
        rank = "★ 1" if r["rank"] == 1 else ("—" if pd.isna(r["rank"]) else str(int(r["rank"])))
        conc = "—" if pd.isna(r["max_concurrency"]) else f"{int(r['max_concurrency'])}/{int(r['pool_size'])}"
        status = r["status"] if r["status"] == "ok" else f"**{r['status']}**"
        rows.append(
            [
                rank,
                name,
                si(r["throughput"]),
                f"{si(r['throughput_min'])}–{si(r['throughput_max'])}",
                ms(r["e2e_p50_ms"]),
                ms(r["e2e_p99_ms"]),
                pct(r["efficiency"]),
                pct(busy.get((scenario, name), math.nan)),
                "—" if pd.isna(r["cpu_parallelism"]) else f"{r['cpu_parallelism']:.2f}",
                conc,
                status,
            ]
        )
    blocks: list[Block] = [Heading(2, f"Scenario `{scenario}`")]
    text = definition.get("description") or ""
    blocks.append(Para(f"{text + ' — ' if text else ''}{figures.workload_line(definition)}."))
    header = [
        "rank",
        "strategy",
        "items/s",
        "min–max",
        "p50 ms",
        "p99 ms",
        "eff.",
        "pool busy",
        "cpu∥",
        "conc",
        "status",
    ]
    blocks.append(Table(header, rows, frozenset({2, 3, 4, 5, 6, 7, 8, 9})))
    for kind, alt in (("latency", "latency distributions"), ("concurrency", "busy readers over time")):
        if f"{kind}-{scenario}" in pics:
            blocks.append(Image(pics[f"{kind}-{scenario}"], f"{scenario}: {alt}"))
    return blocks


def machine_section(doc: dict[str, Any]) -> list[Block]:
    fp = doc["fingerprint"]
    py = fp.get("python", {})
    gil = "on" if py.get("gil_enabled", True) else "off"
    pkgs = ", ".join(f"{k} {v}" for k, v in (fp.get("packages") or {}).items())
    rows = [
        ["host", fp.get("host", "—")],
        ["system", f"{fp.get('os')} {fp.get('os_release')} ({fp.get('arch')})"],
        ["CPU", f"{fp.get('cpu_model')}"],
        [
            "cores",
            f"{fp.get('logical_cores')} logical, {fp.get('physical_cores')} physical, {fp.get('usable_cores')} usable",
        ],
        ["effective parallelism", f"{fp.get('effective_parallelism')} (measured at the start of the run)"],
        ["memory", f"{fp.get('memory_gb')} GB"],
        ["load average", " ".join(map(str, fp.get("load_average") or [])) or "—"],
        ["worker Python", f"{py.get('implementation')} {py.get('version')} · {py.get('build', '')} · GIL {gil}"],
        ["start method", str(fp.get("start_method"))],
        ["git commit", str(fp.get("git_commit") or "—")],
        ["packages", pkgs or "—"],
    ]
    return [Heading(2, "Machine"), Table(["property", "value"], [[f"**{k}**", str(v)] for k, v in rows])]


def samples_note(doc: dict[str, Any], run_dir: Path, missing: list[str]) -> list[Block]:
    """Say plainly that per-item samples are not there, and what the report leaves out for it."""
    if not missing:
        return []
    have = sum(1 for t in doc["trials"] if not t.get("warmup") and t.get("samples"))
    measured = have + len(missing)
    meta: Any = None
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((Path(run_dir) / "baseline.json").read_text(encoding="utf-8"))
    why = " (a baseline saved without `--with-samples`)" if isinstance(meta, dict) and not meta.get("samples") else ""
    where = md_escape(str(Path(run_dir) / "samples"))
    if not have:
        return [
            Para(
                f"⚠️ **The per-item samples are not here**: none of the {len(missing)} measured trials has its "
                f"samples file in {where}{why}. The latency, concurrency and pool-busy figures and columns are "
                "left out; throughput, efficiency and the ranking come from run.json.",
                "warn",
            )
        ]
    return [
        Para(
            f"⚠️ **Samples missing for {len(missing)} of {measured} measured trials** (not in {where}{why}): "
            "the latency, concurrency and pool-busy figures and columns use only the trials that have them.",
            "warn",
        )
    ]


def sweep_section(doc: dict[str, Any], pics: dict[str, Path]) -> list[Block]:
    """A sweep run: median throughput and p99 per strategy against the swept parameter, best and knee."""
    record = doc.get("sweep")
    if not record:
        return []
    frame = sweep.results(doc)
    if frame.empty:
        return []
    found = sweep.findings(doc, frame)
    param, values = record["param"], list(record["values"])
    groups = sweep.group_params(doc)
    marks = {(f.label, f.best): "★" for f in found if not f.flat}
    marks.update({(f.label, f.knee): "★◆" if f.knee == f.best and not f.flat else "◆" for f in found})
    tables: dict[str, list[list[str]]] = {"throughput": [], "e2e_p99_ms": []}
    for key, g in frame.groupby([*groups, "strategy"], sort=False):
        keys = key if isinstance(key, tuple) else (key,)
        label = sweep.Finding(str(keys[-1]), dict(zip(groups, keys[:-1], strict=True)), param, 0, 0, 0, 0).label
        by_value = {int(r[param]): r for r in g.to_dict("records")}
        for column, fmt in (("throughput", si), ("e2e_p99_ms", ms)):
            cells = []
            for v in values:
                r = by_value.get(int(v))
                if r is None:
                    cells.append("")
                elif r["status"] != "ok":
                    cells.append(f"{fmt(r[column])} ✗")
                else:
                    mark = marks.get((label, int(v)), "") if column == "throughput" else ""
                    cells.append(f"**{fmt(r[column])} {mark}**" if mark else fmt(r[column]))
            tables[column].append([md_escape(label), *cells])
    if frame["ideal_throughput"].notna().any():
        ideal = frame.drop_duplicates(param).set_index(param)["ideal_throughput"]
        tables["throughput"].append(["*ideal bound*", *(si(ideal.get(v, math.nan)) for v in values)])
    header = ["strategy", *(f"{param}={v}" if i == 0 else str(v) for i, v in enumerate(values))]
    right = frozenset(range(1, len(header)))
    blocks: list[Block] = [
        Heading(2, f"Sweep of `{record['scenario']}` over {param}"),
        Para(
            f"Median items/s per strategy at each {param} (★ best, ◆ knee: the smallest {param} reaching "
            f"{sweep.KNEE:.0%} of the best; ✗ a trial did not pass)."
        ),
        Table(header, tables["throughput"], right),
        Para(f"Median p99 end-to-end latency, ms, at each {param}."),
        Table(header, tables["e2e_p99_ms"], right),
    ]
    lines = [md_escape(line) for f in found for line in f.lines()]
    if lines:
        blocks.append(Bullets(lines))
    if "sweep" in pics:
        blocks.append(Image(pics["sweep"], f"throughput and p99 against {param}"))
    return blocks


def build(doc: dict[str, Any], run_dir: Path, pics: dict[str, Path], missing: list[str] | None = None) -> list[Block]:
    """The report's blocks; ``missing``: measured trials whose samples are not in the run directory."""
    summary = summarize(doc)
    blocks: list[Block] = [
        Heading(1, f"queuebench report · {md_escape(Path(run_dir).resolve().name)}"),
        Para(f"`{fingerprint_line(doc['fingerprint'])}` · started {doc.get('started_at')} · status {doc['status']}"),
        *verdicts(doc),
    ]
    if summary.empty:
        warmups = sum(1 for t in doc["trials"] if t.get("warmup"))
        so_far = f" (only {warmups} warmup trial(s) ran)" if warmups else ""
        return [
            *blocks,
            Para(f"No measured trials in this run{so_far}: nothing to rank or draw."),
            *machine_section(doc),
        ]
    blocks += samples_note(doc, run_dir, missing or [])
    blocks += sweep_section(doc, pics)
    busy = pool_busy(doc, run_dir)
    if "survival" in pics:  # a fault run: how each strategy ended comes before any speed
        strategies, scenarios, cells = stress.matrix(doc)
        rows = [
            [s, *("; ".join(stress.cell(t) for t in cells.get((s, sc), [])) or "—" for sc in scenarios)]
            for s in strategies
        ]
        blocks += [
            Heading(2, "Survival under faults"),
            Table(["strategy", *scenarios], rows),
            Image(pics["survival"], "survival matrix"),
        ]
    blocks += recommendations(doc, summary, busy)
    blocks.append(Heading(2, "Figures"))
    for key, alt in (("throughput", "throughput per strategy"), ("efficiency", "efficiency and CPU parallelism")):
        if key in pics:
            blocks.append(Image(pics[key], alt))
    for scenario in figures.scenarios_of(doc):
        blocks += scenario_section(doc, scenario, summary, pics, busy)
    return [*blocks, *machine_section(doc)]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block], base: Path) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(f"> {b.text}" if b.tone else b.text)
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {item}" for item in b.items))
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(_md_cell(h) for h in b.header) + " |"]
            lines.append("|" + "|".join(" ---: " if i in b.right else " --- " for i in range(len(b.header))) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        else:
            rel = b.path.relative_to(base) if b.path.is_relative_to(base) else b.path
            out.append(f"![{b.alt}]({rel.as_posix()})")
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """Markdown's inline subset as HTML: `code`, **bold**, *emphasis*; a backslash-escaped
    character (see :func:`md_escape`) stays literal."""
    literal: list[str] = []

    def hold(m: re.Match[str]) -> str:
        literal.append(html.escape(m[1], quote=False))
        return f"\x00{len(literal) - 1}\x00"

    text = re.sub(r"\\([\\`*_\[\]<>#~|])", hold, text.replace("\x00", ""))
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: literal[int(m[1])], text)


CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}
body{color:#1f2328}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #d0d7de;padding:.25em .6em}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f6f8fa;padding:.1em .3em;border-radius:4px;font-size:.9em}
.ok,.bad,.warn{padding:.6em 1em;border-left:5px solid;border-radius:4px}
.ok{background:#dafbe1;border-color:#1a7f37}.bad{background:#ffebe9;border-color:#cf222e}
.warn{background:#fff8c5;border-color:#9a6700}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#57606a;font-size:.85em}
"""


def to_html(blocks: list[Block], title: str) -> str:
    out = [f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>']
    out.append(f"<style>{CSS}</style></head><body>")
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{_inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f'<p class="{b.tone}">{_inline(b.text)}</p>' if b.tone else f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>"
                + "".join(
                    f'<td class="num">{_inline(c)}</td>' if i in b.right else f"<td>{_inline(c)}</td>"
                    for i, c in enumerate(row)
                )
                + "</tr>"
                for row in b.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            alt = html.escape(b.alt)
            out.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(run_dir: Path, out: Path | None = None) -> Written:
    """Read a run, draw its figures and write report.md and report.html; raises store.RunDirError."""
    run_dir = Path(run_dir)
    doc = store.load_run(run_dir)
    out = Path(out) if out is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    missing = missing_samples(doc, run_dir)
    doc = without_samples(doc, missing)
    pics = draw_figures(doc, run_dir, out)
    blocks = build(doc, run_dir, pics, missing)
    md, page = out / "report.md", out / "report.html"
    store.atomic_write(md, to_markdown(blocks, out).encode())
    store.atomic_write(page, to_html(blocks, f"queuebench report · {run_dir.resolve().name}").encode())
    return Written(md, page, list(pics.values()))
