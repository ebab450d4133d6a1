"""Report charts: PNG output, Chinese glyphs, the font, worker threads, crowded panels."""

from __future__ import annotations

import asyncio
import io
import warnings
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from render import charts
from render.charts import Panel, render_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TITLE = "2026年度青年工作报告 · 出勤率"
Y_LABEL = "出勤率（%）"
NO_DATA = "无数据"


def quarter(name: str) -> Panel:
    return Panel(
        title=name,
        bars=[("办公室", 87.4), ("康复中心", None), ("残疾人联合会机关", 100.0), ("团委", 0.0)],
        y_label=Y_LABEL,
        no_data=NO_DATA,
    )


def size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size


def test_two_panels_render_a_png_of_reasonable_size() -> None:
    png = render_png(TITLE, [quarter("2026年第1季度"), quarter("2026年第2季度")])
    assert png.startswith(PNG_SIGNATURE)
    assert 10_000 < len(png) < 1_000_000
    width, height = size(png)
    assert 500 <= width <= 1600 and 300 <= height <= 1000
    assert size(render_png(TITLE, [quarter("2026年第1季度"), quarter("2026年第2季度")])) == (
        width,
        height,
    )


def test_no_glyph_of_a_realistic_report_is_missing() -> None:
    words = "青年工作报告出勤率季度办公室康复中心残疾人联合会机关无数据％（）·—…0123456789%"
    panel = Panel(
        title="2026年第1季度 — 全年",
        bars=[(words[i : i + 8], float(i)) for i in range(0, len(words), 8)] + [("机关", None)],
        y_label=Y_LABEL,
        no_data=NO_DATA,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_png(words, [panel, quarter("2026年第4季度")])
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []


def test_the_font_is_a_cjk_font_file() -> None:
    path = Path(charts._cjk_font())
    assert path.is_file()
    assert path.suffix.lower() in {".otf", ".ttf", ".ttc"}


def test_system_fonts_are_ranked_by_family_then_regular() -> None:
    paths = [
        "/usr/share/fonts/DejaVuSans.ttf",
        "/usr/share/fonts/wqy-microhei.ttc",
        "/usr/share/fonts/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/NotoSansCJK-Regular.ttc",
    ]
    assert charts._system_font(paths) == "/usr/share/fonts/NotoSansCJK-Regular.ttc"
    assert charts._system_font(paths[:2]) == "/usr/share/fonts/wqy-microhei.ttc"
    assert charts._system_font(paths[:1]) is None


def test_without_any_cjk_font_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import matplotlib.font_manager

    monkeypatch.setattr(charts, "_packaged_font", lambda: None)
    monkeypatch.setattr(matplotlib.font_manager, "findSystemFonts", lambda: [])
    with pytest.raises(RuntimeError, match="mplfonts"):
        charts._cjk_font.__wrapped__()


async def test_renders_in_worker_threads_concurrently() -> None:
    panels = [quarter("2026年第1季度"), quarter("2026年第2季度")]
    first, second = await asyncio.gather(
        asyncio.to_thread(render_png, TITLE, panels),
        asyncio.to_thread(render_png, TITLE, panels),
    )
    assert first.startswith(PNG_SIGNATURE)
    assert first == second


def test_twenty_long_unit_names_in_one_panel() -> None:
    names = [f"某某市残疾人联合会机关第{i}办公室" for i in range(20)]
    bars = [(name, None if i % 7 == 0 else i * 5.0) for i, name in enumerate(names)]
    png = render_png(TITLE, [Panel("2026年全年", bars, Y_LABEL, NO_DATA)])
    assert png.startswith(PNG_SIGNATURE)
    width, _ = size(png)
    assert width <= 1600


def test_at_least_one_panel_is_required() -> None:
    with pytest.raises(ValueError):
        render_png(TITLE, [])


def test_the_page_chart_is_svg_with_words_for_every_bar() -> None:
    panel = Panel(
        "各单位 <b>", [("办公室", 87.4), ("康复中心", None), ("A&B", 120.0)], "", "无数据"
    )
    svg = charts.render_svg(TITLE, [panel, quarter("各季度")])
    root = ElementTree.fromstring(svg)  # well-formed XML: labels are escaped
    assert root.get("role") == "img" and root.findtext("{*}title") == TITLE
    words = [text.text for text in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "各单位 <b>" in words and "A&B" in words
    assert "87%" in words and "无数据" in words and "120%" in words  # the value, as text
    widths = [float(r.get("width", "0")) for r in root.iter("{http://www.w3.org/2000/svg}rect")]
    assert max(widths) == widths[2] and widths[1] == 0.0  # capped at 100 %, none for no data
