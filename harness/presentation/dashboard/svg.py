"""Small SVG line charts drawn by hand: no library, no script, nothing fetched. Hovering a point
or a change point shows its ``<title>`` (the browser's own tooltip): run, commit, value."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 400, 140, 50, 10, 20, 22
COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#6e7781", "#bf3989")
#: A change point's mark.
CHANGE = "#cf222e"


@dataclass(frozen=True)
class Line:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    tips: tuple[str, ...]  # one per point
    colour: int | None = None  # an index into COLOURS (default: the line's place among the lines)
    dotted: bool = False  # a fitted curve: dotted, no points, not in the legend


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.3g}{suffix}"
    return f"{v:.3g}"


@dataclass(frozen=True)
class Span:
    """An estimate with its interval, drawn as a bar at height ``y`` from ``low`` to ``high``
    with a tick at ``x`` (a fit's peak and its interval), in the colour of line ``colour``."""

    x: float
    low: float
    high: float
    y: float
    colour: int
    tip: str


@dataclass(frozen=True)
class Mark:
    """A vertical line at ``x`` with its tip: a change point (red) or, with ``colour``, a line's own
    mark in that line's colour (a sweep's knee)."""

    x: float
    tip: str
    colour: int | None = None


def _colour(line: Line, place: int) -> str:
    return COLOURS[(place if line.colour is None else line.colour) % len(COLOURS)]


def _scale(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    """(factor, offset) mapping [lo, hi] onto [a, b]."""
    span = hi - lo or abs(hi) or 1.0
    k = (b - a) / span
    return k, a - k * lo


def chart(
    lines: Sequence[Line],
    title: str,
    marks: Sequence[Mark] = (),
    x_label: str = "run",
    css_class: str = "chart",
    mark_class: str = "change-point",
    x_ticks: Sequence[float] = (),
    spans: Sequence[Span] = (),
) -> str:
    """An SVG chart of ``lines``; ``marks`` are vertical lines at x, with their tip;
    ``x_ticks`` the x values labelled under the axis (the axis spans them); ``spans`` intervals
    drawn inside the axes (clipped to them; one whose estimate lies beyond the axis is left out)."""
    xs = [x for ln in lines for x in ln.xs] + list(x_ticks)
    ys = [y for ln in lines for y in ln.ys if math.isfinite(y)]
    if not xs or not ys:
        return f'<p class="empty">{html.escape(title)}: no data</p>'
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    kx, ox = _scale(min(xs), max(xs), PAD_L, WIDTH - PAD_R)
    ky, oy = _scale(lo, hi, HEIGHT - PAD_B, PAD_T)
    out = [
        f'<svg class="{css_class}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{WIDTH - PAD_L - PAD_R}" height="{HEIGHT - PAD_T - PAD_B}" '
        'fill="#fff" stroke="#d0d7de"/>',
    ]
    for v in (lo + pad, hi - pad):
        y = ky * v + oy
        out.append(f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt(v)}</text>')
        out.append(f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>')
    out.append(
        f'<text x="{(PAD_L + WIDTH - PAD_R) / 2}" y="{HEIGHT - (1 if x_ticks else 5)}" text-anchor="middle" '
        'class="tick">'
        f"{html.escape(x_label)}</text>"
        f'<text x="{PAD_L}" y="{PAD_T - 6}" class="legend">{html.escape(title)}</text>'
    )
    for v in x_ticks:
        out.append(
            f'<text x="{kx * v + ox:.1f}" y="{HEIGHT - PAD_B + 10}" text-anchor="middle" class="tick">{_fmt(v)}</text>'
        )
    for mark in marks:
        px = kx * mark.x + ox
        colour = CHANGE if mark.colour is None else COLOURS[mark.colour % len(COLOURS)]
        out.append(
            f'<g class="{mark_class}"><title>{html.escape(mark.tip)}</title>'
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{PAD_T}" y2="{HEIGHT - PAD_B}" stroke="{colour}" '
            'stroke-width="2" stroke-dasharray="4 3"/>'
            f'<path d="M{px - 5:.1f},{PAD_T} L{px + 5:.1f},{PAD_T} L{px:.1f},{PAD_T + 8}Z" fill="{colour}"/></g>'
        )
    for i, ln in enumerate(lines):
        colour = _colour(ln, i)
        pts = [(kx * x + ox, ky * y + oy) for x, y in zip(ln.xs, ln.ys, strict=True) if math.isfinite(y)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        kind, dash = ("fit", ' stroke-dasharray="1.5 2.5"') if ln.dotted else ("line", "")
        out.append(f'<g class="{kind}" data-label="{html.escape(ln.label)}">')
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
        for (px, py), tip in zip(pts, ln.tips, strict=False):
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{html.escape(tip)}</title></circle>'
            )
        out.append("</g>")
    left, right = PAD_L, WIDTH - PAD_R
    for sp in spans:
        if not min(xs) <= sp.x <= max(xs):  # an estimate beyond the axis: the text beside says it
            continue
        colour = COLOURS[sp.colour % len(COLOURS)]
        x0, x1 = (min(max(kx * v + ox, left), right) for v in (sp.low, sp.high))
        px, py = kx * sp.x + ox, min(max(ky * sp.y + oy, PAD_T), HEIGHT - PAD_B)
        out.append(
            f'<g class="span"><title>{html.escape(sp.tip)}</title>'
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{py:.1f}" y2="{py:.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{py - 6:.1f}" y2="{py + 6:.1f}" stroke="{colour}" '
            'stroke-width="2"/></g>'
        )
    named = [(i, ln) for i, ln in enumerate(lines) if not ln.dotted]
    if len(named) > 1:
        for row, (i, ln) in enumerate(named):
            y = PAD_T + 12 + 13 * row
            out.append(
                f'<text x="{WIDTH - PAD_R - 6}" y="{y}" text-anchor="end" class="legend" '
                f'style="fill:{_colour(ln, i)}">{html.escape(ln.label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
