"""End-to-end: 我为青年办实事 — /need (guided and in one line, signed or anonymous) and the
committee's /needs (list, details, reply, status, the sender's rating), the report and the
ledger; anonymous senders stay anonymous to the committee everywhere."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Conversation, Need
from tests.harness import BotHarness, clock
from tests.steps import SHEETS, create, ledger_of, report_of, rows, sent_to, told
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

CATEGORIES = ["就业", "教育", "住房", "婚恋", "生育", "亲子", "其他"]
SENDER_ID, SENDER_NAME, SENDER_USERNAME = 4001, "王青", "wangqing"


class World:
    """Units 办公室 and 康复中心, the main group; a young sender and a colleague, registered."""

    def __init__(self, bot: BotHarness, sender: TgUser, colleague: TgUser) -> None:
        self.bot, self.sender, self.colleague = bot, sender, colleague

    def identifying(self) -> list[str]:
        """What would give the sender away."""
        return [SENDER_NAME, SENDER_USERNAME, str(SENDER_ID)]

    def assert_anonymous(self, text: str) -> None:
        for trace in self.identifying():
            assert trace not in text, f"{trace!r} in {text!r}"


@pytest.fixture
async def world(bot: BotHarness) -> World:
    await bot.add_units("办公室", "康复中心")
    await bot.setup_main_group()
    sender = await bot.registered(SENDER_ID, SENDER_NAME, "办公室", username=SENDER_USERNAME)
    colleague = await bot.registered(4002, "李同事", "康复中心")
    return World(bot, sender, colleague)


def last_with(bot: BotHarness, chat_id: int, fragment: str) -> dict[str, Any]:
    found = [m for m in bot.tg.bot_messages(chat_id) if fragment in (m.get("text") or "")]
    assert found, f"no message containing {fragment!r} in {chat_id}"
    return found[-1]


async def press(bot: BotHarness, user: TgUser, message: dict[str, Any], label: str) -> str:
    """Press a button; the toast's text."""
    answer = await user.toast(user.press(message, label))
    return str(answer.get("text") or "")


async def press_data(bot: BotHarness, user: TgUser, message: dict[str, Any], data: str) -> str:
    answer = await user.toast(user.press_data(message, data))
    return str(answer.get("text") or "")


async def next_reply(bot: BotHarness, user: TgUser, since: int) -> str:
    return await user.reply_in(user.id, since)


async def guided(world: World, user: TgUser, category: str, text: str, how: str) -> str:
    """The whole guided dialogue; the receipt."""
    bot = world.bot
    prompt = await user.ask_private("/need")
    assert "请选择诉求类别" in prompt, prompt
    since = len(bot.tg.texts(user.id))
    await press(bot, user, last_with(bot, user.id, "请选择诉求类别"), category)
    assert f"类别：{category}" in await next_reply(bot, user, since)
    assert "请选择发送方式" in await user.ask_private(text)
    since = len(bot.tg.texts(user.id))
    assert await press(bot, user, last_with(bot, user.id, "请选择发送方式"), how) == "已发送"
    return await next_reply(bot, user, since)


def number(receipt: str) -> int:
    match = re.search(r"#(\d+)", receipt)
    assert match, receipt
    return int(match[1])


async def committee_message(bot: BotHarness, need_id: int) -> str:
    return await told(bot, bot.admin, f"新诉求 #{need_id} ")


async def admin_asks(bot: BotHarness, text: str) -> str:
    """The committee's command and its answer, once the messages the outbox held went out
    (a new-need message must not be taken for the answer)."""
    await bot.services.outbox.drain(20)
    return await bot.admin.ask_private(text)


async def all_needs(bot: BotHarness) -> list[Need]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(Need).order_by(Need.id)))


async def drafts(bot: BotHarness) -> int:
    """Needs being written (conversations of kind `need`)."""
    async with bot.services.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.kind == "need")
        )
        return int(count or 0)


