"""The leader replaces every open check-in QR display when a new period begins.

Displays are rows (qr_displays), so whichever instance leads rotates them, after restarts too.
Each tick reads what the open displays need by the services' clock (tests move it and call
`step`): a new period's picture and code (editMessageMedia), or, once check-in has closed,
a caption saying so, after which the display is closed and left alone. An edit Telegram
refuses for good (the message was deleted, the person blocked the bot) closes the display;
a failure that may pass (network, 429) is tried again on the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, TelegramError

from db import chats as chats_db
from db import qr as qr_db
from db.errors import unavailable
from db.qr import Action, Step
from render import qr as qr_picture
from render.texts import speaking, t
from scheduler.services import Services

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between looks while displays are open


class QrRotation:
    """One background loop on the leader; `step` may also be called directly (tests).

    While no display is open it looks only once a rotation period (a display opened on
    another instance is found within the period its first code is valid for), or at once
    when `wake` says this instance opened one; while some are open, every `tick`.
    """

    def __init__(self, bot: Bot, services: Services, tick: float = TICK) -> None:
        self._bot, self._services, self._tick = bot, services, tick
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._active = True  # look at once when started: displays may be open already

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._active = True
            self._task = asyncio.create_task(self._run(), name="qr-rotation")

    def wake(self) -> None:
        """A display was just opened: start rotating without waiting for the idle look."""
        self._active = True
        self._wake.set()

    async def stop(self) -> None:
        """Let the loop finish its step (a cancel mid-query could strand a connection)."""
        if self._task is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            async with asyncio.timeout(10):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
                self._active = await self._any_open()
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("QR rotation failed")
                else:
                    log.warning("QR rotation: database unavailable (%s)", type(exc).__name__)
            idle = float(self._services.settings.qr_rotate_seconds)
            with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                async with asyncio.timeout(self._tick if self._active else idle):
                    await self._wake.wait()
            self._wake.clear()

    async def _any_open(self) -> bool:
        async with self._services.db.session() as session:
            return await qr_db.any_open(session)

    async def step(self) -> int:
        """Bring every open display up to date; how many were changed."""
        async with self._lock:
            services = self._services
            settings = services.settings
            async with services.db.session() as session:
                steps = await qr_db.due(
                    session, services.now(), services.policy, settings.qr_rotate_seconds
                )
                # A display is in a person's private chat: its caption speaks their language.
                languages = {s.chat_id: await chats_db.language(session, s.chat_id) for s in steps}
                await session.commit()  # the secret may have been created
            if not steps:
                return 0
            done = await asyncio.gather(*(self._apply(s, languages[s.chat_id]) for s in steps))
            return sum(done)

    async def _apply(self, step: Step, language: str) -> bool:
        with speaking(language):
            return await self._apply_in_language(step)

    async def _apply_in_language(self, step: Step) -> bool:
        settings = self._services.settings
        try:
            if step.action is Action.ROTATE:
                assert step.frame is not None
                media = InputMediaPhoto(
                    qr_picture.picture(self._bot.username, step.frame),
                    caption=qr_picture.caption(
                        step.frame, settings.timezone, settings.qr_rotate_seconds
                    ),
                )
                await self._bot.edit_message_media(
                    media, chat_id=step.chat_id, message_id=step.message_id
                )
            else:
                key = "qr_caption_ended" if step.action is Action.ENDED else "qr_caption_stopped"
                await self._bot.edit_message_caption(
                    step.chat_id,
                    step.message_id,
                    caption=t(key, id=step.activity_id, title=step.title),
                )
        except BadRequest as exc:
            if "not modified" not in exc.message:
                return await self._give_up(step, exc)
        except Forbidden as exc:
            return await self._give_up(step, exc)
        except TelegramError as exc:
            log.warning("QR display %s: %s; trying again", step.display_id, exc)
            return False
        record = qr_db.rotated if step.action is Action.ROTATE else qr_db.close
        await self._services.db.retrying("recording a QR display", lambda s: record(s, step))
        return True

    async def _give_up(self, step: Step, exc: TelegramError) -> bool:
        """The message cannot be edited any more: stop rotating it."""
        log.info("QR display %s closed: %s", step.display_id, exc)
        await self._services.db.retrying("closing a QR display", lambda s: qr_db.close(s, step))
        return False
