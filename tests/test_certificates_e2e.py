"""End-to-end: the volunteer-hours certificate (/certificate, a PDF) and /verify.

The PDF's text is read back with pypdf. The embedded CJK font is CID-keyed CFF, reached
through a two-byte CMap of fpdf2's own; pypdf reads every character right but also emits the
codes' zero high bytes (NUL) and, measuring glyphs without that CMap, spaces where there are
none. Poppler's pdftotext and PDF viewers read the same file cleanly. The tests therefore
compare text with white space and NULs removed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import func, select

from db import certificates as certificates_db
from db.models import Activity, Attendance, Certificate, Member, Signup
from render.texts import t
from tests.harness import BotHarness, clock
from tests.steps import create
from tests.tgserver import BOT_USERNAME, TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 10:00")

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
COMMITTEE = t("cert_committee")


def flat(text: str) -> str:
    return re.sub(r"[\s\x00]+", "", text)


def pdf_text(data: bytes) -> tuple[str, int]:
    """The PDF's whole text without white space, and its number of pages."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return flat("".join(page.extract_text() for page in reader.pages)), len(reader.pages)


async def certificate(bot: BotHarness, user: TgUser, command: str = "/certificate") -> Any:
    """Ask privately; the document message the bot sends."""
    since = len(bot.tg.bot_messages(user.id))
    user.say(command)
    return await bot.tg.message_in(
        user.id, lambda m: m.get("document"), 30, "the certificate", since
    )


def code_of(document: dict[str, Any]) -> str:
    match = CODE.search(document["caption"])
    assert match, document["caption"]
    return match[0]


async def documents(bot: BotHarness, chat_id: int) -> int:
    return sum(1 for m in bot.tg.bot_messages(chat_id) if m.get("document"))


async def certificates(bot: BotHarness) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Certificate)) or 0)


