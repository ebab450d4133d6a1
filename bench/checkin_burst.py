"""N registered members press 签到 on one card within T seconds, against the real bot process.

.venv/bin/python -m bench.checkin_burst --db sqlite --members 500 --seconds 5
.venv/bin/python -m bench.checkin_burst --db postgresql --members 500 --seconds 5

With a struggling Bot API (a 502 on every 4th call, getUpdates included):
.venv/bin/python -m bench.checkin_burst --db postgresql --members 500 --seconds 5 --fail-every 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.harness import (
    burst,
    create_activity,
    print_burst_figures,
    running_bot,
    wait_exact,
)
from db.database import Database
from db.models import Attendance
from tests.tgserver import Faults


async def run(kind: str, members: int, seconds: float, fail_every: int) -> None:
    async with running_bot(kind, members) as world:
        soon = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(minutes=10)
        activity_id, card = await create_activity(
            world, f"学习 {soon:%Y-%m-%d} {soon:%H:%M} 签到压测"
        )
        tg = world.tg
        tg.faults = Faults(every=fail_every)
        began = tg.clock()
        callbacks = await burst(world, card, "签到", seconds)
        last_press = tg.clock()
        with contextlib.suppress(AssertionError):  # those never answered are reported below
            await tg.wait_for(lambda: all(c.answered.done() for c in callbacks), 120, "answers")
        answers = [c.answered.result() for c in callbacks if c.answered.done()]
        ok = sum(1 for a in answers if a["text"] and "签到成功" in a["text"])
        wanted = f"已签到 {ok} "
        exact_after = await wait_exact(tg, card, wanted, last_press)
        db = Database(world.url)
        async with db.session() as session:
            recorded = await session.scalar(
                select(func.count())
                .select_from(Attendance)
                .where(Attendance.activity_id == activity_id)
            )
        await db.dispose()
        print(f"checkin_burst db={kind} members={members} seconds={seconds}", end="")
        print(f" fail_every={fail_every}" if fail_every else "")
        print(f"  presses answered       {len(answers)}/{members} ({ok} checked in)")
        print(f"  lost                   {members - int(recorded or 0)}")
        if fail_every:
            toasts = tg.count_calls("answerCallbackQuery")
            print(f"  502s injected          {tg.faults.injected}")
            print(f"  toasts delivered       {toasts} (one per press: {toasts == members})")
        print_burst_figures(tg, callbacks, began, exact_after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fail-every", type=int, default=0, help="502 on every Nth Bot API call")
    args = parser.parse_args()
    asyncio.run(run(args.db, args.members, args.seconds, args.fail_every))


if __name__ == "__main__":
    main()
