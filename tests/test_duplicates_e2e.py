"""End-to-end: an activity that duplicates an existing one (same title, start and target) is
held with a warning, 仍然创建 creates it once, 取消 drops it (issue 23); /chase confirms once."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Activity
from tests.harness import BotHarness, seed_members
from tests.steps import activities_count, current, post
from tests.tgserver import TgUser

pytestmark = pytest.mark.clock("2026-12-04 10:00")  # a Friday

STUDY = "学习 2026-12-08 15:00 专题学习 地点=五楼"


async def reply_with(
    bot: BotHarness, person: TgUser, chat_id: int, text: str, fragment: str
) -> dict[str, Any]:
    """Send `text` in `chat_id`; the bot's answer there containing `fragment`."""
    since = len(bot.tg.bot_messages(chat_id))
    person.send(chat_id, text)
    return await bot.tg.message_in(
        chat_id, lambda m: fragment in m.get("text", ""), what=repr(fragment), since=since
    )


async def create(bot: BotHarness, args: str) -> tuple[int, dict[str, Any]]:
    """Create an activity as the committee, privately; its number and its card in the group."""
    reply = await reply_with(bot, bot.admin, bot.admin.id, f"/newevent {args}", "已创建活动")
    match = re.search(r"已创建活动 #(\d+)", reply["text"])
    assert match, reply["text"]
    activity_id = int(match[1])
    card = await bot.tg.message_in(
        bot.group.id, lambda m: f"#{activity_id} " in m["text"], what="the card"
    )
    return activity_id, card


async def warned(bot: BotHarness, person: TgUser, chat_id: int, args: str) -> dict[str, Any]:
    """Type `/newevent args` in `chat_id`; the bot's warning there."""
    return await reply_with(bot, person, chat_id, f"/newevent {args}", "已有相同的活动")


async def pressed_on(bot: BotHarness, person: TgUser, prefix: str, label: str) -> None:
    """Press `label` on the newest of the bot's private messages with a `prefix` button."""

    def has(message: dict[str, Any]) -> bool:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return any(str(b.get("callback_data", "")).startswith(prefix) for r in rows for b in r)

    message = await bot.tg.wait_for(
        lambda: next((m for m in reversed(bot.tg.bot_messages(person.id)) if has(m)), None),
        what=f"a {prefix} keyboard",
    )
    await person.toast(person.press(message, label))


