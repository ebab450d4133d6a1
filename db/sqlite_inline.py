"""SQLite on the event loop's own thread, for the writers' sessions.

aiosqlite runs each call (make a cursor, execute, fetch, close it, commit) on a thread of its
own and hands the result back through the event loop: four hops a statement, which cost more
than the statement itself (an embedded database answers a look-up by key in microseconds). On
the press path, three fifths of the database CPU were these hops (docs/benchmarks.md, issue
24). `InlineConnection` is aiosqlite's connection with the calls made where they are awaited.

What makes that safe:
- The process's writers take turns anyway (`Database.session` holds an in-process lock), and
  WAL never makes a writer wait for readers, so a statement here never waits for one of ours.
- Another connection's write lock (another process, or a session of another `Database` on
  the same file) is not waited for inside SQLite (its busy timeout is 0 here): the statement
  is tried again after a short asynchronous sleep, so the loop goes on meanwhile, until the
  usual busy timeout has passed.
- Long reads (reports, the ledger, the dashboard, a card's counts) keep aiosqlite's thread:
  `Database.read_session` uses an engine of its own.

What changes for callers: a statement no longer lets other tasks run while it waits, so a chain
of writes runs through without them; what another task must see first has to be waited for
explicitly (as the tests wait for the card refresher).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

# A lock held by another connection: waited for in steps of this many seconds.
LOCK_POLL = 0.002


def waiting_helps(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (another connection writes): worth trying again. Not BUSY_SNAPSHOT: this
    transaction read before another's write and can never write; only starting over helps."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        code is not None
        and code & 0xFF == sqlite3.SQLITE_BUSY
        and code != sqlite3.SQLITE_BUSY_SNAPSHOT
    )


class _Now:
    """Stands in for aiosqlite's queue to its thread: runs each call as it is queued."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, its calls made on the caller's thread (no thread of its own)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], patience: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Now()  # type: ignore[assignment]
        self._patience = patience

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()  # no thread to start

    async def _open(self) -> InlineConnection:
        await self._connect()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        deadline = None
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not waiting_helps(exc):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self._patience
                if now >= deadline:
                    raise
            await asyncio.sleep(LOCK_POLL)


def connector(path: str, patience: float) -> Callable[[], Any]:
    """SQLAlchemy's `async_creator` for the file at `path`."""

    async def connect() -> InlineConnection:
        # check_same_thread=False: the pool may close a connection from a finaliser.
        return await InlineConnection(
            lambda: sqlite3.connect(path, timeout=0, check_same_thread=False), patience
        )

    return connect
