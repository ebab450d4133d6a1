"""End-to-end: activities, check-in, leave, rosters and the coalesced card."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import select

from db.models import Activity
from tests.harness import BotHarness, clock, seed_members
from tests.steps import activities_count, attendance, card_text, create, wait_card
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")


async def test_one_line_creation_posts_a_card_and_replies_the_number(world: BotHarness) -> None:
    bot = world
    await seed_members(bot, 3, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 学习二十大报告 place=三楼 会议室")
    text = card_text(bot, card)
    assert "【理论学习】" in text and f"#{activity_id} 学习二十大报告" in text
    assert "2026-12-07 15:00–17:00" in text and "三楼 会议室" in text and "全体成员" in text
    assert "已签到 0 · 迟到 0 · 请假 0 · 应到 3" in text
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["签到", "请假"]
    # English kind, end time, a unit target.
    _, other = await create(
        bot, "meeting 2026-12-08 09:30 第四季度青工委会议 end=11:00 unit=办公室"
    )
    text = card_text(bot, other)
    assert "【青工委会议】" in text and "09:30–11:00" in text and "办公室" in text


async def test_a_units_activity_goes_to_its_own_group(world: BotHarness) -> None:
    bot = world
    unit_group = bot.tg.add_group(-100900, "康复中心群")
    assert "康复中心 的分组群" in await bot.admin.ask(unit_group.id, "/setup 康复中心")
    _, card = await create(bot, "study 2026-12-07 15:00 康复知识学习 unit=康复中心", unit_group.id)
    assert card["chat"]["id"] == unit_group.id
    assert not any("康复知识学习" in t for t in bot.tg.texts(bot.group.id))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "按步骤"),  # in a group the guided dialogue is not started
        ("学习", "用法"),
        ("跳舞 2026-12-07 15:00 标题", "没有“跳舞”这种活动类型"),
        ("学习 2026-02-30 15:00 标题", "日期“2026-02-30”无效"),
        ("学习 2026-12-07 25:00 标题", "时间“25:00”无效"),
        ("学习 2026-12-01 15:00 已经过去", "已经过去"),
        ("学习 2026-12-07 15:00 标题 color=red", "不认识的选项“color=”"),
        ("学习 2026-12-07 15:00 标题 end=14:00", "结束时间必须晚于"),
        ("学习 2026-12-07 15:00 标题 hours=2", "只适用于志愿服务"),
        ("学习 2026-12-07 15:00 标题 cap=10", "只适用于志愿服务"),
        ("学习 2026-12-07 15:00 标题 unit=火星", "没有名为“火星”"),
        ("学习 2026-12-07 15:00 标题 code=有空格的码", "签到码只能"),
        ("学习 2026-12-07 15:00 " + "长" * 100, "内容太长"),
    ],
)
async def test_bad_newevent_input_is_refused_and_creates_nothing(
    world: BotHarness, args: str, expected: str
) -> None:
    reply = await world.admin.ask_anywhere(world.group.id, f"/newevent {args}".strip())
    assert expected in reply, reply
    assert await activities_count(world) == 0


async def test_who_may_create(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(2101, "普通成员", "办公室", username="plain")
    lead = await bot.registered(2102, "组长", "康复中心", username="lead")
    await bot.admin.ask_private("/lead 康复中心 @lead")
    refused = await member.ask_private("/newevent 学习 2026-12-07 15:00 标题")
    assert "仅限青工委成员或该分组组长" in refused
    assert "仅限" in await lead.ask_private("/newevent 学习 2026-12-07 15:00 全体的学习")
    assert "仅限" in await lead.ask_private("/newevent 学习 2026-12-07 15:00 别组 unit=办公室")
    assert await activities_count(bot) == 0
    ok = await lead.ask_private("/newevent 学习 2026-12-07 15:00 本组学习 unit=康复中心")
    assert "已创建活动 #1" in ok
    # Without a main group nothing can be announced: refused.


async def test_no_main_group_refuses_creation(bot: BotHarness) -> None:
    await bot.admin.ask_private("/start")
    reply = await bot.admin.ask_private("/newevent 学习 2030-12-07 15:00 标题")
    assert "还没有设置主群" in reply
    assert await activities_count(bot) == 0


async def test_guided_creation(world: BotHarness) -> None:
    bot = world
    tg = bot.tg
    first = await bot.admin.ask_private("/newevent")
    assert "请选择类型" in first
    prompt = tg.bot_messages(bot.admin.id)[-1]
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(prompt, "民族团结教育"))
    assert "2026-12-05 15:00" in await bot.admin.reply_in(bot.admin.id, since)
    assert "无效" in await bot.admin.ask_private("明天下午")
    assert "标题" in await bot.admin.ask_private("2026-12-09 10:00")
    assert "地点" in await bot.admin.ask_private("铸牢中华民族共同体意识 主题教育")
    place_prompt = tg.bot_messages(bot.admin.id)[-1]
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(place_prompt, "跳过"))
    options = await bot.admin.reply_in(bot.admin.id, since)
    assert "可选设置" in options
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(tg.bot_messages(bot.admin.id)[-1], "下一步"))
    summary = await bot.admin.reply_in(bot.admin.id, since)
    assert "请确认" in summary and "2026-12-09 10:00–12:00" in summary and "待定" in summary
    assert "选项：无" in summary
    confirm = tg.bot_messages(bot.admin.id)[-1]
    await bot.admin.toast(bot.admin.press(confirm, "确认创建"))
    card = await tg.message_in(bot.group.id, lambda m: "铸牢" in m["text"], what="the card")
    assert "【民族团结教育】" in card["text"]
    # The finished dialogue's buttons are stale now.
    stale = await bot.admin.toast(bot.admin.press(confirm, "确认创建"))
    assert "已经结束" in stale["text"]
    assert await activities_count(bot) == 1


async def test_guided_creation_sets_the_options_and_makes_a_series(world: BotHarness) -> None:
    bot = world
    tg = bot.tg
    await bot.admin.ask_private("/newevent")
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(tg.bot_messages(bot.admin.id)[-1], "志愿服务"))
    await bot.admin.reply_in(bot.admin.id, since)
    await bot.admin.ask_private("2026-12-09 10:00")
    await bot.admin.ask_private("助残志愿")
    assert "可选设置" in await bot.admin.ask_private("社区中心")
    options = tg.bot_messages(bot.admin.id)[-1]
    labels = [b["text"] for row in options["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["请假需审批：否", "扫码签到：否", "签退计时：否", "重复：不重复", "下一步"]
    for label in ("请假需审批", "扫码签到", "签退计时", "重复", "重复"):  # 重复: 每周, then 每两周
        await bot.admin.toast(bot.admin.press(options, label))
    await tg.wait_for(
        lambda: "每两周" in str(tg.chats[bot.admin.id].messages[options["message_id"]]),
        what="the options shown as set",
    )
    current = tg.chats[bot.admin.id].messages[options["message_id"]]
    labels = [b["text"] for row in current["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:5] == [
        "请假需审批：是",
        "扫码签到：是",
        "签退计时：是",
        "重复：每两周",
        "次数：4",
    ]
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(current, "下一步"))
    summary = await bot.admin.reply_in(bot.admin.id, since)
    assert "请假需审批：是" in summary and "重复：每两周" in summary and "次数：4" in summary
    since = len(tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(tg.bot_messages(bot.admin.id)[-1], "确认创建"))
    created = await bot.admin.reply_in(bot.admin.id, since)
    assert "每两周一次，共 4 次" in created
    async with bot.services.db.session() as session:
        made = list(await session.scalars(select(Activity).order_by(Activity.id)))
    assert len(made) == 4 and {a.series_id for a in made} == {made[0].id}
    assert all(a.leave_mode == "approve" and a.qr and a.checkout for a in made)
    assert all(a.place == "社区中心" and a.kind == "volunteer" for a in made)


async def test_guided_creation_can_be_cancelled(world: BotHarness) -> None:
    bot = world
    await bot.admin.ask_private("/newevent")
    prompt = bot.tg.bot_messages(bot.admin.id)[-1]
    since = len(bot.tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(prompt, "理论学习"))
    await bot.admin.reply_in(bot.admin.id, since)
    assert "已取消" in await bot.admin.ask_private("/cancel")
    assert "没有进行中" in await bot.admin.ask_private("/cancel")
    # Text after cancelling is not taken as an answer.
    bot.admin.say("2026-12-09 10:00")
    await bot.settled()
    assert await activities_count(bot) == 0


async def test_check_in_window_edges_and_late_marking(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 6, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 窗口测试")
    now = clock(bot)

    async def press(user: TgUser, at: str) -> str:
        now.set_local(at)
        return str((await user.toast(user.press(card, "签到")))["text"])

    assert "尚未开始" in await press(users[0], "2026-12-07 14:29:59")
    assert await attendance(bot, activity_id) == {}
    assert "签到成功 #" in await press(users[0], "2026-12-07 14:30:00")
    assert "签到成功 #" in await press(users[1], "2026-12-07 15:15:00")
    late = await press(users[2], "2026-12-07 15:15:01")
    assert "签到成功（迟到）" in late and "15:15" in late
    assert "迟到" in await press(users[3], "2026-12-07 17:00:00")
    assert "签到已结束" in await press(users[4], "2026-12-07 17:00:01")
    statuses = await attendance(bot, activity_id)
    assert statuses == {
        users[0].id: "present",
        users[1].id: "present",
        users[2].id: "late",
        users[3].id: "late",
    }
    now.set_local("2026-12-07 15:00")
    await wait_card(bot, card, "已签到 4 · 迟到 2 · 请假 0 · 应到 6")


async def test_double_press_counts_once(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:15 重复测试")
    first = await user.toast(user.press(card, "签到"))
    again = await user.toast(user.press(card, "签到"))
    assert "签到成功 #" in first["text"] and "你已签到过" in again["text"]
    # Two presses at the very same moment: the unique constraint keeps one.
    both = [user.press(card, "签到"), user.press(card, "签到")]
    answers = [await user.toast(cb) for cb in both]
    assert all("已签到过" in a["text"] for a in answers)
    assert await attendance(bot, activity_id) == {user.id: "present"}


async def test_unregistered_people_are_asked_to_register(world: BotHarness) -> None:
    bot = world
    activity_id, card = await create(bot, "学习 2026-12-07 14:15 登记测试")
    stranger = bot.user(2103, "路人")
    answer = await stranger.toast(stranger.press(card, "签到"))
    assert "请先登记" in answer["text"]
    assert await attendance(bot, activity_id) == {}


async def test_check_in_code(world: BotHarness) -> None:
    bot = world
    (user, other) = await seed_members(bot, 2, "办公室")
    activity_id, card = await create(bot, "会议 2026-12-07 14:15 带码会议 code=A7x9")
    assert "/checkin" in card_text(bot, card) and "A7x9" not in card_text(bot, card)
    answer = await user.toast(user.press(card, "签到"))
    assert f"/checkin {activity_id} 签到码" in answer["text"] and answer["show_alert"]
    assert answer["url"].endswith(f"?start=checkin_{activity_id}")
    in_group = await user.ask_anywhere(bot.group.id, f"/checkin {activity_id} A7x9")
    assert "私聊" in in_group
    assert "不对" in await user.ask_private(f"/checkin {activity_id} wrong")
    assert await attendance(bot, activity_id) == {}
    assert "签到成功" in await user.ask_private(f"/checkin {activity_id} A7x9")
    # Through the button's deep link: the next private text is the code.
    assert "签到码" in await other.ask_private(f"/start checkin_{activity_id}")
    assert "签到成功" in await other.ask_private("A7x9")
    assert set(await attendance(bot, activity_id)) == {user.id, other.id}
    async with bot.services.db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None and activity.wrong_codes == 1


async def test_leave_by_button_and_command_then_present(world: BotHarness) -> None:
    bot = world
    (user, other, third) = await seed_members(bot, 3, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 请假测试")
    answer = await user.toast(user.press(card, "请假"))
    assert answer["url"].endswith(f"?start=leave_{activity_id}")
    assert "请假原因" in await user.ask_private(f"/start leave_{activity_id}")
    assert "已请假" in await user.ask_private("下乡 调研")
    assert "用法" in await other.ask_private(f"/leave {activity_id}")
    assert "已请假" in await other.ask_private(f"/leave #{activity_id} 孩子生病")
    assert "已更新" in await other.ask_private(f"/leave {activity_id} 孩子发烧")
    await wait_card(bot, card, "请假 2")
    # On leave, then comes after all: present.
    clock(bot).set_local("2026-12-07 15:05")
    assert "签到成功" in (await user.toast(user.press(card, "签到")))["text"]
    assert await attendance(bot, activity_id) == {user.id: "present", other.id: "leave"}
    # Present people need no leave; after the end nobody can ask.
    assert "无需请假" in await user.ask_private(f"/leave {activity_id} 算了")
    clock(bot).set_local("2026-12-07 17:01")
    assert "已结束" in await third.ask_private(f"/leave {activity_id} 迟来的请假")
    assert await attendance(bot, activity_id) == {user.id: "present", other.id: "leave"}


async def test_checkin_command_without_id(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    assert "没有你可以签到" in await user.ask_private("/checkin")
    first, _ = await create(bot, "学习 2026-12-07 14:15 第一场")
    reply = await user.ask_private("/checkin")
    assert f"签到成功 #{first}" in reply
    # 签到 again: it says it is done, not that nothing is open.
    again = await user.ask_private("签到")
    assert f"你已签到：#{first}「第一场」" in again and "没有你可以签到" not in again, again
    second, _ = await create(bot, "学习 2026-12-07 14:20 第二场")
    await create(bot, "学习 2026-12-07 14:25 第三场 unit=康复中心")  # not this person's unit
    # The first is done and the third is another unit's: only the second is left.
    assert f"签到成功 #{second}" in await user.ask_private("/checkin")
    fourth, _ = await create(bot, "学习 2026-12-07 14:30 第四场")
    fifth, _ = await create(bot, "会议 2026-12-07 14:20 第五场")
    listing = await user.ask_anywhere(bot.group.id, "/checkin")
    assert "多个" in listing and f"/checkin {fourth}" in listing and f"/checkin {fifth}" in listing
    assert "第三场" not in listing and "第二场" not in listing
    assert "已签到过" in await user.ask_private(f"/checkin {first}")
    assert "编号" in await user.ask_private("/checkin abc")
    assert "不存在" in await user.ask_private("/checkin 999")


async def test_forged_and_stale_buttons_change_nothing(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:15 伪造测试")
    cases = {
        "act:ci:999999": "不存在",
        "garbage": "无效",
        "act:xx:1": "无效",
        f"act:ci:{activity_id}:extra": "无效",
        "act:ci:99999999999999": "无效",
        "ne:ok": "无效",
        "": "无效",
    }
    for data, expected in cases.items():
        answer = await user.toast(user.press_data(card, data or " "))
        assert expected in answer["text"], (data, answer)
    await bot.admin.ask_private(f"/event cancel {activity_id}")
    answer = await user.toast(user.press_data(card, f"act:ci:{activity_id}"))
    assert "已取消" in answer["text"]
    assert await attendance(bot, activity_id) == {}


async def test_events_lists_upcoming_and_open(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    assert "近期没有活动" in await user.ask_private("/events")
    first, _ = await create(bot, "学习 2026-12-07 14:15 进行中的学习")
    second, _ = await create(bot, "志愿 2026-12-20 09:00 学雷锋 place=社区")
    listing = await user.ask_anywhere(bot.group.id, "/events")
    assert f"#{first} 理论学习「进行中的学习」" in listing and "签到中" in listing
    assert f"#{second} 志愿服务「学雷锋」2026-12-20 09:00–11:00 · 社区" in listing
    assert listing.index(f"#{first}") < listing.index(f"#{second}")


async def test_roster_with_absentees_permissions_and_privacy(world: BotHarness) -> None:
    bot = world
    office = await seed_members(bot, 4, "办公室", name="办")
    rehab = await seed_members(bot, 2, "康复中心", first_id=600000, name="康")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 名单测试")
    clock(bot).set_local("2026-12-07 14:40")
    await office[0].toast(office[0].press(card, "签到"))
    clock(bot).set_local("2026-12-07 15:20")
    await rehab[0].toast(rehab[0].press(card, "签到"))
    await office[1].ask_private(f"/leave {activity_id} 出差")
    refused = await office[2].ask_private(f"/roster {activity_id}")
    assert "仅限青工委成员或该分组组长" in refused
    since = len(bot.tg.texts(bot.admin.id))
    asked = bot.admin.send(bot.group.id, f"/roster {activity_id}")
    roster = await bot.admin.reply_in(bot.admin.id, since)
    await bot.tg.wait_for(lambda: bot.tg.reactions(asked) == ["👌"], 10, "a 👌 on the command")
    assert "已签到 2 · 迟到 1 · 请假 1 · 未签到 3" in roster
    assert "办000（办公室）14:40" in roster and "康000（康复中心）15:20 迟到" in roster
    assert "办001（办公室）：出差" in roster
    absent = roster.split("【未签到】")[1]
    assert all(n in absent for n in ("办002", "办003", "康001")) and "办000" not in absent
    assert "用法" in await bot.admin.ask_private("/roster")
    assert "不存在" in await bot.admin.ask_private("/roster 999")


async def test_unit_lead_sees_only_their_units_roster(world: BotHarness) -> None:
    bot = world
    lead = await bot.registered(2104, "组长", "康复中心", username="rehablead")
    await bot.admin.ask_private("/lead 康复中心 @rehablead")
    own, _ = await create(bot, "学习 2026-12-07 15:00 本组 unit=康复中心")
    everyone, _ = await create(bot, "学习 2026-12-07 15:00 全体")
    assert "已签到 0" in await lead.ask_private(f"/roster {own}")
    assert "仅限" in await lead.ask_private(f"/roster {everyone}")


async def test_roster_of_300_members_stays_within_limits(world: BotHarness) -> None:
    bot = world
    await seed_members(bot, 300, "办公室", name="很长的名字用来测试分页的成员")
    activity_id, _ = await create(bot, "学习 2026-12-07 15:00 大名单")
    since = len(bot.tg.texts(bot.admin.id))
    bot.admin.say(f"/roster {activity_id}")
    pages = await bot.tg.wait_for(
        lambda: (
            (new := bot.tg.texts(bot.admin.id)[since:])
            and re.search(r"（(\d+)/\1）", new[-1])
            and new
        ),
        what="every roster page",
    )
    assert len(pages) >= 2 and all(len(p) <= 4096 for p in pages)
    assert all("未签到 300" in p for p in pages)
    body = "\n".join(pages)
    assert all(f"很长的名字用来测试分页的成员{i:03d}" in body for i in range(300))


async def test_cancel_and_edit_update_the_card(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 16:00 可改的学习 place=二楼")
    plain = await bot.registered(2105, "普通成员", "办公室")
    assert "仅限青工委" in await plain.ask_private(f"/event cancel {activity_id}")
    assert "用法" in await bot.admin.ask_private("/event")
    assert "用法" in await bot.admin.ask_private(f"/event edit {activity_id}")
    assert "不认识的选项" in await bot.admin.ask_private(f"/event edit {activity_id} color=red")
    assert "只适用于志愿服务" in await bot.admin.ask_private(f"/event edit {activity_id} cap=5")
    assert "时间“25点”无效" in await bot.admin.ask_private(f"/event edit {activity_id} time=25点")
    edited = await bot.admin.ask_private(
        f"/event edit {activity_id} time=14:20 place=五楼 大会议室"
    )
    assert "14:20–16:20" in edited and "五楼 大会议室" in edited
    await wait_card(bot, card, "14:20–16:20")
    assert "五楼 大会议室" in card_text(bot, card)
    # Moved earlier: check-in is open now.
    assert "签到成功" in (await user.toast(user.press(card, "签到")))["text"]
    assert "已取消活动" in await bot.admin.ask_private(f"/event cancel {activity_id}")
    text = await wait_card(bot, card, "活动已取消")
    assert "已签到 1" in text
    message = bot.tg.chats[bot.group.id].messages[card["message_id"]]
    assert "reply_markup" not in message
    assert "已取消" in await bot.admin.ask_private(f"/event cancel {activity_id}")
    assert "已取消" in await user.ask_private(f"/checkin {activity_id}")


async def test_a_burst_of_presses_is_exact_and_within_group_limits(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 80, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:15 人多的学习")
    group_sends_before = bot.tg.count_calls("sendMessage", chat_id=bot.group.id)
    callbacks = [u.press(card, "签到") for u in users]
    answers = await asyncio.gather(
        *(u.toast(cb, 30) for u, cb in zip(users, callbacks, strict=True))
    )
    assert all("签到成功" in a["text"] for a in answers)
    assert len(await attendance(bot, activity_id)) == 80
    await wait_card(bot, card, "已签到 80 ")
    # One card, edited a few times: no per-press messages, no 429s.
    assert bot.tg.count_calls("sendMessage", chat_id=bot.group.id) == group_sends_before
    assert bot.tg.count_calls("editMessageText", chat_id=bot.group.id) <= 6
    assert not bot.tg.errors(429)
