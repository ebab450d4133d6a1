"""N people new to the bot (in the main group, so registering takes effect at once) each send
/start and then /register straight after, within T seconds.

The race this measures: a person's two updates arrive back to back; handled concurrently they
used to collide on the first insert of that person (PostgreSQL runs writers in parallel).

.venv/bin/python -m bench.register_burst --db sqlite --people 500 --seconds 5
.venv/bin/python -m bench.register_burst --db postgresql --people 500 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from sqlalchemy import func, select

from bench.harness import GROUP_ID, percentile, running_bot
from db.database import Database
from db.models import Member


async def run(kind: str, people: int, seconds: float) -> None:
    async with running_bot(kind, 0) as world:
        tg = world.tg
        users = [tg.add_user(200_000 + i, f"新人{i}", groups=[GROUP_ID]) for i in range(people)]
        sent_at: dict[int, float] = {}
        start = time.monotonic()
        for i, user in enumerate(users):
            delay = start + i * seconds / people - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            user.say("/start")
            sent_at[user.id] = tg.clock()
            user.say(f"/register 新人{i:04d} 办公室")

        def answered() -> dict[int, float]:
            return {
                c.params["chat_id"]: c.at
                for c in tg.calls
                if c.ok and c.method == "sendMessage" and "登记成功" in str(c.params.get("text"))
            }

        with contextlib.suppress(AssertionError):
            await tg.wait_for(lambda: len(answered()) >= people, 180, "every registration")
        replies = answered()
        db = Database(world.url)
        async with db.session() as session:
            registered = await session.scalar(
                select(func.count()).select_from(Member).where(Member.registered_at.is_not(None))
            )
        await db.dispose()
        log = world.log_path.read_text(errors="replace") if world.log_path.exists() else ""
        latencies = [replies[u.id] - sent_at[u.id] for u in users if u.id in replies]
        print(f"register_burst db={kind} people={people} seconds={seconds}")
        print(f"  registered             {registered}/{people}")
        print(f"  answered               {len(replies)}/{people}")
        print(f"  errors in the bot log  {log.count(' ERROR ')}")
        print(f"  429s received          {len(tg.errors(429))}")
        print(
            f"  reply p50 / p99        {percentile(latencies, 50) * 1000:.0f} ms / "
            f"{percentile(latencies, 99) * 1000:.0f} ms (from /register to 登记成功)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.people, args.seconds))


if __name__ == "__main__":
    main()
