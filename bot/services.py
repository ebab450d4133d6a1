"""The long-lived parts every handler needs, kept in `application.bot_data`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.cards import CardRefresher
from bot.settings import Settings
from db.engine import Database
from db.models import utcnow
from db.rules import CheckinPolicy
from scheduler.engine import ReminderEngine
from scheduler.outbox import OutboxDispatcher


@dataclass
class Services:
    settings: Settings
    db: Database
    cards: CardRefresher
    outbox: OutboxDispatcher
    reminders: ReminderEngine
    # Tests replace the clock; everything that asks "what time is it" asks this.
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    @property
    def policy(self) -> CheckinPolicy:
        return CheckinPolicy(
            opens_before=dt.timedelta(minutes=self.settings.checkin_opens_minutes),
            late_after=dt.timedelta(minutes=self.settings.late_after_minutes),
        )

    def now(self) -> dt.datetime:
        return self.clock()


def get_services(bot_data: dict[Any, Any]) -> Services:
    services = bot_data["services"]
    assert isinstance(services, Services)
    return services
