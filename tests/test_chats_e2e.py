"""End-to-end: groups changing under the bot — upgraded, removed, demoted — and blocked people.

Nothing may silently go nowhere: every notice, card and reminder reaches a chat that exists,
and the committee hears about what no longer works.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Chat, Member
from tests.harness import BotHarness, clock, seed_members
from tests.steps import body, create, find_card, post
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

BASIC = -5001  # a basic group: its id changes when it becomes a supergroup
SUPER = -1005001
UNIT_GROUP = -100800


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await bot.add_units("办公室", "康复中心")
    return bot


async def basic_main_group(bot: BotHarness) -> None:
    bot.tg.add_group(BASIC, "青工委（普通群）", kind="group")
    assert "已将本群设为主群" in await bot.admin.ask(BASIC, "/setup")


async def chat_row(bot: BotHarness, chat_id: int) -> Chat | None:
    async with bot.services.db.session() as session:
        return await session.get(Chat, chat_id)


def calls_to(bot: BotHarness, chat_id: int, ok: bool | None = None) -> int:
    return sum(
        1 for c in bot.tg.calls if c.params.get("chat_id") == chat_id and (ok is None or c.ok == ok)
    )


async def told(bot: BotHarness, fragment: str, timeout: float = 15) -> str:
    """Wait for the committee member's private chat to receive a message with `fragment`."""
    what = f"the committee told {fragment!r}"
    return body(await bot.tg.message_in(bot.admin.id, lambda m: fragment in body(m), timeout, what))


def newest_card(bot: BotHarness, chat_id: int, fragment: str) -> dict[str, Any] | None:
    cards = [m for m in bot.tg.bot_messages(chat_id) if fragment in (m.get("text") or "")]
    return cards[-1] if cards else None


async def test_an_upgrade_announced_by_service_messages_moves_everything(
    world: BotHarness,
) -> None:
    bot = world
    await basic_main_group(bot)
    people = await seed_members(bot, 3, "办公室")
    activity_id, old_card = await create(bot, "学习 2026-12-07 14:10 升级前的学习", BASIC)
    notice_id, _ = await post(bot, "remind=off 升级前的通知")
    old_notice = find_card(bot, notice_id, BASIC)
    assert old_notice is not None and old_notice.get("pinned")
    await people[0].toast(people[0].press(old_card, "签到"))

    bot.tg.upgrade(BASIC, SUPER, by=bot.admin.id)
    await bot.admin.ask_private("/help")  # the service messages were handled before this
    # (The check-in's coalesced card edit may still reach the old id before the upgrade.)
    sent_before = calls_to(bot, BASIC)
    moved = await chat_row(bot, SUPER)
    assert moved is not None and moved.purpose == "main" and moved.chat_type == "supergroup"
    assert await chat_row(bot, BASIC) is None

    # 收到 pressed on the old card, a check-in: the cards come back, fresh, in the supergroup.
    answer = await people[1].toast(people[1].press(old_notice, "收到"))
    assert "已收到" in answer["text"]
    await people[1].ask_private(f"/checkin {activity_id}")
    notice_card = await bot.tg.wait_for(
        lambda: (found := find_card(bot, notice_id, SUPER)) and found.get("pinned") and found,
        20,
        "the notice afresh, pinned",
    )
    assert "已收到 1 / 3" in notice_card["text"]
    # Afresh in the supergroup (perhaps first with one check-in, then edited): both count.
    await bot.tg.wait_for(
        lambda: "已签到 2" in ((newest_card(bot, SUPER, "升级前的学习") or {}).get("text") or ""),
        20,
        "the activity card afresh, with both check-ins",
    )
    # New messages go straight to the new id; the old one is never tried again.
    await post(bot, "remind=off 升级后的通知")
    assert any("升级后的通知" in t for t in bot.tg.texts(SUPER))
    assert calls_to(bot, BASIC) == sent_before
    assert "超级群" in await bot.admin.ask_private("/chats")


async def test_an_upgrade_found_by_the_error_delivers_what_was_pending_once(
    world: BotHarness,
) -> None:
    bot = world
    await basic_main_group(bot)
    people = await seed_members(bot, 2, "办公室")
    activity_id, _card = await create(bot, "学习 2026-12-07 14:10 静默升级", BASIC)
    # Upgraded without the service messages reaching the bot: a notice queued for the old id
    # meets "group chat was upgraded" and goes to the new id, once.
    bot.tg.upgrade(BASIC, SUPER, by=bot.admin.id, announce=False)
    notice_id, _ = await post(bot, "remind=off 待发的通知")
    notice_card = await bot.tg.wait_for(
        lambda: find_card(bot, notice_id, SUPER), 20, "the notice in the supergroup"
    )
    assert sum("待发的通知" in t for t in bot.tg.texts(SUPER)) == 1
    assert calls_to(bot, BASIC, ok=False) == 1  # the one answer that said where it went
    assert "已收到 0 / 2" in notice_card["text"]
    # The activity card, whose message is in the old chat, is posted afresh on its change.
    await people[0].ask_private(f"/checkin {activity_id}")
    fresh = await bot.tg.wait_for(
        lambda: newest_card(bot, SUPER, "静默升级"), 20, "the activity card afresh"
    )
    assert "已签到 1" in fresh["text"]
    assert calls_to(bot, BASIC, ok=False) <= 2  # one edit found the card could not move
    assert (await chat_row(bot, SUPER)) is not None and await chat_row(bot, BASIC) is None


