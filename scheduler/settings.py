"""Typed settings read from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.database import DEFAULT_URL
from scheduler import quiet
from scheduler.quiet import QuietHours

DEFAULT_API_URL = "https://api.telegram.org"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# uvloop where it is installed (everywhere but Windows): a press costs less CPU on it (see
# docs/benchmarks.md). `asyncio` keeps Python's own loop.
EVENT_LOOPS = ("uvloop", "asyncio")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:8080"
DEFAULT_FLOOD_PER_MINUTE = 20
DEFAULT_RETENTION_DAYS = 730


def default_event_loop() -> str:
    """uvloop if it can be imported, else asyncio."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and is shown to the operator."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    bot_token: str
    telegram_api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_URL
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    log_level: str = "INFO"
    # From the environment: uvloop where installed. Settings built in code (tests) change
    # nothing: they run on the loop they are given.
    event_loop: str = "asyncio"
    checkin_opens_minutes: int = 30
    late_after_minutes: int = 15
    low_attendance_percent: int = 60
    # Automatic private messages wait out this window. From the environment the default is
    # 21:00-08:00; a Settings built in code (tests) has none unless it asks for one.
    quiet_hours: QuietHours | None = None
    # 补签: how many days after an activity's end it may be asked, and how often a quarter.
    makeup_days: int = 3
    makeup_per_quarter: int = 3
    # qr=on check-in: the QR code and its 6-digit code change this often (seconds).
    qr_rotate_seconds: int = 30
    # Webhook mode (several instances behind a load balancer); polling when unset.
    webhook_url: str | None = None
    webhook_listen: tuple[str, int] = ("0.0.0.0", 8080)
    webhook_secret: str | None = None
    # Polling mode: where /healthz and /metrics are served, if anywhere.
    metrics_listen: tuple[str, int] | None = None
    # The committee's dashboard (a Telegram Mini App): its public https address, and in
    # polling mode where the bot serves it (in webhook mode: on WEBHOOK_LISTEN).
    webapp_url: str | None = None
    webapp_listen: tuple[str, int] | None = None
    # The flood guard: a person's typed commands and answers per minute (None: off).
    flood_per_minute: int | None = DEFAULT_FLOOD_PER_MINUTE
    # Free texts (leave and make-up reasons, needs, relayed replies) are erased this many
    # days after they were written; counts and statuses stay.
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served on: the path of WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path or "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from a mapping (default: `os.environ`), raising SettingsError."""
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name, "").strip()

        token = get("BOT_TOKEN")
        if not token:
            raise SettingsError(
                "BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
                "then put its token in .env as BOT_TOKEN=..."
            )
        if not _TOKEN_RE.match(token):
            raise SettingsError("BOT_TOKEN does not look like a bot token (expected 123456:ABC...)")

        api_url = (get("TELEGRAM_API_URL") or DEFAULT_API_URL).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", api_url):
            raise SettingsError(
                "TELEGRAM_API_URL must be an http(s) URL such as " + DEFAULT_API_URL
            )

        database_url = get("DATABASE_URL") or DEFAULT_URL
        if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )

        try:
            admin_ids = frozenset(int(x) for x in get("ADMIN_IDS").split(",") if x.strip())
        except ValueError:
            raise SettingsError(
                "ADMIN_IDS must be comma-separated numeric Telegram user ids"
            ) from None

        try:
            timezone = ZoneInfo(get("TIMEZONE") or "Asia/Shanghai")
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError("TIMEZONE is not a known time zone (e.g. Asia/Shanghai)") from None

        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError("LOG_LEVEL must be one of " + ", ".join(LOG_LEVELS))

        event_loop = (get("EVENT_LOOP") or default_event_loop()).lower()
        if event_loop not in EVENT_LOOPS:
            raise SettingsError("EVENT_LOOP must be uvloop or asyncio")
        if event_loop == "uvloop" and default_event_loop() != "uvloop":
            raise SettingsError("EVENT_LOOP=uvloop, but uvloop is not installed")

        def minutes(name: str, default: int) -> int:
            raw = get(name)
            if not raw:
                return default
            if not raw.isdigit() or int(raw) > 24 * 60:
                raise SettingsError(f"{name} must be a whole number of minutes (0-1440)")
            return int(raw)

        def percent(name: str, default: int) -> int:
            raw = get(name)
            if not raw:
                return default
            if not raw.isdecimal() or not raw.isascii() or int(raw) > 100:
                raise SettingsError(f"{name} must be a whole percentage (0-100)")
            return int(raw)

        def whole(name: str, default: int, low: int, high: int) -> int:
            raw = get(name)
            if not raw:
                return default
            if not raw.isdecimal() or not raw.isascii() or not low <= int(raw) <= high:
                raise SettingsError(f"{name} must be a whole number from {low} to {high}")
            return int(raw)

        try:
            quiet_hours = quiet.parse(get("QUIET_HOURS") or str(quiet.DEFAULT))
        except ValueError:
            raise SettingsError(
                "QUIET_HOURS must be HH:MM-HH:MM with different start and end "
                "(e.g. 21:00-08:00), or off"
            ) from None

        def listen(name: str, default: str) -> tuple[str, int]:
            raw = get(name) or default
            host, _, port = raw.rpartition(":")
            if not host or not port.isdecimal() or not 0 < int(port) < 65536:
                raise SettingsError(f"{name} must be host:port, such as {DEFAULT_WEBHOOK_LISTEN}")
            return host.strip("[]"), int(port)

        flood = get("FLOOD_PER_MINUTE").lower()
        flood_per_minute = (
            None if flood == "off" else whole("FLOOD_PER_MINUTE", DEFAULT_FLOOD_PER_MINUTE, 1, 600)
        )

        def public_https(name: str, example: str) -> str | None:
            """A public https URL without query or fragment (Telegram reaches only those)."""
            raw = get(name) or None
            if raw is not None:
                parts = urlsplit(raw)
                if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
                    raise SettingsError(f"{name} must be a public https URL such as {example}")
            return raw

        webhook_url = public_https("WEBHOOK_URL", "https://bot.example.org/tg")
        webhook_secret = get("WEBHOOK_SECRET") or None
        if webhook_url is not None and webhook_secret is None:
            raise SettingsError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: 1-256 characters "
                "of A-Z a-z 0-9 _ - that Telegram sends with every update"
            )
        if webhook_secret is not None and not _SECRET_RE.match(webhook_secret):
            raise SettingsError("WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")

        webapp_url = public_https("WEBAPP_URL", "https://bot.example.org/app/")
        if webapp_url is not None and not urlsplit(webapp_url).path.endswith("/app/"):
            raise SettingsError("WEBAPP_URL must end with /app/, where the bot serves it")
        webapp_listen = listen("WEBAPP_LISTEN", "") if get("WEBAPP_LISTEN") else None
        metrics_listen = listen("METRICS_LISTEN", "") if get("METRICS_LISTEN") else None
        if webapp_url is not None and webhook_url is None and webapp_listen is None:
            raise SettingsError(
                "WEBAPP_URL in polling mode needs WEBAPP_LISTEN (host:port, e.g. "
                "127.0.0.1:8090), where the bot serves the dashboard behind the https proxy"
            )
        if webapp_listen is not None and webapp_listen == metrics_listen:
            raise SettingsError(
                "WEBAPP_LISTEN and METRICS_LISTEN must differ: /metrics is never served "
                "beside the dashboard"
            )

        return cls(
            bot_token=token,
            telegram_api_url=api_url,
            database_url=database_url,
            admin_ids=admin_ids,
            timezone=timezone,
            log_level=log_level,
            event_loop=event_loop,
            checkin_opens_minutes=minutes("CHECKIN_OPENS_MINUTES", 30),
            late_after_minutes=minutes("LATE_AFTER_MINUTES", 15),
            low_attendance_percent=percent("LOW_ATTENDANCE_PERCENT", 60),
            quiet_hours=quiet_hours,
            makeup_days=whole("MAKEUP_DAYS", 3, 1, 30),
            makeup_per_quarter=whole("MAKEUP_PER_QUARTER", 3, 0, 50),
            qr_rotate_seconds=whole("QR_ROTATE_SECONDS", 30, 10, 600),
            webhook_url=webhook_url,
            webhook_listen=listen("WEBHOOK_LISTEN", DEFAULT_WEBHOOK_LISTEN),
            webhook_secret=webhook_secret,
            metrics_listen=metrics_listen,
            webapp_url=webapp_url,
            webapp_listen=webapp_listen,
            flood_per_minute=flood_per_minute,
            retention_days=whole("RETENTION_DAYS", DEFAULT_RETENTION_DAYS, 30, 3650),
        )
