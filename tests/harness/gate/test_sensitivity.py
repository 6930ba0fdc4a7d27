"""Every verdict states what it could have seen (harness.gate.sensitivity): the printed minimum
detectable effect is honest (simulated: at the stated effect the gate says "slower" about 80% of
the time), and an unjudged pair says how many repeats would judge it. Seeded; no timing."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.gate import sensitivity
from harness.gate.compare import Verdict, compare
from tests.helpers import make_doc, make_run, write_run

THRESHOLD, ALPHA = 0.10, 0.01


def _draw(rng: random.Random, n: int, sd: float, factor: float = 1.0) -> list[float]:
    """n throughputs around 100 with log-normal noise ``sd``, divided by ``factor`` (slower)."""
    return [100 * math.exp(rng.gauss(0, sd)) / factor for _ in range(n)]


def _pairs(values: dict[str, tuple[list[float], list[float]]]) -> tuple[object, object]:
    base = make_run({("io", name): b for name, (b, _) in values.items()})
    cur = make_run({("io", name): c for name, (_, c) in values.items()})
    return base, cur


def _detection_at_stated_mde(n: int, sd: float, family: int, rounds: int) -> float:
    """Each round: a run of identical code prints its MDE for the pair 'target'; a fresh run
    with 'target' slower by exactly that MDE (the other pairs of the family unchanged) is judged.
    The share of rounds that say slower is the detection at the stated effect."""
    rng = random.Random(f"mde-{n}-{sd}-{family}")
    hits = 0
    for _ in range(rounds):
        names = ["target", *(f"other{i}" for i in range(family - 1))]
        same = {name: (_draw(rng, n, sd), _draw(rng, n, sd)) for name in names}
        (stated,) = (
            r.mde
            for r in compare(*_pairs(same), max_regression=THRESHOLD, alpha=ALPHA).rows  # type: ignore[arg-type]
            if r.strategy == "target"
        )
        assert math.isfinite(stated)
        slow = {name: (_draw(rng, n, sd), _draw(rng, n, sd, 1 + stated if name == "target" else 1)) for name in names}
        rows = compare(*_pairs(slow), max_regression=THRESHOLD, alpha=ALPHA).rows  # type: ignore[arg-type]
        hits += any(r.strategy == "target" and r.verdict is Verdict.SLOWER for r in rows)
    return hits / rounds


def test_the_stated_mde_is_detected_about_as_often_as_stated() -> None:
    """At 80% power stated, 150 rounds: the share lies in 0.68-0.92 (about 2.5 standard errors);
    one pair alone, and one in a family of four (Holm's first step), at 10 and 20 repeats."""
    for n, sd, family in ((10, 0.15, 1), (20, 0.08, 1), (10, 0.15, 4)):
        share = _detection_at_stated_mde(n, sd, family, 150)
        assert 0.68 <= share <= 0.92, (n, sd, family, share)


def test_the_mde_grows_with_noise_and_shrinks_with_repeats() -> None:
    assert sensitivity.mde(0.05, 10, 10, ALPHA, THRESHOLD) < sensitivity.mde(0.2, 10, 10, ALPHA, THRESHOLD)
    assert sensitivity.mde(0.2, 30, 30, ALPHA, THRESHOLD) < sensitivity.mde(0.2, 10, 10, ALPHA, THRESHOLD)
    assert sensitivity.mde(0.0, 10, 10, ALPHA, THRESHOLD) >= THRESHOLD  # slower needs the threshold passed too
    assert math.isinf(sensitivity.mde(0.05, 3, 3, ALPHA, THRESHOLD))  # 3 vs 3 can never reach 0.01


def test_an_inconclusive_pair_says_how_many_repeats_would_judge_it() -> None:
    rng = random.Random(26)
    base, cur = _draw(rng, 10, 0.25), _draw(rng, 10, 0.25, 1.1)
    (row,) = compare(make_run({("io", "threads"): base}), make_run({("io", "threads"): cur})).rows
    assert row.verdict is Verdict.INCONCLUSIVE
    assert row.repeats_needed > 10
    text = sensitivity.needed_text(row, THRESHOLD)
    assert text == f"≈ {row.repeats_needed} repeats a side would judge 10% at this noise"
    # At that many repeats, a change of the threshold is detectable at this noise.
    assert sensitivity.mde(row.noise, row.repeats_needed, row.repeats_needed, ALPHA, 0.0) <= THRESHOLD * 1.01
    quiet = compare(make_run({("io", "t"): _draw(rng, 10, 0.01)}), make_run({("io", "t"): _draw(rng, 10, 0.01)}))
    assert quiet.rows[0].verdict is Verdict.UNCHANGED and quiet.rows[0].repeats_needed == 0


def test_every_output_carries_the_mde(tmp_path: Path) -> None:
    rng = random.Random(27)
    base = write_run(tmp_path / "base", make_doc({("io", "threads"): _draw(rng, 10, 0.25)}))
    cur = write_run(tmp_path / "cur", make_doc({("io", "threads"): _draw(rng, 10, 0.25)}))
    md, js = tmp_path / "v.md", tmp_path / "v.json"
    out = CliRunner().invoke(app, ["compare", str(base), str(cur), "--markdown", str(md), "--json", str(js)])
    assert out.exit_code == 3, out.output
    doc = json.loads(js.read_text())
    (pair,) = doc["pairs"]
    assert pair["mde"] > THRESHOLD and pair["mde_detectable"] and pair["repeats_needed"] > 10
    assert doc["mde_power"] == sensitivity.POWER
    shown = sensitivity.describe_mde(pair["mde"])
    assert shown in out.output and "could see" in out.output
    text = md.read_text()
    assert "| could see |" in text and f"| {shown} |" in text
    assert f"≈ {pair['repeats_needed']} repeats a side would judge 10% at this noise" in text
