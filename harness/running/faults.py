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
