"""Command menus (setMyCommands) in each language: members see theirs everywhere, the
committee sees more in its private chats.

The default menus are registered per language: Chinese without a `language_code` (everyone)
and English for Telegram apps in English. A person whose chosen language (/lang) differs from
that default, and every committee member, gets a menu of their own in their private chat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from db.rules import DEFAULT_LANGUAGE
from render.texts import LANGUAGES, t_in

log = logging.getLogger(__name__)

# What the menu shows: the everyday ones (a member sees ten; /help lists every command).
MEMBER_COMMANDS = (
    "events",
    "checkin",
    "leave",
    "signup",
    "me",
    "need",
    "help",
    "register",
    "lang",
    "privacy",
)
# Besides, in the committee's private menu: its commands of every week.
COMMITTEE_COMMANDS = (
    "newevent",
    "event",
    "notice",
    "acks",
    "chase",
    "muster",
    "needs",
    "report",
    "export",
    "import",
    "members",
    "unit",
    "setup",
    "remind",
    "dashboard",
    "plan",
    "tasks",
)
# Not in a menu (each in /help): less frequent, or reached from a button or a link.
OTHER_COMMANDS = (
    "start",
    "units",
    "makeup",
    "withdraw",
    "checkout",
    "top",
    "squad",
    "certificate",
    "verify",
    "mydata",
    "forget",
    "cancel",
    "promote",
    "demote",
    "lead",
    "member",
    "roster",
    "qr",
    "outbox",
    "chats",
    "history",
    "record",
    "hours",
    "summary",
    "task",
)


def commands(language: str, committee: bool) -> list[BotCommand]:
    """The menu in `language`: the members' commands, and the committee's when asked."""
    names = MEMBER_COMMANDS + (COMMITTEE_COMMANDS if committee else ())
    return [BotCommand(name, t_in(language, f"cmd_{name}")) for name in names]


async def refresh_menu(
    bot: Bot,
    telegram_id: int | None,
    *,
    committee: bool,
    language: str | None,
    telegram_language: str | None = None,
) -> None:
    """This person's private menu: the committee's commands, in their language; nothing of
    their own when the default menu already fits (a member whose language is their app's)."""
    if telegram_id is None:  # imported from the roster, never talked to the bot: no chat yet
        return
    language = language or DEFAULT_LANGUAGE
    scope = BotCommandScopeChat(telegram_id)
    try:
        if committee or language != (telegram_language or DEFAULT_LANGUAGE):
            await bot.set_my_commands(commands(language, committee), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except (BadRequest, Forbidden) as exc:  # never started the bot: no private chat yet
        log.info("no private command menu for %s: %s", telegram_id, exc.message)


async def register_menus(bot: Bot, committee: Iterable[tuple[int, str | None]]) -> None:
    """The default menu in every language, then each committee member's private menu."""
    for language in LANGUAGES:
        code = None if language == DEFAULT_LANGUAGE else language
        await bot.set_my_commands(
            commands(language, False), scope=BotCommandScopeDefault(), language_code=code
        )
    for telegram_id, chosen in committee:
        await refresh_menu(bot, telegram_id, committee=True, language=chosen)


async def dashboard_button(
    bot: Bot, telegram_id: int | None, url: str | None, on: bool, language: str | None
) -> None:
    """The private chat's menu button: the dashboard for the committee and unit leads (when
    WEBAPP_URL is set), Telegram's own otherwise (someone who lost the role)."""
    if telegram_id is None or url is None:
        return
    button = (
        MenuButtonWebApp(t_in(language, "dashboard_menu"), WebAppInfo(url))
        if on
        else MenuButtonDefault()
    )
    try:
        await bot.set_chat_menu_button(telegram_id, button)
    except (BadRequest, Forbidden) as exc:  # never started the bot: no private chat yet
        log.info("no menu button for %s: %s", telegram_id, exc.message)
    except TelegramError as exc:
        log.warning("menu button for %s not set: %s", telegram_id, exc)
