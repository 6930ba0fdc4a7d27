"""docs/measurements.md quotes the code's constants and figures' names: each is checked against
the code here, so the page cannot drift from it again (issue 24, item 9: it said seven
integers of 56 bytes, ``ru_maxrss`` and ``peak_child_rss_mb``, and a busy share of 0.75)."""

from __future__ import annotations

import re

import pytest

from harness.analysis import metrics, trust
from harness.running.launchers import memory
from strategies import base, records
from strategies.kinds import cpu
from tests.helpers import ROOT, run, small_workload

DOC = (ROOT / "docs" / "measurements.md").read_text(encoding="utf-8")
TEXT = " ".join(DOC.split())  # line breaks as spaces: a quote may wrap


def _ordinal(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n if n < 20 else n % 10, 'th') }"


@pytest.mark.parametrize(
    "quote",
    [
        f"per-item record: {records.WIDTH} 64-bit integers, {records.ROW.size} bytes",
        f"{records.WRITER_WIDTH} 64-bit integers per item",
        f"effective parallelism under {trust.BUSY_SHARE:g} × the usable cores",
        f"every {memory.TICK_S * 1000:g} ms (`TICK_S`)",
        f"a new high by {round((memory.NEW_HIGH - 1) * 100)}% (`NEW_HIGH`)",
        f"read every {memory.REFRESH_S * 1000:g} ms while it lives",
        f"many ~{cpu.TIMING_S * 1000:g} ms slices",
        f"back to back for {cpu.BUDGET_S:g} s per kind (`BUDGET_S`",
        f"the {_ordinal(cpu.RANK)}-fastest slice (`RANK`)",
        f"exceeds {metrics.LITTLE_TOLERANCE:.0e}".replace("e-0", "e-") + " (`LITTLE_TOLERANCE`)",
        "p50, p90, p99 and max",
    ],
)
def test_the_page_quotes_the_codes_constants(quote: str) -> None:
    assert quote in TEXT, f"docs/measurements.md no longer says {quote!r}: update the page or the code"


def test_the_record_fields_and_percentiles_are_the_codes() -> None:
    for name in records.FIELDS:
        assert f"`{name}`" in DOC, name
    assert list(metrics.percentiles(metrics.np.array([1, 2]))) == ["p50", "p90", "p99", "max"]


def test_every_figure_the_page_names_is_one_a_trial_records() -> None:
    named = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", DOC))
    figures = {
        n
        for n in named
        if n.endswith(("_mb", "_ms", "_s")) or n.startswith("littles_") or n in ("memory_samples", "memory_held_back")
    }
    figures -= {"littles_law"}  # the function
    wl = small_workload(reader_work=base.WorkSpec("io", 5))
    out = run("mp-queue", wl)
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, out.writes, out.memory)
    assert figures and not figures - set(m), f"named on the page but not recorded: {sorted(figures - set(m))}"
    assert "peak_child_rss_mb" not in DOC and "seven 64-bit" not in DOC
