"""Bar charts of attendance rates: PNG images for the quarterly and annual reports, SVG for
the dashboard's pages.

Pure rendering: every word on a chart comes from the caller. Matplotlib is used through its
object-oriented Agg API only (never pyplot, whose global state is not thread-safe) and is imported
on the first render, so importing this module stays cheap on the bot's start-up path.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import textwrap
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

_PACKAGED_FONT = "NotoSansCJKsc-Regular.otf"
# Lower-cased substrings of system font file names, best first.
_SYSTEM_FONTS = ("notosanscjk", "sourcehansans", "wqy-microhei", "wqy-zenhei")
_INSTALL_HINT = (
    "No CJK font for charts and certificates: install the Python package mplfonts "
    "(pip install mplfonts), or a system font: Noto Sans CJK (fonts-noto-cjk), Source Han Sans "
    "or WenQuanYi (fonts-wqy-microhei)"
)

_DPI = 100
_MAX_WIDTH = 16.0  # inches, so at most 1600 px
_MIN_WIDTH = 5.0
_BAR_COLOR = "#3b6ea8"
_NO_DATA_COLOR = "#6b6b6b"
_Y_TOP = 112  # headroom above 100 % for the value labels
_MIN_SLOTS = 3  # a panel is at least this many bars wide
_ROTATE_ABOVE = 6  # a panel with more bars than this gets rotated x labels
_WRAP = 4  # characters per line of an upright x label (about one bar's width)
_MAX_LINES = 2  # an upright label that would need more lines is rotated instead
_MAX_ROTATED = 16  # characters of a rotated label; longer ones are cut with "…"
_SLOT_WIDTH = {False: 0.65, True: 0.5}  # inches per bar, upright or rotated labels

# Matplotlib does not promise thread safety even without pyplot (the font manager and text
# caches are shared), and a report renders a chart or two, so renders simply take turns.
_render_lock = threading.Lock()

# The web page's SVG chart: a label column, bars up to 100 %, rows of this height.
_SVG_LABEL = 96
_SVG_BAR = 200
_SVG_ROW = 22
_SVG_TITLE = 30


@dataclass(frozen=True)
class Panel:
    """One bar chart: a title, bars of percentages (None: no data), and the words it needs."""

    title: str
    bars: Sequence[tuple[str, float | None]]  # (label, percent 0..100 or None)
    y_label: str  # e.g. "出勤率（%）"
    no_data: str  # printed above a bar whose value is None, e.g. "无数据"


def render_png(title: str, panels: Sequence[Panel]) -> bytes:
    """One PNG image with the panels side by side (1 or 2, possibly more), under `title`."""
    if not panels:
        raise ValueError("render_png needs at least one panel")
    with _render_lock:
        return _render(title, panels, _cjk_font())


def render_svg(title: str, panels: Sequence[Panel]) -> str:
    """The same figures as SVG for a web page, drawn directly (no matplotlib: a page is made
    in milliseconds): each panel a list of horizontal bars, label on the left and the value
    written at the bar's end, so the chart reads at a phone's width and colour carries no
    meaning. Text stays text (the browser's fonts; a screen reader reads the `<title>`)."""
    if not panels:
        raise ValueError("render_svg needs at least one panel")
    rows: list[str] = []
    y = _SVG_TITLE
    for panel in panels:
        rows.append(f'<text x="0" y="{y - 8}" class="panel">{escape(panel.title)}</text>')
        for label, value in panel.bars:
            shown = _finite(value)
            width = 0.0 if shown is None else min(max(shown, 0.0), 100.0) * _SVG_BAR / 100
            text = panel.no_data if shown is None else f"{math.floor(shown + 0.5)}%"
            rows.append(
                f'<text x="{_SVG_LABEL - 6}" y="{y + 14}" text-anchor="end">'
                f"{escape(_shorten(label, _MAX_ROTATED))}</text>"
                f'<rect x="{_SVG_LABEL}" y="{y + 2}" width="{width:.1f}" height="16" rx="2"/>'
                f'<text x="{_SVG_LABEL + width + 4:.1f}" y="{y + 14}" class="value">'
                f"{escape(text)}</text>"
            )
            y += _SVG_ROW
        y += _SVG_TITLE
    height = y - _SVG_TITLE + 8
    width = _SVG_LABEL + _SVG_BAR + 48
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-title" class="bars">'
        f'<title id="chart-title">{escape(title)}</title>{"".join(rows)}</svg>'
    )


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str:
    """Finds the CJK font file and registers it with matplotlib, once."""
    from matplotlib import font_manager

    path = find_cjk_font()
    font_manager.fontManager.addfont(path)
    return path


def find_cjk_font() -> str:
    """The path of the CJK font every Chinese image or document is drawn with (charts here,
    certificates in render.certificate): Noto Sans CJK SC from mplfonts, else the best system font.

    Looked up afresh on each call: callers keep what they need.
    """
    path = _packaged_font()
    if path is None:
        from matplotlib import font_manager

        path = _system_font(font_manager.findSystemFonts())
    if path is None:
        raise RuntimeError(_INSTALL_HINT)
    return path


