"""One Markdown escaper: the report, compare --markdown and survival.md write outside text the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import scenario
from harness.analysis.survival import survival
from harness.cli import app
from harness.presentation import html as html_page
from harness.presentation import markdown
from harness.presentation.blocks import Table
from harness.presentation.survival import survival_markdown
from harness.rundir import store
from harness.running import suite
from tests.helpers import SCENARIOS

cli = CliRunner()
NAME = "seq|odd[/]name"  # a pipe ends a table cell; [/] is rich markup and a Markdown link's brackets
ESCAPED = r"seq\|odd\[/\]name"


def test_escape_makes_syntax_literal() -> None:
    assert markdown.escape("a|b [/] *c* `d` <e> _f_ #g ~h \\") == r"a\|b \[/\] \*c\* \`d\` \<e\> \_f\_ \#g \~h \\"
    assert markdown.escape("plain text, 1.5 items/s — ok") == "plain text, 1.5 items/s — ok"


def test_cells_escape_bare_pipes_once_and_keep_line_breaks() -> None:
    assert markdown.cell(markdown.escape("a|b")) == r"a\|b"  # already escaped: left alone
    assert markdown.cell("**a|b**") == r"**a\|b**"
    assert markdown.cell("two\nlines") == "two<br>lines"
    assert markdown.cell("\\\\|") == "\\\\\\|"  # an escaped backslash, then a bare pipe


def test_code_spans_survive_backticks() -> None:
    assert markdown.code("plain") == "`plain`"
    assert markdown.code("a `b` c") == "``a `b` c``"
    assert markdown.code("`x") == "`` `x ``"


def test_html_shows_escaped_text_literally_and_breaks_cell_lines() -> None:
    assert html_page.inline(markdown.escape("a|b [/] **x**")) == "a|b [/] **x**"
    page = html_page.table(Table(["h|x"], [["one\ntwo"]]))
    assert "<th>h|x</th>" in page and "<td>one<br>two</td>" in page


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real small run whose strategy ``sequential`` is renamed to NAME, and whose first trial failed
    with NAME in its error."""
    loaded = scenario.load(SCENARIOS / "smoke.toml")
    opts = suite.Options(strategies=["sequential", "threads"], repeat=2, warmup=0, out=tmp_path_factory.mktemp("r"))
    run_dir, _doc = suite.prepare(loaded, opts).run()
    odd = run_dir.parent / "odd"
    shutil.copytree(run_dir, odd)
    doc = json.loads((odd / "run.json").read_text())
    for t in doc["trials"]:
        t["strategy"] = NAME if t["strategy"] == "sequential" else t["strategy"]
    doc["trials"][0].update(status="failed", errors=[f"boom in {NAME}"])
    (odd / "run.json").write_text(json.dumps(doc))
    return odd


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def _tables(text: str) -> list[list[str]]:
    return [para.splitlines() for para in text.split("\n\n") if para.startswith("| ")]


def test_the_three_markdown_producers_escape_alike(odd_run: Path, tmp_path: Path) -> None:
    result = cli.invoke(app, ["report", str(odd_run), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    report_md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")

    compare_md = tmp_path / "compare.md"
    result = cli.invoke(app, ["compare", str(odd_run), str(odd_run), "--markdown", str(compare_md)])
    assert result.exit_code in (0, 1, 3), result.output  # 3: a 1-repeat run cannot be judged
    compare_text = compare_md.read_text(encoding="utf-8")

    survival_md = survival_markdown(survival(store.read_run(odd_run)))  # what `queuebench stress` writes

    for text in (report_md, compare_text, survival_md):
        table_cells = [line for line in _table_lines(text) if ESCAPED in line]
        assert table_cells, text  # the name is in a table, escaped
        assert NAME not in text  # and never raw, anywhere
        for table in _tables(text):  # every row keeps its table's column count: no pipe broke a cell
            assert len({line.replace("\\|", "").count("|") for line in table}) == 1, table
    assert f"boom in {ESCAPED}" in report_md  # a trial's error, outside any table
    assert f"| smoke | {ESCAPED} |" in compare_text
    assert any(line.startswith(f"| {ESCAPED} | ") for line in survival_md.splitlines())
