"""Who belongs: membership follows the organisation's groups, strangers see nothing, imported
people are linked (never taken over), leaving and coming back, the committee's hand."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import JoinRequest, Member, OutboxMessage
from tests.harness import BotHarness, seed_members
from tests.steps import card, create, imported, post
from tests.tgserver import TgUser

pytestmark = pytest.mark.clock("2026-12-07 14:00")

SECOND_ADMIN = 1002


async def member_of(bot: BotHarness, telegram_id: int) -> Member | None:
    async with bot.services.db.session() as session:
        return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def requests(bot: BotHarness) -> list[JoinRequest]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(JoinRequest).order_by(JoinRequest.id)))


async def request_card(bot: BotHarness, admin: TgUser, request_id: int) -> dict[str, Any]:
    """The committee member's private copy of a membership request, with its buttons."""
    await bot.services.outbox.drain(20)

    def found() -> dict[str, Any] | None:
        for message in bot.tg.bot_messages(admin.id):
            markup = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == f"jr:ok:{request_id}" for row in markup for b in row):
                return message
        return None

    message = await bot.tg.wait_for(found, 10, f"request #{request_id} to {admin.id}")
    assert isinstance(message, dict)
    return message


async def test_a_stranger_sees_nothing_until_the_committee_approves(world: BotHarness) -> None:
    bot = world
    (insider,) = await seed_members(bot, 1, "办公室")
    activity_id, activity_card = await create(bot, "学习 2026-12-07 14:00 保密学习 place=五楼")
    notice_id, _ = await post(bot, "内部通知：周五交材料")
    stranger = bot.stranger(7001, "路人甲", "passerby")
    assert "/privacy" in await stranger.ask_private("/start")
    # Everything of the organisation is refused, and says nothing of it.
    for command in (
        "/events",
        "/top",
        "/me",
        "/checkin",
        f"/checkin {activity_id}",
        "/muster",
        "/needs",
        "/units",
        f"/roster {activity_id}",
        "/squad join",
        "/need",
    ):
        answer = await stranger.ask_private(command)
        assert "请先登记" in answer or "仅限青工委" in answer, (command, answer)
        assert "保密学习" not in answer and "五楼" not in answer and "内部通知" not in answer
    typed = await stranger.ask_private("收到")
    assert "请先登记" in typed and "内部通知" not in typed and "#" not in typed
    toast = await stranger.toast(stranger.press(activity_card, "签到"))
    assert "请先登记" in toast["text"] and toast["show_alert"]
    assert toast["url"] == "https://t.me/qgw_test_bot?start=register"
    notice_toast = await stranger.toast(stranger.press(card(bot, notice_id, bot.group.id), "收到"))
    assert "请先登记" in notice_toast["text"]
    # Registering asks the committee: name, unit, Telegram name and username, two buttons.
    asked = await stranger.ask_private("/register 路人甲 办公室")
    assert "不在青工委的任何群里" in asked and "审核" in asked
    assert (await member_of(bot, 7001)).registered_at is None  # type: ignore[union-attr]
    (request,) = await requests(bot)
    message = await request_card(bot, bot.admin, request.id)
    text = message["text"]
    assert "路人甲" in text and "办公室" in text and "@passerby" in text and "7001" in text
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["批准", "驳回"]
    # Waiting: still nothing, and asking again changes nothing.
    assert "正在等待青工委审核" in await stranger.ask_private("/events")
    assert "正在等待" in await stranger.ask_private("/register 路人甲 康复中心")
    assert len(await requests(bot)) == 1
    # Not counted meanwhile: the next notice's audience is the insider and nobody else.
    second, _ = await post(bot, "第二条通知")
    assert "已收到 0 / 1" in card(bot, second, bot.group.id)["text"]
    # A member cannot decide, nor can a forged button.
    forged = await insider.toast(insider.press_data(message, f"jr:ok:{request.id}"))
    assert forged["show_alert"]
    # The committee approves; the person is told, and is one of the organisation's now.
    approved = await bot.admin.toast(bot.admin.press(message, "批准"))
    assert "已批准登记" in approved["text"]
    await bot.services.outbox.drain(20)
    told = await bot.tg.wait_for(
        lambda: [x for x in bot.tg.texts(7001) if "已批准你的登记" in x], 10, "the decision"
    )
    assert "路人甲（办公室）" in told[0]
    copy = bot.tg.chats[bot.admin.id].messages[message["message_id"]]
    await bot.tg.wait_for(lambda: "处理结果：已批准登记" in copy["text"], 10, "the copy edited")
    assert not copy.get("reply_markup", {}).get("inline_keyboard")
    recorded = await member_of(bot, 7001)
    assert recorded is not None and recorded.registered_at is not None
    assert "保密学习" in await stranger.ask_private("/events")


