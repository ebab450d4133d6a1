"""我为青年办实事: young staff's needs, sent privately to the committee, and their follow-up.

A need is written with /need (a guided dialogue, a conversation of db.conversations, so any
instance can take the next step; one left for an hour is forgotten) or in one line. It is sent
signed or anonymous.

Anonymity is anonymity to the committee. An anonymous need has `member_id` NULL (a CHECK
constraint on `needs` enforces it): nothing the committee sees — /needs, a need's history, the
new-need message, the ledger, the report — can name the sender, their username or their
Telegram id, because those queries have nothing to read them from. `relay_chat_id` is the
private chat the bot relays the committee's replies and status changes into, and in which the
sender rates the outcome; it is read for that alone — never rendered, exported or logged: no
query here returns it except `relay_of`, and `rate` only compares it with the presser's chat.
(Whoever administers the database itself can match that chat id with `members.telegram_id`;
the committee, through the bot, cannot.) The conversation, which does name its writer, ends in
the transaction that creates the need.

Functions here return rows and plain values; words are the caller's (handlers.needs,
render.ledger).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.errors import Refusal, TextKeys
from db.models import NEED_CATEGORIES, NEED_STATUSES, RATINGS, Member, Need, NeedEvent, Unit

CATEGORIES = NEED_CATEGORIES
STATUSES = NEED_STATUSES
OPEN_STATUSES = ("new", "accepted", "in_progress")
MAX_TEXT = 2000
PER_DAY = 5  # needs a person may send in a day
Query = Select[*tuple[Any, ...]]


# ---------------------------------------------------------------------------- input
# A category is stored by its Chinese name; each has a catalog key for its name in every
# language, and English words a person may type for it.
CATEGORY_KEYS = {
    "就业": "need_category_jobs",
    "教育": "need_category_education",
    "住房": "need_category_housing",
    "婚恋": "need_category_marriage",
    "生育": "need_category_childbirth",
    "亲子": "need_category_parenting",
    "其他": "need_category_other",
}
CATEGORY_WORDS = {
    "jobs": "就业",
    "job": "就业",
    "employment": "就业",
    "education": "教育",
    "housing": "住房",
    "marriage": "婚恋",
    "dating": "婚恋",
    "childbirth": "生育",
    "parenting": "亲子",
    "children": "亲子",
    "other": "其他",
}
assert set(CATEGORY_KEYS) == set(CATEGORIES) and set(CATEGORY_WORDS.values()) <= set(CATEGORIES)


def category_of(word: str) -> str | None:
    """The category a word names (Chinese, a trailing 类 forgiven, or English), or None."""
    cleaned = word.strip().removesuffix("类")
    return cleaned if cleaned in CATEGORIES else CATEGORY_WORDS.get(cleaned.lower())


def category_names() -> TextKeys:
    """Every category's name, for a refusal (shown in the reader's language)."""
    return TextKeys(CATEGORY_KEYS[c] for c in CATEGORIES)


def parse_category(word: str) -> str:
    """A category from its name; else a refusal listing the valid ones."""
    category = category_of(word)
    if category is None:
        raise Refusal("need_category_unknown", word=word.strip()[:20], categories=category_names())
    return category


def clean_text(raw: str, empty: str = "need_text_empty") -> str:
    """A need's text (or a reply): line breaks kept; refused (`empty`) when empty, and when
    over MAX_TEXT or carrying control characters (format characters such as the emoji
    joiner are fine)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise Refusal(empty)
    if len(text) > MAX_TEXT:
        raise Refusal("need_text_too_long", limit=MAX_TEXT, length=len(text))
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs"):
            raise Refusal("need_text_invalid")
    return text


# ---------------------------------------------------------------------------- needs
async def submit(
    session: AsyncSession,
    member: Member,
    category: str,
    text: str,
    *,
    anonymous: bool,
    relay_chat_id: int,
    now: dt.datetime,
) -> Need:
    """Record a need. Anonymous: no member is stored, only the chat to relay answers into.
    At most `PER_DAY` a day per person (signed or not: counted by the chat they came from)."""
    if member.registered_at is None:
        raise Refusal("register_first")
    sent = await session.scalar(
        select(func.count())
        .select_from(Need)
        .where(Need.relay_chat_id == relay_chat_id, Need.created_at > now - dt.timedelta(days=1))
    )
    if (sent or 0) >= PER_DAY:
        raise Refusal("need_daily_limit", limit=PER_DAY)
    need = Need(
        category=parse_category(category),
        text=clean_text(text),
        anonymous=anonymous,
        member_id=None if anonymous else member.id,
        relay_chat_id=relay_chat_id,
        status="new",
        created_at=now,
        updated_at=now,
    )
    session.add(need)
    await session.flush()
    return need


