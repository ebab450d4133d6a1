"""One person's updates in order, different people at once.

Telegram delivers a person's updates back to back (`/start` then `/register`, a double tap).
Handled concurrently they would race each other; handled one at a time, a burst of 500 people
would queue behind one another. So updates are serialised per sender (the user, or the chat
when there is no user) and run concurrently across senders.

python-telegram-bot holds one of its slots while an update waits for the sender's earlier
updates, so the waiting room (`max_waiting`) is made much larger than the number of updates
that actually run at once (`max_running`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from scheduler import metrics


def sender_key(update: object) -> int | None:
    """Whose turn an update waits for: its user, else its chat; None if it has neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerSenderUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_running: int, max_waiting: int) -> None:
        super().__init__(max_waiting)
        self._running = asyncio.Semaphore(max_running)
        self._turns: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}
        # Webhook mode: told when an update was processed (so it is marked done).
        self.on_done: Callable[[object], None] | None = None
        self.finished = 0  # updates processed: the tests' barrier waits for every one

    @property
    def running(self) -> int:
        """Updates being processed or waiting for their sender's turn."""
        return sum(self._queued.values())

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.monotonic()
        await self._in_turn(update, coroutine)  # a cancelled update is not done
        self.finished += 1
        metrics.HANDLER_SECONDS.observe(time.monotonic() - started)
        if self.on_done is not None:
            self.on_done(update)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = sender_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        # Taken synchronously on entry, so turns follow the order updates were fetched in.
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with turn, self._running:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                del self._queued[key], self._turns[key]

    def waiting_senders(self) -> int:
        """How many senders have an update running or waiting (for tests)."""
        return len(self._turns)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
