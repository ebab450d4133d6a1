"""Accessibility (screen readers): every button has words, every status is said in words, and
cards read well line by line — in every catalog text, and in everything the running bot sends.

The rule and its checker are in tests/a11y.py. Here: the checker itself (it can fail), every
catalog text in both languages, and an end-to-end walk that drives the real bot through every
kind of keyboard and card it produces — in Chinese, and again with English people and an
English group — and then checks every message, caption, edit, toast and button label the fake
Telegram server recorded.
"""

from __future__ import annotations

import io
import json
import re
import string
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from db import needs as needs_db
from db.models import KINDS
from render.texts import LANGUAGES, read_catalog, t_in
from scheduler.ratelimit import TelegramRateLimiter, _Windows
from tests.a11y import (
    button_label_ok,
    button_label_problems,
    template_ok,
    template_problems,
    text_ok,
    text_problems,
)
from tests.harness import BotHarness, clock
from tests.tgserver import Call, FakeTelegram, TgUser, Window
from tests.tgserver.world import World

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 13:00")

ROOT = Path(__file__).resolve().parent.parent

# Catalog entries that are never a line of their own: pieces joined into a line (a separator)
# and the emoji the bot reacts with (setMessageReaction takes an emoji, not a text).
NOT_LINES = {
    "list_separator",
    "series_id_sep",
    "reaction_ack",
    "reaction_checkin",
    "reaction_sent_privately",
}

# Button labels whatever the code looks like today (the derivation below must find them all).
KNOWN_BUTTON_KEYS = {
    "button_checkin",
    "button_leave",
    "button_checkout",
    "button_signup",
    "button_withdraw",
    "button_ack",
    "button_approve",
    "button_reject",
    "button_import_ok",
    "button_import_no",
    "need_button_signed",
    "need_button_anonymous",
    "need_button_satisfied",
    "need_button_unsatisfied",
    "muster_button_go",
    "muster_button_no",
    "ne_skip",
    "ne_ok",
    "ne_no",
}

# Every kind of keyboard the bot produces (callback data prefixes): the walk must meet them all.
EVERY_KEYBOARD = {
    "act:ci",  # 签到
    "act:lv",  # 请假
    "act:su",  # 报名
    "act:wd",  # 取消报名 (the card, and the private message of a promotion)
    "act:co",  # 签退
    "nt:ack",  # 收到 (the notice card, and the private follow-up)
    "apv:ok",  # 批准
    "apv:no",  # 驳回
    "ms:go",  # 我能去
    "ms:no",  # 去不了
    "need:c",  # the need's categories
    "need:s",  # 署名 / 匿名
    "need:r",  # 满意 / 不满意
    "ne:k",  # /newevent: the kinds
    "ne:skip",
    "ne:o",  # the options: 请假需审批, 二维码签到, 重复, 次数
    "ne:next",
    "ne:ok",
    "ne:no",
    "imp:ok",  # the roster import's preview
    "imp:no",
}


# --- the checker can fail ---------------------------------------------------------------------


@pytest.mark.parametrize("label", ["👍", "✅", "  ", "1", "✓✓", "➡️", "#12", "👌🏽", "⚠️ !", "(1/3)"])
def test_a_button_without_words_is_refused(label: str) -> None:
    assert not button_label_ok(label), label
    assert button_label_problems(label)


@pytest.mark.parametrize(
    "label", ["签到", "签到 ✅", "✅ 签到", "Check in", "收到 👌", "我能去", "A", "第 2 页"]
)
def test_a_button_with_words_passes(label: str) -> None:
    assert button_label_ok(label), button_label_problems(label)


@pytest.mark.parametrize(
    "text",
    [
        "✓",
        "——————",
        "━━━",
        "· · ·",
        "====",
        "---",
        "***",
        "🎉🎉",
        "⚠️",
        "【青工委】\n——————\n已完成",
        "张三 ✓",
        "张三 ✅",
        "Alice ❌",
        "理论学习：🟢",
        "—— 已批准（李组长，12-07 15:00）",
        "==> 结果：已批准",
        "标题 ———— 结束",
        "📍 三楼\n🔴",
        "点我的头像 → 发消息",
        "12-07 进度 → 已办结",
    ],
)
def test_a_text_with_a_symbol_only_status_or_a_decorative_line_is_refused(text: str) -> None:
    assert not text_ok(text), text
    assert text_problems(text)


