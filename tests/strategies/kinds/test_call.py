"""The ``call`` kind: a user's own function per item, from a package outside the checkout, under
every strategy family and start method; its setup per reader, its errors with file and line, and
the wrong colour refused at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.analysis import metrics
from harness.running.launchers.base import TrialSpec, UserCode
from harness.running.launchers.local import LocalLauncher
from strategies import base
from tests.helpers import START_METHODS

PUSH = """
import asyncio, contextlib, itertools, os
from pathlib import Path

CALLS = Path(os.environ["MYPKG_CALLS"])
OPENED = itertools.count()


def push(writer, seq, payload):
    (CALLS / f"call-{writer}-{seq}-{len(payload)}").touch()


async def apush(writer, seq, payload):
    await asyncio.sleep(0.001)
    (CALLS / f"call-{writer}-{seq}-{len(payload)}").touch()


@contextlib.contextmanager
def client():
    me = f"{os.getpid()}-{next(OPENED)}"
    (CALLS / f"enter-{me}").touch()
    try:
        yield me
    finally:
        (CALLS / f"exit-{me}").touch()


def push_with(writer, seq, payload, client):
    (CALLS / f"call-{writer}-{seq}-{len(payload)}").touch()
    (CALLS / f"used-{client}-{writer}-{seq}").touch()


def boom(writer, seq, payload):
    if seq == 1:
        raise KeyError(f"no such image {writer}/{seq}")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package of the user's, ``mypkg``, in a folder of its own outside the checkout."""
    root = tmp_path / "proj"
    (root / "mypkg").mkdir(parents=True)
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "push.py").write_text(textwrap.dedent(PUSH))
    (tmp_path / "calls").mkdir()
    monkeypatch.setenv("MYPKG_CALLS", str(tmp_path / "calls"))
    return root


def _run(project: Path, strategy: str, method: str | None, reader: dict[str, str], readers: int = 2) -> object:
    work = base.WorkSpec("call", params=tuple(sorted(reader.items())))
    wl = base.Workload(
        writers=2, readers=readers, items_per_writer=4, payload_bytes=32, reader_work=work, start_method=method
    )
    launcher = LocalLauncher(user=UserCode(paths=(str(project),)))
    return launcher.run(TrialSpec(strategy, wl, timeout=60))


FAMILIES = [
    ("threads", None),
    ("sequential", None),
    *[(s, m) for s in ("mp-queue", "process-pool", "seed-pool") for m in START_METHODS if m != "forkserver"],
]


@pytest.mark.parametrize(("strategy", "method"), FAMILIES, ids=[f"{s}-{m or 'n/a'}" for s, m in FAMILIES])
def test_a_function_outside_the_checkout_runs_once_per_item(project: Path, strategy: str, method: str | None) -> None:
    out = _run(project, strategy, method, {"call": "mypkg.push:push"})
    assert out.status == "ok", out.errors
    calls = sorted(p.name for p in (project.parent / "calls").iterdir())
    assert calls == sorted(f"call-{w}-{s}-32" for w in range(2) for s in range(4))  # each item, its payload
    rows = metrics.join_records(out.reads, out.writes, 4)
    d = metrics.delivery(rows, 2, 4)
    assert (d.lost, d.duplicated, d.unique) == (0, 0, 8)


def test_an_async_function_is_awaited_under_asyncio(project: Path) -> None:
    out = _run(project, "asyncio", None, {"call": "mypkg.push:apush"})
    assert out.status == "ok", out.errors
    assert len(list((project.parent / "calls").glob("call-*"))) == 8
    rows = metrics.join_records(out.reads, out.writes, 4)
    assert metrics.max_concurrency(rows[:, metrics.DEQUEUED], rows[:, metrics.DONE]) == 2  # awaited: both readers


@pytest.mark.parametrize("strategy", ["threads", "mp-queue", "seed-pool"])
def test_an_async_function_under_a_sync_strategy_is_refused_at_once(project: Path, strategy: str) -> None:
    out = _run(project, strategy, None, {"call": "mypkg.push:apush"})
    assert out.status == "error"
    assert out.meta["user_code_failed"] is True
    assert "is an async function: run it under asyncio" in out.errors[0]
    assert not list((project.parent / "calls").iterdir())  # no item was tried


@pytest.mark.parametrize(("strategy", "readers", "enters"), [("threads", 3, 3), ("mp-queue", 2, 2), ("asyncio", 2, 2)])
def test_setup_is_entered_once_per_reader_and_exited(project: Path, strategy: str, readers: int, enters: int) -> None:
    out = _run(project, strategy, "fork", {"call": "mypkg.push:push_with", "setup": "mypkg.push:client"}, readers)
    assert out.status == "ok", out.errors
    calls = project.parent / "calls"
    entered = {p.name.removeprefix("enter-") for p in calls.glob("enter-*")}
    exited = {p.name.removeprefix("exit-") for p in calls.glob("exit-*")}
    assert len(entered) == enters
    assert exited == entered  # each reader's client closed when the trial ended
    used = {p.name.removeprefix("used-").rsplit("-", 2)[0] for p in calls.glob("used-*")}  # pid-n of the client
    assert used <= entered and len(list(calls.glob("used-*"))) == 8


@pytest.mark.parametrize(("strategy", "method"), [("mp-queue", "spawn"), ("threads", None), ("seed-pool", "fork")])
def test_your_exception_comes_back_with_its_file_and_line(project: Path, strategy: str, method: str | None) -> None:
    out = _run(project, strategy, method, {"call": "mypkg.push:boom"})
    assert out.meta["user_code_failed"] is True  # the launcher's status: "ok" (it ran), failed by its checks
    first = out.errors[0]
    assert first.startswith("mypkg.push:boom raised KeyError: 'no such image")
    assert f'File "{project / "mypkg" / "push.py"}", line ' in first
    assert "raise KeyError" in first


@pytest.mark.parametrize("strategy", ["seed-pool", "mp-queue", "asyncio"])
def test_an_import_error_fails_the_trial_at_once(project: Path, strategy: str) -> None:
    (project / "mypkg" / "broken.py").write_text("import nothing_of_the_kind\n")
    out = _run(project, strategy, "spawn", {"call": "mypkg.broken:push"})
    assert out.status == "error"  # not "timeout": the worker refused before any reader started
    assert out.errors[0].startswith("call 'mypkg.broken:push' cannot be loaded: ModuleNotFoundError")
    assert "broken.py" in out.errors[0]
    assert out.wall_s < 60  # a guard against the old 60-second timeout, not a timing claim


def test_the_fields_are_checked_where_the_scenario_is_read() -> None:
    from harness import scenario
    from harness.errors import ScenarioError

    def load(reader: str) -> None:
        scenario.parse(f'[[scenario]]\nname = "x"\nwriters = 1\nreaders = 1\nitems_per_writer = 1\n{reader}\n', "t")

    with pytest.raises(ScenarioError, match=r"reader_work\.call': 'push' is not 'module:function'"):
        load('reader_work = { kind = "call", call = "push" }')
    with pytest.raises(ScenarioError, match=r"reader_work\.ms': kind 'call' does no timed work"):
        load('reader_work = { kind = "call", call = "a:b", ms = 3 }')
    load('reader_work = { kind = "call", call = "mypkg.push:push", setup = "mypkg.push:client" }')  # no error
