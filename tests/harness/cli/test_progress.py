"""Progress where no bar is drawn (stdout not a terminal): harness.cli.measuring.PlainProgress."""

from __future__ import annotations

from harness.cli.measuring import PlainProgress


def test_a_line_every_interval_with_the_time_left_at_the_pace_so_far() -> None:
    now = [100.0]
    plain = PlainProgress(every_s=30, clock=lambda: now[0])
    now[0] = 110.0
    assert plain.line(5, 100, "io / threads") is None  # under 30 s since the start: quiet
    now[0] = 160.0
    assert plain.line(20, 100, "io / threads r3") == (
        "progress: 20/100 trials, 1m00s elapsed, about 4m00s left (now: io / threads r3)"
    )
    now[0] = 170.0
    assert plain.line(25, 100, "x") is None  # 10 s after the last line
    now[0] = 200.0
    assert plain.line(100, 100, "x") == "progress: 100/100 trials, 1m40s elapsed (now: x)"
