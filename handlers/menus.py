"""Command menus (setMyCommands): members see theirs everywhere, the committee sees more."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, Forbidden

from bot.texts import COMMANDS_ADMIN, COMMANDS_MEMBER

log = logging.getLogger(__name__)


def _commands(pairs: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in pairs]


async def refresh_admin_menu(bot: Bot, telegram_id: int | None, admin: bool) -> None:
    """Show (or take away) the committee's commands in this person's private chat."""
    if telegram_id is None:  # imported from the roster, never talked to the bot: no chat yet
        return
    scope = BotCommandScopeChat(telegram_id)
    try:
        if admin:
            await bot.set_my_commands(_commands(COMMANDS_MEMBER + COMMANDS_ADMIN), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except (BadRequest, Forbidden) as exc:  # never started the bot: no private chat yet
        log.info("no private command menu for %s: %s", telegram_id, exc.message)


async def register_menus(bot: Bot, admin_ids: Iterable[int]) -> None:
    """Register the default menu and each committee member's private menu."""
    await bot.set_my_commands(_commands(COMMANDS_MEMBER), scope=BotCommandScopeDefault())
    for telegram_id in admin_ids:
        await refresh_admin_menu(bot, telegram_id, True)
