"""A strategy that measures some work differently from the others says so before a run (its
registry entry's ``caveat``): asyncio-uvloop's sleeps count whole milliseconds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from strategies import registry
from strategies.base import WorkSpec

UVLOOP = registry.get("asyncio-uvloop")
NONE = WorkSpec()


@pytest.mark.parametrize(
    ("reader", "warned"),
    [
        (WorkSpec("io", 0.5), True),  # returns at once under uvloop
        (WorkSpec("io", 1.5, "uniform", 0.5), True),  # draws down to 0.75 ms
        (WorkSpec("io", 3.0, "exponential"), True),  # an exponential draws near 0 too
        (WorkSpec("io", 2.0, "uniform", 0.25), False),  # 1.5 ms at the least
        (WorkSpec("io", 5.0), False),
        (WorkSpec("cpu", 0.5), False),  # not a sleep
        (NONE, False),
    ],
)
def test_uvloop_warns_about_sleeps_under_a_millisecond(reader: WorkSpec, warned: bool) -> None:
    said = UVLOOP.caveat_for(NONE, reader)
    assert bool(said) is warned
    if warned:
        assert said.startswith("reader io work") and "whole milliseconds" in said


def test_other_strategies_have_no_caveat() -> None:
    assert registry.get("asyncio").caveat_for(NONE, WorkSpec("io", 0.5)) == ""


def test_run_prints_the_caveat_before_the_table(tmp_path: Path) -> None:
    if not UVLOOP.available()[0]:
        pytest.skip(f"asyncio-uvloop unavailable here: {UVLOOP.available()[1]}")
    toml = tmp_path / "short.toml"
    toml.write_text(
        textwrap.dedent(
            """
            [[scenario]]
            name = "short-sleeps"
            writers = 2
            readers = 1
            items_per_writer = 3
            reader_work = { kind = "io", ms = 0.3 }
            repeats = 1
            warmup = 0
            """
        )
    )
    out = CliRunner().invoke(app, ["run", str(toml), "-s", "asyncio-uvloop", "-s", "asyncio", "-o", str(tmp_path)])
    assert out.exit_code == 0, out.output
    flat = " ".join(out.output.split())
    assert "caveat short-sleeps / asyncio-uvloop: reader io work draws sleeps under 1 ms" in flat
    assert "short-sleeps / asyncio:" not in flat  # the default loop keeps sub-millisecond sleeps