def _packaged_font() -> str | None:
    """Noto Sans CJK SC from mplfonts, found without importing it (which loads matplotlib)."""
    spec = importlib.util.find_spec("mplfonts")
    directories = (spec.submodule_search_locations or []) if spec is not None else []
    for directory in directories:
        path = Path(directory, "fonts", _PACKAGED_FONT)
        if path.is_file():
            return str(path)
    return None


def _system_font(paths: Iterable[str]) -> str | None:
    """The best CJK font among `paths`: by family preference, then Regular, then by path."""
    ranked = sorted(
        (rank, "regular" not in Path(path).name.lower(), path)
        for path in paths
        if (rank := _family_rank(path)) is not None
    )
    return ranked[0][2] if ranked else None


def _family_rank(path: str) -> int | None:
    """The position of the font file's family in `_SYSTEM_FONTS`, or None if not CJK."""
    name = Path(path).name.lower().replace(" ", "")
    return next((i for i, key in enumerate(_SYSTEM_FONTS) if key in name), None)


def _render(title: str, panels: Sequence[Panel], font: str) -> bytes:
    """Draws the figure and encodes it as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rotated = [_rotate(panel) for panel in panels]
    figure = Figure(figsize=_figsize(panels, rotated), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontproperties=_font(font, 15))
    grid = figure.add_gridspec(1, len(panels), width_ratios=[_slots(p) for p in panels])
    for i, (panel, rotate) in enumerate(zip(panels, rotated, strict=True)):
        _draw_panel(figure.add_subplot(grid[0, i]), panel, font, rotate)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _slots(panel: Panel) -> int:
    """How many bar widths a panel is given (a panel of one bar is not a sliver)."""
    return max(len(panel.bars), _MIN_SLOTS)


def _rotate(panel: Panel) -> bool:
    """Whether the panel's x labels are too many or too long to stand upright."""
    too_long = any(len(label) > _WRAP * _MAX_LINES for label, _ in panel.bars)
    return too_long or len(panel.bars) > _ROTATE_ABOVE


def _figsize(panels: Sequence[Panel], rotated: Sequence[bool]) -> tuple[float, float]:
    """Width grows with the bars, within limits; rotated labels need more height."""
    width = sum(
        1.2 + _SLOT_WIDTH[rotate] * _slots(panel)
        for panel, rotate in zip(panels, rotated, strict=True)
    )
    return min(max(width, _MIN_WIDTH), _MAX_WIDTH), 6.5 if any(rotated) else 5.0


def _font(path: str, size: float) -> FontProperties:
    """The CJK font at `size` points."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=path, size=size)


def _draw_panel(ax: Axes, panel: Panel, font: str, rotate: bool) -> None:
    """One bar chart with its value labels, title and axes."""
    positions = list(range(len(panel.bars)))
    values = [_finite(value) for _, value in panel.bars]
    heights = [0.0 if value is None else min(max(value, 0.0), 100.0) for value in values]
    ax.bar(positions, heights, width=0.6, color=_BAR_COLOR)
    value_font = _font(font, 10 if len(positions) <= 12 else 8)
    for x, height, value in zip(positions, heights, values, strict=True):
        _value_label(ax, x, height, value, panel.no_data, value_font)
    ax.set_title(panel.title, fontproperties=_font(font, 13))
    ax.set_ylabel(panel.y_label, fontproperties=_font(font, 11))
    _set_axes(ax, [label for label, _ in panel.bars], font, rotate)


def _finite(value: float | None) -> float | None:
    """The value, or None when there is none to show (missing or NaN)."""
    return value if value is not None and math.isfinite(value) else None


def _value_label(
    ax: Axes, x: int, height: float, value: float | None, no_data: str, font: FontProperties
) -> None:
    """Writes the bar's value (or the no-data word) above it, so colour carries no meaning."""
    text = no_data if value is None else f"{math.floor(value + 0.5)}%"
    color = _NO_DATA_COLOR if value is None else "black"
    ax.text(x, height + 1.5, text, ha="center", va="bottom", color=color, fontproperties=font)


def _set_axes(ax: Axes, labels: list[str], font: str, rotate: bool) -> None:
    """Y from 0 to 100 with headroom; x labels wrapped, and rotated when there are many."""
    ax.set_ylim(0, _Y_TOP)
    # Explicit tick labels: no minus signs or other glyphs the CJK font might lack.
    ticks = list(range(0, 101, 20))
    ax.set_yticks(ticks, [str(tick) for tick in ticks], fontproperties=_font(font, 10))
    pad = (max(len(labels), _MIN_SLOTS) - len(labels)) / 2  # a lone bar is not a wide slab
    ax.set_xlim(-0.6 - pad, len(labels) - 0.4 + pad)
    positions = list(range(len(labels)))
    if rotate:
        cut = [_shorten(label, _MAX_ROTATED) for label in labels]
        ax.set_xticks(
            positions,
            cut,
            fontproperties=_font(font, 9),
            rotation=45,
            ha="right",
            rotation_mode="anchor",
        )
    else:
        wrapped = [textwrap.fill(label, _WRAP) for label in labels]
        ax.set_xticks(positions, wrapped, fontproperties=_font(font, 10))
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _shorten(label: str, limit: int) -> str:
    """The label cut to `limit` characters, the last one an ellipsis, if it is longer."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
