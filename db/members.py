"""Members, units and roles."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db import rules
from db.errors import Refusal
from db.models import HoursOverride, JoinRequest, Member, Unit, WorkTask, utcnow
from db.sql import insert_ignore, rowcount

MAX_NAME = 32
MAX_UNIT = 32


@dataclass(frozen=True)
class TelegramUser:
    """The parts of a Telegram user we keep (no Telegram import here)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None  # Telegram's, e.g. "en-US"; sets `lang` on first contact


def on_roster() -> ColumnElement[bool]:
    """Ever on the roster: registered, or imported from the committee's list (left and erased
    people too: the past keeps them)."""
    return or_(Member.registered_at.is_not(None), Member.imported_at.is_not(None))


def in_audience() -> ColumnElement[bool]:
    """The organisation's people now, whom what is sent from now on is for: on the roster
    and not left (an erased person has left too)."""
    return and_(on_roster(), Member.left_at.is_(None))


def joined_at() -> ColumnElement[dt.datetime]:
    """When the person came onto the roster (an activity that ended before did not expect
    them)."""
    return func.coalesce(Member.imported_at, Member.registered_at)


# A time: a value, or a column of the row being joined (an activity's start).
Moment = ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime] | dt.datetime


def not_gone_by(when: Moment) -> ColumnElement[bool]:
    """Had not left (nor been erased) by `when`."""
    return or_(Member.left_at.is_(None), Member.left_at > when)


def expected_between(starts: Moment, ends: Moment) -> ColumnElement[bool]:
    """Expected at something held from `starts` to `ends`: on the roster by its end, and not
    gone before it began."""
    return and_(on_roster(), joined_at() <= ends, not_gone_by(starts))


def belongs(member: Member, bootstrap_admins: frozenset[int]) -> bool:
    """One of the organisation's people, who may see and do what the bot offers them: the
    committee, and people on the roster with a Telegram account who have not left."""
    if is_admin(member, bootstrap_admins):
        return True
    return member.telegram_id is not None and member.active


# Every update looks its sender up: one statement built once keeps SQLAlchemy's cache key
# (see db.sql), so each update only binds the id.
_BY_TELEGRAM_ID = select(Member).where(Member.telegram_id == bindparam("telegram_id"))


async def touch_member(session: AsyncSession, user: TelegramUser) -> Member:
    """Record (or refresh) anyone who interacts with the bot, registered or not.

    Race-free: two first updates of one person at once (two instances, a double tap) both
    end with the same row, because the insert is `ON CONFLICT DO NOTHING`. A person imported
    from the roster with this username becomes this Telegram account (no duplicate).
    """
    first_name = rules.make_storable(user.first_name)[:128]
    last_name = rules.make_storable(user.last_name)[:128] if user.last_name else None
    username = rules.make_storable(user.username)[:64] if user.username else None
    by_id = {"telegram_id": user.id}
    member = await session.scalar(_BY_TELEGRAM_ID, by_id)
    if member is None and username is not None:
        await session.execute(
            update(Member)
            .where(
                Member.telegram_id.is_(None),
                func.lower(Member.username) == username.lower(),
            )
            .values(telegram_id=user.id)
            .execution_options(synchronize_session=False)
        )
        member = await session.scalar(_BY_TELEGRAM_ID, by_id)
    if member is None:
        await insert_ignore(
            session,
            Member,
            telegram_id=user.id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            role="member",
            can_dm=False,
            created_at=utcnow(),
        )
        member = await session.scalar(_BY_TELEGRAM_ID, by_id)
        assert member is not None  # inserted now, or by whoever won the race
    if member.lang is None:  # first contact (or first since languages exist)
        member.lang = rules.language_of(user.language_code)
    if (member.first_name, member.last_name, member.username) != (first_name, last_name, username):
        member.first_name, member.last_name, member.username = first_name, last_name, username
    return member


def take_group_hint(member: Member, now: dt.datetime, zone: ZoneInfo) -> bool:
    """True (and remembered) if the bot has not answered this person in a group today."""
    today = now.astimezone(zone).date()
    if member.group_hint_at is not None and member.group_hint_at.astimezone(zone).date() == today:
        return False
    member.group_hint_at = now
    return True


