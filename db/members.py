"""Members, units and roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import rules
from db.errors import Refusal
from db.models import HoursOverride, Member, PendingImport, Unit, utcnow
from db.sql import insert_ignore

if TYPE_CHECKING:  # db.roster uses this module's name rules
    from db.roster import RosterRow

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
    """Expected at activities and notices: registered, or imported from the roster."""
    return or_(Member.registered_at.is_not(None), Member.imported_at.is_not(None))


def joined_at() -> ColumnElement[dt.datetime]:
    """When the person came onto the roster (an activity that ended before did not expect
    them)."""
    return func.coalesce(Member.imported_at, Member.registered_at)


async def touch_member(session: AsyncSession, user: TelegramUser) -> Member:
    """Record (or refresh) anyone who interacts with the bot, registered or not.

    Race-free: two first updates of one person at once (two instances, a double tap) both
    end with the same row, because the insert is `ON CONFLICT DO NOTHING`. A person imported
    from the roster with this username becomes this Telegram account (no duplicate).
    """
    first_name = rules.make_storable(user.first_name)[:128]
    last_name = rules.make_storable(user.last_name)[:128] if user.last_name else None
    username = rules.make_storable(user.username)[:64] if user.username else None
    by_id = select(Member).where(Member.telegram_id == user.id)
    member = await session.scalar(by_id)
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
        member = await session.scalar(by_id)
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
        member = await session.scalar(by_id)
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


async def add_unit(session: AsyncSession, name: str) -> Unit:
    name = clean_name(name, MAX_UNIT)
    exists = await session.scalar(select(Unit).where(func.lower(Unit.name) == name.lower()))
    # Two committee members adding the same unit at once: the second finds it taken.
    if exists is not None or not await insert_ignore(session, Unit, name=name, created_at=utcnow()):
        raise Refusal("unit_exists", name=name)
    unit = await session.scalar(select(Unit).where(Unit.name == name))
    assert unit is not None
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


async def register(
    session: AsyncSession, member: Member, real_name: str, unit_name: str, now: dt.datetime
) -> Unit:
    """A member states their real name and unit (re-registering updates both).

    If the committee imported this person (same name and unit, no Telegram account yet), the
    imported record is folded into this one: one person, one record.
    """
    name = clean_name(real_name, MAX_NAME)
    unit = await unit_by_name(session, unit_name)
    imported = await session.scalar(
        select(Member).where(
            Member.telegram_id.is_(None),
            Member.imported_at.is_not(None),
            Member.unit_id == unit.id,
            func.lower(Member.real_name) == name.lower(),
        )
    )
    if imported is not None and imported.id != member.id:
        await _fold(session, imported, into=member)
    member.real_name = name
    member.unit_id = unit.id
    member.unit = unit
    if member.registered_at is None:
        member.registered_at = now
    return unit


async def _fold(session: AsyncSession, imported: Member, *, into: Member) -> None:
    """The imported record's facts and references move to the registering account."""
    into.title = into.title or imported.title
    into.imported_at = imported.imported_at
    into.lead_unit_id = into.lead_unit_id or imported.lead_unit_id
    if imported.role == "admin":
        into.role = "admin"
    await session.execute(
        update(HoursOverride)
        .where(HoursOverride.member_id == imported.id)
        .values(member_id=into.id)
        .execution_options(synchronize_session=False)
    )
    await session.delete(imported)
    await session.flush()


async def find_member(session: AsyncSession, ref: str) -> Member:
    """A member named by @username or numeric Telegram id."""
    parsed = rules.parse_member_ref(ref)
    if parsed.username is not None:
        stmt = select(Member).where(func.lower(Member.username) == parsed.username.lower())
    else:
        stmt = select(Member).where(Member.telegram_id == parsed.telegram_id)
    member = await session.scalar(stmt)
    if member is None:
        raise Refusal("member_unknown", ref=ref.strip()[:64])
    return member


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


async def roster_by_unit(session: AsyncSession) -> list[tuple[Unit, list[Member]]]:
    """The roster (registered and imported people) by unit, units in creation order, names
    sorted."""
    units = await list_units(session)
    members = await session.scalars(select(Member).where(on_roster()).order_by(Member.real_name))
    by_unit: dict[int, list[Member]] = {u.id: [] for u in units}
    for m in members:
        if m.unit_id is not None:
            by_unit.setdefault(m.unit_id, []).append(m)
    return [(u, by_unit[u.id]) for u in units]


@dataclass
class ImportPlan:
    """What an import would do (or did): new people, changed ones, unchanged, new units."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_units: list[str] = field(default_factory=list)


async def import_roster(
    session: AsyncSession, rows: Sequence[RosterRow], now: dt.datetime, *, write: bool
) -> ImportPlan:
    """Match each row to a person (by username, else by name and unit) and add or update them;
    with `write` False, only count what would happen (the preview).

    A registered person keeps their Telegram username; a new person is imported: expected at
    activities from `now`, shown as 未登记 until they register.
    """
    plan = ImportPlan()
    units = {u.name.lower(): u for u in await list_units(session)}
    people = list(await session.scalars(select(Member).where(on_roster())))
    by_username = {m.username.lower(): m for m in people if m.username}
    by_name = {(m.real_name.lower(), m.unit_id): m for m in people if m.real_name}
    for row in rows:
        unit = units.get(row.unit.lower())
        if unit is None:
            plan.new_units.append(row.unit)
            unit = Unit(name=row.unit, created_at=now)
            units[row.unit.lower()] = unit
            if write:
                session.add(unit)
                await session.flush()
        found = (by_username.get(row.username.lower()) if row.username else None) or (
            by_name.get((row.name.lower(), unit.id)) if unit.id is not None else None
        )
        if found is None:
            plan.new += 1
            if write:
                session.add(
                    Member(
                        telegram_id=None,
                        first_name="",
                        real_name=row.name,
                        unit_id=unit.id,
                        title=row.title,
                        username=row.username,
                        imported_at=now,
                        created_at=now,
                    )
                )
            continue
        changes: dict[str, object] = {
            "real_name": row.name,
            "unit_id": unit.id,
            "title": row.title if row.title is not None else found.title,
        }
        if found.telegram_id is None and row.username:
            changes["username"] = row.username
        if all(getattr(found, key) == value for key, value in changes.items()):
            plan.unchanged += 1
            continue
        plan.updated += 1
        if write:
            for key, value in changes.items():
                setattr(found, key, value)
    if write:
        await session.flush()
    return plan


PENDING_IMPORT_TTL = dt.timedelta(days=1)


async def pending_import(
    session: AsyncSession, by: Member, file_id: str, file_name: str, now: dt.datetime
) -> int:
    """Remember a previewed roster file until 确认导入; its id for the buttons."""
    row = PendingImport(member_id=by.id, file_id=file_id, file_name=file_name[:256], created_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def take_pending_import(
    session: AsyncSession, import_id: int, by: Member, now: dt.datetime
) -> PendingImport:
    """The preview `import_id` of this person, marked done; refused if stale or not theirs."""
    row = await session.get(PendingImport, import_id, with_for_update=True)
    if (
        row is None
        or row.member_id != by.id
        or row.done
        or row.created_at < now - PENDING_IMPORT_TTL
    ):
        raise Refusal("import_stale")
    row.done = True
    return row