async def get(session: AsyncSession, need_id: int) -> Need:
    need = await session.get(Need, need_id, populate_existing=True)
    if need is None:
        raise Refusal("needs_unknown", id=need_id)
    return need


async def relay_of(session: AsyncSession, need_id: int) -> int | None:
    """The private chat a need's answers go to (and whose owner may rate it); nothing else
    reads `relay_chat_id`."""
    found: int | None = await session.scalar(select(Need.relay_chat_id).where(Need.id == need_id))
    return found


@dataclass(frozen=True)
class Line:
    """A need as the committee's list shows it: no relay chat, a sender only when signed."""

    id: int
    category: str
    status: str
    text: str
    created_at: dt.datetime
    anonymous: bool
    name: str | None  # signed: the sender's name
    unit: str | None  # signed: the sender's unit
    replies: int
    satisfied: str | None


def _replies() -> Any:
    return (
        select(func.count())
        .select_from(NeedEvent)
        .where(NeedEvent.need_id == Need.id, NeedEvent.kind == "reply")
        .scalar_subquery()
    )


def _lines_query() -> Query:
    sender_unit = aliased(Unit)
    return (
        select(
            Need.id,
            Need.category,
            Need.status,
            Need.text,
            Need.created_at,
            Need.anonymous,
            Member.real_name,
            Member.first_name,
            Member.last_name,
            sender_unit.name,
            _replies(),
            Need.satisfied,
        )
        # Anonymous needs have no member: the outer join finds nobody, by construction.
        .outerjoin(Member, Member.id == Need.member_id)
        .outerjoin(sender_unit, sender_unit.id == Member.unit_id)
    )


def _line(row: Any) -> Line:
    need_id, category, status, text, created, anonymous, real, first, last, unit = row[:10]
    replies, satisfied = row[10:]
    name = None
    if not anonymous:
        name = real or " ".join(p for p in (first, last) if p) or None
    return Line(
        id=need_id,
        category=category,
        status=status,
        text=text,
        created_at=created,
        anonymous=anonymous,
        name=name,
        unit=None if anonymous else unit,
        replies=int(replies or 0),
        satisfied=satisfied,
    )


async def line(session: AsyncSession, need_id: int) -> Line:
    row = (await session.execute(_lines_query().where(Need.id == need_id))).first()
    if row is None:
        raise Refusal("needs_unknown", id=need_id)
    return _line(row)


