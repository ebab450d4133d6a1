"""/healthz and /metrics in polling mode (METRICS_LISTEN), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import build_application
from bot.web import WebServer
from tests.harness import ADMIN_ID, BotHarness, make_settings
from tests.tgserver import FakeTelegram


@pytest.fixture
async def served(tg: FakeTelegram, database_url: str) -> AsyncIterator[tuple[BotHarness, str]]:
    settings = make_settings(tg, database_url, metrics_listen=("127.0.0.1", 0))
    harness = BotHarness(tg, build_application(settings))
    await harness.start()
    server = harness.app.bot_data["web"]
    assert isinstance(server, WebServer)
    yield harness, f"http://127.0.0.1:{server.port}"
    await harness.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


async def test_health_says_the_database_and_the_role(served: tuple[BotHarness, str]) -> None:
    _bot, base = served
    status, body = await get(base + "/healthz")
    assert status == 200
    assert body == '{"database": "ok", "role": "leader"}'


async def test_metrics_count_updates_api_calls_and_the_outbox(
    served: tuple[BotHarness, str],
) -> None:
    bot, base = served
    await bot.admin.ask_private("/start")
    await bot.admin.ask_private("/nosuchcommand")
    status, body = await get(base + "/metrics")
    assert status == 200
    for line in (
        'qgw_updates_total{outcome="handled",type="message"}',
        'qgw_bot_api_calls_total{method="sendMessage",status="ok"}',
        "qgw_handler_seconds_bucket",
        "qgw_outbox_pending 0.0",
        "qgw_is_leader 1.0",
        "qgw_reminders_total",
    ):
        assert line in body, line
    assert bot.tg.count_calls("sendMessage", chat_id=ADMIN_ID) >= 2


async def test_no_webhook_is_served_in_polling_mode(served: tuple[BotHarness, str]) -> None:
    _bot, base = served
    async with aiohttp.ClientSession() as client, client.post(base + "/", json={}) as response:
        assert response.status in (404, 405)
