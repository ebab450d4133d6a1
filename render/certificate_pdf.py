"""The volunteer-hours certificate (志愿服务证明) as an A4 PDF.

Pure rendering: what is certified comes from the caller (see db.certificates), the words from
the catalog. The CJK font the charts use is embedded (subset) with a map back to Unicode, so the
text can be selected, searched and extracted. Characters the font lacks (emoji in a title) are
left out rather than drawn as empty boxes. A long list flows onto further pages, the table's
heading repeated; every page's footer carries the verification code and the page number.

A certificate takes a few tenths of a second of CPU (the font is read and subset each time): the
caller runs `render_pdf` in a worker thread.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from render.certificate import Document
from render.charts import find_cjk_font
from render.formats import hours_text
from render.texts import LANGUAGES, current_language, t

FAMILY = "cjk"
MARGIN = 20.0  # mm on every side
WIDTHS = (32.0, 106.0, 32.0)  # date, activity, hours: the 170 mm between the margins
GREY = (235, 235, 235)
# Room the closing block needs (committee, date, code, how to verify) on the table's last page.
CLOSING_HEIGHT = 48.0

# Renders take turns: font parsing and subsetting are pure Python, which gains nothing from
# running side by side, and each render holds the parsed font (some 60 MB) while it lasts.
_render_lock = threading.Lock()
# fontTools reports every step of subsetting the font at INFO: a dozen lines per certificate.
logging.getLogger("fontTools").setLevel(logging.WARNING)


@functools.lru_cache(maxsize=1)
def _font_path() -> str:
    return find_cjk_font()


class _Pdf(FPDF):
    """A4 portrait with the code and page number in every page's footer."""

    def __init__(self, code: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.code = code
        self.glyphs: frozenset[int] = frozenset()

    def footer(self) -> None:
        self.set_y(-MARGIN + 6)
        self.set_font(FAMILY, size=9)
        self.set_text_color(110)
        # {nb} is the page count, filled in when the document is closed.
        text = t("cert_pdf_footer", code=self.code, page=self.page_no(), pages="{nb}")
        self.cell(0, 6, text, align="C")
        self.set_text_color(0)

    def printable(self, text: str) -> str:
        """`text` without what the font cannot draw (emoji, control and format characters);
        line breaks and tabs become spaces."""
        kept = []
        for char in text:
            if char.isspace():
                kept.append(" ")
            elif ord(char) in self.glyphs and not unicodedata.category(char).startswith("C"):
                kept.append(char)
        return re.sub(r" {2,}", " ", "".join(kept)).strip()


def render_pdf(document: Document) -> bytes:
    """The certificate as PDF bytes."""
    with _render_lock:
        return _render(document)


def _render(document: Document) -> bytes:
    pdf = _Pdf(document.code)
    pdf.add_font(FAMILY, "", _font_path())
    font = pdf.fonts[FAMILY]
    assert isinstance(font, TTFFont)  # an OpenType or TrueType file, never a core font
    pdf.glyphs = frozenset(font.cmap)
    committee = t("cert_committee")
    title = t("cert_pdf_title")
    pdf.set_title(pdf.printable(f"{title} · {document.name} · {document.year}"))
    pdf.set_author(committee)
    pdf.set_lang(LANGUAGES[current_language()].replace("_", "-"))  # zh-CN or en
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    _heading(pdf, document, title)
    _table(pdf, document)
    _closing(pdf, document, committee)
    return bytes(pdf.output())


def _heading(pdf: _Pdf, document: Document, title: str) -> None:
    pdf.set_font(FAMILY, size=24)
    pdf.cell(0, 16, pdf.printable(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FAMILY, size=12.5)
    body = t(
        "cert_pdf_body",
        name=document.name,
        unit=document.unit,
        year=document.year,
        count=len(document.entries),
        hours=hours_text(document.total),
    )
    # Chinese wraps between any two characters.
    pdf.multi_cell(
        0,
        8,
        pdf.printable(body),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
        wrapmode=WrapMode.CHAR,
    )
    pdf.ln(4)


def _table(pdf: _Pdf, document: Document) -> None:
    pdf.set_font(FAMILY, size=11)
    heading = FontFace(emphasis=None, fill_color=GREY)
    with pdf.table(
        col_widths=WIDTHS,
        width=sum(WIDTHS),
        text_align=("CENTER", "LEFT", "RIGHT"),
        headings_style=heading,
        line_height=7,
        padding=(1.5, 2),
        repeat_headings=1,
    ) as table:
        row = table.row()
        for key in ("cert_pdf_col_date", "cert_pdf_col_activity", "cert_pdf_col_hours"):
            row.cell(t(key), align="CENTER")
        for entry in document.entries:
            row = table.row()
            row.cell(entry.day.isoformat())
            row.cell(pdf.printable(entry.title))
            row.cell(hours_text(entry.hours))
        row = table.row(style=heading)
        row.cell(t("cert_pdf_total"), colspan=2, align="RIGHT")
        row.cell(hours_text(document.total))


def _closing(pdf: _Pdf, document: Document, committee: str) -> None:
    """The committee and the date, then the code and how to verify it, kept on one page."""
    pdf.ln(10)
    if pdf.will_page_break(CLOSING_HEIGHT):
        pdf.add_page()
    pdf.set_font(FAMILY, size=12.5)
    issued = t(
        "cert_pdf_issued",
        year=document.issued.year,
        month=document.issued.month,
        day=document.issued.day,
    )
    for line in (committee, issued):
        pdf.cell(0, 8, pdf.printable(line), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)
    pdf.set_font(FAMILY, size=12)
    pdf.cell(0, 8, t("cert_pdf_code", code=document.code), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=10)
    pdf.set_text_color(60)
    how = t("cert_pdf_how", bot=document.bot_username, code=document.code)
    pdf.multi_cell(0, 6, pdf.printable(how), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)
