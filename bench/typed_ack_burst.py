"""N registered members type 收到 as a reply to a notice's card within T seconds.

Targets: every one counted, no group message (reactions only; the card's count is edited,
coalesced), latency like a button press.

.venv/bin/python -m bench.typed_ack_burst --db sqlite --members 500 --seconds 5
.venv/bin/python -m bench.typed_ack_burst --db postgresql --members 500 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time

from sqlalchemy import func, select

from bench.harness import GROUP_ID, group_sends, max_per_minute, percentile, running_bot
from db.database import Database
from db.models import Acknowledgement


async def run(kind: str, members: int, seconds: float) -> None:
    async with running_bot(kind, members) as world:
        tg = world.tg
        reply = await world.admin.ask_private("/notice remind=off 请回复收到", timeout=30)
        match = re.search(r"#(\d+)", reply)
        assert match, reply
        notice_id = int(match[1])
        card = await tg.wait_for(
            lambda: next(
                (m for m in tg.bot_messages(GROUP_ID) if f"通知 #{notice_id}" in m["text"]), None
            ),
            30,
            "the notice card",
        )
        began = tg.clock()
        sent: dict[int, float] = {}
        start = time.monotonic()
        for i, user in enumerate(world.members):
            delay = start + i * seconds / members - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[user.send(GROUP_ID, "收到", reply_to=card)["message_id"]] = tg.clock()
        last_message = tg.clock()

        def reacted() -> dict[int, float]:
            return {
                c.params["message_id"]: c.at
                for c in tg.calls
                if c.ok and c.method == "setMessageReaction" and c.params["message_id"] in sent
            }

        with contextlib.suppress(AssertionError):
            await tg.wait_for(lambda: len(reacted()) >= members, 120, "every reaction")
        reactions = reacted()
        wanted = f"已收到 {members} / {members}"
        message = tg.chats[GROUP_ID].messages[card["message_id"]]
        try:
            await tg.wait_for(lambda: wanted in message["text"], 60, "the exact card")
            exact = f"{tg.clock() - last_message:.1f} s after the last message"
        except AssertionError:
            exact = "never"
        db = Database(world.url)
        async with db.session() as session:
            counted = await session.scalar(
                select(func.count())
                .select_from(Acknowledgement)
                .where(Acknowledgement.notice_id == notice_id)
            )
        await db.dispose()
        group_messages = sum(
            1
            for c in tg.calls
            if c.ok
            and c.method == "sendMessage"
            and c.params.get("chat_id") == GROUP_ID
            and c.at >= began
        )
        latencies = [reactions[m] - sent[m] for m in sent if m in reactions]
        print(f"typed_ack_burst db={kind} members={members} seconds={seconds}")
        print(f"  counted                {counted}/{members}")
        print(f"  reactions              {len(reactions)}/{members}")
        print(f"  group messages         {group_messages}")
        print(
            f"  latency p50 / p99      {percentile(latencies, 50) * 1000:.0f} ms / "
            f"{percentile(latencies, 99) * 1000:.0f} ms (message to reaction)"
        )
        print(f"  group sends+edits/min  {max_per_minute(group_sends(tg, began))} (limit 20)")
        print(f"  429s received          {len(tg.errors(429))}")
        print(f"  card exact             {exact}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.members, args.seconds))


if __name__ == "__main__":
    main()
