"""Build the Application: one place where every feature's handlers are registered."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import TYPE_CHECKING

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.http import AiohttpRequest
from db import cluster as cluster_db
from db import members as members_db
from db import retention
from db import updates as updates_db
from db.database import Database
from db.errors import unavailable
from db.migrate import prepare
from db.models import utcnow
from handlers import (
    activities,
    approvals,
    certificates,
    chats,
    checkin,
    conversations,
    dashboard,
    fallbacks,
    imports,
    lang,
    members,
    membership,
    musters,
    needs,
    newevent_dialog,
    notices,
    people,
    plans,
    privacy,
    qr,
    registration,
    reminders,
    replies,
    reports,
    start,
    summary,
    tasks,
    volunteer,
)
from handlers.menus import register_menus
from scheduler import activity_cards
from scheduler import musters as musters_sched
from scheduler import notices as notices_sched
from scheduler import reports as reports_sched
from scheduler.activity_cards import ActivityCardHooks
from scheduler.activity_reminders import ReminderHooks
from scheduler.cards import CardRefresher
from scheduler.cluster import Cluster
from scheduler.duties import QUARTER_REPORT
from scheduler.engine import ReminderEngine
from scheduler.leader import Leadership
from scheduler.notices import FOLLOWUP, POST, REPORT, NoticeHooks
from scheduler.ordering import PerSenderUpdateProcessor
from scheduler.outbox import OutboxDispatcher
from scheduler.promotions import PROMOTION, PromotionHooks
from scheduler.qr_rotation import QrRotation
from scheduler.ratelimit import TelegramRateLimiter
from scheduler.reminding import REMINDER
from scheduler.services import Services, get_services
from scheduler.settings import Settings

if TYPE_CHECKING:
    from bot.web import WebServer
    from handlers.dashboard import Dashboard

log = logging.getLogger(__name__)

# Different people's updates run concurrently (a burst of button presses must not queue
# behind one another); one person's run in order (see scheduler.ordering).
CONCURRENT_UPDATES = 64
WAITING_UPDATES = 1024


PRUNE_EVERY = 6 * 3600  # seconds
RETENTION_EVERY = 24 * 3600


async def forget_old_updates(services: Services) -> None:
    """Keep the de-duplication table small: Telegram never redelivers days-old updates."""
    async with services.db.session() as session:
        removed = await updates_db.prune(session, services.now())
        removed += await cluster_db.prune(session, services.now())
        await session.commit()
    if removed:
        log.info("forgot %d old update ids", removed)


async def erase_expired_texts(services: Services) -> None:
    """The daily retention job (db.retention): texts whose time is up are erased."""
    async with services.db.session() as session:
        pruned = await retention.prune(session, services.now(), services.settings.retention_days)
        await session.commit()
    if pruned.total:
        log.info("retention: erased %s", pruned)


async def register_webhook(bot: Bot, services: Services) -> None:
    """Point Telegram at the webhook, only when what it has differs (the leader does this).

    Pending updates are never dropped. Telegram does not tell the secret it holds, so a
    fingerprint of what was registered is kept in the database: a new secret re-registers.
    """
    settings = services.settings
    url, secret = settings.webhook_url, settings.webhook_secret
    assert url is not None and secret is not None
    fingerprint = hashlib.sha256(
        "\n".join([url, secret, *sorted(ALLOWED_UPDATES)]).encode()
    ).hexdigest()
    info = await bot.get_webhook_info()
    async with services.db.session() as session:
        registered = await cluster_db.state(session, cluster_db.WEBHOOK_KEY)
    same = (
        info.url == url
        and sorted(info.allowed_updates or []) == sorted(ALLOWED_UPDATES)
        and registered == fingerprint
    )
    if same:
        return
    await bot.set_webhook(
        url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
    )
    async with services.db.session() as session:
        await cluster_db.set_state(session, cluster_db.WEBHOOK_KEY, fingerprint)
        await session.commit()
    log.info("webhook registered with Telegram")


async def keep_registering(bot: Bot, services: Services) -> None:
    """Register the webhook; while Telegram cannot be reached, try again every few seconds
    (updates wait at Telegram meanwhile, none is lost)."""
    delay = 2.0
    while True:
        try:
            await register_webhook(bot, services)
            return
        except TelegramError as exc:
            log.warning("could not register the webhook (%s); trying again in %.0fs", exc, delay)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("could not register the webhook (%s); trying again", type(exc).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)


def qr_rotation(application: Application) -> QrRotation:  # type: ignore[type-arg]
    """The leader's loop that replaces the check-in QR photos (/qr) every period."""
    rotation = application.bot_data["qr_rotation"]
    assert isinstance(rotation, QrRotation)
    return rotation


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Migrate the database, register command menus (run before updates are taken)."""
    services = get_services(application.bot_data)
    await prepare(services.db)
    async with services.db.session() as session:
        committee = await members_db.committee_languages(session, services.settings.admin_ids)
    await register_menus(application.bot, committee.items())
    services.cards.start()
    cluster = services.cluster
    if cluster is not None:
        await cluster.start()

    async def elected() -> None:
        if cluster is not None:
            cluster.leading = True
            if services.settings.webhook_url is not None:
                registering = asyncio.create_task(keep_registering(application.bot, services))
                application.bot_data["registering"] = registering  # a reference keeps it
        services.outbox.start()
        qr_rotation(application).start()
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
            application.job_queue.run_repeating(
                lambda _context: erase_expired_texts(services),
                interval=RETENTION_EVERY,
                first=120,
                name="maintenance:retention",
                job_kwargs={"id": "maintenance:retention", "replace_existing": True},
            )

    async def deposed() -> None:
        if cluster is not None:
            cluster.leading = False
            services.cards.hand_over()  # the next leader edits what was left
        services.reminders.attach(None)
        await services.reminders.settle()
        if application.job_queue is not None:
            for job in application.job_queue.scheduler.get_jobs():
                job.remove()
        await qr_rotation(application).stop()
        await services.outbox.stop()

    leadership = Leadership(services.db, elected, deposed)
    application.bot_data["leadership"] = leadership
    await leadership.start()
    settings = services.settings
    if settings.webhook_url is None:  # polling: /healthz and /metrics, the dashboard, apart
        if settings.metrics_listen is not None:
            server = web_server(
                application, services, settings.metrics_listen, webhook=False, dashboard=False
            )
            await server.start()
            application.bot_data["web"] = server
        if settings.webapp_listen is not None:
            server = web_server(
                application, services, settings.webapp_listen, webhook=False, metrics=False
            )
            await server.start()
            application.bot_data["webapp"] = server
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # uvloop or asyncio
    log.info("started as @%s on %s", application.bot.username, loop)


def web_server(
    application: Application,  # type: ignore[type-arg]
    services: Services,
    listen: tuple[str, int],
    *,
    webhook: bool,
    dashboard: bool = True,
    metrics: bool = True,
) -> WebServer:
    """The HTTP server: the webhook (in webhook mode), /healthz, /metrics and the dashboard
    (when WEBAPP_URL is set). aiohttp's server is loaded only by a bot that serves one: a
    polling bot without METRICS_LISTEN or WEBAPP_LISTEN has none."""
    from bot.web import WebServer

    settings = services.settings

    def is_leader() -> bool:
        leadership = application.bot_data.get("leadership")
        return isinstance(leadership, Leadership) and leadership.is_leader

    return WebServer(
        application,
        services,
        listen,
        webhook_path=settings.webhook_path if webhook else None,
        secret=settings.webhook_secret,
        is_leader=is_leader,
        dashboard=shared_dashboard(application, services) if dashboard else None,
        metrics=metrics,
    )


def shared_dashboard(
    application: Application,  # type: ignore[type-arg]
    services: Services,
) -> Dashboard | None:
    """The dashboard's routes (one instance, stopped with the bot), when WEBAPP_URL is set."""
    from handlers.dashboard import Dashboard

    if services.settings.webapp_url is None:
        return None
    found = application.bot_data.get("dashboard")
    if not isinstance(found, Dashboard):
        found = application.bot_data["dashboard"] = Dashboard(services, application.bot)
    return found