async def test_the_committee_can_reject_and_a_withdrawn_request_cannot_be_decided(
    world: BotHarness,
) -> None:
    bot = world
    first = bot.stranger(7002, "甲")
    await first.ask_private("/register 甲 办公室")
    second = bot.stranger(7003, "乙")
    await second.ask_private("/register 乙 办公室")
    one, two = await requests(bot)
    rejected = await bot.admin.toast(
        bot.admin.press(await request_card(bot, bot.admin, one.id), "驳回")
    )
    assert "已驳回登记" in rejected["text"]
    await bot.services.outbox.drain(20)
    await bot.tg.wait_for(lambda: any("未批准" in x for x in bot.tg.texts(7002)), 10, "told")
    assert "请先登记" in await first.ask_private("/events")
    await second.ask_private("/cancel")  # withdraws the request
    assert [r.status for r in await requests(bot)] == ["rejected", "cancelled"]
    late = await bot.admin.toast(
        bot.admin.press(await request_card(bot, bot.admin, two.id), "批准")
    )
    assert "已撤回" in late["text"] and late["show_alert"]
    assert (await member_of(bot, 7003)).registered_at is None  # type: ignore[union-attr]


@pytest.fixture
async def two_admins(world: BotHarness) -> BotHarness:
    bot = world
    other = bot.user(SECOND_ADMIN, "副书记", "deputy")
    await other.ask_private("/start")
    await bot.admin.ask_private("/promote @deputy")
    return bot


async def test_two_committee_members_approving_at_once_decide_once(two_admins: BotHarness) -> None:
    bot = two_admins
    deputy = TgUser(bot.tg, SECOND_ADMIN)
    stranger = bot.stranger(7004, "新人")
    await stranger.ask_private("/register 新人 康复中心")
    (request,) = await requests(bot)
    mine = await request_card(bot, bot.admin, request.id)
    theirs = await request_card(bot, deputy, request.id)
    answers = await asyncio.gather(
        bot.admin.toast(bot.admin.press(mine, "批准")),
        deputy.toast(deputy.press(theirs, "驳回")),
    )
    won = [a for a in answers if not a["show_alert"]]
    lost = [a for a in answers if a["show_alert"] and "已由" in a["text"]]
    assert len(won) == 1 and len(lost) == 1, answers
    (decided,) = await requests(bot)
    assert decided.status in ("approved", "rejected")
    await bot.services.outbox.drain(20)
    async with bot.services.db.session() as session:
        told = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == 7004)
        )
    assert told == 1
    registered = (await member_of(bot, 7004)).registered_at is not None  # type: ignore[union-attr]
    assert registered == (decided.status == "approved")


async def test_an_imported_person_is_linked_by_username_never_taken_over(world: BotHarness) -> None:
    bot = world
    await imported(bot, "王五", "办公室", username="wangwu")
    held = await bot.admin.ask_private("/lead 办公室 @wangwu")
    assert "尚未加入" in held
    activity_id, _ = await create(bot, "学习 2026-12-08 14:00 本组学习 unit=办公室")
    # Someone else, in the group, registers with the imported name and unit.
    other = bot.user(7005, "冒名者", "notwangwu")
    taken = await other.ask_private("/register 王五 办公室")
    assert "登记成功" in taken and "请青工委确认是否为你本人" in taken
    impostor = await member_of(bot, 7005)
    assert impostor is not None and impostor.lead_unit_id is None and impostor.imported_at is None
    assert "仅限青工委" in await other.ask_private(f"/roster {activity_id}")
    link = [r for r in await requests(bot) if r.kind == "link"]
    assert len(link) == 1
    message = await request_card(bot, bot.admin, link[0].id)
    assert "导入名单" in message["text"] and "确认后生效" in message["text"]
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["确认", "拒绝"]
    # The real 王五 (username wangwu, in the group) writes: linked, and the held lead applies.
    real = bot.user(7006, "Wang Wu", "wangwu")
    greeting = await real.ask_private("/start")
    assert "王五" in greeting and "请先登记" not in greeting
    linked = await member_of(bot, 7006)
    assert linked is not None and linked.real_name == "王五" and linked.lead_unit_id is not None
    assert "本组学习" in await real.ask_private(f"/roster {activity_id}")
    # The link the impostor asked for can no longer be confirmed.
    too_late = await bot.admin.toast(bot.admin.press(message, "确认"))
    assert "已被认领" in too_late["text"]
    members = await bot.admin.ask_private("/members")
    assert members.count("王五") == 2  # two people of that name: the impostor is one of them


