"""The server itself: HTTP (long polling, files), webhook delivery like a load balancer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.tgserver.api import Api
from tests.tgserver.limits import Limits
from tests.tgserver.model import (
    BOT_ID,
    BOT_USERNAME,
    INTEGER_FIELDS,
    JSON_FIELDS,
    PRIVATE_LIMIT,
    ApiError,
    Call,
    Callback,
    Chat,
    Faults,
    Window,
)


class FakeTelegram(Api, Limits):
    """The server: its state, its HTTP endpoint, long polling and webhook delivery, plus helpers
    for tests to act as users and read what the bot did (tests.tgserver.world)."""

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
        self.menu_buttons: dict[int, dict[str, Any]] = {}
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
        self.requested: list[tuple[str, float]] = []  # (method, when it arrived): every call

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

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.requested.append((method, self.clock()))
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
