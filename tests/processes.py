"""Running the real `python -m bot` as a child process against the local Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from db.database import Database
from db.models import Chat, Member, utcnow
from tests.harness import ADMIN_ID, GROUP_ID, TOKEN
from tests.tgserver import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def bot_env(token: str, api_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """This environment without any bot settings of its own, plus the given ones.

    A child runs on the real clock, so quiet hours are off unless asked for: what it sends
    privately must not depend on the time of day the suite runs at.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=token,
        TELEGRAM_API_URL=api_url,
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        QUIET_HOURS="off",
    )
    env.update(extra)
    return env


async def spawn(
    env: dict[str, str], log: Path, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    """Start `python -m bot`, its stderr appended to `log`."""
    with log.open("ab") as handle:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=handle
        )


async def stop(process: asyncio.subprocess.Process, *, kill: bool = False) -> None:
    """SIGTERM (a clean stop) or SIGKILL (kill -9), and wait for it."""
    if process.returncode is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    await asyncio.wait_for(process.wait(), 30)


class BotProcess:
    def __init__(self, tg: FakeTelegram, url: str, log: Path) -> None:
        self.tg, self.url, self.log = tg, url, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = bot_env(TOKEN, self.tg.url, self.url, ADMIN_IDS=str(ADMIN_ID), LOG_LEVEL="INFO")
        self.process = await spawn(env, self.log)

    def said(self, fragment: str) -> bool:
        return fragment in self.log.read_text(errors="replace") if self.log.exists() else False

    async def stop(self, kill: bool = False) -> None:
        if self.process is not None:
            self.tg.wake()
            await stop(self.process, kill=kill)


async def seed(url: str, members: int = 0) -> Database:
    db = Database(url)
    async with db.session() as session:
        session.add(Chat(id=GROUP_ID, title="青工委群", purpose="main", bot_is_admin=True))
        session.add(Member(telegram_id=ADMIN_ID, first_name="管理员", can_dm=True))
        session.add_all(
            Member(telegram_id=80_000 + i, first_name=f"m{i}", can_dm=True, registered_at=utcnow())
            for i in range(members)
        )
        await session.commit()
    return db
