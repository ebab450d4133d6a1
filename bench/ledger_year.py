"""A year of data: how fast are /report and /export, and do check-ins stay fast meanwhile?

2,000 members in 10 units, 400 activities of last year (40 of them volunteering), about 200,000
attendance rows and 20,000 volunteer sign-ups. Measured here, in this process: the report's
database time for a quarter and for the year, and writing the year's ledger (time, memory).
Then against the real bot process: 300 check-ins in 5 s while the year's /export runs.

.venv/bin/python -m bench.ledger_year --db sqlite
.venv/bin/python -m bench.ledger_year --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import random
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.harness import (
    ADMIN_ID,
    GROUP_ID,
    TOKEN,
    World,
    burst,
    create_activity,
    database,
    percentile,
)
from db import reports as reports_db
from db.database import Database
from db.models import Activity, Attendance, Chat, Member, Signup, Unit
from db.rules import Period
from scheduler import reports
from tests.processes import bot_env
from tests.tgserver import FakeTelegram

ZONE = ZoneInfo("Asia/Shanghai")
# The last whole year: the same amount of data whatever today's date is.
YEAR = dt.date.today().year - 1
UNITS = 10
PER_UNIT = 200
ACTIVITIES = 400
VOLUNTEER = 40
SIGNUPS_EACH = 500
BURST = 300
FIRST_MEMBER = 10_000


def _utc(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE).astimezone(dt.UTC)


async def seed_year(url: str, seed: int = 7) -> None:
    """A whole year (YEAR), as the committee would have lived it."""
    rng = random.Random(seed)
    db = Database(url)
    registered = dt.datetime(YEAR - 1, 12, 1, tzinfo=dt.UTC)
    people = [(100 + i, i // PER_UNIT + 1) for i in range(UNITS * PER_UNIT)]  # (id, unit)
    async with db.session() as session:
        units = [{"id": i + 1, "name": f"单位{i + 1:02d}"} for i in range(UNITS)]
        await session.execute(insert(Unit), units)
        session.add(
            Chat(id=GROUP_ID, title="青工委群", purpose="main", bot_is_admin=True, bot_can_pin=True)
        )
        session.add(Member(telegram_id=ADMIN_ID, first_name="管理员", can_dm=True))
        members = [
            {
                "id": member_id,
                "telegram_id": FIRST_MEMBER + i,
                "first_name": f"m{i}",
                "real_name": f"成员{i:04d}",
                "unit_id": unit_id,
                "registered_at": registered,
                "can_dm": True,
                "role": "member",
                "created_at": registered,
            }
            for i, (member_id, unit_id) in enumerate(people)
        ]
        await session.execute(insert(Member), members)
        first = dt.date(YEAR, 1, 5)
        days = [first + dt.timedelta(days=i) for i in range((dt.date(YEAR, 12, 28) - first).days)]
        activities, attendance, signups = [], [], []
        for number in range(ACTIVITIES):
            activity_id = number + 1
            starts = _utc(days[number * len(days) // ACTIVITIES], 9)
            volunteer = number % (ACTIVITIES // VOLUNTEER) == 0
            everyone = not volunteer and number % 24 < 5  # 75 for everyone, 285 for a unit
            unit = None if volunteer or everyone else number % UNITS + 1
            kind = "volunteer" if volunteer else ("meeting" if number % 7 == 0 else "study")
            activities.append(
                {
                    "id": activity_id,
                    "kind": kind,
                    "title": f"活动{activity_id}",
                    "starts_at": starts,
                    "ends_at": starts + dt.timedelta(hours=2),
                    "unit_id": unit,
                    "capacity": SIGNUPS_EACH if volunteer else None,
                    "status": "active",
                    "created_at": starts - dt.timedelta(days=7),
                    "minutes": "纪要" if number % 3 else None,
                    "wrong_codes": 0,
                }
            )
            if volunteer:
                for member_id, _ in rng.sample(people, SIGNUPS_EACH):
                    signups.append(
                        {
                            "activity_id": activity_id,
                            "member_id": member_id,
                            "status": "confirmed",
                            "created_at": starts,
                        }
                    )
                    if rng.random() < 0.75:
                        attendance.append(_answer(activity_id, member_id, starts, "present"))
                continue
            for member_id, member_unit in people:
                status = _roll(rng.random())
                if (unit is None or member_unit == unit) and status is not None:
                    attendance.append(_answer(activity_id, member_id, starts, status))
        await session.execute(insert(Activity), activities)
        for chunk in range(0, len(attendance), 10_000):
            await session.execute(insert(Attendance), attendance[chunk : chunk + 10_000])
        for chunk in range(0, len(signups), 10_000):
            await session.execute(insert(Signup), signups[chunk : chunk + 10_000])
        if not db.is_sqlite:  # ids were given explicitly: move the sequences past them
            for table in ("units", "members", "activities", "attendance", "signups"):
                await session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        await session.commit()
    if not db.is_sqlite:  # fresh tables have no statistics yet; a live database has them
        async with db.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    await db.dispose()
    print(
        f"  seeded                 {len(people)} members, {len(activities)} activities, "
        f"{len(attendance)} attendance rows, {len(signups)} sign-ups"
    )


def _roll(roll: float) -> str | None:
    """80 % on time, 6 % late, 4 % on leave, 10 % absent."""
    for status, below in (("present", 0.8), ("late", 0.86), ("leave", 0.9)):
        if roll < below:
            return status
    return None


def _answer(activity_id: int, member_id: int, starts: dt.datetime, status: str) -> dict[str, Any]:
    late = dt.timedelta(minutes=20 if status == "late" else 0)
    return {
        "activity_id": activity_id,
        "member_id": member_id,
        "status": status,
        "reason": "出差" if status == "leave" else None,
        "at": starts + late,
    }


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS: now; VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ledger_measured(url: str, period: Period, now: dt.datetime) -> tuple[str, float, float, float]:
    """In a process of its own, as the bot makes a ledger: (path, RSS MB before, peak during,
    file MB)."""
    import render.ledger  # noqa: F401  (loaded before measuring, as in the bot's child)

    Path("/proc/self/clear_refs").write_text("5")  # restart the peak (VmHWM) from here
    before = _status_mb("VmRSS")
    path = asyncio.run(reports.ledger_in_child(url, period, ZONE, now, None))
    return str(path), before, _status_mb("VmHWM"), path.stat().st_size / 1e6


async def in_process(url: str) -> None:
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    for label, period in (("quarter", Period(YEAR, 3)), ("year", Period(YEAR))):
        async with db.read_session() as session:
            began = time.perf_counter()
            await reports_db.build(session, period, ZONE, now, low_below=0.6)
            took = time.perf_counter() - began
        print(f"  /report {label:<7}        {took * 1000:.0f} ms of database time ({period.key})")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        began = time.perf_counter()
        job = partial(_ledger_measured, url, Period(YEAR), now)
        written, before, after, size = await asyncio.get_running_loop().run_in_executor(pool, job)
        took = time.perf_counter() - began
    path = Path(written)
    print(
        f"  /export year           {took:.1f} s, {size:.1f} MB file, "
        f"RSS {before:.0f} MB → peak {after:.0f} MB (+{after - before:.0f})"
    )
    shutil.rmtree(path.parent, ignore_errors=True)
    await db.dispose()


async def checkins_during_export(kind: str, url: str) -> None:
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    admin = tg.add_user(ADMIN_ID, "管理员")
    users = [tg.add_user(FIRST_MEMBER + i, f"m{i}") for i in range(BURST)]
    tg.started.update(u.id for u in users)
    env = bot_env(TOKEN, tg.url, url, ADMIN_IDS=str(ADMIN_ID), LOG_LEVEL="WARNING")
    log = Path(tempfile.mkdtemp(prefix="bench-")) / "bot.log"
    world = World(tg, url, admin, users, env, log)
    try:
        await world.start()
        soon = dt.datetime.now(ZONE) + dt.timedelta(minutes=10)
        _, card = await create_activity(world, f"学习 {soon:%Y-%m-%d %H:%M} 导出时的签到")
        began = time.monotonic()
        admin.say(f"/export {YEAR}")
        await asyncio.sleep(0.5)  # the export has started
        callbacks = await burst(world, card, "签到", 5.0)
        answers = await asyncio.wait_for(asyncio.gather(*(c.answered for c in callbacks)), 120)
        latencies = [c.answered_at - c.pressed_at for c in callbacks if c.answered_at]
        document = await tg.wait_for(
            lambda: next((m for m in tg.bot_messages(ADMIN_ID) if m.get("document")), None),
            300,
            "the ledger",
        )
        took = time.monotonic() - began
        ok = sum(1 for a in answers if a["text"] and "签到成功" in a["text"])
        p50, p99 = (percentile(latencies, q) * 1000 for q in (50, 99))
        print(f"  check-ins during export {ok}/{BURST}, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        print(
            f"  /export via the bot    {took:.1f} s to the document "
            f"({len(tg.sent_file(document)) / 1e6:.1f} MB), {len(tg.errors(429))} × 429"
        )
    finally:
        await world.stop()
        await tg.stop()


async def run(kind: str) -> None:
    print(f"ledger_year db={kind}")
    async with database(kind) as url:
        await seed_year(url)
        await in_process(url)
        await checkins_during_export(kind, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.db))


if __name__ == "__main__":
    main()
