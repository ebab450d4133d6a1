"""Pure rules: no Telegram, no database. Plain functions that are easy to test."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from db.errors import Refusal

KIND_ALIASES = {
    "study": "study",
    "学习": "study",
    "理论学习": "study",
    "meeting": "meeting",
    "会议": "meeting",
    "青工委会议": "meeting",
    "unity": "unity",
    "民族团结": "unity",
    "民族团结教育": "unity",
    "volunteer": "volunteer",
    "志愿": "volunteer",
    "志愿服务": "volunteer",
    "other": "other",
    "其他": "other",
}
DEFAULT_DURATION = dt.timedelta(hours=2)
MAX_TITLE = 60
MAX_PLACE = 60
MAX_REASON = 200
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")
_CODE = re.compile(r"^[A-Za-z0-9]{1,32}$")


def parse_kind(word: str) -> str:
    kind = KIND_ALIASES.get(word.strip().lower())
    if kind is None:
        raise Refusal("kind_unknown", word=word[:20])
    return kind


def parse_date(text: str) -> dt.date:
    match = _DATE.match(text.strip())
    if match is None:
        raise Refusal("date_invalid", text=text[:20])
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise Refusal("date_invalid", text=text[:20]) from None


def parse_time(text: str) -> dt.time:
    match = _TIME.match(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise Refusal("time_invalid", text=text[:20])
    return dt.time(int(match[1]), int(match[2]))


def local_to_utc(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def clean_text(raw: str, limit: int, key: str = "text_invalid") -> str:
    """Collapse whitespace; refuse empty, control characters and text over `limit`."""
    text = " ".join(raw.split())
    if not text or any(not ch.isprintable() for ch in text):
        raise Refusal(key, limit=limit)
    if len(text) > limit:
        raise Refusal("text_too_long", limit=limit)
    return text


def parse_code(raw: str) -> str:
    if not _CODE.match(raw):
        raise Refusal("code_invalid")
    return raw


def split_options(words: list[str]) -> tuple[list[str], dict[str, str]]:
    """Leading free words, then `key=value` options (an option's value may span words)."""
    free: list[str] = []
    options: dict[str, str] = {}
    key: str | None = None
    for word in words:
        name, sep, value = word.partition("=")
        if sep and re.fullmatch(r"[a-z]{2,10}", name):
            key = name
            options[key] = value
        elif key is not None:
            options[key] = f"{options[key]} {word}"
        else:
            free.append(word)
    return free, options


class Window(Enum):
    NOT_OPEN = "not_open"
    ON_TIME = "present"
    LATE = "late"
    CLOSED = "closed"


@dataclass(frozen=True)
class CheckinPolicy:
    opens_before: dt.timedelta = dt.timedelta(minutes=30)
    late_after: dt.timedelta = dt.timedelta(minutes=15)

    def window(self, now: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime) -> Window:
        """Where `now` falls: before the window, on time, late, or after the end."""
        if now < starts_at - self.opens_before:
            return Window.NOT_OPEN
        if now > ends_at:
            return Window.CLOSED
        if now > starts_at + self.late_after:
            return Window.LATE
        return Window.ON_TIME

    def opens_at(self, starts_at: dt.datetime) -> dt.datetime:
        return starts_at - self.opens_before


def places_to_fill(capacity: int | None, confirmed: int, waitlisted: int) -> int:
    """How many from the head of the waitlist move up (capacity None: no limit)."""
    if capacity is None:
        return waitlisted
    return max(0, min(capacity - confirmed, waitlisted))


def signup_status(capacity: int | None, confirmed: int) -> str:
    """A new sign-up is confirmed while places remain, else waitlisted."""
    return "confirmed" if capacity is None or confirmed < capacity else "waitlisted"


def default_hours(starts_at: dt.datetime, ends_at: dt.datetime) -> float:
    """Service hours for an activity that did not state them: its length, to the half hour."""
    return round((ends_at - starts_at).total_seconds() / 1800) / 2


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First day of `day`'s quarter and first day of the next quarter."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first_month, 1)
    if first_month == 10:
        return start, dt.date(day.year + 1, 1, 1)
    return start, dt.date(day.year, first_month + 3, 1)


def local_day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def parse_local_datetime(text: str, zone: ZoneInfo) -> dt.datetime:
    """`YYYY-MM-DDTHH:MM` (or with a space) in `zone`, as UTC."""
    day, sep, at = text.strip().replace(" ", "T").partition("T")
    if not sep:
        raise Refusal("datetime_invalid", text=text[:20])
    try:
        return local_to_utc(parse_date(day), parse_time(at), zone)
    except Refusal:
        raise Refusal("datetime_invalid", text=text[:20]) from None