async def listing(
    session: AsyncSession,
    *,
    statuses: tuple[str, ...] = STATUSES,
    category: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[int, list[Line]]:
    """How many needs match, and one page of them, newest first."""
    where: list[Any] = [Need.status.in_(statuses)]
    if category is not None:
        where.append(Need.category == category)
    total = await session.scalar(select(func.count()).select_from(Need).where(*where))
    rows = await session.execute(
        _lines_query().where(*where).order_by(Need.id.desc()).offset(offset).limit(limit)
    )
    return int(total or 0), [_line(row) for row in rows]


@dataclass(frozen=True)
class Event:
    kind: str  # reply | status | rating
    text: str
    by: str | None  # the committee member who replied or changed the status
    at: dt.datetime


async def history(session: AsyncSession, need_id: int) -> list[Event]:
    """Replies, status changes and the rating, oldest first. A rating has no author."""
    by = aliased(Member)
    rows = await session.execute(
        select(NeedEvent.kind, NeedEvent.text, by.real_name, by.first_name, NeedEvent.at)
        .outerjoin(by, by.id == NeedEvent.by_member_id)
        .where(NeedEvent.need_id == need_id)
        .order_by(NeedEvent.at, NeedEvent.id)
    )
    return [
        Event(kind, text, (real or first) if kind != "rating" else None, at)
        for kind, text, real, first, at in rows
    ]


async def add_reply(
    session: AsyncSession, need: Need, by: Member, text: str, now: dt.datetime
) -> NeedEvent:
    text = clean_text(text, "needs_reply_usage")
    event = NeedEvent(need_id=need.id, kind="reply", text=text, by_member_id=by.id, at=now)
    session.add(event)
    need.updated_at = now
    await session.flush()
    return event


async def set_status(
    session: AsyncSession, need: Need, status: str, by: Member, now: dt.datetime
) -> NeedEvent:
    """Move a need to `status` (accepted, in_progress or done); the same status is refused."""
    assert status in STATUSES
    result = await session.execute(
        update(Need)
        .where(Need.id == need.id, Need.status != status)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise Refusal("needs_status_same", id=need.id)
    event = NeedEvent(need_id=need.id, kind="status", text=status, by_member_id=by.id, at=now)
    session.add(event)
    await session.flush()
    await session.refresh(need)
    return event


@dataclass(frozen=True)
class Rated:
    won: bool  # this press recorded the rating
    satisfied: str | None  # what is recorded (this press's or an earlier one)


async def rate(
    session: AsyncSession, need_id: int, rater_chat_id: int, value: str, now: dt.datetime
) -> Rated:
    """The sender's 满意 / 不满意 once a need is done: the first press counts (an UPDATE …
    WHERE satisfied IS NULL decides, on both databases). Someone else's press is refused as
    a forged button."""
    assert value in RATINGS
    found = (
        await session.execute(
            select(Need.status, Need.satisfied, Need.relay_chat_id).where(Need.id == need_id)
        )
    ).first()
    if found is None or found.relay_chat_id != rater_chat_id:
        raise Refusal("button_invalid")
    if found.satisfied is not None:
        return Rated(False, found.satisfied)
    if found.status != "done":
        raise Refusal("need_rate_not_done", id=need_id)
    result = await session.execute(
        update(Need)
        .where(Need.id == need_id, Need.satisfied.is_(None), Need.status == "done")
        .values(satisfied=value)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        recorded = await session.scalar(select(Need.satisfied).where(Need.id == need_id))
        return Rated(False, recorded)
    session.add(NeedEvent(need_id=need_id, kind="rating", text=value, by_member_id=None, at=now))
    return Rated(True, value)


# ---------------------------------------------------------------------------- reports
@dataclass
class Summary:
    """Needs created in a period: counts by (category, status), and the ratings."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    satisfied: int = 0
    rated: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_category(self, category: str) -> int:
        return sum(n for (c, _), n in self.counts.items() if c == category)

    def statuses(self, category: str | None = None) -> dict[str, int]:
        """How many are in each status (of one category, or of all)."""
        found = dict.fromkeys(STATUSES, 0)
        for (c, status), n in self.counts.items():
            if category is None or c == category:
                found[status] += n
        return found

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


async def summary(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> Summary:
    in_period = and_(Need.created_at >= start, Need.created_at < end)
    result = Summary()
    rows = await session.execute(
        select(Need.category, Need.status, Need.satisfied, func.count())
        .where(in_period)
        .group_by(Need.category, Need.status, Need.satisfied)
    )
    for category, status, satisfied, count in rows:
        key = (category, status)
        result.counts[key] = result.counts.get(key, 0) + int(count)
        if satisfied is not None:
            result.rated += int(count)
            result.satisfied += int(count) if satisfied == "yes" else 0
    return result


def ledger(start: dt.datetime, end: dt.datetime) -> Query:
    """诉求: each need created in the period — (id, created, category, status, text, anonymous,
    sender's real name, first name, unit, replies, rating). The sender's columns are NULL for
    an anonymous need: there is no member to join."""
    sender_unit = aliased(Unit)
    return (
        select(
            Need.id,
            Need.created_at,
            Need.category,
            Need.status,
            Need.text,
            Need.anonymous,
            Member.real_name,
            Member.first_name,
            sender_unit.name,
            _replies(),
            Need.satisfied,
        )
        .outerjoin(Member, Member.id == Need.member_id)
        .outerjoin(sender_unit, sender_unit.id == Member.unit_id)
        .where(Need.created_at >= start, Need.created_at < end)
        .order_by(Need.id)
    )
