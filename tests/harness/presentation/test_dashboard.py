"""``queuebench publish``: a static, offline dashboard. Checked as files (self-contained, counts
match the data) and in a real browser (Debian's chromium through chromium-driver, marker
``browser``): it loads from file:// without console errors, shows every series and change point,
and is photographed (``QUEUEBENCH_SCREENSHOT=PATH`` keeps the picture)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from tests.harness.history.test_history import _history
from tests.helpers import ROOT, make_doc, write_run

AB_RUN = ROOT / "tests" / "data" / "golden" / "runs" / "ab"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dash")
    runs = _history(base / "runs")
    out = base / "site"
    result = CliRunner().invoke(app, ["publish", str(runs), str(AB_RUN), "-o", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "dashboard:" in result.output
    return out


def test_the_site_is_self_contained_and_matches_its_data(site: Path) -> None:
    page = (site / "index.html").read_text()
    data = json.loads((site / "data.json").read_text())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched: no CDN, no server
    assert "<script src" not in page
    assert page.count('<section class="series"') == len(data["series"]) == 6
    marks = sum(len(s["change_points"]) for s in data["series"])
    assert marks == 1 and page.count('<g class="change-point">') == marks
    assert "0011cccccccc..0012cccccccc" in page  # the commit range on hover
    assert data["ab_cards"] and "could see" in page  # the ab run's verdict cards, with their MDE
    assert page.count('class="chart beside"') == 2 * len(data["series"])  # e2e p99 and memory beside each
    for link in data["links"].values():
        assert (site / link).is_file() and f'href="{link}"' in page
    assert len(data["machines"]) >= 2 and "Other CPU" in page


def _driver():  # type: ignore[no-untyped-def]
    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if driver_path is None or browser is None:
        why = "no chromium/chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()  # the window: the picture in the README (docs/images/dashboard.png)
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,1200"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=opts)


@pytest.mark.browser
def test_the_dashboard_opens_in_a_browser_without_errors(site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    data = json.loads((site / "data.json").read_text())
    driver = _driver()
    try:
        driver.get((site / "index.html").resolve().as_uri())
        assert driver.title == "queuebench dashboard"
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert errors == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "section.series")) == len(data["series"])
        marks = driver.find_elements(By.CSS_SELECTOR, "svg.throughput g.change-point")
        assert len(marks) == sum(len(s["change_points"]) for s in data["series"])
        assert "0012cccccccc" in marks[0].find_element(By.TAG_NAME, "title").get_attribute("textContent")
        embedded = driver.execute_script("return JSON.parse(document.getElementById('data').textContent).series.length")
        assert embedded == len(data["series"])
        shot = Path(os.environ.get("QUEUEBENCH_SCREENSHOT") or tmp_path / "dashboard.png")
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_a_sweep_is_drawn_with_its_knee(tmp_path: Path) -> None:
    """Throughput per readers value, a line per strategy; the knee: the smallest value within 95% of the best."""
    curve = {"threads": (100, 195, 200, 201), "asyncio": (150, 151, 152, 150)}
    values = {
        (f"s.readers-{r}", name): [y] * 3 for name, ys in curve.items() for r, y in zip((1, 2, 4, 8), ys, strict=True)
    }
    data, page = _sweep_site(tmp_path, make_doc(values), [1, 2, 4, 8])
    knees = {s["strategy"]: s["knee"] for s in data["sweeps"]}
    assert knees == {"threads": 2, "asyncio": 1}
    assert page.count('<g class="knee">') == 2 and 'class="chart sweep"' in page
    # Each knee in its own line's colour (they were all in the change points' red).
    import re

    knees_drawn = re.findall(r'<g class="knee"><title>(\w+): knee[^<]*</title><line [^>]*stroke="(#[0-9a-f]+)"', page)
    assert len(knees_drawn) == 2 and len({colour for _, colour in knees_drawn}) == 2
    for strategy, colour in knees_drawn:
        line = re.search(rf'<g class="line" data-label="{strategy}"><polyline [^>]*stroke="(#[0-9a-f]+)"', page)
        assert line is not None and line.group(1) == colour, (strategy, colour)


def _as_sweep(doc: dict[str, Any], readers: list[int]) -> dict[str, Any]:
    """``doc`` as a sweep of scenario "s" over ``readers`` (points that no trial measured get
    their scenario)."""
    first = next(iter(doc["scenarios"].values()))
    for r in readers:
        if f"s.readers-{r}" not in doc["scenarios"]:
            entry = copy.deepcopy(first)
            entry["definition"]["name"] = f"s.readers-{r}"
            doc["scenarios"][f"s.readers-{r}"] = entry
    doc["sweep"] = {
        "scenario": "s",
        "param": "readers",
        "values": readers,
        "params": {"readers": readers},
        "points": {f"s.readers-{r}": {"readers": r} for r in readers},
    }
    return doc


def _usl_and_cliff_doc() -> dict[str, Any]:
    """A readers 1..8 sweep: threads follows the Universal Scalability Law (contention 0.02,
    crosstalk 0.1: N* 3.1, 1% noise), asyncio collapses past 3 readers (a cliff)."""
    from harness.sweeps import usl

    readers = list(range(1, 9))
    rng = np.random.default_rng(7)
    law = usl.usl(np.array(readers, float), 30.0, 0.02, 0.1)
    cliff = [10, 20, 30, 3, 3, 3, 3, 3]
    values: dict[tuple[str, str], list[float]] = {}
    for r, y_law, y_cliff in zip(readers, law, cliff, strict=True):
        values[(f"s.readers-{r}", "threads")] = [float(y_law) * (1 + 0.01 * rng.standard_normal()) for _ in range(3)]
        values[(f"s.readers-{r}", "asyncio")] = [y_cliff * 0.98, float(y_cliff), y_cliff * 1.02]
    return _as_sweep(make_doc(values), readers)


def test_a_sweep_over_the_pool_size_shows_its_usl_fit_or_the_words_instead(tmp_path: Path) -> None:
    """threads gets its fitted curve, dotted, with N* and its interval in the data and the page's
    note; asyncio's cliff gets the plain words and no curve."""
    from harness.sweeps import usl

    readers = list(range(1, 9))
    doc = _usl_and_cliff_doc()
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["publish", str(write_run(tmp_path / "sweep", doc)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {s["strategy"]: s for s in json.loads((out / "data.json").read_text())["sweeps"]}
    fit = rows["threads"]["usl"]
    low, high = fit["interval"]
    assert low <= usl.peak(0.02, 0.1) <= high and fit["kappa"] == pytest.approx(0.1, rel=0.2)
    assert "refusal" not in fit and "peak" not in rows["asyncio"]["usl"]
    assert "capacity cliff" in rows["asyncio"]["usl"]["refusal"]
    page = (out / "index.html").read_text()
    assert page.count('<g class="fit"') == 1 and 'data-label="threads USL"' in page
    spans = re.findall(r'<g class="span"><title>(.*?)</title>', page)  # N* and its interval, on the chart
    assert len(spans) == 1 and spans[0].startswith(f"threads: USL peak N* = {fit['peak']:.1f} readers")
    assert all(f'class="tick">{r}</text>' in page for r in readers)  # each swept value under the axis
    notes = re.findall(r'<li class="usl">(.*?)</li>', page)
    assert len(notes) == 2 and any("threads: USL: peak at" in n for n in notes)
    assert any(n.startswith("asyncio: USL:") and "capacity cliff" in n for n in notes)


def _sweep_site(tmp_path: Path, doc: dict[str, Any], readers: list[int]) -> tuple[dict[str, Any], str]:
    """Publish ``doc`` as a sweep over ``readers``: its data.json and page."""
    _as_sweep(doc, readers)
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["publish", str(write_run(tmp_path / "sweep", doc)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "data.json").read_text()), (out / "index.html").read_text()


def test_a_sweep_with_gaps_is_drawn_from_what_passed(tmp_path: Path) -> None:
    """Only readers 1-4 measured for threads, readers 8 without a total window (its summary has no
    figure), sequential at one point: no NaN reaches data.json, sequential has no knee and no fit,
    and every swept value's tick lies inside the chart."""
    readers = list(range(1, 9))
    values = {(f"s.readers-{r}", "threads"): [10.0 * r] * 3 for r in (1, 2, 3, 4)}
    values[("s.readers-8", "threads")] = [80.0] * 3
    values[("s.readers-1", "sequential")] = [12.0, 12.1, 11.9]
    doc = make_doc(values)
    for t in doc["trials"]:
        if not t["warmup"] and t["scenario"] != "s.readers-8":
            t["metrics"]["throughput_total"] = t["metrics"]["throughput"]
    data, page = _sweep_site(tmp_path, doc, readers)
    rows = {s["strategy"]: s for s in data["sweeps"]}
    assert rows["threads"]["x"] == [1, 2, 3, 4] and rows["threads"]["throughput"] == [10, 20, 30, 40]
    assert rows["sequential"]["pool_independent"] and "knee" not in rows["sequential"]
    assert "usl" not in rows["sequential"]
    ticks = [
        float(x)
        for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" class="tick">\d+</text>', page)
    ]
    assert len(ticks) == len(readers) and all(0 <= x <= 400 for x in ticks)


def test_a_sweep_where_nothing_passed_says_so(tmp_path: Path) -> None:
    readers = [1, 2, 4]
    values = {(f"s.readers-{r}", "threads"): [10.0] * 3 for r in readers}
    doc = make_doc(values, statuses={f"threads-{i}": "failed" for i in range(3)})
    data, page = _sweep_site(tmp_path, doc, readers)
    assert data["sweeps"] == [] and "No point of this sweep passed." in page
    assert "No sweep among these runs" not in page


@pytest.mark.browser
def test_a_sweeps_fit_draws_in_a_browser_without_errors(tmp_path: Path) -> None:
    """The sweep's chart in chromium: no console error, one dotted fit and its N* bar (its
    tooltip names N*), and each strategy's line."""
    from selenium.webdriver.common.by import By

    out = tmp_path / "site"
    result = CliRunner().invoke(
        app, ["publish", str(write_run(tmp_path / "sweep", _usl_and_cliff_doc())), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    driver = _driver()
    try:
        driver.get((out / "index.html").resolve().as_uri())
        assert [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] == []
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.sweep g.fit polyline")) == 1
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.sweep g.line")) == 2
        (span,) = driver.find_elements(By.CSS_SELECTOR, "svg.sweep g.span")
        assert span.find_element(By.TAG_NAME, "title").get_attribute("textContent").startswith("threads: USL peak N*")
        assert span.is_displayed()
    finally:
        driver.quit()
