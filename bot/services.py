"""The long-lived parts every handler needs, kept in `application.bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.settings import Settings
from db.engine import Database


@dataclass
class Services:
    settings: Settings
    db: Database


def get_services(bot_data: dict[Any, Any]) -> Services:
    services = bot_data["services"]
    assert isinstance(services, Services)
    return services
