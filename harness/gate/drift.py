"""The drift guard: did the machine change between two runs made at different times?

Runs made minutes apart on a shared machine are not samples of one distribution: another
job starts, the CPU throttles, and every pair of the later run moves together. Such a
comparison must not say "slower". Run-level signals that the machine changed:

* ``reference`` — a fixed pure-Python loop timed in the harness at the start and end of
  every run (:mod:`harness.running.reference`): across the runs, and start against end within a run;
* ``effective_parallelism`` — the cores' worth of CPU the worker's probe measured;
* ``load_average`` — the 1-minute load average when the run started;
* ``calibration`` — the cpu work's units per ms (measured afresh with ``--recalibrate``).

Each signal that moved is one line saying which and by how much; :func:`harness.gate.compare.compare`
then turns every ``slower`` and ``faster`` into ``inconclusive: machine changed``. The cure is
to run both sides in one session, interleaved (``queuebench ab``), where drift hits both alike.
"""

from __future__ import annotations

import math
from typing import Any

from harness.rundir.model import Run

#: Measured parallelism may move this much (relative) before it counts as a change.
PARALLELISM_TOLERANCE = 0.25
#: The 1-minute load may move by this share of the usable cores (at least 1.0) before it counts.
LOAD_SHARE = 0.5


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0 else None


def _factor(a: float, b: float) -> float:
    """How far apart two positive numbers are, as a factor >= 1."""
    return max(a, b) / min(a, b)


def _reference(run: Run) -> tuple[float | None, float | None]:
    ref = run.reference
    if ref is None:
        return None, None
    return _num(ref.get("start_s")), _num(ref.get("end_s"))


def _mean(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def signals(base: Run, cur: Run, max_regression: float) -> list[str]:
    """What moved between the baseline run and the current one, one line each (empty: nothing).

    The reference workload and the calibration count as moved when they changed by more than
    the gate's own threshold factor: a machine that slowed that much can fake a regression."""
    limit = 1 + max_regression
    out = []
    (bs, be), (cs, ce) = _reference(base), _reference(cur)
    for side, (start, end) in (("baseline", (bs, be)), ("current", (cs, ce))):
        if start is not None and end is not None and _factor(start, end) > limit:
            out.append(
                f"reference workload within the {side} run {start * 1e3:.1f} → {end * 1e3:.1f} ms "
                f"(×{end / start:.2f}, limit ×{limit:g})"
            )
    ref_b, ref_c = _mean(bs, be), _mean(cs, ce)
    if ref_b is not None and ref_c is not None and _factor(ref_b, ref_c) > limit:
        out.append(
            f"reference workload {ref_b * 1e3:.1f} → {ref_c * 1e3:.1f} ms (×{ref_c / ref_b:.2f}, limit ×{limit:g})"
        )
    fa, fb = base.fingerprint, cur.fingerprint
    if fa is None or fb is None:
        return out
    pa, pb = _num(fa.effective_parallelism), _num(fb.effective_parallelism)
    if pa is not None and pb is not None and abs(pb / pa - 1) > PARALLELISM_TOLERANCE:
        out.append(f"measured parallelism {pa:g} → {pb:g} (×{pb / pa:.2f}, tolerance ±{PARALLELISM_TOLERANCE:.0%})")
    la, lb = fa.load_average or (), fb.load_average or ()
    cores = _num(fb.usable_cores) or _num(fa.usable_cores) or 1.0
    if la and lb and isinstance(la[0], int | float) and isinstance(lb[0], int | float):
        allowed = max(1.0, LOAD_SHARE * cores)
        if abs(lb[0] - la[0]) > allowed:
            out.append(f"1-minute load average {la[0]:g} → {lb[0]:g} (moved more than {allowed:g} on {cores:g} cores)")
    ca, cb = fa.calibration, fb.calibration
    for key in ("hold_per_ms", "release_per_ms"):
        a, b = _num(ca.get(key)), _num(cb.get(key))
        if a is not None and b is not None and _factor(a, b) > limit:
            out.append(f"cpu calibration {key} {a:.4g} → {b:.4g} (×{b / a:.2f}, limit ×{limit:g})")
    return out


#: A cpu-work units difference below this is the calibration's own spread (±5%, measured).
UNITS_TOLERANCE = 0.05


def units_mismatch(base: Run, cur: Run, max_regression: float) -> list[str]:
    """The cpu work's units per ms, named when the two runs differ beyond the calibration's own
    spread but within the drift limit (beyond it, :func:`signals` withholds the verdicts): a
    cpu-bound pair then did a different amount of work per item on each side."""
    fa, fb = base.fingerprint, cur.fingerprint
    if fa is None or fb is None:
        return []
    out = []
    for key in ("hold_per_ms", "release_per_ms"):
        a, b = _num(fa.calibration.get(key)), _num(fb.calibration.get(key))
        if a is not None and b is not None and 1 + UNITS_TOLERANCE < _factor(a, b) <= 1 + max_regression:
            out.append(
                f"cpu work units differ: {key} {a:.4g} → {b:.4g} (×{b / a:.2f}): each cpu-bound item did "
                f"×{b / a:.2f} the work on the current side; rerun both on one calibration to compare cpu pairs"
            )
    return out