async def test_the_guided_dialogue_sends_an_anonymous_need(world: World) -> None:
    bot, sender = world.bot, world.sender
    await sender.ask_private("/need")
    choose = last_with(bot, sender.id, "请选择诉求类别")
    labels = [b["text"] for row in choose["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == CATEGORIES  # one button per category, each with its word
    text = "想了解单位周转房的申请条件和排队情况，\n家里老人来看病时没地方住。"
    receipt = await guided(world, sender, "住房", text, "匿名")
    need_id = number(receipt)
    assert "匿名" in receipt and "署名" not in receipt
    assert await drafts(bot) == 0  # the dialogue's state is gone with the send
    (need,) = await all_needs(bot)
    assert (need.id, need.category, need.text, need.anonymous) == (need_id, "住房", text, True)
    assert need.member_id is None  # nothing links the need to its sender
    # The committee is told, and learns nothing of who sent it.
    told_committee = await committee_message(bot, need_id)
    assert "住房" in told_committee and "想了解单位周转房" in told_committee
    assert "提交人：匿名" in told_committee
    world.assert_anonymous(told_committee)
    listing = await admin_asks(bot, "/needs")
    assert f"#{need_id} 住房 · 待受理" in listing and "匿名" in listing
    world.assert_anonymous(listing)
    detail = await admin_asks(bot, f"/needs {need_id}")
    assert text in detail and "匿名" in detail
    world.assert_anonymous(detail)


async def test_one_line_signed_and_anonymous(world: World) -> None:
    bot, sender = world.bot, world.sender
    receipt = await sender.ask_private("/need 就业 希望组织一次青年干部职业发展分享会")
    signed = number(receipt)
    assert "署名" in receipt
    told_committee = await committee_message(bot, signed)
    assert "王青（办公室）" in told_committee and "就业" in told_committee
    assert "职业发展分享会" in told_committee
    # Multi-line text is kept; a trailing 匿名 makes it anonymous and is not part of the text.
    receipt = await sender.ask_private("/need 亲子 孩子暑假没人照看\n能否办托管班 匿名")
    anonymous = number(receipt)
    assert "匿名" in receipt
    needs = {n.id: n for n in await all_needs(bot)}
    assert needs[signed].member_id is not None and not needs[signed].anonymous
    assert needs[anonymous].text == "孩子暑假没人照看\n能否办托管班"
    assert needs[anonymous].member_id is None
    world.assert_anonymous(await committee_message(bot, anonymous))
    listing = await admin_asks(bot, "/needs all")
    assert "王青（办公室）" in listing  # the signed one shows its sender
    anonymous_line = next(x for x in listing.split("\n#") if x.startswith(f"{anonymous} "))
    world.assert_anonymous(anonymous_line)
    assert "王青（办公室）" in await admin_asks(bot, f"/needs {signed}")
    world.assert_anonymous(await admin_asks(bot, f"/needs {anonymous}"))


async def test_in_a_group_it_is_refused_without_echo(world: World) -> None:
    bot, sender = world.bot, world.sender
    since = len(bot.tg.texts(sender.id))
    typed = sender.send(bot.group.id, "/need 婚恋 相亲的事想请组织帮忙介绍")
    reply = await sender.reply_in(sender.id, since)  # answered privately
    assert "私聊" in reply
    assert "相亲" not in reply and "婚恋" not in reply  # nothing of it repeated
    assert not any("相亲" in x for x in bot.tg.texts(bot.group.id))
    assert await all_needs(bot) == []
    # The need typed where everyone reads it is taken away (the bot may delete messages).
    await bot.tg.wait_for(
        lambda: bot.tg.chats[bot.group.id].messages[typed["message_id"]].get("deleted"),
        what="the group message deleted",
    )
    bare = await sender.ask_anywhere(bot.group.id, "/need")
    assert "私聊" in bare


async def test_bad_input_gets_a_reason(world: World) -> None:
    bot, sender = world.bot, world.sender
    unknown = await sender.ask_private("/need 工资 想涨工资")
    assert "没有“工资”这个类别" in unknown
    assert all(category in unknown for category in CATEGORIES)
    assert "请写诉求内容" in await sender.ask_private("/need 就业")
    assert "请写诉求内容" in await sender.ask_private("/need 就业 匿名")
    too_long = await sender.ask_private("/need 就业 " + "长" * 2001)
    assert "最多 2000 字" in too_long and "长长" not in too_long
    assert "控制字符" in await sender.ask_private("/need 就业 有个\x07响铃")
    assert "请先登记" in await world.bot.user(4999, "路人").ask_private("/need 就业 我也想提")
    assert "请先登记" in await world.bot.user(4999, "路人").ask_private("/need")
    assert await all_needs(bot) == []
    # In the dialogue: a refused text leaves the need waiting for a better one.
    await sender.ask_private("/need")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择诉求类别"), "教育")
    await next_reply(bot, sender, since)
    assert "最多 2000 字" in await sender.ask_private("字" * 2001)
    assert "请选择发送方式" in await sender.ask_private("想报在职研究生，单位能否支持")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择发送方式"), "署名")
    assert "#" in await next_reply(bot, sender, since)
    assert [n.text for n in await all_needs(bot)] == ["想报在职研究生，单位能否支持"]
    # Exactly 2,000 characters is fine.
    assert "已收到你的诉求" in await sender.ask_private("/need 其他 " + "好" * 2000)


async def test_cancel_and_stale_drafts(world: World) -> None:
    bot, sender = world.bot, world.sender
    await sender.ask_private("/need")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择诉求类别"), "生育")
    await next_reply(bot, sender, since)
    assert "已取消" in await sender.ask_private("/cancel")
    assert await drafts(bot) == 0
    # The text typed next is not a need: it goes down the usual chain (a typed 收到 here).
    assert "没有等你回复“收到”的通知" in await sender.ask_private("收到")
    assert "当前没有进行中的操作" in await sender.ask_private("/cancel")
    # A button of the cancelled dialogue changes nothing.
    choose = last_with(bot, sender.id, "请选择诉求类别")
    assert "重新发送 /need" in await press(bot, sender, choose, "其他")
    # A draft left for more than an hour is forgotten.
    await sender.ask_private("/need")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择诉求类别"), "教育")
    await next_reply(bot, sender, since)
    clock(bot).now += dt.timedelta(minutes=61)
    assert "没有等你回复“收到”的通知" in await sender.ask_private("收到")
    assert "当前没有进行中的操作" in await sender.ask_private("/cancel")
    assert await all_needs(bot) == [] and await drafts(bot) == 0


async def test_other_private_questions_still_get_their_answers(world: World) -> None:
    """pending_text handles every private text: a question asked after the need's text was
    requested (a leave reason) gets the next text; the need then waits for its own."""
    bot, sender = world.bot, world.sender
    activity_id, _card = await create(bot, "学习 2026-12-07 15:00 学习会")
    await sender.ask_private("/need")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择诉求类别"), "就业")
    await next_reply(bot, sender, since)
    assert "请假原因" in await sender.ask_private(f"/start leave_{activity_id}")
    assert "已请假" in await sender.ask_private("家里有事")
    assert "请选择发送方式" in await sender.ask_private("想了解遴选的报名条件")
    # And /need drops a question left open before it: the text goes to the need.
    assert "请假原因" in await sender.ask_private(f"/start leave_{activity_id}")
    await sender.ask_private("/need")
    since = len(bot.tg.texts(sender.id))
    await press(bot, sender, last_with(bot, sender.id, "请选择诉求类别"), "教育")
    await next_reply(bot, sender, since)
    assert "请选择发送方式" in await sender.ask_private("想参加在职培训")


async def test_forged_buttons_are_refused(world: World) -> None:
    bot, sender = world.bot, world.sender
    await sender.ask_private("/need")
    choose = last_with(bot, sender.id, "请选择诉求类别")
    for data in ("need:c:工资", "need:c:", "need:s:maybe", "need:x", "need:r:1:maybe"):
        assert "按钮无效" in await press_data(bot, sender, choose, data), data
    assert "按钮无效" in await press_data(bot, sender, choose, "need:r:999:yes")
    assert "重新发送 /need" in await press_data(bot, sender, choose, "need:s:anon")
    assert await all_needs(bot) == []


async def test_the_committee_lists_and_filters(world: World) -> None:
    bot, sender = world.bot, world.sender
    first = number(await sender.ask_private("/need 住房 公租房 匿名"))
    second = number(await sender.ask_private("/need 就业 职业规划"))
    third = number(await world.colleague.ask_private("/need 住房 宿舍漏水"))
    assert "已告知提交人" in await admin_asks(bot, f"/needs status {second} 办结")
    open_list = await admin_asks(bot, "/needs")
    assert "未办结" in open_list and "共 2 件" in open_list
    assert f"#{first} " in open_list and f"#{third} " in open_list
    assert f"#{second} " not in open_list
    assert open_list == await admin_asks(bot, "/needs open")
    everything = await admin_asks(bot, "/needs all")
    assert "共 3 件" in everything and f"#{second} 就业 · 已办结" in everything
    housing = await admin_asks(bot, "/needs 住房")
    assert "共 2 件" in housing and f"#{second} " not in housing
    done = await admin_asks(bot, "/needs 办结")
    assert "共 1 件" in done and f"#{second} " in done
    assert "用法" in await admin_asks(bot, "/needs 工资")
    assert "不存在" in await admin_asks(bot, "/needs 999")
    # Pages of 20, newest first.
    async with bot.services.db.session() as session:
        now = bot.services.now()
        for i in range(25):
            session.add(
                Need(
                    category="其他",
                    text=f"批量诉求{i}",
                    anonymous=True,
                    member_id=None,
                    relay_chat_id=SENDER_ID,
                    status="new",
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()
    page_one = await admin_asks(bot, "/needs all")
    assert "共 28 件 · 第 1/2 页" in page_one and "下一页：/needs all 2" in page_one
    assert "批量诉求24" in page_one and "批量诉求4" not in page_one.replace("批量诉求24", "")
    page_two = await admin_asks(bot, "/needs all 2")
    assert "第 2/2 页" in page_two and f"#{first} " in page_two and "下一页" not in page_two
    assert "没有第 3 页" in await admin_asks(bot, "/needs all 3")


async def test_a_reply_reaches_an_anonymous_sender_who_stays_unknown(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    bot, sender = world.bot, world.sender
    caplog.clear()
    caplog.set_level(logging.DEBUG)  # every line, the Bot API calls' too
    need_id = number(await sender.ask_private("/need 婚恋 想参加单位组织的联谊活动 匿名"))
    reply = await admin_asks(bot, f"/needs reply {need_id} 已联系团委，\n下月有联谊活动。")
    assert f"#{need_id}" in reply
    world.assert_anonymous(reply)
    relayed = await sent_to(bot, sender, f"青工委回复了你的诉求 #{need_id}")
    assert "已联系团委，\n下月有联谊活动。" in relayed["text"]
    detail = await admin_asks(bot, f"/needs {need_id}")
    assert "回复（管理员）：已联系团委" in detail and "回复 1 次" in detail
    world.assert_anonymous(detail)
    # Nothing the committee received names the sender.
    for text in bot.tg.texts(bot.admin.id):
        world.assert_anonymous(text)
    # Nor did the logs, at any level: the relay chat is never logged.
    assert any("sendMessage" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if str(SENDER_ID) in r.getMessage()]
    assert "用法" in await admin_asks(bot, f"/needs reply {need_id}")
    assert "不存在" in await admin_asks(bot, "/needs reply 999 你好")


async def test_status_changes_are_told_and_done_asks_for_one_rating(world: World) -> None:
    bot, sender = world.bot, world.sender
    need_id = number(await sender.ask_private("/need 教育 单位能否报销职业资格考试费 匿名"))
    await admin_asks(bot, f"/needs status {need_id} 受理")
    assert "已受理" in (await sent_to(bot, sender, f"诉求 #{need_id}（教育）进度"))["text"]
    await admin_asks(bot, f"/needs status {need_id} 办理中")
    await sent_to(bot, sender, "进度：办理中")
    assert "已经是这个状态" in await admin_asks(bot, f"/needs status {need_id} 办理中")
    assert "用法" in await admin_asks(bot, f"/needs status {need_id} 搁置")
    set_done = await admin_asks(bot, f"/needs status {need_id} 办结")
    assert "已办结" in set_done and "满意" in set_done
    done = await sent_to(bot, sender, "已办结。请评价")
    labels = [b["text"] for row in done["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["满意", "不满意"]
    # Someone else pressing the sender's button (forged) changes nothing.
    assert "按钮无效" in await press_data(bot, world.colleague, done, f"need:r:{need_id}:no")
    assert "感谢评价：满意" in await press(bot, sender, done, "满意")
    await bot.tg.wait_for(
        lambda: (
            "你的评价：满意" in bot.tg.chats[sender.id].messages[done["message_id"]].get("text", "")
        ),
        what="the rating message settled",
    )
    again = await press_data(bot, sender, done, f"need:r:{need_id}:no")
    assert "已评价过" in again and "满意" in again
    (need,) = await all_needs(bot)
    assert need.satisfied == "yes" and need.status == "done"
    detail = await admin_asks(bot, f"/needs {need_id}")
    for line in (
        "进度改为：已受理（管理员）",
        "进度改为：办理中（管理员）",
        "进度改为：已办结（管理员）",
    ):
        assert line in detail
    assert "12-07 14:00" in detail and "提交人评价：满意" in detail and "评价：满意" in detail
    world.assert_anonymous(detail)


async def test_only_the_committee_may_follow_needs_up(world: World) -> None:
    bot, sender = world.bot, world.sender
    need_id = number(await sender.ask_private("/need 其他 食堂能否延长开放时间"))
    for command in ("/needs", "/needs all", f"/needs {need_id}", f"/needs reply {need_id} 好"):
        assert "仅限青工委成员" in await world.colleague.ask_private(command), command
    assert "仅限青工委成员" in await sender.ask_private(f"/needs status {need_id} 办结")
    (need,) = await all_needs(bot)
    assert need.status == "new"
    assert "私聊" in await bot.admin.ask_anywhere(bot.group.id, "/needs")  # never in a group


async def test_the_report_and_the_ledger_count_needs(world: World) -> None:
    bot, sender = world.bot, world.sender
    anonymous = number(await sender.ask_private("/need 住房 周转房申请 匿名"))
    signed = number(await sender.ask_private("/need 就业 职业规划辅导"))
    await world.colleague.ask_private("/need 住房 宿舍维修")
    await admin_asks(bot, f"/needs reply {anonymous} 已转行政处")
    await admin_asks(bot, f"/needs status {anonymous} 办结")
    await admin_asks(bot, f"/needs status {signed} 办理中")
    done = await sent_to(bot, sender, "已办结。请评价")
    await press(bot, sender, done, "满意")
    text, _ = await report_of(bot.admin, bot)
    section = text.split("【我为青年办实事】")[1]
    assert "诉求 3 件：待受理 1 · 已受理 0 · 办理中 1 · 已办结 1" in section
    assert "住房 2 件（待受理 1 · 已受理 0 · 办理中 0 · 已办结 1）" in section
    assert "就业 1 件（待受理 0 · 已受理 0 · 办理中 1 · 已办结 0）" in section
    assert "满意率 100%（满意 1 / 已评价 1）" in section
    world.assert_anonymous(text)
    book = await ledger_of(bot.admin, bot, "/export")
    assert book.sheetnames == SHEETS
    sheet = rows(book, "诉求")
    assert sheet[0] == [
        "编号",
        "提交时间",
        "类别",
        "状态",
        "内容",
        "提交人",
        "提交人单位",
        "回复次数",
        "评价",
    ]
    by_id = {row[0]: row for row in sheet[1:]}
    assert len(by_id) == 3
    assert by_id[anonymous][2:] == ["住房", "已办结", "周转房申请", "匿名", None, 1, "满意"]
    assert by_id[signed][2:] == ["就业", "办理中", "职业规划辅导", "王青", "办公室", 0, None]
    assert by_id[anonymous][1] == dt.datetime(2026, 12, 7, 14, 0)
    for row in sheet[1:]:
        if row[0] != signed:
            world.assert_anonymous(" ".join(str(cell) for cell in row))


async def test_a_leads_report_and_ledger_have_no_needs(world: World) -> None:
    bot = world.bot
    await world.sender.ask_private("/need 住房 周转房申请 匿名")
    await admin_asks(bot, f"/lead 康复中心 {world.colleague.id}")
    text, _ = await report_of(world.colleague, bot)
    assert "我为青年办实事" not in text
    book = await ledger_of(world.colleague, bot, "/export")
    assert "诉求" not in book.sheetnames
