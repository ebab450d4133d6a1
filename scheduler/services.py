"""The long-lived parts every handler needs, kept in `application.bot_data`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from db import chats as chats_db
from db.approvals import MakeupPolicy
from db.database import Database
from db.models import utcnow
from db.rules import CheckinPolicy
from scheduler.builds import Builds
from scheduler.cards import CardRefresher
from scheduler.cluster import Cluster
from scheduler.engine import ReminderEngine
from scheduler.outbox import OutboxDispatcher
from scheduler.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    cards: CardRefresher
    outbox: OutboxDispatcher
    reminders: ReminderEngine
    # Webhook mode: this instance among the others (None when polling).
    cluster: Cluster | None = None
    # Tests replace the clock; everything that asks "what time is it" asks this.
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    # Reports and ledgers being made (one per person, two at once).
    builds: Builds = field(default_factory=Builds)

    @property
    def policy(self) -> CheckinPolicy:
        return CheckinPolicy(
            opens_before=dt.timedelta(minutes=self.settings.checkin_opens_minutes),
            late_after=dt.timedelta(minutes=self.settings.late_after_minutes),
        )

    @property
    def makeup(self) -> MakeupPolicy:
        return MakeupPolicy(self.settings.makeup_days, self.settings.makeup_per_quarter)

    def now(self) -> dt.datetime:
        return self.clock()

    async def migrate_chat(self, old: int, new: int) -> None:
        """A group became supergroup `new`: move everything to it (from a service message or a
        ChatMigrated answer; both may come, the second finds nothing left to move)."""
        moved = await self.db.retrying(
            f"moving chat {old} to {new}", lambda session: chats_db.migrate(session, old, new)
        )
        if moved is not None:
            log.warning("chat %s was upgraded to supergroup %s: %s", old, new, moved)
            self.outbox.wake()


def get_services(bot_data: dict[Any, Any]) -> Services:
    services = bot_data["services"]
    assert isinstance(services, Services)
    return services
