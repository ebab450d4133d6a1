"""One update being handled: its session, its caller, what to answer once it committed."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ContextTypes

from db import members as members_db
from db import rules
from db.errors import Refusal
from db.models import Member, utcnow
from db.rules import DEFAULT_LANGUAGE
from render.texts import TOAST_LIMIT, clip, speaking, t
from scheduler.services import Services

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
    # The person chosen by button among namesakes (see handlers.people): the command runs
    # again with its words, and the name in them means this one.
    chosen: Member | None = None

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

        In a group, what answers a command concerns only its sender, a member's or the
        committee's: it goes privately, with a reaction on their message (see `_personally`).
        `public`: an answer the whole group is meant to read (about the group itself).
        """
        if not self.in_private and not private and not public:
            self._personally(clip(text), markup)
            return
        if private and not self.in_private:
            self.react(t("reaction_sent_privately"))
        self.replies.append(
            Reply(clip(text), private=private and not self.in_private, markup=markup)
        )

    def _personally(self, text: str, markup: Any) -> None:
        """Privately if the bot may write to them; else in the group: always for the
        committee (its confirmations matter), at most once a minute for a member."""
        if self.member.can_dm:
            with self.privately():
                self.replies.append(Reply(text, private=True, markup=markup))
            self.react(t("reaction_sent_privately"))
        elif self.is_admin or members_db.take_group_reply(self.member, utcnow()):
            self.replies.append(Reply(text, markup=markup))

    def toast(self, text: str, *, alert: bool = False, url: str | None = None) -> None:
        """Set the callback answer (sent once the transaction committed)."""
        self.toast_text, self.toast_alert, self.toast_url = clip(text, TOAST_LIMIT), alert, url

    def react(self, emoji: str) -> None:
        """Put a reaction on the person's message (after the commit): a quiet "done"."""
        self.reaction = emoji

    def settle_pressed(self, text: str) -> None:
        """After the commit, the message whose button was pressed says `text`, without its
        buttons: the dialogue shows what was decided, and nothing is pressed twice."""
        query = self.update.callback_query
        message = query.message if query is not None else None
        if message is None:
            return
        chat_id, message_id, bot = message.chat.id, message.message_id, self.context.bot

        async def edit() -> None:
            try:
                await bot.edit_message_text(clip(text), chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:
                log.info("pressed message not edited: %s", exc)

        self.after_commit(edit)

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


_COMMAND = re.compile(r"^/\w+(?:@\w+)?(?=\s|$)")


def command_body(ctx: Ctx) -> str:
    """The text after the command, line breaks kept (from the text or a media caption)."""
    message = ctx.message
    raw = (message.text or message.caption or "") if message else ""
    return _COMMAND.sub("", raw, count=1).strip()


def bot_link(ctx: Ctx, payload: str | None = None) -> str:
    """The link that opens the private chat with the bot (at a step: `?start=payload`)."""
    username = ctx.context.bot.username
    return f"https://t.me/{username}" + (f"?start={payload}" if payload else "")


# The words on the button that opens the private chat at a step.
_PRIVATE_BUTTONS = {"register": "button_register", "help": "button_all_commands"}


def private_button(ctx: Ctx, payload: str | None = None) -> InlineKeyboardMarkup:
    """One button that opens the private chat with the bot (at the step `payload`): what
    every "register first" or "write to me privately first" carries."""
    label = t(_PRIVATE_BUTTONS.get(payload or "", "button_open_private"))
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=bot_link(ctx, payload))]])


def guess_language(update: Update) -> str:
    """The person's language without the database (it may be what failed)."""
    user = update.effective_user
    return rules.language_of(user.language_code if user else None)


async def quietly(update: Update, what: str, call: Awaitable[object]) -> None:
    try:
        await call
    except TelegramError as exc:
        log.warning("update %s: %s failed: %s", update.update_id, what, exc)
