"""Little's law as a self-check of every passing trial: the mean number of items in the system
equals throughput × mean time in the system, over the one window both use."""

from __future__ import annotations

import numpy as np

from harness.analysis import metrics
from harness.running import suite
from harness.running.launchers import TrialOutput
from strategies import base, records
from tests.helpers import run, small_workload

T0, T1 = 1_000, 11_000


def _rows(*spans: tuple[int, int]) -> np.ndarray:
    rows = np.zeros((len(spans), records.WIDTH), dtype=np.int64)
    for i, (produced, done) in enumerate(spans):
        rows[i, [records.WRITER, records.SEQ, records.PRODUCED, records.DEQUEUED, records.DONE]] = (
            0,
            i,
            produced,
            done - 1,
            done,
        )
    return rows


def test_a_sound_trial_satisfies_it_exactly() -> None:
    got = metrics.littles_law(_rows((1_500, 4_000), (2_000, 9_000), (3_333, 10_999)), T0, T1, unique=3)
    assert got["littles_gap"] == 0.0
    assert got["littles_l"] == (2_500 + 7_000 + 7_666) / 10_000 == got["littles_lambda_w"]


def test_a_broken_clock_a_bad_window_and_a_record_counted_twice_are_each_flagged() -> None:
    backwards = _rows((1_500, 4_000), (9_000, 2_000))  # done before produced
    early = _rows((1_500, 4_000), (500, 9_000))  # produced before the window opened
    twice = _rows((1_500, 4_000), (1_500, 4_000))  # one item's record twice
    for rows, unique in ((backwards, 2), (early, 2), (twice, 1)):
        m = metrics.littles_law(rows, T0, T1, unique)
        assert m["littles_gap"] > metrics.LITTLE_TOLERANCE
        assert metrics.littles_law_problems(m)[0].startswith("Little's law broken")


def test_a_real_trial_satisfies_it_and_a_broken_one_fails() -> None:
    wl = small_workload(reader_work=base.WorkSpec("io", 2))
    out = run("threads", wl)
    rows = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    m = metrics.trial_metrics(rows, wl, out.meta, 2.0, out.writes, out.memory)
    assert m["littles_gap"] <= metrics.LITTLE_TOLERANCE and m["littles_l"] > 0
    assert suite.classify(out, dict(m))[0] == "ok"
    broken = dict(m, littles_gap=0.2)  # what a clock that jumped would leave
    status, errors = suite.classify(TrialOutput("ok", out.meta, out.reads, out.writes, 1.0), broken)
    assert status == "failed" and any("Little's law" in e for e in errors)
