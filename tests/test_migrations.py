"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from db.database import Database
from db.migrate import HEAD, alembic_config, current, prepare, upgrade
from db.models import Base


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


def test_head_is_the_newest_migration() -> None:
    """The bot skips Alembic on a database at HEAD: HEAD must be the newest revision."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_current_head() == HEAD


async def test_a_database_at_head_is_left_alone_and_a_new_one_migrated(db: Database) -> None:
    assert await current(db) == HEAD  # the test databases are migrated already
    await upgrade(db)  # nothing to do
    assert await current(db) == HEAD


def schema(connection: Connection) -> dict[str, Any]:
    """Everything the database says about its tables, in an order that does not depend on how
    they were made (columns added by later migrations come last in a migrated table)."""
    found = inspect(connection)
    tables: dict[str, Any] = {}
    for table in found.get_table_names():
        columns = found.get_columns(table)
        tables[table] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in columns
            ),
            "primary key": found.get_pk_constraint(table),
            "foreign keys": sorted(
                (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["options"])
                for fk in found.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], i["column_names"], i["unique"]) for i in found.get_indexes(table)
            ),
            "uniques": sorted(
                (u["name"], u["column_names"]) for u in found.get_unique_constraints(table)
            ),
            "checks": sorted(
                (c["name"], " ".join(c["sqltext"].split()))
                for c in found.get_check_constraints(table)
            ),
        }
    return tables


async def test_a_new_database_is_built_at_head_with_exactly_the_migrated_schema(
    db: Database, empty_database_url: str
) -> None:
    new = Database(empty_database_url)
    try:
        assert await current(new) is None
        await prepare(new)  # builds it from the models: no migration replayed
        assert await current(new) == HEAD
        async with new.engine.connect() as connection:
            built = await connection.run_sync(schema)
        async with db.engine.connect() as connection:
            migrated = await connection.run_sync(schema)
        assert built.keys() == migrated.keys()
        for table, shape in migrated.items():
            assert built[table] == shape, table
    finally:
        await new.dispose()


async def test_instances_starting_together_on_a_new_database_build_it_once(
    empty_database_url: str,
) -> None:
    instances = [Database(empty_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(prepare(instance) for instance in instances))
        async with instances[0].engine.connect() as connection:
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
        assert versions == [(HEAD,)]
    finally:
        for instance in instances:
            await instance.dispose()


async def test_a_database_behind_is_migrated_at_start(empty_database_url: str) -> None:
    old = Database(empty_database_url)
    try:
        await upgrade(old, "0014")  # as an earlier release left it
        assert await current(old) == "0014"
        await prepare(old)  # Alembic, in a child process
        assert await current(old) == HEAD
    finally:
        await old.dispose()


async def test_every_migration_goes_down_and_up_again(db: Database) -> None:
    """Each downgrade undoes its upgrade (a release can be rolled back), back to the start."""

    def down(connection: Connection) -> None:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with db.engine.begin() as connection:
        await connection.run_sync(down)
    assert await current(db) is None
    await upgrade(db)
    assert await current(db) == HEAD