@pytest.mark.parametrize(
    "text",
    [
        "已签到 ✓",
        "签到 ✅",
        "已完成 ✓",
        "未开展 ✗",
        "张三 已签到 ✓",
        "Done ✓",
        "Not held ✗",
        "可以 ✅",
        "不可以 ⚠️",
        "⚠️ 我还不是本群管理员：请把我设为管理员。",
        "✅ 活动已结束",
        " · 🟢签到中",
        "⏳ 报名截止 12-07 15:00 · 服务时长 3 小时",
        "📢 通知 #3\n\n请于周五前提交\n\n已收到 1 / 3",
        "/register 姓名 单位 — 登记实名和所在单位",
        "审批结果：已批准（李组长，12-07 15:00）",
        "1. 张三（办公室）15:02",
        "",
        "\n\n",
        "2026-12-07 15:00–17:00",
    ],
)
def test_a_text_saying_things_in_words_passes(text: str) -> None:
    assert text_ok(text), text_problems(text)


def test_an_emoji_as_the_only_label_of_a_value_is_refused() -> None:
    assert not template_ok("🕒 {when}\n📍 {place}")
    assert len(template_problems("🕒 {when}\n📍 {place}")) == 2
    assert not template_ok("活动 · 👥 {target} · 需要 {need} 人")
    assert not template_ok("将于 {when} 开始 · 📍 {place}。如不能参加，请发送 /withdraw")
    assert template_ok("🕒 时间：{when}\n📍 地点：{place}\n👥 对象：{target}")
    assert template_ok("⏳ {closes} 截止")
    assert template_ok("📢 通知 #{id}")


# --- every catalog text -----------------------------------------------------------------------


class _Value:
    """A placeholder's value: a neutral word, whatever the format spec or attribute asked."""

    def __format__(self, spec: str) -> str:
        return "值"

    def __getattr__(self, name: str) -> _Value:
        return self

    def __getitem__(self, key: object) -> _Value:
        return self


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> _Value:
        return _Value()


def catalog_forms(language: str) -> Iterator[tuple[str, str]]:
    """(key, form) for every text of the language's catalog, every plural form."""
    for message in read_catalog(language):
        if not message.id:
            continue  # the header
        key = message.id[0] if message.pluralizable else message.id
        forms: Any = message.string if message.pluralizable else (message.string,)
        for form in forms:
            yield str(key), str(form)


def render(form: str) -> str:
    return string.Formatter().vformat(form, (), _Values())


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_catalog_text_reads_well(language: str) -> None:
    problems = []
    seen = 0
    for key, form in catalog_forms(language):
        if key in NOT_LINES:
            continue
        seen += 1
        problems += [f"{language} {key}: {p}" for p in text_problems(render(form))]
        problems += [f"{language} {key}: {p}" for p in template_problems(form)]
    assert seen > 400
    assert not problems, "\n".join(problems)


