"""The shape of ``run.json``, schema version 1, checked once when a run is loaded.

A results folder is untrusted input: a CI artifact, a committed baseline, a file edited by
hand. :func:`problem` says what is wrong with a parsed document (one line), or returns
``None``; :func:`parse` builds the checked document into a typed :class:`~harness.rundir.model.Run`
once, and every command then reads values of known shape, so a damaged but valid JSON
file gives one clear error instead of a traceback deep in a report. Names (scenarios,
strategies, trial ids) must be plain names: they reach file names and terminal output.
Scenario definitions are checked by the scenario model itself and stored back normalised.
"""

from __future__ import annotations

import math
import re
from typing import Any

from harness.errors import SchemaError
from harness.rundir.model import Run

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,159}\Z")
STRATEGY = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,200}\Z")  # printable: no C0, DEL or C1 (0x9b is CSI)
TRIAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,299}\Z")
SAMPLES = re.compile(r"^samples/[A-Za-z0-9][A-Za-z0-9_.-]{0,299}\.parquet\Z")
RUN_STATUSES = frozenset({"running", "incomplete", "complete"})
TRIAL_STATUSES = frozenset({"ok", "failed", "timeout", "error", "unavailable"})
OUTCOMES = frozenset({"recovered", "hung", "crashed"})
MAX_TRIALS = 200_000
MAX_SCENARIOS = 20_000
MAX_TEXT = 100_000
BIG = 2**63 - 1
#: Bounds of what a trial can physically measure, by unit; a metric past them is damage, not a
#: result (and would overflow what draws or formats it). A year of seconds for any time.
YEAR_S = 365 * 24 * 3600
MAX_COUNT = 10**15  # items: exact in a float64, far past any scenario's writers x items
#: metric name (or its unit's suffix) -> (lowest, highest, the bound in words)
METRIC_BOUNDS: dict[str, tuple[float, float, str]] = {
    "_s": (0, YEAR_S, f"a year ({YEAR_S:,} s)"),
    "_ms": (0, YEAR_S * 1000, f"a year ({YEAR_S * 1000:,} ms)"),
    "_mb": (0, 1e9, "a petabyte (1e9 MB)"),
    "throughput": (0, 1e12, "1e12 items/s"),
    "throughput_total": (0, 1e12, "1e12 items/s"),
    "efficiency": (-1e6, 1e6, "a million times the ideal"),
    "cpu_parallelism": (0, 1e6, "a million cores"),
}
#: Any other metric a tool recorded: finite and at most this far from zero.
ANY_METRIC = (-1e15, 1e15, "1e15")

#: Keys a run document cannot do without (checked before anything else).
REQUIRED = ("fingerprint", "scenarios", "trials", "status")

#: Counts every trial with metrics has; never null.
COUNTS = ("expected", "consumed", "lost", "duplicated", "unexpected", "max_concurrency", "produced_before_start")
#: Measured in every trial that passed; null only where a trial did not pass.
MEASURED = ("makespan_s", "throughput", "total_s", "throughput_total", "setup_s", "teardown_s", "trial_wall_s")
FINGERPRINT_TEXT = ("os", "os_release", "arch", "cpu_model", "start_method")


def _text(value: Any, what: str, optional: bool = False, limit: int = MAX_TEXT) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > limit:
        raise SchemaError(
            f"{what} must be text" + (f" (at most {limit:,} characters)" if isinstance(value, str) else "")
        )


