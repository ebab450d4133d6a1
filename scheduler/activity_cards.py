"""Activity cards are posted through the outbox, so a crash after "created" cannot lose them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import CardRefresher
from bot.texts import t
from db import activities as activities_db
from db import outbox as outbox_db
from db.models import Activity, Member, OutboxMessage
from db.outbox import Buttons
from scheduler.outbox import OutboxHooks

POST = "activity_card"


def key(activity_id: int, chat_id: int) -> str:
    return f"activity:{activity_id}:card:{chat_id}"


async def enqueue(
    session: AsyncSession, activity: Activity, chat_id: int, text: str, buttons: Buttons | None
) -> None:
    """The card of a new activity, posted in `chat_id` once this transaction commits."""
    await outbox_db.enqueue(
        session,
        key(activity.id, chat_id),
        chat_id,
        text,
        buttons=buttons,
        purpose=POST,
        ref_id=activity.id,
    )


class ActivityCardHooks(OutboxHooks):
    """Remember where the card is (its counts are edited there); tell the creator if it failed."""

    def __init__(self, cards: CardRefresher, card_kind: str) -> None:
        self._cards, self._kind = cards, card_kind

    async def sent(self, session: AsyncSession, row: OutboxMessage, message_id: int) -> None:
        if row.ref_id is None:
            return
        await activities_db.set_card(session, row.ref_id, row.chat_id, message_id)
        # Presses may have come in while the card was queued: re-render it.
        self._cards.shown(row.chat_id, message_id, row.text)
        self._cards.touch(self._kind, row.ref_id)

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        activity = await session.get(Activity, row.ref_id) if row.ref_id else None
        creator = await session.get(Member, activity.created_by) if activity else None
        if activity is None or creator is None:
            return
        text = t("activity_created_no_card", id=activity.id, title=activity.title, reason=error)
        await outbox_db.enqueue(session, f"{row.key}:failed", creator.chat_id, text)
