"""Leadership: exactly one process runs the scheduler and the outbox dispatcher.

PostgreSQL: a session-level advisory lock held on a dedicated connection; a second instance
waits as a standby and takes over when the leader's connection goes (crash, kill -9).
SQLite: an exclusive file lock beside the database file (one machine, one leader).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from db.database import Database
from db.errors import unavailable

log = logging.getLogger(__name__)

LOCK_KEY = 0x71_67_77_31  # "qgw1": the leader's advisory lock
RETRY_SECONDS = 2.0


class Leadership:
    def __init__(
        self,
        db: Database,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        retry: float = RETRY_SECONDS,
    ) -> None:
        self._db, self._on_elected, self._on_deposed = db, on_elected, on_deposed
        self._retry = retry
        self._conn: AsyncConnection | None = None
        self._file: IO[bytes] | None = None
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    async def start(self) -> None:
        """Become leader now if free; otherwise wait as a standby in the background."""
        if await self._try_acquire():
            await self._elected()
        else:
            log.info("another instance leads; waiting as a standby")
        self._task = asyncio.create_task(self._watch(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.is_leader:
            self.is_leader = False
            await self._on_deposed()
        await self._release()

    async def _elected(self) -> None:
        self.is_leader = True
        log.info("this instance leads: scheduler and outbox dispatcher running")
        try:
            await self._on_elected()
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("could not start leading (%s); trying again", type(exc).__name__)
            await self._step_down()

    async def _step_down(self) -> None:
        self.is_leader = False
        await self._on_deposed()
        await self._release()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._retry)
            try:
                if self.is_leader:
                    if not await self._still_held():
                        log.warning("lost the leader lock; stopping the scheduler and dispatcher")
                        await self._step_down()
                elif await self._try_acquire():
                    await self._elected()
            except Exception:  # never let the watch die: a standby must stay ready
                log.exception("leadership check failed")

    async def _try_acquire(self) -> bool:
        try:
            if self._db.is_sqlite:
                return self._lock_file()
            if self._conn is None:
                conn = await self._db.engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            acquired = await self._conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            )
            return bool(acquired)
        except Exception as exc:
            if not unavailable(exc):
                log.exception("could not try the leader lock")
            else:
                log.warning("could not try the leader lock (%s)", type(exc).__name__)
            await self._release()
            return False

    async def _still_held(self) -> bool:
        if self._db.is_sqlite:
            return self._file is not None
        try:
            assert self._conn is not None
            await self._conn.scalar(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _lock_file(self) -> bool:
        if self._file is not None:
            return True
        database = make_url(self._db.url).database
        if not database or database == ":memory:":
            return True
        # Held open for as long as this process leads: the lock lives with the descriptor.
        handle = Path(f"{database}.leader.lock").open("ab")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle
        return True

    async def _release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
