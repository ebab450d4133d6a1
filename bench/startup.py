"""A lean start: how long `python -m bot` takes to its first poll, and how much memory it holds
when idle, on SQLite with the default settings: on a new database (it migrates), and started
again on that database (the everyday restart).

.venv/bin/python -m bench.startup --runs 5
.venv/bin/python -m bench.startup --runs 5 --tree /tmp/before   # another checkout, to compare
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import ADMIN_ID, TOKEN
from tests.processes import bot_env, spawn, stop
from tests.tgserver import FakeTelegram

IDLE = 5.0  # seconds after the first poll before memory is read


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def once(folder: str, tree: Path | None) -> tuple[float, float]:
    """Start the bot on the database in `folder`: (seconds to its first poll, idle RSS MB)."""
    tg = FakeTelegram(TOKEN)
    await tg.start()
    url = f"sqlite+aiosqlite:///{folder}/bot.sqlite3"
    env = bot_env(TOKEN, tg.url, url, ADMIN_IDS=str(ADMIN_ID), LOG_LEVEL="WARNING")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    began = time.monotonic()
    process = await spawn(env, Path(folder) / "bot.log", cwd=tree)
    try:
        first = await tg.wait_for(
            lambda: next((at for method, at in tg.requested if method == "getUpdates"), None),
            60,
            "the first poll",
        )
        await asyncio.sleep(IDLE)
        return first - began, rss_mb(process.pid)
    finally:
        tg.wake()
        await stop(process)
        await tg.stop()


async def run(runs: int, tree: Path | None) -> None:
    new: list[tuple[float, float]] = []
    again: list[tuple[float, float]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            new.append(await once(folder, tree))
            again.append(await once(folder, tree))
    print(f"startup runs={runs} db=sqlite tree={tree or 'this one'}")
    for label, results in (("new database", new), ("restart", again)):
        starts = [s for s, _ in results]
        memory = [m for _, m in results]
        print(
            f"  {label:<13} to the first poll median {statistics.median(starts):.2f} s "
            f"(max {max(starts):.2f}), idle RSS median {statistics.median(memory):.0f} MB "
            f"(max {max(memory):.0f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="the bot's source tree (default: this one)")
    args = parser.parse_args()
    asyncio.run(run(args.runs, args.tree))


if __name__ == "__main__":
    main()