GROUP_REPLY_EVERY = dt.timedelta(minutes=1)


def take_group_reply(member: Member, now: dt.datetime) -> bool:
    """True (and remembered) if the bot may answer this person in a group now: at most once a
    minute, for someone it cannot write to privately."""
    if member.group_reply_at is not None and now - member.group_reply_at < GROUP_REPLY_EVERY:
        return False
    member.group_reply_at = now
    return True


class Flood(enum.Enum):
    OK = "ok"
    DROP = "drop"  # over the limit: ignore it
    NOTE = "note"  # over the limit: ignore it, and ask the person to slow down (once a minute)


FLOOD_NOTE_EVERY = dt.timedelta(minutes=1)


def take_flood_token(member: Member, now: dt.datetime, per_minute: int) -> Flood:
    """The flood guard's bucket: `per_minute` typed commands at once, refilled at that rate
    (a sliding limit kept on the person's row, so every instance shares it)."""
    tokens = per_minute if member.flood_tokens is None else member.flood_tokens
    if member.flood_at is not None:
        refill = max((now - member.flood_at).total_seconds(), 0.0) * per_minute / 60
        tokens = min(float(per_minute), tokens + refill)
    member.flood_at = now
    if tokens >= 1:
        member.flood_tokens = tokens - 1
        return Flood.OK
    member.flood_tokens = tokens
    noted = member.flood_noted_at
    if noted is not None and now - noted < FLOOD_NOTE_EVERY:
        return Flood.DROP
    member.flood_noted_at = now
    return Flood.NOTE


def is_admin(member: Member, bootstrap_admins: frozenset[int]) -> bool:
    """Committee members: promoted ones and the bootstrap ADMIN_IDS (always)."""
    return member.role == "admin" or member.telegram_id in bootstrap_admins


def clean_name(raw: str, limit: int) -> str:
    """Collapse whitespace; refuse empty, control characters and over-long names."""
    name = " ".join(raw.split())
    if not name or len(name) > limit or any(not ch.isprintable() for ch in name):
        raise Refusal("name_invalid", limit=limit)
    return name


async def list_units(session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(select(Unit).order_by(Unit.id)))


