"""Rotating QR check-in (qr=on, /qr): scanning, typed codes, rotation, and who may show it."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import qr_rotation
from db import qr as qr_db
from db.models import Activity, QrDisplay
from render import qr as qr_picture
from tests.harness import BotHarness, clock, seed_members
from tests.steps import attendance, create, wait_card
from tests.tgserver import BOT_USERNAME, TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

ROTATE = 30  # the default QR_ROTATE_SECONDS


def later(bot: BotHarness, seconds: int) -> None:
    clock(bot).now += dt.timedelta(seconds=seconds)


async def secret(bot: BotHarness) -> bytes:
    async with bot.services.db.session() as session:
        key = await qr_db.secret(session)
        await session.commit()
        return key


async def payload_now(bot: BotHarness, activity_id: int) -> str:
    """The deep-link payload a display shows at this moment."""
    period = qr_db.period_of(bot.services.now(), ROTATE)
    return qr_db.make_payload(await secret(bot), activity_id, period)


async def code_now(bot: BotHarness, activity_id: int, periods_ago: int = 0) -> str:
    period = qr_db.period_of(bot.services.now(), ROTATE) - periods_ago
    return qr_db.make_code(await secret(bot), activity_id, period)


async def show_qr(bot: BotHarness, user: TgUser, activity_id: int) -> dict[str, Any]:
    """`/qr 编号` privately; the photo the bot sends."""
    tg = user.server
    before = {m["message_id"] for m in tg.bot_messages(user.id)}
    user.say(f"/qr {activity_id}")
    message = await tg.message_in(
        user.id, lambda m: m["message_id"] not in before, what="the QR photo"
    )
    assert "photo" in message, message.get("text")
    # The bot records the display after Telegram took the photo: wait for that too, or a
    # rotation step run now would not see it yet.
    deadline = asyncio.get_running_loop().time() + 10
    while not any(d.message_id == message["message_id"] for d in await displays(bot)):
        assert asyncio.get_running_loop().time() < deadline, "the QR display was not recorded"
        await asyncio.sleep(0.05)
    return message


def caption_code(message: dict[str, Any]) -> str:
    match = re.search(r"/checkin \d+ (\d{6})", message["caption"])
    assert match, message["caption"]
    return match[1]


async def displays(bot: BotHarness) -> list[QrDisplay]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(QrDisplay).order_by(QrDisplay.id)))


async def test_a_member_who_scans_the_committees_qr_is_checked_in_and_the_card_counts(
    world: BotHarness,
) -> None:
    bot = world
    first, second, third = await seed_members(bot, 3, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:20 扫码学习 qr=on")
    photo = await show_qr(bot, bot.admin, activity_id)
    caption = photo["caption"]
    assert f"#{activity_id} 扫码学习" in caption
    # Valid for this period and the next: 14:00:00 + 2 × 30 s.
    assert "有效至 14:01:00" in caption and "每 30 秒" in caption
    assert caption_code(photo) == await code_now(bot, activity_id)
    # The picture is the QR code of the deep link carrying this period's token.
    payload = await payload_now(bot, activity_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    link = qr_picture.deep_link(BOT_USERNAME, payload)
    assert bot.tg.sent_file(photo) == qr_picture.png(link)
    assert bot.tg.sent_file(photo).startswith(b"\x89PNG")

    assert "签到成功 #" in await first.ask_private(f"/start {payload}")
    await wait_card(bot, card, "已签到 1 ")
    # One period later the same picture still works …
    later(bot, ROTATE)
    assert "签到成功 #" in await second.ask_private(f"/start {payload}")
    # … two periods later it has expired.
    later(bot, ROTATE)
    assert "过期" in await third.ask_private(f"/start {payload}")
    assert await attendance(bot, activity_id) == {first.id: "present", second.id: "present"}
    # Scanning twice changes nothing.
    assert "已签到过" in await first.ask_private(f"/start {await payload_now(bot, activity_id)}")
    # The card's 签到 button checks nobody in on a qr activity, and says how.
    answer = await third.toast(third.press(card, "签到"))
    assert "扫码签到" in answer["text"] and answer["show_alert"]
    assert await attendance(bot, activity_id) == {first.id: "present", second.id: "present"}
    await wait_card(bot, card, "已签到 2 ")


async def test_forged_and_borrowed_tokens_are_refused(world: BotHarness) -> None:
    bot = world
    (member,) = await seed_members(bot, 1, "办公室")
    first, _ = await create(bot, "学习 2026-12-07 14:20 甲活动 qr=on")
    second, _ = await create(bot, "会议 2026-12-07 14:20 乙活动 qr=on")
    good = await payload_now(bot, first)
    token = good[-16:]  # the token is the last 16 characters (it may contain "_")
    period = qr_db.period_of(bot.services.now(), ROTATE)
    # A's token with B's number: not B's.
    borrowed = await member.ask_private(f"/start qr_{second}_{period}_{token}")
    assert "无效" in borrowed and "过期" not in borrowed
    forged = await member.ask_private(f"/start qr_{first}_{period}_{'A' * 16}")
    assert "无效" in forged
    # A forged token for an old period is forged, not "expired".
    old = await member.ask_private(f"/start qr_{first}_{period - 5}_{'B' * 16}")
    assert "无效" in old and "过期" not in old
    assert "无效" in await member.ask_private("/start qr_garbage")
    assert "无效" in await member.ask_private(f"/start qr_{first}_{period}_{token}x")
    assert await attendance(bot, first) == {} and await attendance(bot, second) == {}
    # The genuine one works.
    assert "签到成功" in await member.ask_private(f"/start {good}")


async def test_typed_codes_current_and_previous_work_older_expire_wrong_is_counted(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    activity_id, _ = await create(bot, "学习 2026-12-07 14:20 代码签到 qr=on")
    photo = await show_qr(bot, bot.admin, activity_id)
    code = caption_code(photo)
    # Never in a group, and nothing recorded there.
    assert "私聊" in await users[0].ask_anywhere(bot.group.id, f"/checkin {activity_id} {code}")
    assert await attendance(bot, activity_id) == {}
    # Without a code: how to check in.
    assert "扫码签到" in await users[0].ask_private(f"/checkin {activity_id}")
    assert "签到成功" in await users[0].ask_private(f"/checkin {activity_id} {code}")
    later(bot, ROTATE)  # the previous period's code still works
    assert "签到成功" in await users[1].ask_private(f"/checkin {activity_id} {code}")
    later(bot, ROTATE)
    assert "过期" in await users[2].ask_private(f"/checkin {activity_id} {code}")
    wrong = "000000" if await code_now(bot, activity_id) != "000000" else "000001"
    assert "不对" in await users[2].ask_private(f"/checkin {activity_id} {wrong}")
    assert "不对" in await users[2].ask_private(f"/checkin {activity_id} 12ab56")
    assert set(await attendance(bot, activity_id)) == {users[0].id, users[1].id}
    async with bot.services.db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None and activity.wrong_codes == 2
    current = await code_now(bot, activity_id)
    assert "签到成功" in await users[2].ask_private(f"/checkin {activity_id} {current}")
    # Someone unregistered is asked to register, whatever they scan or type.
    stranger = bot.user(2301, "路人")
    assert "请先登记" in await stranger.ask_private(f"/checkin {activity_id} {current}")
    payload = await payload_now(bot, activity_id)
    assert "请先登记" in await stranger.ask_private(f"/start {payload}")


async def test_the_photo_rotates_each_period_and_says_ended_after_check_in_closes(
    world: BotHarness,
) -> None:
    bot = world
    activity_id, _ = await create(bot, "学习 2026-12-07 14:20 轮换测试 qr=on end=15:00")
    photo = await show_qr(bot, bot.admin, activity_id)
    chat = bot.tg.chats[bot.admin.id]
    # `photo` is the server's message itself, edited in place: note what it shows now.
    first_code, first_file = caption_code(photo), photo["photo"][-1]["file_id"]
    rotation = qr_rotation(bot.app)
    await rotation.step()  # the same period: nothing to do
    assert bot.tg.count_calls("editMessageMedia") == 0

    later(bot, ROTATE)
    await rotation.step()
    assert bot.tg.count_calls("editMessageMedia", chat_id=bot.admin.id) == 1
    shown = chat.messages[photo["message_id"]]
    assert shown["replaced"] == [first_file] and shown["photo"][-1]["file_id"] != first_file
    new_code = caption_code(shown)
    assert new_code == await code_now(bot, activity_id) and new_code != first_code
    assert "有效至 14:01:30" in shown["caption"]
    link = qr_picture.deep_link(BOT_USERNAME, await payload_now(bot, activity_id))
    assert bot.tg.sent_file(shown) == qr_picture.png(link)
    (display,) = await displays(bot)
    assert display.period == qr_db.period_of(bot.services.now(), ROTATE) and not display.closed

    # Check-in closes at 15:00: the caption says so and the rotation stops.
    clock(bot).set_local("2026-12-07 15:00:01")
    await rotation.step()
    await bot.tg.wait_for(lambda: "签到已结束" in chat.messages[photo["message_id"]]["caption"])
    edits = bot.tg.count_calls("editMessageMedia")
    (display,) = await displays(bot)
    assert display.closed
    later(bot, ROTATE * 3)
    await rotation.step()
    assert bot.tg.count_calls("editMessageMedia") == edits
    assert bot.tg.count_calls("editMessageCaption", chat_id=bot.admin.id) == 1


async def test_a_second_qr_in_the_same_chat_replaces_the_first(world: BotHarness) -> None:
    bot = world
    activity_id, _ = await create(bot, "学习 2026-12-07 14:20 重发测试 qr=on")
    first = await show_qr(bot, bot.admin, activity_id)
    second = await show_qr(bot, bot.admin, activity_id)
    chat = bot.tg.chats[bot.admin.id]
    await bot.tg.wait_for(lambda: chat.messages[first["message_id"]].get("deleted"))
    (display,) = await displays(bot)
    assert display.message_id == second["message_id"] and not display.closed


async def test_who_may_show_the_qr_and_when(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(2201, "普通成员", "办公室", username="plain")
    other_lead = await bot.registered(2202, "别组组长", "康复中心", username="other")
    lead = await bot.registered(2203, "本组组长", "办公室", username="lead")
    await bot.admin.ask_private("/lead 康复中心 @other")
    await bot.admin.ask_private("/lead 办公室 @lead")
    activity_id, _ = await create(bot, "学习 2026-12-07 14:20 本组学习 unit=办公室 qr=on")
    assert "仅限青工委成员或该分组组长" in await member.ask_private(f"/qr {activity_id}")
    assert "仅限青工委成员或该分组组长" in await other_lead.ask_private(f"/qr {activity_id}")
    assert "私聊" in await bot.admin.ask_anywhere(bot.group.id, f"/qr {activity_id}")
    assert await displays(bot) == []
    photo = await show_qr(bot, lead, activity_id)
    assert "本组学习" in photo["caption"]

    plain, _ = await create(bot, "学习 2026-12-07 14:20 普通学习")
    assert f"/event edit {plain} qr=on" in await bot.admin.ask_private(f"/qr {plain}")
    tomorrow, _ = await create(bot, "学习 2026-12-08 09:00 明天的学习 qr=on")
    not_yet = await bot.admin.ask_private(f"/qr {tomorrow}")
    assert "尚未开始" in not_yet and "12-08 08:30" in not_yet
    assert "不存在" in await bot.admin.ask_private("/qr 999")
    assert "用法" in await bot.admin.ask_private("/qr")
    await bot.admin.ask_private(f"/event cancel {tomorrow}")
    assert "已取消" in await bot.admin.ask_private(f"/qr {tomorrow}")
    assert len(await displays(bot)) == 1


async def test_check_in_with_a_code_still_works_on_activities_without_qr(
    world: BotHarness,
) -> None:
    bot = world
    (member,) = await seed_members(bot, 1, "办公室")
    activity_id, _ = await create(bot, "会议 2026-12-07 14:15 带码会议 code=A7x9")
    assert "不对" in await member.ask_private(f"/checkin {activity_id} 123456")
    assert "签到成功" in await member.ask_private(f"/checkin {activity_id} A7x9")
    assert await attendance(bot, activity_id) == {member.id: "present"}


# ---------------------------------------------------------------------- tokens and codes
KEY = bytes(range(32))


def test_tokens_and_codes_are_deterministic_per_secret() -> None:
    assert qr_db.make_token(KEY, 12, 100) == qr_db.make_token(KEY, 12, 100)
    assert qr_db.make_code(KEY, 12, 100) == qr_db.make_code(KEY, 12, 100)
    other = bytes(32)
    assert qr_db.make_token(other, 12, 100) != qr_db.make_token(KEY, 12, 100)
    assert qr_db.make_code(other, 12, 100) != qr_db.make_code(KEY, 12, 100)
    assert qr_db.make_token(KEY, 13, 100) != qr_db.make_token(KEY, 12, 100)
    assert qr_db.make_token(KEY, 12, 101) != qr_db.make_token(KEY, 12, 100)


def test_codes_are_six_digits_with_leading_zeros_kept() -> None:
    codes = [qr_db.make_code(KEY, 7, period) for period in range(200)]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert any(code.startswith("0") for code in codes)


def test_payloads_fit_telegrams_deep_links_and_parse_back() -> None:
    payload = qr_db.make_payload(KEY, 999_999_999, 999_999_999_999)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    scan = qr_db.parse_payload(payload)
    assert scan is not None and (scan.activity_id, scan.period) == (999_999_999, 999_999_999_999)
    assert qr_db.check_token(KEY, scan, 999_999_999_999) is qr_db.Verdict.OK
    for bad in ("qr_1_2", "qr_1_2_short", "qr_x_2_" + "A" * 16, "leave_12"):
        assert qr_db.parse_payload(bad) is None


def test_a_token_is_fresh_for_its_period_and_the_next_only() -> None:
    scan = qr_db.parse_payload(qr_db.make_payload(KEY, 5, 1000))
    assert scan is not None
    verdicts = [qr_db.check_token(KEY, scan, current) for current in (999, 1000, 1001, 1002)]
    assert verdicts == [
        qr_db.Verdict.INVALID,  # from the future: not ours
        qr_db.Verdict.OK,
        qr_db.Verdict.OK,
        qr_db.Verdict.EXPIRED,
    ]
    code = qr_db.make_code(KEY, 5, 1000)
    assert qr_db.check_code(KEY, 5, code, 1001, oldest=900) is qr_db.Verdict.OK
    assert qr_db.check_code(KEY, 5, code, 1002, oldest=900) is qr_db.Verdict.EXPIRED
    assert qr_db.check_code(KEY, 6, code, 1000, oldest=900) is not qr_db.Verdict.OK
    assert qr_db.check_code(KEY, 5, "12345", 1000, oldest=900) is qr_db.Verdict.INVALID
