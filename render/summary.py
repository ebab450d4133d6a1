"""The year-end summary draft (年度工作总结初稿) as a Word document: the committee's standard
outline (一、基本情况 二、主要工作和成效 三、存在的不足 四、下一步打算) filled with the year's
facts (`db.summary.YearFacts`), in the language being spoken.

Every number is one of the facts; what only people can write (what was learned, the
shortcomings' causes, next year's plans) is a placeholder highlighted in yellow. A pure
function of the facts (python-docx; handlers.summary loads this module with the first draft, so
the bot starts without it).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from docx import Document as new_document
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph

from db import needs as needs_db
from db.summary import WorkTask, YearFacts
from render.formats import category_name, hours_text, percent
from render.tasks import figure_text
from render.texts import listing, t

LATIN = "Times New Roman"
BODY_FONT = "仿宋"  # the East Asian fonts of an official draft: body, headings, title
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
BODY_SIZE = 14  # points (四号)
INDENT = 2  # a paragraph's first line is indented by two characters


def file_name(year: int) -> str:
    return t("summary_file_name", year=year)


def date_text(facts: YearFacts, zone: ZoneInfo) -> str:
    day = facts.as_of.astimezone(zone).date()
    return t("summary_date", year=day.year, month=day.month, day=day.day)


def summary_docx(facts: YearFacts, zone: ZoneInfo) -> bytes:
    """The draft of `facts.year` as the bytes of a .docx file."""
    document = new_document()
    _styles(document)
    _properties(document, facts)
    title = document.add_heading(t("summary_title", year=facts.year), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = document.add_paragraph(t("summary_note", date=date_text(facts, zone)))
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in note.runs:
        run.italic = True
    _basics(document, facts)
    _work(document, facts)
    _shortcomings(document, facts)
    _next_year(document)
    for text in (t("cert_committee"), date_text(facts, zone)):
        document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the outline
def _basics(document: Document, facts: YearFacts) -> None:
    """一、基本情况: units and people, the activities held, attendance."""
    document.add_heading(t("summary_h_basics"), level=1)
    _sentence(
        document,
        t(
            "summary_basics_people",
            year=facts.year,
            units=facts.units,
            people=facts.people,
            registered=facts.registered,
        ),
    )
    _sentence(document, t("summary_basics_held", held=facts.activities_held, **facts.held))
    total = facts.report.total
    _sentence(
        document,
        t(
            "summary_basics_attendance",
            expected=total.expected,
            present=total.present,
            late=total.late,
            leave=total.leave,
            absent=total.absent,
            rate=percent(total.rate),
        ),
    )
    _placeholder(document, "summary_fill_basics")


def _work(document: Document, facts: YearFacts) -> None:
    """二、主要工作和成效: each line of work with its figures, then the work plan's tasks."""
    report = facts.report
    due = report.quarters_due
    document.add_heading(t("summary_h_work"), level=1)

    document.add_heading(t("summary_h_study"), level=2)
    full = sum(1 for line in report.units if len(line.study_quarters) >= due)
    _sentence(document, t("summary_study", full=full, units=len(report.units), due=due))
    planned = sum(line.plan.planned for line in report.units)
    if planned:
        done = sum(line.plan.done for line in report.units)
        scheduled = sum(line.plan.scheduled for line in report.units)
        opened = sum(line.plan.open for line in report.units)
        _sentence(
            document,
            t("summary_plan", planned=planned, done=done, scheduled=scheduled, open=opened),
        )
    else:
        _sentence(document, t("summary_plan_none"))
    _table(
        document,
        [
            "summary_col_unit",
            "summary_col_study",
            "summary_col_quarters",
            "summary_col_planned",
            "summary_col_done",
            "summary_col_scheduled",
            "summary_col_open",
            "summary_col_rate",
        ],
        [
            [
                line.unit.name,
                str(line.study_held),
                f"{len(line.study_quarters)}/{due}",
                str(line.plan.planned),
                str(line.plan.done),
                str(line.plan.scheduled),
                str(line.plan.open),
                percent(line.tally.rate),
            ]
            for line in report.units
        ],
    )

    document.add_heading(t("summary_h_meetings"), level=2)
    meetings = t(
        "summary_meetings",
        held=report.meetings_held,
        met=len(report.meeting_quarters),
        due=due,
    )
    if report.meetings_scheduled:
        meetings += t("summary_scheduled", count=report.meetings_scheduled)
    _sentence(document, meetings)

    document.add_heading(t("summary_h_unity"), level=2)
    unity = (
        t("summary_unity_done", held=report.unity_held)
        if report.unity_held
        else t("summary_unity_missing")
    )
    if report.unity_scheduled:
        unity += t("summary_scheduled", count=report.unity_scheduled)
    _sentence(document, unity)

    document.add_heading(t("summary_h_volunteer"), level=2)
    _sentence(
        document,
        t(
            "summary_volunteer",
            activities=facts.held.get("volunteer", 0),
            people=report.volunteers,
            times=report.volunteer_times,
            hours=hours_text(report.volunteer_hours),
        ),
    )

    document.add_heading(t("summary_h_notices"), level=2)
    _sentence(
        document,
        t(
            "summary_notices",
            count=report.notices,
            expected=report.notice_expected,
            acks=report.notice_acks,
            rate=percent(report.ack_rate),
        ),
    )

    document.add_heading(t("summary_h_needs"), level=2)
    _needs(document, facts.needs)

    document.add_heading(t("summary_h_musters"), level=2)
    calls = facts.musters
    if calls.calls:
        _sentence(
            document,
            t(
                "summary_musters",
                calls=calls.calls,
                wanted=calls.wanted,
                confirmed=calls.confirmed,
                people=calls.people,
            ),
        )
    else:
        _sentence(document, t("summary_musters_none"))

    document.add_heading(t("summary_h_tasks"), level=2)
    add_tasks_review(document, facts.tasks)
    _placeholder(document, "summary_fill_results")


