"""One formatter per concept: how a period, a rate, hours, a time, a unit or a category reads,
in the language being spoken."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from db import needs as needs_db
from db.models import Activity, Member, Unit
from db.rules import Period
from render.texts import t


def period_name(period: Period) -> str:
    if period.quarter is None:
        return t("period_year", year=period.year)
    return t("period_quarter", year=period.year, quarter=period.quarter)


def percent(value: float | None) -> str:
    return t("rate_none") if value is None else f"{value * 100:.0f}%"


def hours_text(hours: float) -> str:
    """Hours as people write them: 3, 2.5 (never 3.0)."""
    return f"{hours:g}"


def category_name(category: str) -> str:
    """A need's stored category, named in the language being spoken."""
    key = needs_db.CATEGORY_KEYS.get(category)
    return t(key) if key else category


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    """HH:MM in `zone`."""
    return moment.astimezone(zone).strftime("%H:%M")


def local_moment(moment: dt.datetime, zone: ZoneInfo) -> str:
    """YYYY-MM-DD HH:MM in `zone`."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def short_moment(moment: dt.datetime, zone: ZoneInfo) -> str:
    """MM-DD HH:MM in `zone`: a moment of these days (a deadline, a decision)."""
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def month_day(moment: dt.datetime, zone: ZoneInfo) -> str:
    """MM-DD in `zone`."""
    return moment.astimezone(zone).strftime("%m-%d")


def when(activity: Activity, zone: ZoneInfo) -> str:
    """An activity's date and hours: 2026-12-07 14:00–15:30 (the end's date if another day)."""
    start, end = activity.starts_at.astimezone(zone), activity.ends_at.astimezone(zone)
    end_text = local_time(end, zone) if end.date() == start.date() else short_moment(end, zone)
    return t("when", date=start.strftime("%Y-%m-%d"), start=start.strftime("%H:%M"), end=end_text)


def unit_text(unit: Unit | str | None) -> str:
    """A unit (or its name, as a query returns it) in words; 未分组 for none."""
    if isinstance(unit, Unit):
        return unit.name
    return unit or t("no_unit")


def unit_of(member: Member) -> str:
    """The unit a person belongs to, in words."""
    return unit_text(member.unit)


def kind_name(kind: str) -> str:
    """An activity's kind: 理论学习, 会议, …"""
    return t(f"kind_{kind}")


def activity_start(activity: Activity, zone: ZoneInfo) -> str:
    """YYYY-MM-DD HH:MM of an activity's start, in `zone`."""
    return local_moment(activity.starts_at, zone)
