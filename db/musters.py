"""Rapid calls (青年突击队 紧急集结): who is called, who answered, and the squad pool.

A call wants `need` people. Answers are serialised by the call's row lock (PostgreSQL;
SQLite has one writer anyway), and a 我能去 gets a fresh answer row whose id is its arrival
order: the first `need` are confirmed, the rest wait in id order, and a confirmed person's
去不了 moves the head of the waitlist up in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import members as members_db
from db import rules
from db.errors import Refusal
from db.models import Member, Muster, MusterAnswer, SquadMember, Unit
from db.sql import insert_ignore, insert_row

MAX_TEXT = 1000
MAX_NEED = rules.MAX_CAPACITY
DEFAULT_WITHIN = 30  # minutes
MAX_WITHIN = 24 * 60
SQUAD_WORDS = ("squad", "突击队")
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_CALL_ID = re.compile(r"^#?[0-9]{1,9}$")


@dataclass
class MusterRequest:
    """A parsed /muster: whom it calls, how many are wanted, for how long, what for."""

    need: int
    within: int  # minutes
    text: str
    unit_name: str | None = None
    squad: bool = False
    unit: Unit | None = None  # once looked up


def is_call_number(word: str) -> bool:
    """`12` or `#12`: /muster 编号 (the roster), not a new call."""
    return _CALL_ID.match(word) is not None


def _count(raw: str, low: int, high: int, refusal: str) -> int:
    if not _NUMBER.match(raw) or not low <= int(raw) <= high:
        raise Refusal(refusal, low=low, high=high)
    return int(raw)


def _option(word: str) -> str | None:
    """Which leading option `word` is, or None: the text begins."""
    lowered = word.lower()
    if word.startswith("@") or lowered in SQUAD_WORDS:
        return "target"
    if lowered.startswith("need="):
        return "need"
    if lowered.startswith("within="):
        return "within"
    return None


def parse_words(raw: str) -> MusterRequest:
    """`[@单位|squad] need=N [within=分钟] 内容`, options in any order, each once; the text
    keeps its line breaks."""
    rest = raw.strip()
    need: int | None = None
    within = DEFAULT_WITHIN
    unit_name: str | None = None
    squad = False
    seen: set[str] = set()
    while (head := rest.split(None, 1)) and (option := _option(head[0])) not in (None, *seen):
        assert option is not None
        seen.add(option)
        word, rest = head[0], head[1] if len(head) > 1 else ""
        value = word.split("=", 1)[1] if "=" in word else ""
        if option == "target" and word.startswith("@"):
            unit_name = word[1:]
        elif option == "target":
            squad = True
        elif option == "need":
            need = _count(value, 1, MAX_NEED, "muster_need_invalid")
        else:
            within = _count(value, 1, MAX_WITHIN, "muster_within_invalid")
    if need is None:
        raise Refusal("muster_usage")
    text = rules.clean_multiline(rest, MAX_TEXT, "muster_text_missing")
    return MusterRequest(need, within, text, unit_name, squad)


async def parse_request(session: AsyncSession, raw: str) -> MusterRequest:
    """The body of /muster → a request with its unit looked up, or a refusal."""
    request = parse_words(raw)
    if request.unit_name is not None:
        request.unit = await members_db.unit_by_name(session, request.unit_name)
    return request


def _targets(muster: Muster) -> ColumnElement[bool]:
    """Whom a call is for: registered people, of its unit or in the squad when it says so."""
    registered = and_(Member.registered_at.is_not(None), Member.left_at.is_(None))
    if muster.squad:
        return and_(registered, Member.id.in_(select(SquadMember.member_id)))
    if muster.unit_id is not None:
        return and_(registered, Member.unit_id == muster.unit_id)
    return registered


def reachable(member: Member) -> bool:
    """Whether the bot may write to this person privately."""
    return member.can_dm and member.telegram_id is not None


async def targets(session: AsyncSession, muster: Muster) -> list[Member]:
    """Everyone the call is for, by unit then name."""
    return list(
        await session.scalars(
            select(Member)
            .outerjoin(Unit, Member.unit_id == Unit.id)
            .where(_targets(muster))
            .order_by(Unit.id, Member.real_name, Member.id)
        )
    )


@dataclass
class Created:
    muster: Muster
    reachable: list[Member]
    unreachable: list[Member]
    in_unit_chat: bool  # a unit's call whose card went to the unit's own group


async def create(
    session: AsyncSession, creator: Member, request: MusterRequest, now: dt.datetime
) -> Created:
    """A new open call, its card's chat decided (the unit's group, else the main group)."""
    unit_id = request.unit.id if request.unit is not None else None
    unit_chat = await chats_db.unit_chat(session, unit_id) if unit_id is not None else None
    chat = unit_chat or await chats_db.main_chat(session)
    if chat is None:
        raise Refusal("muster_no_group")
    muster = Muster(
        text=request.text,
        need=request.need,
        unit_id=unit_id,
        squad=request.squad,
        status="open",
        created_by=creator.id,
        created_at=now,
        closes_at=now + dt.timedelta(minutes=request.within),
        chat_id=chat.id,
    )
    people = await targets(session, muster)
    if request.squad and not people:
        raise Refusal("squad_empty")
    session.add(muster)
    await session.flush()
    muster.unit = request.unit
    return Created(
        muster,
        reachable=[m for m in people if reachable(m)],
        unreachable=[m for m in people if not reachable(m)],
        in_unit_chat=unit_chat is not None,
    )


def is_open(muster: Muster, now: dt.datetime) -> bool:
    """Open until closed, and never past its closing time (answers stop on time even if the
    close itself runs late)."""
    return muster.status == "open" and now < muster.closes_at


async def get(session: AsyncSession, muster_id: int, *, lock: bool = False) -> Muster:
    """A call by number; `lock` takes its row lock (PostgreSQL), serialising its answers."""
    stmt = select(Muster).where(Muster.id == muster_id)
    if lock:
        stmt = stmt.with_for_update(of=Muster)
    muster = await session.scalar(stmt)
    if muster is None:
        raise Refusal("muster_unknown", id=muster_id)
    return muster


@dataclass(frozen=True)
class Counts:
    confirmed: int
    waitlisted: int
    declined: int


async def counts(session: AsyncSession, muster_id: int) -> Counts:
    rows = await session.execute(
        select(MusterAnswer.status, func.count())
        .where(MusterAnswer.muster_id == muster_id)
        .group_by(MusterAnswer.status)
    )
    by_status = {status: int(n) for status, n in rows.all()}
    return Counts(
        by_status.get("confirmed", 0), by_status.get("waitlisted", 0), by_status.get("declined", 0)
    )


@dataclass(frozen=True)
class Mine:
    id: int
    status: str


@dataclass(frozen=True)
class _Queue:
    """A call's queue as one press needs it (read under the call's lock)."""

    confirmed: int
    waitlisted: int
    mine: Mine | None


async def _queue(session: AsyncSession, muster_id: int, member_id: int) -> _Queue:
    """The counts and this person's answer in one statement (the hot path loads no ORM rows
    and keeps its round trips under the lock few)."""
    is_mine = MusterAnswer.member_id == member_id
    row = (
        await session.execute(
            select(
                func.count(case((MusterAnswer.status == "confirmed", 1))),
                func.count(case((MusterAnswer.status == "waitlisted", 1))),
                func.max(case((is_mine, MusterAnswer.id))),
                func.max(case((is_mine, MusterAnswer.status))),
            ).where(MusterAnswer.muster_id == muster_id)
        )
    ).one()
    confirmed, waitlisted, my_id, my_status = row
    mine = Mine(my_id, my_status) if my_id is not None else None
    return _Queue(int(confirmed), int(waitlisted), mine)


async def waitlist_position(session: AsyncSession, muster_id: int, answer_id: int) -> int:
    """1-based place on the waitlist: those waitlisted who arrived no later."""
    found = await session.scalar(
        select(func.count())
        .select_from(MusterAnswer)
        .where(
            MusterAnswer.muster_id == muster_id,
            MusterAnswer.status == "waitlisted",
            MusterAnswer.id <= answer_id,
        )
    )
    return int(found or 0)


@dataclass
class Answered:
    muster: Muster
    status: str  # confirmed | waitlisted | declined: this person's answer now
    was: str | None  # their answer before (None: first answer)
    position: int | None = None  # place on the waitlist
    changed: bool = True  # False: the same answer again, nothing changed
    promoted: list[MusterAnswer] = field(default_factory=list)


async def answer(
    session: AsyncSession, muster_id: int, member: Member, going: bool, now: dt.datetime
) -> Answered:
    """我能去 (`going`) or 去不了, once per person; switching is allowed while the call is open."""
    muster = await get(session, muster_id, lock=True)
    if not is_open(muster, now):
        raise Refusal("muster_closed", id=muster.id)
    if member.registered_at is None:
        raise Refusal("register_first")
    queue = await _queue(session, muster.id, member.id)
    mine = queue.mine
    was = mine.status if mine is not None else None
    if mine is not None and (mine.status != "declined") == going:  # the same answer again
        position = None
        if mine.status == "waitlisted":
            position = await waitlist_position(session, muster.id, mine.id)
        return Answered(muster, mine.status, was, position, changed=False)
    if going:
        if mine is not None:  # was 去不了: arrives now, at the back
            await session.execute(delete(MusterAnswer).where(MusterAnswer.id == mine.id))
        status = rules.signup_status(muster.need, queue.confirmed)
        await _add_answer(session, muster.id, member.id, status, now)
        # Under the lock the new row's id is the highest: it is last in the queue.
        position = queue.waitlisted + 1 if status == "waitlisted" else None
        return Answered(muster, status, was, position)
    if mine is None:
        await _add_answer(session, muster.id, member.id, "declined", now)
        return Answered(muster, "declined", was)
    await session.execute(
        update(MusterAnswer)
        .where(MusterAnswer.id == mine.id)
        .values(status="declined", at=now)
        .execution_options(synchronize_session=False)
    )
    promoted: list[MusterAnswer] = []
    if was == "confirmed":
        places = rules.places_to_fill(muster.need, queue.confirmed - 1, queue.waitlisted)
        promoted = await _promote(session, muster.id, places)
    return Answered(muster, "declined", was, promoted=promoted)


async def _add_answer(
    session: AsyncSession, muster_id: int, member_id: int, status: str, at: dt.datetime
) -> None:
    """One answer, as a statement (no ORM unit of work on the hot path, under the lock)."""
    await insert_row(
        session, MusterAnswer, muster_id=muster_id, member_id=member_id, status=status, at=at
    )


async def _promote(session: AsyncSession, muster_id: int, places: int) -> list[MusterAnswer]:
    """Move the head of the waitlist up into `places`; the caller holds the call's lock."""
    if not places:
        return []
    promoted = list(
        await session.scalars(
            select(MusterAnswer)
            .where(MusterAnswer.muster_id == muster_id, MusterAnswer.status == "waitlisted")
            .order_by(MusterAnswer.id)
            .limit(places)
        )
    )
    for row in promoted:
        row.status = "confirmed"
    await session.flush()
    return promoted


