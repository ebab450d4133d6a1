"""What every handler shares: one session per update, roles, replies sent after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, ContextTypes

from bot import metrics
from bot.ordering import sender_key
from bot.ratelimit import replying
from bot.services import Services, get_services
from bot.texts import MESSAGE_LIMIT, TOAST_LIMIT, PerLanguage, clip, listing, speaking, t, t_in
from db import chats as chats_db
from db import members as members_db
from db import outbox as outbox_db
from db import rules
from db import updates as updates_db
from db.errors import Refusal, TextKeys, unavailable
from db.models import Member, utcnow
from db.rules import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Where = Literal["any", "private", "group"]


@dataclass
class Reply:
    text: str
    private: bool = False
    markup: InlineKeyboardMarkup | None = None
    # Quiet: if the person cannot be written to privately, say nothing in the group.
    quiet: bool = False


@dataclass(frozen=True)
class Options:
    """How a handler is wrapped (see `handler`)."""

    admin: bool = False
    where: Where = "any"
    # Its effect is idempotent by the database's unique constraints (a second 签到 or 收到
    # changes nothing): skip update de-duplication, as button presses do.
    idempotent: bool = False
    # Answers typed in a group: success is a reaction, a refusal goes privately (or at most
    # once a day, briefly, in the group); never a group message per person.
    quiet: bool = False
    # Open to anyone, also to people who are not (yet) the organisation's: /start, /help,
    # /privacy, /register and the like. Everything else is for its people only.
    anyone: bool = False
    # A fact about the group, not a person's command (a member left, the bot was removed):
    # neither counted by the flood guard nor checked for membership.
    system: bool = False


@dataclass
class Ctx:
    """One update being handled: its session, its caller, and what to answer after commit."""

    update: Update
    context: Context
    session: AsyncSession
    member: Member
    services: Services
    args: list[str]
    replies: list[Reply] = field(default_factory=list)
    toast_text: str | None = None
    toast_alert: bool = False
    toast_url: str | None = None
    later: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    cards: set[tuple[str, int]] = field(default_factory=set)
    outbox_written: bool = False
    reaction: str | None = None
    # The language this update is answered in: the person's in a private chat and for a
    # button's toast, the group's for what is said in a group (see `speaking`).
    language: str = DEFAULT_LANGUAGE
    options: Options = field(default_factory=Options)

    @property
    def person_language(self) -> str:
        """The caller's own language: for what only they read (toasts, private replies)."""
        return self.member.lang or DEFAULT_LANGUAGE

    def privately(self) -> contextlib.AbstractContextManager[None]:
        """Render what goes to the caller privately (from a group command) in their language."""
        return speaking(self.person_language)

    @property
    def is_admin(self) -> bool:
        return members_db.is_admin(self.member, self.services.settings.admin_ids)

    @property
    def in_private(self) -> bool:
        chat = self.update.effective_chat
        return chat is not None and chat.type == ChatType.PRIVATE

    @property
    def message(self) -> Message | None:
        return self.update.effective_message

    def button(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The pressed button's data matched against `pattern`; forged data is refused."""
        query = self.update.callback_query
        match = pattern.match(query.data or "") if query is not None else None
        if match is None:
            raise Refusal("button_invalid")
        return match

    def reply(
        self, text: str, *, private: bool = False, markup: Any = None, public: bool = False
    ) -> None:
        """Queue a reply (sent once the transaction committed).

        In a group, what answers a member's command concerns only them: it goes privately,
        with a reaction on their message, or (if the bot may not write to them) into the group
        at most once a minute. `public`: an answer the whole group is meant to read.
        """
        if not self.in_private and not private and not public and not self.is_admin:
            self._personally(clip(text), markup)
            return
        if private and not self.in_private:
            self.react(t("reaction_sent_privately"))
        self.replies.append(
            Reply(clip(text), private=private and not self.in_private, markup=markup)
        )

    def _personally(self, text: str, markup: Any) -> None:
        if self.member.can_dm:
            with self.privately():
                self.replies.append(Reply(text, private=True, markup=markup))
            self.react(t("reaction_sent_privately"))
        elif members_db.take_group_reply(self.member, utcnow()):
            self.replies.append(Reply(text, markup=markup))

    def toast(self, text: str, *, alert: bool = False, url: str | None = None) -> None:
        """Set the callback answer (sent once the transaction committed)."""
        self.toast_text, self.toast_alert, self.toast_url = clip(text, TOAST_LIMIT), alert, url

    def react(self, emoji: str) -> None:
        """Put a reaction on the person's message (after the commit): a quiet "done"."""
        self.reaction = emoji

    def touch_card(self, kind: str, item_id: int) -> None:
        """Have this card's counts re-rendered once the transaction committed."""
        self.cards.add((kind, item_id))

    def wake_outbox(self) -> None:
        """This update wrote outbox rows: have the dispatcher look once they are committed."""
        self.outbox_written = True

    def forget(self) -> None:
        """Drop what was queued: the transaction it depended on was rolled back."""
        self.replies.clear()
        self.later.clear()
        self.cards.clear()
        self.outbox_written = False
        self.reaction = None

    def after_commit_sync(self, action: Callable[[], object]) -> None:
        """Like after_commit, for a plain function."""

        async def run() -> None:
            action()

        self.later.append(run)

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` once the transaction committed and the replies went out."""
        self.later.append(action)


Handler = Callable[[Ctx], Awaitable[None]]
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
Handlers = list[BaseHandler[Update, Context, None]]


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
            _count(update, "duplicate")
            if update.callback_query is not None:
                # Handled by an instance that died before answering (its update was taken
                # over): the press is recorded, but the person still waits for an answer.
                await _quietly(
                    update,
                    "answer",
                    update.callback_query.answer(t_in(_guess_language(update), "press_handled")),
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
    _count(update, outcome)  # after the commit: an attempt tried again counts once
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


async def _refusal_for_outsider(ctx: Ctx) -> Refusal:
    """Why someone who is not (or no longer) one of the organisation's people is refused."""
    member = ctx.member
    if member.on_roster and member.left_at is not None:
        return Refusal("member_left")
    if await members_db.waiting_request(ctx.session, member) is not None:
        return Refusal("join_request_waiting")
    return Refusal("register_first")


async def _language(ctx: Ctx) -> str:
    """What this update is answered in: a press's toast, a private chat and a member's
    command in a group (answered privately, see `Ctx.reply`) speak the person's language; the
    committee in a group is answered in the group's."""
    chat = ctx.update.effective_chat
    if ctx.update.callback_query is not None or chat is None or chat.type == ChatType.PRIVATE:
        return ctx.person_language
    if not ctx.is_admin and not ctx.options.quiet:
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
        if options.admin and not ctx.is_admin:
            raise Refusal("not_admin")
        admins = ctx.services.settings.admin_ids
        if not (options.anyone or options.system or members_db.belongs(ctx.member, admins)):
            raise await _refusal_for_outsider(ctx)
        wrong_chat = (options.where == "private" and not ctx.in_private) or (
            options.where == "group" and ctx.in_private
        )
        if wrong_chat:
            if update.callback_query is not None:
                raise Refusal("button_invalid")
            raise Refusal("private_only" if options.where == "private" else "group_only")
        await fn(ctx)
    except Refusal as refusal:
        await session.rollback()
        ctx.forget()
        # The caller's own record is still worth keeping, and so is the update's.
        if deduplicate:
            await updates_db.claim(session, update.update_id, utcnow())
        ctx.member = await _record_caller(session, update, user)
        if update.callback_query:
            ctx.toast(render_refusal(refusal), alert=True, url=_refusal_link(ctx, refusal))
        elif options.quiet:
            _refuse_quietly(ctx, refusal)
        else:
            ctx.reply(render_refusal(refusal))
        return "refused"
    return "handled"


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


def bot_link(ctx: Ctx, payload: str | None = None) -> str:
    """The link that opens the private chat with the bot (at a step: `?start=payload`)."""
    username = ctx.context.bot.username
    return f"https://t.me/{username}" + (f"?start={payload}" if payload else "")


def _refusal_link(ctx: Ctx, refusal: Refusal) -> str | None:
    """A toast refusing someone who must register first opens the private chat there."""
    return bot_link(ctx, "register") if refusal.key == "register_first" else None


def _refuse_quietly(ctx: Ctx, refusal: Refusal) -> None:
    """Privately (in the person's language) if the bot may write to them; else one short
    group reply a day."""
    if ctx.member.can_dm:
        with ctx.privately():
            ctx.replies.append(Reply(render_refusal(refusal), private=True, quiet=True))
    elif members_db.take_group_hint(ctx.member, ctx.services.now(), ctx.services.settings.timezone):
        ctx.reply(t("quiet_group_hint", text=render_refusal(refusal)), public=True)


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
        _count(update, "busy")
        await tell_busy(update)
        return None


def _guess_language(update: Update) -> str:
    """The person's language without the database (it may be what failed)."""
    user = update.effective_user
    return rules.language_of(user.language_code if user else None)


async def tell_busy(update: Update) -> None:
    """ "Busy, try again" as a toast or a reply; best effort (Telegram may be the problem)."""
    busy = t_in(_guess_language(update), "busy")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(busy)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(busy)
    except TelegramError as exc:
        log.warning("update %s: could not say busy: %s", update.update_id, exc)


def _count(update: Update, outcome: str) -> None:
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


async def deliver(ctx: Ctx) -> None:
    """Send the queued replies and the callback answer (the change is already committed).

    A Telegram failure here is logged, never shown as an error: what the person did is
    recorded, and the bot's rate limiter has already retried the call.
    """
    for kind, item_id in ctx.cards:
        ctx.services.cards.touch(kind, item_id)
    if ctx.outbox_written:
        ctx.services.outbox.wake()
    with replying():  # in a group, after notices, cards and reminders
        await _send_replies(ctx)
    for action in ctx.later:
        await action()


async def _send_replies(ctx: Ctx) -> None:
    update, bot = ctx.update, ctx.context.bot
    query = update.callback_query
    message = ctx.message
    if ctx.reaction is not None and message is not None:
        reaction = bot.set_message_reaction(message.chat_id, message.message_id, ctx.reaction)
        await _quietly(update, "reaction", reaction)
    if query is not None:
        await _quietly(
            update,
            "answer",
            query.answer(ctx.toast_text, show_alert=ctx.toast_alert, url=ctx.toast_url),
        )
    user = update.effective_user
    for reply in ctx.replies:
        if reply.private and user is not None:
            try:
                await bot.send_message(user.id, reply.text, reply_markup=reply.markup)
                continue
            except Forbidden:
                await _cannot_dm(ctx, user.id, tell_in_group=not reply.quiet)
                return
            except TelegramError as exc:
                log.warning("update %s: private reply failed: %s", update.update_id, exc)
                return
        if message is not None and query is None:
            await _quietly(
                update, "reply", message.reply_text(reply.text, reply_markup=reply.markup)
            )
        elif update.effective_chat is not None:
            await _quietly(
                update,
                "reply",
                bot.send_message(update.effective_chat.id, reply.text, reply_markup=reply.markup),
            )


async def replace_everywhere(ctx: Ctx, purpose: str, ref_id: int, text: PerLanguage[str]) -> None:
    """Once this update committed, every sent message of `purpose` about `ref_id` (a request
    to each decider), and the one whose button was pressed, says `text` in its reader's
    language, without buttons: the first decision is told to everyone who could decide."""
    messages = set(await outbox_db.sent_messages(ctx.session, purpose, ref_id))
    query = ctx.update.callback_query
    if query is not None and query.message is not None:
        messages.add((query.message.chat.id, query.message.message_id))
    texts = {
        chat_id: text(await chats_db.language(ctx.session, chat_id)) for chat_id, _ in messages
    }
    bot = ctx.context.bot

    async def edit_messages() -> None:
        for chat_id, message_id in sorted(messages):
            try:
                await bot.edit_message_text(texts[chat_id], chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:  # deleted by its reader, or already says so
                log.info("%s %s: message %s not edited: %s", purpose, ref_id, message_id, exc)

    ctx.after_commit(edit_messages)


async def _quietly(update: Update, what: str, call: Awaitable[object]) -> None:
    try:
        await call
    except TelegramError as exc:
        log.warning("update %s: %s failed: %s", update.update_id, what, exc)


async def _cannot_dm(ctx: Ctx, telegram_id: int, *, tell_in_group: bool = True) -> None:
    """The person never started the bot, or blocked it: remember, and say so where they are."""
    try:
        async with ctx.services.db.session() as session:
            await members_db.set_can_dm(session, telegram_id, False)
            await session.commit()
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.warning("could not record that %s cannot be written to: %s", telegram_id, exc)
    if ctx.message is not None and tell_in_group:
        await _quietly(ctx.update, "reply", ctx.message.reply_text(t("dm_first")))


async def on_error(update: object, context: Context) -> None:
    """Our bugs: logged with the traceback, the person told politely, without internals.

    Telegram or the database being unreachable is not a bug: one WARNING line, no traceback.
    """
    error = context.error
    if isinstance(error, NetworkError) or (error is not None and unavailable(error)):
        log.warning("update %s: %s: %s", _describe(update), type(error).__name__, error)
        return
    log.error("error while handling update %s", _describe(update), exc_info=error)
    if not isinstance(update, Update):
        return
    _count(update, "error")
    sorry = t_in(_guess_language(update), "error_internal")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(sorry, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(sorry)
    except Exception:  # the user may be gone, or it was already answered
        log.debug("could not report the error to the user", exc_info=True)


def _describe(update: object) -> str:
    """The update's id, who and where, and which command or button: never what was typed
    (it may be a need about housing or a leave reason)."""
    if not isinstance(update, Update):
        return type(update).__name__
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    command = text.split(maxsplit=1)[0][:40] if text.startswith("/") else None
    data = update.callback_query.data if update.callback_query else None
    button = data.split(":", 2)[:2] if data else None
    return (
        f"#{update.update_id} user={user.id if user else None} chat={chat.id if chat else None} "
        f"command={command} button={':'.join(button) if button else None}"
    )


def _is_command(message: Message) -> bool:
    text = message.text or message.caption or ""
    return text.startswith("/")


async def gatekeeper(update: Update, context: Context) -> None:
    """Before every feature: drop what no feature should see, quietly.

    Edited messages and channel posts are not commands (an edited /notice must not post a
    second notice). A command sent as a group or channel (an anonymous admin) has no person
    behind it to check: it gets one reply saying how to send it instead.
    """
    if (
        update.message is None
        and update.callback_query is None
        and update.my_chat_member is None
        and update.chat_member is None
    ):
        raise ApplicationHandlerStop
    message = update.message
    if message is not None and (message.migrate_to_chat_id or message.migrate_from_chat_id):
        return  # an upgrade to a supergroup: handled whoever is named as its sender
    if message is not None and message.sender_chat is not None:
        if _is_command(message):
            await _quietly(update, "reply", message.reply_text(t("anonymous_sender")))
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is not None and user.is_bot:
        raise ApplicationHandlerStop


@handler(anyone=True)
async def unknown_command(ctx: Ctx) -> None:
    if ctx.in_private:
        ctx.reply(t("unknown_command"))


@handler()
async def unknown_button(ctx: Ctx) -> None:
    """Callback data no feature recognises (forged, or from an old version): refuse."""
    raise Refusal("button_invalid")
