"""Build the Application: one place where every feature's handlers are registered."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import reporting
from bot.cards import CardRefresher
from bot.ordering import PerSenderUpdateProcessor
from bot.ratelimit import TelegramRateLimiter
from bot.services import Services, get_services
from bot.settings import Settings
from db import members as members_db
from db import updates as updates_db
from db.engine import Database
from db.migrate import upgrade
from handlers import (
    activities,
    chats,
    checkin,
    common,
    members,
    newevent_dialog,
    notices,
    reminders,
    replies,
    reports,
    roster,
    start,
    volunteer,
)
from handlers.menus import register_menus
from scheduler import activity_cards
from scheduler.activity_cards import ActivityCardHooks
from scheduler.engine import QUARTER_REPORT, REMINDER, ReminderEngine, ReminderHooks
from scheduler.leader import Leadership
from scheduler.notices import FOLLOWUP, POST, REPORT, NoticeHooks
from scheduler.outbox import OutboxDispatcher
from scheduler.promotions import PROMOTION, PromotionHooks

log = logging.getLogger(__name__)

# Different people's updates run concurrently (a burst of button presses must not queue
# behind one another); one person's run in order (see bot.ordering).
CONCURRENT_UPDATES = 64
WAITING_UPDATES = 1024


PRUNE_EVERY = 6 * 3600  # seconds


async def forget_old_updates(services: Services) -> None:
    """Keep the de-duplication table small: Telegram never redelivers days-old updates."""
    async with services.db.session() as session:
        removed = await updates_db.prune(session, services.now())
        await session.commit()
    if removed:
        log.info("forgot %d old update ids", removed)


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Migrate the database, register command menus (run before polling starts)."""
    services = get_services(application.bot_data)
    await upgrade(services.db)
    async with services.db.session() as session:
        admins = await members_db.admin_telegram_ids(session, services.settings.admin_ids)
    await register_menus(application.bot, admins)
    services.cards.start()

    async def elected() -> None:
        services.outbox.start()
        services.reminders.attach(application.job_queue)
        await services.reminders.start()
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                lambda _context: forget_old_updates(services),
                interval=PRUNE_EVERY,
                first=60,
                name="maintenance:forget-updates",
                job_kwargs={"id": "maintenance:forget-updates", "replace_existing": True},
            )

    async def deposed() -> None:
        services.reminders.attach(None)
        if application.job_queue is not None:
            for job in application.job_queue.scheduler.get_jobs():
                job.remove()
        await services.outbox.stop()

    leadership = Leadership(services.db, elected, deposed)
    application.bot_data["leadership"] = leadership
    await leadership.start()
    log.info("started as @%s", application.bot.username)


async def on_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Updates are no longer taken and those taken are done: flush while the bot can still
    talk to Telegram (stop leading, let sends in flight finish, edit the dirty cards)."""
    services = get_services(application.bot_data)
    leadership = application.bot_data.get("leadership")
    if isinstance(leadership, Leadership):
        await leadership.stop()
    await services.outbox.stop()
    await services.cards.stop()


async def on_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    """Release the database."""
    await get_services(application.bot_data).db.dispose()


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The bot, wired: settings, database, rate limiter and every feature's handlers."""
    application = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .rate_limiter(TelegramRateLimiter())
        # A second connection for getUpdates: on stop, the call that marks the fetched updates
        # as read must not wait behind the long poll being cancelled (or they come back).
        .get_updates_connection_pool_size(2)
        .concurrent_updates(PerSenderUpdateProcessor(CONCURRENT_UPDATES, WAITING_UPDATES))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    db = Database(settings.database_url)
    outbox = OutboxDispatcher(application.bot, db)
    services = Services(
        settings=settings,
        db=db,
        cards=CardRefresher(application.bot),
        outbox=outbox,
        # The clock is read through `services` so tests can move it.
        reminders=ReminderEngine(
            db,
            settings.timezone,
            settings.admin_ids,
            lambda: services.now(),
            outbox.wake,
            # An activity that ended: its card loses its buttons and says so.
            on_activity_ended=lambda activity_id: services.cards.touch(
                activities.CARD, activity_id
            ),
        ),
    )
    services.cards.register(activities.CARD, lambda item: activities.card_views(services, item))
    services.cards.register(notices.CARD, lambda item: notices.card_views(services, item))
    notice_hooks = NoticeHooks(services.cards, notices.CARD)
    for purpose in (POST, FOLLOWUP, REPORT):
        outbox.hooks[purpose] = notice_hooks
    outbox.hooks[PROMOTION] = PromotionHooks(settings.timezone)
    outbox.hooks[activity_cards.POST] = ActivityCardHooks(services.cards, activities.CARD)
    outbox.hooks[REMINDER] = ReminderHooks(settings.admin_ids)
    outbox.renderers[QUARTER_REPORT] = lambda row: reporting.send_quarter_report(
        application.bot, db, settings, services.now(), row
    )
    application.bot_data["services"] = services
    # A "group chat was upgraded to a supergroup" answer to any send or edit moves the chat.
    outbox.on_migrated = services.cards.on_migrated = services.migrate_chat

    # First: drop edited messages, channel posts and anonymous senders before any feature.
    application.add_handler(TypeHandler(Update, common.gatekeeper), group=-1)
    # checkin before start: its /start handler takes the deep links from the cards' buttons.
    features = (
        checkin,
        start,
        members,
        chats,
        activities,
        newevent_dialog,
        notices,
        volunteer,
        reminders,
        reports,
        roster,
        replies,  # after every command: typed answers in groups
    )
    for feature in features:
        application.add_handlers(feature.handlers())
    # Last: anything no feature recognised gets an answer instead of silence.
    application.add_handler(MessageHandler(filters.COMMAND, common.unknown_command))
    application.add_handler(CallbackQueryHandler(common.unknown_button))
    application.add_error_handler(common.on_error)
    return application


# What the bot asks Telegram for; everything else is never sent to it.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