@dataclass
class Roster:
    """Everyone's answer to a call, each list in arrival order; `silent`: targets who have
    not answered, by unit then name."""

    muster: Muster
    confirmed: list[Member] = field(default_factory=list)
    waitlisted: list[Member] = field(default_factory=list)
    declined: list[Member] = field(default_factory=list)
    silent: list[Member] = field(default_factory=list)


async def roster(session: AsyncSession, muster: Muster) -> Roster:
    result = Roster(muster)
    by_status = {
        "confirmed": result.confirmed,
        "waitlisted": result.waitlisted,
        "declined": result.declined,
    }
    answers = await session.scalars(
        select(MusterAnswer).where(MusterAnswer.muster_id == muster.id).order_by(MusterAnswer.id)
    )
    answered: set[int] = set()
    for row in answers:
        answered.add(row.member_id)
        by_status[row.status].append(row.member)
    result.silent = [m for m in await targets(session, muster) if m.id not in answered]
    return result


async def not_answered(session: AsyncSession, muster: Muster) -> list[Member]:
    """Targets who have not answered at all (neither 我能去 nor 去不了)."""
    answered = select(MusterAnswer.member_id).where(MusterAnswer.muster_id == muster.id)
    return list(
        await session.scalars(
            select(Member).where(_targets(muster), Member.id.not_in(answered)).order_by(Member.id)
        )
    )