async def test_confirming_a_link_folds_the_imported_record_and_its_held_role(
    world: BotHarness,
) -> None:
    bot = world
    await imported(bot, "赵六", "康复中心")  # no username: only the committee can link
    # A work plan task owned by the imported record passes to the account with it.
    assert "已加入" in await bot.admin.ask_private("/task add 2026 读书会 负责=赵六")
    person = bot.user(7007, "Zhao", "zhao6")
    assert "请青工委确认" in await person.ask_private("/register 赵六 康复中心")
    (link,) = [r for r in await requests(bot) if r.kind == "link"]
    confirmed = await bot.admin.toast(
        bot.admin.press(await request_card(bot, bot.admin, link.id), "确认")
    )
    assert "已确认为本人" in confirmed["text"]
    async with bot.services.db.session() as session:
        people = list(await session.scalars(select(Member).where(Member.real_name == "赵六")))
    assert len(people) == 1 and people[0].telegram_id == 7007 and people[0].imported_at
    assert "负责：赵六" in await bot.admin.ask_private("/tasks 2026")


async def test_leaving_every_group_takes_someone_out_of_what_comes_next(world: BotHarness) -> None:
    bot = world
    stays = await bot.registered(7010, "留下", "办公室")
    goes = await bot.registered(7011, "离开", "办公室")
    first, _ = await post(bot, "离开前的通知")
    assert "已收到 0 / 2" in card(bot, first, bot.group.id)["text"]
    bot.tg.leave(bot.group.id, goes.id)
    await wait_member(bot, goes.id, lambda m: m.left_at is not None)
    second, _ = await post(bot, "离开后的通知")
    assert "已收到 0 / 1" in card(bot, second, bot.group.id)["text"]
    assert "已不在青工委的任何群里" in await goes.ask_private("/events")
    assert "离开 · 已离开" in await bot.admin.ask_private("/members")
    # Past counts keep them: the first notice still expects both.
    assert "已收到 0 / 2" in card(bot, first, bot.group.id)["text"]
    bot.tg.join(bot.group.id, goes.id)
    await wait_member(bot, goes.id, lambda m: m.left_at is None)
    third, _ = await post(bot, "回来后的通知")
    assert "已收到 0 / 2" in card(bot, third, bot.group.id)["text"]
    assert "请先登记" not in await stays.ask_private("/events")


async def test_the_committee_takes_someone_off_and_back_by_hand(world: BotHarness) -> None:
    bot = world
    person = await bot.registered(7012, "钱七", "办公室", username="qian7")
    assert "用法" in await bot.admin.ask_private("/member")
    assert "已将 钱七 标为已离开" in await bot.admin.ask_private("/member remove @qian7")
    assert "已是已离开" in await bot.admin.ask_private("/member remove @qian7")
    assert "青工委成员" in await bot.admin.ask_private("/member remove @boss")
    notice, _ = await post(bot, "移出后的通知")
    assert "已收到 0 / 0" in card(bot, notice, bot.group.id)["text"]
    # Coming back into the group does not undo the committee's decision; the committee does.
    bot.tg.leave(bot.group.id, person.id)
    bot.tg.join(bot.group.id, person.id)
    await bot.settled()
    assert (await member_of(bot, 7012)).left_at is not None  # type: ignore[union-attr]
    assert "已恢复 钱七" in await bot.admin.ask_private("/member restore @qian7")
    assert "并非已离开" in await bot.admin.ask_private("/member restore @qian7")
    assert "请先登记" not in await person.ask_private("/events")


async def test_a_move_to_another_unit_is_the_committees_decision(world: BotHarness) -> None:
    bot = world
    person = await bot.registered(7013, "孙八", "办公室")
    moving = await person.ask_private("/register 孙八 康复中心")
    assert "需要青工委批准" in moving
    assert (await member_of(bot, 7013)).unit.name == "办公室"  # type: ignore[union-attr]
    (move,) = [r for r in await requests(bot) if r.kind == "unit"]
    message = await request_card(bot, bot.admin, move.id)
    assert "从 办公室 调到 康复中心" in message["text"]
    await bot.admin.toast(bot.admin.press(message, "批准"))
    assert (await member_of(bot, 7013)).unit.name == "康复中心"  # type: ignore[union-attr]


async def wait_member(bot: BotHarness, telegram_id: int, ok: Any, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = await member_of(bot, telegram_id)
        if found is not None and ok(found):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"member {telegram_id} did not change in time")
