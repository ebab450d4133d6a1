"""Webhook mode: this instance among others on one PostgreSQL (see db.cluster).

`Cluster` keeps the instance's presence lock, learns every second how many instances are
alive and whether Telegram paused them all, marks processed updates done (in batches), takes
over the updates of instances that died (when leading), and carries card edit requests to
the leader. On SQLite (one machine, one instance) only the stored updates apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db import cluster as cluster_db
from db.database import Database
from db.errors import unavailable
from db.models import utcnow

log = logging.getLogger(__name__)

SYNC_EVERY = 1.0  # seconds: presence, the shared pause, done updates, card requests
ADOPT_EVERY = 2.0  # seconds: the leader looks for updates whose instance died


class Cluster:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared = not db.is_sqlite  # several instances only on PostgreSQL
        self.number = secrets.randbelow(1 << 31)  # this instance, for its lifetime
        self.live: list[int] = [self.number]
        self.paused_until: dt.datetime | None = None
        self.leading = False
        self._conn: AsyncConnection | None = None
        self._done: list[int] = []
        self._cards: set[tuple[str, int]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        # Set by the composition root.
        self.on_orphans: Callable[[list[tuple[int, str]]], Awaitable[None]] | None = None
        self.on_cards: Callable[[list[tuple[str, int]]], None] | None = None
        self.on_sync: Callable[[], None] | None = None

    @property
    def instances(self) -> int:
        return max(1, len(self.live))

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self._hold_presence()
        self._tasks = [
            asyncio.create_task(self._every(SYNC_EVERY, self._sync), name="cluster-sync"),
            asyncio.create_task(self._every(ADOPT_EVERY, self._adopt), name="cluster-adopt"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        with contextlib.suppress(Exception):
            await self._sync()  # the last done updates and card requests
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                async with asyncio.timeout(seconds):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await work()
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("cluster: %s failed", getattr(work, "__name__", work))
                else:
                    log.warning("cluster: database unavailable (%s)", type(exc).__name__)
                    self._conn = None  # take the presence lock again once it is back

    # ------------------------------------------------------------------ presence
    async def _hold_presence(self) -> None:
        if not self.shared or self._conn is not None:
            return
        conn = await self.db.engine.connect()
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        taken = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:c, :n)"),
            {"c": cluster_db.PRESENCE_CLASS, "n": self.number},
        )
        if not taken:  # another process drew the same number: draw again
            await conn.close()
            self.number = secrets.randbelow(1 << 31)
            return await self._hold_presence()
        self._conn = conn

    async def _sync(self) -> None:
        if self.shared:
            if self._conn is not None:
                try:
                    await self._conn.scalar(text("SELECT 1"))
                except Exception:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
                    self._conn = None
            await self._hold_presence()
        done, self._done = self._done, []
        cards, self._cards = self._cards, set()
        try:
            async with self.db.session() as session:
                if done:
                    await cluster_db.mark_done(session, done, utcnow())
                if self.shared:
                    if cards:
                        await cluster_db.request_cards(session, cards, utcnow())
                    self.live = await cluster_db.live_instances(session) or [self.number]
                    self.paused_until = await cluster_db.paused_until(session)
                    if self.leading and self.on_cards is not None:
                        taken = await cluster_db.take_card_requests(session)
                        if taken:
                            self.on_cards(taken)
                await session.commit()
        except Exception:
            self._done.extend(done)  # tried again next time
            self._cards |= cards
            raise
        if self.on_sync is not None:
            self.on_sync()

    # ------------------------------------------------------------------ updates
    def done(self, update_id: int) -> None:
        """An update was processed: recorded with the next sync."""
        self._done.append(update_id)

    async def _adopt(self) -> None:
        if not self.leading or self.on_orphans is None:
            return
        async with self.db.session() as session:
            # Who is alive is read in the same transaction: a cached list could miss an
            # instance that started a moment ago and take its updates from under it.
            orphans = await cluster_db.adopt_orphans(session, self.number)
            await session.commit()
        if orphans:
            log.warning("took over %d updates of an instance that stopped", len(orphans))
            await self.on_orphans(orphans)

    # ------------------------------------------------------------------ cards
    def request_card(self, key: tuple[str, int]) -> None:
        """A card's counts changed: the leader edits it (the request is written soon)."""
        self._cards.add(key)

    # ------------------------------------------------------------------ the shared budget
    async def take_slot(self, chat_id: int, limit: int, period: float) -> int:
        """Wait for a place in the chat's window shared by every instance; its slot id."""
        window = dt.timedelta(seconds=period)
        while True:
            async with self.db.session() as session:
                slot = await cluster_db.take_slot(session, chat_id, limit, window, utcnow())
                await session.commit()
            if isinstance(slot, int):
                return slot
            await asyncio.sleep(slot)

    async def slot_answered(self, slot: int) -> None:
        async with self.db.session() as session:
            await cluster_db.slot_answered(session, slot, utcnow())
            await session.commit()

    async def pause_all(self, seconds: float) -> None:
        until = utcnow() + dt.timedelta(seconds=seconds)
        async with self.db.session() as session:
            await cluster_db.pause_all(session, until)
            await session.commit()

    async def wait_turn(self, session: AsyncSession, sender: int | None) -> None:
        """Within an update's transaction: other instances handling this sender finish first."""
        if self.shared and sender is not None:
            await cluster_db.wait_turn(session, sender)

    def describe(self) -> dict[str, Any]:
        return {"instance": self.number, "instances": self.instances, "leader": self.leading}
