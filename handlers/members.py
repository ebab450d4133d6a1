"""Registration, units, committee roles, unit leads and the member list."""

from __future__ import annotations

from telegram.ext import CommandHandler

from bot.texts import paginate, t
from db import chats as chats_db
from db import members as members_db
from db.errors import Refusal
from db.models import Member
from handlers.common import Ctx, Handlers, handler
from handlers.menus import refresh_menu


@handler()
async def register(ctx: Ctx) -> None:
    if len(ctx.args) < 2:
        raise Refusal("register_usage")
    # The unit is the last word; the name may contain spaces (e.g. minority names).
    real_name, unit_name = " ".join(ctx.args[:-1]), ctx.args[-1]
    unit = await members_db.register(
        ctx.session, ctx.member, real_name, unit_name, ctx.services.now()
    )
    ctx.reply(t("register_ok", real_name=ctx.member.real_name, unit=unit.name))


@handler()
async def units(ctx: Ctx) -> None:
    grouped = await members_db.roster_by_unit(ctx.session)
    chats = {c.unit_id for c in await chats_db.unit_chats(ctx.session)}
    if not grouped:
        ctx.reply(t("units_none"))
        return
    lines = [
        t(
            "units_line",
            index=i,
            name=unit.name,
            members=len(people),
            chat=t("units_chat_mark") if unit.id in chats else "",
        )
        for i, (unit, people) in enumerate(grouped, 1)
    ]
    for page in paginate(lambda _p, _n: t("units_header", count=len(grouped)), lines):
        ctx.reply(page)


@handler(admin=True)
async def unit(ctx: Ctx) -> None:
    match ctx.args:
        case ["add", *name] if name:
            added = await members_db.add_unit(ctx.session, " ".join(name))
            ctx.reply(t("unit_added", name=added.name))
        case ["rename", old, new]:
            old_name = (await members_db.unit_by_name(ctx.session, old)).name
            renamed = await members_db.rename_unit(ctx.session, old, new)
            ctx.reply(t("unit_renamed", old=old_name, new=renamed.name))
        case _:
            raise Refusal("unit_usage")


async def target_member(ctx: Ctx, refs: list[str]) -> Member:
    """The person an admin command is about: the replied-to message's author, or a ref."""
    message = ctx.message
    replied = message.reply_to_message if message else None
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        user = replied.from_user
        return await members_db.touch_member(
            ctx.session,
            members_db.TelegramUser(user.id, user.first_name, user.last_name, user.username),
        )
    if len(refs) != 1:
        raise Refusal("target_usage")
    return await members_db.find_member(ctx.session, refs[0])


@handler(admin=True)
async def promote(ctx: Ctx) -> None:
    member = await target_member(ctx, ctx.args)
    changed = await members_db.set_role(ctx.session, member, "admin")
    ctx.reply(t("promoted" if changed else "already_admin", name=member.display_name))
    if changed:
        ctx.after_commit(
            lambda: refresh_menu(
                ctx.context.bot, member.telegram_id, committee=True, language=member.lang
            )
        )


@handler(admin=True)
async def demote(ctx: Ctx) -> None:
    member = await target_member(ctx, ctx.args)
    if member.telegram_id in ctx.services.settings.admin_ids:
        raise Refusal("bootstrap_admin", name=member.display_name)
    if not await members_db.set_role(ctx.session, member, "member"):
        raise Refusal("not_promoted", name=member.display_name)
    ctx.reply(t("demoted", name=member.display_name))
    ctx.after_commit(
        lambda: refresh_menu(
            ctx.context.bot, member.telegram_id, committee=False, language=member.lang
        )
    )


@handler(admin=True)
async def lead(ctx: Ctx) -> None:
    if not ctx.args:
        raise Refusal("lead_usage")
    which, refs = ctx.args[0], ctx.args[1:]
    unit = None if which.lower() == "off" else await members_db.unit_by_name(ctx.session, which)
    member = await target_member(ctx, refs)
    await members_db.set_lead(ctx.session, member, unit)
    if unit is None:
        ctx.reply(t("lead_cleared", name=member.display_name))
    else:
        ctx.reply(t("lead_set", name=member.display_name, unit=unit.name))


@handler(admin=True, where="private")
async def members(ctx: Ctx) -> None:
    grouped = await members_db.roster_by_unit(ctx.session)
    total = sum(len(people) for _, people in grouped)
    if total == 0:
        ctx.reply(t("members_none"))
        return
    lines: list[str] = []
    for unit_, people in grouped:
        if not people:
            continue
        lines.append(t("members_unit", unit=unit_.name, count=len(people)))
        lines.extend(
            t(
                "members_line",
                name=m.display_name,
                username=f" @{m.username}" if m.username else "",
                state="" if m.registered_at else t("members_unregistered"),
            )
            for m in people
        )
    registered = sum(1 for _, people in grouped for m in people if m.registered_at)

    def header(page: int, pages: int) -> str:
        return t("members_header", count=total, registered=registered, page=page, pages=pages)

    for page in paginate(header, lines):
        ctx.reply(page)


def handlers() -> Handlers:
    return [
        CommandHandler("register", register),
        CommandHandler("units", units),
        CommandHandler("unit", unit),
        CommandHandler("promote", promote),
        CommandHandler("demote", demote),
        CommandHandler("lead", lead),
        CommandHandler("members", members),
    ]
