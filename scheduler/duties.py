"""The work plan's countable duties, reminded on working days: the quarter's kick-off, a
study session in every unit, the committee's meeting, the year's ethnic-unity activity, the
学雷锋 month's volunteering, and the quarterly report to the committee."""

from __future__ import annotations

import datetime as dt
from functools import partial

from db import chats as chats_db
from db import reminders as reminders_db
from db import rules as db_rules
from db.models import Activity
from render.formats import activity_start
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

    def text() -> str:
        lines = [_scheduled_line(a, f) for a in sorted(held, key=lambda a: a.starts_at)]
        scheduled = "\n".join(lines) or t("remind_none_scheduled")
        return t("remind_kickoff", year=first.year, quarter=quarter, scheduled=scheduled)

    await f.send.group_or_committee(f.main, f.committee, text)
    return None


def _days_left(f: Firing) -> int:
    _, after = f.quarter
    return (after - dt.timedelta(days=1) - f.local_day).days


async def study_quota(f: Firing) -> str | None:
    first, after = f.quarter
    missing = await reminders_db.units_without_study(
        f.session, f.day_start(first), f.day_start(after)
    )
    if not missing:
        return "every unit has a study session this quarter"
    days = _days_left(f)
    for unit in missing:
        chat = await chats_db.unit_destination(f.session, unit.id) or f.main
        if chat is not None:
            text = partial(t, "remind_study_unit", days=days, unit=unit.name)
            thread = await chats_db.unit_thread(f.session, unit.id, chat.id)
            await f.send.chat(chat.id, text, f"unit:{unit.id}", thread)
    await f.send.members(
        f.committee,
        lambda: t("remind_study_committee", days=days, units=listing(u.name for u in missing)),
    )
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
