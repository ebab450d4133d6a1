"""What the local Bot API server keeps: users, chats and their messages, calls, callbacks,
updates."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_ID = 7000000001
BOT_USERNAME = "qgw_test_bot"
LIMITED = {
    "sendMessage",
    "sendDocument",
    "sendPhoto",
    "sendMediaGroup",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "editMessageMedia",
}
INTEGER_FIELDS = ("chat_id", "message_id", "user_id", "offset", "message_thread_id")
JSON_FIELDS = {
    "menu_button",
    "reaction",
    "reply_markup",
    "reply_parameters",
    "scope",
    "commands",
    "allowed_updates",
    "entities",
}


REACTIONS = {"👍", "👎", "❤", "🔥", "👏", "🎉", "🙏", "👌", "💯", "🤝", "✍", "🫡"}
PRIVATE_LIMIT = (4, 3.0)  # at most 4 messages in any 3 s into one private chat


@dataclass
class Faults:
    """Misbehave like a struggling Bot API: every `every`-th call fails with `status` before
    it is processed, every `drop_every`-th call is processed and then its connection dropped
    (the answer never arrives), and every call is delayed by `latency` seconds."""

    every: int = 0
    status: int = 502
    drop_every: int = 0
    latency: float = 0.0
    methods: frozenset[str] | None = None  # None: every method, getUpdates included
    calls: int = 0
    injected: int = 0
    dropped: int = 0

    def applies(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    at: float


@dataclass
class Callback:
    id: str
    user_id: int
    data: str
    pressed_at: float
    answered: asyncio.Future[dict[str, Any]]
    answered_at: float | None = None


@dataclass
class Chat:
    id: int
    type: str
    title: str = ""
    bot_status: str = "administrator"  # administrator | member | left | kicked
    bot_can_pin: bool = True
    migrated_to: int | None = None  # a basic group upgraded to this supergroup
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # A supergroup with topics: thread id (the id of its creation message) → name.
    forum: bool = False
    topics: dict[int, str] = field(default_factory=dict)
    # The people in the group (getChatMember answers "left" for anyone else).
    members: set[int] = field(default_factory=set)

    def as_json(self, users: dict[int, dict[str, Any]]) -> dict[str, Any]:
        if self.type == "private":
            user = users[self.id]
            return {"id": self.id, "type": "private", "first_name": user["first_name"]}
        shown: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.forum:
            shown["is_forum"] = True
        return shown

    def place(self, message: dict[str, Any], thread_id: Any) -> None:
        """Put `message` in topic `thread_id` (None: the General topic), as Telegram shapes it."""
        if thread_id is None:
            return
        if not self.forum or thread_id not in self.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True


class Window:
    """The server's own sliding-window counter (what Telegram enforces)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()

    def hit(self, now: float) -> int | None:
        """Count a request; None if allowed, else the seconds to retry after."""
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return max(1, int(self.times[0] + self.period - now + 0.999))
        self.times.append(now)
        return None


class ServerState:
    """The server's state, declared once for the parts of the server (see server.FakeTelegram,
    which sets it up)."""

    token: str
    clock: Callable[[], float]
    group_per_minute: int
    overall: Window
    group_windows: defaultdict[int, Window]
    private_windows: defaultdict[int, Window]
    users: dict[int, dict[str, Any]]
    started: set[int]  # users who opened a private chat with the bot
    blocked: set[int]
    chats: dict[int, Chat]
    admins: defaultdict[int, set[int]]
    commands: dict[str, list[dict[str, str]]]
    menu_buttons: dict[int, dict[str, Any]]  # chat id (0: the default) → its menu button
    files: dict[str, bytes]
    calls: list[Call]
    callbacks: dict[str, Callback]
    updates: list[dict[str, Any]]
    delivered: list[dict[str, Any]]  # every update ever queued
    fail_next: dict[str, list[ApiError]]
    fail_chat: dict[tuple[str, Any], list[ApiError]]
    faults: Faults
    url: str
    webhook: dict[str, Any] | None
    webhook_targets: list[str]
    webhook_copies: int
    webhook_connections: int
    webhook_posts: list[tuple[int, str, int]]
    _update_ids: itertools.count[int]
    _callback_ids: itertools.count[int]
    _new_update: asyncio.Event
