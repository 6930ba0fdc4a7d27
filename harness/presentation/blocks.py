"""The presentation model: a document is a list of blocks, and every renderer (terminal,
Markdown, HTML) consumes the same list, so the outputs always say the same thing.

Text in blocks is Markdown's inline subset (``**bold**``, ``*emphasis*``, ```code```);
text that comes from outside (errors, paths, names) goes through
:func:`harness.presentation.markdown.escape` first, so it always reads literally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str  # may hold **bold** and `code`
    tone: str = ""  # "", "ok", "bad" or "warn": a call-out box in HTML, a quote in Markdown


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]  # a "\n" in a cell is a line break inside the cell
    right: frozenset[int] = field(default_factory=frozenset)  # right-aligned (numeric) columns


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


Block = Heading | Para | Bullets | Table | Image
