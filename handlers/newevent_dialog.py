"""/newevent without arguments: a short guided dialogue (kind → date/time → title → place)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.texts import t
from db import activities as activities_db
from db import rules
from db.errors import Refusal
from db.models import KINDS, Unit
from handlers.activities import announce, kind_name, newevent_usage_hint
from handlers.common import Ctx, Handlers, handler

STATE = "newevent"


def _state(ctx: Ctx) -> dict[str, Any] | None:
    data = ctx.context.user_data
    return data.get(STATE) if data is not None else None


async def _scope(ctx: Ctx) -> Unit | None:
    """Admins create for everyone; a lead creates for their own unit."""
    if ctx.is_admin:
        return None
    if ctx.member.lead_unit is not None:
        return ctx.member.lead_unit
    raise Refusal("not_admin_or_lead")


async def begin(ctx: Ctx) -> None:
    if not ctx.in_private:
        ctx.reply(newevent_usage_hint())
        return
    await _scope(ctx)
    assert ctx.context.user_data is not None
    ctx.context.user_data[STATE] = {"step": "kind"}
    buttons = [
        InlineKeyboardButton(kind_name(kind), callback_data=f"ne:k:{kind}") for kind in KINDS
    ]
    ctx.reply(t("ne_choose_kind"), markup=InlineKeyboardMarkup([buttons[:3], buttons[3:]]))


async def on_text(ctx: Ctx) -> bool:
    """The next answer of a running dialogue (plain private text); False if none runs."""
    state = _state(ctx)
    text = ctx.message.text if ctx.message else None
    if state is None or text is None:
        return False
    zone = ctx.services.settings.timezone
    match state["step"]:
        case "when":
            parts = text.split()
            if len(parts) != 2:
                raise Refusal("date_invalid", text=text[:20])
            today = rules.local_today(ctx.services.now(), zone)
            starts = rules.local_to_utc(
                rules.parse_date(parts[0], today), rules.parse_time(parts[1]), zone
            )
            if starts + rules.DEFAULT_DURATION <= ctx.services.now():
                raise Refusal("activity_in_past")
            state.update(step="title", starts=starts)
            ctx.reply(t("ne_ask_title"))
        case "title":
            state.update(
                step="place", title=rules.clean_text(text, rules.MAX_TITLE, "title_invalid")
            )
            skip = InlineKeyboardButton(t("ne_skip"), callback_data="ne:skip")
            ctx.reply(t("ne_ask_place"), markup=InlineKeyboardMarkup([[skip]]))
        case "place":
            state["place"] = rules.clean_text(text, rules.MAX_PLACE)
            await _confirm(ctx, state)
    return True


async def _confirm(ctx: Ctx, state: dict[str, Any]) -> None:
    state["step"] = "confirm"
    unit = await _scope(ctx)
    starts = state["starts"]
    zone = ctx.services.settings.timezone
    local = starts.astimezone(zone)
    end = (starts + rules.DEFAULT_DURATION).astimezone(zone)
    text = t(
        "ne_confirm",
        kind=kind_name(state["kind"]),
        title=state["title"],
        when=t(
            "when",
            date=local.strftime("%Y-%m-%d"),
            start=local.strftime("%H:%M"),
            end=end.strftime("%H:%M"),
        ),
        place=state.get("place") or t("place_none"),
        target=unit.name if unit else t("target_all"),
    )
    buttons = [
        InlineKeyboardButton(t("ne_ok"), callback_data="ne:ok"),
        InlineKeyboardButton(t("ne_no"), callback_data="ne:no"),
    ]
    ctx.reply(text, markup=InlineKeyboardMarkup([buttons]))


@handler(where="private")
async def on_button(ctx: Ctx) -> None:
    query = ctx.update.callback_query
    assert query is not None and ctx.context.user_data is not None
    state = _state(ctx)
    data = query.data or ""
    if state is None:
        raise Refusal("ne_stale")
    if state["step"] == "kind" and data.startswith("ne:k:") and data[5:] in KINDS:
        state.update(step="when", kind=data[5:])
        ctx.toast(kind_name(data[5:]))
        ctx.reply(t("ne_ask_when", kind=kind_name(data[5:])))
    elif state["step"] == "place" and data == "ne:skip":
        ctx.toast(t("ne_skip"))
        await _confirm(ctx, state)
    elif state["step"] == "confirm" and data == "ne:no":
        del ctx.context.user_data[STATE]
        ctx.toast(t("dialog_cancelled"))
        ctx.reply(t("dialog_cancelled"))
    elif state["step"] == "confirm" and data == "ne:ok":
        del ctx.context.user_data[STATE]
        spec = activities_db.ActivitySpec(
            kind=state["kind"],
            title=state["title"],
            starts_at=state["starts"],
            ends_at=state["starts"] + rules.DEFAULT_DURATION,
            place=state.get("place"),
            unit=await _scope(ctx),
        )
        activity = await activities_db.create(
            ctx.session, ctx.member, ctx.is_admin, spec, ctx.services.now()
        )
        ctx.toast(t("ne_ok"))
        await announce(ctx, activity)
    else:
        raise Refusal("ne_stale")


def handlers() -> Handlers:
    return [CallbackQueryHandler(on_button, pattern=r"^ne:")]
