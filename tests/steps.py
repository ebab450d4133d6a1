"""Steps the end-to-end tests share: acting as the committee and its members through the local
Bot API server, and reading back what the bot did. One module, so that test files never import
each other."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import openpyxl
import xlsxwriter
from docx import Document
from docx.document import Document as DocxDocument
from sqlalchemy import func, select

from bot.web import WebServer
from db.models import Acknowledgement, Activity, Attendance, Member, Unit
from handlers.webauth import sign
from tests.harness import TOKEN, BotHarness, clock, seed_members
from tests.tgserver import TgUser

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


async def create(
    bot: BotHarness, args: str, chat_id: int | None = None
) -> tuple[int, dict[str, Any]]:
    """Create an activity as the admin; return its number and its card in the group."""
    reply = await bot.admin.ask_private(f"/newevent {args}")
    match = re.search(r"已创建活动 #(\d+)", reply)
    assert match, reply
    activity_id = int(match[1])
    card = await bot.tg.message_in(
        chat_id or bot.group.id, lambda m: f"#{activity_id} " in m["text"], what="the card"
    )
    return activity_id, card


def card_text(bot: BotHarness, card: dict[str, Any]) -> str:
    return str(bot.tg.chats[card["chat"]["id"]].messages[card["message_id"]]["text"])


async def attendance(bot: BotHarness, activity_id: int) -> dict[int, str]:
    async with bot.services.db.session() as session:
        rows = await session.scalars(
            select(Attendance).where(Attendance.activity_id == activity_id)
        )
        return {a.member.chat_id: a.status for a in rows}


async def activities_count(bot: BotHarness) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Activity)) or 0)


async def wait_card(bot: BotHarness, card: dict[str, Any], fragment: str) -> str:
    return str(
        await bot.tg.wait_for(
            lambda: fragment in card_text(bot, card) and card_text(bot, card),
            timeout=15,
            what=f"card showing {fragment!r}",
        )
    )


async def post(bot: BotHarness, body: str, chat_id: int | None = None) -> tuple[int, str]:
    reply = await bot.admin.ask_private(f"/notice {body}")
    match = re.search(r"已发布通知 #(\d+)", reply)
    assert match, reply
    notice_id = int(match[1])
    await bot.services.outbox.drain(20)
    return notice_id, reply


def find_card(bot: BotHarness, notice_id: int, chat_id: int) -> dict[str, Any] | None:
    for message in bot.tg.bot_messages(chat_id):
        if f"通知 #{notice_id}\n" in (message.get("text") or message.get("caption") or ""):
            return message
    return None


def card(bot: BotHarness, notice_id: int, chat_id: int) -> dict[str, Any]:
    found = find_card(bot, notice_id, chat_id)
    assert found is not None, f"no card for notice {notice_id} in {chat_id}"
    return found


def body(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def sent_to(bot: BotHarness, person: TgUser, fragment: str) -> dict[str, Any]:
    """The message the bot sent `person` privately (through the outbox) containing `fragment`."""
    await bot.services.outbox.drain(20)
    what = f"{fragment!r} sent to {person.id}"
    return await bot.tg.message_in(person.id, lambda m: fragment in body(m), what=what)


async def told(bot: BotHarness, person: TgUser, fragment: str) -> str:
    """The text of that message."""
    return body(await sent_to(bot, person, fragment))


def current(bot: BotHarness, message: dict[str, Any]) -> dict[str, Any]:
    """`message` as it is now, after the bot's edits."""
    return dict(bot.tg.chats[message["chat"]["id"]].messages[message["message_id"]])


async def wait_text(bot: BotHarness, message: dict[str, Any], fragment: str) -> None:
    await bot.tg.wait_for(lambda: fragment in body(message), 15, f"{fragment!r} in the card")


async def acks(bot: BotHarness, notice_id: int) -> int:
    async with bot.services.db.session() as session:
        stmt = (
            select(func.count())
            .select_from(Acknowledgement)
            .where(Acknowledgement.notice_id == notice_id)
        )
        return int(await session.scalar(stmt) or 0)


SHEETS = [
    "活动",
    "学习计划",
    "工作要点落实",
    "签到明细",
    "审批记录",
    "志愿服务",
    "通知回执",
    "诉求",
    "成员",
    "考核",
]


async def imported(bot: BotHarness, name: str, unit: str, username: str | None = None) -> None:
    """A person on the committee's roster who never wrote to the bot."""
    async with bot.services.db.session() as session:
        unit_row = await session.scalar(select(Unit).where(Unit.name == unit))
        assert unit_row is not None
        session.add(
            Member(
                telegram_id=None,
                first_name="",
                real_name=name,
                unit_id=unit_row.id,
                username=username,
                imported_at=bot.services.now(),
            )
        )
        await session.commit()


async def named(bot: BotHarness, telegram_id: int, name: str) -> None:
    async with bot.services.db.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        assert member is not None
        member.real_name = name
        await session.commit()


async def report_of(user: TgUser, bot: BotHarness, command: str = "/report") -> tuple[str, Any]:
    """Send /report privately; the report's text and its chart photo message."""
    since = len(bot.tg.bot_messages(user.id))
    user.say(command)
    photo = await bot.tg.message_in(user.id, lambda m: m.get("photo"), 30, "the chart", since)
    text = "\n".join(m.get("text", "") for m in bot.tg.bot_messages(user.id)[since:])
    return text, photo


async def ledger_of(user: TgUser, bot: BotHarness, command: str) -> openpyxl.Workbook:
    since = len(bot.tg.bot_messages(user.id))
    user.say(command)
    document = await bot.tg.message_in(
        user.id, lambda m: m.get("document"), 60, "the ledger", since
    )
    assert document["document"]["file_name"].startswith("青工委台账_")
    return openpyxl.load_workbook(io.BytesIO(bot.tg.sent_file(document)))


