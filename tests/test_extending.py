"""The seams of docs/extending.md, used as a third party would: a throwaway work kind
and a throwaway strategy, each one module plus one registry line, run end to end."""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from pathlib import Path

import pytest

from harness.running import launchers, suite
from harness.scenario import LoadedScenario, Scenario
from strategies import kinds, registry
from tests.helpers import ROOT

KIND_MODULE = """
from strategies.base import Calibration, WorkSpec
from strategies.kinds import Kind

CALLS = []


class Count(Kind):
    name = "count"
    summary = "appends each item's duration to CALLS"
    params = {"step": 1}

    def check(self, spec: WorkSpec) -> None:
        if spec.param("step", 1) < 1:
            raise ValueError("step: must be at least 1")

    def prepare(self, spec: WorkSpec, cal: Calibration):
        return CALLS.append


KIND = Count()
"""

STRATEGY_MODULE = """
from strategies.base import Trace, Workload, now
from strategies.instrument import ReaderSide, WriterSide


def run(workload: Workload) -> Trace:
    trace = Trace(setup_start=now())
    reader = ReaderSide(workload)
    sides = [WriterSide(workload, w) for w in range(workload.writers)]
    trace.start = now()
    for ws in sides:
        for seq in range(ws.n):
            item = ws.make(seq)
            ws.mark_enqueued(seq)
            reader.consume(item)
    trace.end = now()
    return trace
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "qb_throwaway_kind.py").write_text(textwrap.dedent(KIND_MODULE))
    (tmp_path / "qb_throwaway_strategy.py").write_text(textwrap.dedent(STRATEGY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    # The one registry line each seam asks for.
    monkeypatch.setitem(kinds.KINDS, "count", "qb_throwaway_kind")
    monkeypatch.setitem(
        registry.REGISTRY,
        "throwaway",
        registry.Entry("throwaway", "qb_throwaway_strategy:run", "one loop", registry.Family.SERIAL),
    )
    yield tmp_path
    kinds._LOADED.pop("count", None)
    for name in ("qb_throwaway_kind", "qb_throwaway_strategy"):
        sys.modules.pop(name, None)


def test_a_new_kind_and_strategy_run_through_the_public_seams(plugin_dir: Path, tmp_path: Path) -> None:
    sc = Scenario.model_validate(
        {
            "name": "plugin",
            "writers": 2,
            "readers": 1,
            "items_per_writer": 5,
            "reader_work": {"kind": "count", "ms": 3, "step": 2},
            "repeats": 1,
            "warmup": 0,
        }
    )
    assert sc.reader_work.spec().param("step") == 2
    opts = suite.Options(strategies=["throwaway"], out=tmp_path / "results")
    prepared = suite.prepare([LoadedScenario(sc, "test")], opts, launchers.make("inprocess"))
    run_dir, doc = prepared.run()
    (trial,) = doc["trials"]
    assert trial["status"] == "ok", trial["errors"]
    assert trial["metrics"]["exactly_once"] and trial["metrics"]["consumed"] == 10
    assert sys.modules["qb_throwaway_kind"].CALLS == [0.003] * 10  # the kind did each item's work
    assert (run_dir / "run.json").exists()


def test_a_new_kind_checks_its_own_fields(plugin_dir: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="step: must be at least 1"):
        Scenario.model_validate(
            {
                "name": "p",
                "writers": 1,
                "readers": 1,
                "items_per_writer": 1,
                "reader_work": {"kind": "count", "ms": 1, "step": 0},
            }
        )
    with pytest.raises(ValidationError, match="stpe: unknown field; did you mean 'step'"):
        Scenario.model_validate(
            {
                "name": "p",
                "writers": 1,
                "readers": 1,
                "items_per_writer": 1,
                "reader_work": {"kind": "count", "ms": 1, "stpe": 2},
            }
        )


def test_a_new_launcher_is_a_module_and_a_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(launchers.LAUNCHERS, "mine", "harness.running.launchers.inprocess:InProcessLauncher")
    assert launchers.make("mine").name == "inprocess"
    with pytest.raises(ValueError, match=r"unknown launcher .nope.; valid launchers: local, inprocess, dask, mine"):
        launchers.make("nope")


def _dotted_names(text: str) -> set[str]:
    """Every `harness.x.y` / `strategies.x.y` name in backticks (module paths and attributes)."""
    return set(re.findall(r"`((?:harness|strategies)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text))


def _resolve(name: str) -> object:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def test_every_name_in_the_extending_doc_exists() -> None:
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    names = _dotted_names(text) - {
        n
        for n in _dotted_names(text)
        if n.startswith(
            ("strategies.my_", "strategies.kinds.disk", "harness.exports.csv_medians", "harness.running.launchers.nice")
        )
    }
    assert len(names) > 20
    missing = []
    for name in sorted(names):
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"docs/extending.md names what does not exist: {missing}"
