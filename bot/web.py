"""The bot's own HTTP server: Telegram's webhook, /healthz, /metrics and the dashboard (/app/).

python-telegram-bot's webhook server answers 200 before an update is processed and drops its
queue on shutdown; this one answers 200 only once the update is stored in the database, so a
restart or `kill -9` loses nothing Telegram considers delivered (see scheduler.cluster).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from telegram import Update
from telegram.ext import Application

from db import cluster as cluster_db
from db import outbox as outbox_db
from db.errors import unavailable
from handlers.dashboard import Dashboard
from scheduler import metrics
from scheduler.services import Services

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # Telegram's updates are a few KB; anything larger is not one
HEALTH_TIMEOUT = 3.0


class WebServer:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        services: Services,
        listen: tuple[str, int],
        *,
        webhook_path: str | None,
        secret: str | None,
        is_leader: Callable[[], bool],
        dashboard: Dashboard | None = None,
        metrics: bool = True,
    ) -> None:
        self._application = application
        self._services = services
        self._listen = listen
        self._secret = (secret or "").encode()
        self._is_leader = is_leader
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        self._serves = ["/healthz"]
        if webhook_path is not None:
            app.router.add_post(webhook_path, self._webhook)
            self._serves.insert(0, "the webhook")
        app.router.add_get("/healthz", self._health)
        if metrics:  # not beside the dashboard in polling mode: that listener is proxied
            app.router.add_get("/metrics", self._metrics)
            self._serves.append("/metrics")
        if dashboard is not None:
            dashboard.add_routes(app)
            self._serves.append("the dashboard (/app/)")
        self._app = app

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self._app, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, *self._listen)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._listen[1]
        log.info("serving %s on %s:%s", ", ".join(self._serves), self._listen[0], self.port)

    async def stop(self) -> None:
        """Stop taking requests (those being stored finish first)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ the webhook
    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json(loads=json.loads)
            update_id = data["update_id"]
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise TypeError("update_id")
            update = Update.de_json(data, self._application.bot)
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large")
        except Exception:
            return web.Response(status=400, text="not an update")
        services = self._services
        assert services.cluster is not None
        payload = json.dumps(data, ensure_ascii=False)
        try:
            async with services.db.session() as session:
                stored = await cluster_db.store_update(
                    session, update_id, payload, services.cluster.number, services.now()
                )
                await session.commit()
        except Exception as exc:
            if not unavailable(exc):
                raise
            # Not stored, not acknowledged: Telegram sends it again later.
            log.warning("update %s not stored (%s); answered 503", update_id, exc)
            return web.Response(status=503, text="database unavailable")
        if stored:
            await self._application.update_queue.put(update)
        else:
            metrics.UPDATES.labels(metrics.update_type(update), "redelivered").inc()
        return web.Response(text="ok")

    # ------------------------------------------------------------------ health and metrics
    async def _database_ok(self) -> bool:
        async def ping() -> None:
            async with self._services.db.engine.connect() as connection:
                await connection.scalar(text("SELECT 1"))

        try:
            await asyncio.wait_for(ping(), HEALTH_TIMEOUT)
            return True
        except Exception as exc:
            if not (unavailable(exc) or isinstance(exc, TimeoutError | OSError)):
                raise
            return False

    async def _health(self, _request: web.Request) -> web.Response:
        role = "leader" if self._is_leader() else "standby"
        if not await self._database_ok():
            return web.json_response({"database": "unavailable", "role": role}, status=503)
        return web.json_response({"database": "ok", "role": role})

    async def _metrics(self, _request: web.Request) -> web.Response:
        metrics.IS_LEADER.set(1 if self._is_leader() else 0)
        cluster = self._services.cluster
        metrics.INSTANCES.set(cluster.instances if cluster is not None else 1)
        try:
            await self._read_backlogs()
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        body: Any = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _read_backlogs(self) -> None:
        services = self._services
        async with services.db.read_session() as session:
            holding = services.outbox.quiet_until() is not None
            stats = await outbox_db.stats(session, services.now(), holding=holding)
            metrics.OUTBOX_PENDING.set(stats.by_status.get("pending", 0))
            oldest = stats.oldest_pending
            age = (services.now() - oldest).total_seconds() if oldest is not None else 0.0
            metrics.OUTBOX_OLDEST.set(max(age, 0.0))
            if services.cluster is not None:
                pending, _oldest = await cluster_db.pending_updates(session)
                metrics.UPDATES_PENDING.set(pending)
