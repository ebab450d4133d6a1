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
import logging

from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import qr as qr_picture
from bot.services import Services
from bot.texts import t
from db import qr as qr_db
from db.errors import unavailable
from db.qr import Action, Step

log = logging.getLogger(__name__)

TICK = 1.0  # seconds between looks; a code stays valid a whole period after the next one


class QrRotation:
    """One background loop on the leader; `step` may also be called directly (tests)."""

    def __init__(self, bot: Bot, services: Services, tick: float = TICK) -> None:
        self._bot, self._services, self._tick = bot, services, tick
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="qr-rotation")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("QR rotation failed")
                else:
                    log.warning("QR rotation: database unavailable (%s)", type(exc).__name__)
            await asyncio.sleep(self._tick)

    async def step(self) -> int:
        """Bring every open display up to date; how many were changed."""
        async with self._lock:
            services = self._services
            settings = services.settings
            async with services.db.session() as session:
                steps = await qr_db.due(
                    session, services.now(), services.policy, settings.qr_rotate_seconds
                )
                await session.commit()  # the secret may have been created
            if not steps:
                return 0
            done = await asyncio.gather(*(self._apply(s) for s in steps))
            return sum(done)

    async def _apply(self, step: Step) -> bool:
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