class Year:
    """张三 (办公室) served in two volunteer activities of December 2026 (3 h and 2.5 h), signed
    up for a third without checking in, and was named in a group."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        self.zhang: TgUser
        self.first = self.second = self.skipped = 0

    async def build(self) -> None:
        bot = self.bot
        await bot.add_units("办公室", "康复中心")
        await bot.setup_main_group()
        self.zhang = await bot.registered(3001, "张三", "办公室", username="zhangsan")
        self.first, _ = await create(bot, "志愿 2026-12-08 09:00 学雷锋进社区 end=12:00 cap=5")
        self.second, _ = await create(
            bot, "志愿 2026-12-09 14:00 助残阳光行动🌞👍🏽 end=16:00 hours=2.5 cap=5"
        )
        self.skipped, _ = await create(bot, "志愿 2026-12-10 09:00 没去的活动 cap=5")
        for activity in (self.first, self.second, self.skipped):
            assert "报名成功" in await self.zhang.ask_private(f"/signup {activity}")
        clock(bot).set_local("2026-12-08 09:05")
        assert "签到成功" in await self.zhang.ask_private(f"/checkin {self.first}")
        clock(bot).set_local("2026-12-09 14:05")
        assert "签到成功" in await self.zhang.ask_private(f"/checkin {self.second}")
        clock(bot).set_local("2026-12-11 10:00")


@pytest.fixture
async def year(bot: BotHarness) -> Year:
    built = Year(bot)
    await built.build()
    return built


async def test_the_certificate_lists_each_activity_and_its_code_verifies(year: Year) -> None:
    bot, zhang = year.bot, year.zhang
    document = await certificate(bot, zhang)
    assert document["chat"]["id"] == zhang.id
    assert document["document"]["file_name"] == "志愿服务证明_张三_2026.pdf"
    code = code_of(document)
    assert "2 次" in document["caption"] and "5.5 小时" in document["caption"]
    data = bot.tg.sent_file(document)
    assert data.startswith(b"%PDF-")
    text, pages = pdf_text(data)
    assert pages == 1
    assert "志愿服务证明" in text
    assert "兹证明张三（办公室）于2026年参加志愿服务活动2次，累计服务时长5.5小时" in text
    assert "2026-12-08学雷锋进社区3" in text
    # The emoji the font lacks are left out of the title; nothing breaks.
    assert "2026-12-09助残阳光行动2.5" in text
    assert "没去的活动" not in text  # signed up, never checked in: not credited
    assert "合计5.5" in text
    assert flat(COMMITTEE) in text and "2026年12月11日" in text
    assert f"验证码：{code}" in text and f"@{BOT_USERNAME}发送/verify{code}" in text

    for typed in (code, code.lower().replace("-", ""), " ".join(code.split("-"))):
        answer = await zhang.ask_private(f"/verify {typed}")
        assert f"验证码 {code} 有效" in answer, answer
        assert "姓名：张三" in answer and "年度：2026" in answer
        assert "累计服务时长：5.5 小时" in answer and "志愿服务活动：2 次" in answer
        assert COMMITTEE in answer
    # Anyone, in any chat: someone who never registered, in the group.
    stranger = bot.user(3999, "路人")
    answer = await stranger.ask(bot.group.id, f"/verify {code}")
    assert "姓名：张三" in answer and "累计服务时长：5.5 小时" in answer


async def test_unknown_and_malformed_codes_are_unknown(year: Year) -> None:
    bot, zhang = year.bot, year.zhang
    code = code_of(await certificate(bot, zhang))
    unknown = "2345-6789-ABCD" if code != "2345-6789-ABCD" else "2345-6789-ABCE"
    for typed in (unknown, "0000-OOOO-1111", "7KQM-3XPD", code + "X", "验证码"):
        answer = await zhang.ask_private(f"/verify {typed}")
        assert answer == t("cert_unknown"), (typed, answer)
    assert "用法：/verify" in await zhang.ask_private("/verify")


async def test_asking_again_reuses_the_code_and_a_correction_makes_a_new_one(year: Year) -> None:
    bot, zhang = year.bot, year.zhang
    first = code_of(await certificate(bot, zhang))
    again = await certificate(bot, zhang, "/certificate 2026")
    assert code_of(again) == first
    assert await certificates(bot) == 1

    answer = await bot.admin.ask_private(f"/hours {year.first} @zhangsan 4")
    assert "设为 4 小时" in answer, answer
    corrected = await certificate(bot, zhang)
    second = code_of(corrected)
    assert second != first and await certificates(bot) == 2
    text, _ = pdf_text(bot.tg.sent_file(corrected))
    assert "2026-12-08学雷锋进社区4" in text and "合计6.5" in text and second in text
    new = await zhang.ask_private(f"/verify {second}")
    assert "累计服务时长：6.5 小时" in new and "重新开具" not in new
    old = await zhang.ask_private(f"/verify {first}")
    assert "累计服务时长：5.5 小时" in old and "重新开具" in old
    # Asked again now: the corrected one.
    assert code_of(await certificate(bot, zhang)) == second
    assert await certificates(bot) == 2


async def test_no_hours_that_year_gets_a_reason_and_no_document(year: Year) -> None:
    bot, zhang = year.bot, year.zhang
    li = await bot.registered(3002, "李四", "康复中心")
    answer = await li.ask_private("/certificate")
    assert "2026 年你还没有计入的志愿服务时长" in answer, answer
    answer = await zhang.ask_private("/certificate 2025")
    assert "2025 年你还没有计入的志愿服务时长" in answer, answer
    for bad in ("1999", "2027", "今年", "2026 2025"):
        answer = await zhang.ask_private(f"/certificate {bad}")
        assert "年份" in answer or "用法" in answer, (bad, answer)
    await bot.settled()
    assert await documents(bot, li.id) == 0 and await documents(bot, zhang.id) == 0
    assert await certificates(bot) == 0


async def test_the_unregistered_are_asked_to_register(year: Year) -> None:
    bot = year.bot
    newcomer = bot.user(3003, "新人")
    assert await newcomer.ask_private("/certificate") == t("register_first")
    await bot.settled()
    assert await documents(bot, newcomer.id) == 0


async def test_in_a_group_it_points_to_the_private_chat_and_shows_nothing(year: Year) -> None:
    bot, zhang = year.bot, year.zhang
    since = len(bot.tg.texts(bot.group.id))
    answer = await zhang.ask_anywhere(bot.group.id, "/certificate")
    assert answer == t("private_only")  # said privately: the group hears nothing of it
    await bot.settled()
    assert bot.tg.texts(bot.group.id)[since:] == []
    assert await documents(bot, bot.group.id) == 0 and await documents(bot, zhang.id) == 0
    assert await certificates(bot) == 0


async def seed_year_of_service(bot: BotHarness, telegram_id: int, count: int) -> None:
    """`count` volunteer activities of 2026, two hours each, all served by the person."""
    async with bot.services.db.session() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        assert member is not None
        first = dt.datetime(2026, 1, 3, 9, 0, tzinfo=SHANGHAI)
        activities = [
            Activity(
                kind="volunteer",
                title=f"第{i + 1:02d}次志愿服务：助残阳光行动进社区🌼 {'很长的说明' * (i % 4)}",
                starts_at=first + dt.timedelta(days=5 * i),
                ends_at=first + dt.timedelta(days=5 * i, hours=2),
                capacity=10,
            )
            for i in range(count)
        ]
        session.add_all(activities)
        await session.flush()
        for activity in activities:
            session.add(Signup(activity_id=activity.id, member_id=member.id, status="confirmed"))
            session.add(Attendance(activity_id=activity.id, member_id=member.id, status="present"))
        await session.commit()


@pytest.mark.clock("2026-12-20 10:00")
async def test_sixty_activities_flow_onto_more_pages(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    wang = await bot.registered(3004, "王五", "办公室")
    await seed_year_of_service(bot, wang.id, 60)
    document = await certificate(bot, wang)
    text, pages = pdf_text(bot.tg.sent_file(document))
    assert pages > 1
    assert "参加志愿服务活动60次，累计服务时长120小时" in text
    for i in range(60):
        assert f"第{i + 1:02d}次志愿服务：助残阳光行动进社区" in text, i
    assert "2026-01-03" in text and "2026-10-25" in text
    code = code_of(document)
    assert "合计120" in text and flat(COMMITTEE) in text and f"验证码：{code}" in text
    assert f"验证码{code}·第{pages}/{pages}页" in text
    assert "累计服务时长：120 小时" in await wang.ask_private(f"/verify {code}")


def test_codes_are_long_random_and_unambiguous() -> None:
    codes = {certificates_db.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert set("".join(codes)) == set(certificates_db.ALPHABET)
    assert not set("0O1I") & set(certificates_db.ALPHABET)
    assert len(certificates_db.ALPHABET) ** certificates_db.CODE_LENGTH >= 2**50
    code = next(iter(codes))
    shown = certificates_db.grouped(code)
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", shown)
    for typed in (
        shown,
        shown.lower(),
        code.lower(),
        f" {shown[:4]} {shown[5:]} ",
        "－".join(shown.split("-")),
    ):
        assert certificates_db.normalize(typed) == code, typed
    for bad in ("", shown[:-1], shown + "2", "O" * 12, "I" * 12, "0" * 12, "1" * 12):
        assert certificates_db.normalize(bad) is None, bad
