"""The dashboard (a Telegram Mini App) over HTTP, on both databases: initData checked the
Telegram way, the role read on every request, each person seeing what their role allows, and
the page's actions doing what the commands do (the browser tests drive the same pages in
Chromium: tests/test_dashboard_browser.py)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from db.models import Member, Need, OutboxMessage
from handlers.webauth import InvalidInitData, sign, validate
from tests.harness import ADMIN_ID, TOKEN, BotHarness, clock
from tests.steps import Quarter, init_data, webapp_base

WEBAPP = {"webapp_url": "https://bot.example.org/app/", "webapp_listen": ("127.0.0.1", 0)}
pytestmark = [pytest.mark.settings(**WEBAPP), pytest.mark.clock("2026-10-09 10:00")]

# aiogram's test vector for the same algorithm (a fake token): Telegram's documented check.
VECTOR_TOKEN = "42:TEST"
VECTOR = (
    "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D"
    "&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803"
)
VECTOR_TIME = dt.datetime.fromtimestamp(1650385342, dt.UTC)


async def page(bot: BotHarness, init: str | None, **query: Any) -> tuple[int, str]:
    headers = {"Authorization": f"tma {init}"} if init is not None else {}
    async with (
        aiohttp.ClientSession() as client,
        client.get(webapp_base(bot) + "api/page", params=query, headers=headers) as response,
    ):
        return response.status, await response.text()


async def act(bot: BotHarness, init: str, form: dict[str, Any], **query: Any) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            webapp_base(bot) + "api/action",
            params=query,
            data={k: str(v) for k, v in form.items()},
            headers={"Authorization": f"tma {init}"},
        ) as response,
    ):
        return response.status, await response.text()


def text(html: str) -> str:
    """What a reader sees: the chart and the tags taken out."""
    bare = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", html, flags=re.S))
    return unescape(re.sub(r"\s+", " ", bare))


def tabs(html: str) -> list[str]:
    nav = re.search(r"<nav.*?</nav>", html, re.S)
    assert nav is not None, html[:300]
    return re.findall(r">([^<>]+)</a>", nav.group(0))


# ----------------------------------------------------------------------- initData


def test_a_known_vector_validates_and_every_change_breaks_it() -> None:
    user = validate(VECTOR, VECTOR_TOKEN, VECTOR_TIME + dt.timedelta(minutes=5))
    assert (user.id, user.first_name) == (42, "Test")
    later = VECTOR_TIME + dt.timedelta(hours=1, seconds=1)
    for data, token, now in (
        (VECTOR, "42:OTHER", VECTOR_TIME),  # another bot's token
        (VECTOR.replace("query_id=test", "query_id=tesT"), VECTOR_TOKEN, VECTOR_TIME),
        (VECTOR.replace("%3A42%2C", "%3A43%2C"), VECTOR_TOKEN, VECTOR_TIME),  # another user
        (VECTOR + "&query_id=test", VECTOR_TOKEN, VECTOR_TIME),  # a field twice
        (VECTOR.rpartition("&hash=")[0], VECTOR_TOKEN, VECTOR_TIME),  # no hash
        (VECTOR, VECTOR_TOKEN, later),  # stale: more than an hour old
        (VECTOR, VECTOR_TOKEN, VECTOR_TIME - dt.timedelta(minutes=10)),  # from the future
        ("", VECTOR_TOKEN, VECTOR_TIME),
        ("%%%", VECTOR_TOKEN, VECTOR_TIME),
        ("x" * 9000, VECTOR_TOKEN, VECTOR_TIME),
    ):
        with pytest.raises(InvalidInitData):
            validate(data, token, now)


def test_signing_and_validating_agree() -> None:
    fields = {"user": '{"id":7,"first_name":"李"}', "auth_date": "1800000000"}
    now = dt.datetime.fromtimestamp(1800000000, dt.UTC)
    assert validate(sign(fields, TOKEN), TOKEN, now).id == 7
    no_user = sign({"auth_date": "1800000000"}, TOKEN)
    with pytest.raises(InvalidInitData):
        validate(no_user, TOKEN, now)


# ----------------------------------------------------------------------- who sees what


async def test_nothing_without_valid_init_data(quarter: Quarter) -> None:
    bot = quarter.bot
    async with aiohttp.ClientSession() as client, client.get(webapp_base(bot)) as response:
        shell = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert response.status == 200 and "static/app.js" in shell and "办公室" not in shell
    assert "script-src 'self' https://telegram.org" in policy
    for init in (
        None,
        "",
        init_data(bot, ADMIN_ID, token="123456:forged-token-forged-token-forged"),
        init_data(bot, ADMIN_ID, age=dt.timedelta(hours=2)),
        init_data(bot, ADMIN_ID) + "0",
    ):
        status, body = await page(bot, init, tab="overview")
        assert status == 401, (init, body)
        assert "办公室" not in body and "<nav" not in body
    stranger = bot.stranger(777001, "路人")
    status, body = await page(bot, init_data(bot, stranger.id), tab="me")
    assert status == 403 and "/register" in body and "<nav" not in body
    status, body = await page(bot, init_data(bot, stranger.id, language="en"), tab="me")
    assert status == 403 and "not registered" in body


async def test_the_committee_sees_the_quarter_at_a_glance(quarter: Quarter) -> None:
    bot = quarter.bot
    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="overview", period="2026-Q4")
    assert status == 200
    assert tabs(html) == ["概览", "活动", "通知", "诉求", "工作要点", "我的", "台账"]
    seen = text(html)
    assert "2026年第4季度" in seen
    for unit in ("办公室", "康复中心", "财务科"):
        assert unit in seen
    assert "已完成" in seen and "青工委会议" in seen and "民族团结" in seen
    assert "<svg" in html and "<caption>" in html and 'scope="col"' in html
    assert f'data-q="tab=activities&amp;id={quarter.study}"' in html  # the study behind it
    # The year, and its quarters side by side.
    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="overview", period="2026")
    assert status == 200 and "2026年度" in text(html) and "个季度达标" in text(html)
    # A period the bot cannot read: said, not an error.
    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="overview", period="20x6")
    assert status == 400 and 'role="alert"' in html
    # In English for the committee member who chose it.
    await bot.admin.ask_private("/lang en")
    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="overview", period="2026-Q4")
    assert tabs(html) == [
        "Overview", "Activities", "Notices", "Needs", "Work plan", "Me", "Ledger"
    ]  # fmt: skip
    assert '<div class="page" lang="en">' in html and "Committee meetings" in text(html)
    assert "（" not in text(html).replace("康复中心", "")


async def test_an_activity_s_roster_from_the_list(quarter: Quarter) -> None:
    bot = quarter.bot
    init = init_data(bot, ADMIN_ID)
    status, html = await page(bot, init, tab="activities", period="2026-Q4", kind="study")
    assert status == 200
    seen = text(html)
    assert "四季度学习" in seen and "年底学习" in seen and "四季度会议" not in seen
    status, html = await page(bot, init, tab="activities", id=quarter.study)
    seen = text(html)
    assert "办000" in seen and "已签到" in seen  # A on time
    assert "=1+1" in seen and "迟到" in seen  # B late
    assert "康000" in seen and "出差" in seen  # C on leave: the reason, for the committee
    assert "丁导入" in seen and "未登记" in seen  # imported, never registered
    assert "照片：1" in seen and "纪要：有" in seen and "讨论热烈" in seen
    status, html = await page(bot, init, tab="activities", id=99999)
    assert status == 400 and 'role="alert"' in html and "99999" in html


async def test_a_unit_lead_sees_only_their_unit(quarter: Quarter) -> None:
    bot = quarter.bot
    await bot.admin.ask_private("/lead 康复中心 康000")
    init = init_data(bot, quarter.c.id)
    status, html = await page(bot, init)
    assert status == 200
    assert tabs(html) == ["概览", "活动", "通知", "工作要点", "我的", "台账"]
    seen = text(html)
    assert "康复中心" in seen and "办公室" not in seen and "财务科" not in seen
    status, html = await page(bot, init, tab="activities", id=quarter.future)
    assert status == 200 and "丁导入" in text(html)  # their unit's activity
    # An activity for every unit: their own unit's part of its roster, without the reasons.
    status, html = await page(bot, init, tab="activities", id=quarter.study)
    seen = text(html)
    assert status == 200 and "康000" in seen and "丁导入" in seen
    assert "办000" not in seen and "出差" not in seen
    status, html = await page(bot, init, tab="needs")
    assert status == 403 and 'role="alert"' in html and "<section" not in html
    status, html = await page(bot, init, tab="notices", id=quarter.notice)
    assert "康000" in text(html) and "办" not in text(html).split("名单")[-1]
    assert "私信提醒" not in html  # chasing is the committee's
    await bot.tg.wait_for(
        lambda: bot.tg.menu_buttons.get(quarter.c.id, {}).get("type") == "web_app", 10, "menu"
    )
    # The role is read on every request: no longer a lead, the same initData sees less.
    await bot.admin.ask_private("/lead off 康000")
    status, html = await page(bot, init)
    assert status == 200 and tabs(html) == ["我的"]
    await bot.tg.wait_for(
        lambda: bot.tg.menu_buttons[quarter.c.id].get("type") == "default", 10, "menu reset"
    )


async def test_a_member_sees_only_themself(quarter: Quarter) -> None:
    bot = quarter.bot
    init = init_data(bot, quarter.a.id)
    status, html = await page(bot, init)
    assert status == 200 and tabs(html) == ["我的"]
    seen = text(html)
    assert "我的：办000" in seen and "2026年各季度" in seen and "=1+1" not in seen
    for tab in ("overview", "activities", "notices", "needs", "ledger"):
        status, html = await page(bot, init, tab=tab)
        assert status == 403 and 'role="alert"' in html and "康复中心" not in html, tab
        assert tabs(html) == ["我的"]
    # English for an English speaker.
    await quarter.a.ask_private("/lang en")
    status, html = await page(bot, init)
    assert tabs(html) == ["Me"] and "Me: 办000" in text(html)


# ----------------------------------------------------------------------- actions


async def test_the_committee_moves_a_need_on_and_replies(quarter: Quarter) -> None:
    bot = quarter.bot
    await quarter.a.ask_private("/need 就业 想了解残疾人就业创业扶持政策 匿名")
    async with bot.services.db.session() as session:
        need_id = await session.scalar(select(Need.id))
    assert need_id is not None
    init = init_data(bot, ADMIN_ID)
    status, html = await page(bot, init, tab="needs")
    assert status == 200 and "待受理（1）" in text(html) and "办000" not in html
    status, html = await page(bot, init, tab="needs", id=need_id)
    assert "匿名" in text(html) and "办000" not in html and "500000" not in html
    status, html = await act(
        bot,
        init,
        {"do": "need_status", "id": need_id, "status": "accepted"},
        tab="needs",
        id=need_id,
    )
    assert status == 200 and 'role="status"' in html and "已受理" in text(html)
    await bot.tg.wait_for(
        lambda: any("已受理" in x for x in bot.tg.texts(quarter.a.id)), 10, "the sender told"
    )
    status, html = await act(
        bot,
        init,
        {"do": "need_reply", "id": need_id, "text": "已转就业处，下周答复。"},
        tab="needs",
        id=need_id,
    )
    assert status == 200 and "已转就业处" in text(html)
    await bot.tg.wait_for(
        lambda: any("已转就业处" in x for x in bot.tg.texts(quarter.a.id)), 10, "the reply"
    )
    # The same refusals as the commands: an empty reply, a forged id, a member's attempt.
    status, html = await act(bot, init, {"do": "need_reply", "id": need_id, "text": " "})
    assert status == 400 and 'role="alert"' in html
    status, html = await act(bot, init, {"do": "need_status", "id": 99999, "status": "done"})
    assert status == 400 and "99999" in html
    status, html = await act(bot, init, {"do": "no-such-thing"})
    assert status == 400 and 'role="alert"' in html
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            webapp_base(bot) + "api/action",
            json={"do": "need_status", "id": need_id, "status": "done"},
            headers={"Authorization": f"tma {init}"},
        ) as response,
    ):
        assert response.status == 415
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            webapp_base(bot) + "api/action",
            data={"do": "need_reply", "id": str(need_id), "text": "长" * 20000},
            headers={"Authorization": f"tma {init}"},
        ) as response,
    ):
        assert response.status == 413
    member = init_data(bot, quarter.b.id)
    status, html = await act(bot, member, {"do": "need_status", "id": need_id, "status": "done"})
    assert status == 400 and 'role="alert"' in html
    async with bot.services.db.session() as session:
        need = await session.get(Need, need_id)
        assert need is not None and need.status == "accepted"


async def test_the_committee_chases_a_notice_from_the_page(quarter: Quarter) -> None:
    bot = quarter.bot
    init = init_data(bot, ADMIN_ID)
    status, html = await page(bot, init, tab="notices", period="2026-Q4")
    assert status == 200 and "四季度通知" in text(html)
    status, html = await page(bot, init, tab="notices", id=quarter.notice)
    seen = text(html)
    assert "=1+1" in seen and "康000" in seen and "办000" not in seen.split("名单")[-1]
    before = len(bot.tg.texts(quarter.b.id))
    status, html = await act(
        bot, init, {"do": "chase", "id": quarter.notice}, tab="notices", id=quarter.notice
    )
    assert status == 200 and 'role="status"' in html
    await bot.tg.wait_for(
        lambda: len(bot.tg.texts(quarter.b.id)) > before, 10, "B reminded privately"
    )
    async with bot.services.db.session() as session:
        keys = list(
            await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.chat_id == quarter.b.id)
            )
        )
    assert any(f"notice:{quarter.notice}:followup" in key for key in keys), keys


async def test_a_ledger_and_a_certificate_asked_from_the_page(quarter: Quarter) -> None:
    bot = quarter.bot
    status, html = await act(
        bot, init_data(bot, ADMIN_ID), {"do": "ledger", "period": "2026-Q4"}, tab="ledger"
    )
    assert status == 200 and "台账正在生成" in text(html)
    document = await bot.tg.message_in(ADMIN_ID, lambda m: m.get("document"), 60, "the ledger", 0)
    assert document["document"]["file_name"].startswith("青工委台账_")
    clock(bot).set_local("2026-12-07 15:00")
    status, html = await act(
        bot, init_data(bot, quarter.a.id), {"do": "certificate", "year": "2026"}, tab="me"
    )
    assert status == 200 and "证明正在生成" in text(html)
    certificate = await bot.tg.message_in(
        quarter.a.id, lambda m: m.get("document"), 60, "the certificate", 0
    )
    assert certificate["document"]["file_name"].endswith(".pdf")


async def test_dashboard_command_opens_the_mini_app(quarter: Quarter) -> None:
    bot = quarter.bot
    await bot.admin.ask_private("/dashboard")
    message = bot.tg.bot_messages(ADMIN_ID)[-1]
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button["web_app"]["url"] == WEBAPP["webapp_url"] and "数据看板" in button["text"]
    await bot.tg.wait_for(lambda: ADMIN_ID in bot.tg.menu_buttons, 10, "the menu button")
    assert bot.tg.menu_buttons[ADMIN_ID]["type"] == "web_app"
    # Asked in the group: the button comes privately (Telegram opens Mini Apps only there).
    await quarter.a.ask_anywhere(bot.group.id, "/dashboard")
    message = bot.tg.bot_messages(quarter.a.id)[-1]
    assert message["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"]
    assert quarter.a.id not in bot.tg.menu_buttons  # a member: the button, not the menu
    # Someone the bot may not write to yet is pointed to the private chat.
    async with bot.services.db.session() as session:
        await session.execute(
            update(Member).where(Member.telegram_id == quarter.b.id).values(can_dm=False)
        )
        await session.commit()
    reply = await quarter.b.ask(bot.group.id, "/dashboard")
    assert "私聊" in reply, reply


@pytest.mark.settings()
async def test_without_webapp_url_dashboard_says_how_to_enable_it(bot: BotHarness) -> None:
    await bot.admin.ask_private("/start")
    reply = await bot.admin.ask_private("/dashboard")
    assert "WEBAPP_URL" in reply


async def test_the_work_plan_review_has_its_page(quarter: Quarter) -> None:
    bot, c = quarter.bot, quarter.c
    await bot.admin.ask_private("/lead 康复中心 康000")
    ids = []
    for text_ in (
        "2026 康复中心青年读书会 负责=康复中心",
        "2026 办公室台账 负责=办公室",
        "2026 季度会议 负责=青工委 周期=每季度 目标=会议≥1",
    ):
        reply = await bot.admin.ask_private(f"/task add {text_}")
        ids.append(int(re.search(r"#(\d+)", reply)[1]))  # type: ignore[index]
    own, other, counted = ids
    # The lead answers as from the quarter's prompt, and adds a note.
    await c.ask_private("/tasks")
    message = bot.tg.bot_messages(c.id)[-1]
    since = len(bot.tg.texts(c.id))
    assert "已记录" in (await c.toast(c.press_data(message, f"trv:{own}:2026Q4:p")))["text"]
    assert "补充说明" in await c.reply_in(c.id, since)
    since = len(bot.tg.texts(c.id))
    await c.toast(c.press_data(message, f"trv:{own}:2026Q4:n"))
    assert "说明文字" in await c.reply_in(c.id, since)
    assert "已保存" in await c.ask_private("已开展两次读书会")

    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="tasks", period="2026-Q4")
    assert status == 200 and "<caption>" in html and 'scope="col"' in html
    seen = text(html)
    assert "已评估 2/3 项" in seen
    assert f"#{own} 康复中心青年读书会 康复中心 推进中 负责人评估 康000" in seen
    assert "已开展两次读书会" in seen
    assert f"#{other} 办公室台账 办公室 未评估 未评估" in seen
    assert f"#{counted} 季度会议 青工委 已完成（已开展 1 次，已安排 0 次） 据记录" in seen
    status, html = await page(bot, init_data(bot, ADMIN_ID), tab="tasks", period="2026")
    assert status == 200 and "2026年第1季度" in text(html)
    # A lead sees their unit's tasks; a member has no such page.
    status, html = await page(bot, init_data(bot, c.id), tab="tasks", period="2026-Q4")
    assert status == 200 and "康复中心青年读书会" in text(html)
    assert "办公室台账" not in text(html) and "季度会议" not in text(html)
    status, html = await page(bot, init_data(bot, quarter.a.id), tab="tasks")
    assert status == 403 and 'role="alert"' in html and "读书会" not in html
