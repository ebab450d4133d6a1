"""Several instances in webhook mode on one PostgreSQL: 20 groups × 300 members press 签到.

.venv/bin/python -m bench.cluster --instances 1 2 3
.venv/bin/python -m bench.cluster --instances 1 3 --cpu 0.3

--cpu C gives each instance C cores of its own (a cgroup's CPU quota), as if each ran on a
machine of its own: on this 2-core machine the instances otherwise share the same two cores
with the load, the local Bot API server and PostgreSQL, and the figure says how many cores
the machine has, not how the bot scales. Needs a writable cgroup file system (root).

The local Bot API server posts the presses round-robin over the instances (as a load balancer
would) over 8 connections and enforces Telegram's limits. For each cluster size it prints:
presses answered, lost (not recorded), duplicated (answered twice), latency p50/p99, each
group's most sends+edits in any minute, 429s, and the aggregate throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import re
import socket
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import func, select

from bench.harness import (
    ADMIN_ID,
    TOKEN,
    collector_paused,
    database,
    max_per_minute,
    percentile,
)
from db.database import Database
from db.models import Attendance, Chat, Member, Unit, utcnow
from tests.processes import bot_env, spawn, stop
from tests.tgserver import LIMITED, FakeTelegram, TgUser

SECRET = "bench-cluster-secret"
HOOK = "https://bot.example.test/telegram/hook"


class CpuBudget:
    """A cgroup per instance with a CFS quota of `cores` (cgroup v2's cpu.max, or v1's cpu
    controller); `throttled()` says how long the instances were held back, which shows that
    the budget, not the load, was the limit."""

    ROOT = Path("/sys/fs/cgroup")
    PERIOD_US = 100_000

    def __init__(self, cores: float) -> None:
        self.cores = cores
        self.v2 = (self.ROOT / "cgroup.controllers").exists()
        self.base = self.ROOT if self.v2 else self.ROOT / "cpu"
        self.groups: list[Path] = []

    def confine(self, pid: int) -> None:
        group = self.base / f"qgw-bench-{pid}"
        try:
            group.mkdir()
            quota = int(self.cores * self.PERIOD_US)
            if self.v2:
                (group / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
            else:
                (group / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
                (group / "cpu.cfs_quota_us").write_text(str(quota))
            (group / "cgroup.procs").write_text(str(pid))
        except OSError as exc:
            raise SystemExit(f"--cpu needs a writable cgroup file system ({exc})") from exc
        self.groups.append(group)

    def throttled(self) -> float:
        """Seconds the instances waited for their quota, summed."""
        total = 0.0
        for group in self.groups:
            stat = dict(
                line.split() for line in (group / "cpu.stat").read_text().splitlines() if line
            )
            total += (
                int(stat["throttled_usec"]) / 1e6 if self.v2 else int(stat["throttled_time"]) / 1e9
            )
        return total

    def release(self) -> None:
        for group in self.groups:
            with contextlib.suppress(OSError):
                group.rmdir()  # empty once its process has ended


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_id(i: int) -> int:
    return -100_200 - i


async def seed(url: str, groups: int, members: int) -> None:
    db = Database(url)
    async with db.session() as session:
        session.add(Chat(id=-100_100, title="青工委群", purpose="main", bot_is_admin=True))
        session.add(Member(telegram_id=ADMIN_ID, first_name="管理员", can_dm=True))
        for g in range(groups):
            unit = Unit(name=f"单位{g:02d}")
            session.add(unit)
            await session.flush()
            session.add(Chat(id=group_id(g), title=unit.name, purpose="unit", unit_id=unit.id))
            session.add_all(
                Member(
                    telegram_id=100_000 + g * 1000 + i,
                    first_name=f"m{g}-{i}",
                    real_name=f"成员{g:02d}{i:03d}",
                    unit_id=unit.id,
                    registered_at=utcnow(),
                    lang="zh",  # as registering leaves it: a press then writes no update
                    can_dm=True,
                )
                for i in range(members)
            )
        await session.commit()
    await db.dispose()


def card_in(tg: FakeTelegram, chat_id: int, title: str) -> dict[str, Any] | None:
    return next((m for m in tg.bot_messages(chat_id) if title in m["text"]), None)


async def healthy(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def wait_healthy(port: int) -> None:
    for _ in range(300):
        if await healthy(port):
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"the instance on port {port} never became healthy")


def report_logs(folder: Path) -> None:
    for log in folder.glob("*.log"):
        text = log.read_text(errors="replace")
        if "Traceback" in text:
            print(f"  !! {log} has a traceback")
        if match := re.search(r"took over (\d+)", text):
            print(f"  took over {match[1]} updates")


async def run(size: int, groups: int, members: int, seconds: float, cpu: float | None) -> None:
    tg = FakeTelegram(TOKEN)
    await tg.start()
    admin = tg.add_user(ADMIN_ID, "管理员")
    people: dict[int, list[TgUser]] = {}
    for g in range(groups):
        tg.add_group(group_id(g), f"单位{g:02d}")
        people[g] = [tg.add_user(100_000 + g * 1000 + i, f"m{g}-{i}") for i in range(members)]
        tg.started.update(u.id for u in people[g])
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    async with database("postgresql") as url:
        await seed(url, groups, members)
        ports = [free_port() for _ in range(size)]
        processes = []
        budget = CpuBudget(cpu) if cpu else None
        for n, port in enumerate(ports):
            env = bot_env(
                TOKEN,
                tg.url,
                url,
                ADMIN_IDS=str(ADMIN_ID),
                LOG_LEVEL="WARNING",
                WEBHOOK_URL=HOOK,
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            )
            processes.append(await spawn(env, folder / f"bot{n}.log"))
            if budget is not None:
                budget.confine(processes[-1].pid)
        try:
            for port in ports:
                await wait_healthy(port)
            tg.webhook_targets = [f"http://127.0.0.1:{port}" for port in ports]
            await tg.wait_for(lambda: tg.webhook is not None, 30, "setWebhook")
            soon = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(minutes=10)
            cards = {}
            for g in range(groups):
                title = f"集群压测{g:02d}"
                reply = await admin.ask_private(
                    f"/newevent 学习 {soon:%Y-%m-%d %H:%M} {title} unit=单位{g:02d}", 60
                )
                assert "已创建活动" in reply, reply
                cards[g] = await tg.wait_for(partial(card_in, tg, group_id(g), title), 60, "a card")
            began = tg.clock()
            throttled_before = budget.throttled() if budget else 0.0
            order = [(g, people[g][i]) for i in range(members) for g in range(groups)]
            callbacks = []
            start = time.monotonic()
            with collector_paused():
                for k, (g, user) in enumerate(order):
                    delay = start + k * seconds / len(order) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    callbacks.append(user.press(cards[g], "签到"))
                with contextlib.suppress(AssertionError):  # the unanswered are counted below
                    await tg.wait_for(
                        lambda: all(c.answered.done() for c in callbacks), 180, "answers"
                    )
            answered = [c for c in callbacks if c.answered.done()]
            throttled = budget.throttled() - throttled_before if budget else 0.0
            finished = max((c.answered_at for c in answered if c.answered_at), default=began)
            db = Database(url)
            async with db.session() as session:
                recorded = int(
                    await session.scalar(select(func.count()).select_from(Attendance)) or 0
                )
            await db.dispose()
            answers = Counter(
                c.params.get("callback_query_id")
                for c in tg.calls
                if c.method == "answerCallbackQuery" and c.ok
            )
            duplicated = sum(1 for n in answers.values() if n > 1)
            latencies = [c.answered_at - c.pressed_at for c in answered if c.answered_at]
            per_group = [
                max_per_minute(
                    [
                        c.at
                        for c in tg.calls
                        if c.ok and c.method in LIMITED and c.params.get("chat_id") == group_id(g)
                    ]
                )
                for g in range(groups)
            ]
            total = len(callbacks)
            print(f"cluster instances={size} groups={groups} members={members} seconds={seconds}")
            if budget is not None:
                # Held back for most of the run: the instances' budget, not the load generator,
                # the Bot API server or the database, set the pace.
                print(
                    f"  CPU budget             {cpu} cores each; held back {throttled:.1f} s "
                    f"in {size} × {finished - began:.1f} s"
                )
            print(f"  presses answered       {len(answered)}/{total}")
            print(f"  lost                   {total - recorded}")
            print(f"  duplicated             {duplicated}")
            print(
                f"  latency p50 / p99      {percentile(latencies, 50) * 1000:.0f} ms / "
                f"{percentile(latencies, 99) * 1000:.0f} ms"
            )
            print(f"  group sends+edits/min  max {max(per_group)} over {groups} groups (limit 20)")
            print(f"  429s received          {len(tg.errors(429))}")
            print(f"  throughput             {len(answered) / max(finished - began, 1e-9):.0f}/s")
        finally:
            for process in processes:
                await stop(process)
            await tg.stop()
            report_logs(folder)
            if budget is not None:
                budget.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--members", type=int, default=300, help="per group")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cpu", type=float, default=None, help="cores each instance may use")
    args = parser.parse_args()
    for size in args.instances:
        asyncio.run(run(size, args.groups, args.members, args.seconds, args.cpu))


if __name__ == "__main__":
    main()