async def unit_by_id(session: AsyncSession, unit_id: int) -> Unit:
    """The unit a button names; refused if it is gone (merged or deleted meanwhile)."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise Refusal("button_invalid")
    return unit


def unconfirmed_import(member: Member) -> bool:
    """Imported by the committee under this username, and not yet confirmed by the person:
    the bot knows their name and unit and only asks "is it you?"."""
    return (
        member.telegram_id is not None
        and member.imported_at is not None
        and member.registered_at is None
        and member.left_at is None
        and bool(member.real_name)
        and member.unit_id is not None
    )


async def unit_by_name(session: AsyncSession, name: str) -> Unit:
    """The unit called `name` (case-insensitive), or a refusal listing the valid ones."""
    wanted = " ".join(name.split()).lower()
    unit = None
    if rules.storable(wanted) and len(wanted) <= MAX_UNIT:
        unit = await session.scalar(select(Unit).where(func.lower(Unit.name) == wanted))
    if unit is None:
        names = [u.name for u in await list_units(session)]
        raise Refusal("unit_unknown", name=rules.make_storable(name)[:MAX_UNIT], units=names)
    return unit


async def rename_unit(session: AsyncSession, old: str, new: str) -> Unit:
    unit = await unit_by_name(session, old)
    new = clean_name(new, MAX_UNIT)
    clash = await session.scalar(
        select(Unit).where(func.lower(Unit.name) == new.lower(), Unit.id != unit.id)
    )
    if clash is not None:
        raise Refusal("unit_exists", name=new)
    unit.name = new
    return unit


class Registered(enum.Enum):
    """What a /register did."""

    JOINED = "joined"  # on the roster from now on
    UPDATED = "updated"  # one of ours: the name (and unit) recorded again
    REQUESTED = "requested"  # in none of the organisation's groups: the committee decides
    UNIT_REQUESTED = "unit_requested"  # the name recorded; the move waits for the committee


@dataclass
class Registration:
    outcome: Registered
    unit: Unit
    name: str  # the name as recorded (or asked for)
    # Requests made now, for the committee to decide (a join, a move, a link to an import).
    requests: list[JoinRequest] = field(default_factory=list)


async def register(
    session: AsyncSession,
    member: Member,
    real_name: str,
    unit_name: str,
    now: dt.datetime,
    *,
    in_group: bool,
) -> Registration:
    """A person states their real name and unit.

    Accepted at once from one of the organisation's people: someone in a bound group at this
    moment (`in_group`, asked of Telegram by the caller), or someone already on the roster
    (an imported person is linked by the username the committee imported). Anyone else's
    becomes a request the committee decides, and so does a member's move to another unit.
    A name and unit matching an imported person is never linked by itself: it asks the
    committee (a role or lead right set on the imported record waits for that link).
    """
    name = clean_name(real_name, MAX_NAME)
    unit = await unit_by_name(session, unit_name)
    if member.on_roster and member.left_at is not None:
        if not (in_group and member.left_reason == "left"):
            return await _request_join(session, member, name, unit, now)
        restore(member)
    if not member.on_roster:
        if not in_group:
            return await _request_join(session, member, name, unit, now)
        made = await _join(session, member, name, unit, now)
        return Registration(Registered.JOINED, unit, name, made)
    member.real_name = name
    if member.registered_at is None:
        member.registered_at = now
    if member.unit_id is None or member.unit_id == unit.id:
        member.unit_id, member.unit = unit.id, unit
        return Registration(Registered.UPDATED, unit, name)
    move = await _request(session, member, "unit", name, unit, now)
    return Registration(Registered.UNIT_REQUESTED, unit, name, [move])


async def _request_join(
    session: AsyncSession, member: Member, name: str, unit: Unit, now: dt.datetime
) -> Registration:
    request = await _request(session, member, "join", name, unit, now)
    return Registration(Registered.REQUESTED, unit, name, [request])


async def _request(
    session: AsyncSession,
    member: Member,
    kind: str,
    name: str | None,
    unit: Unit | None,
    now: dt.datetime,
    imported: Member | None = None,
) -> JoinRequest:
    """A pending request of `kind`; refused while one of that kind already waits."""
    added = await insert_ignore(
        session,
        JoinRequest,
        member_id=member.id,
        kind=kind,
        real_name=name,
        unit_id=unit.id if unit else None,
        imported_id=imported.id if imported else None,
        status="pending",
        created_at=now,
    )
    if not added:
        raise Refusal(f"{kind}_request_waiting")
    request = await session.scalar(
        select(JoinRequest).where(
            JoinRequest.member_id == member.id,
            JoinRequest.kind == kind,
            JoinRequest.status == "pending",
        )
    )
    assert request is not None
    return request


async def _join(
    session: AsyncSession, member: Member, name: str, unit: Unit, now: dt.datetime
) -> list[JoinRequest]:
    """On the roster from `now`; a link request if an imported person has this name and unit."""
    member.real_name, member.unit_id, member.unit = name, unit.id, unit
    if member.registered_at is None:
        member.registered_at = now
    imported = await session.scalar(
        select(Member).where(
            Member.telegram_id.is_(None),
            Member.imported_at.is_not(None),
            Member.erased_at.is_(None),
            Member.unit_id == unit.id,
            func.lower(Member.real_name) == name.lower(),
        )
    )
    if imported is None:
        return []
    return [await _request(session, member, "link", name, unit, now, imported)]


@dataclass
class Decision:
    request: JoinRequest
    won: bool  # this press decided (False: someone decided first)
    made: list[JoinRequest] = field(default_factory=list)  # e.g. a link asked by a join


async def pending_requests(session: AsyncSession) -> list[JoinRequest]:
    return list(
        await session.scalars(
            select(JoinRequest).where(JoinRequest.status == "pending").order_by(JoinRequest.id)
        )
    )


async def decide(
    session: AsyncSession, request_id: int, approve: bool, by: Member, now: dt.datetime
) -> Decision:
    """The committee's 批准 / 驳回 (or 确认 / 拒绝 for a link): the first decision wins, by an
    UPDATE … WHERE status = 'pending' on both databases."""
    request = await session.get(JoinRequest, request_id)
    if request is None:
        raise Refusal("button_invalid")
    if request.status == "pending" and approve:
        _check_still_possible(request)
    decided = await session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == request_id, JoinRequest.status == "pending")
        .values(status="approved" if approve else "rejected", decided_by=by.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    won = rowcount(decided) == 1
    made: list[JoinRequest] = []
    if won and approve:
        made = await _apply(session, request, now)
    return Decision(request, won, made)


def _check_still_possible(request: JoinRequest) -> None:
    """An approval that can no longer apply is refused before anything is decided."""
    person = request.member
    if person.erased_at is not None or person.telegram_id is None:
        raise Refusal("join_request_gone")
    if request.kind == "link":
        imported = request.imported
        if imported is None or imported.telegram_id is not None or imported.erased_at:
            raise Refusal("link_request_gone")
    elif request.unit is None:
        raise Refusal("join_request_gone")


async def _apply(
    session: AsyncSession, request: JoinRequest, now: dt.datetime
) -> list[JoinRequest]:
    person = request.member
    if request.kind == "link":
        assert request.imported is not None
        await _fold(session, request.imported, into=person)
        return []
    assert request.unit is not None
    if request.kind == "unit":
        person.unit_id, person.unit = request.unit.id, request.unit
        return []
    restore(person)
    return await _join(session, person, request.real_name or person.display_name, request.unit, now)


async def cancel_requests(session: AsyncSession, member: Member) -> int:
    """The person withdraws what they asked (/cancel); how many requests."""
    result = await session.execute(
        update(JoinRequest)
        .where(JoinRequest.member_id == member.id, JoinRequest.status == "pending")
        .values(status="cancelled")
    )
    return rowcount(result)


async def waiting_request(session: AsyncSession, member: Member) -> JoinRequest | None:
    """The person's own request still waiting (join or move), if any."""
    return await session.scalar(
        select(JoinRequest)
        .where(
            JoinRequest.member_id == member.id,
            JoinRequest.status == "pending",
            JoinRequest.kind.in_(("join", "unit")),
        )
        .limit(1)
    )


