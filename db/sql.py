"""Race-free writes on both dialects: INSERT … ON CONFLICT, never select-then-insert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def insert_ignore(session: AsyncSession, model: type[Any], **values: Any) -> bool:
    """INSERT that does nothing on a unique conflict; True if a row was inserted."""
    # On the table, not the mapped class: the same statement without the ORM's bulk-insert
    # machinery (a quarter of a check-in's insert on PostgreSQL, see docs/benchmarks.md).
    table = model.__table__
    primary_key = table.primary_key.columns.values()[0]
    result = await session.execute(
        _insert(session)(table).values(**values).on_conflict_do_nothing().returning(primary_key)
    )
    return result.scalar() is not None


async def insert_row(session: AsyncSession, model: type[Any], **values: Any) -> int:
    """A plain INSERT on the table (no ORM unit of work: for hot paths); the new row's id."""
    table = model.__table__
    primary_key = table.primary_key.columns.values()[0]
    result = await session.execute(insert(table).values(**values).returning(primary_key))
    return int(result.scalar_one())


async def upsert(
    session: AsyncSession, model: type[Any], keys: Sequence[str], **values: Any
) -> None:
    """INSERT, or UPDATE the row whose unique `keys` match, in one statement."""
    statement = _insert(session)(model).values(**values)
    changes = {name: statement.excluded[name] for name in values if name not in keys}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)
