"""Race-free writes on both dialects: INSERT … ON CONFLICT, never select-then-insert."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Executable, Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession) -> Any:
    return pg_insert if _dialect(session) == "postgresql" else sqlite_insert


# The hot paths' INSERTs are built once per table (and dialect) and the row's values passed as
# parameters: a statement built anew for every press made SQLAlchemy walk it again for its
# cache key (a fifth of a check-in's database CPU, see docs/benchmarks.md); a reused statement
# keeps its key, so each press only binds its values.
@functools.cache
def _ignoring(dialect: str, table: Table) -> Executable:
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert_(table).on_conflict_do_nothing().returning(_primary_key(table))


@functools.cache
def _plain(table: Table) -> Executable:
    return insert(table).returning(_primary_key(table))


def _primary_key(table: Table) -> Column[Any]:
    return table.primary_key.columns.values()[0]


async def insert_ignore(session: AsyncSession, model: type[Any], **values: Any) -> bool:
    """INSERT that does nothing on a unique conflict; True if a row was inserted."""
    # On the table, not the mapped class: the same statement without the ORM's bulk-insert
    # machinery (a quarter of a check-in's insert on PostgreSQL, see docs/benchmarks.md).
    result = await session.execute(_ignoring(_dialect(session), model.__table__), values)
    return result.scalar() is not None


async def insert_row(session: AsyncSession, model: type[Any], **values: Any) -> int:
    """A plain INSERT on the table (no ORM unit of work: for hot paths); the new row's id."""
    result = await session.execute(_plain(model.__table__), values)
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
