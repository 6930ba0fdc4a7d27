"""Repeated messages, said once with a count: a pool that breaks reports the same error for
every item it held ("BrokenProcessPool: ..." ten times); a reader wants it once, with "× 10"."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from harness.rundir.model import Trial

_PID = re.compile(r" \(pid \d+\)")
#: Trial ids named per group of identical failures.
MAX_IDS = 4


def grouped(messages: Iterable[str]) -> list[str]:
    """The distinct messages in first-seen order, each repeated one followed by ``(× n)``."""
    counts = Counter(messages)
    return [f"{m} (× {n})" if n > 1 else m for m, n in counts.items()]


def without_pids(message: str) -> str:
    """The message with its "(pid 1234)" parts left out: they differ between otherwise identical failures."""
    return _PID.sub("", message)


def failure_groups(trials: Iterable[Trial]) -> dict[tuple[str, str], list[str]]:
    """Trials that did not pass, grouped by (status, their errors: pids left out, repeats counted),
    each with its trial ids, in first-seen order."""
    out: dict[tuple[str, str], list[str]] = {}
    for t in trials:
        why = "; ".join(grouped(without_pids(str(e)) for e in t.errors)) or "no detail recorded"
        out.setdefault((t.status, why), []).append(t.id)
    return out


def ids_line(ids: list[str]) -> str:
    """'a, b, c, d and 3 more'."""
    shown = ", ".join(ids[:MAX_IDS])
    return shown + (f" and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else "")
