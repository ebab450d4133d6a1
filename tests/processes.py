"""Running the real `python -m bot` as a child process against the local Bot API server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

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