def labels(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def settled_text(bot: BotHarness, message: dict[str, Any], fragment: str) -> str:
    """The warning once edited to say what happened (and without its buttons)."""
    await bot.tg.wait_for(
        lambda: fragment in current(bot, message)["text"], what=f"{fragment!r} in the warning"
    )
    edited = current(bot, message)
    assert "reply_markup" not in edited, edited
    return str(edited["text"])


async def titled(bot: BotHarness, title: str) -> list[Activity]:
    async with bot.services.db.session() as session:
        found = await session.scalars(select(Activity).where(Activity.title == title))
        return list(found)


async def test_a_typed_duplicate_warns_and_create_anyway_creates_it_once(
    world: BotHarness,
) -> None:
    bot = world
    first, _ = await create(bot, STUDY)
    warning = await warned(bot, bot.admin, bot.admin.id, STUDY)
    text = warning["text"]
    assert f"#{first}「专题学习」" in text and "2026-12-08 15:00" in text, text
    assert "全体成员" in text, text
    assert labels(warning) == ["仍然创建", "取消"]
    await bot.settled()
    assert await activities_count(bot) == 1  # nothing created yet
    answer = await bot.admin.toast(bot.admin.press(warning, "仍然创建"))
    assert "已创建" in answer["text"], answer
    edited = await settled_text(bot, warning, "已创建活动")
    second = [a.id for a in await titled(bot, "专题学习") if a.id != first]
    assert len(second) == 1 and f"#{second[0]}" in edited, edited
    # Exactly as asked: the same place, time and options; its own card in the group.
    (copy,) = [a for a in await titled(bot, "专题学习") if a.id == second[0]]
    assert copy.place == "五楼" and copy.unit_id is None
    await bot.tg.message_in(bot.group.id, lambda m: f"#{second[0]} " in m["text"], what="card")
    # A second press creates nothing more; it says so.
    again = await bot.admin.toast(bot.admin.press_data(warning, warning_data(bot, warning)))
    assert "已失效" in again["text"] and again["show_alert"], again
    await bot.settled()
    assert await activities_count(bot) == 2


def warning_data(bot: BotHarness, warning: dict[str, Any]) -> str:
    """The 仍然创建 button's data as it was sent (the button itself is gone now)."""
    for call in bot.tg.calls:
        if call.method == "sendMessage" and "已有相同的活动" in str(call.params.get("text")):
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            assert isinstance(markup, dict)
            return str(markup["inline_keyboard"][0][0]["callback_data"])
    raise AssertionError("no warning was sent")


async def test_cancel_creates_nothing_and_says_so(world: BotHarness) -> None:
    bot = world
    first, _ = await create(bot, STUDY)
    warning = await warned(bot, bot.admin, bot.admin.id, STUDY)
    answer = await bot.admin.toast(bot.admin.press(warning, "取消"))
    assert "已取消" in answer["text"], answer
    text = await settled_text(bot, warning, "已取消")
    assert "没有创建「专题学习」" in text and f"#{first}" in text, text
    stale = await bot.admin.toast(bot.admin.press_data(warning, warning_data(bot, warning)))
    assert "已失效" in stale["text"]
    await bot.settled()
    assert await activities_count(bot) == 1


async def test_another_time_unit_or_a_cancelled_one_is_not_a_duplicate(world: BotHarness) -> None:
    bot = world
    first, _ = await create(bot, STUDY)
    await create(bot, "学习 2026-12-08 16:00 专题学习 地点=五楼")  # another time
    await create(bot, "学习 2026-12-08 15:00 专题学习 单位=办公室")  # another target
    await create(bot, "学习 2026-12-08 15:00 专题学习会")  # another title
    # The unit's activity, twice: a duplicate too.
    await warned(bot, bot.admin, bot.admin.id, "学习 2026-12-08 15:00 专题学习 单位=办公室")
    await reply_with(bot, bot.admin, bot.admin.id, f"/event cancel {first}", "已取消")
    await create(bot, STUDY)  # the existing one is cancelled: nothing to warn about
    assert await activities_count(bot) == 5


async def test_forged_stale_or_someone_elses_press_changes_nothing(world: BotHarness) -> None:
    bot = world
    (member,) = await seed_members(bot, 1, "办公室")
    await create(bot, STUDY)
    warning = await warned(bot, bot.admin, bot.admin.id, STUDY)
    # Someone else sends its button's data (the token is right, the person is not).
    answer = await member.toast(member.press(warning, "仍然创建"))
    assert "不是你的" in answer["text"] and answer["show_alert"], answer
    data = warning_data(bot, warning)
    for forged in (data[:-1] + ("A" if data[-1] != "A" else "B"), "dup:ok:", "dup:go:abc", "dup:"):
        answer = await bot.admin.toast(bot.admin.press_data(warning, forged))
        assert "失效" in answer["text"] or "无效" in answer["text"], (forged, answer)
    await bot.settled()
    assert await activities_count(bot) == 1
    assert labels(current(bot, warning)) == ["仍然创建", "取消"]  # still waiting for its asker
    await bot.admin.toast(bot.admin.press(warning, "仍然创建"))
    await settled_text(bot, warning, "已创建活动")
    assert await activities_count(bot) == 2


async def test_typed_in_the_group_the_asker_gets_the_warning(world: BotHarness) -> None:
    bot = world
    await create(bot, STUDY)
    chats = (bot.group.id, bot.admin.id)
    since = {chat: len(bot.tg.bot_messages(chat)) for chat in chats}
    bot.admin.send(bot.group.id, f"/newevent {STUDY}")

    def the_warning() -> dict[str, Any] | None:
        for chat in chats:
            for message in bot.tg.bot_messages(chat)[since[chat] :]:
                if "已有相同的活动" in message.get("text", ""):
                    return message
        return None

    warning = await bot.tg.wait_for(the_warning, what="the warning")
    await bot.admin.toast(bot.admin.press(warning, "仍然创建"))
    await settled_text(bot, warning, "已创建活动")
    assert await activities_count(bot) == 2


async def test_a_newer_warning_replaces_the_older_one(world: BotHarness) -> None:
    bot = world
    await create(bot, STUDY)
    older = await warned(bot, bot.admin, bot.admin.id, STUDY)
    newer = await warned(bot, bot.admin, bot.admin.id, STUDY)
    stale = await bot.admin.toast(bot.admin.press(older, "仍然创建"))
    assert "已失效" in stale["text"]
    await bot.admin.toast(bot.admin.press(newer, "仍然创建"))
    await settled_text(bot, newer, "已创建活动")
    assert await activities_count(bot) == 2


async def test_a_series_whose_first_date_duplicates_warns(world: BotHarness) -> None:
    bot = world
    first, _ = await create(bot, STUDY)
    args = STUDY + " 重复=每周 次数=3"
    warning = await warned(bot, bot.admin, bot.admin.id, args)
    assert f"#{first}" in warning["text"]
    await bot.settled()
    assert await activities_count(bot) == 1
    await bot.admin.toast(bot.admin.press(warning, "仍然创建"))
    text = await settled_text(bot, warning, "已创建系列活动")
    assert "共 3 次" in text, text
    assert await activities_count(bot) == 4
    # A series starting a week later does not duplicate its first date.
    await reply_with(
        bot,
        bot.admin,
        bot.admin.id,
        "/newevent 学习 2026-12-22 15:00 新系列 重复=每周 次数=2",
        "已创建系列活动",
    )


async def test_the_guided_dialogue_warns_too(world: BotHarness) -> None:
    bot = world
    tg, admin = bot.tg, bot.admin
    first, _ = await create(bot, "学习 2026-12-09 10:00 主题教育")
    await reply_with(bot, admin, admin.id, "/newevent", "请选择类型")
    await pressed_on(bot, admin, "ne:k:", "学习")
    await bot.settled()
    await reply_with(bot, admin, admin.id, "2026-12-09 10:00", "标题")
    await reply_with(bot, admin, admin.id, "主题教育", "地点")
    await pressed_on(bot, admin, "ne:skip", "跳过")
    await bot.settled()
    await pressed_on(bot, admin, "ne:next", "下一步")
    await bot.settled()
    since = len(tg.bot_messages(admin.id))
    await pressed_on(bot, admin, "ne:ok", "确认创建")
    warning = await tg.message_in(
        admin.id, lambda m: "已有相同的活动" in m["text"], what="the warning", since=since
    )
    assert f"#{first}「主题教育」" in warning["text"]
    await bot.settled()
    assert await activities_count(bot) == 1
    await admin.toast(admin.press(warning, "取消"))
    await settled_text(bot, warning, "已取消")
    assert await activities_count(bot) == 1


async def test_the_warning_in_english(world: BotHarness) -> None:
    bot = world
    admin = bot.admin
    await reply_with(bot, admin, admin.id, "/lang en", "English")
    command = "/newevent study 2026-12-08 15:00 Team study"
    await reply_with(bot, admin, admin.id, command, "created")
    warning = await reply_with(bot, admin, admin.id, command, "same title, time and audience")
    assert "All members" in warning["text"], warning["text"]
    assert labels(warning) == ["Create anyway", "Cancel"]
    answer = await bot.admin.toast(bot.admin.press(warning, "Cancel"))
    assert "nothing created" in answer["text"], answer
    assert "was not created" in await settled_text(bot, warning, "Cancelled")


async def test_chase_confirms_once(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 2, "办公室")
    notice_id, _ = await post(bot, "remind=off 无自动提醒的通知")
    since = len(bot.tg.texts(bot.admin.id))
    reply = (await reply_with(bot, bot.admin, bot.admin.id, f"/chase {notice_id}", "私信"))["text"]
    assert f"通知 #{notice_id}" in reply and "私信 2 人" in reply, reply
    await bot.services.outbox.drain(20)
    await bot.settled()
    # One confirmation: nothing more about the notice follows (no report through the outbox).
    about = [x for x in bot.tg.texts(bot.admin.id)[since:] if f"#{notice_id}" in x]
    assert about == [reply], about
    for user in users:
        assert len(bot.tg.bot_messages(user.id)) == 1  # the reminder itself
    for user in users:
        await user.toast(user.press(bot.tg.bot_messages(user.id)[-1], "收到"))
    await reply_with(bot, bot.admin, bot.admin.id, f"/chase {notice_id}", "大家都已回复")