def mark_left(member: Member, now: dt.datetime, reason: str) -> bool:
    """Out of every future audience: `left` every bound group, or `removed` by the committee
    (which only the committee undoes). False if nothing changed."""
    if member.left_at is not None and (member.left_reason == reason or reason == "left"):
        return False
    member.left_at = member.left_at or now
    member.left_reason = reason
    return True


def restore(member: Member) -> bool:
    """Back in the audiences (rejoined, or restored by the committee); False if not gone."""
    if member.left_at is None:
        return False
    member.left_at = member.left_reason = None
    return True


async def _fold(session: AsyncSession, imported: Member, *, into: Member) -> None:
    """The committee confirmed that this account is the imported person: the imported
    record's facts, held rights and references move to the account."""
    into.title = into.title or imported.title
    into.imported_at = imported.imported_at
    into.lead_unit_id = into.lead_unit_id or imported.lead_unit_id
    if imported.role == "admin":
        into.role = "admin"
    for column, model in (
        (HoursOverride.member_id, HoursOverride),
        (WorkTask.owner_member_id, WorkTask),
    ):
        await session.execute(
            update(model)
            .where(column == imported.id)
            .values({column.key: into.id})
            .execution_options(synchronize_session=False)
        )
    await session.delete(imported)
    await session.flush()


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Member | None:
    return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


class Ambiguous(Refusal):
    """Several people answer to the name given: the caller is asked to choose one."""

    def __init__(self, ref: str, candidates: list[Member]) -> None:
        super().__init__("member_ambiguous", ref=ref, count=len(candidates))
        self.candidates = candidates


# More namesakes than this are not offered as buttons: the committee names them otherwise.
MAX_NAMESAKES = 8


