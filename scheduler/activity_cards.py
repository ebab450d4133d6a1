"""Activity cards are posted through the outbox, so a crash after "created" cannot lose them.

A series posts its later cards `LEAD` before each start (a durable `not_before` on the outbox
row), not 52 at once. Such a row waits weeks, so its text is kept current: whenever the card is
touched before it is posted (an edit, a sign-up) the pending row is rendered again, and once
posted the card is touched once more, so a count that moved meanwhile is edited in at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import attendance as attendance_db
from db import chats as chats_db
from db import outbox as outbox_db
from db import volunteer as volunteer_db
from db.database import Database
from db.models import Activity, Member, OutboxMessage
from db.outbox import Buttons
from render.activities import Counts, render_card
from render.texts import PerLanguage, t_in
from scheduler.cards import CardRefresher, CardView
from scheduler.outbox import OutboxHooks
from scheduler.outbox import markup as outbox_markup

POST = "activity_card"
CARD = "activity"  # the card refresher's name for an activity's card
LEAD = dt.timedelta(days=7)  # a series' later card is posted this long before its start


def key(activity_id: int, chat_id: int) -> str:
    return f"activity:{activity_id}:card:{chat_id}"


def _prefix(activity_id: int) -> str:
    return f"activity:{activity_id}:card:"


def posting_time(starts_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """When a series' later card is posted: `LEAD` before the start; None: at once."""
    at = starts_at - LEAD
    return at if at > now else None


async def enqueue(
    session: AsyncSession,
    activity: Activity,
    chat_id: int,
    text: str,
    buttons: Buttons | None,
    *,
    not_before: dt.datetime | None = None,
    thread_id: int | None = None,
) -> None:
    """The card of a new activity, posted in `chat_id` (its topic `thread_id`) once this
    transaction commits (and not before `not_before`)."""
    await outbox_db.enqueue(
        session,
        key(activity.id, chat_id),
        chat_id,
        text,
        buttons=buttons,
        purpose=POST,
        ref_id=activity.id,
        not_before=not_before,
        thread_id=thread_id,
    )


async def refresh_pending(
    session: AsyncSession,
    activity: Activity,
    render: Callable[[str], tuple[str, Buttons | None]],
    now: dt.datetime,
) -> None:
    """A card not posted yet: its pending row gets the current text (`render` of its chat's
    language), and a row still waiting for its time moves with the activity's start."""
    pending = (
        OutboxMessage.purpose == POST,
        OutboxMessage.ref_id == activity.id,
        OutboxMessage.status == "pending",
    )
    chats = set(await session.scalars(select(OutboxMessage.chat_id).where(*pending)))
    for chat_id in sorted(chats):
        text, buttons = render(await chats_db.language(session, chat_id))
        await session.execute(
            update(OutboxMessage)
            .where(*pending, OutboxMessage.chat_id == chat_id)
            .values(text=text, buttons=buttons)
        )
    await session.execute(
        update(OutboxMessage)
        .where(*pending, OutboxMessage.attempts == 0, OutboxMessage.not_before > now)
        .values(not_before=posting_time(activity.starts_at, now))
    )


async def cancel_unposted(session: AsyncSession, activity_id: int) -> int:
    """A cancelled activity's card that is not posted yet never will be; how many rows."""
    return await outbox_db.cancel_pending(session, _prefix(activity_id))


class ActivityCardHooks(OutboxHooks):
    """Remember where the card is (its counts are edited there); tell the creator if it failed."""

    def __init__(self, cards: CardRefresher, card_kind: str) -> None:
        self._cards, self._kind = cards, card_kind

    async def sent(self, session: AsyncSession, row: OutboxMessage, message_id: int) -> None:
        if row.ref_id is None:
            return
        await activities_db.set_card(session, row.ref_id, row.chat_id, message_id, row.thread_id)
        # Presses may have come in while the card was queued: re-render it.
        self._cards.shown(row.chat_id, message_id, row.text)
        self._cards.touch(self._kind, row.ref_id)

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        activity = await session.get(Activity, row.ref_id) if row.ref_id else None
        creator = await session.get(Member, activity.created_by) if activity else None
        if activity is None or creator is None:
            return
        text = t_in(
            creator.lang,
            "activity_created_no_card",
            id=activity.id,
            title=activity.title,
            reason=error,
        )
        await outbox_db.enqueue(session, f"{row.key}:failed", creator.chat_id, text)


async def card_counts(session: AsyncSession, activity: Activity) -> Counts:
    counts = await attendance_db.counts(session, activity)
    if activity.kind != "volunteer":
        return counts, None
    return counts, await volunteer_db.counts(session, activity)


async def _posted_view(
    session: AsyncSession, zone: ZoneInfo, now: dt.datetime, activity_id: int
) -> list[CardView] | None:
    """The views of a card already posted in its chat; None if it still has to be posted."""
    activity = await session.get(Activity, activity_id)
    if activity is None:
        return []
    if activity.chat_id is None or activity.message_id is None:
        return None
    counts = await card_counts(session, activity)
    language = await chats_db.language(session, activity.chat_id)
    text, buttons = PerLanguage(lambda: render_card(activity, counts, zone, now))(language)
    return [CardView(activity.chat_id, activity.message_id, text, outbox_markup(buttons))]


async def card_views(
    db: Database,
    zone: ZoneInfo,
    now: dt.datetime,
    wake_outbox: Callable[[], None],
    activity_id: int,
) -> list[CardView]:
    """The card of `activity_id` as it should look now (none if it is not posted yet), in
    its group's language (whoever pressed).

    A card whose chat changed (upgraded, or the bot was removed) is posted afresh in its new
    chat instead, while the activity is still open.
    """
    # The usual case, a posted card's counts: read without SQLite's writer lock, so the
    # presses that changed them go on meanwhile.
    async with db.read_session() as session:
        posted = await _posted_view(session, zone, now, activity_id)
    if posted is not None:
        return posted
    async with db.session() as session:
        found = await session.get(Activity, activity_id)
        if found is None:
            return []
        activity = found
        counts = await card_counts(session, activity)
        render = PerLanguage(lambda: render_card(activity, counts, zone, now))
        if activity.chat_id is None:  # not posted yet (a series' later card waits its turn)
            await refresh_pending(session, activity, render, now)
            await session.commit()
            wake_outbox()
            return []
        text, buttons = render(await chats_db.language(session, activity.chat_id))
        if activity.message_id is not None:
            return [CardView(activity.chat_id, activity.message_id, text, outbox_markup(buttons))]
        if buttons is not None and not await outbox_db.has_pending(
            session, POST, activity.id, activity.chat_id
        ):
            await enqueue(
                session, activity, activity.chat_id, text, buttons, thread_id=activity.thread_id
            )
            await session.commit()
            wake_outbox()
    return []
