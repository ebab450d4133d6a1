"""A rapid call (/muster) to 500 registered members: how fast everyone is called privately,
then all of them press 我能去 within a few seconds (half on the group card, half on their
private call) and exactly `need` must be confirmed.

    .venv/bin/python -m bench.muster --db sqlite
    .venv/bin/python -m bench.muster --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

from sqlalchemy import func, select

from bench.harness import GROUP_ID, print_burst_figures, print_places, running_bot, wait_exact
from db.database import Database
from db.models import MusterAnswer

TEXT = "防汛抢险：加固北岸堤坝，18:00 到单位门口集合，带雨具"


async def statuses(url: str, muster_id: int) -> dict[str, int]:
    db = Database(url)
    async with db.session() as session:
        rows = await session.execute(
            select(MusterAnswer.status, func.count())
            .where(MusterAnswer.muster_id == muster_id)
            .group_by(MusterAnswer.status)
        )
        result = {status: int(n) for status, n in rows.all()}
    await db.dispose()
    return result


async def run(kind: str, members: int, need: int, seconds: float) -> None:
    async with running_bot(kind, members) as world:
        tg = world.tg
        began = tg.clock()
        reply = await world.admin.ask_private(f"/muster need={need} within=30 {TEXT}", 60)
        replied = tg.clock() - began
        found = re.search(r"紧急集结 #(\d+)", reply)
        assert found, reply
        muster_id = int(found[1])
        marker = f"紧急集结】#{muster_id}\n"

        def calls() -> dict[int, dict[str, object]]:
            return {
                u.id: m
                for u in world.members
                for m in tg.bot_messages(u.id)
                if marker in str(m.get("text", ""))
            }

        await tg.wait_for(lambda: len(calls()) >= members, 120, "every private call")
        sends = [
            c.at
            for c in tg.calls
            if c.ok
            and c.method == "sendMessage"
            and isinstance(c.params.get("chat_id"), int)
            and c.params["chat_id"] > 0
            and marker in str(c.params.get("text", ""))
        ]
        reached = max(sends) - began
        rate = (len(sends) - 1) / (max(sends) - min(sends)) if len(sends) > 1 else float("nan")
        card = next(m for m in tg.bot_messages(GROUP_ID) if marker in m["text"])
        private = calls()
        called_429s = len(tg.errors(429))

        burst_began = tg.clock()
        start = time.monotonic()
        callbacks = []
        for i, user in enumerate(world.members):
            delay = start + i * seconds / members - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            callbacks.append(user.press(card if i % 2 else private[user.id], "我能去"))
        last_press = tg.clock()
        answers = await asyncio.wait_for(asyncio.gather(*(c.answered for c in callbacks)), 120)
        counted = await statuses(world.url, muster_id)
        confirmed, waitlisted = counted.get("confirmed", 0), counted.get("waitlisted", 0)
        wanted = f"已响应 {confirmed}/{need}：已确认 {confirmed} · 候补 {waitlisted}"
        exact_after = await wait_exact(tg, card, wanted, last_press)
        told_confirmed = sum(str(a["text"]).startswith("✅ 已确认") for a in answers)

        print(f"muster db={kind} members={members} need={need} burst={seconds}s")
        print(f"  creator answered after {replied:.1f} s ({reply.splitlines()[1]})")
        print(f"  private calls          {len(private)}/{members}")
        print(f"  everyone reached after {reached:.1f} s (target < 25 s)")
        print(f"  messages/s             {rate:.1f} (limit ~30/s; ours 25/s)")
        print(f"  429s during the call   {called_429s}")
        print(f"  presses answered       {len(answers)}/{members}")
        note = f"; toasts saying 已确认: {told_confirmed}"
        print_places(members, confirmed, waitlisted, need, note)
        print_burst_figures(tg, callbacks, burst_began, exact_after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--need", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.members, args.need, args.seconds))


if __name__ == "__main__":
    main()
