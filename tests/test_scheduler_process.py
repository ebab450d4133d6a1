"""Real processes: `python -m bot` restarts around reminders; two instances, one leader."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

from db import outbox as outbox_db
from db.database import Database
from db.models import OneOffReminder, utcnow
from tests.harness import GROUP_ID, TOKEN
from tests.processes import BotProcess, seed
from tests.tgserver import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


async def test_python_m_bot_restart_sends_reminders_once(database_url: str, tmp_path: Path) -> None:
    db = await seed(database_url)
    now = utcnow()
    async with db.session() as session:
        admin_id = 1
        session.add_all(
            [
                # Due an hour before the bot starts: within grace, sent once at start-up.
                OneOffReminder(
                    at=now - dt.timedelta(hours=1), text="停机期间到期的提醒", created_by=admin_id
                ),
                # Due while it runs: a real APScheduler job fires it.
                OneOffReminder(
                    at=now + dt.timedelta(seconds=6), text="运行中到期的提醒", created_by=admin_id
                ),
                # Due long before: missed, never sent.
                OneOffReminder(
                    at=now - dt.timedelta(hours=8), text="很久以前的提醒", created_by=admin_id
                ),
            ]
        )
        await session.commit()
    await db.dispose()
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    bot = BotProcess(tg, database_url, tmp_path / "bot.log")

    def count(fragment: str) -> int:
        return sum(fragment in t for t in tg.texts(GROUP_ID))

    try:
        await bot.start()
        await tg.wait_for(lambda: count("停机期间到期的提醒"), 60, "the overdue reminder")
        await tg.wait_for(lambda: count("运行中到期的提醒"), 60, "the reminder due while running")
        await bot.stop()
        await bot.start()  # a restart after both occurrences
        await tg.wait_for(lambda: bot.said("this instance leads"), 60, "the restarted bot")
        await asyncio.sleep(2)
    finally:
        await bot.stop()
        await tg.stop()
    assert count("停机期间到期的提醒") == 1
    assert count("运行中到期的提醒") == 1
    assert count("很久以前的提醒") == 0
    assert bot.said("missed")


async def pending(db: Database) -> int:
    async with db.session() as session:
        stats = await outbox_db.stats(session, utcnow())
    return stats.by_status.get("pending", 0)


async def test_two_instances_only_the_leader_sends(database_url: str, tmp_path: Path) -> None:
    members = 40
    db = await seed(database_url, members)

    async def enqueue(prefix: str) -> None:
        async with db.session() as session:
            for i in range(members):
                await outbox_db.enqueue(session, f"{prefix}:{i}", 80_000 + i, f"{prefix} {i}")
            await session.commit()

    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    users = [tg.add_user(80_000 + i, f"m{i}") for i in range(members)]
    tg.started.update(u.id for u in users)
    first = BotProcess(tg, database_url, tmp_path / "first.log")
    second = BotProcess(tg, database_url, tmp_path / "second.log")

    def delivered(prefix: str) -> Counter[int]:
        return Counter(u.id for u in users for t in tg.texts(u.id) if t.startswith(prefix))

    try:
        await first.start()
        await tg.wait_for(lambda: first.said("this instance leads"), 60, "the first to lead")
        await second.start()
        await tg.wait_for(lambda: second.said("waiting as a standby"), 60, "a standby")
        await enqueue("第一批")
        await tg.wait_for(lambda: len(delivered("第一批")) == members, 60, "the first batch")
        # Killed only once every send is marked: then nothing may be sent twice, and any
        # repeat would mean the standby had been sending too.
        for _ in range(200):
            if await pending(db) == 0:
                break
            await asyncio.sleep(0.05)
        await first.stop(kill=True)  # kill -9: the standby must take over
        await enqueue("第二批")
        await tg.wait_for(lambda: len(delivered("第二批")) == members, 60, "the second batch")
        assert second.said("this instance leads")
        await asyncio.sleep(1)
    finally:
        await first.stop()
        await second.stop()
        await tg.stop()
        await db.dispose()
    for batch in ("第一批", "第二批"):
        assert set(delivered(batch).values()) == {1}, batch  # each exactly once
