"""The test harness: the bot's settings for a test, the running Application against the local
Bot API server with the people and chats of a test, and the test clock. Fixtures that build
these are in conftest.py; steps shared by the tests are in tests/steps.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.internal.observability  # noqa: F401  (see below)
from sqlalchemy import select
from sqlalchemy.engine import make_url
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application, on_shutdown, on_startup, on_stop
from bot.logs import redact
from db.models import Member, Unit
from scheduler.ordering import PerSenderUpdateProcessor
from scheduler.services import Services, get_services
from scheduler.settings import Settings
from tests.tgserver import FakeTelegram, TgUser

TOKEN = "123456789:AAtest-token-for-the-local-server-only"


WEBHOOK_SECRET = "cluster-test-secret_1"  # webhook mode's secret_token in the tests


ADMIN_ID = 1001


GROUP_ID = -100100


POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"

redact(TOKEN)  # every log line of the tests too
redact(WEBHOOK_SECRET)


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def make_settings(tg: FakeTelegram, database_url: str, **overrides: Any) -> Settings:
    """The bot's settings for a test. Tests act far faster than people, so the flood guard
    is off unless a test turns it on (`flood_per_minute=…`)."""
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=tg.url,
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        flood_per_minute=None,
    )
    return replace(settings, **overrides)


class BotHarness:
    """The real Application polling the local server, plus the people and chats of a test.

    The bot's clock is a `FakeClock` from before it starts, so nothing it does at start-up (the
    reminder engine's catch-up, above all) sees the real date: pinned to `at` (local time) and
    frozen, or, without `at`, running from `DEFAULT_START`.
    """

    def __init__(
        self,
        tg: FakeTelegram,
        application: Application,  # type: ignore[type-arg]
        at: str | None = None,
    ) -> None:
        self.tg = tg
        self.app = application
        self.services.clock = FakeClock(DEFAULT_START, run=True) if at is None else FakeClock(at)
        self.group = tg.add_group(GROUP_ID)
        self.admin = tg.add_user(ADMIN_ID, "管理员", "boss", groups=[GROUP_ID])
        self.main_bound = False  # /setup sent in the main group
        # Updates the server delivered before this Application started (a restart).
        self._delivered_before = 0

    @property
    def services(self) -> Services:
        return get_services(self.app.bot_data)

    async def start(self) -> None:
        self._delivered_before = len(self.tg.delivered)
        await self.app.initialize()
        await on_startup(self.app)
        assert self.app.updater is not None
        app = self.app

        def polling_failed(exc: TelegramError) -> None:  # as Application.run_polling does
            app.create_task(app.process_error(error=exc, update=None))

        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=5,
            allowed_updates=ALLOWED_UPDATES,
            error_callback=polling_failed,
        )
        await self.app.start()

    async def stop(self) -> None:
        assert self.app.updater is not None
        stopping = asyncio.create_task(self.app.updater.stop())
        await asyncio.sleep(0)
        self.tg.wake()
        await stopping
        # In the order Application.run_polling uses.
        await self.app.stop()
        await on_stop(self.app)
        await self.app.shutdown()
        await on_shutdown(self.app)

    async def settled(self, timeout: float = 20.0) -> None:
        """The barrier: every update the server has handed out has been handled (the server
        holds none back, and the bot finished as many as were ever delivered). After it, "the
        bot did nothing" is a fact, not a guess."""
        processor = self.app.update_processor
        assert isinstance(processor, PerSenderUpdateProcessor)
        tg = self.tg
        await tg.wait_for(
            lambda: (
                not tg.updates and processor.finished >= len(tg.delivered) - self._delivered_before
            ),
            timeout,
            "every update handled",
        )

    async def restart(self) -> None:
        """Stop this Application and start a new one on the same database (a bot restart)."""
        settings, clock = self.services.settings, self.services.clock
        await self.stop()
        self.app = build_application(settings)
        self.services.clock = clock
        await self.start()

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        language_code: str | None = None,
    ) -> TgUser:
        """One of the organisation's people: in the main group."""
        return self.tg.add_user(
            user_id, first_name, username, language_code=language_code, groups=[self.group.id]
        )

    def stranger(self, user_id: int, first_name: str, username: str | None = None) -> TgUser:
        """Someone who found the bot but is in none of the organisation's groups."""
        return self.tg.add_user(user_id, first_name, username)

    async def setup_main_group(self) -> None:
        reply = await self.admin.ask(self.group.id, "/setup")
        assert "主群" in reply, reply
        self.main_bound = True

    async def add_units(self, *names: str) -> None:
        await self.admin.ask_private("/start")
        for name in names:
            reply = await self.admin.ask_private(f"/unit add {name}")
            assert name in reply, reply

    async def registered(
        self, user_id: int, name: str, unit: str, *, username: str | None = None
    ) -> TgUser:
        """A user in the main group who started the bot privately and registered (the main
        group is bound first if it is not yet: registering at once needs it)."""
        if not self.main_bound:
            await self.setup_main_group()
        user = self.user(user_id, name, username)
        reply = await user.ask_private(f"/register {name} {unit}")
        assert "登记成功" in reply, reply
        return user


DEFAULT_START = "2026-12-07 10:00"


def local_time(text: str, zone: str = "Asia/Shanghai") -> dt.datetime:
    """'YYYY-MM-DD HH:MM[:SS]' in `zone`, as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


class FakeClock:
    """The bot's clock in tests: starts at a local time, then stands still (tests move it by
    hand) or, with `run=True`, runs at the real pace until a test moves it."""

    def __init__(self, local: str, *, run: bool = False) -> None:
        self._at = local_time(local)
        self._since = time.monotonic() if run else None

    @property
    def now(self) -> dt.datetime:
        if self._since is None:
            return self._at
        return self._at + dt.timedelta(seconds=time.monotonic() - self._since)

    @now.setter
    def now(self, value: dt.datetime) -> None:
        self._at, self._since = value, None

    def __call__(self) -> dt.datetime:
        return self.now

    def set_local(self, text: str, zone: str = "Asia/Shanghai") -> None:
        """Set the time from 'YYYY-MM-DD HH:MM[:SS]' in `zone`."""
        self.now = local_time(text, zone)


def clock(bot: BotHarness) -> FakeClock:
    assert isinstance(bot.services.clock, FakeClock)
    return bot.services.clock


async def seed_members(
    bot: BotHarness, count: int, unit: str, *, first_id: int = 500000, name: str = "成员"
) -> list[TgUser]:
    """`count` registered members of `unit` (written directly: fast set-up for big tests)."""
    async with bot.services.db.session() as session:
        unit_row = await session.scalar(select(Unit).where(Unit.name == unit))
        assert unit_row is not None
        session.add_all(
            Member(
                telegram_id=first_id + i,
                first_name=f"{name}{i}",
                real_name=f"{name}{i:03d}",
                unit_id=unit_row.id,
                registered_at=bot.services.now(),  # the bot's clock: tests move it
                can_dm=True,
            )
            for i in range(count)
        )
        await session.commit()
    users = [bot.tg.add_user(first_id + i, f"{name}{i}") for i in range(count)]
    bot.tg.started.update(u.id for u in users)
    return users
