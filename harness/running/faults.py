"""Faults: what each strategy did when things went wrong, and the survival matrix.

A fault trial ends one of three ways: ``recovered`` (the strategy finished by
itself, maybe with items lost), ``hung`` (the watchdog had to kill it) or
``crashed`` (the strategy raised, or its worker died). Strategies keep their
natural behaviour: nothing here patches them to survive.
"""

from __future__ import annotations

from typing import Any

from harness.running.launchers import TrialOutput

OUTCOMES = ("recovered", "hung", "crashed")


def outcome(out: TrialOutput, m: dict[str, Any]) -> dict[str, Any]:
    """The fault summary of one trial (stored in run.json under ``faults``)."""
    events = out.fault_events
    if out.status == "timeout":
        how = "hung"
    elif out.status == "error":
        how = "crashed"
    else:
        how = "recovered"
    first = min((e["at"] for e in events), default=None)
    return {
        "outcome": how,
        "injected": [f"{e['kind']} {e['writer']}/{e['seq']}" for e in events],
        "delivered": m["expected"] - m["lost"],
        "lost": m["lost"],
        "duplicated": m["duplicated"],
        "failed_with_error": sum(e["kind"] == "reader_raise" for e in events),
        # Fault to the end of the trial: the strategy noticing (an error, a finish) or the watchdog.
        "detection_s": (out.ended_ns - first) / 1e9 if first is not None and out.ended_ns else None,
        "leftover_processes": len(out.leftovers),
    }


def cell(trial: dict[str, Any]) -> str:
    """One matrix cell, e.g. ``recovered: 17/18, lost 1`` or ``hung (5.0 s)``."""
    f = trial.get("faults")
    if f is None:
        return str(trial["status"])
    m = trial.get("metrics") or {}
    # The schema lets a stored run omit a count (it reads as 0): never index what may be absent.
    f = {"delivered": "?", "lost": 0, "duplicated": 0, "failed_with_error": 0, "leftover_processes": 0, **f}
    text = str(f["outcome"])
    if f["outcome"] == "hung":
        text += f" ({f['detection_s']:.1f} s)" if f.get("detection_s") is not None else ""
    else:
        text += f": {f['delivered']}/{m.get('expected', '?')}"
    extras = []
    if f["lost"] and f["outcome"] != "hung":
        extras.append(f"lost {f['lost']}")
    if f["duplicated"]:
        extras.append(f"dup {f['duplicated']}")
    if f["failed_with_error"]:
        extras.append(f"{f['failed_with_error']} raised")
    if f["leftover_processes"]:
        extras.append(f"{f['leftover_processes']} orphans")
    return text + (", " + ", ".join(extras) if extras else "")


def matrix(doc: dict[str, Any]) -> tuple[list[str], list[str], dict[tuple[str, str], list[dict[str, Any]]]]:
    """Strategies (rows), scenarios (columns) and the measured trials of each cell."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    strategies: list[str] = []
    scenarios: list[str] = []
    for t in doc["trials"]:
        if t.get("warmup"):
            continue
        strategies += [t["strategy"]] if t["strategy"] not in strategies else []
        scenarios += [t["scenario"]] if t["scenario"] not in scenarios else []
        cells.setdefault((t["strategy"], t["scenario"]), []).append(t)
    return strategies, scenarios, cells
