"""Markdown: the one escaper every Markdown producer uses, and the block renderer.

GitHub-flavoured Markdown, as a CI job summary shows it. :func:`escape` makes outside
text (trial errors, paths, names) literal anywhere, table cells included; :func:`to_markdown`
renders :mod:`harness.presentation.blocks`.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.presentation.blocks import Block, Bullets, Heading, Para, Table

#: Characters that start Markdown syntax: emphasis, code, links, HTML, headings, strikethrough,
#: and the pipe that ends a table cell.
SPECIAL = r"\`*_[]<>#~|"
_SPECIAL_RE = re.compile("([" + re.escape(SPECIAL) + "])")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)((?:\\\\)*)\|")


def escape(text: str) -> str:
    """Outside text as literal Markdown: no emphasis, code, links, HTML or cell breaks."""
    return _SPECIAL_RE.sub(r"\\\1", text)


def code(text: str) -> str:
    """Outside text as a code span; the fence is longer than any run of backticks inside. On one
    line: a line break in it would let the next line start a heading or a block of raw HTML."""
    text = re.sub(r"\r\n|\r|\n", " ", text)
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    """Inline Markdown made safe for a table cell: a bare pipe escaped, line breaks as ``<br>``."""
    return _UNESCAPED_PIPE.sub(r"\1\\|", text).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def table(block: Table) -> str:
    lines = ["| " + " | ".join(cell(h) for h in block.header) + " |"]
    lines.append("|" + "|".join(" ---: " if i in block.right else " --- " for i in range(len(block.header))) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join(lines)


def to_markdown(blocks: list[Block], base: Path) -> str:
    """The blocks as one Markdown document; images are linked relative to ``base``."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(f"> {b.text}" if b.tone else b.text)
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {item}" for item in b.items))
        elif isinstance(b, Table):
            out.append(table(b))
        else:
            rel = b.path.relative_to(base) if b.path.is_relative_to(base) else b.path
            out.append(f"![{b.alt}]({rel.as_posix()})")
    return "\n\n".join(out) + "\n"
