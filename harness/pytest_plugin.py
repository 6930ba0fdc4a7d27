"""pytest plugin: run a queuebench strategy on a scenario under pytest-benchmark.

Registered as the ``queuebench`` pytest11 entry point, so installing queuebench (with the
``pytest`` extra, which brings pytest-benchmark) makes the fixture available::

    def test_pushes(queuebench_benchmark):
        result = queuebench_benchmark("threads", "scenarios/io-bound.toml", repeats=10)
        assert result.throughput > 0

The strategy is a built-in or installed name, your own as ``"mypkg.pipeline:run"``, or the
function itself (``queuebench_benchmark(pipeline.run, ...)``, a module-level function): its
project, and pytest's root folder, go on the worker's path, as ``--path`` does.

Then ``pytest --benchmark-autosave`` on main and ``pytest --benchmark-compare
--benchmark-compare-fail=median:10%`` on a branch gate it the pytest-benchmark way.

Each call runs the trials exactly as ``queuebench run`` does (warmups first, every trial in
a fresh worker process under the watchdog) and writes a results directory
(``result.run_dir``). Where: ``out=`` if the call gives it, else ``--queuebench-out DIR`` on
the pytest command line, else the ``queuebench_out`` ini option (``queuebench_out = results``
keeps them with your other runs), else a pytest temporary directory, which pytest deletes
after a few sessions: choose one of the first three to keep the runs for ``queuebench
report`` or ``compare``. pytest-benchmark gets one round per measured trial, timed as
that trial's **seconds per item** (makespan / items, measured inside the worker), not the
wall time of starting processes; OPS therefore reads as items per second, as in
``queuebench export``. A trial that breaks exactly-once or the reader limit fails the test.

This module is imported by every pytest session where queuebench is installed: it must
import nothing heavy at module level.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import errors

if TYPE_CHECKING:
    from harness.running.launchers.base import Probe, UserCode
    from harness.scenario import LoadedScenario, Scenario

_probes: dict[str, Probe] = {}


@dataclass
class Result:
    """One fixture call: the run directory it wrote (usable with ``queuebench compare``
    and ``export``), its document, and its measured trials (warmups excluded)."""

    scenario: str
    strategy: str
    run_dir: Path
    doc: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return float(statistics.median(t["metrics"][key] for t in self.trials))

    @property
    def throughput(self) -> float:
        return self.median("throughput")


def _scenario(spec: str | Path | Mapping[str, Any] | Scenario, name: str | None) -> LoadedScenario:
    from pydantic import ValidationError

    from harness import scenario as scn

    if isinstance(spec, scn.Scenario):
        return scn.LoadedScenario(spec, "<fixture>")
    if isinstance(spec, Mapping):
        label = name or str(spec.get("name", "fixture"))
        try:
            return scn.LoadedScenario(scn.Scenario.model_validate({"name": label, **spec}), "<fixture>")
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise errors.ScenarioError(f"scenario {label!r}: field {where!r}: {err['msg']}") from None
    loaded = scn.load(Path(spec))
    if name is None and len(loaded) == 1:
        return loaded[0]
    for item in loaded:
        if item.scenario.name == name:
            return item
    names = ", ".join(item.scenario.name for item in loaded)
    raise errors.ScenarioError(f"{spec}: pass name= one of its scenarios: {names}")


def _probe(python: str, user: UserCode) -> Probe:
    from harness.running import launchers

    key = f"{python}|{user!r}"
    if key not in _probes:
        _probes[key] = launchers.make("local", python=python, user=user).probe()
    return _probes[key]


def _named(strategy: str | Callable[..., Any], root: Path) -> tuple[str, UserCode]:
    """The strategy's name for the worker, and the user's code it needs: a function becomes
    "module:qualname", and the folder its module is imported from goes on the worker's path."""
    import sys

    from harness.running.launchers.base import UserCode

    paths = [str(root)]
    if callable(strategy):
        module = sys.modules.get(strategy.__module__)
        file = getattr(module, "__file__", None)
        qualname = getattr(strategy, "__qualname__", "")
        if file is None or strategy.__module__ == "__main__" or "<" in qualname:
            raise errors.ScenarioError(
                f"{strategy!r}: give a module-level function of an importable module (its worker imports it by name)"
            )
        depth = strategy.__module__.count(".") + (Path(file).name == "__init__.py")
        paths.insert(0, str(Path(file).resolve().parents[depth]))
        strategy = f"{strategy.__module__}:{qualname}"
    return strategy, UserCode(paths=tuple(dict.fromkeys(paths)), strategies=(strategy,) if ":" in strategy else ())


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = (
        "Directory for queuebench_benchmark's results directories. Default: a pytest temporary "
        "directory (deleted by pytest after a few sessions)."
    )
    parser.addoption("--queuebench-out", metavar="DIR", default=None, help=help_text)
    parser.addini("queuebench_out", help_text, default="")


