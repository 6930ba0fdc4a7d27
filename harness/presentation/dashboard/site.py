"""``queuebench publish DIR... -o site/``: one self-contained, offline folder, ``index.html`` and
its data, that opens from a ``file://`` URL: no server, no CDN, no script (the charts are SVG
drawn here, tooltips are the browser's own ``<title>``).

It holds the history's series per machine x interpreter x scenario x strategy, throughput with
its change points marked (the commit on hover) beside e2e p99 latency and worker memory; the A/B
verdict cards of every ``ab`` run (ratio, interval, MDE, repeats); each sweep's curves with the
knee marked (the pool size past which more readers buy almost nothing, as ``sweep`` says) and
the Universal Scalability Law's fit where one exists (harness.presentation.dashboard.sweeps); each
machine's fingerprint; and a copy of every run's ``run.json``, linked. ``data.json`` holds the same
numbers as the page (and the page embeds them, as ``<script type="application/json">``)."""

from __future__ import annotations

import html
import json
import math
import shutil
from pathlib import Path
from typing import Any

from harness.errors import HistoryError, QueuebenchError
from harness.history import report, series
from harness.presentation.dashboard import sweeps as dashboard_sweeps
from harness.presentation.dashboard.svg import Line, Mark, chart
from harness.presentation.numbers import json_number
from harness.rundir import store
from harness.rundir.model import Run

#: Beside throughput, per series: (metric key, label).
BESIDE = (("e2e_p99_ms", "e2e p99 ms"), ("peak_rss_mb", "worker peak RSS MB"))
CSS = """
body{font:14px/1.45 system-ui,sans-serif;max-width:1280px;margin:1.5em auto;padding:0 1em;color:#1f2328}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left}
.series{margin:1em 0;padding:.4em .6em;border:1px solid #eaeef2;border-radius:6px}
.series h3{margin:.2em 0;font-size:1em}.charts{display:flex;flex-wrap:wrap;gap:.5em}
.tick,.legend{font-size:10px;fill:#57606a}.legend{font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5em .7em;
min-width:220px}.card b{font-size:1.05em}.slower,.broken{border-left:6px solid #cf222e}
.faster{border-left:6px solid #1a7f37}.unchanged{border-left:6px solid #8c959f}
.inconclusive,.too-few-repeats{border-left:6px solid #bf8700}.changed{color:#cf222e;font-weight:600}
"""


def _esc(v: object) -> str:
    return html.escape(str(v))


def _series_key(s: series.Series) -> tuple[str, str, str, str]:
    k = s.key
    return (k.machine, k.python, k.scenario, k.strategy)


def collect(paths: list[Path]) -> tuple[series.History, list[report.Found], dict[str, dict[tuple[str, ...], Any]]]:
    hist = series.gather(paths, "throughput")
    found = report.analyse(hist)
    beside: dict[str, dict[tuple[str, ...], Any]] = {}
    for key, _ in BESIDE:
        try:
            other = series.gather(paths, key)
        except HistoryError:
            continue
        beside[key] = {_series_key(s): s for s in other.series}
    return hist, found, beside


def _tip(p: series.Point, value: str) -> str:
    return f"{p.run.name} · commit {(p.commit or '?')[:12]} · {p.started_at} · {value}"


def _series_html(f: report.Found, beside: dict[str, dict[tuple[str, ...], Any]]) -> str:
    s, k = f.series, f.series.key
    xs = tuple(float(i) for i in range(len(s.points)))
    line = Line(
        "throughput", xs, tuple(p.value for p in s.points), tuple(_tip(p, f"{p.value:.4g} items/s") for p in s.points)
    )
    marks = [
        Mark(
            float(c.index) - 0.5,
            f"change at {c.point.run.name}: commit {(c.before.commit or '?')[:12]}..{(c.point.commit or '?')[:12]}, "
            f"×{c.ratio:.3f} ({'worse' if c.worse else 'better'}), confidence {c.confidence:.4f}",
        )
        for c in f.changes
    ]
    charts = [chart([line], "throughput items/s", marks, css_class="chart throughput")]
    index = {p.run: i for i, p in enumerate(s.points)}
    for key, label in BESIDE:
        other = beside.get(key, {}).get(_series_key(s))
        if other is None:
            continue
        pts = [p for p in other.points if p.run in index]
        extra = Line(
            label,
            tuple(float(index[p.run]) for p in pts),
            tuple(p.value for p in pts),
            tuple(_tip(p, f"{p.value:.4g}") for p in pts),
        )
        charts.append(chart([extra], label, css_class="chart beside"))
    changed = f' <span class="changed">{len(f.changes)} change point(s)</span>' if f.changes else ""
    return (
        f'<section class="series" data-changes="{len(f.changes)}"><h3>{_esc(k.scenario)} / {_esc(k.strategy)}'
        f" · {_esc(k.python)} · machine {_esc(k.machine)} · {len(s.points)} runs{changed}</h3>"
        f'<div class="charts">{"".join(charts)}</div></section>'
    )


