"""`python -m bot`: read settings, configure logging, run the bot (long polling, or webhook
mode when WEBHOOK_URL is set)."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from typing import TYPE_CHECKING

from dotenv import find_dotenv, load_dotenv

from db.database import PROJECT_ROOT
from scheduler.settings import Settings, SettingsError

if TYPE_CHECKING:
    from telegram.ext import Application


def main() -> int:
    load_dotenv(find_dotenv(usecwd=True) or PROJECT_ROOT / ".env")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2

    # Imported late so a configuration error is reported without loading the whole bot.
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.bot_token, settings.webhook_secret)
    if settings.event_loop == "uvloop":
        import uvloop

        # Before the application exists: run_polling and asyncio.run make their loop from it.
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    application = build_application(settings)
    # What start-up made (modules, the application, ~130k objects) lives as long as the
    # process: leave it out of the garbage collector's full passes, each of which would
    # otherwise stall every update for 60 ms (docs/benchmarks.md, issue 24).
    gc.freeze()
    if settings.webhook_url is not None:
        asyncio.run(run_webhook(application, settings))
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


async def run_webhook(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Serve the webhook until SIGTERM or SIGINT, in the order run_polling keeps: start up,
    take updates; on a signal stop taking them, finish those taken, flush, shut down."""
    from bot.app import web_server
    from scheduler.services import get_services

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    services = get_services(application.bot_data)
    server = web_server(application, services, settings.webhook_listen, webhook=True)
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)
        await application.start()
        await server.start()
        await stop.wait()
        await server.stop()  # what was answered 200 is stored; what is queued runs now
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
    finally:
        await server.stop()
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


if __name__ == "__main__":
    sys.exit(main())