def rows(book: openpyxl.Workbook, sheet: str) -> list[list[Any]]:
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


# ------------------------------------------------------------------------ files sent in
def workbook(rows_: list[list[str]], sheet: str = "名单") -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    page = book.add_worksheet(sheet)
    for r, row in enumerate(rows_):
        for c, value in enumerate(row):
            page.write_string(r, c, value)
    book.close()
    return out.getvalue()


async def import_preview(bot: BotHarness, name: str, content: bytes) -> dict[str, Any]:
    """Send a roster file with the caption /import; the preview message."""
    since = len(bot.tg.bot_messages(bot.admin.id))
    bot.tg.user_document(bot.admin.id, bot.admin.id, name, content, "/import")
    admin = bot.admin.id
    return await bot.tg.message_in(
        admin, lambda m: "导入预览" in m["text"], 20, "the preview", since
    )


# ----------------------------------------------------------------- the year-end summary
async def summary_of(
    user: TgUser, bot: BotHarness, command: str = "/summary 2026", chat: int | None = None
) -> tuple[dict[str, Any], DocxDocument]:
    """Send the command (privately, or in `chat`); the document message and the draft."""
    since = len(bot.tg.bot_messages(user.id))
    user.send(chat or user.id, command)
    message = await bot.tg.message_in(
        user.id, lambda m: m.get("document"), 30, "the summary draft", since
    )
    return message, Document(io.BytesIO(bot.tg.sent_file(message)))


def table_rows(document: DocxDocument, first_header: str) -> list[list[str]]:
    (table,) = [t for t in document.tables if t.rows[0].cells[0].text == first_header]
    return [[cell.text for cell in row.cells] for row in table.rows]


class Quarter:
    """Units 办公室 (A, B), 康复中心 (C, and D imported), 财务科 (nobody); a study session and
    a meeting held, a study session scheduled, a volunteer activity, a notice — in 2026 Q4."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        self.a: TgUser
        self.b: TgUser
        self.c: TgUser

    async def build(self) -> None:
        bot = self.bot
        await bot.add_units("办公室", "康复中心", "财务科")
        await bot.setup_main_group()
        self.a, self.b = await seed_members(bot, 2, "办公室", name="办")
        (self.c,) = await seed_members(bot, 1, "康复中心", first_id=600000, name="康")
        await named(bot, self.b.id, "=1+1")  # a formula-looking name stays text in the ledger
        await imported(bot, "丁导入", "康复中心")
        self.study, self.study_card = await create(bot, "学习 2026-10-10 09:00 四季度学习")
        self.meeting, self.meeting_card = await create(bot, "会议 2026-10-15 09:00 四季度会议")
        self.future, _ = await create(bot, "学习 2026-12-20 09:00 年底学习 unit=康复中心")
        self.volunteer, volunteer_card = await create(
            bot, "志愿 2026-10-12 09:00 助残志愿 end=11:00 cap=5"
        )
        self.notice, _ = await post(bot, "remind=off 四季度通知")
        await self.a.toast(self.a.press(card(bot, self.notice, bot.group.id), "收到"))
        for person in (self.a, self.b):
            await person.toast(person.press(volunteer_card, "报名"))
        await self.c.ask_private(f"/leave {self.study} 出差")
        clock(bot).set_local("2026-10-10 09:05")
        await self.a.toast(self.a.press(self.study_card, "签到"))
        clock(bot).set_local("2026-10-10 09:20")
        await self.b.toast(self.b.press(self.study_card, "签到"))
        clock(bot).set_local("2026-10-12 09:00")
        await self.a.ask_private(f"/checkin {self.volunteer}")
        clock(bot).set_local("2026-10-15 09:00")
        await self.a.toast(self.a.press(self.meeting_card, "签到"))
        clock(bot).set_local("2026-10-16 10:00")
        await bot.admin.ask_private(f"/record {self.study} 学习了二十大报告。\n讨论热烈。")
        bot.tg.user_photo(bot.admin.id, bot.admin.id, f"/record {self.study}")
        await bot.tg.wait_for(
            lambda: any("添加照片" in x for x in bot.tg.texts(bot.admin.id)), 10, "photo kept"
        )
        clock(bot).set_local("2026-12-07 14:00")


def english(text: str, data: tuple[str, ...] = ()) -> str:
    """`text`, checked to be English once `data` (what people typed) is taken out."""
    bare = text
    for word in data:
        bare = bare.replace(word, "")
    assert not CHINESE.search(bare), f"not English: {text!r}"
    assert re.search(r"[A-Za-z]{3}", bare), f"no words: {text!r}"
    return text


def chinese(text: str) -> str:
    assert CHINESE.search(text), f"not Chinese: {text!r}"
    return text


# ----------------------------------------------------------------------- the dashboard


def init_data(
    bot: BotHarness,
    user_id: int,
    *,
    language: str = "zh-hans",
    token: str = TOKEN,
    age: dt.timedelta = dt.timedelta(minutes=1),
) -> str:
    """What Telegram gives the page of `user_id`, signed `age` ago by the bot's clock."""
    signed = bot.services.now() - age
    user = {"id": user_id, "first_name": "T", "language_code": language}
    return sign(
        {
            "query_id": "AAH",
            "user": json.dumps(user, separators=(",", ":")),
            "auth_date": str(int(signed.timestamp())),
        },
        token,
    )


def webapp_base(bot: BotHarness) -> str:
    """Where the bot serves the dashboard (tests: WEBAPP_LISTEN on a free port)."""
    server = bot.app.bot_data["webapp"]
    assert isinstance(server, WebServer)
    return f"http://127.0.0.1:{server.port}/app/"