async def open_calls(session: AsyncSession, now: dt.datetime) -> list[Muster]:
    """Calls still taking answers, oldest first."""
    return list(
        await session.scalars(
            select(Muster)
            .where(Muster.status == "open", Muster.closes_at > now)
            .order_by(Muster.id)
        )
    )


async def scheduled(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[Muster]:
    """Open calls whose half-way or close may fall in [start, end] (the reminder engine)."""
    return list(
        await session.scalars(
            select(Muster).where(
                Muster.status == "open", Muster.closes_at >= start, Muster.created_at <= end
            )
        )
    )


async def close(session: AsyncSession, muster_id: int | None, now: dt.datetime) -> Muster | None:
    """Close an open call (under its lock, so no answer slips in after); None if it is gone
    or already closed."""
    if muster_id is None:
        return None
    muster = await session.scalar(
        select(Muster).where(Muster.id == muster_id).with_for_update(of=Muster)
    )
    if muster is None or muster.status != "open":
        return None
    muster.status, muster.closed_at = "closed", now
    await session.flush()
    return muster


async def set_card(session: AsyncSession, muster_id: int, chat_id: int, message_id: int) -> None:
    """Where the call's card was posted (its counts are edited there)."""
    muster = await session.get(Muster, muster_id)
    if muster is not None:
        muster.chat_id, muster.message_id = chat_id, message_id


# --- the squad pool -------------------------------------------------------------------------


async def join_squad(session: AsyncSession, member: Member, now: dt.datetime) -> bool:
    """Join the pool; False if already in it."""
    if member.registered_at is None:
        raise Refusal("register_first")
    return await insert_ignore(session, SquadMember, member_id=member.id, joined_at=now)


async def leave_squad(session: AsyncSession, member: Member) -> bool:
    """Leave the pool; False if not in it."""
    if member.registered_at is None:
        raise Refusal("register_first")
    result = await session.execute(delete(SquadMember).where(SquadMember.member_id == member.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def squad(session: AsyncSession) -> list[Member]:
    """The pool, by unit then name."""
    return list(
        await session.scalars(
            select(Member)
            .join(SquadMember, SquadMember.member_id == Member.id)
            .outerjoin(Unit, Member.unit_id == Unit.id)
            .order_by(Unit.id, Member.real_name, Member.id)
        )
    )
