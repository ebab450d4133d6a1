"""The real `python -m bot` process: refuses to start without a token; answers with one."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import TOKEN
from tests.processes import bot_env, spawn
from tests.tgserver import FakeTelegram


def env_for(tmp_path: Path, token: str = "", api_url: str = "") -> dict[str, str]:
    return bot_env(
        token,
        api_url or "https://api.telegram.org",
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
    )


def test_without_token_it_stops_with_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_with_token_it_migrates_and_answers_start_and_help(tmp_path: Path, loop: str) -> None:
    tg = FakeTelegram(TOKEN)
    await tg.start()
    env = env_for(tmp_path, TOKEN, tg.url) | {"LOG_LEVEL": "DEBUG", "EVENT_LOOP": loop}
    # The log goes to a file: a DEBUG log fills a pipe nobody reads until the end, and then
    # the bot would block writing to it.
    log_path = tmp_path / "bot.log"
    process = await spawn(env, log_path, cwd=tmp_path)
    try:
        user = tg.add_user(3001, "新人")
        assert "青工委助手" in await user.ask_private("/start", timeout=60)
        assert "/register" in await user.ask_private("/help")
    finally:
        process.send_signal(signal.SIGINT)
        tg.wake()
        await asyncio.wait_for(process.wait(), 60)
        await tg.stop()
    log = log_path.read_text(errors="replace")
    assert process.returncode == 0, log
    assert f"started as @qgw_test_bot on {loop}" in log
    assert TOKEN not in log and TOKEN.replace(":", "%3A") not in log
    assert (tmp_path / "bot.sqlite3").exists()
