"""Scenario files: TOML, validated with pydantic, errors as one clear line.

A file holds one or more ``[[scenario]]`` tables, plus an optional ``[defaults]``
table whose keys apply to every scenario in the file::

    [defaults]
    repeats = 3

    [[scenario]]
    name = "io-bound"
    description = "The seed's shape: 10 writers, 3 readers, I/O on both sides"
    writers = 10
    readers = 3
    items_per_writer = 10
    writer_work = { kind = "io", ms = 2 }
    reader_work = { kind = "io", ms = 10, dist = "exponential" }
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from strategies import base, kinds, registry
from strategies.faults import FaultSpec

#: Kind fields set by the harness, never by a scenario file (e.g. the service's port, the docker
#: kinds' trial name).
INTERNAL_PARAMS = frozenset({"port", "trial"})

#: Refuse sizes that would exhaust memory rather than try them.
MAX_ITEMS = 5_000_000
MAX_PAYLOAD = 64 * 1024 * 1024
MAX_BYTES_IN_FLIGHT = 2 * 1024**3


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message is one line for the user."""


class Work(BaseModel):
    """``writer_work`` / ``reader_work``: a work kind (strategies.kinds), its mean duration,
    how durations are drawn, and the kind's own fields (e.g. cpu's ``gil``, service's
    ``capacity``), which the kind itself checks."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = "none"
    ms: float = Field(0.0, ge=0, le=60_000, description="mean duration per item, milliseconds")
    dist: Literal["fixed", "uniform", "exponential"] = "fixed"
    jitter: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Fill in the kind's own defaults, so a run's stored definition names every field."""
        if (
            isinstance(data, dict)
            and isinstance(data.get("kind", "none"), str)
            and data.get("kind", "none") in kinds.KINDS
        ):
            params = kinds.get(data.get("kind", "none")).params
            data = {**{k: v for k, v in params.items() if k not in INTERNAL_PARAMS}, **data}
        return data

    @model_validator(mode="after")
    def _kind_fields(self) -> Work:
        if self.kind not in kinds.KINDS:
            raise ValueError(f"kind: unknown work kind {self.kind!r}; valid kinds: {', '.join(kinds.KINDS)}")
        kind = kinds.get(self.kind)
        extra = dict(self.model_extra or {})
        for name in extra:
            if name not in kind.params or name in INTERNAL_PARAMS:
                allowed = [k for k in kind.params if k not in INTERNAL_PARAMS]
                hint = difflib.get_close_matches(name, [*allowed, *Work.model_fields], n=1)
                did = f"; did you mean {hint[0]!r}?" if hint else ""
                takes = (
                    f"kind {self.kind!r} takes {', '.join(allowed)} besides" if allowed else f"kind {self.kind!r} takes"
                )
                raise ValueError(f"{name}: unknown field{did} ({takes} kind, ms, dist, jitter)")
        if kind.timed and self.ms <= 0:
            raise ValueError(f"ms: kind {self.kind!r} needs ms > 0")
        if not kind.timed and self.ms > 0:
            raise ValueError(f"ms: kind {self.kind!r} does no timed work; leave ms out")
        kind.check(self.spec())
        return self

    def spec(self) -> base.WorkSpec:
        params = tuple(sorted((self.model_extra or {}).items()))
        return base.WorkSpec(kind=self.kind, ms=self.ms, dist=self.dist, jitter=self.jitter, params=params)