def _needs(document: Document, needs: needs_db.Summary) -> None:
    """我为青年办实事: received, handled (办结) and rated, and a table by category."""
    if not needs.total:
        _sentence(document, t("summary_needs_none"))
        return
    statuses = needs.statuses()
    _sentence(
        document,
        t(
            "summary_needs",
            total=needs.total,
            done=statuses["done"],
            rate=percent(statuses["done"] / needs.total),
            rated=needs.rated,
            satisfied=needs.satisfied,
            satisfaction=percent(needs.rate),
        ),
    )
    rows = []
    for category in needs_db.CATEGORIES:
        if not (received := needs.by_category(category)):
            continue
        by_status = needs.statuses(category)
        counts = [str(by_status[s]) for s in needs_db.STATUSES]
        rows.append([category_name(category), str(received), *counts])
    _table(
        document,
        ["summary_col_category", "summary_col_received"]
        + [f"need_status_{s}" for s in needs_db.STATUSES],
        rows,
    )


def add_tasks_review(document: Document, tasks: Sequence[WorkTask]) -> None:
    """工作要点落实情况: a row per task of the year's work plan with its state and the figure
    behind it; without tasks entered (/task add), a placeholder."""
    if not tasks:
        _placeholder(document, "summary_fill_tasks")
        return
    _table(
        document,
        ["summary_col_task", "summary_col_state", "summary_col_note"],
        [
            [
                task.title,
                t(f"summary_task_{task.state}"),
                figure_text(task.target, task.measured) if task.measured else task.note,
            ]
            for task in tasks
        ],
    )


def _shortcomings(document: Document, facts: YearFacts) -> None:
    """三、存在的不足: what the records show was not done, then the people's analysis."""
    report = facts.report
    ended = range(1, facts.quarters_ended + 1)  # the running quarter is not a shortcoming yet
    document.add_heading(t("summary_h_shortcomings"), level=1)
    gaps = []
    open_plan = [line for line in report.units if line.plan.open]
    if open_plan:
        names = listing(line.unit.name for line in open_plan)
        count = sum(line.plan.open for line in open_plan)
        gaps.append(t("summary_gap_plan", units=names, open=count))
    short = [line.unit.name for line in report.units if set(ended) - line.study_quarters]
    if short:
        gaps.append(t("summary_gap_study", units=listing(short)))
    if missed := len(set(ended) - report.meeting_quarters):
        gaps.append(t("summary_gap_meetings", missing=missed))
    if not report.unity_held:
        gaps.append(t("summary_gap_unity"))
    if report.lacking:
        gaps.append(t("summary_gap_lacking", count=len(report.lacking)))
    if unhandled := facts.needs.total - facts.needs.statuses()["done"]:
        gaps.append(t("summary_gap_needs", open=unhandled))
    if gaps:
        _sentence(document, t("summary_found"))
        for number, gap in enumerate(gaps, 1):
            _sentence(document, f"{number}. {gap}")
    _placeholder(document, "summary_fill_shortcomings")


def _next_year(document: Document) -> None:
    """四、下一步打算: for people to write."""
    document.add_heading(t("summary_h_next"), level=1)
    _placeholder(document, "summary_fill_next")


# ---------------------------------------------------------------------------- the pieces
def _sentence(document: Document, text: str) -> Paragraph:
    paragraph = document.add_paragraph(text)
    paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE * INDENT)
    return paragraph


def _placeholder(document: Document, what: str) -> Paragraph:
    """A paragraph for people to write, highlighted in yellow: 【请填写：…】."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(BODY_SIZE * INDENT)
    run = paragraph.add_run(t("summary_fill", what=t(what)))
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return paragraph


def _table(document: Document, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A grid with a bold header row (catalog keys), then the rows."""
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, key in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(t(key)).bold = True
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value


def _properties(document: Document, facts: YearFacts) -> None:
    """The file's own title, author and dates (python-docx's template says 2013)."""
    properties = document.core_properties
    properties.title = t("summary_title", year=facts.year)
    properties.author = properties.last_modified_by = t("cert_committee")
    properties.created = properties.modified = facts.as_of.replace(microsecond=0)
    properties.revision = 1


def _styles(document: Document) -> None:
    """Black text in the fonts of an official draft (Chinese fonts for Chinese characters)."""
    _font(document.styles["Normal"], BODY_FONT, BODY_SIZE)
    _font(document.styles["Title"], TITLE_FONT, 22)
    _font(document.styles["Heading 1"], HEADING_FONT, 16)
    _font(document.styles["Heading 2"], HEADING_FONT, BODY_SIZE)


def _font(style: BaseStyle, east_asian: str, size: int) -> None:
    font = style.font  # type: ignore[attr-defined]
    font.name = LATIN
    font.size = Pt(size)
    font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asian)
