"""A local Bot API server for tests and benchmarks: real HTTP, real-shaped results, real limits.

It keeps users, chats, messages with their inline keyboards and an update queue served by
`getUpdates` long polling; it enforces Telegram's limits (20 messages+edits per minute per group,
about one message a second into a private chat after a short burst, ~30 messages per second
overall, 4096-character messages, 64-byte callback data, 200-character toasts, one answer per
callback, reactions from the standard set) with real-shaped 429s, and records every call.
`faults` makes it fail like a struggling Bot API: 502s, lost answers, latency.

Webhook mode: once the bot calls `setWebhook`, updates are POSTed instead of polled, with the
secret header, by several connections at once, round-robin over `webhook_targets` like a load
balancer in front of several instances; an answer other than 200 sends the update again (to
the next target), as Telegram does. `webhook_copies = 2` delivers every update twice.
"""

from tests.tgserver.model import (
    BOT_ID,
    BOT_USERNAME,
    LIMITED,
    PRIVATE_LIMIT,
    REACTIONS,
    ApiError,
    Call,
    Callback,
    Chat,
    Faults,
    Window,
)
from tests.tgserver.server import FakeTelegram
from tests.tgserver.world import TgUser

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "LIMITED",
    "PRIVATE_LIMIT",
    "REACTIONS",
    "ApiError",
    "Call",
    "Callback",
    "Chat",
    "FakeTelegram",
    "Faults",
    "TgUser",
    "Window",
]
