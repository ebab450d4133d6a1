"""/newevent without arguments, privately: a guided dialogue — kind, date and time, for a
study session the item of the study plan it carries out (the quarter's open ones as buttons),
title, place, options (leave needs approval, QR check-in, 签退 for volunteering, a series), then a
summary to confirm. Its state is a conversation of kind `newevent` (db.conversations), so any
instance takes the next step and a restart loses nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MaybeInaccessibleMessage
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from db import activities as activities_db
from db import conversations as conversations_db
from db import members as members_db
from db import plans as plans_db
from db import rules
from db.conversations import Waiting
from db.errors import Refusal
from db.models import KINDS, Activity, PlanItem, Unit
from handlers.activities import create_from, newevent_usage_hint
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.formats import kind_name, when
from render.texts import listing, t

NEWEVENT = "newevent"  # the conversation kind
BARE = re.compile(r"^/newevent(?:@\w+)?\s*$")  # the command without anything after it
REPEATS = (None, *rules.REPEATS)  # what 重复 cycles through
COUNTS = (2, 4, 8, 12, 26, 52)  # and 次数
SWITCHES = ("leave", "qr", "checkout")
PLAN_BUTTON = re.compile(r"^ne:p:(\d{1,9})$")


async def _scope(ctx: Ctx) -> Unit | None:
    """Admins create for everyone; a lead creates for their own unit."""
    if ctx.is_admin:
        return None
    if ctx.member.lead_unit is not None:
        return ctx.member.lead_unit
    raise Refusal("not_admin_or_lead")


async def _save(ctx: Ctx, state: dict[str, Any]) -> None:
    await conversations_db.begin(ctx.session, ctx.member.id, NEWEVENT, ctx.services.now(), state)


@handler()
async def begin(ctx: Ctx) -> None:
    """/newevent alone: the first step privately; in a group, how to do it."""
    if not ctx.in_private:
        ctx.reply(newevent_usage_hint())
        return
    await _scope(ctx)
    await _save(ctx, {"step": "kind"})
    buttons = [
        InlineKeyboardButton(kind_name(kind), callback_data=f"ne:k:{kind}") for kind in KINDS
    ]
    ctx.reply(t("ne_choose_kind"), markup=InlineKeyboardMarkup([buttons[:3], buttons[3:]]))


async def on_text(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """The dialogue's next typed answer: the date and time, the title, or the place."""
    state = waiting.state
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    match state.get("step"):
        case "when":
            parts = text.split()
            if len(parts) != 2:
                raise Refusal("date_invalid", text=text[:20])
            today = rules.local_today(now, zone)
            starts = rules.local_to_utc(
                rules.parse_date(parts[0], today), rules.parse_time(parts[1]), zone
            )
            if starts + rules.DEFAULT_DURATION <= now:
                raise Refusal("activity_in_past")
            await _plan_or_title(ctx, {**state, "starts": starts.isoformat()})
        case "title":
            await _title_chosen(
                ctx, state, rules.clean_text(text, rules.MAX_TITLE, "title_invalid")
            )
        case "place":
            place = rules.clean_text(text, rules.MAX_PLACE)
            await _options(ctx, {**state, "place": place})
        case _:  # a button is expected: say what the dialogue waits for
            raise Refusal("ne_press_a_button")


STEPS = {NEWEVENT: on_text}
PLAN_BUTTONS = 8  # the quarter's open plan items offered, at most


async def _plan_or_title(ctx: Ctx, state: dict[str, Any]) -> None:
    """A study session offers the open items of its quarter's study plan (one tap links it
    and proposes the topic as its title); otherwise, or with none open, the title is asked."""
    offered = await _open_items(ctx, state) if state["kind"] == "study" else []
    if not offered:
        await _ask_title(ctx, {**state, "step": "title"})
        return
    await _save(ctx, {**state, "step": "plan"})
    rows = [
        [
            InlineKeyboardButton(
                t("ne_plan_item", id=i.id, topic=i.topic), callback_data=f"ne:p:{i.id}"
            )
        ]
        for i in offered
    ]
    rows.append([InlineKeyboardButton(t("ne_plan_none"), callback_data="ne:p:0")])
    ctx.reply(t("ne_ask_plan"), markup=InlineKeyboardMarkup(rows))