def button_keys() -> set[str]:
    """The catalog keys the code builds inline buttons from: `InlineKeyboardButton(t("…"))`,
    outbox `button(t("…"), …)`, and the activity kinds (`kind_name(kind)` on /newevent's
    buttons)."""
    pattern = re.compile(r"(?:InlineKeyboardButton|button)\(\s*t\(\s*\"([a-z0-9_]+)\"")
    found: set[str] = set()
    for folder in ("bot", "handlers", "scheduler", "render", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(pattern.findall(path.read_text(encoding="utf-8")))
    newevent = (ROOT / "handlers" / "newevent_dialog.py").read_text(encoding="utf-8")
    if "InlineKeyboardButton(kind_name(" in newevent:
        found.update(f"kind_{kind}" for kind in KINDS)
    return found


def test_every_button_label_in_the_catalogs_has_words() -> None:
    keys = button_keys()
    assert keys >= KNOWN_BUTTON_KEYS, f"not found in the code: {KNOWN_BUTTON_KEYS - keys}"
    assert {f"kind_{kind}" for kind in KINDS} <= keys
    problems = []
    for language in LANGUAGES:
        labels = [(key, form) for key, form in catalog_forms(language) if key in keys]
        assert {key for key, _ in labels} == keys, keys - {key for key, _ in labels}
        problems += [
            f"{language} {key}: {problem}"
            for key, form in labels
            for problem in button_label_problems(render(form))  # {count} and such filled in
        ]
    # The needs' categories are buttons too (their own words, the same in every language).
    problems += [p for category in needs_db.CATEGORIES for p in button_label_problems(category)]
    assert not problems, "\n".join(problems)


# --- the walk: everything the bot sent --------------------------------------------------------


def _markup(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        raw = json.loads(raw)
    return raw if isinstance(raw, dict) else {}


def _buttons(markup: dict[str, Any]) -> list[dict[str, Any]]:
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]


def walk(server: FakeTelegram) -> tuple[list[str], list[tuple[str, str]], set[str], int]:
    """Check every text and button the bot sent or edited (all chats, all calls).

    Returns the problems, the (where, label) of every button, the keyboards met (callback data
    prefixes) and how many texts were checked.
    """
    problems: set[str] = set()
    labels: list[tuple[str, str]] = []
    keyboards: set[str] = set()
    checked = 0

    def check_text(where: str, text: Any) -> None:
        nonlocal checked
        if isinstance(text, str) and text:
            checked += 1
            problems.update(f"{where}: {p}" for p in text_problems(text))

    for call in server.calls:
        if not call.ok:
            continue
        params = call.params
        where = f"{call.method} to {params.get('chat_id', params.get('callback_query_id'))}"
        match call.method:
            case "sendMessage" | "editMessageText":
                check_text(where, params.get("text"))
            case (
                "sendPhoto" | "sendDocument" | "editMessageCaption" | "sendVideo" | "sendAnimation"
            ):
                check_text(where, params.get("caption"))
            case "editMessageMedia" | "sendMediaGroup":
                media = params.get("media")
                items = json.loads(media) if isinstance(media, str) else media
                for item in items if isinstance(items, list) else [items]:
                    if isinstance(item, dict):
                        check_text(where, item.get("caption"))
            case "answerCallbackQuery":
                check_text(f"toast {where}", params.get("text"))
            case "setMyCommands":
                for command in params.get("commands") or []:
                    description = command.get("description", "")
                    check_text(f"menu /{command.get('command')}", description)
                    problems.update(f"menu: {p}" for p in button_label_problems(description))
        for button in _buttons(_markup(params.get("reply_markup"))):
            label = str(button.get("text", ""))
            labels.append((where, label))
            problems.update(f"{where}: {p}" for p in button_label_problems(label))
            data = button.get("callback_data")
            if isinstance(data, str):
                keyboards.add(":".join(data.split(":")[:2]))
    return sorted(problems), labels, keyboards, checked


def test_the_walk_finds_what_breaks_the_rule() -> None:
    server = FakeTelegram("0:test")
    keyboard = {"inline_keyboard": [[{"text": "👍", "callback_data": "x:1"}]]}
    server.calls += [
        Call(
            "sendMessage",
            {"chat_id": -1, "text": "张三 ✓", "reply_markup": keyboard},
            True,
            None,
            0,
        ),
        Call("editMessageText", {"chat_id": -1, "text": "标题\n——————"}, True, None, 0),
        Call("sendPhoto", {"chat_id": 5, "caption": "⚠️"}, True, None, 0),
        Call("answerCallbackQuery", {"callback_query_id": "7", "text": "✅"}, True, None, 0),
        Call("sendMessage", {"chat_id": -1, "text": "✓"}, False, 429, 0),  # never shown
        Call("sendMessage", {"chat_id": -1, "text": "已签到 ✓"}, True, None, 0),
    ]
    problems, labels, keyboards, checked = walk(server)
    assert labels == [("sendMessage to -1", "👍")] and keyboards == {"x:1"} and checked == 5
    assert len(problems) == 5, problems
    for fragment in ("'👍'", "'张三 ✓'", "'——————'", "'⚠️'", "toast"):
        assert any(fragment in problem for problem in problems), fragment


# --- driving the bot, by callback data (so it reads the same in every language) -------------


def current(server: World, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it is now (edits change buttons)."""
    return dict(server.chats[message["chat"]["id"]].messages[message["message_id"]])


def data_of(message: dict[str, Any], prefix: str) -> str | None:
    for button in _buttons(message.get("reply_markup") or {}):
        data = button.get("callback_data")
        if isinstance(data, str) and data.startswith(prefix):
            return data
    return None


async def with_button(bot: BotHarness, chat_id: int, prefix: str) -> dict[str, Any]:
    """The latest bot message in `chat_id` with a button whose data starts with `prefix`."""
    await bot.services.outbox.drain(30)

    def find() -> dict[str, Any] | None:
        for message in reversed(bot.tg.bot_messages(chat_id)):
            if data_of(message, prefix):
                return dict(message)
        return None

    return dict(await bot.tg.wait_for(find, 15, f"a button {prefix!r} in {chat_id}"))


async def tap(user: TgUser, message: dict[str, Any], prefix: str) -> str:
    """Press the button of `message` whose data starts with `prefix`; the toast."""
    data = data_of(current(user.server, message), prefix)
    assert data, f"no button {prefix!r} on {message.get('text') or message.get('caption')!r}"
    answer = await user.toast(user.press_data(message, data), 30)
    return str(answer.get("text") or "")


def number(reply: str) -> int:
    match = re.search(r"#(\d+)", reply)
    assert match, reply
    return int(match[1])


async def say(user: TgUser, text: str) -> str:
    return await user.ask_private(text, 20)


async def create(bot: BotHarness, args: str) -> tuple[int, dict[str, Any]]:
    activity_id = number(await say(bot.admin, f"/newevent {args}"))
    card = await with_button(bot, bot.group.id, f"act:ci:{activity_id}")
    return activity_id, card


async def at(bot: BotHarness, local: str) -> None:
    """Move the clock; fire the reminders due; let the outbox and the cards catch up."""
    clock(bot).set_local(local)
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(30)


def workbook(rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("名单")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


async def import_roster(bot: BotHarness, name: str, answer: str) -> None:
    bot.tg.user_document(
        bot.admin.id,
        bot.admin.id,
        name,
        workbook(
            [["姓名", "单位", "职务"], [f"新同事{answer}", "办公室", "干事"], ["", "办公室", ""]]
        ),
        "/import",
    )
    preview = await with_button(bot, bot.admin.id, f"imp:{answer}")
    await tap(bot.admin, preview, f"imp:{answer}")


async def scenario(bot: BotHarness, lead: TgUser, members: list[TgUser]) -> None:
    """Every feature with a keyboard or a card, pressed through, by people of any language."""
    admin, group = bot.admin, bot.group.id
    m1, m2, m3 = members
    bot.services.cards.min_interval = 0.2  # edits come quickly: the walk sees them
    for person in (m1, admin):
        await say(person, "/start")
        await say(person, "/help")
    await say(lead, "/help")
    await admin.ask(group, "/setup", 20)
    await admin.ask_anywhere(group, "/help", 20)
    for command in ("/chats", "/units", "/members", "/outbox", "/remind", "/events"):
        await say(admin, command)

    # Activities: study (签到/请假), a meeting whose leave needs approval, a code, a QR code,
    # a volunteer activity with a cap, a waitlist and 签退.
    study, study_card = await create(bot, "学习 2026-12-07 15:00 学习二十大报告 place=三楼会议室")
    meeting, _ = await create(bot, "会议 2026-12-07 15:00 季度会议 leave=approve")
    coded, _ = await create(bot, "学习 2026-12-07 15:00 带码学习 code=1234")
    scanned, _ = await create(bot, "学习 2026-12-07 15:00 扫码学习 qr=on")
    volunteer, volunteer_card = await create(
        bot, "志愿 2026-12-07 15:00 助残服务 cap=1 end=18:00 checkout=on"
    )
    await create(bot, "志愿 2026-12-12 09:00 学雷锋进社区 cap=5 hours=3")
    await at(bot, "2026-12-07 14:00")  # the reminders an hour before

    await at(bot, "2026-12-07 14:50")  # check-in is open
    await tap(m1, study_card, "act:ci")
    await tap(m1, study_card, "act:ci")  # already
    await tap(m2, study_card, "act:lv")  # the toast sends to the private chat
    await say(m2, f"/leave {study} 家里老人住院")
    await say(m3, f"/leave {meeting} 出差")
    await tap(lead, await with_button(bot, lead.id, "apv:ok"), "apv:ok")
    await say(m2, f"/leave {meeting} 另有安排")
    request = await with_button(bot, lead.id, "apv:no")
    await tap(lead, request, "apv:no")
    await say(m1, f"/checkin {coded} 1234")
    await say(m2, f"/checkin {coded} 9999")
    await say(m3, f"/checkin {scanned}")
    admin.say(f"/qr {scanned}")
    await bot.tg.wait_for(
        lambda: any("photo" in m for m in bot.tg.bot_messages(admin.id)), 20, "the QR code"
    )
    await tap(m1, volunteer_card, "act:su")
    await tap(m2, volunteer_card, "act:su")  # waitlisted
    await tap(m3, volunteer_card, "act:co")  # not checked in
    await tap(m1, volunteer_card, "act:wd")  # m2 is promoted, and told privately
    await with_button(bot, m2.id, "act:wd")
    await tap(m1, volunteer_card, "act:su")  # waitlisted now
    await tap(m2, volunteer_card, "act:ci")
    await tap(m2, volunteer_card, "act:co")  # too early
    for command in (f"/roster {study}", f"/roster {volunteer}", f"/roster {meeting}", "/events"):
        await say(admin, command)

    # A notice with 收到, its follow-up.
    notice = number(await say(admin, "/notice remind=1 请各位于周五前提交季度学习心得"))
    notice_card = await with_button(bot, group, f"nt:ack:{notice}")
    await tap(m1, notice_card, "nt:ack")
    await tap(m1, notice_card, "nt:ack")  # already
    await say(admin, f"/acks {notice}")
    await say(admin, f"/chase {notice}")
    await tap(m2, await with_button(bot, m2.id, f"nt:ack:{notice}"), "nt:ack")

    # The rapid call: the group card and the private calls (我能去 / 去不了).
    await say(m1, "/squad join")
    muster = number(await say(admin, "/muster need=2 within=30 防汛抢险，到单位门口集合"))
    muster_card = await with_button(bot, group, f"ms:go:{muster}")
    await tap(m1, await with_button(bot, m1.id, f"ms:go:{muster}"), "ms:go")
    await tap(m2, await with_button(bot, m2.id, f"ms:no:{muster}"), "ms:no")
    await tap(m3, muster_card, "ms:go")
    await tap(lead, muster_card, "ms:go")  # waitlisted
    await tap(m3, muster_card, "ms:no")  # the lead is promoted
    for command in (f"/muster {muster}", "/muster", "/squad"):
        await say(admin, command)

    # The needs dialogue: categories, 署名/匿名, 满意/不满意.
    await say(m1, "/need")
    choose = await with_button(bot, m1.id, "need:c:")
    await tap(m1, choose, "need:c:")
    await say(m1, "想了解单位周转房的申请条件。")
    await tap(m1, await with_button(bot, m1.id, "need:s:"), "need:s:signed")
    await say(m2, "/need")
    await tap(m2, await with_button(bot, m2.id, "need:c:"), "need:c:")
    await say(m2, "希望组织一次青年联谊活动。")
    await tap(m2, await with_button(bot, m2.id, "need:s:"), "need:s:anon")
    await bot.services.outbox.drain(30)
    for need in (1, 2):
        await say(admin, f"/needs reply {need} 已联系相关部门")
        await say(admin, f"/needs status {need} 办结")
    await tap(m1, await with_button(bot, m1.id, "need:r:"), "need:r:1:yes")
    await tap(m2, await with_button(bot, m2.id, "need:r:"), "need:r:2:no")
    for command in ("/needs", "/needs all", "/needs 1"):
        await say(admin, command)

    # /newevent, guided: the kinds, 跳过, 确认创建 — and once 取消.
    await say(admin, "/newevent")
    await tap(admin, await with_button(bot, admin.id, "ne:k:"), "ne:k:study")
    await say(admin, "2026-12-20 15:00")
    await say(admin, "季度理论学习")
    await tap(admin, await with_button(bot, admin.id, "ne:skip"), "ne:skip")
    await tap(admin, await with_button(bot, admin.id, "ne:next"), "ne:next")
    await tap(admin, await with_button(bot, admin.id, "ne:ok"), "ne:ok")
    await say(admin, "/newevent")
    await tap(admin, await with_button(bot, admin.id, "ne:k:"), "ne:k:meeting")
    await say(admin, "2026-12-21 09:00")
    await say(admin, "青工委会议")
    await say(admin, "二楼会议室")
    for option in ("ne:o:leave", "ne:o:qr", "ne:o:repeat", "ne:o:count"):  # each option's words
        await tap(admin, await with_button(bot, admin.id, option), option)
    await tap(admin, await with_button(bot, admin.id, "ne:next"), "ne:next")
    await tap(admin, await with_button(bot, admin.id, "ne:no"), "ne:no")

    # The roster import's preview: confirmed once, cancelled once.
    await import_roster(bot, "名单.xlsx", "ok")
    await import_roster(bot, "名单2.xlsx", "no")

    # The activities go on and end; reminders, the check-out, the make-up, the cancel.
    await at(bot, "2026-12-07 15:25")  # the nudge, and the rapid call closes
    await say(admin, f"/event cancel {coded}")
    await at(bot, "2026-12-07 17:10")
    await tap(m2, volunteer_card, "act:co")
    await at(bot, "2026-12-07 20:30")  # everything has ended
    await say(m3, f"/makeup {study} 忘了签到")
    await tap(lead, await with_button(bot, lead.id, "apv:ok"), "apv:ok")
    await say(admin, f"/record {study} 学习了二十大报告，大家交流了体会。")
    await say(admin, f"/record {study}")
    for person in (m1, m2, m3):
        await say(person, "/me")
    await say(m1, "/top")
    await say(m2, "/certificate 2026")
    await say(admin, "/report")
    await say(admin, "/history @m1user")
    await bot.services.outbox.drain(30)
    await at(bot, "2026-12-08 10:00")
    await bot.tg.wait_for(lambda: not bot.services.cards._dirty, 15, "the cards edited")


def unhurried(bot: BotHarness) -> None:
    """Lift Telegram's rate limits (server and bot alike): this walk sends a few hundred
    messages, and what it checks is their words, not their pace."""
    bot.tg.group_per_minute = 100_000
    bot.tg.group_windows.clear()
    bot.tg.private_windows = defaultdict(lambda: Window(100_000, 1.0))
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    limiter._groups = _Windows(100_000, 60.0, time.monotonic)
    limiter._privates = _Windows(100_000, 1.0, time.monotonic)


async def people(bot: BotHarness) -> tuple[TgUser, list[TgUser]]:
    unhurried(bot)
    await bot.add_units("办公室", "康复中心")
    await bot.setup_main_group()
    lead = await bot.registered(3001, "李组长", "办公室", username="lilead")
    await say(bot.admin, "/lead 办公室 @lilead")
    members = [
        await bot.registered(3002, "王芳", "办公室", username="m1user"),
        await bot.registered(3003, "张伟", "办公室"),
        await bot.registered(3004, "刘洋", "办公室"),
    ]
    return lead, members


def assert_accessible(bot: BotHarness) -> list[tuple[str, str]]:
    problems, labels, keyboards, checked = walk(bot.tg)
    assert not problems, f"{len(problems)} accessibility problems:\n" + "\n".join(problems)
    assert keyboards >= EVERY_KEYBOARD, f"never met: {sorted(EVERY_KEYBOARD - keyboards)}"
    assert checked > 150, checked
    # The walk went where it meant to: no step ended in the bot's apology for an error.
    failures = {t_in(lang, "error_internal") for lang in LANGUAGES}
    sent = [c.params.get("text") for c in bot.tg.calls if c.method == "sendMessage"]
    assert not failures & set(sent)
    return labels


async def test_every_keyboard_and_card_reads_well_in_chinese(bot: BotHarness) -> None:
    lead, members = await people(bot)
    await scenario(bot, lead, members)
    labels = assert_accessible(bot)
    assert ("签到" in {label for _, label in labels}) and ("批准" in {x for _, x in labels})


async def test_every_keyboard_and_card_reads_well_in_english(bot: BotHarness) -> None:
    lead, members = await people(bot)
    for person in (bot.admin, lead, *members):
        await say(person, "/lang en")
    await bot.admin.ask(bot.group.id, "/lang en", 20)
    await scenario(bot, lead, members)
    labels = assert_accessible(bot)
    # The walk really went through English: the group's cards and the private keyboards.
    ascii_labels = {label for _, label in labels if re.search(r"[A-Za-z]{2}", label)}
    expected = {t_in("en", key) for key in ("button_checkin", "button_approve", "ne_ok")}
    expected |= {t_in("en", key) for key in ("muster_button_go", "need_button_signed")}
    assert expected <= ascii_labels, expected - ascii_labels
