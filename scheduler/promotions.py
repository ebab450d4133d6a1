"""Tell people promoted from a waitlist: privately if the bot may, else one group mention."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import chats as chats_db
from db import outbox as outbox_db
from db.models import Activity, Member, OutboxMessage, Signup
from render.formats import activity_start
from render.texts import PerLanguage, clip, listing, person_name, speaking, t
from scheduler.outbox import OutboxHooks

PROMOTION = "promotion"


def _mention(member: Member) -> str:
    return f"@{member.username}" if member.username else person_name(member)


async def _mention_in_group(
    session: AsyncSession, activity: Activity, people: list[Member], key: str, zone: ZoneInfo
) -> None:
    chat_id, thread = await activities_db.card_place(session, activity)
    if chat_id is None:
        return
    with speaking(await chats_db.language(session, chat_id)):  # the group's
        text = t(
            "promoted_mention",
            id=activity.id,
            title=activity.title,
            names=listing(_mention(m) for m in people),
            when=activity_start(activity, zone),
        )
    await outbox_db.enqueue(
        session, key, chat_id, clip(text), purpose=PROMOTION, ref_id=activity.id, thread_id=thread
    )


async def notify(
    session: AsyncSession, activity: Activity, promoted: list[Signup], zone: ZoneInfo
) -> bool:
    """Outbox rows for `promoted`, in the promoting transaction. True if any were written."""
    if not promoted:
        return False
    unreachable: list[Member] = []
    text = PerLanguage(
        lambda: t(
            "promoted_private",
            id=activity.id,
            title=activity.title,
            when=activity_start(activity, zone),
        )
    )
    withdraw = PerLanguage(
        lambda: [[outbox_db.button(t("button_withdraw"), f"act:wd:{activity.id}")]]
    )
    for signup in promoted:
        member = signup.member
        if member.can_dm:
            await outbox_db.enqueue(
                session,
                f"activity:{activity.id}:signup:{signup.id}:promoted",
                member.chat_id,
                text(member.lang),
                buttons=withdraw(member.lang),
                purpose=PROMOTION,
                ref_id=activity.id,
                member_id=member.id,
                quiet=True,  # automatic and private: waits out quiet hours
            )
        else:
            unreachable.append(member)
    if unreachable:
        # One coalesced group message for everyone promoted together who cannot be written to.
        key = f"activity:{activity.id}:signup:{promoted[0].id}:promoted:mention"
        await _mention_in_group(session, activity, unreachable, key, zone)
    return True


class PromotionHooks(OutboxHooks):
    """A private promotion notice that bounced (403) becomes a group mention."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        if row.member_id is None or row.ref_id is None:
            return
        activity = await session.get(Activity, row.ref_id)
        member = await session.get(Member, row.member_id)
        if activity is not None and member is not None:
            await _mention_in_group(session, activity, [member], f"{row.key}:mention", self._zone)
