"""One throttle for every Bot API call: Telegram's limits, and 429 retry_after honoured.

Telegram allows about 20 messages (edits included) per minute into one group and about 30
per second overall; answerCallbackQuery is not limited, so toasts pass straight through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Methods that put a message into a chat or change one; Telegram counts these.
LIMITED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class SlidingWindow:
    """At most `limit` acquisitions in any `period` seconds; waiters are served in order."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit, self.period, self._clock = limit, period, clock
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.blocked_until = 0.0

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._times and self._times[0] <= now - self.period:
                    self._times.popleft()
                wait = self.blocked_until - now
                if len(self._times) >= self.limit:
                    wait = max(wait, self._times[0] + self.period - now)
                if wait <= 0:
                    self._times.append(now)
                    return
                await asyncio.sleep(wait)

    def block(self, seconds: float) -> None:
        """Telegram said 429: send nothing here for `seconds`."""
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)

    def idle(self) -> bool:
        now = self._clock()
        return not self._lock.locked() and (not self._times or self._times[-1] <= now - self.period)


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Per-group and overall sliding windows; on 429 waits `retry_after` and tries again."""

    def __init__(
        self,
        *,
        overall_per_second: int = 25,
        group_per_minute: int = 20,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._overall = SlidingWindow(overall_per_second, 1.0, clock)
        # A little more than 60 s: our clock and Telegram's never start the minute together.
        self._group_limit = group_per_minute
        self._groups: defaultdict[int | str, SlidingWindow] = defaultdict(
            lambda: SlidingWindow(self._group_limit, 61.0, self._clock)
        )
        self._max_retries = max_retries
        self.retries_after_429 = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _group_window(self, data: dict[str, Any]) -> SlidingWindow | None:
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
            window = self._groups[chat_id]
            self._forget_idle_groups()
            return window
        return None

    def _forget_idle_groups(self) -> None:
        if len(self._groups) > 1000:
            for key in [k for k, w in self._groups.items() if w.idle()]:
                del self._groups[key]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        limited = endpoint.startswith(LIMITED_PREFIXES)
        group = self._group_window(data) if limited else None
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(retries + 1):
            if limited:
                if group is not None:
                    await group.acquire()
                await self._overall.acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                delay = exc.retry_after
                seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
                self.retries_after_429 += 1
                log.warning("429 on %s; waiting %.1fs as Telegram asked", endpoint, seconds)
                if group is not None:
                    group.block(float(seconds))
                else:
                    await asyncio.sleep(float(seconds))
        raise AssertionError("unreachable")
