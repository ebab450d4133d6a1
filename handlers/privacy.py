"""Personal information: /privacy says what is kept and why, /mydata gives it back, /forget
erases it (after a preview and 确认删除). Open to everyone: a stranger has a record too."""

from __future__ import annotations

import json
import logging
import re

from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from db import members as members_db
from db import outbox as outbox_db
from db import privacy as privacy_db
from db import volunteer as volunteer_db
from db.errors import Refusal
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.texts import t
from scheduler import promotions
from scheduler.activity_cards import CARD
from scheduler.outbox import markup

log = logging.getLogger(__name__)

BUTTON = re.compile(r"^fg:(ok|no):([0-9]{1,9})$")


@handler(anyone=True)
async def privacy(ctx: Ctx) -> None:
    ctx.reply(t("privacy_notice", days=ctx.services.settings.retention_days))


@handler(anyone=True, where="private")
async def mydata(ctx: Ctx) -> None:
    """Everything kept about the asker, as a JSON file, privately."""
    member = ctx.member
    data = await privacy_db.personal_data(ctx.session, member)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    day = ctx.services.now().astimezone(ctx.services.settings.timezone).date().isoformat()
    chat, bot, caption = member.chat_id, ctx.context.bot, t("mydata_caption")

    async def send() -> None:
        try:
            await bot.send_document(chat, content, filename=f"mydata-{day}.json", caption=caption)
        except TelegramError as exc:
            log.warning("personal data of member %s not sent: %s", member.id, exc)

    ctx.after_commit(send)


def _refuse_roles(ctx: Ctx) -> None:
    """Whoever holds a role answers for it: they give it up before erasing themselves."""
    member = ctx.member
    if members_db.is_admin(member, ctx.services.settings.admin_ids) or member.lead_unit_id:
        raise Refusal("forget_has_role")


@handler(anyone=True, where="private")
async def forget(ctx: Ctx) -> None:
    """The preview: what will be erased, what stays unnamed; then 确认删除 / 取消."""
    _refuse_roles(ctx)
    plan = await privacy_db.plan(ctx.session, ctx.member)
    mine = ctx.member.id  # a preview is only good for the record it previews
    buttons = [
        [
            outbox_db.button(t("button_forget_confirm"), f"fg:ok:{mine}"),
            outbox_db.button(t("button_cancel"), f"fg:no:{mine}"),
        ]
    ]
    ctx.reply(
        t(
            "forget_preview",
            reasons=plan.reasons,
            needs=plan.needs,
            messages=plan.messages,
            attendance=plan.kept_attendance,
            signups=plan.kept_signups,
            acks=plan.kept_acks,
            answers=plan.kept_answers,
            certificates=plan.certificates,
            reviews=plan.kept_reviews,
        ),
        markup=markup(buttons),
    )


@handler(anyone=True, where="private")
async def on_button(ctx: Ctx) -> None:
    match = ctx.button(BUTTON)
    if int(match[2]) != ctx.member.id:
        raise Refusal("button_invalid")  # an old preview, of a record already erased
    if match[1] == "no":
        ctx.toast(t("forget_cancelled"))
        ctx.settle_pressed(t("forget_cancelled"))
        return
    _refuse_roles(ctx)
    now = ctx.services.now()
    for activity_id in await privacy_db.future_signups(ctx.session, ctx.member, now):
        withdrawn = await volunteer_db.withdraw(ctx.session, activity_id, ctx.member, now)
        zone = ctx.services.settings.timezone
        if await promotions.notify(ctx.session, withdrawn.activity, withdrawn.promoted, zone):
            ctx.wake_outbox()
        ctx.touch_card(CARD, activity_id)
    done = await privacy_db.erase(ctx.session, ctx.member, now)
    log.info("member %s erased what was kept about them", ctx.member.id)
    text = t(
        "forget_done",
        attendance=done.kept_attendance,
        signups=done.kept_signups,
        acks=done.kept_acks,
        answers=done.kept_answers,
        certificates=done.certificates,
        reviews=done.kept_reviews,
    )
    ctx.toast(t("forget_done_toast"))
    ctx.settle_pressed(text)


def handlers() -> Handlers:
    return [
        CommandHandler("privacy", privacy),
        CommandHandler("mydata", mydata),
        CommandHandler("forget", forget),
        CallbackQueryHandler(on_button, pattern=r"^fg:"),
    ]
