"""Settings: every bad value stops start-up with one line naming the setting."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.quiet import QuietHours
from scheduler.settings import DEFAULT_API_URL, Settings, SettingsError

TOKEN = "123456:ABCdefGhIJKlmnoPQRstuVWXyz012345678"


def test_defaults() -> None:
    settings = Settings.from_env({"BOT_TOKEN": TOKEN})
    assert settings.telegram_api_url == DEFAULT_API_URL
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("data/bot.sqlite3")
    assert str(settings.timezone) == "Asia/Shanghai"
    assert settings.admin_ids == frozenset()
    assert (settings.checkin_opens_minutes, settings.late_after_minutes) == (30, 15)
    assert settings.quiet_hours == QuietHours(dt.time(21, 0), dt.time(8, 0))


def test_values_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "DATABASE_URL": "postgresql+asyncpg://u:p@db/qgw",
            "ADMIN_IDS": " 1, 22 ,333 ",
            "TIMEZONE": "Asia/Urumqi",
            "LOG_LEVEL": "debug",
            "CHECKIN_OPENS_MINUTES": "45",
        }
    )
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.log_level == "DEBUG"
    assert settings.checkin_opens_minutes == 45
    assert Settings.from_env({"BOT_TOKEN": TOKEN}).low_attendance_percent == 60
    assert (
        Settings.from_env(
            {"BOT_TOKEN": TOKEN, "LOW_ATTENDANCE_PERCENT": "75"}
        ).low_attendance_percent
        == 75
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOT_TOKEN", ""),
        ("BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_URL", "ftp://x"),
        ("DATABASE_URL", "mysql://x"),
        ("ADMIN_IDS", "12,abc"),
        ("TIMEZONE", "Mars/Olympus"),
        ("LOG_LEVEL", "LOUD"),
        ("LATE_AFTER_MINUTES", "-5"),
        ("LOW_ATTENDANCE_PERCENT", "101"),
        ("LOW_ATTENDANCE_PERCENT", "６０"),
        ("QUIET_HOURS", "22:00-22:00"),
        ("QUIET_HOURS", "21:00"),
        ("QUIET_HOURS", "25:00-08:00"),
        ("QUIET_HOURS", "21:00-08:60"),
        ("QUIET_HOURS", "２１:00-08:00"),
        ("QUIET_HOURS", "night"),
        ("QR_ROTATE_SECONDS", "9"),
        ("QR_ROTATE_SECONDS", "601"),
        ("QR_ROTATE_SECONDS", "30s"),
        ("QR_ROTATE_SECONDS", "３０"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    env = {"BOT_TOKEN": TOKEN, name: value}
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    assert name in message and "\n" not in message


def test_missing_token_says_how_to_get_one() -> None:
    with pytest.raises(SettingsError, match="@BotFather"):
        Settings.from_env({})


def test_webhook_mode_needs_an_https_url_and_a_secret() -> None:
    base = {"BOT_TOKEN": TOKEN}
    polling = Settings.from_env(base)
    assert polling.webhook_url is None and polling.metrics_listen is None
    hook = {"WEBHOOK_URL": "https://bot.example.org/tg/x1", "WEBHOOK_SECRET": "s3cret_-X"}
    settings = Settings.from_env(base | hook)
    assert settings.webhook_path == "/tg/x1"
    assert settings.webhook_listen == ("0.0.0.0", 8080)
    assert Settings.from_env(base | hook | {"WEBHOOK_LISTEN": "127.0.0.1:9000"}).webhook_listen == (
        "127.0.0.1",
        9000,
    )
    assert Settings.from_env(base | {"METRICS_LISTEN": "[::1]:9100"}).metrics_listen == (
        "::1",
        9100,
    )
    for bad, named in (
        ({"WEBHOOK_URL": "https://bot.example.org/tg"}, "WEBHOOK_SECRET is required"),
        ({"WEBHOOK_URL": "http://bot.example.org/tg", "WEBHOOK_SECRET": "a"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example.org/?a=1", "WEBHOOK_SECRET": "a"}, "WEBHOOK_URL"),
        (hook | {"WEBHOOK_SECRET": "has space"}, "WEBHOOK_SECRET must be"),
        (hook | {"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET must be"),
        (hook | {"WEBHOOK_LISTEN": "8080"}, "WEBHOOK_LISTEN"),
        (hook | {"WEBHOOK_LISTEN": "0.0.0.0:99999"}, "WEBHOOK_LISTEN"),
        ({"METRICS_LISTEN": "localhost:x"}, "METRICS_LISTEN"),
    ):
        with pytest.raises(SettingsError, match=named) as raised:
            Settings.from_env(base | bad)
        assert "\n" not in str(raised.value)


def test_the_dashboard_needs_an_https_url_ending_in_app() -> None:
    base = {"BOT_TOKEN": TOKEN}
    assert Settings.from_env(base).webapp_url is None
    settings = Settings.from_env(
        base | {"WEBAPP_URL": "https://bot.example.org/app/", "WEBAPP_LISTEN": "127.0.0.1:8090"}
    )
    assert settings.webapp_url == "https://bot.example.org/app/"
    assert settings.webapp_listen == ("127.0.0.1", 8090)
    hook = {"WEBHOOK_URL": "https://bot.example.org/tg/x1", "WEBHOOK_SECRET": "s3cret_-X"}
    on_webhook = Settings.from_env(base | hook | {"WEBAPP_URL": "https://bot.example.org/app/"})
    assert on_webhook.webapp_url is not None and on_webhook.webapp_listen is None
    for bad, named in (
        ({"WEBAPP_URL": "http://bot.example.org/app/"}, "https"),
        ({"WEBAPP_URL": "https://bot.example.org/dashboard"}, "/app/"),
        ({"WEBAPP_URL": "https://bot.example.org/app/#x"}, "WEBAPP_URL"),
        ({"WEBAPP_LISTEN": "8090"}, "WEBAPP_LISTEN"),
        ({"WEBAPP_URL": "https://bot.example.org/app/"}, "needs WEBAPP_LISTEN"),
        ({"WEBAPP_LISTEN": "127.0.0.1:9100", "METRICS_LISTEN": "127.0.0.1:9100"}, "must differ"),
    ):
        with pytest.raises(SettingsError, match=named):
            Settings.from_env(base | bad)


def test_quiet_hours_may_wrap_midnight_or_not_or_be_off() -> None:
    def quiet(value: str) -> QuietHours | None:
        return Settings.from_env({"BOT_TOKEN": TOKEN, "QUIET_HOURS": value}).quiet_hours

    assert quiet("22:30-07:00") == QuietHours(dt.time(22, 30), dt.time(7, 0))
    assert quiet(" 12:00 - 13:30 ") == QuietHours(dt.time(12, 0), dt.time(13, 30))
    assert quiet("OFF") is None and quiet("off") is None


def test_qr_rotation_period_defaults_to_30_seconds_and_allows_10_to_600() -> None:
    def rotate(value: str | None) -> int:
        env = {"BOT_TOKEN": TOKEN} | ({"QR_ROTATE_SECONDS": value} if value is not None else {})
        return Settings.from_env(env).qr_rotate_seconds

    assert rotate(None) == 30 and rotate("") == 30
    assert (rotate("10"), rotate("45"), rotate("600")) == (10, 45, 600)


def test_the_event_loop_is_uvloop_where_installed_unless_asked_for_asyncio() -> None:
    def loop(value: str | None) -> str:
        env = {"BOT_TOKEN": TOKEN} | ({"EVENT_LOOP": value} if value is not None else {})
        return Settings.from_env(env).event_loop

    assert loop(None) == "uvloop"  # a dependency on Linux
    assert loop("asyncio") == loop("AsyncIO") == "asyncio"
    assert loop("uvloop") == "uvloop"
    with pytest.raises(SettingsError, match="EVENT_LOOP must be uvloop or asyncio"):
        loop("trio")
