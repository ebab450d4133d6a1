"""Telegram's rate limits, as the server enforces them."""

from __future__ import annotations

from typing import Any

from tests.tgserver.model import LIMITED, ApiError, ServerState


class Limits(ServerState):
    """Telegram's limits: 20 messages+edits a minute into a group, a few a second into a private
    chat, ~30 a second overall; a real-shaped 429 beyond."""

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