def _number(value: Any, what: str, optional: bool = False, lo: float = -math.inf, hi: float = math.inf) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        if hi != math.inf:
            raise SchemaError(f"{what} must be a number from {lo:g} to {hi:g}, got {shown(value)}")
        raise SchemaError(f"{what} must be a number{'' if lo == -math.inf else f' >= {lo:g}'}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SchemaError(f"{what} must be finite")


def _integer(value: Any, what: str, optional: bool = False, lo: int = 0, hi: int = BIG) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SchemaError(f"{what} must be a whole number from {lo:,} to {hi:,}")


def _table(value: Any, what: str, optional: bool = False) -> dict[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise SchemaError(f"{what} must be a table")
    return value


def _texts(value: Any, what: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, list) or len(value) > 10_000:
        raise SchemaError(f"{what} must be a list")
    for item in value:
        _text(item, f"{what} item")


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise SchemaError(f"{what} must be a plain name (letters, digits, '.', '_', '-'), got {shown(value)}")
    return value


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fingerprint(fp: Any) -> None:
    if not isinstance(fp, dict) or not isinstance(fp.get("python"), dict):
        raise SchemaError("fingerprint (or its python part) is not a table")
    missing = [k for k in (*FINGERPRINT_TEXT, "logical_cores", "effective_parallelism") if k not in fp] + [
        f"python.{k}" for k in ("implementation", "version") if k not in fp["python"]
    ]
    if missing:
        raise SchemaError(f"fingerprint lacks {', '.join(missing)}")
    for key in FINGERPRINT_TEXT:
        _text(fp[key], f"fingerprint.{key}", limit=1000)
    for key in ("implementation", "version"):
        _text(fp["python"][key], f"fingerprint.python.{key}", limit=1000)
    for key, value in fp["python"].items():
        if not isinstance(value, str | bool | int | float | None):
            raise SchemaError(f"fingerprint.python.{key} must be a plain value")
    _integer(fp["logical_cores"], "fingerprint.logical_cores", lo=1, hi=1_000_000)
    _number(fp["effective_parallelism"], "fingerprint.effective_parallelism", lo=0, hi=1e6)
    for key in ("usable_cores", "physical_cores"):
        _integer(fp.get(key), f"fingerprint.{key}", optional=True, lo=1, hi=1_000_000)
    _number(fp.get("memory_gb"), "fingerprint.memory_gb", optional=True, lo=0, hi=1e9)
    load = fp.get("load_average")
    if load is not None:
        if not isinstance(load, list) or len(load) > 3:
            raise SchemaError("fingerprint.load_average must be a list of numbers")
        for v in load:
            _number(v, "fingerprint.load_average item", lo=0, hi=1e9)
    for key in ("host", "os_version", "harness_python", "calibration_source", "git_commit", "recorded_at"):
        _text(fp.get(key), f"fingerprint.{key}", optional=True, limit=1000)
    for key, value in _table(fp.get("calibration"), "fingerprint.calibration", optional=True).items():
        _number(value, f"fingerprint.calibration.{key}", lo=0, hi=1e15)
    for key, value in _table(fp.get("packages"), "fingerprint.packages", optional=True).items():
        _text(value, f"fingerprint.packages.{key}", optional=True, limit=200)


def _options(opts: Any) -> None:
    opts = _table(opts, "options")
    _texts(opts.get("strategies"), "options.strategies", optional=True)
    for key in ("repeat", "warmup"):
        _integer(opts.get(key), f"options.{key}", optional=True, hi=10**9)
    _number(opts.get("timeout"), "options.timeout", optional=True, lo=0, hi=YEAR_S)
    for key in ("start_method", "python", "launcher"):
        _text(opts.get(key), f"options.{key}", optional=True, limit=5000)
    for key, value in _table(opts.get("strategy_options"), "options.strategy_options", optional=True).items():
        _number(value, f"options.strategy_options.{key}", lo=-1e15, hi=1e15)


def _scenarios(scenarios: Any) -> dict[str, Any]:
    """Check every definition with the scenario model; returns them normalised (every field named)."""
    from pydantic import ValidationError

    from harness.scenario import Scenario

    if not isinstance(scenarios, dict) or len(scenarios) > MAX_SCENARIOS:
        raise SchemaError("scenarios must be a table")
    out = {}
    for name, entry in scenarios.items():
        _name(name, "a scenario's name")
        entry = _table(entry, f"scenario {name}")
        _text(entry.get("source"), f"scenario {name}: source", optional=True, limit=5000)
        definition = _table(entry.get("definition"), f"scenario {name}: definition")
        if definition.get("name") != name:
            raise SchemaError(f"scenario {name}: its definition is named {shown(definition.get('name'))}")
        strategies = definition.get("strategies")
        if strategies is not None:
            if not isinstance(strategies, list) or not strategies:
                raise SchemaError(f"scenario {name}: definition.strategies must be a list of names")
            for s in strategies:
                _name(s, f"scenario {name}: a strategy")
        try:  # strategies apart: a run may name strategies this checkout does not have
            model = Scenario.model_validate({**definition, "strategies": None})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(part) for part in err["loc"]) or "(scenario)"
            why = str(err["msg"]).replace("Value error, ", "").splitlines()[0][:200]
            raise SchemaError(f"scenario {name}: definition is not a valid scenario ({field}: {why})") from None
        out[name] = {**entry, "definition": {**model.model_dump(mode="json"), "strategies": strategies}}
    return out


def _trial(t: Any, i: int, scenarios: dict[str, Any], ids: set[str]) -> None:
    if not isinstance(t, dict):
        raise SchemaError(f"trial #{i + 1} is not a table")
    for key in ("id", "scenario", "strategy", "status"):
        if not isinstance(t.get(key), str):
            raise SchemaError(f"trial #{i + 1} has no text {key!r}")
    if not TRIAL_ID.match(t["id"]):
        raise SchemaError(f"trial #{i + 1}: id {shown(t['id'])} is not a plain name")
    where = f"trial {t['id']}"
    if _name(t["scenario"], f"{where}: scenario") not in scenarios:
        raise SchemaError(f"{where}: scenario {t['scenario']!r} is not defined in the run")
    # A strategy's name is shown, never a path part: any printable text (escaped where shown).
    if not STRATEGY.match(t["strategy"]):
        raise SchemaError(
            f"{where}: strategy must be printable text of 1 to 200 characters, got {shown(t['strategy'])}"
        )
    side = t.get("side")  # ab's A/B, or an interpreter's label: shown beside the strategy
    if side is not None and not (isinstance(side, str) and STRATEGY.match(side)):
        raise SchemaError(f"{where}: side must be printable text of 1 to 200 characters, got {shown(side)}")
    if t["status"] not in TRIAL_STATUSES:
        raise SchemaError(
            f"{where}: status must be one of {', '.join(sorted(TRIAL_STATUSES))}, got {shown(t['status'])}"
        )
    if not isinstance(t.get("errors"), list):
        raise SchemaError(f"{where}: errors must be a list")
    _texts(t["errors"], f"{where}: errors")
    _texts(t.get("leftovers"), f"{where}: leftovers", optional=True)
    _integer(t.get("repeat", 0), f"{where}: repeat", lo=-1000, hi=10**9)
    if not isinstance(t.get("warmup", False), bool):
        raise SchemaError(f"{where}: warmup must be true or false")
    _text(t.get("start_method"), f"{where}: start_method", optional=True, limit=100)
    _text(t.get("where"), f"{where}: where", optional=True, limit=1000)
    _text(t.get("memory_method"), f"{where}: memory_method", optional=True, limit=100)
    samples = t.get("samples")
    if samples is not None and not (isinstance(samples, str) and SAMPLES.match(samples)):
        raise SchemaError(f"{where}: samples must name a file samples/NAME.parquet, got {shown(samples)}")
    _metrics(t.get("metrics"), where, t["status"])
    _faults(t.get("faults"), where)


def _metrics(m: Any, where: str, status: str) -> None:
    if m is None:
        if status in ("ok", "failed"):
            raise SchemaError(f"{where}: a {status} trial must have metrics")
        return
    if not isinstance(m, dict) or any(not isinstance(v, int | float | bool | None) for v in m.values()):
        raise SchemaError(f"{where}: metrics must be a table of numbers")
    # A metric may be absent (a run made by a tool that records fewer); one that is there has its
    # type, and the counts come together (the summary reads max_concurrency with pool_size).
    counted = [k for k in (*COUNTS, "pool_size", "exactly_once") if k in m]
    if counted and len(counted) < len(COUNTS) + 2:
        missing = sorted(set((*COUNTS, "pool_size", "exactly_once")) - set(counted))
        raise SchemaError(f"{where}: metrics lack {', '.join(missing)}")
    for key in COUNTS:
        if key in m:
            _integer(m[key], f"{where}: metrics.{key}", hi=MAX_COUNT)
    if "pool_size" in m:
        _integer(m["pool_size"], f"{where}: metrics.pool_size", lo=1, hi=MAX_COUNT)
    if "exactly_once" in m and not isinstance(m["exactly_once"], bool):
        raise SchemaError(f"{where}: metrics.exactly_once must be true or false")
    for key, value in m.items():
        if key not in COUNTS and key not in ("pool_size", "exactly_once"):
            if isinstance(value, bool):
                raise SchemaError(f"{where}: metrics.{key} must be a number")
            _metric(value, key, where)
    if status == "ok":
        for key in MEASURED:
            if key in m:
                _number(m[key], f"{where}: metrics.{key} (a passing trial's)", lo=0)


def metric_bounds(key: str) -> tuple[float, float, str]:
    """The lowest and highest value a metric can physically take, and the highest in words."""
    if key in METRIC_BOUNDS:
        return METRIC_BOUNDS[key]
    unit = next((u for u in ("_ms", "_mb", "_s") if key.endswith(u)), None)
    return METRIC_BOUNDS[unit] if unit else ANY_METRIC


def _metric(value: Any, key: str, where: str) -> None:
    """A measured number within its unit's physical range (None: not measured)."""
    lo, hi, words = metric_bounds(key)
    _number(value, f"{where}: metrics.{key}", optional=True, lo=lo)
    if value is not None and value > hi:
        raise SchemaError(f"{where}: metrics.{key} is {value:.4g}, beyond {words}")


def _faults(f: Any, where: str) -> None:
    if f is None:
        return
    f = _table(f, f"{where}: faults")
    if not isinstance(f.get("outcome"), str) or f["outcome"] not in OUTCOMES:
        raise SchemaError(f"{where}: faults.outcome must be one of {', '.join(sorted(OUTCOMES))}")
    _texts(f.get("injected", []), f"{where}: faults.injected")
    for key in ("delivered", "lost", "duplicated", "failed_with_error", "leftover_processes"):
        _integer(f.get(key, 0), f"{where}: faults.{key}")
    _number(f.get("detection_s"), f"{where}: faults.detection_s", optional=True, lo=0, hi=YEAR_S)


def _sweep(sweep: Any, scenarios: dict[str, Any]) -> None:
    sweep = _table(sweep, "sweep")
    _name(sweep.get("scenario"), "sweep.scenario")
    _text(sweep.get("source"), "sweep.source", optional=True, limit=5000)
    params = _table(sweep.get("params"), "sweep.params")
    if not params or len(params) > 10:
        raise SchemaError("sweep.params must name the swept parameters")
    for key, values in params.items():
        _name(key, "a sweep parameter")
        if not isinstance(values, list) or not values or len(values) > 10_000:
            raise SchemaError(f"sweep.params.{key} must be a list of numbers")
        for v in values:
            _number(v, f"sweep.params.{key} item", lo=-1e15, hi=1e15)
    param = sweep.get("param")
    if not isinstance(param, str) or param not in params or sweep.get("values") != params[param]:
        raise SchemaError("sweep.param and sweep.values must name the first swept parameter and its values")
    points = _table(sweep.get("points"), "sweep.points")
    for name, values in points.items():
        if name not in scenarios:
            raise SchemaError(f"sweep point {shown(name)} is not a scenario of the run")
        if not isinstance(values, dict) or set(values) != set(params):
            raise SchemaError(f"sweep point {name} must give a value for each swept parameter")
        for v in values.values():
            _number(v, f"sweep point {name}", lo=-1e15, hi=1e15)


def _interpreters(found: Any) -> None:
    """A run of several interpreters: label -> that interpreter's facts (harness.running.interpreters)."""
    if found is None:
        return
    if not isinstance(found, dict) or len(found) > 100:
        raise SchemaError("interpreters must be a table of at most 100 entries")
    for label, entry in found.items():
        if not STRATEGY.match(label):
            raise SchemaError(
                f"interpreters: a label must be printable text of 1 to 200 characters, got {shown(label)}"
            )
        entry = _table(entry, f"interpreters.{label}")
        for key, value in entry.items():
            if key == "unavailable":
                for strategy, why in _table(value, f"interpreters.{label}.unavailable").items():
                    _text(why, f"interpreters.{label}.unavailable.{strategy}", limit=1000)
            elif isinstance(value, str):
                _text(value, f"interpreters.{label}.{key}", limit=5000)
            elif not isinstance(value, bool | int | float | None):
                raise SchemaError(f"interpreters.{label}.{key} must be a plain value")


def problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with a run document's shape, if anything; normalises its scenario
    definitions in place (so every consumer finds every field)."""
    try:
        if not isinstance(doc["status"], str) or doc["status"] not in RUN_STATUSES:
            raise SchemaError(f"status must be one of {', '.join(sorted(RUN_STATUSES))}, got {shown(doc['status'])}")
        _fingerprint(doc["fingerprint"])
        _text(doc.get("started_at"), "started_at", limit=100)
        _text(doc.get("finished_at"), "finished_at", optional=True, limit=100)
        _options(doc.get("options"))
        if not isinstance(doc["scenarios"], dict) or not isinstance(doc["trials"], list):
            raise SchemaError("scenarios must be a table and trials a list")
        if len(doc["trials"]) > MAX_TRIALS:
            raise SchemaError(f"more than {MAX_TRIALS:,} trials")
        scenarios = _scenarios(doc["scenarios"])
        ids: set[str] = set()
        for i, t in enumerate(doc["trials"]):
            _trial(t, i, scenarios, ids)
        if doc.get("sweep") is not None:
            _sweep(doc["sweep"], scenarios)
        _interpreters(doc.get("interpreters"))
    except SchemaError as exc:
        return str(exc)
    doc["scenarios"] = scenarios
    return None


def parse(doc: dict[str, Any]) -> Run:
    """The typed run of a document, checked once (its scenario definitions normalised in place,
    as :func:`problem` does). Raises :class:`~harness.errors.SchemaError` with the one line :func:`problem` gives."""
    if not isinstance(doc, dict):
        raise SchemaError("a run document must be a table")
    missing = [key for key in REQUIRED if key not in doc]
    if missing:
        raise SchemaError(f"missing {missing[0]!r}")
    why = problem(doc)
    if why:
        raise SchemaError(why)
    return Run.from_doc(doc)
