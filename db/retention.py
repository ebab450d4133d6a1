"""How long what is kept: free texts are erased once they are no longer needed; the counts,
statuses and who-did-what-when stay (docs/privacy.md says it to people, /privacy too).

- A private or group message the bot sent: its text and buttons after `DELIVERED_TEXT_DAYS`
  (when, where, whether it arrived stay).
- Leave and make-up reasons, the texts of needs and the committee's replies relayed to the
  sender: after RETENTION_DAYS (the setting, default two years: the evaluation looks back a
  year, and the year before for comparison).
- Received updates and their ids (de-duplication, webhook mode): after two days (db.updates,
  db.cluster), by the same daily job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Approval, Attendance, Need, NeedEvent, OutboxMessage
from db.sql import rowcount

DELIVERED_TEXT_DAYS = 30
FINISHED = ("sent", "failed", "undeliverable", "cancelled")


@dataclass
class Pruned:
    messages: int = 0
    reasons: int = 0
    needs: int = 0
    replies: int = 0

    @property
    def total(self) -> int:
        return self.messages + self.reasons + self.needs + self.replies


async def prune(session: AsyncSession, now: dt.datetime, retention_days: int) -> Pruned:
    """Erase the texts whose time is up; what was erased, by kind."""
    delivered = now - dt.timedelta(days=DELIVERED_TEXT_DAYS)
    cutoff = now - dt.timedelta(days=retention_days)
    pruned = Pruned()
    pruned.messages = rowcount(
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status.in_(FINISHED),
                func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < delivered,
                OutboxMessage.text != "",
            )
            .values(text="", buttons=None)
        )
    )
    pruned.reasons = rowcount(
        await session.execute(
            update(Attendance)
            .where(Attendance.at < cutoff, Attendance.reason.is_not(None))
            .values(reason=None)
        )
    )
    pruned.reasons += rowcount(
        await session.execute(
            update(Approval)
            .where(Approval.created_at < cutoff, Approval.reason != "")
            .values(reason="")
        )
    )
    pruned.needs = rowcount(
        await session.execute(
            update(Need).where(Need.created_at < cutoff, Need.text != "").values(text="")
        )
    )
    pruned.replies = rowcount(
        await session.execute(
            update(NeedEvent)
            .where(NeedEvent.kind == "reply", NeedEvent.at < cutoff, NeedEvent.text != "")
            .values(text="")
        )
    )
    return pruned