async def _open_items(ctx: Ctx, state: dict[str, Any]) -> list[PlanItem]:
    """The items of the quarter the activity falls in that are still open for the units
    it would be for (a lead's own unit; every unit for the committee)."""
    starts = dt.datetime.fromisoformat(state["starts"])
    quarter = rules.quarter_of(starts.astimezone(ctx.services.settings.timezone).date())
    scope = await _scope(ctx)
    units = [scope] if scope is not None else await members_db.list_units(ctx.session)
    open_items = await plans_db.open_by_unit(ctx.session, quarter, units, ctx.services.now())
    found: dict[int, PlanItem] = {}
    for items in open_items.values():
        found.update((i.id, i) for i in items)
    return sorted(found.values(), key=lambda i: i.id)[:PLAN_BUTTONS]


async def _ask_title(ctx: Ctx, state: dict[str, Any]) -> None:
    """Ask for the title; with a plan item chosen, its topic is one tap away."""
    await _save(ctx, {**state, "step": "title"})
    topic = state.get("topic")
    if topic is None:
        ctx.reply(t("ne_ask_title"))
        return
    button = InlineKeyboardButton(t("ne_title_topic", topic=topic), callback_data="ne:tt")
    ctx.reply(t("ne_ask_title"), markup=InlineKeyboardMarkup([[button]]))


async def _title_chosen(ctx: Ctx, state: dict[str, Any], title: str) -> None:
    await _save(ctx, {**state, "step": "place", "title": title})
    skip = InlineKeyboardButton(t("ne_skip"), callback_data="ne:skip")
    ctx.reply(t("ne_ask_place"), markup=InlineKeyboardMarkup([[skip]]))


def _options_markup(state: dict[str, Any]) -> InlineKeyboardMarkup:
    """One button per option, each saying its current value in words."""
    rows = [
        [
            InlineKeyboardButton(
                _switch_label(name, bool(state.get(name))), callback_data=f"ne:o:{name}"
            )
        ]
        for name in SWITCHES
        if name != "checkout" or state.get("kind") == "volunteer"
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t("ne_opt_repeat", repeat=_repeat_name(state)), callback_data="ne:o:repeat"
            )
        ]
    )
    if state.get("repeat"):
        count = state.get("count", COUNTS[1])
        rows.append(
            [InlineKeyboardButton(t("ne_opt_count", count=count), callback_data="ne:o:count")]
        )
    rows.append([InlineKeyboardButton(t("ne_next"), callback_data="ne:next")])
    return InlineKeyboardMarkup(rows)


def _switch_label(name: str, on: bool) -> str:
    return t(f"ne_opt_{name}", value=t("yes" if on else "no"))


def _repeat_name(state: dict[str, Any]) -> str:
    repeat = state.get("repeat")
    return t(f"series_repeat_{repeat}") if repeat else t("ne_repeat_none")


async def _options(ctx: Ctx, state: dict[str, Any]) -> None:
    await _save(ctx, {**state, "step": "options"})
    ctx.reply(t("ne_options"), markup=_options_markup(state))


def _toggled(state: dict[str, Any], name: str) -> dict[str, Any]:
    """The state with option `name` moved on: a switch flips, 重复 and 次数 go round."""
    if name in SWITCHES:
        return {**state, name: not state.get(name)}
    if name == "repeat":
        nxt = REPEATS[(REPEATS.index(state.get("repeat")) + 1) % len(REPEATS)]
        return {**state, "repeat": nxt, "count": state.get("count", COUNTS[1])}
    current = state.get("count", COUNTS[1])
    index = COUNTS.index(current) if current in COUNTS else 0
    return {**state, "count": COUNTS[(index + 1) % len(COUNTS)]}


async def _spec(ctx: Ctx, state: dict[str, Any]) -> activities_db.ActivitySpec:
    starts = dt.datetime.fromisoformat(state["starts"])
    unit = await _scope(ctx)
    plan = None
    if state.get("plan"):  # still there, and still for this unit?
        zone = ctx.services.settings.timezone
        plan = await plans_db.linkable(
            ctx.session, str(state["plan"]), starts, unit.id if unit else None, zone
        )
    return activities_db.ActivitySpec(
        kind=state["kind"],
        title=state["title"],
        starts_at=starts,
        ends_at=starts + rules.DEFAULT_DURATION,
        place=state.get("place"),
        unit=unit,
        leave_mode="approve" if state.get("leave") else "free",
        qr=bool(state.get("qr")),
        checkout=bool(state.get("checkout")) and state["kind"] == "volunteer",
        repeat=state.get("repeat"),
        count=state.get("count", COUNTS[1]) if state.get("repeat") else None,
        plan_item_id=plan.id if plan else None,
    )


