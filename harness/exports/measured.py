"""What the dashboard exports share: the measured, passing trials of a run, by pair."""

from __future__ import annotations

import math
from typing import Any


def by_pair(doc: dict[str, Any], key: str) -> dict[str, list[float]]:
    """'<scenario>/<strategy>' -> the finite ``key`` values of its measured trials that passed."""
    out: dict[str, list[float]] = {}
    for t in doc.get("trials", []):
        if t.get("warmup") or t.get("status") != "ok":
            continue
        v = (t.get("metrics") or {}).get(key)
        if isinstance(v, int | float) and math.isfinite(v):
            name = f"{t['scenario']}/{t['strategy']}" + (f"@{t['side']}" if t.get("side") else "")
            out.setdefault(name, []).append(float(v))
    return out
