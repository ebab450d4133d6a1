"""The ledger (台账) of a period: the workbook's sheets, one row per person per activity and
so on, streamed from the database in constant memory. Made in a child process
(scheduler.reports), in the language being spoken there."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import exports
from db import members as members_db
from db import needs as needs_db
from db import plans as plans_db
from db import reports as reports_db
from db import reviews as reviews_db
from db import volunteer as volunteer_db
from db.database import Database
from db.models import Unit
from db.reports import Report, Tally
from db.rules import Period
from db.tasks import AddWorkdays
from render.formats import category_name, hours_text, percent, unit_text
from render.plans import activity_ids, form_name, standings_cell, units_text
from render.report import STATUS_KEYS, quota
from render.tasks import owner_text, review_basis, review_state
from render.texts import named, person_name, t
from render.workbook import Column, Kind, LedgerWriter

Shape = Callable[[tuple[Any, ...]], list[object]]  # a database row → the sheet's cells
ANSWER_KEYS = {
    "present": "answer_present",
    "late": "answer_late",
    "leave": "answer_leave",
    None: "answer_absent",
    "unregistered": "answer_unregistered",
    "makeup": "answer_makeup",
}


def ledger_name(period: Period) -> str:
    return t("ledger_file", period=period.key)


async def write_ledger(
    db: Database,
    period: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    unit: Unit | None,
    add_workdays: AddWorkdays,
    folder: Path | None = None,
) -> Path:
    """The ledger of `period` (one unit's, for its lead) as an .xlsx file in a new folder.
    `add_workdays`: the working-day calendar a needs target is counted in."""
    folder = folder or Path(tempfile.mkdtemp(prefix="ledger-"))
    path = folder / ledger_name(period)
    start, end = period.bounds(zone)
    unit_id = unit.id if unit is not None else None
    writer = await asyncio.to_thread(LedgerWriter, path, zone)
    try:
        async with db.read_session() as session:
            report = await reports_db.build(session, period, zone, now, unit=unit)
            where = exports.ended_in_period(start, end, now, unit_id)
            counts = await reports_db.tallies_by_activity(session, where, unit_id)
            scope = _Scope(session, writer, start, end, now, unit_id)
            await _activities(scope, counts)
            await _plan(scope, period, unit)
            await _reviews(scope, period, zone, add_workdays)
            await _attendance(scope)
            await _approvals(scope)
            await _volunteering(scope)
            await _receipts(scope)
            if unit is None:  # the needs are the committee's: not in a unit lead's ledger
                await _needs(scope)
            await _roster(scope)
        await asyncio.to_thread(_assessment, writer, report)
    finally:
        await asyncio.to_thread(writer.close)
    return path


@dataclass(frozen=True)
class _Scope:
    """What every sheet is written from: the period's bounds, whose rows, into which workbook."""

    session: AsyncSession
    writer: LedgerWriter
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    unit_id: int | None

    async def write(
        self, key: str, columns: list[Column], stmt: exports.Query, shape: Shape
    ) -> None:
        """Sheet `key` with `columns`, a row per database row of `stmt`, streamed."""
        sheet = await asyncio.to_thread(self.writer.sheet, t(key), columns)
        async for chunk in exports.stream(self.session, stmt):
            await asyncio.to_thread(sheet.extend, [shape(row) for row in chunk])


def _col(key: str, kind: Kind = "text") -> Column:
    return Column(t(key), kind)


def _person_at_activity() -> list[Column]:
    """The first columns of a sheet with one row per person per activity."""
    return [
        _col("col_id", "int"),
        _col("col_title"),
        _col("col_starts", "datetime"),
        _col("col_unit"),
        _col("col_name"),
    ]


def _person_at_activity_cells(row: tuple[Any, ...]) -> list[object]:
    """Those columns' cells, from the first six of exports.person_at_activity's row."""
    activity_id, title, starts, unit_name, real, first = row[: exports.PERSON_AT_ACTIVITY]
    return [activity_id, title, starts, unit_text(unit_name), named(real, first)]


async def _activities(scope: _Scope, counts: dict[int, Tally]) -> None:
    columns = [
        _col("col_id", "int"),
        _col("col_kind"),
        _col("col_activity_title"),
        _col("col_target"),
        _col("col_starts", "datetime"),
        _col("col_ends", "datetime"),
        _col("col_place"),
        _col("col_state"),
        _col("col_expected", "int"),
        _col("col_present", "int"),
        _col("col_late", "int"),
        _col("col_leave", "int"),
        _col("col_absent", "int"),
        _col("col_minutes"),
        _col("col_photos", "int"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, kind, title, unit_name, starts, ends, place, status, minutes, photos = row
        tally = counts.get(activity_id)
        state = "state_cancelled" if status == "cancelled" else "state_active"
        numbers: list[object] = (
            [tally.expected, tally.present, tally.late, tally.leave, tally.absent]
            if tally is not None
            else [None] * 5  # not held yet, or volunteering
        )
        return [
            activity_id,
            t(f"kind_{kind}"),
            title,
            unit_name or t("target_all"),
            starts,
            ends,
            place,
            t(state),
            *numbers,
            minutes,
            photos,
        ]

    stmt = exports.activities(scope.start, scope.end, scope.unit_id)
    await scope.write("sheet_activities", columns, stmt, shape)


async def _plan(scope: _Scope, period: Period, unit: Unit | None) -> None:
    """学习计划: the period's study plan items and where the units stand with each (a lead's:
    the items for their unit). Its first six columns are what /plan import reads back."""
    columns = [
        _col("col_plan_id", "int"),
        _col("col_quarter"),
        _col("col_topic"),
        _col("col_form"),
        _col("col_units"),
        _col("col_materials"),
        _col("col_plan_state"),
        _col("col_plan_activities"),
    ]
    units = await members_db.list_units(scope.session)
    named = {u.id: u for u in units}
    shown = units if unit is None else [u for u in units if u.id == unit.id]
    plan = [
        item
        for item in await plans_db.items(scope.session, period.year)
        if (period.quarter is None or item.quarter == period.quarter)
        and plans_db.units_of(item, shown)
    ]
    standings = await plans_db.standings(scope.session, plan, shown, scope.now)
    rows: list[list[object]] = []
    for item in plan:
        per_unit = standings.get(item.id, {})
        carried = sorted({a for s in per_unit.values() for a in s.activities})
        rows.append(
            [
                item.id,
                Period(item.year, item.quarter).key,
                item.topic,
                form_name(item.form),
                units_text(item, named),
                item.materials,
                standings_cell(per_unit, named),
                activity_ids(carried),
            ]
        )
    sheet = await asyncio.to_thread(scope.writer.sheet, t("sheet_plan"), columns)
    await asyncio.to_thread(sheet.extend, rows)


async def _reviews(
    scope: _Scope, period: Period, zone: ZoneInfo, add_workdays: AddWorkdays
) -> None:
    """工作要点落实: each task due for review in each quarter of the period begun so far (a
    lead's: their unit's tasks), its state, on what it rests, the note and who reported."""
    columns = [
        _col("col_plan_id", "int"),
        _col("col_quarter"),
        _col("col_task"),
        _col("col_owner"),
        _col("col_plan_state"),
        _col("col_basis"),
        _col("col_note"),
        _col("col_reporter"),
        _col("col_reported_at", "datetime"),
        _col("col_evidence", "int"),
    ]
    today = scope.now.astimezone(zone).date()
    quarters = [
        q
        for q in ([period.quarter] if period.quarter else [1, 2, 3, 4])
        if Period(period.year, q).days()[0] <= today
    ]
    lines = await reviews_db.table(
        scope.session, period.year, quarters, zone, scope.now, add_workdays, unit_id=scope.unit_id
    )
    units = {u.id: u for u in await members_db.list_units(scope.session)}
    people = await members_db.by_ids(scope.session, [x.task.owner_member_id for x in lines])
    rows: list[list[object]] = []
    for line in lines:
        task, reviewed, measured = line.task, line.reviewed, line.measured
        review = reviewed.review if reviewed is not None else None
        rows.append(
            [
                task.id,
                line.quarter.key,
                (task.number or "") + task.title,
                owner_text(task, units, people),
                review_state(task, review, measured),
                t(review_basis(review, measured)),
                review.note if review is not None else None,
                person_name(reviewed.reporter) if reviewed and reviewed.reporter else None,
                review.reported_at if review is not None else None,
                reviewed.evidence if reviewed is not None else 0,
            ]
        )
    sheet = await asyncio.to_thread(scope.writer.sheet, t("sheet_reviews"), columns)
    await asyncio.to_thread(sheet.extend, rows)


async def _attendance(scope: _Scope) -> None:
    columns = [
        *_person_at_activity(),
        _col("col_answer"),
        _col("col_checked_at", "datetime"),
        _col("col_reason"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        registered, status, at, reason, makeup = row[exports.PERSON_AT_ACTIVITY :]
        answer = status if status is not None or registered else "unregistered"
        if makeup:
            answer = "makeup"
        return [
            *_person_at_activity_cells(row),
            t(ANSWER_KEYS[answer]),
            at if status in ("present", "late") else None,
            reason if status == "leave" or makeup else None,
        ]

    stmt = exports.attendance(scope.start, scope.end, scope.now, scope.unit_id)
    await scope.write("sheet_attendance", columns, stmt, shape)


async def _approvals(scope: _Scope) -> None:
    """审批记录: each leave or 补签 request, who decided and when (the audit trail)."""
    columns = [
        *_person_at_activity(),
        _col("col_request"),
        _col("col_request_reason"),
        _col("col_decision"),
        _col("col_asked_at", "datetime"),
        _col("col_decider"),
        _col("col_decided_at", "datetime"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        kind, reason, status, asked, decider_real, decider_first, decided_at = row[
            exports.PERSON_AT_ACTIVITY :
        ]
        decided = decider_real is not None or decider_first is not None
        return [
            *_person_at_activity_cells(row),
            t(f"approval_kind_{kind}"),
            reason,
            t(f"approval_status_{status}"),
            asked,
            named(decider_real, decider_first) if decided else None,
            decided_at,
        ]

    stmt = exports.approvals(scope.start, scope.end, scope.unit_id)
    await scope.write("sheet_approvals", columns, stmt, shape)


async def _volunteering(scope: _Scope) -> None:
    credited = await volunteer_db.credits(scope.session, scope.now, scope.start, scope.end)
    columns = [
        *_person_at_activity(),
        _col("col_signup"),
        _col("col_checked_in"),
        _col("col_hours", "float"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, member_id = row[0], row[-1]
        status, checked = row[exports.PERSON_AT_ACTIVITY : -1]
        return [
            *_person_at_activity_cells(row),
            t("me_confirmed" if status == "confirmed" else "signup_waitlisted_word"),
            t("yes" if checked else "no"),
            credited.get((member_id, activity_id), 0.0),
        ]

    stmt = exports.volunteering(scope.start, scope.end, scope.unit_id)
    await scope.write("sheet_volunteering", columns, stmt, shape)


async def _receipts(scope: _Scope) -> None:
    columns = [
        _col("col_notice", "int"),
        _col("col_posted", "datetime"),
        _col("col_notice_text"),
        _col("col_unit"),
        _col("col_name"),
        _col("col_receipt"),
        _col("col_received_at", "datetime"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        notice_id, posted, text, unit_name, real, first, registered, acked_at = row
        if acked_at is not None:
            receipt = "receipt_yes"
        else:
            receipt = "receipt_no" if registered else "answer_unregistered"
        return [
            notice_id,
            posted,
            exports.first_line(text),
            unit_text(unit_name),
            named(real, first),
            t(receipt),
            acked_at,
        ]

    stmt = exports.receipts(scope.start, scope.end, scope.unit_id)
    await scope.write("sheet_receipts", columns, stmt, shape)


async def _needs(scope: _Scope) -> None:
    """诉求: each need of the period; the sender's name and unit only when signed (匿名 else)."""
    columns = [
        _col("needs_col_id", "int"),
        _col("needs_col_date", "datetime"),
        _col("needs_col_category"),
        _col("needs_col_status"),
        _col("needs_col_text"),
        _col("needs_col_sender"),
        _col("needs_col_unit"),
        _col("needs_col_replies", "int"),
        _col("needs_col_rating"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        need_id, created, category, status, text, anonymous, real, first, unit_name = row[:9]
        replies, satisfied = row[9:]
        if anonymous:
            sender, unit = t("need_sender_anonymous"), None
        else:
            sender, unit = named(real, first), unit_text(unit_name)
        return [
            need_id,
            created,
            category_name(category),
            t(f"need_status_{status}"),
            text,
            sender,
            unit,
            replies,
            t(f"need_rating_{satisfied}") if satisfied else None,
        ]

    await scope.write("needs_sheet", columns, needs_db.ledger(scope.start, scope.end), shape)


async def _roster(scope: _Scope) -> None:
    """成员: the import columns first (姓名, 单位, 职务, 用户名), so the sheet imports back."""
    session, start, end, now = scope.session, scope.start, scope.end, scope.now
    tallies = await reports_db.tallies_by_member(session, start, end, now, unit_id=scope.unit_id)
    hours: dict[int, float] = {}
    for (member_id, _), credited in (await volunteer_db.credits(session, now, start, end)).items():
        hours[member_id] = hours.get(member_id, 0.0) + credited
    columns = [
        _col("col_name"),
        _col("col_unit"),
        _col("col_title_job"),
        _col("col_username"),
        _col("col_registered"),
        _col("col_registered_at", "datetime"),
        _col("col_rate", "percent"),
        _col("col_hours", "float"),
    ]

    def shape(row: tuple[Any, ...]) -> list[object]:
        member_id, real, first, unit_name, title, username, registered_at, _imported = row
        tally = tallies.get(member_id)
        return [
            named(real, first),
            unit_text(unit_name),
            title,
            username,
            t("registered_yes" if registered_at else "answer_unregistered"),
            registered_at,
            tally.rate if tally else None,
            hours.get(member_id, 0.0),
        ]

    await scope.write("sheet_roster", columns, exports.roster(scope.unit_id), shape)


def _assessment(writer: LedgerWriter, report: Report) -> None:
    """考核: each unit's duties and attendance, then the committee's duties."""
    columns = [
        _col("col_item"),
        _col("col_quota"),
        _col("col_done"),
        _col("col_expected", "int"),
        _col("col_present", "int"),
        _col("col_late", "int"),
        _col("col_leave", "int"),
        _col("col_absent", "int"),
        _col("col_rate", "percent"),
    ]
    sheet = writer.sheet(t("sheet_assessment"), columns)
    for line in report.units:
        study = quota(report, line.study, line.study_held, line.study_quarters)
        tally = line.tally
        sheet.append(
            [
                t("assess_unit", unit=line.unit.name),
                t("assess_study_quota"),
                study,
                tally.expected,
                tally.present,
                tally.late,
                tally.leave,
                tally.absent,
                tally.rate,
            ]
        )
    meetings = quota(report, report.meetings, report.meetings_held, report.meeting_quarters)
    blank: list[object] = [None] * (len(columns) - 3)  # the committee's rows have no tallies
    sheet.append([t("assess_meetings"), t("assess_meetings_quota"), meetings, *blank])
    unity = t(STATUS_KEYS[report.unity])
    sheet.append([t("assess_unity"), t("assess_unity_quota"), unity, *blank])
    volunteering = t(
        "assess_volunteer_done",
        people=report.volunteers,
        times=report.volunteer_times,
        hours=hours_text(report.volunteer_hours),
    )
    sheet.append([t("assess_volunteer"), None, volunteering, *blank])
    notices = t("assess_notices_done", count=report.notices, rate=percent(report.ack_rate))
    sheet.append([t("assess_notices"), None, notices, *blank])
    # 说明: how the rate column of this sheet and of 成员 is computed (db.rules.attendance_rate).
    sheet.append([t("col_rate"), None, t("rate_formula"), *blank])
