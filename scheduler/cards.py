"""Group cards whose counts are edited, coalesced: one edit per card per interval at most.

A press only marks its card dirty. A background loop edits each dirty card once its interval
since the last edit has passed, rendering it fresh from the database, so however many people
press at once the group sees a handful of edits and the last one shows the exact count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, TelegramError

from db.errors import unavailable
from scheduler.ratelimit import describe

if TYPE_CHECKING:
    from scheduler.cluster import Cluster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardView:
    chat_id: int
    message_id: int
    text: str
    markup: InlineKeyboardMarkup | None
    caption: bool = False  # a photo or document: its caption is the text


Key = tuple[str, int]
Renderer = Callable[[int], Awaitable[Sequence[CardView]]]


class CardRefresher:
    """Coalesces card edits; `touch` is cheap and may be called once per press."""

    def __init__(self, bot: Bot, *, min_interval: float = 3.0, tick: float = 0.2) -> None:
        self._bot = bot
        self.min_interval = min_interval
        self._tick = tick
        self._renderers: dict[str, Renderer] = {}
        self._dirty: set[Key] = set()
        self._busy: set[Key] = set()
        self._last: dict[Key, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._edits: set[asyncio.Task[Any]] = set()
        # What each message shows now: an edit that would change nothing is not sent (it
        # would still cost one of the group's 20 requests a minute).
        self._shown: dict[tuple[int, int], str] = {}
        # Set by the composition root: move a chat that Telegram says was upgraded.
        self.on_migrated: Callable[[int, int], Awaitable[None]] | None = None
        # Webhook mode on PostgreSQL: only the leader edits; the others send it requests.
        self.cluster: Cluster | None = None

    def register(self, kind: str, renderer: Renderer) -> None:
        self._renderers[kind] = renderer

    def shown(self, chat_id: int, message_id: int, text: str) -> None:
        """Record what a card message shows (called when it is posted)."""
        if len(self._shown) > 10_000:
            self._shown.clear()
        self._shown[(chat_id, message_id)] = text

    def touch(self, kind: str, item_id: int) -> None:
        """Mark a card as needing an edit."""
        cluster = self.cluster
        if cluster is not None and cluster.shared and not cluster.leading:
            cluster.request_card((kind, item_id))  # two instances never edit one card
            return
        self.requested([(kind, item_id)])

    def requested(self, keys: Sequence[Key]) -> None:
        """Cards to edit here (touched here, or requested by other instances)."""
        self._dirty.update(keys)
        self._wake.set()

    def hand_over(self) -> None:
        """No longer leading: the cards still to edit become requests for the next leader."""
        if self.cluster is not None:
            for key in self._dirty:
                self.cluster.request_card(key)
        self._dirty.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="card-refresher")

    async def stop(self) -> None:
        """Finish pending edits (bounded), then stop the loop."""
        if self._task is None:
            return
        deadline = time.monotonic() + 5
        while (self._dirty or self._edits) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(self._tick)
        self._task.cancel()
        for task in (self._task, *self._edits):
            task.cancel()
        await asyncio.gather(self._task, *self._edits, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                now = time.monotonic()
                for key in [k for k in self._dirty if k not in self._busy]:
                    if now - self._last.get(key, float("-inf")) >= self.min_interval:
                        self._dirty.discard(key)
                        self._busy.add(key)
                        self._last[key] = now
                        task = asyncio.create_task(self._edit(key))
                        self._edits.add(task)
                        task.add_done_callback(self._edits.discard)
                await asyncio.sleep(self._tick)

    async def _edit(self, key: Key) -> None:
        kind, item_id = key
        try:
            for view in await self._renderers[kind](item_id):
                await self._edit_one(key, view)
        except Exception as exc:
            if not unavailable(exc):
                log.exception("card %s could not be rendered", key)
            else:  # the database is away: show the counts once it is back
                log.warning("card %s not rendered (%s); will retry", key, type(exc).__name__)
                self._dirty.add(key)
        finally:
            self._busy.discard(key)
            if self._dirty:
                self._wake.set()

    async def _edit_one(self, key: Key, view: CardView) -> None:
        where = (view.chat_id, view.message_id)
        if self._shown.get(where) == view.text:  # every button change also changes the text
            return
        try:
            if view.caption:
                await self._bot.edit_message_caption(
                    chat_id=view.chat_id,
                    message_id=view.message_id,
                    caption=view.text,
                    reply_markup=view.markup,
                )
            else:
                await self._bot.edit_message_text(
                    view.text,
                    chat_id=view.chat_id,
                    message_id=view.message_id,
                    reply_markup=view.markup,
                )
            self.shown(view.chat_id, view.message_id, view.text)
        except ChatMigrated as exc:
            # Its old message cannot be edited: once moved, the card is posted afresh there.
            if self.on_migrated is not None:
                await self.on_migrated(view.chat_id, exc.new_chat_id)
            self._dirty.add(key)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.warning("card %s could not be edited: %s", key, exc.message)
        except TelegramError as exc:  # the rate limiter already retried 5xx and timeouts
            log.warning("card %s edit failed (%s); will retry", key, describe(exc))
            self._dirty.add(key)
