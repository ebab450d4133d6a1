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

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

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


class FakeTelegram:
    """The server's state plus helpers for tests to act as users and read what the bot did."""

    def __init__(
        self,
        token: str,
        *,
        group_per_minute: int = 20,
        overall_per_second: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.clock = clock
        self.group_per_minute = group_per_minute
        self.overall = Window(overall_per_second, 1.0)
        self.group_windows: defaultdict[int, Window] = defaultdict(
            lambda: Window(self.group_per_minute, 60.0)
        )
        self.users: dict[int, dict[str, Any]] = {
            BOT_ID: {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "青工委助手",
                "username": BOT_USERNAME,
            }
        }
        self.started: set[int] = set()  # users who opened a private chat with the bot
        self.blocked: set[int] = set()
        self.chats: dict[int, Chat] = {}
        self.admins: defaultdict[int, set[int]] = defaultdict(set)
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.files: dict[str, bytes] = {}
        self.calls: list[Call] = []
        self.callbacks: dict[str, Callback] = {}
        self.updates: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # every update ever queued
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self.fail_next: dict[str, list[ApiError]] = defaultdict(list)
        self.fail_chat: dict[tuple[str, Any], list[ApiError]] = {}
        self.faults = Faults()
        self.private_windows: defaultdict[int, Window] = defaultdict(lambda: Window(*PRIVATE_LIMIT))
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Webhook mode (see the module's docstring).
        self.webhook: dict[str, Any] | None = None
        self.webhook_targets: list[str] = []  # http://127.0.0.1:port of each instance
        self.webhook_copies = 1
        self.webhook_connections = 8
        self.webhook_posts: list[tuple[int, str, int]] = []  # update id, target, status
        self._next_target = itertools.count()
        self._deliverers: list[asyncio.Task[None]] = []
        self._client: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ server lifecycle
    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def wake(self) -> None:
        """Release every long poll now (so a stopping bot need not wait for its timeout)."""
        self._new_update.set()

    async def stop(self) -> None:
        self._new_update.set()
        for task in self._deliverers:
            task.cancel()
        await asyncio.gather(*self._deliverers, return_exceptions=True)
        self._deliverers = []
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ webhook delivery
    def _start_delivering(self) -> None:
        if self._deliverers:
            return
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        self._deliverers = [
            asyncio.create_task(self._deliver()) for _ in range(self.webhook_connections)
        ]

    async def _deliver(self) -> None:
        while True:
            if self.webhook is None or not self.updates or not self.webhook_targets:
                self._new_update.clear()
                with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                    async with asyncio.timeout(0.5):
                        await self._new_update.wait()
                continue
            update = self.updates.pop(0)
            delivered = False
            for copy in range(self.webhook_copies):
                status = await self._post_update(update)
                delivered = delivered or status == 200
                if copy == 0 and status != 200:
                    break
            if not delivered:  # Telegram keeps it and tries again a little later
                self.updates.insert(0, update)
                await asyncio.sleep(0.1)

    async def _post_update(self, update: dict[str, Any]) -> int:
        assert self.webhook is not None and self._client is not None
        target = self.webhook_targets[next(self._next_target) % len(self.webhook_targets)]
        url = target + (urlsplit(self.webhook["url"]).path or "/")
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token") or ""}
        try:
            async with self._client.post(url, json=update, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        self.webhook_posts.append((update["update_id"], target, status))
        return status

    async def api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {
            "url": params["url"],
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates") or [],
        }
        self._start_delivering()
        self._new_update.set()
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
            "allowed_updates": self.webhook["allowed_updates"],
        }

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        handler = getattr(self, f"api_{method}", None)
        fail = drop = False
        if self.faults.applies(method):
            self.faults.calls += 1
            if self.faults.latency:
                await asyncio.sleep(self.faults.latency)
            fail = bool(self.faults.every) and self.faults.calls % self.faults.every == 0
            drop = bool(self.faults.drop_every) and self.faults.calls % self.faults.drop_every == 0
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            if fail:
                self.faults.injected += 1
                raise ApiError(self.faults.status, "Bad Gateway")
            if self.fail_next[method]:
                raise self.fail_next[method].pop(0)
            targeted = self.fail_chat.get((method, params.get("chat_id")))
            if targeted:
                raise targeted.pop(0)
            self._enforce_rate(method, params)
            result = await handler(params)
        except ApiError as exc:
            self.calls.append(Call(method, params, False, exc.code, self.clock()))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            if exc.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": exc.migrate_to_chat_id}
            return web.json_response(body, status=exc.code)
        self.calls.append(Call(method, params, True, None, self.clock()))
        if drop:  # processed, but the answer is lost on the way back
            self.faults.dropped += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never written: the connection is gone
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        else:
            raw = {}
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = {"filename": value.filename, "content": value.file.read()}
                else:
                    raw[key] = value
        params: dict[str, Any] = {}
        for key, value in raw.items():
            parsed: Any = value
            if isinstance(value, str) and key in JSON_FIELDS:
                parsed = json.loads(value)
            elif isinstance(value, str) and key in INTEGER_FIELDS:
                parsed = int(value) if value.lstrip("-").isdigit() else value
            params[key] = parsed
        return params

    def _enforce_rate(self, method: str, params: dict[str, Any]) -> None:
        if method not in LIMITED:
            return
        now = self.clock()
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            windows = self.group_windows if chat_id < 0 else self.private_windows
            if chat_id < 0 or not method.startswith("edit"):
                wait = windows[chat_id].hit(now)
                if wait is not None:
                    raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        wait = self.overall.hit(now)
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    # ------------------------------------------------------------------ world set-up
    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        language_code: str | None = None,
        groups: Iterable[int] = (),
    ) -> TgUser:
        """A Telegram user, in `groups` (quietly: as if they had been there all along)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:  # the language of the person's Telegram app
            user["language_code"] = language_code
        self.users[user_id] = user
        for chat_id in groups:
            self.chats[chat_id].members.add(user_id)
        return TgUser(self, user_id)

    def add_group(
        self,
        chat_id: int,
        title: str = "青工委群",
        *,
        bot_admin: bool = True,
        can_pin: bool = True,
        kind: str = "supergroup",
    ) -> Chat:
        assert chat_id < 0 and kind in ("group", "supergroup")
        chat = Chat(chat_id, kind, title)
        chat.bot_status = "administrator" if bot_admin else "member"
        chat.bot_can_pin = can_pin and bot_admin
        self.chats[chat_id] = chat
        return chat

    def service_message(self, chat_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
        """A service message (an upgrade, a pin …) from `user_id` in `chat_id`."""
        chat = self.chats[chat_id]
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[user_id],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            **fields,
        }
        chat.messages[message["message_id"]] = message
        self.push_update({"message": message})
        return message

    def join(self, chat_id: int, user_id: int) -> None:
        """The person joins the group: Telegram's `chat_member` update (to administrators) and
        the group's "joined" service message."""
        self._membership(chat_id, user_id, joined=True)

    def leave(self, chat_id: int, user_id: int, *, by: int | None = None) -> None:
        """The person leaves the group (or `by` removes them): a `chat_member` update and the
        group's "left" service message."""
        self._membership(chat_id, user_id, joined=False, by=by)

    def _membership(
        self, chat_id: int, user_id: int, *, joined: bool, by: int | None = None
    ) -> None:
        chat = self.chats[chat_id]
        before = self._member_json(chat, user_id)
        (chat.members.add if joined else chat.members.discard)(user_id)
        after = self._member_json(chat, user_id)
        if by is not None and not joined:
            after = {"status": "kicked", "user": self.users[user_id], "until_date": 0}
        actor = self.users[by if by is not None else user_id]
        if chat.bot_status == "administrator":
            self.push_update(
                {
                    "chat_member": {
                        "chat": chat.as_json(self.users),
                        "from": actor,
                        "date": int(time.time()),
                        "old_chat_member": before,
                        "new_chat_member": after,
                    }
                }
            )
        field_name = "new_chat_members" if joined else "left_chat_member"
        value: Any = [self.users[user_id]] if joined else self.users[user_id]
        self.service_message(chat_id, by if by is not None else user_id, **{field_name: value})

    def upgrade(self, old_id: int, new_id: int, by: int, *, announce: bool = True) -> Chat:
        """A basic group becomes a supergroup with a new id (Telegram's migration).

        The old id answers every call with `migrate_to_chat_id`; with `announce`, both chats
        get the service messages Telegram sends (`migrate_to_chat_id`, `migrate_from_chat_id`).
        """
        old = self.chats[old_id]
        assert old.type == "group"
        new = Chat(new_id, "supergroup", old.title, old.bot_status, old.bot_can_pin)
        new.members = set(old.members)
        self.chats[new_id] = new
        self.admins[new_id] = set(self.admins[old_id])
        if announce:
            self.service_message(old_id, by, migrate_to_chat_id=new_id)
        old.migrated_to = new_id
        if announce:
            self.service_message(new_id, by, migrate_from_chat_id=old_id)
        return new

    def set_bot_status(
        self, chat_id: int, status: str, by: int, *, can_pin: bool = True
    ) -> dict[str, Any]:
        """An admin changes the bot's membership: removes (left/kicked), demotes, promotes or
        adds it back; Telegram tells the bot with a `my_chat_member` update."""
        chat = self.chats[chat_id]
        old_member = self._member_json(chat, BOT_ID)
        chat.bot_status = status
        chat.bot_can_pin = can_pin and status == "administrator"
        change = {
            "chat": chat.as_json(self.users),
            "from": self.users[by],
            "date": int(time.time()),
            "old_chat_member": old_member,
            "new_chat_member": self._member_json(chat, BOT_ID),
        }
        self.push_update({"my_chat_member": change})
        return change

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The person blocks the bot (or unblocks it): a `my_chat_member` in their chat."""
        chat = self.private_chat(user_id)
        bot = self.users[BOT_ID]
        member = {"status": "member", "user": bot}
        kicked = {"status": "kicked", "user": bot, "until_date": 0}
        (self.blocked.add if blocked else self.blocked.discard)(user_id)
        self.push_update(
            {
                "my_chat_member": {
                    "chat": chat.as_json(self.users),
                    "from": self.users[user_id],
                    "date": int(time.time()),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                }
            }
        )

    def private_chat(self, user_id: int) -> Chat:
        if user_id not in self.chats:
            self.chats[user_id] = Chat(user_id, "private")
        return self.chats[user_id]

    def push_update(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self.delivered.append(update)
        self._new_update.set()

    def add_topic(self, chat_id: int, name: str, by: int) -> int:
        """Make the group a forum (if it is not yet) and open a topic; its message_thread_id."""
        chat = self.chats[chat_id]
        assert chat.type == "supergroup"
        chat.forum = True
        thread_id = next(chat.next_message_id)
        chat.topics[thread_id] = name
        chat.messages[thread_id] = {
            "message_id": thread_id,
            "from": self.users[by],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": 7322096},
        }
        return thread_id

    def user_message(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        chat = self.chats[chat_id] if chat_id < 0 else self.private_chat(user_id)
        if chat.type == "private":
            self.started.add(user_id)
            self.blocked.discard(user_id)
        else:
            chat.members.add(user_id)  # only people in a group can write in it
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[user_id],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is None and thread_id is not None and thread_id in chat.messages:
            reply_to = chat.messages[thread_id]  # as Telegram: the topic's creation message
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        chat.place(message, thread_id)
        chat.messages[message["message_id"]] = message
        self.push_update({"message": message})
        return message

    def user_photo(self, user_id: int, chat_id: int, caption: str) -> dict[str, Any]:
        """A user sends a photo with a caption (the file becomes known to the server)."""
        chat = self.chats[chat_id] if chat_id < 0 else self.private_chat(user_id)
        file_id = f"userfile{len(self.files) + 1}"
        self.files[file_id] = b"\x89PNG fake image"
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[user_id],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            "caption": caption,
            "photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 640, "height": 480}],
        }
        chat.messages[message["message_id"]] = message
        self.push_update({"message": message})
        return message

    def user_document(
        self,
        user_id: int,
        chat_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a file, optionally with a caption (e.g. "/import")."""
        chat = self.chats[chat_id] if chat_id < 0 else self.private_chat(user_id)
        file_id = f"userdoc{len(self.files) + 1}"
        self.files[file_id] = content
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[user_id],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": file_name,
                "file_size": len(content),
            },
        }
        if caption is not None:
            message["caption"] = caption
            if caption.startswith("/"):
                length = len(caption.split()[0])
                message["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": length}
                ]
        chat.messages[message["message_id"]] = message
        self.push_update({"message": message})
        return message

    def sent_file(self, message: dict[str, Any]) -> bytes:
        """The bytes of a document or photo the bot sent."""
        media = message.get("document") or (message.get("photo") or [{}])[-1]
        return self.files[media["file_id"]]

    def fail_for(self, method: str, chat_id: int, *errors: ApiError) -> None:
        """Make the next calls of `method` into `chat_id` fail with `errors`, in order."""
        self.fail_chat.setdefault((method, chat_id), []).extend(errors)

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queue an update again with its original id (what Telegram does after a crash)."""
        self.updates.append(update)
        self.updates.sort(key=lambda u: u["update_id"])
        self._new_update.set()

    def press(self, user_id: int, message: dict[str, Any], data: str) -> Callback:
        callback = Callback(
            id=str(next(self._callback_ids)),
            user_id=user_id,
            data=data,
            pressed_at=self.clock(),
            answered=asyncio.get_running_loop().create_future(),
        )
        self.callbacks[callback.id] = callback
        self.push_update(
            {
                "callback_query": {
                    "id": callback.id,
                    "from": self.users[user_id],
                    "message": message,
                    "chat_instance": str(message["chat"]["id"]),
                    "data": data,
                }
            }
        )
        return callback

    # ------------------------------------------------------------------ reading
    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [
            m for m in chat.messages.values() if m["from"]["id"] == BOT_ID and not m.get("deleted")
        ]

    def reactions(self, message: dict[str, Any]) -> list[str]:
        """The bot's reactions on a message as it is now."""
        stored = self.chats[message["chat"]["id"]].messages[message["message_id"]]
        return list(stored.get("reactions", []))

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.bot_messages(chat_id)]

    def count_calls(self, method: str, **match: Any) -> int:
        return sum(
            1
            for c in self.calls
            if c.method == method and c.ok and all(c.params.get(k) == v for k, v in match.items())
        )

    def errors(self, code: int) -> list[Call]:
        return [c for c in self.calls if c.error_code == code]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        """Poll until `predicate()` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ Bot API methods
    def _chat(self, chat_id: Any) -> Chat:
        if isinstance(chat_id, int) and chat_id in self.started and chat_id not in self.chats:
            self.private_chat(chat_id)
        if isinstance(chat_id, int) and chat_id in self.chats:
            chat = self.chats[chat_id]
            if chat.type == "private":
                if chat_id in self.blocked:
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                if chat_id not in self.started:
                    raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            if chat.migrated_to is not None:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=chat.migrated_to,
                )
            if chat.bot_status in ("left", "kicked"):
                kind = "supergroup" if chat.type == "supergroup" else "group"
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            return chat
        if isinstance(chat_id, int) and chat_id in self.users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise ApiError(400, "Bad Request: chat not found")

    def _message(self, params: dict[str, Any]) -> tuple[Chat, dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        message = chat.messages.get(params.get("message_id", -1))
        if message is None or message.get("deleted"):
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    @staticmethod
    def _check_text(text: Any, limit: int = 4096, what: str = "message") -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, f"Bad Request: {what} text is empty")
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return text

    def _post(self, chat: Chat, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        self._check_markup(params.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[BOT_ID],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters") or {}
        if reply.get("message_id") in chat.messages:
            message["reply_to_message"] = chat.messages[reply["message_id"]]
        chat.place(message, params.get("message_thread_id"))
        chat.messages[message["message_id"]] = message
        return message

    async def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.users[BOT_ID],
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self.updates[:limit]

    async def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        text = self._check_text(params.get("text"))
        return self._post(chat, params, text=text)

    async def api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._message(params)
        text = self._check_text(params.get("text"))
        self._check_markup(params.get("reply_markup"))
        markup = params.get("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    async def api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._message(params)
        caption = self._check_text(params.get("caption"), 1024, "caption")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if caption == message.get("caption") and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        message["caption"] = caption
        if markup is not None:
            message["reply_markup"] = markup
        return message

    async def api_editMessageMedia(self, params: dict[str, Any]) -> dict[str, Any]:
        """Replace a message's photo or document (a new upload or a known file_id); the
        caption becomes the new media's. The replaced file ids are kept in `replaced`."""
        _chat, message = self._message(params)
        raw = params.get("media")
        item = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
            raise ApiError(400, "Bad Request: can't parse InputMedia: media type is not specified")
        reference = item.get("media")
        if isinstance(reference, str) and reference.startswith("attach://"):
            upload = params.get(reference.removeprefix("attach://"))
            if not isinstance(upload, dict):
                raise ApiError(400, "Bad Request: can't parse InputMedia: media not found")
            content = upload["content"]
        elif isinstance(reference, str) and reference in self.files:
            content = self.files[reference]
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = item.get("caption")
        if caption is not None:
            self._check_text(caption, 1024, "caption")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        old = message.get("document") or (message.get("photo") or [{}])[-1]
        if old.get("file_id"):
            message.setdefault("replaced", []).append(old["file_id"])
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = content
        message.pop("photo", None)
        message.pop("document", None)
        if item["type"] == "photo":
            message["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 800,
                    "height": 600,
                    "file_size": len(content),
                }
            ]
        else:
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": "file.bin",
                "file_size": len(content),
            }
        if caption:
            message["caption"] = caption
        else:
            message.pop("caption", None)
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return message

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._message(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def api_deleteMessage(self, params: dict[str, Any]) -> bool:
        _chat, message = self._message(params)
        message["deleted"] = True
        return True

    async def api_pinChatMessage(self, params: dict[str, Any]) -> bool:
        chat, message = self._message(params)
        if chat.type != "private" and not chat.bot_can_pin:
            raise ApiError(
                400, "Bad Request: not enough rights to manage pinned messages in the chat"
            )
        message["pinned"] = True
        return True

    async def api_setMessageReaction(self, params: dict[str, Any]) -> bool:
        _chat, message = self._message(params)
        reaction = params.get("reaction")
        if isinstance(reaction, str):
            reaction = json.loads(reaction)
        for item in reaction or []:
            if item.get("type") != "emoji" or item.get("emoji") not in REACTIONS:
                raise ApiError(400, "Bad Request: REACTION_INVALID")
        message["reactions"] = [item["emoji"] for item in reaction or []]
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        callback = self.callbacks.get(str(params.get("callback_query_id")))
        if callback is None or callback.answered.done():
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        callback.answered_at = self.clock()
        callback.answered.set_result(
            {
                "text": text,
                "show_alert": params.get("show_alert") in (True, "true", "True"),
                "url": params.get("url"),
            }
        )
        return True

    def _member_json(self, chat: Chat, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        if user_id == BOT_ID:
            if chat.bot_status == "left":
                return {"status": "left", "user": user}
            if chat.bot_status == "kicked":
                return {"status": "kicked", "user": user, "until_date": 0}
            if chat.bot_status == "administrator":
                return {
                    "status": "administrator",
                    "user": user,
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": False,
                    "can_restrict_members": False,
                    "can_promote_members": False,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": chat.bot_can_pin,
                }
            return {"status": "member", "user": user}
        if user_id in self.admins[chat.id]:
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": True,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        if chat.type != "private" and user_id not in chat.members:
            return {"status": "left", "user": user}
        return {"status": "member", "user": user}

    async def api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        return self._member_json(chat, int(params["user_id"]))

    async def api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        ids = sorted(self.admins[chat.id]) + (
            [BOT_ID] if chat.bot_status == "administrator" else []
        )
        return [self._member_json(chat, i) for i in ids]

    def _scope_key(self, params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat":
            chat_id = scope.get("chat_id")
            if chat_id not in self.chats or (chat_id > 0 and chat_id not in self.started):
                raise ApiError(400, "Bad Request: chat not found")
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return json.dumps([scope, language], sort_keys=True)

    def menu(self, scope: dict[str, Any] | None = None, language: str = "") -> list[str]:
        """The command menu registered for `scope` (default) and `language` ("" = all)."""
        key = json.dumps([scope or {"type": "default"}, language], sort_keys=True)
        return [f"{c['command']} {c['description']}" for c in self.commands.get(key, [])]

    async def api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[self._scope_key(params)] = commands
        return True

    async def api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(self._scope_key(params), [])

    async def _send_file(self, params: dict[str, Any], field_name: str) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        upload = params.get(field_name)
        if isinstance(upload, str):  # re-sending a file Telegram already has, by file_id
            if upload not in self.files:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            upload = {"filename": f"{upload}.bin", "content": self.files[upload]}
        if not isinstance(upload, dict):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, 1024, "caption")
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = upload["content"]
        content: dict[str, Any] = {"caption": caption} if caption else {}
        if field_name == "document":
            content["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": upload["filename"],
                "file_size": len(upload["content"]),
            }
        else:
            content["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": 800,
                    "height": 600,
                    "file_size": len(upload["content"]),
                }
            ]
        return self._post(chat, params, **content)

    async def api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def api_sendMediaGroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        media = params.get("media")
        items = json.loads(media) if isinstance(media, str) else media
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise ApiError(400, "Bad Request: MEDIA_GROUP_INVALID (2 to 10 items)")
        sent = []
        for item in items:
            file_id = item.get("media")
            if file_id not in self.files:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600}]
            sent.append(self._post(chat, params, photo=photo))
        return sent

    async def api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(params, "photo")