class Faults(BaseModel):
    """``[scenario.faults]``: what goes wrong, the same way for every strategy.

    Items are numbered ``writer * items_per_writer + seq`` (0-based).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    reader_raise: list[int] = Field(default_factory=list, description="items on which the reader raises")
    reader_raise_probability: float = Field(0.0, ge=0, le=1, description="or raise on each item with this chance")
    reader_die: list[int] = Field(default_factory=list, description="items on which the reader dies abruptly")
    reader_hang: list[int] = Field(default_factory=list, description="items on which the reader hangs")
    hang_s: float = Field(3600.0, gt=0, le=86_400)
    slow_spike: list[int] = Field(default_factory=list, description="items whose reader work takes spike_factor x")
    spike_factor: float = Field(100.0, ge=1, le=10_000)
    writer_die: list[tuple[int, int]] = Field(default_factory=list, description="[writer, seq] pairs")
    seed: int = 0

    def spec(self) -> FaultSpec:
        return FaultSpec.from_dict(self.model_dump()) or FaultSpec()

    def check(self, writers: int, items_per_writer: int) -> None:
        total = writers * items_per_writer
        for key in ("reader_raise", "reader_die", "reader_hang", "slow_spike"):
            bad = [n for n in getattr(self, key) if not 0 <= n < total]
            if bad:
                raise ValueError(f"faults.{key}: item {bad[0]} does not exist (items are 0 to {total - 1})")
        for w, s in self.writer_die:
            if not (0 <= w < writers and 0 <= s < items_per_writer):
                raise ValueError(f"faults.writer_die: [{w}, {s}] is not a writer/item of this scenario")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    writers: int = Field(ge=1, le=512)
    readers: int = Field(ge=1, le=512)
    items_per_writer: int = Field(ge=1)
    payload_bytes: int = Field(0, ge=0, le=MAX_PAYLOAD)
    queue_maxsize: int = Field(0, ge=0, description="0 means unbounded")
    writer_work: Work = Field(default_factory=Work)
    reader_work: Work = Field(default_factory=Work)
    repeats: int = Field(3, ge=1, le=1000)
    warmup: int = Field(1, ge=0, le=100)
    timeout: float = Field(60.0, gt=0, le=24 * 3600, description="seconds per trial")
    seed: int = 0
    strategies: list[str] | None = Field(None, min_length=1)
    faults: Faults | None = None

    @model_validator(mode="after")
    def _sane(self) -> Scenario:
        total = self.writers * self.items_per_writer
        if total > MAX_ITEMS:
            raise ValueError(f"items_per_writer: writers x items_per_writer = {total:,} items; at most {MAX_ITEMS:,}")
        if self.payload_bytes * min(total, max(self.queue_maxsize, 1_000)) > MAX_BYTES_IN_FLIGHT:
            raise ValueError("payload_bytes: payload_bytes x items could hold more than 2 GiB in flight")
        if self.faults is not None:
            self.faults.check(self.writers, self.items_per_writer)
            if self.faults.slow_spike and not kinds.get(self.reader_work.kind).timed:
                raise ValueError("faults.slow_spike: needs reader_work with a duration to multiply")
        for name in self.strategies or []:
            if name not in registry.REGISTRY:
                raise ValueError(f"strategies: {registry.UnknownStrategy(name)}")
        return self

    @property
    def total_items(self) -> int:
        return self.writers * self.items_per_writer

    def workload(self, start_method: str | None, calibration: base.Calibration) -> base.Workload:
        return base.Workload(
            writers=self.writers,
            readers=self.readers,
            items_per_writer=self.items_per_writer,
            payload_bytes=self.payload_bytes,
            queue_maxsize=self.queue_maxsize,
            writer_work=self.writer_work.spec(),
            reader_work=self.reader_work.spec(),
            start_method=start_method,
            seed=self.seed,
            calibration=calibration,
            faults=self.faults.spec() if self.faults is not None else None,
        )


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    source: str


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    field = ".".join(str(p) for p in err["loc"])
    got = err.get("input")
    shown = "" if err["type"] == "missing" or isinstance(got, (dict, list)) else f" (got {got!r:.60})"
    head, sep, rest = msg.partition(": ")
    names_a_field = bool(sep) and head.replace(".", "").replace("_", "").replace(" x ", "").isalnum()
    if not field:  # a check across fields: its message starts with the field it is about
        field, msg = (head, rest) if names_a_field else ("(scenario)", msg)
    elif names_a_field and err["type"] == "value_error":  # a table's check names its own field
        field, msg, shown = f"{field}.{head}", rest, ""
    return f"field '{field}': {msg}{shown}"


def parse(text: str, source: str) -> list[Scenario]:
    """Validate a scenario file's text; raise ScenarioError with one clear line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(data) - {"defaults", "scenario"}
    if unknown:
        raise ScenarioError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; expected [defaults] and [[scenario]]"
        )
    defaults = data.get("defaults", {})
    tables = data.get("scenario")
    if not isinstance(defaults, dict):
        raise ScenarioError(f"{source}: [defaults] must be a table")
    if not isinstance(tables, list) or not tables:
        raise ScenarioError(f"{source}: no [[scenario]] tables found")
    out: list[Scenario] = []
    for i, table in enumerate(tables):
        label = f"scenario '{table.get('name')}'" if isinstance(table.get("name"), str) else f"scenario #{i + 1}"
        try:
            out.append(Scenario.model_validate({**defaults, **table}))
        except ValidationError as exc:
            first = exc.errors()[0]
            more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            raise ScenarioError(f"{source}: {label}: {_describe(dict(first))}{more}") from None
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"{source}: scenario name(s) used twice: {', '.join(dupes)}")
    return out


def load(path: Path) -> list[LoadedScenario]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return [LoadedScenario(s, str(path)) for s in parse(text, str(path))]


def load_many(paths: list[Path]) -> list[LoadedScenario]:
    loaded: list[LoadedScenario] = []
    seen: dict[str, str] = {}
    for path in paths:
        for item in load(path):
            name = item.scenario.name
            if name in seen:
                raise ScenarioError(f"{path}: scenario '{name}' is also defined in {seen[name]}")
            seen[name] = str(path)
            loaded.append(item)
    return loaded


def scenario_dir() -> Path:
    """The shipped scenarios: next to the package in a checkout, else ./scenarios."""
    here = Path(__file__).resolve().parent.parent / "scenarios"
    return here if here.is_dir() else Path.cwd() / "scenarios"


#: What `queuebench run` (and `make run`) runs when no file is given.
DEFAULT_SUITE = ("overhead.toml", "io-bound.toml", "cpu-bound.toml", "build-and-push.toml")


def default_suite() -> list[Path]:
    return [scenario_dir() / name for name in DEFAULT_SUITE]
