"""Notice posting, follow-ups (追踪未回复“收到”的人) and the outbox hooks for notices."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import notices as notices_db
from db import outbox as outbox_db
from db.database import Database
from db.models import Chat, Member, Notice, NoticePost, OutboxMessage
from render.texts import PerLanguage, clip, listing, person_name, speaking, t, t_in
from scheduler import reminder_rules
from scheduler.cards import CardRefresher, CardView
from scheduler.outbox import OutboxHooks
from scheduler.outbox import markup as outbox_markup
from scheduler.reminding import Firing, Writer

log = logging.getLogger(__name__)

POST = outbox_db.NOTICE_POST
CARD = "notice"  # the card refresher's name for a notice's card
FOLLOWUP = "notice_followup"
REPORT = "notice_report"


def ack_button(notice_id: int) -> list[list[dict[str, str]]]:
    return [[outbox_db.button(t("button_ack"), f"nt:ack:{notice_id}")]]


def shown_text(notice: Notice) -> str:
    """The notice's text as people see it: an urgent one says so first."""
    return t("quiet_urgent_mark") + notice.text if notice.urgent else notice.text


def card_text(notice: Notice, counts: notices_db.AckCounts) -> str:
    return t(
        "notice_card",
        id=notice.id,
        text=shown_text(notice),
        acknowledged=counts.acknowledged,
        expected=counts.expected,
    )


def key(notice_id: int, *parts: object) -> str:
    return ":".join(["notice", str(notice_id), *(str(p) for p in parts)])


async def enqueue_posts(session: AsyncSession, notice: Notice, chats: list[Chat]) -> None:
    """The notice's card in each chat (in the chat's language), through the outbox (so a
    crash cannot lose it)."""
    counts = await notices_db.counts(session, notice)
    text = PerLanguage(lambda: card_text(notice, counts))
    buttons = PerLanguage(lambda: ack_button(notice.id))
    for chat in chats:
        # A unit's notice goes into the unit's topic when the unit is bound to one there.
        unit_id = notice.unit_id if notice.target == "unit" else None
        thread = await chats_db.unit_thread(session, unit_id, chat.id)
        await outbox_db.enqueue(
            session,
            key(notice.id, "chat", chat.id, "post"),
            chat.id,
            text(chat.lang),
            buttons=buttons(chat.lang),
            media_kind=notice.media_kind,
            media_file_id=notice.media_file_id,
            pin=chat.bot_can_pin,
            purpose=POST,
            ref_id=notice.id,
            thread_id=thread,
        )


async def repost_moved(session: AsyncSession, notice: Notice, posts: list[NoticePost]) -> int:
    """Queue the card again where a post has no message and none is on its way (its chat
    was upgraded, or the bot was removed from the group it was in); how many."""
    afresh = []
    for post in posts:
        if post.message_id is None and not await outbox_db.has_pending(
            session, POST, notice.id, post.chat_id
        ):
            chat = await chats_db.get(session, post.chat_id)
            if chat is not None and chat.status == "active":
                afresh.append(chat)
    if afresh:
        await enqueue_posts(session, notice, afresh)
    return len(afresh)


async def _tell_creator(
    session: AsyncSession,
    notice: Notice,
    key_: str,
    text: Callable[[], str],
    *,
    quiet: bool = False,
) -> None:
    """`text` rendered in the creator's language."""
    with speaking(notice.creator.lang):
        rendered = clip(text())
    await outbox_db.enqueue(
        session,
        key_,
        notice.creator.chat_id,
        rendered,
        purpose=REPORT,
        ref_id=notice.id,
        quiet=quiet,
    )


def _names(people: list[Member]) -> str:
    return listing(person_name(m) for m in people)


async def chase(
    session: AsyncSession, notice_id: int, now: dt.datetime, *, scheduled: bool = False
) -> notices_db.Followup:
    """Remind privately everyone targeted who has not acknowledged.

    `scheduled`: the automatic follow-up, held by quiet hours unless the notice is urgent;
    its creator is told, through the outbox, how many were reminded and who cannot be. A
    /chase is someone asking now: it goes at once, and only its answer confirms it (a report
    as well was a second, overlapping confirmation).
    """
    followup = await notices_db.start_followup(session, notice_id, now)
    notice, round_ = followup.notice, followup.notice.chase_count
    quiet = scheduled and not notice.urgent
    text = PerLanguage(lambda: t("notice_followup", id=notice.id, text=shown_text(notice)))
    buttons = PerLanguage(lambda: ack_button(notice.id))
    for member in followup.reachable:
        await outbox_db.enqueue(
            session,
            key(notice.id, "followup", round_, "member", member.id),
            member.chat_id,
            text(member.lang),
            buttons=buttons(member.lang),
            media_kind=notice.media_kind,
            media_file_id=notice.media_file_id,
            purpose=FOLLOWUP,
            ref_id=notice.id,
            member_id=member.id,
            quiet=quiet,
        )

    def report() -> str:
        text = t("notice_followup_report", id=notice.id, count=len(followup.reachable))
        if followup.unreachable:
            text += t(
                "notice_unreachable",
                count=len(followup.unreachable),
                names=_names(followup.unreachable),
            )
        return text

    if scheduled:
        report_key = key(notice.id, "followup", round_, "report")
        await _tell_creator(session, notice, report_key, report, quiet=quiet)
    return followup


