"""Shared benchmark harness: the real bot process, a prepared database, the local Bot API server."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from db.database import Database
from db.migrate import upgrade
from db.models import Chat, Member, Unit, utcnow
from tests.processes import bot_env, spawn, stop
from tests.tgserver import FakeTelegram, TgUser

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAbench-token-for-the-local-server-only"
ADMIN_ID = 1001
GROUP_ID = -100100
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A fresh, migrated database URL of `kind` (sqlite or postgresql), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
            db = Database(url)
            await upgrade(db)
            await db.dispose()
            yield url
        return
    name = f"qgw_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_dsn(POSTGRES_URL))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    try:
        yield url
    finally:
        conn = await asyncpg.connect(_dsn(POSTGRES_URL))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def seed(url: str, count: int, unit: str = "办公室") -> None:
    """`count` registered members of one unit, the main group, the admin."""
    db = Database(url)
    async with db.session() as session:
        unit_row = Unit(name=unit)
        session.add(unit_row)
        await session.flush()
        session.add(
            Chat(id=GROUP_ID, title="青工委群", purpose="main", bot_is_admin=True, bot_can_pin=True)
        )
        session.add(Member(telegram_id=ADMIN_ID, first_name="管理员", can_dm=True))
        session.add_all(
            Member(
                telegram_id=10_000 + i,
                first_name=f"m{i}",
                real_name=f"成员{i:04d}",
                unit_id=unit_row.id,
                registered_at=utcnow(),
                lang="zh",  # as registering leaves it: a press then writes no update
                can_dm=True,
            )
            for i in range(count)
        )
        await session.commit()
    await db.dispose()


@dataclass
class World:
    tg: FakeTelegram
    url: str
    admin: TgUser
    members: list[TgUser]
    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start `python -m bot` and wait until it answers."""
        self.process = await spawn(self.env, self.log_path)
        assert "青工委助手" in await self.admin.ask_private("/start", timeout=60)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        assert self.process is not None
        self.process.kill()

    async def stop(self) -> None:
        if self.process is not None:
            self.tg.wake()
            await stop(self.process)


@asynccontextmanager
async def running_bot(kind: str, members: int) -> AsyncIterator[World]:
    """The local server, a seeded database and `python -m bot` running against both."""
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    admin = tg.add_user(ADMIN_ID, "管理员")
    users = [tg.add_user(10_000 + i, f"m{i}") for i in range(members)]
    tg.started.update(u.id for u in users)
    async with database(kind) as url:
        await seed(url, members)
        env = bot_env(TOKEN, tg.url, url, ADMIN_IDS=str(ADMIN_ID), LOG_LEVEL="WARNING")
        world = World(
            tg, url, admin, users, env, Path(tempfile.mkdtemp(prefix="bench-")) / "bot.log"
        )
        try:
            await world.start()
            yield world
        finally:
            await world.stop()
            await tg.stop()


async def posted(
    world: World, command: str, number: str, marker: Callable[[int], str]
) -> tuple[int, dict[str, Any]]:
    """The admin sends `command`; the number its reply names (`number`, a pattern with one
    group) and the group card that then carries `marker(number)`."""
    reply = await world.admin.ask_private(command, timeout=60)
    match = re.search(number, reply)
    assert match, reply
    item_id = int(match[1])
    card = await world.tg.wait_for(
        lambda: next(
            (m for m in world.tg.bot_messages(GROUP_ID) if marker(item_id) in m["text"]), None
        ),
        timeout=30,
        what="card",
    )
    return item_id, card


async def create_activity(world: World, args: str) -> tuple[int, dict[str, Any]]:
    return await posted(world, f"/newevent {args}", r"#(\d+)", lambda i: f"#{i} ")


async def burst(world: World, card: dict[str, Any], label: str, seconds: float) -> list[Any]:
    """Every member presses `label` once, spread evenly over `seconds`."""
    start = time.monotonic()
    callbacks = []
    for i, user in enumerate(world.members):
        delay = start + i * seconds / len(world.members) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        callbacks.append(user.press(card, label))
    return callbacks


@contextmanager
def collector_paused() -> Iterator[None]:
    """This process's garbage collector off while a burst is measured: the local server keeps
    every call, and its full collections (tens of ms, more each round) were counted as the
    bot's latency, the bare bot's as much as ours."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def max_per_minute(times: list[float]) -> int:
    """The most events in any 60-second window."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 60:
            j += 1
        best = max(best, i - j + 1)
    return best


def group_sends(tg: FakeTelegram, since: float) -> list[float]:
    limited = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}
    return [
        c.at
        for c in tg.calls
        if c.ok and c.method in limited and c.params.get("chat_id") == GROUP_ID and c.at >= since
    ]


async def wait_exact(tg: FakeTelegram, card: dict[str, Any], wanted: str, since: float) -> float:
    """Seconds from `since` until the card shows `wanted` (inf if it never does)."""
    message = tg.chats[GROUP_ID].messages[card["message_id"]]
    try:
        await tg.wait_for(lambda: wanted in message["text"], 60, "the exact card")
    except AssertionError:
        return float("inf")
    return tg.clock() - since


def print_places(
    members: int, confirmed: int, waitlisted: int, places: int, note: str = ""
) -> None:
    """The outcome of a race for `places`: nobody over the limit, nobody lost."""
    over = max(0, confirmed - places)
    print(f"  confirmed / waitlisted {confirmed} / {waitlisted} (over-filled: {over}{note})")
    print(f"  lost                   {members - confirmed - waitlisted}")


def print_burst_figures(tg: FakeTelegram, callbacks: list[Any], began: float, exact: float) -> None:
    """The figures every burst benchmark prints: latency, group budget, 429s, exactness."""
    latencies = [c.answered_at - c.pressed_at for c in callbacks if c.answered_at]
    print(
        f"  latency p50 / p99      {percentile(latencies, 50) * 1000:.0f} ms / "
        f"{percentile(latencies, 99) * 1000:.0f} ms"
    )
    print(f"  group sends+edits/min  {max_per_minute(group_sends(tg, began))} (limit 20)")
    print(f"  429s received          {len(tg.errors(429))}")
    print(f"  card exact after       {exact:.1f} s after the last press")
