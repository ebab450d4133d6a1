"""Registering: `/register 姓名 单位` at once, or guided — the units as buttons, then the name
(nobody has to guess how a unit is spelt) — and, for someone the committee imported under
their username, one button: `是我：王涛（办公室）`.

The guided step is a conversation row (kind `register`), so any instance takes the name.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler

from db import conversations as conversations_db
from db import members as members_db
from db.conversations import Waiting
from db.errors import Refusal
from db.members import Registered
from db.models import Unit
from handlers.context import Ctx, Handlers, private_button
from handlers.membership import in_bound_group
from handlers.runner import handler
from render.texts import t
from scheduler import joins as joins_sched

REGISTERED = {
    Registered.JOINED: "register_ok",
    Registered.UPDATED: "register_ok",
    Registered.REQUESTED: "register_requested",
    Registered.UNIT_REQUESTED: "register_unit_requested",
}
NAME = "register"  # the conversation waiting for the name, the unit chosen
ANYONE = frozenset({NAME})  # open to people who are not the organisation's yet
UNIT_BUTTON = re.compile(r"^reg:u:([0-9]{1,9})$")
ME_BUTTON = re.compile(r"^reg:(me|other)$")
UNITS_PER_ROW = 2


@handler(anyone=True)
async def register(ctx: Ctx) -> None:
    """/register 姓名 单位: at once for someone in one of the organisation's groups (Telegram
    is asked) or already on its roster; anyone else's goes to the committee. Without
    arguments: guided, privately."""
    if not ctx.args:
        if not ctx.in_private:
            ctx.reply(t("register_go_private"), markup=private_button(ctx, "register"))
            return
        await offer(ctx)
        return
    if len(ctx.args) < 2:
        raise Refusal("register_usage")
    # The unit is the last word; the name may contain spaces (e.g. minority names).
    await complete(ctx, " ".join(ctx.args[:-1]), ctx.args[-1])


async def complete(ctx: Ctx, real_name: str, unit_name: str) -> None:
    member = ctx.member
    in_group = not member.active and await in_bound_group(ctx, member.chat_id)
    done = await members_db.register(
        ctx.session, member, real_name, unit_name, ctx.services.now(), in_group=in_group
    )
    asked = 0
    for request in done.requests:
        asked += await joins_sched.ask_committee(
            ctx.session, request, ctx.services.settings.admin_ids
        )
    if done.requests:
        ctx.wake_outbox()
    text = t(REGISTERED[done.outcome], real_name=done.name, unit=done.unit.name)
    if any(r.kind == "link" for r in done.requests):
        text += t("register_link_asked")
    if done.requests and not asked:
        text += t("approval_nobody")
    ctx.reply(text)


async def offer(ctx: Ctx) -> None:
    """The next step of registering, privately: "is it you?" for an imported person, else
    the units to choose from."""
    text, markup = await invitation(ctx)
    ctx.reply(text, markup=markup)


async def invitation(ctx: Ctx) -> tuple[str, InlineKeyboardMarkup | None]:
    """What asks this person to register, and its buttons."""
    member = ctx.member
    if members_db.unconfirmed_import(member):
        assert member.unit is not None and member.real_name is not None
        who = t("register_me", name=member.real_name, unit=member.unit.name)
        return t("register_is_it_you", name=member.real_name, unit=member.unit.name), (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(who, callback_data="reg:me")],
                    [InlineKeyboardButton(t("register_not_me"), callback_data="reg:other")],
                ]
            )
        )
    units = await members_db.list_units(ctx.session)
    if not units:
        return t("register_no_units"), None
    return t("register_choose_unit"), _unit_buttons(units)


def _unit_buttons(units: list[Unit]) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(u.name, callback_data=f"reg:u:{u.id}") for u in units]
    rows = [buttons[i : i + UNITS_PER_ROW] for i in range(0, len(buttons), UNITS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


@handler(anyone=True, where="private")
async def on_unit(ctx: Ctx) -> None:
    """A unit chosen: its name is kept, and the person's name is asked."""
    unit = await members_db.unit_by_id(ctx.session, int(ctx.button(UNIT_BUTTON)[1]))
    await conversations_db.begin(
        ctx.session, ctx.member.id, NAME, ctx.services.now(), {"unit": unit.id}
    )
    ctx.toast(t("register_unit_chosen", unit=unit.name))
    ctx.settle_pressed(t("register_unit_chosen", unit=unit.name))
    ctx.reply(t("register_ask_name", unit=unit.name))


async def on_name(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """The name typed after choosing a unit."""
    unit = await members_db.unit_by_id(ctx.session, int(waiting.state["unit"]))
    await conversations_db.end(ctx.session, ctx.member.id, NAME)
    await complete(ctx, text, unit.name)


@handler(anyone=True, where="private")
async def on_me(ctx: Ctx) -> None:
    """是我: the imported record is this person; 不是我: choose a unit and give a name."""
    member = ctx.member
    if ctx.button(ME_BUTTON)[1] == "other":
        ctx.toast(t("register_not_me"))
        ctx.settle_pressed(t("register_not_me"))
        await offer(ctx)
        return
    if not members_db.unconfirmed_import(member):
        raise Refusal("button_invalid")
    assert member.unit is not None and member.real_name is not None
    who = t("register_me", name=member.real_name, unit=member.unit.name)
    ctx.settle_pressed(who)
    ctx.toast(who)
    await complete(ctx, member.real_name, member.unit.name)


STEPS = {NAME: on_name}


def handlers() -> Handlers:
    return [
        CommandHandler("register", register),
        CallbackQueryHandler(on_unit, pattern=r"^reg:u:"),
        CallbackQueryHandler(on_me, pattern=r"^reg:(me|other)"),
    ]