class NoticeHooks(OutboxHooks):
    """Record where a notice was posted; tell its creator what could not be done."""

    def __init__(self, cards: CardRefresher, card_kind: str) -> None:
        self._cards, self._kind = cards, card_kind

    async def sent(self, session: AsyncSession, row: OutboxMessage, message_id: int) -> None:
        if row.purpose == POST and row.ref_id is not None:
            await notices_db.record_post(session, row.ref_id, row.chat_id, message_id)
            # Acknowledgements may have arrived while the post was queued: re-render, and
            # the refresher edits only if the text differs from what was posted.
            self._cards.shown(row.chat_id, message_id, row.text)
            self._cards.touch(self._kind, row.ref_id)

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        if row.ref_id is None:
            return
        notice = await session.get(Notice, row.ref_id)
        if notice is None:
            return
        if row.purpose == FOLLOWUP and row.member_id is not None:
            member = await session.get(Member, row.member_id)
            name = person_name(member) if member else str(row.chat_id)
            # About an automatic follow-up: automatic too (held like it).
            await _tell_creator(
                session,
                notice,
                f"{row.key}:unreachable",
                lambda: t("notice_member_unreachable", id=notice.id, name=name),
                quiet=row.quiet,
            )
        elif row.purpose == POST:
            await _tell_creator(
                session,
                notice,
                f"{row.key}:failed",
                lambda: t("notice_post_failed", id=notice.id, chat=row.chat_id, error=error),
            )

    async def pin_failed(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        notice = await session.get(Notice, row.ref_id) if row.ref_id else None
        if notice is not None:
            await _tell_creator(
                session,
                notice,
                f"{row.key}:pin-failed",
                lambda: t("notice_pin_failed", id=notice.id, chat=row.chat_id, error=error),
            )


async def card_views(
    db: Database, wake_outbox: Callable[[], None], notice_id: int
) -> list[CardView]:
    """Every posted copy of the notice with its current count, in its chat's language.

    A copy whose chat changed (upgraded, or the bot was removed) is posted afresh there.
    """
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None or notice.status != "active":
            return []
        counts = await notices_db.counts(session, notice)
        shown = notice  # narrowed, for the closures below
        text = PerLanguage(lambda: card_text(shown, counts))
        markup = PerLanguage(lambda: outbox_markup(ack_button(notice_id)))
        posts = await notices_db.posts(session, notice_id)
        languages = {p.chat_id: await chats_db.language(session, p.chat_id) for p in posts}
        afresh = await repost_moved(session, notice, posts)
        if afresh:
            await session.commit()
            wake_outbox()
    caption = notice.media_kind is not None
    return [
        CardView(
            p.chat_id,
            p.message_id,
            text(languages[p.chat_id]),
            markup(languages[p.chat_id]),
            caption=caption,
        )
        for p in posts
        if p.message_id is not None
    ]


async def followup(f: Firing) -> str | None:
    """The automatic follow-up of a notice: privately to whoever has not acknowledged."""
    notice = await f.session.get(Notice, f.occurrence.ref)
    if notice is None or notice.status != "active":
        return "notice deleted"
    chased = await chase(f.session, notice.id, f.now, scheduled=True)
    f.send.count += len(chased.reachable) + 1  # the follow-ups and the report
    return None


async def followup_missed(session: AsyncSession, notice_id: int) -> None:
    """A follow-up missed while the bot was down: its creator is told it was not sent."""
    notice = await session.get(Notice, notice_id)
    if notice is not None:
        await outbox_db.enqueue(
            session,
            key(notice_id, "followup-missed"),
            notice.creator.chat_id,
            t_in(notice.creator.lang, "notice_followup_missed", id=notice_id),
            purpose=REPORT,
            ref_id=notice_id,
            quiet=not notice.urgent,
        )


WRITERS: dict[str, Writer] = {reminder_rules.NOTICE_FOLLOWUP: followup}
