"""Bring the database to the newest schema (the bot does this itself at start-up).

At start-up (`prepare`): a database already at `HEAD` is left alone without loading Alembic; a
new, empty one gets the models' tables at once, stamped `HEAD` (Alembic's recipe for building a
database from scratch: no migration replayed); one behind is migrated by Alembic in a child
process, so the bot never keeps Alembic's memory for nothing. Tests check that `HEAD` is the
newest migration and that a new database's schema is exactly the migrated one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x71_67_77_30  # "qgw0": one migrating instance at a time
HEAD = "0019"  # the newest revision in db/migrations/versions


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def current(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    try:
        async with db.engine.connect() as connection:
            return await _version(connection)
    except DBAPIError:  # no such table: a new database
        return None


async def _version(connection: AsyncConnection) -> str | None:
    found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return str(found) if found is not None else None


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision` on the database's own engine."""
    if revision == "head" and await current(db) == HEAD:
        return
    from alembic import command  # loaded only when there is something to migrate

    def run(connection: Connection) -> None:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as connection:
        if not db.is_sqlite:
            # Two instances starting together must not migrate at the same time.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        await connection.run_sync(run)


async def prepare(db: Database) -> None:
    """At start-up: at `HEAD` already, nothing; new, created; behind, migrated aside."""
    if await current(db) == HEAD or await create_if_empty(db):
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        await asyncio.get_running_loop().run_in_executor(pool, _upgrade_in_child, db.url)


async def create_if_empty(db: Database) -> bool:
    """A database without tables gets the models' schema and is stamped `HEAD`, in one
    transaction. True when the database is at `HEAD` after this (made here, or by another
    instance starting at the same moment); False when it holds tables to migrate."""
    async with db.engine.begin() as connection:
        if db.is_sqlite:  # DDL inside the transaction, and one creating process at a time
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        if tables:
            return "alembic_version" in tables and await _version(connection) == HEAD
        await connection.run_sync(Base.metadata.create_all)
        # The table Alembic keeps its revision in, as Alembic makes it.
        await connection.execute(
            text(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        )
        await connection.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD}
        )
    return True


def _upgrade_in_child(url: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(run())