async def find_member(session: AsyncSession, ref: str) -> Member:
    """A person named by @username, numeric Telegram id or registered real name (an erased
    person has no name any more). Several with that name: `Ambiguous`, to choose from."""
    parsed = rules.parse_member_ref(ref)
    if parsed.username is not None:
        stmt = select(Member).where(func.lower(Member.username) == parsed.username.lower())
    elif parsed.telegram_id is not None:
        stmt = select(Member).where(Member.telegram_id == parsed.telegram_id)
    else:
        assert parsed.name is not None
        found = list(
            await session.scalars(
                select(Member)
                .outerjoin(Unit, Member.unit_id == Unit.id)
                .where(
                    func.lower(Member.real_name) == parsed.name.lower(),
                    Member.erased_at.is_(None),
                )
                .order_by(Unit.name, Member.id)
                .limit(MAX_NAMESAKES + 1)
            )
        )
        if len(found) == 1:
            return found[0]
        if not found:
            raise Refusal("member_unknown_name", ref=parsed.name)
        if len(found) > MAX_NAMESAKES:
            raise Refusal("member_too_many", ref=parsed.name)
        raise Ambiguous(parsed.name, found)
    member = await session.scalar(stmt)
    if member is None:
        raise Refusal("member_unknown", ref=ref.strip()[:64])
    return member


async def by_id(session: AsyncSession, member_id: int) -> Member | None:
    """A person by their row id (a button's choice): None if gone meanwhile."""
    return await session.get(Member, member_id)


async def set_role(session: AsyncSession, member: Member, role: str) -> bool:
    """Set the committee role; False when it was already so."""
    if member.role == role:
        return False
    member.role = role
    return True


async def set_lead(session: AsyncSession, member: Member, unit: Unit | None) -> None:
    """Make `member` the lead of `unit` (None: no longer a lead)."""
    member.lead_unit_id = unit.id if unit else None
    member.lead_unit = unit


async def committee_languages(
    session: AsyncSession, bootstrap: frozenset[int]
) -> dict[int, str | None]:
    """Every committee member's Telegram id → their language (None: not chosen yet)."""
    rows = await session.execute(
        select(Member.telegram_id, Member.lang).where(
            Member.telegram_id.is_not(None),
            or_(Member.role == "admin", Member.telegram_id.in_(bootstrap)),
        )
    )
    found: dict[int, str | None] = {i: lang for i, lang in rows if i is not None}
    return {i: found.get(i) for i in bootstrap} | found


async def set_can_dm(session: AsyncSession, telegram_id: int, value: bool) -> None:
    await session.execute(
        update(Member).where(Member.telegram_id == telegram_id).values(can_dm=value)
    )


async def by_ids(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Member]:
    """The people with these ids (None and unknown ones left out), by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(wanted)))}


async def committee(session: AsyncSession, bootstrap: frozenset[int]) -> list[Member]:
    """Committee members the bot may write to privately."""
    return list(
        await session.scalars(
            select(Member).where(
                or_(Member.role == "admin", Member.telegram_id.in_(bootstrap)),
                Member.can_dm.is_(True),
            )
        )
    )


async def organisers(
    session: AsyncSession, created_by: int | None, bootstrap: frozenset[int]
) -> list[Member]:
    """Whom to tell about something someone created (an activity, a call): its creator if
    the bot may write to them, else the committee."""
    creator = await session.get(Member, created_by) if created_by is not None else None
    if creator is not None and creator.can_dm and creator.telegram_id is not None:
        return [creator]
    return await committee(session, bootstrap)


async def roster_by_unit(session: AsyncSession) -> list[tuple[Unit, list[Member]]]:
    """The roster (registered and imported people, not erased ones) by unit, units in creation
    order, names sorted."""
    units = await list_units(session)
    members = await session.scalars(
        select(Member).where(on_roster(), Member.erased_at.is_(None)).order_by(Member.real_name)
    )
    by_unit: dict[int, list[Member]] = {u.id: [] for u in units}
    for m in members:
        if m.unit_id is not None:
            by_unit.setdefault(m.unit_id, []).append(m)
    return [(u, by_unit[u.id]) for u in units]
