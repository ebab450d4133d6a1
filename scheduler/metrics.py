"""Prometheus metrics (served on /metrics): what an operator watches across instances."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPDATES = Counter("qgw_updates_total", "Updates handled, by type and outcome", ["type", "outcome"])
HANDLER_SECONDS = Histogram(
    "qgw_handler_seconds",
    "Time from an update's arrival to its answer",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_CALLS = Counter(
    "qgw_bot_api_calls_total", "Bot API calls, by method and status", ["method", "status"]
)
RATE_LIMITED = Counter("qgw_bot_api_429_total", "429 answers from Telegram")
PAUSED_SECONDS = Counter("qgw_bot_api_paused_seconds_total", "Seconds paused after 429s")
OUTBOX_PENDING = Gauge("qgw_outbox_pending", "Outbox messages waiting to be sent")
OUTBOX_OLDEST = Gauge("qgw_outbox_oldest_seconds", "Age of the oldest waiting outbox message")
UPDATES_PENDING = Gauge("qgw_webhook_updates_pending", "Stored updates not processed yet")
REMINDERS = Counter("qgw_reminders_total", "Reminder occurrences, by outcome", ["outcome"])
IS_LEADER = Gauge("qgw_is_leader", "1 while this instance runs the scheduler and the outbox")
INSTANCES = Gauge("qgw_instances", "Instances alive, as this one sees them")


def update_type(update: object) -> str:
    """The kind of an update, for labels: message, callback_query, my_chat_member…"""
    for kind in ("callback_query", "message", "my_chat_member", "edited_message"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"
