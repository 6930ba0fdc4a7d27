"""The optional strategies under the interpreters that have them (uvloop, PEP 734
subinterpreters), and their availability, with the reason, under those that do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.analysis import metrics
from harness.cli import app
from harness.running import launchers
from harness.running.launchers import TrialSpec
from strategies import base, registry
from tests.helpers import PY310, PY313, ROOT, WORKER_ENVS, small_workload

cli = CliRunner()


def test_a_check_hook_gives_the_reason_in_the_workers_interpreter() -> None:
    entry = registry.get("subinterpreters")
    ok, why = entry.available()
    if sys.version_info < (3, 12):
        assert (ok, why) == (False, "needs Python >= 3.12")
    elif not ok:
        assert why.startswith("needs ") and "interpreters" in why


def test_a_check_that_answers_blocks_the_strategy_and_its_answer_is_the_reason() -> None:
    def entry(check: str) -> registry.Entry:
        return registry.Entry("x", "strategies.sequential:run", "x", registry.Family.SERIAL, check=check)

    assert entry("os:getcwd").available() == (False, __import__("os").getcwd())  # any non-empty answer
    assert entry("builtins:str").available() == (True, "")  # "" means available


@pytest.mark.skipif(not PY313.exists(), reason="needs pyenv's CPython 3.13.0")
def test_list_says_why_subinterpreters_and_uvloop_are_unavailable_without_their_packages() -> None:
    """pyenv's bare 3.13: the strategies are listed, unavailable, with the package to install."""
    result = cli.invoke(app, ["list", "--python", str(PY313)])
    assert result.exit_code == 0, result.output
    facts = launchers.make("local", python=str(PY313)).available()["strategies"]
    ok, why = facts["subinterpreters"]
    if not ok:  # a bare pyenv 3.13 has no backport
        assert "interpreters-pep-734" in str(why)
    assert "subinterpreters" in result.output


@pytest.mark.skipif(not PY310.exists(), reason="needs pyenv's CPython 3.10")
def test_subinterpreters_need_312_and_uvloop_its_package_under_310() -> None:
    facts = launchers.make("local", python=str(PY310)).available()["strategies"]
    assert facts["subinterpreters"] == [False, "needs Python >= 3.12"]
    assert facts["asyncio-uvloop"][0] is False or facts["asyncio-uvloop"] == [True, ""]


@pytest.mark.skipif(not WORKER_ENVS, reason="no worker env: make worker-env PYTHON=<a CPython 3.12/3.13>")
@pytest.mark.parametrize("python", WORKER_ENVS, ids=lambda p: p.parent.parent.name)
@pytest.mark.parametrize("strategy", ["subinterpreters", "asyncio-uvloop"])
def test_optional_strategies_deliver_exactly_once_in_a_worker_env(python: Path, strategy: str) -> None:
    """Exactly once, within the pool, every reader a subinterpreter of its own (distinct ids)."""
    launcher = launchers.make("local", python=str(python))
    ok, why = launcher.available()["strategies"][strategy]
    if not ok:
        pytest.skip(f"{strategy} unavailable under {python}: {why}")
    wl = small_workload(None, readers=3)
    out = launcher.run(TrialSpec(strategy, wl, 60.0))
    assert out.status == "ok", out.errors
    assert out.errors == [] and out.leftovers == []
    rec = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    d = metrics.delivery(rec, wl.writers, wl.items_per_writer)
    assert (d.lost, d.duplicated, d.unexpected, d.unique) == (0, 0, 0, wl.total_items)
    assert 1 <= metrics.max_concurrency(rec[:, metrics.DEQUEUED], rec[:, metrics.DONE]) <= wl.readers
    assert (rec[:, metrics.PRODUCED] >= out.meta["start"]).all()
    assert len(np.unique(rec[:, metrics.READER])) <= wl.readers


def _free_threaded_python() -> Path | None:
    """The free-threaded build `make python-ft` made, if it is there (never builds it)."""
    found = subprocess.run([str(ROOT / "tools" / "python-ft.sh"), "--path"], capture_output=True, text=True)
    return Path(found.stdout.strip()) if found.returncode == 0 else None


FT_PYTHON = _free_threaded_python()
NO_FT = (
    "no free-threaded build in the cache: `make python-ft` builds it (about 11 minutes); .ci/run builds it when absent"
)


@pytest.mark.free_threaded
@pytest.mark.skipif(FT_PYTHON is None, reason=NO_FT)
def test_the_free_threaded_build_runs_the_worker_with_the_gil_off() -> None:
    """The worker side imports nothing that turns the GIL back on (pandas would, with a warning)."""
    facts = launchers.make("local", python=str(FT_PYTHON)).available()
    assert facts["gil_enabled"] is False
    assert facts["strategies"]["threads"] == [True, ""]


@pytest.mark.free_threaded
@pytest.mark.skipif(FT_PYTHON is None, reason=NO_FT)
def test_threads_deliver_exactly_once_on_gil_holding_work_without_the_gil() -> None:
    """Reader threads really run Python code side by side there: same checks as anywhere."""
    spec = base.WorkSpec("cpu", 1.0, params=(("gil", "hold"),))
    wl = small_workload(None, readers=2, writer_work=base.WorkSpec(), reader_work=spec)
    out = launchers.make("local", python=str(FT_PYTHON)).run(TrialSpec("threads", wl, 60.0))
    assert out.status == "ok", out.errors
    rec = metrics.join_records(out.reads, out.writes, wl.items_per_writer)
    d = metrics.delivery(rec, wl.writers, wl.items_per_writer)
    assert (d.lost, d.duplicated, d.unexpected, d.unique) == (0, 0, 0, wl.total_items)
    assert 1 <= metrics.max_concurrency(rec[:, metrics.DEQUEUED], rec[:, metrics.DONE]) <= wl.readers