class TgUser:
    """Acts as one Telegram user against the fake server."""

    def __init__(self, server: FakeTelegram, user_id: int) -> None:
        self.server, self.id = server, user_id

    @property
    def private_chat_id(self) -> int:
        return self.id

    def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        return self.server.user_message(
            self.id, chat_id, text, reply_to=reply_to, thread_id=thread_id
        )

    def say(self, text: str) -> dict[str, Any]:
        """Send `text` in the private chat with the bot (this also starts the bot)."""
        return self.send(self.id, text)

    def press(self, message: dict[str, Any], label: str) -> Callback:
        """Press the inline button of `message` whose text contains `label`."""
        message = self.server.chats[message["chat"]["id"]].messages[message["message_id"]]
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"] and "callback_data" in button:
                    return self.server.press(self.id, message, button["callback_data"])
        raise AssertionError(f"no button containing {label!r} on message {message.get('text')!r}")

    def press_data(self, message: dict[str, Any], data: str) -> Callback:
        """Send arbitrary (possibly forged) callback data for `message`."""
        return self.server.press(self.id, message, data)

    async def toast(self, callback: Callback, timeout: float = 10.0) -> dict[str, Any]:
        return await asyncio.wait_for(callback.answered, timeout)

    async def reply_in(self, chat_id: int, since: int, timeout: float = 10.0) -> str:
        """Wait for the bot's next message in `chat_id` after `since` bot messages; its text."""
        messages = await self.server.wait_for(
            lambda: self.server.texts(chat_id)[since:], timeout, f"a bot message in {chat_id}"
        )
        return str(messages[0])

    async def ask(self, chat_id: int, text: str, timeout: float = 10.0) -> str:
        """Send `text` in `chat_id` and return the bot's next message there."""
        since = len(self.server.texts(chat_id))
        self.send(chat_id, text)
        return await self.reply_in(chat_id, since, timeout)

    async def ask_anywhere(self, chat_id: int, text: str, timeout: float = 10.0) -> str:
        """Send `text` in group `chat_id`; the bot's next message there or in this person's
        private chat (a member's command in a group is answered privately when it may be)."""
        since = len(self.server.texts(chat_id)), len(self.server.texts(self.id))
        self.send(chat_id, text)
        messages = await self.server.wait_for(
            lambda: self.server.texts(chat_id)[since[0] :] + self.server.texts(self.id)[since[1] :],
            timeout,
            f"an answer in {chat_id} or privately",
        )
        return str(messages[0])

    async def ask_in_topic(
        self, chat_id: int, thread_id: int, text: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send `text` in a forum topic; the bot's next message in that chat (whole)."""
        since = len(self.server.bot_messages(chat_id))
        self.send(chat_id, text, thread_id=thread_id)
        messages = await self.server.wait_for(
            lambda: self.server.bot_messages(chat_id)[since:], timeout, f"a reply in {chat_id}"
        )
        first: dict[str, Any] = messages[0]
        return first

    async def ask_private(self, text: str, timeout: float = 10.0) -> str:
        return await self.ask(self.id, text, timeout)
