"""The report (青年工作报告) as messages, and its chart's panels: pure functions of a built
`db.reports.Report`, in the language being spoken."""

from __future__ import annotations

from db import needs as needs_db
from db.models import Unit
from db.reports import Report, Tally
from render.charts import Panel
from render.formats import category_name, hours_text, percent, period_name, unit_of
from render.plans import execution_text
from render.texts import paginate, person_name, t

STATUS_KEYS = {"done": "status_done", "scheduled": "status_scheduled", "missing": "status_missing"}
# The ledger's sheets in the order render.ledger writes them; the needs are the committee's.
LEDGER_SHEETS = (
    "sheet_activities",
    "sheet_plan",
    "sheet_reviews",
    "sheet_attendance",
    "sheet_approvals",
    "sheet_volunteering",
    "sheet_receipts",
    "needs_sheet",
    "sheet_roster",
    "sheet_assessment",
)


def ledger_sheets(unit: Unit | None) -> list[str]:
    """The catalog keys of the sheets a ledger has: a unit lead's has no needs."""
    return [key for key in LEDGER_SHEETS if unit is None or key != "needs_sheet"]


def report_title(report: Report, unit: Unit | None) -> str:
    title = period_name(report.period) + t("report_title_suffix")
    if unit is not None:
        title += t("report_scope_unit", unit=unit.name)
    return title


def tally_text(tally: Tally) -> str:
    makeup = t("report_tally_makeup", makeup=tally.makeup) if tally.makeup else ""
    return (
        t(
            "report_tally",
            expected=tally.expected,
            present=tally.present,
            late=tally.late,
            leave=tally.leave,
            absent=tally.absent,
            rate=percent(tally.rate),
        )
        + makeup
    )


def quota(report: Report, status: str, held: int, quarters: set[int]) -> str:
    """A quarter: done / scheduled / missing; a year: how many quarters met the quota."""
    if report.period.quarter is None:
        return t("report_quota_year", held=held, met=len(quarters), due=report.quarters_due)
    return t(STATUS_KEYS[status])


def report_pages(
    report: Report, unit: Unit | None, needs: needs_db.Summary | None = None
) -> list[str]:
    """The report as messages (split when long); `needs`: the committee's copy has them."""
    title = report_title(report, unit)
    lines = [t("report_units_header")]
    for line in report.units:
        study = quota(report, line.study, line.study_held, line.study_quarters)
        lines.append(t("report_unit_line", unit=line.unit.name, study=study))
        lines.append(t("report_unit_attendance", tally=tally_text(line.tally)))
        if line.plan.planned:
            lines.append(t("report_unit_plan", plan=execution_text(line.plan)))
    meetings = quota(report, report.meetings, report.meetings_held, report.meeting_quarters)
    lines += [
        t("report_committee_header"),
        t("report_meetings", status=meetings),
        t("report_unity", year=report.period.year, status=t(STATUS_KEYS[report.unity])),
        t("report_total", tally=tally_text(report.total)),
        t(
            "report_volunteer",
            people=report.volunteers,
            times=report.volunteer_times,
            hours=hours_text(report.volunteer_hours),
        ),
        t("report_notices", count=report.notices, rate=percent(report.ack_rate)),
        t("report_lacking_header"),
    ]
    lines += [
        t(
            "report_lacking_line",
            id=item.activity.id,
            title=item.activity.title,
            missing=t(
                "lacking_both"
                if item.minutes and item.photos
                else ("lacking_minutes" if item.minutes else "lacking_photos")
            ),
        )
        for item in report.lacking
    ] or [t("report_lacking_none")]
    if needs is not None:
        lines += needs_lines(needs)
    return paginate(lambda p, n: t("report_header", title=title, page=p, pages=n), lines)


def needs_lines(summary: needs_db.Summary) -> list[str]:
    """我为青年办实事: the period's needs by status and category, and the satisfaction rate."""
    if not summary.total:
        return [t("needs_report_header"), t("needs_report_none")]
    lines = [
        t("needs_report_header"),
        t("needs_report_total", total=summary.total, **summary.statuses()),
    ]
    lines += [
        t(
            "needs_report_category",
            category=category_name(c),
            total=n,
            **summary.statuses(c),
        )
        for c in needs_db.CATEGORIES
        if (n := summary.by_category(c))
    ]
    rate = percent(summary.rate)
    satisfied, rated = summary.satisfied, summary.rated
    return [*lines, t("needs_report_rate", rate=rate, satisfied=satisfied, rated=rated)]


def low_attendance_pages(report: Report, threshold: float) -> list[str]:
    """For the committee only: who came to less than the threshold (by unit, not ranked)."""
    lines = [
        t(
            "report_low_line",
            name=person_name(member),
            unit=unit_of(member),
            rate=percent(tally.rate),
            expected=tally.expected,
            absent=tally.absent,
        )
        for member, tally in report.low
    ] or [t("report_low_none")]
    header = t("report_low_header", percent=f"{threshold * 100:.0f}")
    return paginate(lambda _p, _n: header, lines)


def chart_panels(report: Report) -> list[Panel]:
    words = {"y_label": t("chart_y_label"), "no_data": t("rate_none")}
    by_unit = [(line.unit.name, _pct(line.tally.rate)) for line in report.units]
    by_quarter = [
        (t("chart_quarter", quarter=q.quarter), _pct(tally.rate)) for q, tally in report.quarters
    ]
    return [
        Panel(t("chart_by_unit", period=period_name(report.period)), by_unit, **words),
        Panel(t("chart_by_quarter", year=report.period.year), by_quarter, **words),
    ]


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100
