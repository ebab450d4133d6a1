"""Registration and who belongs, units, committee roles, unit leads and the member list."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler

from db import chats as chats_db
from db import members as members_db
from db import units as units_db
from db.errors import Refusal
from db.models import Member
from handlers import onboarding
from handlers.context import Ctx, Handlers
from handlers.delivery import replace_everywhere
from handlers.menus import dashboard_button, refresh_menu
from handlers.people import target_member
from handlers.runner import handler
from render.texts import PerLanguage, listing, paginate, person_name, t, unjoined
from scheduler import joins as joins_sched

DECISION = re.compile(joins_sched.BUTTON)


@handler(admin=True, where="private")
async def on_decision(ctx: Ctx) -> None:
    """批准 / 驳回 (确认 / 拒绝) of a membership request, by the committee. The first decision
    counts; every committee member's message then says who decided, and the person is told."""
    match = ctx.button(DECISION)
    decision = await members_db.decide(
        ctx.session, int(match[2]), match[1] == "ok", ctx.member, ctx.services.now()
    )
    request, admins = decision.request, ctx.services.settings.admin_ids
    person = request.member
    if decision.won:
        await joins_sched.tell_requester(ctx.session, request)
        for made in decision.made:
            await joins_sched.ask_committee(ctx.session, made, admins)
        ctx.wake_outbox()
        ctx.toast(t(f"join_decision_{request.kind}_{request.status}"))
        if request.kind == "link" and request.status == "approved":
            committee = members_db.is_admin(person, admins)
            ctx.after_commit(
                lambda: refresh_menu(
                    ctx.context.bot, person.telegram_id, committee=committee, language=person.lang
                )
            )
    elif request.decider is None:  # withdrawn by the person (/cancel)
        ctx.toast(t("join_request_withdrawn"), alert=True)
    else:
        ctx.toast(
            t(
                "approval_decided_before",
                decider=person_name(request.decider),
                decision=t(f"join_decision_{request.kind}_{request.status}"),
            ),
            alert=True,
        )
    zone = ctx.services.settings.timezone
    await replace_everywhere(
        ctx,
        joins_sched.PURPOSE,
        request.id,
        PerLanguage(lambda: joins_sched.decided_text(request, zone)),
    )


@handler(admin=True)
async def member(ctx: Ctx) -> None:
    """/member remove @x|ID: 已离开 by the committee's hand (out of every future audience, the
    past kept); /member restore @x|ID undoes it (and a departure from the groups)."""
    match ctx.args:
        case ["remove", *refs]:
            person = await target_member(ctx, refs)
            if members_db.is_admin(person, ctx.services.settings.admin_ids):
                raise Refusal("member_remove_committee", name=person_name(person))
            if not person.on_roster:
                raise Refusal("member_not_on_roster", name=person_name(person))
            changed = members_db.mark_left(person, ctx.services.now(), "removed")
            ctx.reply(
                t(
                    "member_removed" if changed else "member_already_removed",
                    name=person_name(person),
                )
            )
        case ["restore", *refs]:
            person = await target_member(ctx, refs)
            changed = members_db.restore(person)
            ctx.reply(
                t("member_restored" if changed else "member_not_removed", name=person_name(person))
            )
        case _:
            raise Refusal("member_usage")


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
        case ["add", *words] if words:
            added, existing = await units_db.add_units(ctx.session, " ".join(words))
            lines = [t("unit_added", names=listing(added))] if added else []
            if existing:
                lines.append(t("unit_exists", name=listing(existing)))
            if added:
                lines.append((await onboarding.next_step(ctx)).strip() or t("unit_added_next"))
            ctx.reply("\n".join(lines))
        case ["del" | "delete" | "remove", *words] if words:
            name = await units_db.delete_unit(ctx.session, " ".join(words))
            ctx.reply(t("unit_deleted", name=name))
        case ["merge", old, new]:
            old_name, kept, moved = await units_db.merge_units(ctx.session, old, new)
            ctx.reply(t("unit_merged", old=old_name, new=kept.name, count=moved))
        case ["rename", old, new]:
            old_name = (await members_db.unit_by_name(ctx.session, old)).name
            renamed = await members_db.rename_unit(ctx.session, old, new)
            ctx.reply(t("unit_renamed", old=old_name, new=renamed.name))
        case _:
            raise Refusal("unit_usage")


def _held(member: Member) -> str:
    """An imported person not linked yet holds a right until the committee links them."""
    return t("right_held") if member.telegram_id is None else ""


@handler(admin=True)
async def promote(ctx: Ctx) -> None:
    member = await target_member(ctx, ctx.args)
    changed = await members_db.set_role(ctx.session, member, "admin")
    ctx.reply(
        t("promoted" if changed else "already_admin", name=person_name(member)) + _held(member)
    )
    if changed:
        ctx.after_commit(
            lambda: refresh_menu(
                ctx.context.bot, member.telegram_id, committee=True, language=member.lang
            )
        )
        _dashboard_button(ctx, member, on=True)


@handler(admin=True)
async def demote(ctx: Ctx) -> None:
    member = await target_member(ctx, ctx.args)
    if member.telegram_id in ctx.services.settings.admin_ids:
        raise Refusal("bootstrap_admin", name=person_name(member))
    if not await members_db.set_role(ctx.session, member, "member"):
        raise Refusal("not_promoted", name=person_name(member))
    ctx.reply(t("demoted", name=person_name(member)))
    ctx.after_commit(
        lambda: refresh_menu(
            ctx.context.bot, member.telegram_id, committee=False, language=member.lang
        )
    )
    _dashboard_button(ctx, member, on=member.lead_unit_id is not None)


@handler(admin=True)
async def lead(ctx: Ctx) -> None:
    if not ctx.args:
        raise Refusal("lead_usage")
    which, refs = ctx.args[0], ctx.args[1:]
    unit = None if which.lower() == "off" else await members_db.unit_by_name(ctx.session, which)
    member = await target_member(ctx, refs)
    await members_db.set_lead(ctx.session, member, unit)
    if unit is None:
        ctx.reply(t("lead_cleared", name=person_name(member)))
    else:
        ctx.reply(t("lead_set", name=person_name(member), unit=unit.name) + _held(member))
    admins = ctx.services.settings.admin_ids
    _dashboard_button(ctx, member, on=unit is not None or members_db.is_admin(member, admins))


def _dashboard_button(ctx: Ctx, member: Member, *, on: bool) -> None:
    """The dashboard in the person's chat menu while they are committee or a unit's lead."""
    bot, url, telegram_id, language = (
        ctx.context.bot,
        ctx.services.settings.webapp_url,
        member.telegram_id,
        member.lang,
    )
    ctx.after_commit(lambda: dashboard_button(bot, telegram_id, url, on, language))


def _state(member: Member) -> str:
    """已离开, or 未登记 (imported, not yet in touch with the bot), or nothing."""
    if member.left_at is not None:
        return t("members_left")
    return unjoined(member)


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
                name=person_name(m),
                username=f" @{m.username}" if m.username else "",
                id=t("members_id", id=m.telegram_id) if m.telegram_id is not None else "",
                state=_state(m),
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
        CommandHandler("units", units),
        CommandHandler("unit", unit),
        CommandHandler("promote", promote),
        CommandHandler("demote", demote),
        CommandHandler("lead", lead),
        CommandHandler("members", members),
        CommandHandler("member", member),
        CallbackQueryHandler(on_decision, pattern=r"^jr:"),
    ]
