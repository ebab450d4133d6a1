"""The world a test builds on the server (people, groups, topics, memberships), what people do
(write, press, join, leave, block), and what the bot did (messages, calls, reactions)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from tests.tgserver.model import BOT_ID, ApiError, Call, Callback, Chat, ServerState


class World(ServerState):
    """The world of a test: people, groups, topics; what people do; what the bot did."""

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

    def user_photo(self, user_id: int, chat_id: int, caption: str | None) -> dict[str, Any]:
        """A user sends a photo, with a caption or without (None); the file becomes known to
        the server."""
        chat = self.chats[chat_id] if chat_id < 0 else self.private_chat(user_id)
        file_id = f"userfile{len(self.files) + 1}"
        self.files[file_id] = b"\x89PNG fake image"
        message: dict[str, Any] = {
            "message_id": next(chat.next_message_id),
            "from": self.users[user_id],
            "chat": chat.as_json(self.users),
            "date": int(time.time()),
            "photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 640, "height": 480}],
        }
        if caption is not None:
            message["caption"] = caption
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

    async def message_in(
        self,
        chat_id: int,
        matches: Callable[[dict[str, Any]], Any],
        timeout: float = 10.0,
        what: str = "a message",
        since: int = 0,
    ) -> dict[str, Any]:
        """The first of the bot's messages in `chat_id` (from the `since`-th on) that `matches`,
        waiting for it to be sent."""

        def found() -> dict[str, Any] | None:
            return next((m for m in self.bot_messages(chat_id)[since:] if matches(m)), None)

        message: dict[str, Any] = await self.wait_for(found, timeout, what)
        return message

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
                return _administrator(user, everything=False, can_pin=chat.bot_can_pin)
            return {"status": "member", "user": user}
        if user_id in self.admins[chat.id]:
            return _administrator(user, everything=True, can_pin=True)
        if chat.type != "private" and user_id not in chat.members:
            return {"status": "left", "user": user}
        return {"status": "member", "user": user}

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


class TgUser:
    """Acts as one Telegram user against the fake server."""

    def __init__(self, server: World, user_id: int) -> None:
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


def _administrator(user: dict[str, Any], everything: bool, can_pin: bool) -> dict[str, Any]:
    """A ChatMemberAdministrator: the bot holds only the rights it asked for, people all."""
    return {
        "status": "administrator",
        "user": user,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": everything,
        "can_restrict_members": everything,
        "can_promote_members": everything,
        "can_change_info": everything,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
        "can_pin_messages": can_pin,
    }
