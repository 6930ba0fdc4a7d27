"""Hostile scenario files get one line and exit 2, quickly and in little memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import scenario
from harness.errors import ScenarioError

VALID = 'name = "x"\nwriters = 1\nreaders = 1\nitems_per_writer = 2\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scenario = [1]\n", "scenario #1 must be a table"),
        ("scenario = ['a']\n", "scenario #1 must be a table"),
        ("[[scenario]]\n" + VALID + "description = " + "[" * 600 + "]" * 600 + "\n", "nested too deeply"),
        ("[[scenario]]\n" + VALID + ".".join(["a"] * 20_000) + " = 1\n", "more than 16 dotted parts"),
        (
            "[[scenario]]\n" + VALID.replace("writers = 1", "writers = true"),
            "field 'writers': Input should be a valid integer",
        ),
        ("[[scenario]]\n" + VALID + "queue_maxsize = 9223372036854775807\n", "field 'queue_maxsize'"),
        ("[[scenario]]\n" + VALID.replace("writers = 1", "writer = 1"), "unknown field; did you mean 'writers'?"),
        ("[[scenario]]\n" + VALID + "reader_work = { kind = 'cpu', ms = 1, gill = 'hold' }\n", "did you mean 'gil'?"),
        ("[[scenario]]\n" + VALID + "reader_work = { kind = 'gpu', ms = 1 }\n", "unknown work kind 'gpu'"),
        ("[[scenario]]\n" + 'name = "a\\nb"\nwriters = 0\n', r"scenario 'a\nb'"),
    ],
)
def test_hostile_text_gives_one_line(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario.parse(text, "f.toml")
    line = str(info.value)
    assert expected in line
    assert "\n" not in line


def test_a_huge_file_is_refused_before_parsing() -> None:
    with pytest.raises(ScenarioError, match="at most 1,048,576"):
        scenario.parse("#" * (2 * 1024 * 1024), "big.toml")


def test_devices_and_fifos_are_refused_without_reading_or_hanging(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not a regular file"):
        scenario.load(Path("/dev/zero"))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        scenario.load(fifo)
