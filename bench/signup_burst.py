"""N members press 报名 on one volunteer card with `cap` places within T seconds.

.venv/bin/python -m bench.signup_burst --db sqlite --members 300 --cap 100 --seconds 5
.venv/bin/python -m bench.signup_burst --db postgresql --members 300 --cap 100 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.harness import (
    burst,
    create_activity,
    print_burst_figures,
    print_places,
    running_bot,
    wait_exact,
)
from db.database import Database
from db.models import Signup


async def run(kind: str, members: int, cap: int, seconds: float) -> None:
    async with running_bot(kind, members) as world:
        day = dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=3)
        activity_id, card = await create_activity(
            world, f"志愿 {day:%Y-%m-%d} 09:00 报名压测 cap={cap}"
        )
        tg = world.tg
        began = tg.clock()
        callbacks = await burst(world, card, "报名", seconds)
        last_press = tg.clock()
        answers = await asyncio.wait_for(asyncio.gather(*(c.answered for c in callbacks)), 120)
        db = Database(world.url)
        async with db.session() as session:
            rows = dict(
                (
                    await session.execute(
                        select(Signup.status, func.count())
                        .where(Signup.activity_id == activity_id)
                        .group_by(Signup.status)
                    )
                ).all()
            )
        await db.dispose()
        confirmed, waitlisted = rows.get("confirmed", 0), rows.get("waitlisted", 0)
        wanted = f"名额 {confirmed}/{cap} · 候补 {waitlisted}"
        exact_after = await wait_exact(tg, card, wanted, last_press)
        print(f"signup_burst db={kind} members={members} cap={cap} seconds={seconds}")
        print(f"  presses answered       {len(answers)}/{members}")
        print_places(members, confirmed, waitlisted, cap)
        print_burst_figures(tg, callbacks, began, exact_after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--cap", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.members, args.cap, args.seconds))


if __name__ == "__main__":
    main()
