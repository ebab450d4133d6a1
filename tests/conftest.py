"""Fixtures: databases (SQLite and PostgreSQL), the local Bot API server, the running bot."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import hypothesis.internal.observability  # noqa: F401  (see below)
import pytest
from sqlalchemy.engine import make_url

from bot.app import build_application
from db.database import Database
from db.migrate import upgrade
from tests.harness import (
    POSTGRES_URL,
    REQUIRE_POSTGRES,
    TOKEN,
    BotHarness,
    _asyncpg_dsn,
    make_settings,
)
from tests.steps import Quarter
from tests.tgserver import FakeTelegram

# hypothesis's pytest plugin imports its modules lazily, at the end of the session, where the
# deep call stack trips CPython 3.11.7's "AST constructor recursion depth mismatch" (fixed in
# 3.11.8) while pytest rewrites them. Importing them here, near the bottom of the stack, avoids it.


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker writes its own --log-file (`<file>.gw0`, …)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and config.option.log_file:
        config.option.log_file = f"{config.option.log_file}.{worker}"


async def _migrate(url: str) -> None:
    db = Database(url)
    await upgrade(db)
    await db.dispose()


@dataclass
class Templates:
    sqlite: Path
    postgres_template: str | None
    postgres_skip_reason: str


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Migrate once per run; each test then copies (SQLite) or clones (PostgreSQL) the result."""
    folder = tmp_path_factory.mktemp("template")
    sqlite = folder / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{sqlite}"))
    name = f"qgw_template_{os.getpid()}"

    async def make_pg() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await _migrate(make_url(POSTGRES_URL).set(database=name).render_as_string(False))

    pg_template: str | None = None
    reason = ""
    try:
        asyncio.run(make_pg())
        pg_template = name
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.__class__.__name__}: {exc})"
        if REQUIRE_POSTGRES:
            pytest.exit(f"REQUIRE_POSTGRES=1 but {reason}", returncode=3)
    yield Templates(sqlite, pg_template, reason)
    if pg_template is not None:

        async def drop() -> None:
            conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())


@asynccontextmanager
async def _database(
    kind: str, templates: Templates, folder: Path, migrated: bool
) -> AsyncIterator[str]:
    """A database of `kind` for one test: migrated (from the template), or new and empty."""
    if kind == "sqlite":
        target = folder / "bot.sqlite3"
        if migrated:
            shutil.copy(templates.sqlite, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    if templates.postgres_template is None:
        pytest.skip(templates.postgres_skip_reason)
    name = f"qgw_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{templates.postgres_template}"' if migrated else ""
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{template}')
    finally:
        await admin.close()
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database of each kind for one test."""
    async with _database(request.param, templates, tmp_path, migrated=True) as url:
        yield url


@pytest.fixture
async def empty_database_url(
    database_url: str, templates: Templates, tmp_path: Path
) -> AsyncIterator[str]:
    """A new database without any table (as on a first start), of `database_url`'s kind."""
    kind = make_url(database_url).get_backend_name()
    async with _database(kind, templates, tmp_path / "empty", migrated=False) as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


def pinned_time(request: pytest.FixtureRequest) -> str | None:
    """The local time a test's `@pytest.mark.clock("YYYY-MM-DD HH:MM")` pins the bot to."""
    marker = request.node.get_closest_marker("clock")
    return None if marker is None else str(marker.args[0])


@pytest.fixture
async def bot(
    request: pytest.FixtureRequest, tg: FakeTelegram, database_url: str
) -> AsyncIterator[BotHarness]:
    marker = request.node.get_closest_marker("settings")
    overrides = marker.kwargs if marker is not None else {}
    harness = BotHarness(
        tg, build_application(make_settings(tg, database_url, **overrides)), pinned_time(request)
    )
    await harness.start()
    yield harness
    await harness.stop()


# Where a test's clock starts when it pins none: a working Monday morning. Tests that care
# about the date pin their own with `@pytest.mark.clock`; none may depend on the real date.


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    """The usual start: units 办公室 and 康复中心, the main group bound."""
    await bot.add_units("办公室", "康复中心")
    await bot.setup_main_group()
    return bot


@pytest.fixture
async def quarter(bot: BotHarness) -> Quarter:
    """A quarter lived (2026 Q4, see tests.steps.Quarter); pin the clock to 2026-10-09 10:00."""
    built = Quarter(bot)
    await built.build()
    return built
