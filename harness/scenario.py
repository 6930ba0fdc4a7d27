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

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from harness.errors import ScenarioError, did_you_mean
from strategies import base, kinds, registry
from strategies.faults import FaultSpec

#: Kind fields set by the harness, never by a scenario file (e.g. the service's port, the docker
#: kinds' trial name).
INTERNAL_PARAMS = frozenset({"port", "trial"})

#: Refuse sizes that would exhaust memory rather than try them.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 8  # tables within tables: a scenario needs 3
MAX_KEY_PARTS = 16
MAX_ITEMS = 5_000_000
MAX_PAYLOAD = 64 * 1024 * 1024
MAX_BYTES_IN_FLIGHT = 2 * 1024**3


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
            and kinds.exists(data.get("kind", "none"))
        ):
            params = kinds.get(data.get("kind", "none")).params
            data = {**{k: v for k, v in params.items() if k not in INTERNAL_PARAMS}, **data}
        return data

    @model_validator(mode="after")
    def _kind_fields(self) -> Work:
        if not kinds.exists(self.kind):
            raise ValueError(f"kind: {kinds.UnknownKind(self.kind)}")
        kind = kinds.get(self.kind)
        extra = dict(self.model_extra or {})
        for name in extra:
            if name not in kind.params or name in INTERNAL_PARAMS:
                allowed = [k for k in kind.params if k not in INTERNAL_PARAMS]
                did = did_you_mean(name, [*allowed, *Work.model_fields])
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
    writers: StrictInt = Field(ge=1, le=512)
    readers: StrictInt = Field(ge=1, le=512)
    items_per_writer: StrictInt = Field(ge=1)
    payload_bytes: StrictInt = Field(0, ge=0, le=MAX_PAYLOAD)
    queue_maxsize: StrictInt = Field(0, ge=0, le=MAX_ITEMS, description="0 means unbounded")
    writer_work: Work = Field(default_factory=Work)
    reader_work: Work = Field(default_factory=Work)
    repeats: StrictInt = Field(3, ge=1, le=1000)
    warmup: StrictInt = Field(1, ge=0, le=100)
    timeout: float = Field(60.0, gt=0, le=24 * 3600, description="seconds per trial")
    seed: StrictInt = Field(0, ge=-(2**63), le=2**63 - 1)
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
            try:
                registry.get(name)  # built in, installed, or yours ("module:function")
            except registry.UnknownStrategy as exc:
                raise ValueError(f"strategies: {exc}") from None
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


def _depth(data: Any) -> int:
    """How deeply tables and arrays nest (iteratively: a hostile file cannot blow the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _shown(text: object) -> str:
    """A name as data in a one-line message: quoted, control characters escaped, cut short."""
    shown = repr(str(text))
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _describe(err: dict[str, Any]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    field = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        *parents, unknown = [str(p) for p in err["loc"]]
        model: Any = Scenario if not parents else Faults if parents[-1] == "faults" else Scenario
        did = did_you_mean(unknown, model.model_fields)
        return f"field {_shown(field)}: unknown field{did}"
    got = err.get("input")
    shown = "" if err["type"] == "missing" or isinstance(got, (dict, list)) else f" (got {got!r:.60})"
    head, sep, rest = msg.partition(": ")
    names_a_field = bool(sep) and head.replace(".", "").replace("_", "").replace(" x ", "").isalnum()
    if not field:  # a check across fields: its message starts with the field it is about
        field, msg = (head, rest) if names_a_field else ("(scenario)", msg)
    elif names_a_field and err["type"] == "value_error":  # a table's check names its own field
        field, msg, shown = f"{field}.{head}", rest, ""
    return f"field {_shown(field)}: {msg}{shown}"


def parse(text: str, source: str) -> list[Scenario]:
    """Validate a scenario file's text; raise ScenarioError with one clear line."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: {len(text):,} characters; a scenario file holds at most {MAX_FILE_BYTES:,}")
    # tomllib takes quadratic time and memory on a key of thousands of dotted parts (40 KB of
    # "a.a.a..." took 2.4 GB and 25 s): refuse such keys before parsing.
    for number, line in enumerate(text.splitlines(), 1):
        key = line.split("=", 1)[0] if "=" in line else line
        if key.count(".") > MAX_KEY_PARTS:
            raise ScenarioError(f"{source}: line {number}: a key of more than {MAX_KEY_PARTS} dotted parts")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise ScenarioError(f"{source}: nested too deeply to be a scenario file") from None
    if (depth := _depth(data)) > MAX_DEPTH:
        raise ScenarioError(f"{source}: tables nested {depth} deep; a scenario file needs at most {MAX_DEPTH}")
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
        if not isinstance(table, dict):
            kind = type(table).__name__
            raise ScenarioError(f"{source}: scenario #{i + 1} must be a table ([[scenario]]), not {kind}")
        name = table.get("name")
        label = f"scenario {_shown(name)}" if isinstance(name, str) else f"scenario #{i + 1}"
        try:
            out.append(Scenario.model_validate({**defaults, **table}))
        except ValidationError as exc:
            errors = exc.errors()
            # An unknown field (a typo) explains the rest ("writers: Field required"): lead with it.
            first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            raise ScenarioError(f"{source}: {label}: {_describe(dict(first))}{more}") from None
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"{source}: scenario name(s) used twice: {', '.join(dupes)}")
    return out


def load(path: Path) -> list[LoadedScenario]:
    path = shipped(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ScenarioError(f"{path}: not a regular file")
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; not a scenario file")
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
    """The shipped scenarios: next to the package in a checkout; in an installed wheel, under the
    environment's ``share/queuebench/scenarios`` (pyproject's data-files); else ./scenarios."""
    import site
    import sys

    here = Path(__file__).resolve().parent.parent / "scenarios"
    installed = [Path(base) / "share" / "queuebench" / "scenarios" for base in (sys.prefix, site.USER_BASE or "")]
    return next((d for d in (here, *installed) if d.is_dir()), Path.cwd() / "scenarios")


def shipped(path: Path) -> Path:
    """``path`` itself where it exists; else, for ``NAME``, ``NAME.toml`` or ``scenarios/NAME.toml``,
    the shipped scenario of that name (so ``queuebench run smoke`` works from any folder)."""
    path = Path(path)
    if path.exists() or path.is_absolute() or len(path.parts) > 2 or path.parts[:-1] not in ((), ("scenarios",)):
        return path
    name = path.name if path.suffix == ".toml" else f"{path.name}.toml"
    candidate = scenario_dir() / name
    return candidate if candidate.is_file() else path


#: What `queuebench run` (and `make run`) runs when no file is given.
DEFAULT_SUITE = ("overhead.toml", "io-bound.toml", "cpu-bound.toml", "build-and-push.toml")


def default_suite() -> list[Path]:
    return [scenario_dir() / name for name in DEFAULT_SUITE]