async def _confirm(ctx: Ctx, state: dict[str, Any]) -> None:
    await _save(ctx, {**state, "step": "confirm"})
    spec = await _spec(ctx, state)
    zone = ctx.services.settings.timezone
    shown = Activity(starts_at=spec.starts_at, ends_at=spec.ends_at)  # never stored
    chosen = [
        _switch_label(name, True)
        for name in SWITCHES
        if name != "checkout" or spec.kind == "volunteer"
        if state.get(name)
    ]
    if spec.repeat is not None:
        chosen.append(t("ne_opt_repeat", repeat=_repeat_name(state)))
        chosen.append(t("ne_opt_count", count=spec.count))
    text = t(
        "ne_confirm",
        kind=kind_name(spec.kind),
        title=spec.title,
        when=when(shown, zone),
        place=spec.place or t("place_none"),
        target=spec.unit.name if spec.unit else t("target_all"),
    ) + t("ne_confirm_options", options=listing(chosen) if chosen else t("ne_options_none"))
    if spec.plan_item_id is not None:
        text += "\n" + t("activity_plan_linked", id=spec.plan_item_id, topic=state.get("topic", ""))
    buttons = [
        InlineKeyboardButton(t("ne_ok"), callback_data="ne:ok"),
        InlineKeyboardButton(t("ne_no"), callback_data="ne:no"),
    ]
    ctx.reply(text, markup=InlineKeyboardMarkup([buttons]))


@handler(where="private")
async def on_button(ctx: Ctx) -> None:
    query = ctx.update.callback_query
    data = query.data if query is not None and query.data else ""
    waiting = await conversations_db.waiting(
        ctx.session, ctx.member.id, ctx.services.now(), NEWEVENT
    )
    if waiting is None:
        raise Refusal("ne_stale")
    state, step = waiting.state, waiting.state.get("step")
    if step == "kind" and data.startswith("ne:k:") and data[5:] in KINDS:
        await _save(ctx, {**state, "step": "when", "kind": data[5:]})
        ctx.toast(kind_name(data[5:]))
        ctx.reply(t("ne_ask_when", kind=kind_name(data[5:])))
    elif step == "plan" and (chosen := PLAN_BUTTON.match(data)):
        item_id = int(chosen[1])
        if item_id:
            item = await plans_db.get(ctx.session, item_id)
            state = {**state, "plan": item.id, "topic": item.topic}
        ctx.toast(t("ne_plan_toast", id=item_id) if item_id else t("ne_plan_none"))
        await _ask_title(ctx, state)
    elif step == "title" and data == "ne:tt" and state.get("topic"):
        ctx.toast(t("ne_title_topic", topic=state["topic"]))
        await _title_chosen(ctx, state, state["topic"])
    elif step == "place" and data == "ne:skip":
        ctx.toast(t("ne_skip"))
        await _options(ctx, state)
    elif (
        step == "options"
        and data.startswith("ne:o:")
        and data[5:] in (*SWITCHES, "repeat", "count")
    ):
        changed = _toggled(state, data[5:])
        await _save(ctx, changed)
        ctx.toast(t("ne_option_changed"))
        _show_options(ctx, query.message if query is not None else None, changed)
    elif step == "options" and data == "ne:next":
        ctx.toast(t("ne_next"))
        await _confirm(ctx, state)
    elif step == "confirm" and data == "ne:no":
        await conversations_db.end(ctx.session, ctx.member.id, NEWEVENT)
        ctx.toast(t("dialog_cancelled"))
        ctx.reply(t("dialog_cancelled"))
    elif step == "confirm" and data == "ne:ok":
        taken = await conversations_db.take(
            ctx.session, ctx.member.id, NEWEVENT, ctx.services.now()
        )
        if taken is None:
            raise Refusal("ne_stale")
        ctx.toast(t("ne_ok"))
        await create_from(ctx, await _spec(ctx, taken.state))
    else:
        raise Refusal("ne_stale")


def _show_options(
    ctx: Ctx, message: MaybeInaccessibleMessage | None, state: dict[str, Any]
) -> None:
    """The options message shows each option's new value (once this press committed)."""
    if message is None:
        return
    chat_id, message_id, bot = message.chat.id, message.message_id, ctx.context.bot
    markup = _options_markup(state)

    async def edit() -> None:
        # Pressed twice quickly, the second edit changes nothing: Telegram says so.
        with contextlib.suppress(TelegramError):
            await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)

    ctx.after_commit(edit)


def handlers() -> Handlers:
    return [
        # Before handlers.activities: /newevent with nothing after it starts the dialogue.
        CommandHandler("newevent", begin, filters.Regex(BARE)),
        CallbackQueryHandler(on_button, pattern=r"^ne:"),
    ]
