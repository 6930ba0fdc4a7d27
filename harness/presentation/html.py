"""HTML: the blocks as one self-contained page (styles inline, figures embedded)."""

from __future__ import annotations

import base64
import html
import re

from harness.presentation.blocks import Block, Bullets, Heading, Para, Table
from harness.presentation.markdown import SPECIAL

_ESCAPED = re.compile(r"\\([" + re.escape(SPECIAL) + "])")


def inline(text: str) -> str:
    """Markdown's inline subset as HTML: `code`, **bold**, *emphasis*; a backslash-escaped
    character (see :func:`harness.presentation.markdown.escape`) stays literal."""
    literal: list[str] = []

    def hold(m: re.Match[str]) -> str:
        literal.append(html.escape(m[1], quote=False))
        return f"\x00{len(literal) - 1}\x00"

    text = _ESCAPED.sub(hold, text.replace("\x00", ""))
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: literal[int(m[1])], text)


def _cell(text: str) -> str:
    return "<br>".join(inline(line) for line in text.split("\n"))


CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}
body{color:#1f2328}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #d0d7de;padding:.25em .6em}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f6f8fa;padding:.1em .3em;border-radius:4px;font-size:.9em}
.ok,.bad,.warn{padding:.6em 1em;border-left:5px solid;border-radius:4px}
.ok{background:#dafbe1;border-color:#1a7f37}.bad{background:#ffebe9;border-color:#cf222e}
.warn{background:#fff8c5;border-color:#9a6700}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#57606a;font-size:.85em}
"""


def table(b: Table) -> str:
    head = "".join(f"<th>{_cell(h)}</th>" for h in b.header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_cell(c)}</td>' if i in b.right else f"<td>{_cell(c)}</td>" for i, c in enumerate(row)
        )
        + "</tr>"
        for row in b.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(blocks: list[Block], title: str) -> str:
    out = [f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>']
    out.append(f"<style>{CSS}</style></head><body>")
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{inline(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f'<p class="{b.tone}">{inline(b.text)}</p>' if b.tone else f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            out.append(table(b))
        else:
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            alt = html.escape(b.alt)
            out.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