async def on_stop(application: Application) -> None:  # type: ignore[type-arg]
    """Updates are no longer taken and those taken are done: flush while the bot can still
    talk to Telegram (stop leading, let sends in flight finish, edit the dirty cards)."""
    services = get_services(application.bot_data)
    dashboard = application.bot_data.get("dashboard")
    if dashboard is not None:  # its actions would start what is being stopped
        dashboard.close()
    leadership = application.bot_data.get("leadership")
    if isinstance(leadership, Leadership):
        await leadership.stop()
    await services.outbox.stop()
    await services.builds.stop()
    await services.cards.stop()
    if services.cluster is not None:
        await services.cluster.stop()


async def on_shutdown(application: Application) -> None:  # type: ignore[type-arg]
    """Stop serving metrics, release the database."""
    for name in ("web", "webapp"):
        server = application.bot_data.get(name)
        if server is not None:
            await server.stop()
    await get_services(application.bot_data).db.dispose()


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The bot, wired: settings, database, rate limiter and every feature's handlers."""
    webhook = settings.webhook_url is not None
    limiter = TelegramRateLimiter()
    processor = PerSenderUpdateProcessor(CONCURRENT_UPDATES, WAITING_UPDATES)
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .rate_limiter(limiter)
        .request(AiohttpRequest())
        .concurrent_updates(processor)
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    # Webhook mode: updates arrive through our own server (bot.web), not an Updater.
    # Polling: a second connection for getUpdates, so that on stop the call that marks the
    # fetched updates as read need not wait behind the long poll being cancelled.
    builder = (
        builder.updater(None)
        if webhook
        else builder.get_updates_request(AiohttpRequest(connection_pool_size=2))
    )
    application = builder.build()
    db = Database(settings.database_url)
    outbox = OutboxDispatcher(application.bot, db)
    cluster = Cluster(db) if webhook else None
    services = Services(
        settings=settings,
        db=db,
        cards=CardRefresher(application.bot),
        outbox=outbox,
        cluster=cluster,
        # The clock is read through `services` so tests can move it.
        reminders=ReminderEngine(
            db,
            settings.timezone,
            settings.admin_ids,
            lambda: services.now(),
            outbox.wake,
            # An activity that ended: its card loses its buttons and says so.
            on_activity_ended=lambda activity_id: services.cards.touch(
                activity_cards.CARD, activity_id
            ),
            # A rapid call that closed: its card shows the final count, without buttons.
            on_muster_closed=lambda muster_id: services.cards.touch(musters_sched.CARD, muster_id),
        ),
    )
    # Each card as it should look now, in its group's language.
    zone = settings.timezone
    services.cards.register(
        activity_cards.CARD,
        lambda item: activity_cards.card_views(db, zone, services.now(), outbox.wake, item),
    )
    services.cards.register(
        notices_sched.CARD, lambda item: notices_sched.card_views(db, outbox.wake, item)
    )
    services.cards.register(
        musters_sched.CARD, lambda item: musters_sched.card_views(db, zone, services.now(), item)
    )
    notice_hooks = NoticeHooks(services.cards, notices_sched.CARD)
    for purpose in (POST, FOLLOWUP, REPORT):
        outbox.hooks[purpose] = notice_hooks
    outbox.hooks[PROMOTION] = PromotionHooks(settings.timezone)
    outbox.hooks[activity_cards.POST] = ActivityCardHooks(services.cards, activity_cards.CARD)
    outbox.hooks[REMINDER] = ReminderHooks(settings.admin_ids)
    muster_hooks = musters_sched.MusterHooks(services.cards, musters_sched.CARD, settings.admin_ids)
    for purpose in (musters_sched.POST, musters_sched.PROMOTED, musters_sched.NOTE):
        outbox.hooks[purpose] = muster_hooks
    outbox.renderers[QUARTER_REPORT] = lambda row: reports_sched.send_quarter_report(
        application.bot, db, settings, services.now(), row
    )
    application.bot_data["services"] = services
    application.bot_data["qr_rotation"] = QrRotation(application.bot, services)
    if cluster is not None:
        wire_cluster(application, cluster, services, limiter, processor)
    # A "group chat was upgraded to a supergroup" answer to any send or edit moves the chat.
    outbox.on_migrated = services.cards.on_migrated = services.migrate_chat
    # Quiet hours are judged by the services' clock (tests move it).
    outbox.set_quiet_hours(settings.quiet_hours, settings.timezone, services.now)

    # First: drop edited messages, channel posts and anonymous senders before any feature.
    application.add_handler(TypeHandler(Update, fallbacks.gatekeeper), group=-1)
    # checkin before start: its /start handler takes the deep links from the cards' buttons.
    features = (
        checkin,
        qr,  # before start too: its /start handler takes the scanned QR codes' deep links
        start,
        members,
        registration,
        people,
        membership,
        privacy,
        chats,
        newevent_dialog,  # before activities: /newevent alone starts the guided dialogue
        activities,
        notices,
        volunteer,
        reminders,
        reports,
        summary,
        tasks,
        imports,
        approvals,
        certificates,
        dashboard,
        plans,
        musters,
        needs,
        lang,
        replies,  # after every command: typed answers in groups
    )
    for feature in features:
        application.add_handlers(feature.handlers())
    # Private texts go to the conversation waiting for them (their state is in the database);
    # a text nobody waits for may be a typed 收到 or 签到.
    router = conversations.Router(
        {
            **checkin.STEPS,
            **needs.STEPS,
            **newevent_dialog.STEPS,
            **registration.STEPS,
            **tasks.STEPS,
        },
        otherwise=replies.typed_in_private,
        anyone=registration.ANYONE,
    )
    application.add_handlers(router.handlers())
    # Last: anything no feature recognised gets an answer instead of silence.
    application.add_handler(MessageHandler(filters.COMMAND, fallbacks.unknown_command))
    application.add_handler(CallbackQueryHandler(fallbacks.unknown_button))
    application.add_error_handler(fallbacks.on_error)
    return application


def wire_cluster(
    application: Application,  # type: ignore[type-arg]
    cluster: Cluster,
    services: Services,
    limiter: TelegramRateLimiter,
    processor: PerSenderUpdateProcessor,
) -> None:
    """Webhook mode: stored updates marked done, orphans adopted, one shared budget."""
    limiter.cluster = services.cards.cluster = cluster

    def done(update: object) -> None:
        if isinstance(update, Update):
            cluster.done(update.update_id)

    async def adopt(orphans: list[tuple[int, str]]) -> None:
        for _update_id, payload in orphans:
            update = Update.de_json(json.loads(payload), application.bot)
            await application.update_queue.put(update)

    def share() -> None:
        paused = cluster.paused_until
        seconds = (paused - utcnow()).total_seconds() if paused is not None else 0.0
        limiter.share(cluster.instances, seconds)

    processor.on_done = done
    cluster.on_orphans = adopt
    cluster.on_cards = services.cards.requested
    cluster.on_sync = share


# What the bot asks Telegram for; everything else is never sent to it. `chat_member` (who joins
# and leaves the groups) comes only where the bot is an administrator.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
]
