"""How queuebench's figures look: strategy colours, the style, and the axis helpers every
figure shares (matplotlib, no pyplot: every figure is a plain ``Figure``).

:func:`strategy_colour` gives every strategy one colour in every figure of every run.
"""

from __future__ import annotations

import math
import re
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from harness.presentation.numbers import si
from harness.rundir import store

# Okabe-Ito (colour-blind safe) for the shipped strategies: process family warm, threads
# blue, asyncio green, sequential grey. Anything else gets a stable colour from its name.
_COLOURS = {
    "seed-pool": "#D55E00",
    "manager-pool": "#E69F00",
    "mp-queue": "#CC79A7",
    "process-pool": "#8C564B",
    "threads": "#0072B2",
    "asyncio": "#009E73",
    "sequential": "#7F7F7F",
}
_SPARE = ("#56B4E9", "#9467BD", "#BCBD22", "#17BECF", "#1F3A93", "#E377C2", "#2CA02C", "#A52A2A", "#6B6ECF")
FAIL_COLOUR = "#C00000"
LIMIT_COLOUR = "#C00000"
STYLE: dict[Any, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "figure.facecolor": "white",
    # Names from a run are drawn as written: a "$" never starts mathtext (a name such as "$x^$"
    # failed to draw: a traceback), so no label needs escaping for it.
    "text.parse_math": False,
}
DPI = 110
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strategy_colour(name: str) -> str:
    """The colour of a strategy, the same in every figure and every run (a hex string)."""
    if name in _COLOURS:
        return _COLOURS[name]
    return _SPARE[zlib.crc32(name.encode()) % len(_SPARE)]


@contextmanager
def style() -> Iterator[None]:
    """queuebench's figure style, without touching matplotlib's global settings."""
    with mpl.rc_context(STYLE):
        yield


def save(fig: Figure, path: Path) -> Path:
    """Write a figure atomically (never through a link, never half-written); a file name made
    from names in a run (scenarios) is sanitised to one plain part, so it stays in its folder."""

    path = Path(path)
    path = path.with_name(store.slug(path.stem) + path.suffix)
    # Tick labels are made while drawing: they too are drawn as written. A name's control
    # character has no glyph; matplotlib's warning would print it, raw, to the terminal.
    with store.atomic_file(path) as fh, mpl.rc_context({"text.parse_math": False}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        # Long names (a legend wider than the figure) only make the layout plain: the file is whole.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        fig.savefig(fh, format=path.suffix.lstrip(".").lower() or "png", dpi=DPI, facecolor="white")
    return path


def plain(text: str) -> str:
    """Dynamic text (run names, paths) for a matplotlib label: a control character shown by its
    escape (``\\x1b``); a ``$`` is drawn as written (mathtext is off: :data:`STYLE`)."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


def log_ticks(lo: float, hi: float, at_least: int = 3) -> list[float]:
    """Tick values for a log axis from ``lo`` to ``hi`` with at least ``at_least`` inside: decades,
    else 1-2-5, else every digit, else evenly spaced round numbers (a span under ~2x)."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return []
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for subs in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [v for k in range(first, last + 1) for m in subs if lo <= (v := float(f"{m}e{k}")) <= hi]
        if len(ticks) >= at_least:
            step = math.ceil(len(ticks) / 9) if subs == (1,) else 1  # at most about nine labels
            return ticks[::step]
    ticks = []
    for bins in range(at_least, 4 * at_least):
        linear = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
        ticks = [float(v) for v in linear if lo <= v <= hi and v > 0]
        if len(ticks) >= at_least:
            break
    return ticks


def readable_log_axis(
    ax: Axes, which: str = "x", at_least: int = 3, fmt: Callable[[float], str] = "{:g}".format
) -> None:
    """Freeze a log axis's limits and label at least ``at_least`` ticks as plain numbers."""
    axis, (lo, hi) = (ax.xaxis, ax.get_xlim()) if which == "x" else (ax.yaxis, ax.get_ylim())
    ticks = log_ticks(lo, hi, at_least)
    if not ticks:
        return
    (ax.set_xlim if which == "x" else ax.set_ylim)(lo, hi)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    axis.set_minor_formatter(NullFormatter())


def value_axis(ax: Axes, values: Sequence[float], label: str) -> None:
    """Log scale when the values span more than 30x, else linear from zero."""
    positive = [v for v in values if math.isfinite(v) and v > 0]
    if positive and max(positive) / min(positive) > 30:
        ax.set_xscale("log")
        ax.set_xlim(min(positive) / 1.6, max(positive) * 1.6)
        label += ", log scale"
    else:
        ax.set_xlim(0, (max(positive) if positive else 1) * 1.12)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: si(x)))
    ax.set_xlabel(label)


def titled(ax: Axes, title: str, subtitle: str) -> None:
    """A bold title with a small grey line under it, both above the panel."""
    ax.set_title(title, loc="left", pad=16)
    ax.annotate(
        subtitle,
        (0, 1),
        xytext=(0, 4),
        xycoords="axes fraction",
        textcoords="offset points",
        fontsize=7.5,
        color="#555555",
        va="bottom",
        ha="left",
    )


def panel_grid(n: int, ncols: int, row_height: float, width: float) -> tuple[Figure, list[Axes]]:
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, row_height * nrows + 0.9), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes
