"""The `handler` decorator: one session and one transaction per update, the caller recorded,
the flood guard, membership and role checked on the server every time, refusals rendered, the
database's outages tried again (then "busy"), replies delivered after the commit."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError

from db import chats as chats_db
from db import conversations as conversations_db
from db import members as members_db
from db import rules
from db import updates as updates_db
from db.errors import Refusal, TextKeys, unavailable
from db.models import Member, utcnow
from handlers.context import (
    Callback,
    Context,
    Ctx,
    Handler,
    Options,
    Reply,
    Where,
    bot_link,
    guess_language,
    private_button,
    quietly,
)
from handlers.delivery import deliver
from render.texts import MESSAGE_LIMIT, listing, namesake, speaking, t, t_in
from scheduler import metrics
from scheduler.ordering import sender_key
from scheduler.services import Services, get_services

log = logging.getLogger(__name__)


def _telegram_user(update: Update) -> members_db.TelegramUser | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return members_db.TelegramUser(
        user.id, user.first_name, user.last_name, user.username, user.language_code
    )


def _storable(update: Update) -> bool:
    """False for text no database could store (forged NUL or lone surrogates)."""
    message = update.effective_message
    texts = [
        message.text if message else None,
        message.caption if message else None,
        update.callback_query.data if update.callback_query else None,
    ]
    return all(rules.storable(text) for text in texts if text)


# How long an update may keep trying while the database is unreachable or locked before the
# person is told "busy": a callback must be answered within about 15 seconds.


RETRY_BUDGET = 8.0


FIRST_RETRY_DELAY = 0.2

# Every wrapped handler by name, so that a command asking which namesake was meant can run
# again once one is chosen (handlers.people), on any instance.
_COMMANDS: dict[str, tuple[Handler, Options]] = {}

# The conversation kind of that question: the command's name and words, the people offered.
PICK = "pick"


def handler(
    *,
    admin: bool = False,
    where: Where = "any",
    idempotent: bool = False,
    quiet: bool = False,
    anyone: bool = False,
    system: bool = False,
) -> Callable[[Handler], Callback]:
    """Wrap a feature handler: session per update, caller recorded, role and chat checked.

    Replies and the callback answer are sent only after the commit, so nothing is
    acknowledged to a user that a crash could still lose. While the database is unreachable
    or locked the update is tried again (its transaction rolled back each time) for a few
    seconds; then the person is told the system is busy, never that it worked.
    """

    options = Options(admin, where, idempotent, quiet, anyone, system)

    def decorate(fn: Handler) -> Callback:
        _COMMANDS[_name(fn)] = (fn, options)

        @wraps(fn)
        async def wrapper(update: Update, context: Context) -> None:
            user = _telegram_user(update)
            if user is None:
                return
            services = get_services(context.bot_data)

            async def attempt() -> Ctx | None:
                return await _handle(fn, update, context, services, user, options)

            ctx = await _with_retries(attempt, update, context)
            if ctx is not None:
                with speaking(ctx.language):
                    await deliver(ctx)

        return wrapper

    return decorate


async def _handle(
    fn: Handler,
    update: Update,
    context: Context,
    services: Services,
    user: members_db.TelegramUser,
    options: Options,
) -> Ctx | None:
    """One attempt in one transaction; None if this update was already handled."""
    cluster = services.cluster
    # Several instances may each be given the update (Telegram or the load balancer
    # delivering twice, or the leader taking over a dead instance's updates): then every
    # update is claimed, so that exactly one transaction takes effect.
    deduplicate = (update.callback_query is None and not options.idempotent) or (
        cluster is not None and cluster.shared
    )
    settings = services.settings
    async with services.db.session() as session:
        if cluster is not None:  # one person's updates in order across instances too
            await cluster.wait_turn(session, sender_key(update))
        # Button presses are idempotent by the database's unique constraints (a second
        # 签到 or 收到 changes nothing), so only messages pay for de-duplication.
        first_time = not deduplicate or await updates_db.claim(session, update.update_id, utcnow())
        if not first_time:
            log.info("update %s was already handled; ignored", update.update_id)
            count_outcome(update, "duplicate")
            if update.callback_query is not None:
                # Handled by an instance that died before answering (its update was taken
                # over): the press is recorded, but the person still waits for an answer.
                await quietly(
                    update,
                    "answer",
                    update.callback_query.answer(t_in(guess_language(update), "press_handled")),
                )
            return None
        member = await _record_caller(session, update, user)
        ctx = Ctx(update, context, session, member, services, list(context.args or []))
        ctx.options = options
        ctx.language = await _language(ctx)
        with speaking(ctx.language):
            if _flooding(ctx, settings.flood_per_minute):
                outcome = "flooded"
            else:
                outcome = await _run(fn, ctx, options, deduplicate, user)
        await session.commit()
    count_outcome(update, outcome)  # after the commit: an attempt tried again counts once
    return ctx


def _flooding(ctx: Ctx, per_minute: int | None) -> bool:
    """The flood guard: a person's typed commands and answers beyond `per_minute` are
    dropped, with at most one private "slow down" a minute. Button presses cost the group
    nothing and are not counted; the committee is trusted."""
    message = ctx.update.message
    if (
        per_minute is None
        or ctx.options.system
        or message is None
        or not (message.text or message.caption)
        or ctx.is_admin
    ):
        return False
    verdict = members_db.take_flood_token(ctx.member, utcnow(), per_minute)
    if verdict is members_db.Flood.OK:
        return False
    if verdict is members_db.Flood.NOTE and ctx.member.can_dm:
        with ctx.privately():
            ctx.replies.append(Reply(t("flood_slow_down"), private=not ctx.in_private))
    log.info("update %s: flood guard dropped a message of %s", ctx.update.update_id, ctx.member.id)
    return True


async def refuse_outsiders(ctx: Ctx) -> None:
    """Refuse, saying why, someone who is not (or no longer) one of the organisation's
    people: what handlers open to anyone check before they show anything of it."""
    member = ctx.member
    if members_db.belongs(member, ctx.services.settings.admin_ids):
        return
    if member.on_roster and member.left_at is not None:
        raise Refusal("member_left")
    if await members_db.waiting_request(ctx.session, member) is not None:
        raise Refusal("join_request_waiting")
    raise Refusal("register_first")


async def _language(ctx: Ctx) -> str:
    """What this update is answered in: a press's toast, a private chat and a command in a
    group (answered privately, see `Ctx.reply`) speak the person's language; what is typed
    in a group without a command (收到, 到: a refusal may be said there) the group's. What a
    command says to the group itself is rendered in the group's language by the command."""
    chat = ctx.update.effective_chat
    if ctx.update.callback_query is not None or chat is None or chat.type == ChatType.PRIVATE:
        return ctx.person_language
    if not ctx.options.quiet:
        return ctx.person_language
    return await chats_db.language(ctx.session, chat.id)


async def _run(
    fn: Handler, ctx: Ctx, options: Options, deduplicate: bool, user: members_db.TelegramUser
) -> str:
    """The handler, or the refusal it raised (its changes rolled back); the outcome."""
    update, session = ctx.update, ctx.session
    try:
        if not _storable(update):
            if update.callback_query is not None:
                raise Refusal("button_invalid")
            raise Refusal("text_invalid", limit=MESSAGE_LIMIT)
        await _admit(ctx, options)
        await fn(ctx)
    except Refusal as refusal:
        # Namesakes to choose from, described while their rows are loaded.
        choices = (
            [(m.id, namesake(m)) for m in refusal.candidates]
            if isinstance(refusal, members_db.Ambiguous)
            else []
        )
        await session.rollback()
        ctx.forget()
        # The caller's own record is still worth keeping, and so is the update's.
        if deduplicate:
            await updates_db.claim(session, update.update_id, utcnow())
        ctx.member = await _record_caller(session, update, user)
        if update.callback_query:
            ctx.toast(render_refusal(refusal), alert=True, url=_refusal_link(ctx, refusal))
        elif choices:
            await _ask_which(ctx, _name(fn), render_refusal(refusal), choices)
            return "asked"
        elif options.quiet:
            _refuse_quietly(ctx, refusal)
        else:
            ctx.reply(render_refusal(refusal), markup=_refusal_button(ctx, refusal))
        return "refused"
    return "handled"


async def _admit(ctx: Ctx, options: Options) -> None:
    """Refuse what this caller may not do here: the committee's, the organisation's, or a
    command for the other kind of chat."""
    if options.admin and not ctx.is_admin:
        raise Refusal("not_admin")
    if not (options.anyone or options.system):
        await refuse_outsiders(ctx)
    wrong_chat = (options.where == "private" and not ctx.in_private) or (
        options.where == "group" and ctx.in_private
    )
    if wrong_chat:
        if ctx.update.callback_query is not None:
            raise Refusal("button_invalid")
        raise Refusal("private_only" if options.where == "private" else "group_only")


def _name(fn: Handler) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


async def _ask_which(ctx: Ctx, command: str, text: str, choices: list[tuple[int, str]]) -> None:
    """Which of the namesakes: a button each; the command's words wait in the database."""
    state = {"command": command, "args": ctx.args, "offered": [i for i, _ in choices]}
    await conversations_db.begin(ctx.session, ctx.member.id, PICK, ctx.services.now(), state)
    buttons = [[InlineKeyboardButton(label, callback_data=f"pick:{i}")] for i, label in choices]
    ctx.reply(text, markup=InlineKeyboardMarkup(buttons))


async def rerun(ctx: Ctx, command: str, args: list[str], chosen: Member) -> None:
    """Run `command` again with its words, the name in them meaning `chosen`; the caller's
    role and chat are checked again as for the command itself."""
    found = _COMMANDS.get(command)
    if found is None:  # an older version's question, answered after an upgrade
        raise Refusal("pick_expired")
    fn, options = found
    await _admit(ctx, options)
    ctx.args, ctx.chosen = args, chosen
    await fn(ctx)


async def _record_caller(
    session: AsyncSession, update: Update, user: members_db.TelegramUser
) -> Member:
    """The person behind the update, recorded; one who writes privately can be written to
    (again: a person who had blocked the bot must unblock it to write)."""
    member = await members_db.touch_member(session, user)
    chat = update.effective_chat
    if (
        not member.can_dm
        and update.my_chat_member is None
        and chat is not None
        and chat.type == ChatType.PRIVATE
    ):
        member.can_dm = True
    return member


def _refusal_link(ctx: Ctx, refusal: Refusal) -> str | None:
    """A toast refusing someone who must register first opens the private chat there."""
    return bot_link(ctx, "register") if refusal.key == "register_first" else None


def _refusal_button(ctx: Ctx, refusal: Refusal) -> InlineKeyboardMarkup | None:
    """A reply refusing someone who must register first has the button that does it."""
    return private_button(ctx, "register") if refusal.key == "register_first" else None


def _refuse_quietly(ctx: Ctx, refusal: Refusal) -> None:
    """Privately (in the person's language) if the bot may write to them; else one short
    group reply a day."""
    if ctx.member.can_dm:
        with ctx.privately():
            ctx.replies.append(Reply(render_refusal(refusal), private=True, quiet=True))
    elif members_db.take_group_hint(ctx.member, ctx.services.now(), ctx.services.settings.timezone):
        ctx.reply(
            t("quiet_group_hint", text=render_refusal(refusal)),
            public=True,
            markup=private_button(ctx, "register" if refusal.key == "register_first" else None),
        )


async def _with_retries(
    attempt: Callable[[], Awaitable[Ctx | None]], update: Update, context: Context
) -> Ctx | None:
    """Run `attempt`; while the database is unavailable, again (bounded), then say "busy"."""
    started = time.monotonic()
    delay = FIRST_RETRY_DELAY
    # A dialogue's state is kept in memory: give every attempt the state the update found.
    saved = copy.deepcopy(dict(context.user_data or {}))
    while True:
        try:
            return await attempt()
        except NetworkError as exc:  # a Bot API call inside the handler failed after retries
            log.warning(
                "update %s: Telegram unreachable (%s); answered busy", update.update_id, exc
            )
        except Exception as exc:
            if not unavailable(exc):
                raise
            if time.monotonic() - started + delay < RETRY_BUDGET:
                log.warning(
                    "update %s: database unavailable (%s); trying again in %.1fs",
                    update.update_id,
                    type(exc).__name__,
                    delay,
                )
                if context.user_data is not None:
                    context.user_data.clear()
                    context.user_data.update(copy.deepcopy(saved))
                await asyncio.sleep(delay)
                delay *= 2
                continue
            log.warning(
                "update %s: database unavailable (%s); answered busy", update.update_id, exc
            )
        count_outcome(update, "busy")
        await tell_busy(update)
        return None


async def tell_busy(update: Update) -> None:
    """ "Busy, try again" as a toast or a reply; best effort (Telegram may be the problem)."""
    busy = t_in(guess_language(update), "busy")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(busy)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(busy)
    except TelegramError as exc:
        log.warning("update %s: could not say busy: %s", update.update_id, exc)


def count_outcome(update: Update, outcome: str) -> None:
    metrics.UPDATES.labels(metrics.update_type(update), outcome).inc()


def _parameter(value: Any) -> Any:
    if isinstance(value, TextKeys):
        return listing(t(key) for key in value)
    return listing(value) if isinstance(value, list | tuple) else value


def render_refusal(refusal: Refusal) -> str:
    """The refusal's text in the language being spoken; a list parameter becomes a list."""
    params = {name: _parameter(value) for name, value in refusal.params.items()}
    if "units" in refusal.params:
        params["units_list"] = params["units"] or t("units_none")
    return t(refusal.key, **params)
