"""Hostile scenario files: random structure, wrong types, huge numbers, deep nesting, control
characters, unknown keys; about one in five is near-valid. Seeded by the caller's ``rng``."""

from __future__ import annotations

import json
import random

FIELDS = [
    "name", "description", "writers", "readers", "items_per_writer", "payload_bytes", "queue_maxsize",
    "writer_work", "reader_work", "repeats", "warmup", "timeout", "seed", "strategies", "faults",
]  # fmt: skip
WORK = ["kind", "ms", "dist", "jitter", "gil", "capacity", "overload", "colour"]
FAULTS = ["reader_raise", "reader_die", "reader_hang", "writer_die", "slow_spike", "hang_s", "seed"]
HUGE = [2**63, 2**64, -(2**63) - 1, 10**30, 9223372036854775807, 1e308, -1e308, 1e-308]


def _scalar(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return str(rng.choice(HUGE)) if rng.random() < 0.7 else "nan"
    if kind == 1:
        return rng.choice(["true", "false", "inf", "-inf", "nan", "+nan"])
    if kind == 2:
        return json.dumps("".join(chr(rng.randrange(0, 0x250)) for _ in range(rng.randrange(0, 30))))
    if kind == 3:
        return json.dumps(rng.choice(["io", "cpu", "none", "service", "hold", "release", "exponential", "[/]", "x\ny"]))
    if kind == 4:
        return rng.choice(["1979-05-27T07:32:00Z", "07:32:00", "0x7fffffffffffffff", "0o777", "1_000", "'lit'"])
    if kind == 5:
        return f"{rng.uniform(-1e6, 1e6)!r}"
    if kind == 6:
        return json.dumps(rng.choice(["threads", "seed-pool", "asyncio", "test-hang", "../x", "a b"]))
    return str(rng.randrange(-5, 2000))


def _value(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth < 3 and r < 0.12:
        return "[" + ", ".join(_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))) + "]"
    if depth < 3 and r < 0.24:
        keys = rng.sample(WORK + FAULTS, rng.randrange(0, 4))
        return "{" + ", ".join(f"{k} = {_value(rng, depth + 1)}" for k in keys) + "}"
    if r < 0.26:
        n = rng.choice([50, 300, 1000, 5000])
        return "[" * n + "1" + "]" * n
    return _scalar(rng)


def _key(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return rng.choice(FIELDS)
    if r < 0.85:
        return rng.choice(["unknown_key", "Writers", "writers ", '"writers"', "reader_work.kind", "faults.reader_die"])
    if r < 0.92:
        return ".".join(rng.choice(["a", "b", "writer_work"]) for _ in range(rng.choice([2, 20, 200, 3000])))
    return json.dumps("".join(chr(rng.randrange(1, 0x80)) for _ in range(rng.randrange(1, 12))))


def scenario_text(rng: random.Random) -> str:
    """One hostile scenario file: random structure, wrong types, huge numbers, deep nesting,
    control characters, unknown keys; about one in five is near-valid."""
    if rng.random() < 0.2:  # near-valid: a real scenario with one or two fields made extreme
        fields = {"name": '"s"', "writers": "2", "readers": "1", "items_per_writer": "10"}
        for _ in range(rng.randrange(1, 3)):
            fields[rng.choice(FIELDS)] = _value(rng)
        return "[[scenario]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    out = []
    if rng.random() < 0.3:
        out.append("[defaults]")
        out += [f"{_key(rng)} = {_value(rng)}" for _ in range(rng.randrange(0, 4))]
    for _ in range(rng.randrange(0, 3)):
        out.append(rng.choice(["[[scenario]]", "[[scenario]]", "[scenario]", "scenario = [1]", "[[scenario.x]]"]))
        out += [f"{_key(rng)} = {_value(rng)}" for _ in range(rng.randrange(0, 8))]
        if rng.random() < 0.2:
            out.append(f"[scenario.{rng.choice(['reader_work', 'writer_work', 'faults', 'x'])}]")
            out += [f"{rng.choice(WORK + FAULTS)} = {_value(rng)}" for _ in range(rng.randrange(0, 4))]
    text = "\n".join(out) + "\n"
    if rng.random() < 0.05:
        text = text.replace("\n", rng.choice(["\r", "\x00", "\n\x1b[31m", "\u2028"]), rng.randrange(1, 4))
    if rng.random() < 0.01:
        text += "x = " + json.dumps("y" * rng.choice([10_000, 2_000_000])) + "\n"
    return text
