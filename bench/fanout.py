"""A notice to 1,000 registered members; its follow-up goes privately to the 900 who did not
acknowledge. Then the same with the bot killed (kill -9) halfway through and restarted.

    .venv/bin/python -m bench.fanout --db sqlite
    .venv/bin/python -m bench.fanout --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections import Counter

from sqlalchemy import func, select

from bench.harness import GROUP_ID, World, running_bot
from db.database import Database
from db.models import OutboxMessage

FOLLOWUP = "还没有回复“收到”"


async def outbox_status(url: str) -> dict[str, int]:
    db = Database(url)
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.purpose == "notice_followup")
            .group_by(OutboxMessage.status)
        )
        result = {status: int(n) for status, n in rows.all()}
    await db.dispose()
    return result


def followups(world: World) -> Counter[int]:
    return Counter(u.id for u in world.members for t in world.tg.texts(u.id) if FOLLOWUP in t)


async def scenario(kind: str, members: int, acks: int, blocked: int, kill: bool) -> None:
    async with running_bot(kind, members) as world:
        tg = world.tg
        reply = await world.admin.ask_private("/notice remind=off 请于周五前提交季度学习心得", 30)
        notice_id = int(re.search(r"#(\d+)", reply)[1])  # type: ignore[index]
        card = await tg.wait_for(
            lambda: next(
                (m for m in tg.bot_messages(GROUP_ID) if f"#{notice_id}\n" in m["text"]), None
            ),
            30,
            "the notice card",
        )
        presses = [u.press(card, "收到") for u in world.members[:acks]]
        await asyncio.gather(*(p.answered for p in presses))
        for user in world.members[acks : acks + blocked]:
            tg.blocked.add(user.id)
        expected = members - acks - blocked
        began = tg.clock()
        await world.admin.ask_private(f"/chase {notice_id}", 30)
        in_flight = 0
        if kill:
            await tg.wait_for(
                lambda: sum(followups(world).values()) >= expected // 2,
                120,
                "half of the follow-ups",
            )
            world.kill()
            await world.process.wait()  # type: ignore[union-attr]
            at_kill = sum(followups(world).values())
            marked = (await outbox_status(world.url)).get("sent", 0)
            in_flight = at_kill - marked
            await world.start()
        await tg.wait_for(lambda: len(followups(world)) >= expected, 300, "every follow-up")
        for _ in range(100):
            status = await outbox_status(world.url)
            if status.get("pending", 0) == 0:
                break
            await asyncio.sleep(0.1)
        counts = followups(world)
        sends = sorted(
            c.at
            for c in tg.calls
            if c.ok
            and c.method == "sendMessage"
            and isinstance(c.params.get("chat_id"), int)
            and c.params["chat_id"] > 0
            and FOLLOWUP in c.params.get("text", "")
            and c.at >= began
        )
        rate = (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan")
        reachable = {u.id for u in world.members[acks + blocked :]}
        lost = len(reachable - set(counts))
        print(
            f"fanout db={kind} members={members} acknowledged={acks} blocked={blocked} "
            f"kill={'halfway' if kill else 'no'}"
        )
        print(f"  follow-ups delivered   {len(counts)}/{expected}")
        print(
            f"  undeliverable          {status.get('undeliverable', 0)} (blocked users, reported)"
        )
        print(f"  messages/s             {rate:.1f} (limit ~30/s; ours 25/s)")
        print(f"  429s received          {len(tg.errors(429))}")
        print(
            f"  duplicates             {sum(counts.values()) - len(counts)}"
            + (f" (in flight at the kill: {in_flight})" if kill else "")
        )
        print(f"  lost                   {lost}")


async def run(kind: str) -> None:
    await scenario(kind, 1000, 100, 10, kill=False)
    await scenario(kind, 1000, 100, 10, kill=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(run(parser.parse_args().db))


if __name__ == "__main__":
    main()
