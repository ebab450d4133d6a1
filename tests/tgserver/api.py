"""The Bot API methods, as Telegram answers them (`api_<method>`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from aiohttp import web

from tests.tgserver.model import BOT_ID, REACTIONS, ApiError
from tests.tgserver.world import World


class Api(World):
    """The Bot API methods the bot calls, with real-shaped answers and errors."""

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

    async def api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        return self._member_json(chat, int(params["user_id"]))

    async def api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        ids = sorted(self.admins[chat.id]) + (
            [BOT_ID] if chat.bot_status == "administrator" else []
        )
        return [self._member_json(chat, i) for i in ids]

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

    async def api_setChatMenuButton(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if button.get("type") == "web_app":
            url = (button.get("web_app") or {}).get("url", "")
            if not url.startswith("https://") or not 1 <= len(button.get("text", "")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        chat_id = params.get("chat_id")
        self.menu_buttons[int(chat_id) if chat_id is not None else 0] = button
        return True

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
