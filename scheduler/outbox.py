"""The outbox dispatcher: sends what the outbox holds, in the background, restart-safe.

Every send goes through the bot's rate limiter (≤25/s overall, ≤20/min into one group, shared
with card edits). Here we add ~1 s spacing per private chat, retries with backoff for network
errors and 5xx, `retry_after` for 429s, and a final "undeliverable" for 403 and unknown chats.
A row is marked sent (with its message id) right after its send succeeds, so a kill -9 can
duplicate at most the sends in flight at that moment, and loses nothing pending.
During quiet hours, `quiet` rows into private chats stay pending (the query leaves them out);
the loop wakes when the window ends and they go in id order, like any other backlog.
Reminders due together into one group (and topic) go as one message (`merge`): their texts one
after another, their buttons kept, within Telegram's limits (else the rest go next, merged in
turn). Every row of it stays a row: marked sent, retried or given up together, so a merge
changes nothing of the guarantees above. A group reminder waits GATHER (real time) before its
first attempt, so the others its engine pass writes a moment later are found with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from db import chats as chats_db
from db import members as members_db
from db import outbox as outbox_db
from db.database import Database
from db.errors import unavailable
from db.models import OutboxMessage, utcnow
from db.outbox import Buttons
from scheduler import quiet
from scheduler.quiet import QuietHours

log = logging.getLogger(__name__)

MARK_PATIENCE = 120.0  # seconds to keep trying to record a send while the database is away
UNDELIVERABLE_REASONS = ("chat not found", "user is deactivated", "bot was kicked", "not a member")
GATHER = dt.timedelta(seconds=1)  # a group reminder waits this long for its neighbours
MESSAGE_LIMIT = 4096  # characters of one message
MAX_MERGED_BUTTONS = 8  # buttons on one merged message (a keyboard people can still read)
MERGE_SEPARATOR = "\n\n"


class OutboxHooks:
    """What a purpose (e.g. "notice_post") does when its message is sent or cannot be."""

    async def sent(self, session: AsyncSession, row: OutboxMessage, message_id: int) -> None:
        """Runs in the transaction that marks the row sent."""

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        """Runs in the transaction that marks the row undeliverable or failed for good."""

    async def pin_failed(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        """The message was sent but could not be pinned."""


Migrated = Callable[[int, int], Awaitable[None]]


async def _nothing_to_migrate(old: int, new: int) -> None:
    raise RuntimeError(f"chat {old} moved to {new} but no one handles migrations")


def markup(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in buttons]
    )


def mergeable(row: OutboxMessage) -> bool:
    """A reminder into a group: may go with others into the same chat and topic."""
    return (
        row.purpose == outbox_db.REMINDER
        and row.chat_id < 0
        and row.media_kind is None
        and not row.pin
    )


def merge(first: OutboxMessage, others: list[OutboxMessage]) -> list[OutboxMessage]:
    """`first` and as many of `others` (in order) as fit one message: 4096 characters and
    MAX_MERGED_BUTTONS distinct buttons. What does not fit waits for the next message."""
    batch = [first]
    size = len(first.text)
    data = {b["data"] for line in first.buttons or [] for b in line}
    for row in others:
        new = {b["data"] for line in row.buttons or [] for b in line} - data
        grown = size + len(MERGE_SEPARATOR) + len(row.text)
        if grown > MESSAGE_LIMIT or len(data) + len(new) > MAX_MERGED_BUTTONS:
            continue
        batch.append(row)
        size, data = grown, data | new
    return batch


def merged_text(rows: list[OutboxMessage]) -> str:
    return MERGE_SEPARATOR.join(row.text for row in rows)


def merged_buttons(rows: list[OutboxMessage]) -> Buttons | None:
    """The buttons of every row, each once; several rows: their longer labels (which say what
    each button is for, e.g. "签到 #12")."""
    if len(rows) == 1:
        return rows[0].buttons
    seen: set[str] = set()
    result: Buttons = []
    for row in rows:
        for line in row.buttons or []:
            kept = []
            for b in line:
                if b["data"] not in seen:
                    seen.add(b["data"])
                    kept.append({"text": b.get("merged") or b["text"], "data": b["data"]})
            if kept:
                result.append(kept)
    return result or None


def backoff(attempts: int) -> dt.timedelta:
    """2, 4, 8 … seconds, at most five minutes."""
    return dt.timedelta(seconds=min(2 ** (attempts + 1), 300))


class OutboxDispatcher:
    """One background loop; several sends in flight; one at a time per chat."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        *,
        concurrency: int = 12,
        private_interval: float = 1.0,
        poll: float = 1.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._bot, self._db = bot, db
        self._slots = asyncio.Semaphore(concurrency)
        self._private_interval = private_interval
        self._poll = poll
        self._clock = clock
        self.hooks: dict[str, OutboxHooks] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[Any]] = set()
        self._in_flight_rows: set[int] = set()
        self._in_flight_chats: set[int] = set()
        self._last_private: dict[int, float] = {}
        self._outage = False
        self._quiet_hours: QuietHours | None = None
        self._quiet_zone = ZoneInfo("UTC")
        self._now = clock  # the bot's clock: quiet hours and planned times (`not_before`)
        self._holding = False
        # Set by the composition root: move a chat that Telegram says was upgraded.
        self.on_migrated: Migrated = _nothing_to_migrate
        # Messages made when they are sent (a report, a ledger), by purpose.
        self.renderers: dict[str, Callable[[OutboxMessage], Awaitable[Message]]] = {}

    def set_quiet_hours(
        self, window: QuietHours | None, zone: ZoneInfo, clock: Callable[[], dt.datetime]
    ) -> None:
        """Hold automatic private messages during `window` (local to `zone`, judged by
        `clock`, the clock the rest of the bot reads, which also says when a planned message
        is due); None: hold nothing."""
        self._quiet_hours, self._quiet_zone, self._now = window, zone, clock

    def quiet_until(self) -> dt.datetime | None:
        """When the quiet window we are in ends (UTC); None outside it or without one."""
        return quiet.quiet_until(self._quiet_hours, self._now(), self._quiet_zone)

    def _until_window_ends(self) -> float | None:
        """Seconds until the quiet window ends (None outside it); logs when holding changes."""
        until = self.quiet_until()
        holding = until is not None
        if holding != self._holding:
            self._holding = holding
            if until is not None:
                log.info("outbox: quiet hours until %s; holding automatic private messages", until)
            else:
                log.info("outbox: quiet hours over; sending what was held")
        if until is None:
            return None
        return max((until - self._now()).total_seconds(), 0.0)

    def wake(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stop taking rows; let sends in flight finish (bounded) so they are marked."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        if self._sends:
            await asyncio.wait(self._sends, timeout=10)

    async def drain(self, seconds: float = 60.0) -> None:
        """Wait until nothing is pending and due (for tests and benchmarks)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            hold = self.quiet_until() is not None
            async with self._db.session() as session:
                rows = await self._due(session, 1, set(), hold, GATHER)
            if not rows and not self._sends:
                return
            self.wake()
            await asyncio.sleep(0.05)
        raise TimeoutError("the outbox did not drain")

    async def _run(self) -> None:
        while True:
            try:
                picked = await self._pick()
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("outbox: could not read pending messages")
                elif not self._outage:
                    log.warning("outbox: database unavailable (%s); waiting", type(exc).__name__)
                self._outage = True
                picked = []
            else:
                if self._outage:
                    log.info("outbox: database back; sending again")
                self._outage = False
            for batch in picked:
                row = batch[0]
                await self._slots.acquire()
                self._in_flight_rows.update(r.id for r in batch)
                self._in_flight_chats.add(row.chat_id)
                task = asyncio.create_task(self._send(batch))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
            if picked:
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            # Held rows are not due: sleep as usual, but not past the end of the window.
            wait = min(self._poll, self._until_window_ends() or self._poll)
            with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _due(
        self,
        session: AsyncSession,
        limit: int,
        skip: set[int],
        hold: bool,
        ahead: dt.timedelta = dt.timedelta(0),
    ) -> list[OutboxMessage]:
        return await outbox_db.due(
            session, self._now(), limit, skip, hold_quiet=hold, transport_now=self._clock() + ahead
        )

    async def _pick(self) -> list[list[OutboxMessage]]:
        """Due rows, at most one message per chat (a group's reminders merged into one),
        skipping chats busy or written to a moment ago."""
        now = time.monotonic()
        recent = {c for c, t in self._last_private.items() if now - t < self._private_interval}
        if len(self._last_private) > 10_000:
            self._last_private = {c: t for c, t in self._last_private.items() if c in recent}
        skip = self._in_flight_chats | recent
        hold = self.quiet_until() is not None
        picked: list[list[OutboxMessage]] = []
        async with self._db.session() as session:
            rows = await self._due(session, 200, skip, hold)
            chats: set[int] = set()
            for row in rows:
                if row.id not in self._in_flight_rows and row.chat_id not in chats:
                    chats.add(row.chat_id)
                    picked.append([row])
            for batch in picked:
                if mergeable(batch[0]) and batch[0].purpose not in self.renderers:
                    others = await outbox_db.merge_candidates(
                        session, batch[0], self._now(), self._clock() + GATHER, self._in_flight_rows
                    )
                    batch[1:] = merge(batch[0], others)[1:]
        return picked

    async def _deliver(self, rows: list[OutboxMessage]) -> Message:
        row = rows[0]
        renderer = self.renderers.get(row.purpose or "")
        if renderer is not None:
            return await renderer(row)
        if len(rows) > 1:
            text, buttons = merged_text(rows), merged_buttons(rows)
            return await self._bot.send_message(
                row.chat_id, text, reply_markup=markup(buttons), message_thread_id=row.thread_id
            )
        reply_markup = markup(row.buttons)
        thread = row.thread_id  # a forum topic of the chat (a unit bound to a topic)
        if row.media_kind == "photo" and row.media_file_id:
            return await self._bot.send_photo(
                row.chat_id,
                row.media_file_id,
                caption=row.text,
                reply_markup=reply_markup,
                message_thread_id=thread,
            )
        if row.media_kind == "document" and row.media_file_id:
            return await self._bot.send_document(
                row.chat_id,
                row.media_file_id,
                caption=row.text,
                reply_markup=reply_markup,
                message_thread_id=thread,
            )
        return await self._bot.send_message(
            row.chat_id, row.text, reply_markup=reply_markup, message_thread_id=thread
        )

    async def _send(self, rows: list[OutboxMessage]) -> None:
        """One message: one row, or a group's reminders merged (all marked alike)."""
        row = rows[0]
        try:
            try:
                message = await self._deliver(rows)
            except ChatMigrated as exc:
                # The row moves with the chat (in the migration's transaction) and goes again.
                await self.on_migrated(row.chat_id, exc.new_chat_id)
                self.wake()
            except RetryAfter as exc:
                delay = exc.retry_after
                seconds = delay.total_seconds() if isinstance(delay, dt.timedelta) else delay
                await self._retry(
                    rows, f"429 retry after {seconds}s", dt.timedelta(seconds=seconds)
                )
            except Forbidden as exc:
                await self._give_up(rows, "undeliverable", exc.message)
            except BadRequest as exc:
                undeliverable = any(r in exc.message.lower() for r in UNDELIVERABLE_REASONS)
                await self._give_up(
                    rows, "undeliverable" if undeliverable else "failed", exc.message
                )
            except NetworkError as exc:  # timeouts, connection errors and 5xx
                await self._retry(rows, str(exc), backoff(row.attempts))
            except TelegramError as exc:
                await self._give_up(rows, "failed", str(exc))
            else:
                await self._sent(rows, message)
        except Exception as exc:
            if not unavailable(exc):
                log.exception("outbox: row %s (%s) could not be processed", row.id, row.key)
            else:  # the row stays as it was: pending rows are picked again later
                log.warning("outbox: %s not recorded (%s)", row.key, type(exc).__name__)
        finally:
            if row.chat_id > 0:
                self._last_private[row.chat_id] = time.monotonic()
            self._in_flight_rows.difference_update(r.id for r in rows)
            self._in_flight_chats.discard(row.chat_id)
            self._slots.release()

    async def _sent(self, rows: list[OutboxMessage], message: Message) -> None:
        row = rows[0]
        hooks = self.hooks.get(row.purpose or "")

        async def mark(session: AsyncSession) -> None:
            now = utcnow()
            for each in rows:
                await outbox_db.mark_sent(session, each.id, message.message_id, now)
            if row.chat_id < 0:
                await chats_db.record_sent(session, row.chat_id, now)
            if hooks is not None:
                for each in rows:
                    await hooks.sent(session, each, message.message_id)

        # Sent: unless this is written, the row would be sent again once the database is back.
        await self._db.retrying(f"outbox: marking {row.key} sent", mark, patience=MARK_PATIENCE)
        if row.pin:
            try:
                await self._bot.pin_chat_message(
                    row.chat_id, message.message_id, disable_notification=False
                )
            except TelegramError as exc:
                log.info("outbox: could not pin %s: %s", row.key, exc)
                if hooks is not None:
                    error = str(exc)
                    await self._db.retrying(
                        f"outbox: {row.key} pin failed",
                        lambda session: hooks.pin_failed(session, row, error),
                    )
                    self.wake()

    async def _retry(self, rows: list[OutboxMessage], error: str, delay: dt.timedelta) -> None:
        """Every row of the message waits `delay` (a 429's retry_after pauses them all)."""
        row = rows[0]
        at = self._clock() + delay

        async def mark(session: AsyncSession) -> list[OutboxMessage]:
            failed = []
            for each in rows:
                if not await outbox_db.mark_retry(session, each, error, at):
                    failed.append(each)
            return failed

        failed = await self._db.retrying(f"outbox: {row.key} to retry", mark)
        retried = not failed
        hooks = self.hooks.get(row.purpose or "")
        if failed and hooks is not None:

            async def tell(session: AsyncSession) -> None:
                for each in failed:
                    await hooks.not_delivered(session, each, error)

            await self._db.retrying(f"outbox: {row.key} failed", tell)
        log.log(
            logging.INFO if retried else logging.WARNING,
            "outbox: %s %s: %s",
            row.key,
            f"retry in {delay.total_seconds():.0f}s" if retried else "failed after retries",
            error,
        )

    async def _give_up(self, rows: list[OutboxMessage], status: str, error: str) -> None:
        """`undeliverable` (blocked, never started, no such chat) or `failed`: never sent."""
        row = rows[0]
        log.log(
            logging.INFO if status == "undeliverable" else logging.WARNING,
            "outbox: %s %s: %s",
            row.key,
            status,
            error,
        )
        hooks = self.hooks.get(row.purpose or "")

        async def mark(session: AsyncSession) -> None:
            for each in rows:
                await outbox_db.mark_final(session, each.id, status, error)
            if status == "undeliverable" and row.chat_id > 0:
                await members_db.set_can_dm(session, row.chat_id, False)
            if hooks is not None:
                for each in rows:
                    await hooks.not_delivered(session, each, error)

        await self._db.retrying(f"outbox: marking {row.key} {status}", mark)
        self.wake()
