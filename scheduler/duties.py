"""The work plan's countable duties, reminded on working days: the quarter's kick-off, a
study session in every unit, the committee's meeting, the year's ethnic-unity activity, the
学雷锋 month's volunteering, and the quarterly report to the committee."""

from __future__ import annotations

import datetime as dt
from functools import partial

from db import chats as chats_db
from db import members as members_db
from db import plans as plans_db
from db import reminders as reminders_db
from db import rules as db_rules
from db.models import Activity, PlanItem, Unit
from db.rules import Period
from render.formats import activity_start
from render.plans import item_line
from render.texts import listing, t
from scheduler import reminder_rules
from scheduler.reminding import Firing, Writer

QUARTER_REPORT = "quarter_report"  # rendered when sent: the report, its chart, the ledger


def _scheduled_line(activity: Activity, f: Firing) -> str:
    return t(
        "remind_scheduled_line",
        id=activity.id,
        kind=t(f"kind_{activity.kind}"),
        title=activity.title,
        when=activity_start(activity, f.zone),
        unit=t("remind_scheduled_unit", unit=activity.unit.name) if activity.unit else "",
    )


async def kickoff(f: Firing) -> str | None:
    first, after = f.quarter
    held: list[Activity] = []
    for kind in ("study", "meeting", "unity"):
        held += await reminders_db.kinds_held(
            f.session, kind, f.day_start(first), f.day_start(after)
        )
    quarter = (first.month - 1) // 3 + 1
    plan = await plans_db.quarter_items(f.session, Period(first.year, quarter))
    units = {u.id: u for u in await members_db.list_units(f.session)} if plan else {}

    def text() -> str:
        lines = [_scheduled_line(a, f) for a in sorted(held, key=lambda a: a.starts_at)]
        scheduled = "\n".join(lines) or t("remind_none_scheduled")
        said = t("remind_kickoff", year=first.year, quarter=quarter, scheduled=scheduled)
        if plan:
            items = "\n".join(item_line(item, units) for item in plan)
            said += "\n\n" + t("remind_kickoff_plan", items=items)
        return said

    await f.send.group_or_committee(f.main, f.committee, text)
    return None


def _days_left(f: Firing) -> int:
    _, after = f.quarter
    return (after - dt.timedelta(days=1) - f.local_day).days


def _topics(items: list[PlanItem]) -> str:
    return listing(f"#{i.id} {i.topic}" for i in items)


def _study_text(unit: Unit, days: int, missing: bool, open_items: list[PlanItem]) -> str:
    """A unit's quota reminder: no study session yet, and the plan's items still open."""
    lines = [t("remind_study_unit", days=days, unit=unit.name)] if missing else []
    if open_items:
        key = "remind_plan_open_more" if missing else "remind_plan_open_unit"
        lines.append(t(key, days=days, unit=unit.name, items=_topics(open_items)))
    return "\n".join(lines)


async def study_quota(f: Firing) -> str | None:
    """Units without a study session this quarter, or with items of the quarter's study
    plan still 未落实, hear it in their group; the committee gets the list privately."""
    first, after = f.quarter
    missing = await reminders_db.units_without_study(
        f.session, f.day_start(first), f.day_start(after)
    )
    units = await members_db.list_units(f.session)
    quarter = Period(first.year, (first.month - 1) // 3 + 1)
    open_items = await plans_db.open_by_unit(f.session, quarter, units, f.now)
    if not missing and not open_items:
        return "every unit has a study session this quarter and nothing of the plan is open"
    days = _days_left(f)
    lacking = {u.id for u in missing}
    for unit in units:
        if unit.id not in lacking and unit.id not in open_items:
            continue
        chat = await chats_db.unit_destination(f.session, unit.id) or f.main
        if chat is not None:
            text = partial(_study_text, unit, days, unit.id in lacking, open_items.get(unit.id, []))
            thread = await chats_db.unit_thread(f.session, unit.id, chat.id)
            await f.send.chat(chat.id, text, f"unit:{unit.id}", thread)

    def summary() -> str:
        lines = []
        if missing:
            lines.append(
                t("remind_study_committee", days=days, units=listing(u.name for u in missing))
            )
        if open_items:
            per_unit = [
                t("remind_plan_open_unit_line", unit=u.name, items=_topics(open_items[u.id]))
                for u in units
                if u.id in open_items
            ]
            lines.append(t("remind_plan_open_committee", days=days, units="\n".join(per_unit)))
        return "\n".join(lines)

    await f.send.members(f.committee, summary)
    return None


async def meeting_quota(f: Firing) -> str | None:
    first, after = f.quarter
    if await reminders_db.kinds_held(f.session, "meeting", f.day_start(first), f.day_start(after)):
        return "a committee meeting is held or scheduled this quarter"
    days = _days_left(f)
    await f.send.members(f.committee, lambda: t("remind_meeting", days=days))
    return None


async def unity(f: Firing) -> str | None:
    year = f.local_day.year
    start, end = f.day_start(dt.date(year, 1, 1)), f.day_start(dt.date(year + 1, 1, 1))
    if await reminders_db.kinds_held(f.session, "unity", start, end):
        return "an ethnic-unity activity is held or scheduled this year"
    if f.main is not None:
        await f.send.chat(f.main.id, lambda: t("remind_unity"))
    await f.send.members(f.committee, lambda: t("remind_unity"))
    return None


async def leifeng(f: Firing) -> str | None:
    volunteering = await reminders_db.open_volunteering(f.session, f.now)

    def text() -> str:
        lines = [
            t("remind_leifeng_line", id=a.id, title=a.title, when=activity_start(a, f.zone))
            for a in volunteering
        ]
        activities = "\n".join(lines) or t("remind_leifeng_none")
        return t("remind_leifeng", activities=activities)

    await f.send.group_or_committee(f.main, f.committee, text)
    return None


async def quarter_report(f: Firing) -> str | None:
    ended = db_rules.quarter_of(f.local_day).previous()
    assert ended.quarter is not None
    year, quarter = ended.year, ended.quarter
    await f.send.members(
        f.committee,
        lambda: t("quarter_report_text", period=t("period_quarter", year=year, quarter=quarter)),
        ref=year * 10 + quarter,
        purpose=QUARTER_REPORT,
    )
    return None


WRITERS: dict[str, Writer] = {
    reminder_rules.QUARTER_KICKOFF: kickoff,
    reminder_rules.STUDY_QUOTA: study_quota,
    reminder_rules.MEETING_QUOTA: meeting_quota,
    reminder_rules.UNITY: unity,
    reminder_rules.LEIFENG: leifeng,
    reminder_rules.QUARTER_REPORT: quarter_report,
}