def results_dir(config: pytest.Config, tmp: pytest.TempPathFactory, out: Path | str | None) -> Path:
    """Where a call's results go: ``out=``, then ``--queuebench-out``, then the ``queuebench_out``
    ini option, then a fresh pytest temporary directory."""
    chosen = out or config.getoption("queuebench_out", default=None) or config.getini("queuebench_out")
    return Path(chosen) if chosen else tmp.mktemp("queuebench")


def _runner(request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> Callable[..., Result]:
    def run(
        strategy: str | Callable[..., Any],
        scenario: str | Path | Mapping[str, Any] | Scenario,
        *,
        name: str | None = None,
        repeats: int = 5,
        warmup: int = 1,
        start_method: str | None = None,
        python: str | None = None,
        timeout: float | None = None,
        options: Mapping[str, float] | None = None,
        out: Path | str | None = None,
    ) -> Result:
        import sys

        from harness.errors import ScenarioError, WorkerError
        from harness.exports import pytest_benchmark as export
        from harness.rundir.model import Run
        from harness.running import suite
        from strategies import registry
        from strategies.registry import UnknownStrategy

        # Validate everything before the benchmark fixture is created: a fixture that is
        # created but never used makes pytest-benchmark warn at teardown (an ERROR under
        # -W error) on top of the failure. Bad arguments give one clean failure instead.
        try:
            if repeats < 1 or warmup < 0:
                raise ScenarioError(f"repeats must be at least 1 and warmup at least 0 (got {repeats}, {warmup})")
            loaded = _scenario(scenario, name)
            strategy, user = _named(strategy, request.config.rootpath)
            opts = suite.Options(
                user=user,
                strategies=[strategy],
                repeat=repeats,
                warmup=warmup,
                start_method=start_method,
                python=python or sys.executable,
                timeout=timeout,
                out=results_dir(request.config, tmp, out),
                strategy_options=tuple(sorted((options or {}).items())),
            )
            suite.plan([loaded], opts)  # unknown strategy: UnknownStrategy lists the valid names
            probe = _probe(opts.python, user)
            registry.learn(probe.user_strategies)
            ok, why = probe.strategies.get(strategy, (True, ""))
            if not ok:
                raise ScenarioError(f"strategy {strategy!r} cannot run: {why}")
            suite.start_method_for(opts, probe)
        except (ScenarioError, UnknownStrategy, WorkerError) as exc:
            pytest.fail(f"queuebench_benchmark: {exc}", pytrace=False)
        try:
            benchmark = request.getfixturevalue("benchmark")
        except pytest.FixtureLookupError:
            pytest.fail("queuebench_benchmark needs pytest-benchmark: pip install 'queuebench[pytest]'", pytrace=False)
        executed: list[tuple[Path, dict[str, Any]]] = []
        benchmark.group = benchmark.group or loaded.scenario.name  # read when the round starts
        # One pedantic round runs every trial (warmups first, each in a fresh worker), exactly
        # as `queuebench run` does; the round times are then replaced by the trials' own.
        benchmark.pedantic(lambda: executed.append(suite.execute([loaded], opts, probe)), rounds=1, iterations=1)
        if not executed:  # --benchmark-disable: pedantic ran it without recording
            executed.append(suite.execute([loaded], opts, probe))
        run_dir, doc = executed[-1]
        measured = [t for t in doc["trials"] if not t.get("warmup")]
        result = Result(loaded.scenario.name, strategy, run_dir, doc, measured)
        bad = [t for t in measured if t["status"] != "ok"]
        if bad:
            why = "; ".join(e for t in bad for e in t["errors"])[:500]
            pytest.fail(
                f"queuebench: {strategy} on {result.scenario}: {len(bad)} trial(s) did not pass: {why} "
                f"(results in {run_dir})",
                pytrace=False,
            )
        stats = getattr(getattr(benchmark, "stats", None), "stats", None)
        if stats is not None and isinstance(getattr(stats, "data", None), list):
            stats.data[:] = [1 / t["metrics"]["throughput"] for t in measured]
        typed = list(Run.from_doc(doc).measured)
        benchmark.extra_info.update(export.extra_info(typed), scenario=result.scenario, strategy=strategy)
        return result

    return run


@pytest.fixture
def queuebench_benchmark(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Result]:
    """Call it with (strategy: a name, "module:function" or your function, scenario file | dict of
    scenario fields | Scenario, name=...,
    repeats=5, warmup=1, start_method=None, python=None, timeout=None, options=None, out=None).

    The results directory is ``result.run_dir``, under ``out=`` when given, else under
    ``--queuebench-out DIR`` or the ``queuebench_out`` ini option, else under a pytest
    temporary directory that pytest deletes after a few sessions (set one of the others,
    e.g. ``queuebench_out = results``, to keep the runs)."""
    return _runner(request, tmp_path_factory)
