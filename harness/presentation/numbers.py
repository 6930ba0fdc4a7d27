"""Numbers as people read them, the same in the terminal, the report and the figures: ``1.75k``
(:func:`si`), milliseconds (:func:`ms`), percentages (:func:`pct`); "—" for a missing value."""

from __future__ import annotations

import math


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
