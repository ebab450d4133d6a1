"""Rotating QR check-in: /qr shows the code, scanning it (a deep link) or typing its digits
checks in. The leader replaces the photo every period (scheduler.qr_rotation)."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from db import activities as activities_db
from db import qr as qr_db
from db.attendance import CheckinResult
from db.errors import Refusal
from db.rules import parse_id
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render import qr as qr_picture
from render.activities import checkin_text
from render.texts import t
from scheduler.activity_cards import CARD

log = logging.getLogger(__name__)

# `/start qr_…` from a scanned code; anything after `qr_` that is not a whole token is refused.
SCAN_LINK = re.compile(r"^/start(?:@\w+)?\s+(qr_\S*)\s*$")


@handler(where="private")
async def show(ctx: Ctx) -> None:
    """/qr 编号: the committee, or the activity's unit lead, shows the rotating code."""
    if len(ctx.args) != 1:
        raise Refusal("qr_usage")
    settings, chat = ctx.services.settings, ctx.update.effective_chat
    assert chat is not None
    chat_id, services, bot = chat.id, ctx.services, ctx.context.bot
    opened = await qr_db.open_display(
        ctx.session,
        parse_id(ctx.args[0]),
        ctx.member,
        ctx.is_admin,
        chat_id,
        ctx.services.now(),
        ctx.services.policy,
        settings.qr_rotate_seconds,
        settings.timezone,
    )

    async def send() -> None:
        frame = opened.frame
        try:
            message = await bot.send_photo(
                chat_id,
                qr_picture.picture(bot.username, frame),
                caption=qr_picture.caption(frame, settings.timezone, settings.qr_rotate_seconds),
            )
        except TelegramError as exc:
            log.warning("QR display of #%s could not be sent: %s", frame.activity_id, exc)
            await services.db.retrying(
                "forgetting a QR display", lambda s: qr_db.forget(s, opened.display_id)
            )
            with contextlib.suppress(TelegramError):
                await bot.send_message(chat_id, t("qr_send_failed", id=frame.activity_id))
            return
        await services.db.retrying(
            "recording a QR display",
            lambda s: qr_db.shown(s, opened.display_id, message.message_id),
        )
        rotation = ctx.context.bot_data.get("qr_rotation")
        if rotation is not None:  # the leader's loop, if this instance leads
            rotation.wake()
        if opened.replaced_message_id is not None:  # the chat's earlier display goes
            try:
                await bot.delete_message(chat_id, opened.replaced_message_id)
            except TelegramError as exc:
                log.info("the replaced QR display could not be deleted: %s", exc)

    ctx.after_commit(send)


def _render(ctx: Ctx, outcome: CheckinResult | qr_db.Verdict, *, typed: bool) -> str:
    if isinstance(outcome, CheckinResult):
        if outcome.changed:
            ctx.touch_card(CARD, outcome.activity.id)
        return checkin_text(outcome, ctx.services.settings.timezone, ctx.services.policy)
    if outcome is qr_db.Verdict.EXPIRED:
        return t("qr_code_expired" if typed else "qr_expired")
    return t("qr_code_wrong" if typed else "qr_invalid")


@handler(where="private")
async def scan(ctx: Ctx) -> None:
    """/start qr_<id>_<period>_<token>: someone scanned a displayed code."""
    match = SCAN_LINK.match(ctx.message.text or "") if ctx.message else None
    found = qr_db.parse_payload(match[1]) if match else None
    if found is None:
        raise Refusal("qr_invalid")
    outcome = await qr_db.check_in(
        ctx.session,
        found.activity_id,
        ctx.member,
        ctx.services.now(),
        ctx.services.policy,
        ctx.services.settings.qr_rotate_seconds,
        scan=found,
    )
    ctx.reply(_render(ctx, outcome, typed=False))


async def code_check_in(ctx: Ctx, activity_id: int, code: str) -> str | None:
    """`/checkin 编号 代码` in a private chat: the answer if the activity is qr=on, else None
    (an ordinary code= check-in)."""
    activity = await activities_db.get_active(ctx.session, activity_id)
    if not activity.qr:
        return None
    outcome = await qr_db.check_in(
        ctx.session,
        activity_id,
        ctx.member,
        ctx.services.now(),
        ctx.services.policy,
        ctx.services.settings.qr_rotate_seconds,
        code=code.strip(),
    )
    return _render(ctx, outcome, typed=True)


def handlers() -> Handlers:
    return [
        # Before the plain /start: the deep links of scanned codes.
        CommandHandler("start", scan, filters.Regex(re.compile(r"^/start(?:@\w+)?\s+qr_"))),
        CommandHandler("qr", show),
    ]
