"""Scenario files: every shipped file is valid; bad ones give one clear line naming file, scenario, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import errors, scenario
from strategies import base
from tests.helpers import SCENARIOS

GOOD = """
[defaults]
repeats = 2

[[scenario]]
name = "a"
writers = 2
readers = 1
items_per_writer = 3
reader_work = { kind = "io", ms = 1.5, dist = "exponential" }

[[scenario]]
name = "b"
writers = 1
readers = 1
items_per_writer = 1
repeats = 5
strategies = ["threads"]
"""


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_are_valid(path: Path) -> None:
    loaded = scenario.load(path)
    assert loaded and all(item.scenario.description for item in loaded)


def test_default_suite_files_exist() -> None:
    assert all(p.exists() for p in scenario.default_suite())


def test_defaults_apply_and_scenario_overrides() -> None:
    a, b = scenario.parse(GOOD, "x.toml")
    assert (a.name, a.repeats, a.reader_work.kind, a.reader_work.ms) == ("a", 2, "io", 1.5)
    assert (b.repeats, b.strategies) == (5, ["threads"])
    assert a.workload("spawn", base.Calibration()).reader_work.dist == "exponential"


BAD = [
    ("not toml [", "not valid TOML"),
    ("[[scenario]]\nname='x'\nreaders=1\nitems_per_writer=1\n", "field 'writers': Field required"),
    (
        "[[scenario]]\nname='x'\nwriters=-1\nreaders=1\nitems_per_writer=1\n",
        "field 'writers': Input should be greater than or equal to 1 (got -1)",
    ),
    ("[[scenario]]\nname='x'\nwriters='many'\nreaders=1\nitems_per_writer=1\n", "field 'writers'"),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\ncolour='red'\n",
        "field 'colour': unknown field",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='io'}\n",
        "kind 'io' needs ms > 0",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='gpu', ms=1}\n",
        "field 'reader_work.kind': unknown work kind 'gpu'; did you mean 'cpu'? (valid kinds: none, io, cpu, service,",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='ioo', ms=1}\n",
        "field 'reader_work.kind': unknown work kind 'ioo'; did you mean 'io'? (valid kinds: none, io, cpu, service,",
    ),
    (  # a scenario's name for a kind, a case or a separator apart: still the kind meant
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='io-bound', ms=1}\n",
        "unknown work kind 'io-bound'; did you mean 'io'? (valid kinds:",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='Docker_Push', ms=1}\n",
        "unknown work kind 'Docker_Push'; did you mean 'docker-push'? (valid kinds:",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nreader_work={kind='disk', ms=1}\n",
        "field 'reader_work.kind': unknown work kind 'disk' (valid kinds: none, io, cpu, service,",
    ),
    ("[[scenario]]\nname='x'\nwriters=500\nreaders=1\nitems_per_writer=100000\n", "at most 5,000,000"),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nstrategies=['nope']\n",
        "unknown strategy 'nope' (valid names: seed-pool,",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\nstrategies=['thread']\n",
        "unknown strategy 'thread'; did you mean 'threads'? (valid names: seed-pool,",
    ),
    (
        "[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\n[[scenario]]\nname='x'\nwriters=1\nreaders=1\nitems_per_writer=1\n",
        "used twice: x",
    ),
    ("title = 'nothing'\n", "unknown top-level key"),
    ("[defaults]\nrepeats=1\n", "no [[scenario]] tables"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[e for _, e in BAD])
def test_bad_scenarios_give_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(errors.ScenarioError) as info:
        scenario.parse(text, "bad.toml")
    message = str(info.value)
    assert expected in message
    assert message.startswith("bad.toml: ")
    assert "\n" not in message


def test_error_names_the_scenario() -> None:
    text = "[[scenario]]\nname='fast'\nwriters=1\nreaders=0\nitems_per_writer=1\n"
    with pytest.raises(errors.ScenarioError, match=r"^bad.toml: scenario 'fast': field 'readers'"):
        scenario.parse(text, "bad.toml")


def test_non_utf8_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b"name = '\xff'\n")
    with pytest.raises(errors.ScenarioError, match="not UTF-8"):
        scenario.load(bad)
    with pytest.raises(errors.ScenarioError, match="cannot read"):
        scenario.load(tmp_path / "missing.toml")


def test_same_name_in_two_files_is_refused(tmp_path: Path) -> None:
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    text = "[[scenario]]\nname='dup'\nwriters=1\nreaders=1\nitems_per_writer=1\n"
    one.write_text(text)
    two.write_text(text)
    with pytest.raises(errors.ScenarioError, match="also defined in"):
        scenario.load_many([one, two])
