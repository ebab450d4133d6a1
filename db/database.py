"""Engine and session factory: one session per update, SQLite tuned for a single writer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db import sqlite_inline
from db.errors import unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The embedded default: one SQLite file under data/ (PostgreSQL in production).
DEFAULT_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'data' / 'bot.sqlite3'}"

# How long a statement waits for another process's write lock before the handler is told
# "locked" and tries again (see handlers.runner): short, so a callback is still answered in time.
SQLITE_BUSY_TIMEOUT_MS = 3_000
# PostgreSQL: give up on a connection attempt, a statement or a free pooled connection after
# these many seconds, so an outage answers "busy" instead of hanging the update.
CONNECT_TIMEOUT = 5
STATEMENT_TIMEOUT = 10
POOL_TIMEOUT = 5


def _sqlite_connect_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return pragmas


def create_engine(url: str, *, inline: bool = False) -> AsyncEngine:
    """An async engine for `url`; SQLite gets WAL, a busy timeout and foreign keys.

    `inline`: a SQLite file's statements run on the event loop's thread (db.sqlite_inline),
    for the writers' sessions; otherwise on aiosqlite's thread."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        on_disk = bool(path) and path != ":memory:"
        if on_disk:
            Path(path or "").parent.mkdir(parents=True, exist_ok=True)
        inline = inline and on_disk
        engine = create_async_engine(
            url,
            # Sessions end their transactions themselves (commit, or rollback on close); the
            # pool's own rollback on return would be one more statement for each update,
            # inside the writer lock.
            pool_reset_on_return=None,
            **(
                {
                    "async_creator": sqlite_inline.connector(
                        path or "", SQLITE_BUSY_TIMEOUT_MS / 1000
                    )
                }
                if inline
                else {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
            ),
        )
        # Inline, SQLite itself never waits for a lock (that would stop the loop): the
        # connection waits between tries instead.
        busy_timeout = 0 if inline else SQLITE_BUSY_TIMEOUT_MS
        event.listen(engine.sync_engine, "connect", _sqlite_connect_pragmas(busy_timeout))
        return engine
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT,
        # A connection killed by the server (restart, pg_terminate_backend) is noticed and
        # replaced at checkout instead of failing the next update.
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    )


class Database:
    """Owns the engine and hands out sessions; on SQLite, writers are serialised in-process."""

    def __init__(self, url: str) -> None:
        self.url = url
        # On SQLite, the writers' engine runs its statements on the event loop's thread and
        # long reads have an engine of their own on aiosqlite's (see db.sqlite_inline).
        self.engine = create_engine(url, inline=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._reader = create_engine(url) if self.is_sqlite else self.engine
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self._reader, expire_on_commit=False)
        # SQLite allows one writer; queueing here avoids SQLITE_BUSY on read-to-write upgrades.
        self._writer = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits; rolled back if left uncommitted.

        On SQLite this holds the process's writer lock until it closes, so code running inside
        a session must pass that session on, never open a second one (it would wait forever).
        """
        if self._writer is None:
            async with self._sessions() as session:
                yield session
            return
        async with self._writer, self._sessions() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for long reads (reports, the ledger): never holds SQLite's writer lock, so
        check-ins go on meanwhile (WAL lets readers and the writer work at once)."""
        async with self._read_sessions() as session:  # closing it ends the read transaction
            yield session

    async def retrying(
        self, what: str, work: Callable[[AsyncSession], Awaitable[T]], *, patience: float = 30.0
    ) -> T:
        """Run `work` in a session and commit; while the database is unavailable, again.

        For background work (the outbox, cards, reminders) that must not be lost to a database
        restart; gives up (raises) after `patience` seconds.
        """
        started, delay = time.monotonic(), 0.2
        while True:
            try:
                async with self.session() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            except Exception as exc:
                if not unavailable(exc) or time.monotonic() - started + delay > patience:
                    raise
                log.warning(
                    "%s: database unavailable (%s); trying again in %.1fs",
                    what,
                    type(exc).__name__,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._reader is not self.engine:
            await self._reader.dispose()
