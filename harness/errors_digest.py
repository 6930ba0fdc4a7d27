"""Repeated messages, said once with a count: a pool that breaks reports the same error for
every item it held ("BrokenProcessPool: ..." ten times); a reader wants it once, with "× 10"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def grouped(messages: Iterable[str]) -> list[str]:
    """The distinct messages in first-seen order, each repeated one followed by ``(× n)``."""
    counts = Counter(messages)
    return [f"{m} (× {n})" if n > 1 else m for m, n in counts.items()]
