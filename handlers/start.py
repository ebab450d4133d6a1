"""/start and /help."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import CommandHandler

from db import members as members_db
from db import rules
from handlers import onboarding
from handlers.context import Ctx, Handlers, private_button
from handlers.menus import refresh_menu
from handlers.registration import invitation
from handlers.runner import handler
from render.texts import person_name, t


def help_text(ctx: Ctx) -> str:
    """Help for what this person may do: outsiders, members, unit leads, the committee."""
    if not members_db.belongs(ctx.member, ctx.services.settings.admin_ids):
        return "\n".join([t("help_header"), t("help_outsider")])
    parts = [t("help_header"), t("help_member") + t("help_privacy")]
    if ctx.member.lead_unit is not None:
        parts.append(t("help_lead", unit=ctx.member.lead_unit.name))
    if ctx.is_admin:
        parts.append(t("help_admin"))
    return "\n".join(parts)


async def _where_they_stand(ctx: Ctx) -> tuple[str, InlineKeyboardMarkup | None]:
    """The committee's setup checklist while it is not done; else the person's registration
    (with the buttons that do it)."""
    member = ctx.member
    if ctx.is_admin and (steps := await onboarding.checklist(ctx)) is not None:
        return steps, None
    if members_db.unconfirmed_import(member):
        return await invitation(ctx)
    if member.active and member.real_name and member.unit is not None:
        return t(
            "register_hint_registered", real_name=member.real_name, unit=member.unit.name
        ), None
    if member.on_roster and member.left_at is not None:
        return t("member_left"), None
    if await members_db.waiting_request(ctx.session, member) is not None:
        return t("join_request_waiting"), None
    if ctx.is_admin:
        return "", None
    return await invitation(ctx)


@handler(anyone=True)
async def start(ctx: Ctx) -> None:
    if not ctx.in_private:
        ctx.reply(t("start_group"), markup=private_button(ctx))
        return
    # A private /start is Telegram's permission for the bot to write to this person.
    await members_db.set_can_dm(ctx.session, ctx.member.chat_id, True)
    member = ctx.member
    if ctx.args == ["help"]:  # the link under a group's short /help
        ctx.reply(help_text(ctx))
        return
    hint, markup = await _where_they_stand(ctx)
    if ctx.args == ["register"] and markup is not None:  # the link of a "register first"
        ctx.reply(hint, markup=markup)
    else:
        ctx.reply(t("start_private", name=person_name(member), register_hint=hint), markup=markup)
    # Their menu: the committee's commands, or the members' in a language their app's isn't.
    bot, user = ctx.context.bot, ctx.update.effective_user
    app_language = rules.language_of(user.language_code if user else None)
    committee = ctx.is_admin
    ctx.after_commit(
        lambda: refresh_menu(
            bot,
            member.telegram_id,
            committee=committee,
            language=member.lang,
            telegram_language=app_language,
        )
    )


@handler(anyone=True)
async def help_command(ctx: Ctx) -> None:
    """The whole list privately; in a group, for someone the bot cannot write to yet, five
    lines and the button that opens it privately."""
    if not ctx.in_private and not ctx.member.can_dm:
        ctx.reply(t("help_group"), markup=private_button(ctx, "help"))
        return
    ctx.reply(help_text(ctx))


def handlers() -> Handlers:
    return [CommandHandler("start", start), CommandHandler("help", help_command)]
