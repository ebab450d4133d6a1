"""The real `python -m bot` process: refuses to start without a token; answers with one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import TOKEN
from tests.tgserver import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(BOT_TOKEN="", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    env.update(extra)
    return env


def test_without_token_it_stops_with_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=bot_env(tmp_path) | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


async def test_with_token_it_migrates_and_answers_start_and_help(tmp_path: Path) -> None:
    tg = FakeTelegram(TOKEN)
    await tg.start()
    env = bot_env(tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg.url, LOG_LEVEL="DEBUG")
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        user = tg.add_user(3001, "新人")
        assert "青工委助手" in await user.ask_private("/start", timeout=60)
        assert "/register" in await user.ask_private("/help")
    finally:
        process.send_signal(signal.SIGINT)
        tg.wake()
        _out, err = await asyncio.wait_for(process.communicate(), 60)
        await tg.stop()
    log = err.decode()
    assert process.returncode == 0, log
    assert "started as @qgw_test_bot" in log
    assert TOKEN not in log and TOKEN.replace(":", "%3A") not in log
    assert (tmp_path / "bot.sqlite3").exists()
