"""Notices (通知), their posts in chats, acknowledgements (收到) and follow-ups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import members as members_db
from db import rules
from db.errors import Refusal
from db.models import Acknowledgement, Chat, Member, Notice, NoticePost, Unit
from db.sql import insert_ignore

MAX_TEXT = 3000  # leaves room in a 4096-character message for the header and counts
MAX_CAPTION_TEXT = 800  # a photo or document caption holds 1024
DEFAULT_REMIND = dt.timedelta(hours=24)
URGENT_WORDS = ("urgent", "紧急")  # its follow-ups are not held by quiet hours


@dataclass
class NoticeRequest:
    """A parsed /notice: where it goes, when to follow up, what it says."""

    target: str  # main | unit | all
    unit_name: str | None
    remind_after: dt.timedelta | None
    text: str
    unit: Unit | None = None  # once looked up
    urgent: bool = False


def text_limit(media: bool) -> int:
    return MAX_CAPTION_TEXT if media else MAX_TEXT


def _option(word: str) -> str | None:
    """Which leading option `word` is (target, remind, urgent), or None: the text begins."""
    lowered = word.lower()
    if word.startswith("@") or lowered == "all":
        return "target"
    if lowered.startswith("remind="):
        return "remind"
    if lowered in URGENT_WORDS:
        return "urgent"
    return None


def parse_words(raw: str, media: bool) -> NoticeRequest:
    """`[@单位|all] [remind=<hours>|remind=off] [urgent|紧急] <text>`, options in any order,
    each once; the text keeps its line breaks."""
    rest = raw.strip()
    target, unit_name = "main", None
    remind: dt.timedelta | None = DEFAULT_REMIND
    urgent = False
    seen: set[str] = set()
    while (head := rest.split(None, 1)) and (option := _option(head[0])) not in (None, *seen):
        assert option is not None
        seen.add(option)
        word, rest = head[0], head[1] if len(head) > 1 else ""
        if option == "target" and word.startswith("@"):
            target, unit_name = "unit", word[1:]
        elif option == "target":
            target = "all"
        elif option == "remind":
            remind = rules.parse_remind(word.split("=", 1)[1])
        else:
            urgent = True
    text = rules.clean_multiline(rest, text_limit(media), "notice_usage")
    return NoticeRequest(target, unit_name, remind, text, urgent=urgent)


async def parse_request(session: AsyncSession, raw: str, media: bool) -> NoticeRequest:
    """The body of /notice → a request with its unit looked up, or a refusal."""
    request = parse_words(raw, media)
    if request.unit_name is not None:
        request.unit = await members_db.unit_by_name(session, request.unit_name)
    return request


async def target_chats(session: AsyncSession, target: str, unit: Unit | None) -> list[Chat]:
    """The chats a notice goes to; refuses when one is missing."""
    main = await chats_db.main_chat(session)
    if target == "unit":
        assert unit is not None
        chat = await chats_db.unit_destination(session, unit.id)
        if chat is None:
            raise Refusal("unit_no_chat", unit=unit.name)
        return [chat]
    if main is None:
        raise Refusal("no_main_group")
    if target == "main":
        return [main]
    return [main, *await chats_db.unit_chats(session)]


async def create(
    session: AsyncSession,
    creator: Member,
    request: NoticeRequest,
    now: dt.datetime,
    *,
    media_kind: str | None = None,
    media_file_id: str | None = None,
) -> tuple[Notice, list[Chat]]:
    chats = await target_chats(session, request.target, request.unit)
    notice = Notice(
        text=request.text,
        target=request.target,
        unit_id=request.unit.id if request.unit else None,
        media_kind=media_kind,
        media_file_id=media_file_id,
        created_by=creator.id,
        created_at=now,
        remind_at=now + request.remind_after if request.remind_after else None,
        urgent=request.urgent,
    )
    session.add(notice)
    await session.flush()
    notice.unit, notice.creator = request.unit, creator
    session.add_all(NoticePost(notice_id=notice.id, chat_id=chat.id) for chat in chats)
    await session.flush()
    return notice, chats


async def get_active(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise Refusal("notice_unknown", id=notice_id)
    if notice.status == "deleted":
        raise Refusal("notice_deleted", id=notice_id)
    return notice


def _targets(notice: Notice) -> ColumnElement[bool]:
    registered = members_db.in_audience()
    if notice.target == "unit":
        return and_(registered, Member.unit_id == notice.unit_id)
    return registered


async def acknowledge(
    session: AsyncSession, notice_id: int, member: Member, now: dt.datetime
) -> tuple[Notice, bool]:
    """Record 收到; (notice, False) if this person had already acknowledged."""
    notice = await get_active(session, notice_id)
    if member.registered_at is None:
        raise Refusal("register_first")
    added = await insert_ignore(
        session, Acknowledgement, notice_id=notice.id, member_id=member.id, at=now
    )
    return notice, added


REPLY_WINDOW = dt.timedelta(days=7)  # a bare 收到 answers a notice of the last 7 days


async def by_post(session: AsyncSession, chat_id: int, message_id: int) -> Notice | None:
    """The notice whose card is message `message_id` in `chat_id` (someone replied to it)."""
    return await session.scalar(
        select(Notice)
        .join(NoticePost, NoticePost.notice_id == Notice.id)
        .where(NoticePost.chat_id == chat_id, NoticePost.message_id == message_id)
    )


def _unacknowledged(member: Member) -> ColumnElement[bool]:
    acked = select(Acknowledgement.id).where(
        Acknowledgement.notice_id == Notice.id, Acknowledgement.member_id == member.id
    )
    return ~acked.exists()


async def latest_unacknowledged_in(
    session: AsyncSession, chat_id: int, member: Member, now: dt.datetime
) -> Notice | None:
    """The newest notice posted in `chat_id` in the last 7 days this person has not
    acknowledged (what a bare 收到 typed in the group answers)."""
    return await session.scalar(
        select(Notice)
        .join(NoticePost, NoticePost.notice_id == Notice.id)
        .where(
            NoticePost.chat_id == chat_id,
            Notice.status == "active",
            Notice.created_at >= now - REPLY_WINDOW,
            _unacknowledged(member),
        )
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(1)
    )


async def awaiting(session: AsyncSession, member: Member, now: dt.datetime) -> list[Notice]:
    """Notices of the last 7 days meant for this person and not acknowledged, newest first."""
    for_them = or_(Notice.target != "unit", Notice.unit_id == member.unit_id)
    return list(
        await session.scalars(
            select(Notice)
            .where(
                Notice.status == "active",
                Notice.created_at >= now - REPLY_WINDOW,
                for_them,
                _unacknowledged(member),
            )
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(20)
        )
    )


@dataclass
class AckCounts:
    acknowledged: int
    expected: int


async def counts(session: AsyncSession, notice: Notice, unit_id: int | None = None) -> AckCounts:
    """Acknowledgements of the people a notice is for (of one unit, when given)."""
    targets = _targets(notice)
    if unit_id is not None:
        targets = and_(targets, Member.unit_id == unit_id)
    acknowledged = await session.scalar(
        select(func.count())
        .select_from(Acknowledgement)
        .join(Member, Member.id == Acknowledgement.member_id)
        .where(Acknowledgement.notice_id == notice.id, targets)
    )
    expected = await session.scalar(select(func.count()).select_from(Member).where(targets))
    return AckCounts(int(acknowledged or 0), int(expected or 0))


async def missing(session: AsyncSession, notice: Notice) -> list[Member]:
    """Targeted registered members who have not acknowledged, by unit then name."""
    acked = select(Acknowledgement.member_id).where(Acknowledgement.notice_id == notice.id)
    return list(
        await session.scalars(
            select(Member)
            .outerjoin(Unit, Member.unit_id == Unit.id)
            .where(_targets(notice), Member.id.not_in(acked))
            .order_by(Unit.id, Member.real_name, Member.id)
        )
    )


async def posts(session: AsyncSession, notice_id: int) -> list[NoticePost]:
    return list(
        await session.scalars(
            select(NoticePost).where(NoticePost.notice_id == notice_id).order_by(NoticePost.id)
        )
    )


async def record_post(session: AsyncSession, notice_id: int, chat_id: int, message_id: int) -> None:
    await session.execute(
        update(NoticePost)
        .where(NoticePost.notice_id == notice_id, NoticePost.chat_id == chat_id)
        .values(message_id=message_id)
    )


@dataclass
class Followup:
    """Who to remind privately, and who cannot be reached that way."""

    notice: Notice
    reachable: list[Member] = field(default_factory=list)
    unreachable: list[Member] = field(default_factory=list)


async def start_followup(session: AsyncSession, notice_id: int, now: dt.datetime) -> Followup:
    """Mark the follow-up done and return whom it concerns (caller writes the outbox rows)."""
    notice = await get_active(session, notice_id)
    notice.chased_at = now
    notice.chase_count += 1
    people = await missing(session, notice)
    return Followup(
        notice,
        reachable=[m for m in people if m.can_dm],
        unreachable=[m for m in people if not m.can_dm],
    )


async def edit_text(session: AsyncSession, notice_id: int, text: str) -> Notice:
    notice = await get_active(session, notice_id)
    notice.text = rules.clean_multiline(
        text, text_limit(notice.media_kind is not None), "notice_edit_usage"
    )
    return notice


async def delete(session: AsyncSession, notice_id: int) -> tuple[Notice, list[NoticePost]]:
    notice = await get_active(session, notice_id)
    notice.status = "deleted"
    return notice, await posts(session, notice_id)
