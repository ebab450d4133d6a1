"""The committee's roster brought in (/import): each row matched to a person, added or
updated, after a preview that writes nothing. Reading the file is render.roster_file's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import Refusal
from db.members import list_units, on_roster
from db.models import Member, PendingImport, Unit


@dataclass(frozen=True)
class RosterRow:
    row: int  # the row number as the person sees it in Excel (header is row 1)
    name: str
    unit: str
    title: str | None  # 职务
    username: str | None  # Telegram username without the @


@dataclass
class Counted:
    """What an import of plan items or tasks would do (or did), and the rows it cannot take,
    each with why."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, Refusal]] = field(default_factory=list)


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
    session: AsyncSession,
    by: Member,
    file_id: str,
    file_name: str,
    now: dt.datetime,
    kind: str = "roster",
) -> int:
    """Remember a previewed file (of `kind`) until 确认导入; its id for the buttons."""
    row = PendingImport(
        kind=kind, member_id=by.id, file_id=file_id, file_name=file_name[:256], created_at=now
    )
    session.add(row)
    await session.flush()
    return row.id


async def take_pending_import(
    session: AsyncSession, import_id: int, by: Member, now: dt.datetime, kind: str = "roster"
) -> PendingImport:
    """The preview `import_id` (of `kind`) of this person, marked done; refused if stale, not
    theirs or of another kind."""
    row = await session.get(PendingImport, import_id, with_for_update=True)
    if (
        row is None
        or row.kind != kind
        or row.member_id != by.id
        or row.done
        or row.created_at < now - PENDING_IMPORT_TTL
    ):
        raise Refusal("import_stale")
    row.done = True
    return row
