"""One loader for ``"module:callable"`` names, used by every seam that names what it loads."""

from __future__ import annotations

import re

import pytest

from harness.exports import exporter
from harness.running import launchers
from strategies import kinds, registry
from strategies.loader import resolve
from tests.helpers import ROOT


def test_resolve_loads_what_the_name_says_once() -> None:
    assert resolve("strategies.threads:run") is registry.get("threads").load()
    assert resolve("os.path:join") is resolve("os.path:join")
    assert resolve.cache_info().hits >= 1


def test_a_bad_name_fails_as_an_import_would() -> None:
    with pytest.raises(ImportError):
        resolve("strategies.no_such_module:run")
    with pytest.raises(AttributeError):
        resolve("strategies.threads:no_such_function")
    with pytest.raises(ValueError, match="expected 'module:attribute'"):
        resolve("strategies.threads")


def test_every_seam_loads_through_it() -> None:
    assert kinds.get("io") is resolve(f"{kinds.KINDS['io']}:KIND")
    assert exporter("bencher") is resolve("harness.exports.bencher:export")
    assert type(launchers.make("inprocess")) is resolve(launchers.LAUNCHERS["inprocess"])


def test_no_module_resolves_a_name_by_hand() -> None:
    """``getattr(importlib.import_module(m), attr)`` was written in six places; now nowhere."""
    by_hand = re.compile(r"getattr\(\s*importlib\.import_module|import_module\([^)]*\)\.[A-Z]")
    found = [
        str(p.relative_to(ROOT))
        for top in ("harness", "strategies", "queuebench")
        for p in (ROOT / top).rglob("*.py")
        if by_hand.search(p.read_text(encoding="utf-8"))
    ]
    assert found == []
