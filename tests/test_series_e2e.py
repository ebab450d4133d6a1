"""End-to-end: series of activities (repeat= count=), cancelling the rest of one, clones."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import Activity, OutboxMessage
from tests.harness import BotHarness, clock, seed_members
from tests.steps import activities_count, card_text, create, wait_card

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

ZONE = ZoneInfo("Asia/Shanghai")


def card_of(bot: BotHarness, activity_id: int) -> dict[str, Any] | None:
    """The card of `activity_id` in the main group, if it was posted."""
    return next(
        (m for m in bot.tg.bot_messages(bot.group.id) if f"】#{activity_id} " in m["text"]),
        None,
    )


def posted_text(bot: BotHarness, activity_id: int) -> str:
    """The text a card was first posted with."""
    sent = [
        str(c.params.get("text"))
        for c in bot.tg.calls
        if c.method == "sendMessage"
        and str(c.params.get("chat_id")) == str(bot.group.id)
        and f"】#{activity_id} " in str(c.params.get("text"))
    ]
    assert len(sent) == 1, sent
    return sent[0]


async def wait_card_of(bot: BotHarness, activity_id: int) -> dict[str, Any]:
    await bot.services.outbox.drain(20)
    card = await bot.tg.wait_for(lambda: card_of(bot, activity_id), what=f"card #{activity_id}")
    assert isinstance(card, dict)
    return card


async def advance(bot: BotHarness, local: str) -> None:
    """Move the clock and let the outbox send whatever fell due."""
    clock(bot).set_local(local)
    bot.services.outbox.wake()
    await bot.services.outbox.drain(20)


def numbers(reply: str) -> list[int]:
    return [int(n) for n in re.findall(r"^#(\d+) ", reply, re.MULTILINE)]


async def rows(bot: BotHarness) -> list[Activity]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(Activity).order_by(Activity.id)))


async def waiting_text(bot: BotHarness, activity_id: int, fragment: str) -> None:
    """Until the card of `activity_id` waiting in the outbox reads `fragment`: the card
    refresher rewrites it soon after a change, in a task of its own."""
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        async with bot.services.db.session() as session:
            text = await session.scalar(
                select(OutboxMessage.text).where(
                    OutboxMessage.purpose == "activity_card",
                    OutboxMessage.ref_id == activity_id,
                    OutboxMessage.status == "pending",
                )
            )
        if text is not None and fragment in text:
            return
        assert asyncio.get_running_loop().time() < deadline, text
        await asyncio.sleep(0.05)


async def card_rows(bot: BotHarness) -> dict[int, str]:
    """{activity id: status of its card in the outbox}."""
    async with bot.services.db.session() as session:
        found = await session.execute(
            select(OutboxMessage.ref_id, OutboxMessage.status).where(
                OutboxMessage.purpose == "activity_card"
            )
        )
        return {ref: status for ref, status in found.all() if ref is not None}


def local(moment: dt.datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


async def make_series(bot: BotHarness, args: str) -> tuple[str, list[int]]:
    reply = await bot.admin.ask_private(f"/newevent {args}")
    assert "已创建系列活动" in reply, reply
    return reply, numbers(reply)


WEEKLY = "学习 2026-12-08 15:00 青年理论学习 place=三楼 end=16:30 repeat=weekly count=4"


async def test_a_weekly_series_posts_one_card_now_and_each_next_a_week_before_it(
    world: BotHarness,
) -> None:
    bot = world
    await seed_members(bot, 3, "办公室")
    reply, ids = await make_series(bot, WEEKLY)
    assert len(ids) == 4 and "每周一次，共 4 次" in reply
    for n, day in zip(ids, ["2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29"], strict=True):
        assert f"#{n} {day}（周二）15:00" in reply
    activities = await rows(bot)
    assert [a.id for a in activities] == ids
    assert {a.series_id for a in activities} == {ids[0]}
    assert [local(a.starts_at) for a in activities] == [
        "2026-12-08 15:00",
        "2026-12-15 15:00",
        "2026-12-22 15:00",
        "2026-12-29 15:00",
    ]
    assert all(a.ends_at - a.starts_at == dt.timedelta(minutes=90) for a in activities)
    assert all((a.kind, a.title, a.place) == ("study", "青年理论学习", "三楼") for a in activities)
    # Only the first card now; the others wait (durably, in the outbox).
    first = await wait_card_of(bot, ids[0])
    assert "2026-12-08 15:00–16:30" in card_text(bot, first)
    assert [card_of(bot, n) for n in ids[1:]] == [None, None, None]
    assert set((await card_rows(bot)).values()) == {"sent", "pending"}
    events = await bot.admin.ask_private("/events")
    assert f"#{ids[1]} " in events and "系列 2/4" in events and "系列 4/4" in events
    # Changed while its card waits; more people meanwhile: the card shows it as it is now.
    edited = await bot.admin.ask_private(f"/event edit {ids[1]} place=五楼报告厅")
    assert "五楼报告厅" in edited
    await waiting_text(bot, ids[1], "五楼报告厅")
    await seed_members(bot, 2, "康复中心", first_id=600000)
    await advance(bot, "2026-12-08 14:59")
    assert card_of(bot, ids[1]) is None
    await advance(bot, "2026-12-08 15:00")
    second = await wait_card_of(bot, ids[1])
    posted = posted_text(bot, ids[1])  # as sent, not as edited since
    assert "2026-12-15 15:00–16:30" in posted and "五楼报告厅" in posted and "三楼" not in posted
    await wait_card(bot, second, "应到 5")
    assert card_of(bot, ids[2]) is None and card_of(bot, ids[3]) is None


async def test_a_card_whose_week_has_already_begun_is_posted_at_once(world: BotHarness) -> None:
    bot = world
    # The first is under way (13:30–15:30 at 14:00): the second's week began at 13:30.
    _, ids = await make_series(bot, "会议 2026-12-07 13:30 例会 repeat=weekly count=3")
    await wait_card_of(bot, ids[0])
    await wait_card_of(bot, ids[1])
    assert card_of(bot, ids[2]) is None


async def test_a_monthly_series_from_the_31st_lands_on_month_ends(world: BotHarness) -> None:
    bot = world
    reply, ids = await make_series(bot, "会议 2027-01-31 10:00 月度例会 repeat=monthly count=4")
    assert "每月一次，共 4 次" in reply
    starts = [local(a.starts_at) for a in await rows(bot)]
    assert starts == [
        "2027-01-31 10:00",
        "2027-02-28 10:00",
        "2027-03-31 10:00",
        "2027-04-30 10:00",
    ]
    assert "没有 31 日" in reply and "最后一天" in reply
    assert f"#{ids[1]} 2027-02-28" in reply and f"#{ids[3]} 2027-04-30" in reply


async def test_a_biweekly_volunteer_series_moves_each_deadline_with_its_start(
    world: BotHarness,
) -> None:
    bot = world
    _, ids = await make_series(
        bot,
        "志愿 2026-12-12 09:00 助残服务 cap=8 hours=3 deadline=2026-12-11T18:00 "
        "code=ab12 checkout=on repeat=biweekly count=3",
    )
    activities = await rows(bot)
    assert [local(a.starts_at) for a in activities] == [
        "2026-12-12 09:00",
        "2026-12-26 09:00",
        "2027-01-09 09:00",
    ]
    assert [local(a.signup_deadline) for a in activities if a.signup_deadline] == [
        "2026-12-11 18:00",
        "2026-12-25 18:00",
        "2027-01-08 18:00",
    ]
    assert all(
        (a.kind, a.capacity, a.hours, a.code, a.checkout, a.series_id)
        == ("volunteer", 8, 3.0, "ab12", True, ids[0])
        for a in activities
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("repeat=weekly count=53", "2–52"),
        ("repeat=weekly count=1", "2–52"),
        ("repeat=weekly count=abc", "2–52"),
        ("repeat=daily count=4", "repeat= 只能是"),
        ("repeat=weekly", "须同时写"),
        ("count=4", "须同时写"),
    ],
)
async def test_a_bad_series_is_refused_and_creates_nothing(
    world: BotHarness, options: str, expected: str
) -> None:
    reply = await world.admin.ask_private(f"/newevent 学习 2026-12-08 15:00 标题 {options}")
    assert expected in reply, reply
    assert await activities_count(world) == 0


async def test_a_series_reaching_beyond_the_date_range_is_refused_whole(world: BotHarness) -> None:
    bot = world
    # Five years from 2026-12-07 is the last date; the 12th month would be 2032-05-01.
    reply = await bot.admin.ask_private(
        "/newevent 学习 2031-06-01 15:00 标题 repeat=monthly count=12"
    )
    assert "2032-05-01" in reply and "2031-12-07" in reply and "没有创建" in reply
    assert await activities_count(bot) == 0
    assert await card_rows(bot) == {}
    # One month fewer fits.
    _, ids = await make_series(bot, "学习 2031-06-01 15:00 标题 repeat=monthly count=6")
    assert len(ids) == 6


async def test_cancelling_the_rest_of_a_series(world: BotHarness) -> None:
    bot = world
    _, ids = await make_series(bot, WEEKLY)
    await wait_card_of(bot, ids[0])
    await advance(bot, "2026-12-08 15:00")  # the second card is posted
    second = await wait_card_of(bot, ids[1])
    reply = await bot.admin.ask_private(f"/event cancel {ids[1]} all")
    assert f"#{ids[1]}、#{ids[2]}、#{ids[3]}" in reply and "3 个活动" in reply
    assert f"#{ids[0]}" not in reply
    statuses = [a.status for a in await rows(bot)]
    assert statuses == ["active", "cancelled", "cancelled", "cancelled"]
    cards = await card_rows(bot)
    assert cards == {ids[0]: "sent", ids[1]: "sent", ids[2]: "cancelled", ids[3]: "cancelled"}
    # The posted card says so; the others never appear.
    await wait_card(bot, second, "活动已取消")
    await advance(bot, "2026-12-29 12:00")
    assert card_of(bot, ids[2]) is None and card_of(bot, ids[3]) is None
    # Nothing left to cancel; a single activity has no series.
    assert "没有可取消" in await bot.admin.ask_private(f"/event cancel {ids[2]} all")
    single, _card = await create(bot, "会议 2026-12-30 10:00 单次会议")
    refused = await bot.admin.ask_private(f"/event cancel {single} all")
    assert "不属于任何系列" in refused
    assert [a.status for a in await rows(bot)][-1] == "active"


async def test_cancelling_one_member_of_a_series_drops_its_waiting_card(
    world: BotHarness,
) -> None:
    bot = world
    _, ids = await make_series(bot, WEEKLY)
    assert "已取消活动" in await bot.admin.ask_private(f"/event cancel {ids[2]}")
    assert (await card_rows(bot))[ids[2]] == "cancelled"
    await advance(bot, "2026-12-22 15:00")
    assert card_of(bot, ids[2]) is None
    assert card_of(bot, ids[3]) is not None


async def test_moving_a_waiting_member_earlier_brings_its_card_forward(
    world: BotHarness,
) -> None:
    bot = world
    _, ids = await make_series(bot, WEEKLY)
    await wait_card_of(bot, ids[0])
    assert "2026-12-10" in await bot.admin.ask_private(f"/event edit {ids[3]} date=2026-12-10")
    card = await wait_card_of(bot, ids[3])  # its week has begun: at once
    assert "2026-12-10 15:00–16:30" in card_text(bot, card)
    assert card_of(bot, ids[1]) is None and card_of(bot, ids[2]) is None


async def test_cloning_copies_the_options_to_a_new_date_with_a_new_card(
    world: BotHarness,
) -> None:
    bot = world
    source, _card = await create(
        bot,
        "志愿 2026-12-09 09:00 助残志愿 place=康复中心 end=11:30 unit=办公室 cap=10 hours=3 "
        "deadline=2026-12-08T18:00 code=abc123 checkout=on",
    )
    reply = await bot.admin.ask_private(f"/event clone {source} 2026-12-16")
    match = re.search(r"复制为 #(\d+)", reply)
    assert match, reply
    copy_id = int(match[1])
    assert copy_id != source and "2026-12-16 09:00–11:30" in reply
    card = await wait_card_of(bot, copy_id)
    assert "助残志愿" in card_text(bot, card) and "名额 0/10" in card_text(bot, card)
    original, copy = (await rows(bot))[0], (await rows(bot))[1]
    fields = ("kind", "title", "place", "unit_id", "code", "hours", "capacity", "checkout")
    assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]
    assert local(copy.starts_at) == "2026-12-16 09:00" and local(copy.ends_at) == "2026-12-16 11:30"
    assert copy.signup_deadline is not None and local(copy.signup_deadline) == "2026-12-15 18:00"
    assert copy.series_id is None
    # Another time of day; a cancelled activity may be held again.
    assert "已取消" in await bot.admin.ask_private(f"/event cancel {source}")
    again = await bot.admin.ask_private(f"/event clone {source} 2026-12-20 14:00")
    assert "2026-12-20 14:00–16:30" in again, again


async def test_cloning_a_series_member_and_the_switches_stay_outside_the_series(
    world: BotHarness,
) -> None:
    bot = world
    _, ids = await make_series(
        bot, "学习 2026-12-08 15:00 学习 leave=approve qr=on code=x9 repeat=weekly count=2"
    )
    reply = await bot.admin.ask_private(f"/event clone {ids[1]} 2027-01-05 08:30")
    assert "已将活动" in reply, reply
    copy = (await rows(bot))[-1]
    assert (copy.leave_mode, copy.qr, copy.code, copy.series_id) == ("approve", True, "x9", None)
    assert local(copy.starts_at) == "2027-01-05 08:30"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("clone 99 2026-12-20", "不存在"),
        ("clone 1 2026-12-01", "已经过去"),
        ("clone 1 2026-12-07 09:00", "已经过去"),
        ("clone 1 2026-13-01", "日期“2026-13-01”无效"),
        ("clone 1 2040-01-01", "超出范围"),
        ("clone 1 2026-12-20 25:00", "时间“25:00”无效"),
        ("clone 1 2026-12-20 14:00 多余", "用法：/event clone"),
        ("clone 1", "用法：/event clone"),
        ("clone x 2026-12-20", "编号无效"),
    ],
)
async def test_a_bad_clone_is_refused_and_creates_nothing(
    world: BotHarness, args: str, expected: str
) -> None:
    bot = world
    await create(bot, "学习 2026-12-09 09:00 原活动")
    reply = await bot.admin.ask_private(f"/event {args}")
    assert expected in reply, reply
    assert await activities_count(bot) == 1


async def test_only_the_committee_may_clone_or_cancel_a_series(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(2101, "普通成员", "办公室")
    _, ids = await make_series(bot, WEEKLY)
    assert "仅限" in await member.ask_private(f"/event clone {ids[0]} 2027-01-05")
    assert "仅限" in await member.ask_private(f"/event cancel {ids[0]} all")
    assert await activities_count(bot) == 4
    assert {a.status for a in await rows(bot)} == {"active"}


async def test_two_series_created_at_once_are_two_distinct_series(world: BotHarness) -> None:
    bot = world
    other = await bot.registered(2001, "二号", "办公室")
    assert "已成为青工委成员" in await bot.admin.ask_private("/promote 2001")
    replies = await asyncio.gather(
        bot.admin.ask_private("/newevent 学习 2026-12-08 15:00 甲系列 repeat=weekly count=5"),
        other.ask_private("/newevent 会议 2026-12-09 10:00 乙系列 repeat=biweekly count=5"),
    )
    assert all("已创建系列活动" in r for r in replies), replies
    activities = await rows(bot)
    assert len(activities) == 10
    series: dict[int | None, list[Activity]] = {}
    for a in activities:
        series.setdefault(a.series_id, []).append(a)
    assert len(series) == 2 and None not in series
    for series_id, members in series.items():
        assert series_id == min(a.id for a in members)
        assert len(members) == 5 and len({a.title for a in members}) == 1
    assert sorted(numbers(replies[0]) + numbers(replies[1])) == [a.id for a in activities]
