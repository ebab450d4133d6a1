"""SIGTERM mid-burst: stop taking updates, finish those taken, flush the card, lose nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.models import Attendance
from tests.harness import ADMIN_ID, GROUP_ID, TOKEN
from tests.processes import BotProcess, seed
from tests.tgserver import Callback, FakeTelegram, TgUser


def card_of(tg: FakeTelegram) -> dict[str, object] | None:
    return next((m for m in tg.bot_messages(GROUP_ID) if "停机签到" in str(m.get("text"))), None)


def present_on_card(tg: FakeTelegram) -> int:
    card = card_of(tg)
    match = re.search(r"已签到 (\d+)", str(card.get("text")) if card else "")
    return int(match[1]) if match else -1


async def test_sigterm_mid_burst_finishes_what_it_took_and_loses_nothing(
    database_url: str, tmp_path: Path
) -> None:
    people = 40
    db = await seed(database_url, people)
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    admin = tg.add_user(ADMIN_ID, "管理员")
    members = [tg.add_user(80_000 + i, f"m{i}") for i in range(people)]
    tg.started.update(m.id for m in members)
    bot = BotProcess(tg, database_url, tmp_path / "bot.log")

    async def recorded() -> int:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Attendance)) or 0)

    try:
        await bot.start()
        await tg.wait_for(lambda: bot.said("this instance leads"), 60, "the bot")
        starts = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(minutes=10)
        created = await admin.ask_private(f"/newevent 学习 {starts:%Y-%m-%d %H:%M} 停机签到", 30)
        assert "已创建活动" in created, created
        card = await tg.wait_for(lambda: card_of(tg), 30, "the card")
        presses: list[tuple[TgUser, Callback]] = []

        async def burst() -> None:
            for member in members:
                presses.append((member, member.press(card, "签到")))
                await asyncio.sleep(0.05)

        pressing = asyncio.create_task(burst())
        await tg.wait_for(lambda: any(c.answered.done() for _, c in presses), 20, "answers")
        stopping = time.monotonic()
        await bot.stop()  # SIGTERM mid-burst: answers are out, more presses are coming
        took = time.monotonic() - stopping
        await pressing
        answered = [m for m, c in presses if c.answered.done()]
        # Every answer was true, and the card was flushed before the process left.
        assert await recorded() == len(answered)
        assert present_on_card(tg) == len(answered)
        assert took < 20, took
        # What it had not taken is still waiting at Telegram: the next start handles it.
        unanswered = {c.id for _, c in presses if not c.answered.done()}
        waiting = {u["callback_query"]["id"] for u in tg.updates if "callback_query" in u}
        assert unanswered <= waiting
        await bot.start()
        await tg.wait_for(lambda: all(c.answered.done() for _, c in presses), 60, "the rest")
        assert all("签到成功" in (c.answered.result()["text"] or "") for _, c in presses)
        assert await recorded() == people
        await tg.wait_for(lambda: present_on_card(tg) == people, 30, "the card at 40")
        assert not bot.said("Traceback")
    finally:
        await bot.stop()
        await tg.stop()
        await db.dispose()
