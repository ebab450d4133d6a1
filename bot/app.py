"""Build the Application: one place where every feature's handlers are registered."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.cards import CardRefresher
from bot.ratelimit import TelegramRateLimiter
from bot.services import Services, get_services
from bot.settings import Settings
from db import members as members_db
from db.engine import Database
from db.migrate import upgrade
from handlers import activities, checkin, common, members, newevent_dialog, start
from handlers.menus import register_menus

log = logging.getLogger(__name__)

# Updates are handled concurrently (a burst of button presses must not queue behind one
# another); the database, not handler order, keeps them consistent.
CONCURRENT_UPDATES = 64


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Migrate the database, register command menus (run before polling starts)."""
    services = get_services(application.bot_data)
    await upgrade(services.db)
    async with services.db.session() as session:
        admins = await members_db.admin_telegram_ids(session, services.settings.admin_ids)
    await register_menus(application.bot, admins)
    services.cards.start()
    log.info("started as @%s", application.bot.username)


async def on_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    """Finish pending card edits, release the database."""
    services = get_services(application.bot_data)
    await services.cards.stop()
    await services.db.dispose()


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The bot, wired: settings, database, rate limiter and every feature's handlers."""
    application = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .rate_limiter(TelegramRateLimiter())
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    services = Services(
        settings=settings,
        db=Database(settings.database_url),
        cards=CardRefresher(application.bot),
    )
    services.cards.register(activities.CARD, lambda item: activities.card_view(services, item))
    application.bot_data["services"] = services

    # checkin before start: its /start handler takes the deep links from the cards' buttons.
    for feature in (checkin, start, members, activities, newevent_dialog):
        application.add_handlers(feature.handlers())
    # Last: anything no feature recognised gets an answer instead of silence.
    application.add_handler(MessageHandler(filters.COMMAND, common.unknown_command))
    application.add_handler(CallbackQueryHandler(common.unknown_button))
    application.add_error_handler(common.on_error)
    return application


ALL_UPDATES = Update.ALL_TYPES
