"""Names from a run as plain text (issue #28, found by make fuzz's markup family): an escape
sequence in machine facts or a run folder's name never reaches the terminal, and a ``$`` in a
strategy name never starts mathtext in a figure (``$x^$`` failed to draw: a traceback)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app, esc
from tests.helpers import make_doc, write_run

cli = CliRunner()
SEQUENCES = ("\x1b", "\x9b", "\x07", "\x08", "\r")


def a_run(folder: Path, **fingerprint: str) -> Path:
    doc = make_doc({("s", "threads"): [10.0, 11.0, 12.0]})
    doc["fingerprint"].update(fingerprint)
    return write_run(folder, doc)


def test_esc_shows_control_characters_by_their_escape() -> None:
    assert esc("a\x1b[2Jb\x9bc\x07\rd[red]x[/]") == "a\\x1b[2Jb\\x9bc\\x07\\rd\\[red]x\\[/]"
    assert esc("line\ttab\nnext") == "line\ttab\nnext"


def test_show_sends_no_escape_sequence_from_machine_facts(tmp_path: Path) -> None:
    run = a_run(tmp_path / "r", cpu_model="\x1b]8;;https://evil.example\x07CPU\x1b]8;;\x07", os="\x1b[2JLinux\r")
    result = cli.invoke(app, ["show", str(run)])
    assert result.exit_code == 0, result.output
    assert not any(s in result.output for s in SEQUENCES), repr(result.output)
    assert "\\x1b]8;;https://evil.example\\x07CPU" in result.output


def test_plot_sends_no_escape_sequence_from_a_folder_name(tmp_path: Path) -> None:
    run = a_run(tmp_path / "\x1b[31mred\x1b[0m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph warning would carry the name's raw characters
        result = cli.invoke(app, ["plot", str(run), "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.output
    assert not any(s in result.output for s in SEQUENCES), repr(result.output)


def test_a_dollar_in_a_strategy_name_draws_as_written(tmp_path: Path) -> None:
    doc = make_doc({("s", "a"): [10.0, 11.0, 12.0], ("s", "b"): [9.0, 9.5, 10.0]})
    names = {"a": "$x^$", "b": "$\\frac{a}{0}$"}
    for t in doc["trials"]:
        t["strategy"] = names[t["strategy"]]
    run = write_run(tmp_path / "r", doc)
    for args in (["report", str(run)], ["plot", str(run), "-o", str(tmp_path / "f.png")]):
        result = cli.invoke(app, args)
        assert result.exit_code == 0, (args[0], result.output, result.exception)
    assert json.loads((run / "run.json").read_text())["trials"]


def test_a_strategy_named_with_a_c1_control_is_refused_in_one_line(tmp_path: Path) -> None:
    """0x9b is CSI to a terminal: a strategy name holding it went raw into show's table."""
    doc = make_doc({("s", "a"): [10.0, 11.0, 12.0]})
    for t in doc["trials"]:
        t["strategy"] = "\x9b31mred"
    result = cli.invoke(app, ["show", str(write_run(tmp_path / "r", doc))])
    assert result.exit_code == 2 and result.output.startswith("error: "), result.output
    assert "strategy must be printable text" in result.output and "\x9b" not in result.output


def test_report_md_writes_machine_facts_and_a_description_as_text(tmp_path: Path) -> None:
    """report.md's machine table and a scenario's description took the run's text as Markdown:
    a host named '</td></tr><tr><td>' was raw HTML there, and a lone CR ended the table row."""
    tag = "<img src=x onerror=alert(1)>"
    doc = make_doc({("s", "threads"): [10.0, 11.0, 12.0]})
    doc["fingerprint"].update(host="</td></tr><tr><td>host", cpu_model=f"{tag}\rCPU")
    for scenario in doc["scenarios"].values():
        scenario["definition"]["description"] = tag
    run = write_run(tmp_path / "r", doc)
    result = cli.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    md = re.sub(r"(`+).*?\1", "", (run / "report.md").read_text(), flags=re.S)  # a code span is text
    assert "<img" not in md.replace("\\<img", "") and "</td></tr>" not in md
    machine = md[md.index("## Machine") :].split("\n\n")[1]
    assert all(line.count(" | ") == 1 for line in machine.splitlines() if line.startswith("| **"))


def test_a_line_break_in_a_machine_fact_cannot_start_a_heading_in_report_md(tmp_path: Path) -> None:
    """A code span holding the machine line was split by a name's line break, and the next line,
    '# h </td></tr>...', became a heading with raw HTML in it (make fuzz's markup family)."""
    from markdown_it import MarkdownIt

    run = a_run(tmp_path / "r", os_release="6.1\n# h </td></tr><tr><td>QBH", cpu_model="x\r<img src=x>")
    result = cli.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    html = MarkdownIt("commonmark").enable("table").render((run / "report.md").read_text())
    assert "</td></tr><tr><td>QBH" not in html and "<img src=x>" not in html
