"""/lang: a person's language (private chat) or a group's (a committee member, in the group).

A person's language starts as their Telegram app's (English for en*, else Chinese) and is
theirs to change; it is used for everything only they read. A group's language is used for
everything posted there (cards, notices, reminders) and only the committee changes it.
"""

from __future__ import annotations

from telegram.ext import CommandHandler

from db import chats as chats_db
from db import rules
from db.errors import Refusal
from handlers.context import Ctx, Handlers
from handlers.menus import refresh_menu
from handlers.runner import handler
from render.texts import speaking, t


def _name(language: str) -> str:
    return t(f"lang_name_{language}")


@handler(anyone=True)
async def lang(ctx: Ctx) -> None:
    if not ctx.args:
        chat = ctx.update.effective_chat
        current = ctx.language
        if chat is not None and not ctx.in_private:  # asked in a group: the group's
            current = await chats_db.language(ctx.session, chat.id)
        ctx.reply(t("lang_usage", current=_name(current)))
        return
    word = " ".join(ctx.args)
    chosen = rules.parse_language(word)
    if chosen is None:
        raise Refusal("lang_unknown", word=rules.make_storable(word)[:20])
    if ctx.in_private:
        ctx.member.lang = chosen
        member, bot = ctx.member, ctx.context.bot
        user = ctx.update.effective_user
        app_language = rules.language_of(user.language_code if user else None)
        ctx.after_commit(
            lambda: refresh_menu(
                bot,
                member.telegram_id,
                committee=ctx.is_admin,
                language=chosen,
                telegram_language=app_language,
            )
        )
    else:
        if not ctx.is_admin:  # checked here, every time: members may ask, not change
            raise Refusal("not_admin")
        chat = ctx.update.effective_chat
        assert chat is not None
        if not await chats_db.set_language(ctx.session, chat.id, chosen):
            raise Refusal("lang_group_unbound")
    ctx.language = chosen  # the answer is already in the new language
    with speaking(chosen):  # in a group: said to the group, whose language it is
        ctx.reply(t("lang_set_person" if ctx.in_private else "lang_set_group"), public=True)


def handlers() -> Handlers:
    return [CommandHandler("lang", lang)]
