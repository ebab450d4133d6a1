"""N registered members press a button on one group card within T seconds, against the real
bot process and, in the same run, against a bare python-telegram-bot application
(`bench/bare_bot.py`: it only answers the press) behind its own local Bot API server.

Overload (800 presses in 1 s) and a steady 100 presses/s; --rounds N presses N cards, the
bare bot and ours in turns, and prints the median ratio:
.venv/bin/python -m bench.checkin_burst --db sqlite --members 800 --seconds 1 --rounds 3
.venv/bin/python -m bench.checkin_burst --db postgresql --members 500 --seconds 5 --rounds 2

The other buttons people press in bursts (收到 on a notice, 报名 on a volunteer activity,
我能去 on a rapid call), each measured the same way:
.venv/bin/python -m bench.checkin_burst --db postgresql --press 收到

With a struggling Bot API (a 502 on every 4th call, getUpdates included):
.venv/bin/python -m bench.checkin_burst --db postgresql --members 500 --seconds 5 --fail-every 4

Profile both bots while they run (py-spy installed in the virtualenv), then sum the stacks:
.venv/bin/python -m bench.checkin_burst --db postgresql --members 800 --seconds 1 --profile
.venv/bin/python -m bench.profile_summary /tmp/press-postgresql-签到.txt /tmp/press-bare.txt
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.harness import (
    GROUP_ID,
    TOKEN,
    World,
    burst,
    collector_paused,
    create_activity,
    percentile,
    posted,
    print_burst_figures,
    running_bot,
    wait_exact,
)
from db.database import Database
from db.models import Acknowledgement, Attendance, MusterAnswer, Signup
from tests.processes import bot_env
from tests.tgserver import Callback, FakeTelegram, Faults


@dataclass
class Target:
    """One card to press: its message, how to count what was recorded, what it says once
    every answer is on it."""

    card: dict[str, Any]
    recorded: Callable[[Database], Awaitable[int]]
    exact: Callable[[int], str]


def _count(model: Any, column: Any, item_id: int) -> Callable[[Database], Awaitable[int]]:
    async def count(db: Database) -> int:
        async with db.session() as session:
            found = await session.scalar(
                select(func.count()).select_from(model).where(column == item_id)
            )
        return int(found or 0)

    return count


def _soon(**delta: float) -> dt.datetime:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(**delta)


async def checkin_card(world: World, n: int) -> Target:
    soon = _soon(minutes=10)
    args = f"学习 {soon:%Y-%m-%d %H:%M} 签到压测{n}"
    activity_id, card = await create_activity(world, args)
    return Target(
        card, _count(Attendance, Attendance.activity_id, activity_id), lambda n: f"已签到 {n} "
    )


async def signup_card(world: World, n: int) -> Target:
    day, cap = _soon(days=3), len(world.members) + 1  # and the unmeasured first press
    args = f"志愿 {day:%Y-%m-%d} 09:00 报名压测{n} cap={cap}"
    activity_id, card = await create_activity(world, args)
    return Target(
        card, _count(Signup, Signup.activity_id, activity_id), lambda n: f"名额 {n}/{cap}"
    )


async def notice_card(world: World, n: int) -> Target:
    notice_id, card = await posted(
        world, f"/notice remind=off 请点收到{n}", r"#(\d+)", lambda i: f"通知 #{i}"
    )
    return Target(
        card,
        _count(Acknowledgement, Acknowledgement.notice_id, notice_id),
        lambda n: f"已收到 {n} / ",
    )


async def muster_card(world: World, n: int) -> Target:
    need = len(world.members) + 1  # and the unmeasured first press
    muster_id, card = await posted(
        world,
        f"/muster need={need} within=60 压测集结{n}",
        r"紧急集结 #(\d+)",
        lambda i: f"紧急集结】#{i}\n",
    )
    marker = f"紧急集结】#{muster_id}\n"

    # The private calls go out first (25/s); pressing meanwhile would measure them too.
    def calls() -> int:
        return sum(
            1
            for c in world.tg.calls
            if c.ok and c.method == "sendMessage" and marker in str(c.params.get("text", ""))
        )

    await world.tg.wait_for(lambda: calls() >= len(world.members), 120, "the calls")
    return Target(
        card, _count(MusterAnswer, MusterAnswer.muster_id, muster_id), lambda n: f"已响应 {n}/"
    )


CARDS: dict[str, Callable[[World, int], Awaitable[Target]]] = {
    "签到": checkin_card,
    "收到": notice_card,
    "报名": signup_card,
    "我能去": muster_card,
}


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(callbacks: list[Callback]) -> float:
    """Presses answered per second, from the first press to the last answer."""
    answered = [c.answered_at for c in callbacks if c.answered_at]
    if not answered:
        return 0.0
    return len(answered) / (max(answered) - min(c.pressed_at for c in callbacks))


async def all_answered(tg: FakeTelegram, callbacks: list[Callback]) -> None:
    await tg.wait_for(lambda: all(c.answered.done() for c in callbacks), 120, "answers")


def p99_ms(callbacks: list[Callback]) -> float:
    latencies = [c.answered_at - c.pressed_at for c in callbacks if c.answered_at]
    return percentile(latencies, 99) * 1000


@dataclass
class Round:
    rate: float  # presses answered per second
    p99: float  # ms
    cpu: float  # ms per press


@contextlib.asynccontextmanager
async def bare_bot(members: int) -> Any:
    """The bare application running behind its own server; yields a burst of the same presses
    (spread over the given seconds) measured as a Round."""
    tg = FakeTelegram(TOKEN)
    await tg.start()
    tg.add_group(GROUP_ID)
    users = [tg.add_user(10_000 + i, f"m{i}") for i in range(members)]
    markup = {"inline_keyboard": [[{"text": "签到", "callback_data": "act:ci:1"}]]}
    card = tg._post(tg.chats[GROUP_ID], {"reply_markup": markup}, text="签到压测")
    env = bot_env(TOKEN, tg.url, "sqlite://")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.bare_bot", env=env)
    world = World(tg, "", users[0], users, env, Path(tempfile.gettempdir()))

    async def measured(seconds: float, profile: bool) -> Round:
        cpu = cpu_seconds(process.pid)
        profiling = profiled(process.pid, "bare") if profile else contextlib.nullcontext()
        async with profiling:
            with collector_paused():
                callbacks = await burst(world, card, "签到", seconds)
                await all_answered(tg, callbacks)
        cpu = cpu_seconds(process.pid) - cpu
        return Round(throughput(callbacks), p99_ms(callbacks), cpu / members * 1000)

    try:
        await asyncio.wait_for(users[0].press(card, "签到").answered, 30)  # its first press
        yield measured
    finally:
        tg.wake()  # its long poll returns, so stopping cuts no request short
        process.terminate()
        await process.wait()
        await tg.stop()


@contextlib.asynccontextmanager
async def profiled(pid: int, label: str) -> Any:
    """py-spy records the bot while the burst runs: collapsed stacks, one line each (for
    `bench/profile_summary.py`, or any flame graph tool)."""
    out = Path(tempfile.gettempdir()) / f"press-{label}.txt"
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has
        await spy.wait()
        print(f"  profile                {out}")


async def run(
    kind: str,
    members: int,
    seconds: float,
    fail_every: int,
    press: str,
    profile: bool,
    rounds: int,
) -> None:
    print(f"press_burst press={press} db={kind} members={members} seconds={seconds}", end="")
    print(f" fail_every={fail_every}" if fail_every else f" rounds={rounds}")
    ratios = []
    # One more member presses first, unmeasured, as the bare bot's first press is: a new
    # process's first press compiles its statements and imports what it renders with.
    async with bare_bot(members) as bare_burst, running_bot(kind, members + 1) as world:
        warm = world.members.pop()
        tg = world.tg
        for n in range(rounds):
            # Taken in turns, so that the machine's mood changes both alike.
            bare = await bare_burst(seconds, profile) if not fail_every else None
            target = await CARDS[press](world, n)
            if n == 0:
                await asyncio.wait_for(warm.press(target.card, press).answered, 30)
            tg.faults = Faults(every=fail_every)
            assert world.process is not None
            cpu = cpu_seconds(world.process.pid)
            began = tg.clock()
            spy = profiled(world.process.pid, f"{kind}-{press}") if profile else None
            async with spy or contextlib.nullcontext():
                with collector_paused():
                    callbacks = await burst(world, target.card, press, seconds)
                    last_press = tg.clock()
                    with contextlib.suppress(AssertionError):  # the unanswered are shown below
                        await all_answered(tg, callbacks)
            cpu = cpu_seconds(world.process.pid) - cpu
            tg.faults = Faults()
            answers = [c.answered.result() for c in callbacks if c.answered.done()]
            db = Database(world.url)
            recorded = await target.recorded(db) - (n == 0)  # less the unmeasured press
            await db.dispose()
            exact = target.exact(recorded + (n == 0))
            exact_after = await wait_exact(tg, target.card, exact, last_press)
            print(f" round {n + 1}")
            print(f"  presses answered       {len(answers)}/{members}")
            print(f"  lost                   {members - recorded}")
            if bare is None:
                toasts = tg.count_calls("answerCallbackQuery")
                print(f"  502s injected          {tg.faults.injected}")
                print(f"  toasts delivered       {toasts} (one per press: {toasts >= members})")
            else:
                rate = throughput(callbacks)
                ratios.append(rate / bare.rate)
                print(
                    f"  throughput             {rate:.0f}/s; bare bot {bare.rate:.0f}/s "
                    f"(p99 {bare.p99:.0f} ms): {rate / bare.rate:.2f}×"
                )
                print(
                    f"  CPU per press          {cpu / members * 1000:.2f} ms; "
                    f"bare bot {bare.cpu:.2f} ms"
                )
            print_burst_figures(tg, callbacks, began, exact_after)
    if ratios:
        print(f" median ratio to the bare bot: {statistics.median(ratios):.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--press", choices=list(CARDS), default="签到")
    parser.add_argument("--fail-every", type=int, default=0, help="502 on every Nth Bot API call")
    parser.add_argument("--profile", action="store_true", help="py-spy stacks of both bots")
    parser.add_argument("--rounds", type=int, default=1, help="bursts, bare and bot in turns")
    args = parser.parse_args()
    asyncio.run(
        run(
            args.db,
            args.members,
            args.seconds,
            args.fail_every,
            args.press,
            args.profile,
            args.rounds,
        )
    )


if __name__ == "__main__":
    main()
