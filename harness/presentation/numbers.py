"""Numbers as people read them, the same in the terminal, the report and the figures: ``1.75k``
(:func:`si`), milliseconds (:func:`ms`), percentages (:func:`pct`); "—" for a missing value."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.sweeps.findings import Pivot


def json_number(value: float) -> float | None:
    """A figure for JSON written with allow_nan=False: None (null) where it is NaN or infinite."""
    return value if math.isfinite(value) else None


def si(value: float, unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def ms(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def pct(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.0f}%"


def pivot_rows(pivot: Pivot, failed: str, marked: str) -> list[tuple[str, list[str]]]:
    """A sweep pivot's rows as text, for any renderer: each cell its number in the pivot's unit;
    a point that did not pass through ``failed`` (e.g. ``"{} ✗"``), the best or knee through
    ``marked`` (e.g. ``"**{}**"``), the renderer's own markup around the same words."""
    fmt = si if pivot.column == "throughput" else ms
    rows = []
    for label, cells in pivot.rows:
        texts = []
        for c in cells:
            if c is None:
                texts.append("")
            elif not c.ok:
                texts.append(failed.format(fmt(c.value)))
            else:
                texts.append(marked.format(f"{fmt(c.value)} {c.mark}") if c.mark else fmt(c.value))
        rows.append((label, texts))
    return rows
