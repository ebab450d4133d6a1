"""The writers' SQLite engine runs statements on the event loop's thread (db.sqlite_inline):
another connection's write lock is waited for without stopping the loop, and given up on
after the busy timeout; reads keep their own engine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from db import sqlite_inline
from db.database import Database


async def _database(path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await session.commit()
    return db


async def test_writers_run_on_the_loops_thread_and_readers_do_not(tmp_path: Path) -> None:
    db = await _database(tmp_path / "a.sqlite3")
    seen: dict[str, int] = {}
    try:
        for name, opening in (("writer", db.session), ("reader", db.read_session)):
            async with opening() as session:
                connection = await session.connection()
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                seen[name] = await driver._execute(threading.get_ident)  # type: ignore[union-attr]
    finally:
        await db.dispose()
    assert seen["writer"] == threading.get_ident()
    assert seen["reader"] != threading.get_ident()


async def test_another_connections_lock_is_waited_for_while_the_loop_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.sqlite3"
    db = await _database(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write lock
    other.execute("INSERT INTO t (v) VALUES ('theirs')")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    ticker = asyncio.create_task(ticking())
    releasing = asyncio.create_task(release_later())
    try:
        started = time.monotonic()
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (v) VALUES ('ours')"))
            await session.commit()
        waited = time.monotonic() - started
        await releasing
        async with db.read_session() as session:
            values = sorted((await session.scalars(text("SELECT v FROM t"))).all())
    finally:
        ticker.cancel()
        other.close()
        await db.dispose()
    assert values == ["ours", "theirs"]
    assert waited >= 0.25  # it did wait for the lock…
    assert ticks >= 20  # …and the loop ran meanwhile (a blocking wait would allow ~0)


async def test_a_lock_held_too_long_is_given_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite3"
    db = await _database(path)
    await db.dispose()
    monkeypatch.setattr("db.database.SQLITE_BUSY_TIMEOUT_MS", 200)
    db = Database(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(exc.OperationalError, match="database is locked"):
            async with db.session() as session:
                await session.execute(text("INSERT INTO t (v) VALUES ('ours')"))
        assert 0.15 <= time.monotonic() - started < 2
    finally:
        other.close()
        await db.dispose()


def test_only_a_lock_that_may_be_released_is_waited_for() -> None:
    def error(code: int) -> sqlite3.OperationalError:
        found = sqlite3.OperationalError("database is locked")
        found.sqlite_errorcode = code
        return found

    assert sqlite_inline.waiting_helps(error(sqlite3.SQLITE_BUSY))
    assert sqlite_inline.waiting_helps(error(sqlite3.SQLITE_BUSY_RECOVERY))
    assert not sqlite_inline.waiting_helps(error(sqlite3.SQLITE_BUSY_SNAPSHOT))
    assert not sqlite_inline.waiting_helps(error(sqlite3.SQLITE_READONLY))
    assert not sqlite_inline.waiting_helps(sqlite3.OperationalError("no such table: x"))