def _cards(runs: list[tuple[Path, Run]], links: dict[Path, str]) -> tuple[str, list[dict[str, Any]]]:
    from harness.gate import ab, sensitivity

    out, data = [], []
    for path, run in runs:
        if run.ab is None:
            continue
        rep = ab.judge(run, "throughput", 0.10, 0.01)
        cards = []
        for r in rep.rows:
            css = r.verdict.value.replace(" ", "-").split(":")[0]
            interval = f"{r.ci_low:.3f}–{r.ci_high:.3f}" if math.isfinite(r.ci_low) else "—"
            ratio = f"{r.ratio:.3f}" if math.isfinite(r.ratio) else "—"
            cards.append(
                f'<div class="card {css}"><b>{_esc(r.scenario)} / {_esc(r.strategy)}</b><br>{_esc(r.verdict.value)}'
                f"<br>ratio {ratio} · interval {interval}<br>could see {_esc(sensitivity.describe_mde(r.mde))}"
                f" · repeats {r.n_base}/{r.n_cur}</div>"
            )
            data.append(
                {
                    "run": links[path],
                    "scenario": r.scenario,
                    "strategy": r.strategy,
                    "verdict": r.verdict.value,
                    "ratio": json_number(r.ratio),
                    "interval": [r.ci_low, r.ci_high] if math.isfinite(r.ci_low) else None,
                    "mde": json_number(r.mde),
                    "repeats": [r.n_base, r.n_cur],
                }
            )
        out.append(f'<h3><a href="{links[path]}">{_esc(path.name)}</a></h3><div class="cards">{"".join(cards)}</div>')
    return "".join(out) or "<p>No ab run among these.</p>", data


def publish(paths: list[Path], out: Path) -> Path:
    """Write the site into ``out`` (made if missing; an existing index.html is replaced). Returns its index."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HistoryError(f"-o {out}: not a directory")
    hist, found, beside = collect(paths)
    runs = []
    for path in series.find_runs(paths):
        try:
            runs.append((path, store.read_run(path)))
        except QueuebenchError:
            continue  # history.skipped says why
    (out / "runs").mkdir(parents=True, exist_ok=True)
    links: dict[Path, str] = {}
    for i, (path, _) in enumerate(runs):
        folder = out / "runs" / f"{i:03d}-{store.slug(path.name)}"
        folder.mkdir(exist_ok=True)
        shutil.copyfile(path / store.RUN_FILE, folder / store.RUN_FILE)
        links[path] = f"runs/{folder.name}/{store.RUN_FILE}"
    cards_html, cards = _cards(runs, links)
    sweeps_html, sweeps = dashboard_sweeps.section(runs)
    data = report.document(hist, found) | {"tool": "queuebench publish", "ab_cards": cards, "sweeps": sweeps}
    data["links"] = {str(p): link for p, link in links.items()}
    text = json.dumps(data, indent=1, allow_nan=False)
    store.atomic_write(out / "data.json", (text + "\n").encode())
    page = _page(hist, found, beside, cards_html, sweeps_html, links, text)
    store.atomic_write(out / "index.html", page.encode())
    return out / "index.html"


def _page(
    hist: series.History,
    found: list[report.Found],
    beside: dict[str, dict[tuple[str, ...], Any]],
    cards_html: str,
    sweeps_html: str,
    links: dict[Path, str],
    data: str,
) -> str:
    total = sum(len(f.changes) for f in found)
    machines = "".join(
        f"<h3>machine {_esc(m.id)}: {_esc(m.label)}</h3><table>"
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in m.facts)
        + "</table>"
        for m in hist.machines
    )
    arrivals = "".join(
        f"<li>at {_esc(a.run.name)} (commit {_esc((a.commit or '?')[:12])}): machine {_esc(a.after)} → "
        f"{_esc(a.machine)}: {_esc('; '.join(a.differs))}</li>"
        for a in hist.arrivals
    )
    run_list = "".join(f'<li><a href="{links[p]}">{_esc(p.name)}</a></li>' for p in hist.runs if p in links)
    safe = data.replace("</", "<\\/")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>queuebench dashboard</title>'
        f'<meta name="viewport" content="width=device-width"><style>{CSS}</style></head><body>'
        f"<h1>queuebench dashboard</h1><p>{len(hist.runs)} run(s) · {len(hist.machines)} machine(s) · "
        f'<span id="series-count">{len(found)}</span> series · <span id="change-count">{total}</span> change '
        "point(s) (ruptures PELT, each checked by a rank test; hover a point or a red mark for its commit) · "
        '<a href="data.json">data.json</a></p>'
        f"<h2>Series</h2>{''.join(_series_html(f, beside) for f in sorted(found, key=lambda f: not f.changes))}"
        f"<h2>A/B verdicts</h2>{cards_html}"
        f"<h2>Sweeps</h2>{sweeps_html}"
        f"<h2>Machines</h2>{machines}"
        + (f"<h2>Machine changes</h2><ul>{arrivals}</ul>" if arrivals else "")
        + f"<h2>Runs</h2><ul>{run_list}</ul>"
        f'<script type="application/json" id="data">{safe}</script></body></html>\n'
    )