async def test_removed_from_a_units_group_its_messages_go_to_the_main_group(
    world: BotHarness,
) -> None:
    bot = world
    await bot.setup_main_group()
    await seed_members(bot, 2, "康复中心")
    unit_group = bot.tg.add_group(UNIT_GROUP, "康复中心群")
    await bot.admin.ask(UNIT_GROUP, "/setup 康复中心")
    someone = bot.user(3300, "群主")
    bot.tg.set_bot_status(UNIT_GROUP, "kicked", by=someone.id)
    report = await told(bot, "我被移出了")
    assert "康复中心群" in report and "康复中心 分组群" in report and "群主" in report
    notice_id, _ = await post(bot, "@康复中心 remind=off 改发主群的通知")
    assert find_card(bot, notice_id, bot.group.id) is not None
    activity_id, _ = await create(bot, "学习 2026-12-08 10:00 分组学习 unit=康复中心")
    assert "我已被移出" in await bot.admin.ask_private("/chats")
    # Added back and set up again: the unit's messages go to its group again.
    since = len(bot.tg.texts(UNIT_GROUP))
    bot.tg.set_bot_status(UNIT_GROUP, "administrator", by=someone.id)
    hint = await TgUser(bot.tg, someone.id).reply_in(UNIT_GROUP, since)
    assert "/setup" in hint
    assert "康复中心 的分组群" in await bot.admin.ask(UNIT_GROUP, "/setup 康复中心")
    notice_id, _ = await post(bot, "@康复中心 remind=off 回到分组群的通知")
    assert find_card(bot, notice_id, unit_group.id) is not None
    assert activity_id


async def test_removed_from_the_main_group_reminders_go_to_the_committee(
    world: BotHarness,
) -> None:
    bot = world
    await bot.setup_main_group()
    bot.tg.set_bot_status(bot.group.id, "left", by=bot.admin.id)
    report = await told(bot, "我被移出了主群")
    assert "/setup" in report
    reply = await bot.admin.ask_private("/remind add 2026-12-07 15:00 主群没了之后的提醒")
    assert "已添加单次提醒" in reply
    clock(bot).set_local("2026-12-07 15:00")
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(20)
    assert any("主群没了之后的提醒" in t for t in bot.tg.texts(bot.admin.id))
    assert "还没有设置主群" in await bot.admin.ask_private("/notice 没有主群的通知")
    # /setup anywhere else fixes it.
    other = bot.tg.add_group(-100900, "新主群")
    assert "已将本群设为主群" in await bot.admin.ask(other.id, "/setup")
    notice_id, _ = await post(bot, "remind=off 新主群的通知")
    assert find_card(bot, notice_id, other.id) is not None


async def test_demoted_the_committee_is_told_once_and_notices_still_go_out(
    world: BotHarness,
) -> None:
    bot = world
    await bot.setup_main_group()
    bot.tg.set_bot_status(bot.group.id, "member", by=bot.admin.id)
    await told(bot, "不再是管理员")
    bot.tg.set_bot_status(bot.group.id, "member", by=bot.admin.id)  # nothing new
    notice_id, reply = await post(bot, "remind=off 降级后的通知")
    assert "没有置顶权限" in reply
    posted = find_card(bot, notice_id, bot.group.id)
    assert posted is not None and not posted.get("pinned")
    assert sum("不再是管理员" in t for t in bot.tg.texts(bot.admin.id)) == 1
    assert not any("未能置顶" in t for t in bot.tg.texts(bot.admin.id))
    bot.tg.set_bot_status(bot.group.id, "administrator", by=bot.admin.id, can_pin=False)
    bot.tg.set_bot_status(bot.group.id, "administrator", by=bot.admin.id, can_pin=True)
    await told(bot, "现在可以置顶消息了")
    assert "置顶消息 可以 ✅" in await bot.admin.ask(bot.group.id, "/setup")


async def test_a_failed_pin_is_reported_once_per_notice_not_per_follow_up(
    world: BotHarness,
) -> None:
    bot = world
    await bot.setup_main_group()
    await seed_members(bot, 2, "办公室")
    bot.tg.chats[bot.group.id].bot_can_pin = False  # taken away without an update reaching us
    notice_id, _ = await post(bot, "remind=off 置顶失败的通知")
    await told(bot, "未能置顶")
    for _ in range(2):
        await bot.admin.ask_private(f"/chase {notice_id}")
        await bot.services.outbox.drain(20)
    assert sum("未能置顶" in t for t in bot.tg.texts(bot.admin.id)) == 1


async def can_dm(bot: BotHarness, telegram_id: int) -> bool:
    async with bot.services.db.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        assert member is not None
        return member.can_dm


async def test_a_person_who_blocks_the_bot_is_remembered_until_they_write_again(
    world: BotHarness,
) -> None:
    bot = world
    await bot.setup_main_group()
    person = await bot.registered(3400, "小周", "办公室")
    bot.tg.block(person.id)
    await bot.admin.ask_private("/help")  # the block was handled before this
    assert not await can_dm(bot, person.id)
    bot.tg.block(person.id, blocked=False)
    assert "登记" in await person.ask_private("/start")
    assert await can_dm(bot, person.id)
    # A 403 on a private send marks them; writing to the bot again un-marks them.
    bot.tg.blocked.add(person.id)
    notice_id, _ = await post(bot, "remind=off 找人的通知")
    await bot.admin.ask_private(f"/chase {notice_id}")
    await bot.services.outbox.drain(20)
    assert not await can_dm(bot, person.id)
    bot.tg.blocked.discard(person.id)
    assert re.search(r"记录|登记", await person.ask_private("/me"))
    assert await can_dm(bot, person.id)
