"""Whether a trial passed: the launcher's status, then every check its records must meet."""

from __future__ import annotations

import math
from typing import Any

from harness.analysis import metrics
from harness.running.launchers import TrialOutput


def classify(out: TrialOutput, m: dict[str, Any]) -> tuple[str, list[str]]:
    """Final trial status: timeout/error from the launcher, else failed if a check broke.

    A trial passes only if every item was consumed exactly once, within the pool size,
    after the start line (which it must stamp), with no process left behind and no
    error reported by the strategy or any of its processes.
    """
    status, errors = out.status, list(out.errors)
    problems = []
    if status != "ok":
        pass  # killed or crashed: its start line was never reported, and that is not the news
    elif not out.meta.get("start"):
        problems.append("the strategy never stamped its start line (Trace.start): no makespan can be measured")
    elif m["produced_before_start"]:
        problems.append(
            f"{m['produced_before_start']} item(s) produced before the start line: the makespan would hide their work"
        )
    if not m["exactly_once"]:
        problems.append(
            f"exactly-once broken: lost {m['lost']}, duplicated {m['duplicated']}, unexpected {m['unexpected']}"
        )
    if m["max_concurrency"] > m["pool_size"]:
        problems.append(f"reader concurrency {m['max_concurrency']} exceeded the pool size {m['pool_size']}")
    if out.leftovers:
        problems.append(f"left {len(out.leftovers)} process(es) alive (killed): {'; '.join(out.leftovers)}")
    problems.extend(registry_problems(m) + (metrics.littles_law_problems(m) if status == "ok" and not problems else []))
    if status == "ok" and (problems or errors):
        status = "failed"
    if status != "ok":  # a failed trial's figures are not the strategy's: no efficiency to show
        m["efficiency"] = math.nan
    return status, errors + problems


def registry_problems(m: dict[str, Any]) -> list[str]:
    """docker-push's exactly-once against the outside world: after the trial, the trial's
    registry holds every item's image once (one tag per item) and nothing else."""
    if "registry_tags_expected" not in m:
        return []
    built, found, extra = m["registry_tags_expected"], m["registry_tags_found"], m["registry_tags_unexpected"]
    if any(isinstance(v, float) and math.isnan(v) for v in (built, found, extra)):
        return ["the registry could not be read after the trial: its exactly-once is unknown"]
    if built == found == m["expected"] and not extra:
        return []
    return [
        f"registry exactly-once broken: {int(found)} of {m['expected']} items' images in the registry"
        f" ({int(built)} built, {int(extra)} unexpected tag(s))"
    ]
