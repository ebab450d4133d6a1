"""One throttle for every Bot API call: Telegram's limits, 429 retry_after, transient faults.

Telegram allows about 20 messages (edits included) per minute into one group, about one per
second into one private chat (after a short burst) and about 30 per second overall;
answerCallbackQuery is not limited, so toasts pass straight through.

A request occupies its place in a window from the moment it is sent until `period` after its
answer arrived. Counting from the answer, not from the send, keeps the limit true at
Telegram's end however late a saturated event loop or network delivers the request.

A Bot API 5xx, timeout or dropped connection is tried again with a short backoff, within a
deadline that still answers a callback in time (Telegram drops it after about 15 seconds).

In a group, replies to commands (`replying()`) come after everything else: they wait while a
notice, a card or a reminder waits for the group's window, and leave `GROUP_RESERVE` places of
every minute to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from db.errors import unavailable
from scheduler import metrics

if TYPE_CHECKING:
    from scheduler.cluster import Cluster

log = logging.getLogger(__name__)

# Methods that put a message into a chat or change one; Telegram counts these.
LIMITED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")

JSON = bool | dict[str, Any] | list[dict[str, Any]]

NETWORK_DEADLINE = 10.0  # seconds for one call and its retries after transient faults
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 1.0  # many quick tries beat a few long waits within the deadline
ALL_IN_FLIGHT_POLL = 0.02
# A little more than 60 s: our clock and Telegram's never start the minute together.
GROUP_PERIOD = 61.0
# Places of a group's minute that replies to commands leave to notices, cards and reminders.
GROUP_RESERVE = 5
LOW_PRIORITY_POLL = 0.25
_replying: ContextVar[bool] = ContextVar("replying", default=False)


@contextlib.contextmanager
def replying() -> Iterator[None]:
    """What is sent inside is a reply to a command: in a group it yields to everything else."""
    token = _replying.set(True)
    try:
        yield
    finally:
        _replying.reset(token)


def transient(exc: BaseException) -> bool:
    """A Bot API failure worth trying again: 5xx, timeout, connection error (not 400)."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def describe(exc: TelegramError) -> str:
    """One line for the log: the class and Telegram's message."""
    return f"{type(exc).__name__}: {exc.message}"


class SlidingWindow:
    """At most `limit` requests in any `period` seconds; waiters are served in order.

    A request counts from `acquire` (sent) until `period` after `release` (answered).
    """

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self.limit, self.period, self._clock = limit, period, clock
        self._answered: deque[float] = deque()
        self._in_flight = 0
        self._lock = asyncio.Lock()
        self.blocked_until = 0.0
        self._waiting = 0  # ordinary requests waiting for a place

    def _used(self, now: float) -> int:
        while self._answered and self._answered[0] <= now - self.period:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    async def acquire(self) -> None:
        self._waiting += 1
        try:
            async with self._lock:
                while True:
                    now = self._clock()
                    wait = self.blocked_until - now
                    if self._used(now) >= self.limit:
                        frees_at = self._answered[0] + self.period if self._answered else None
                        wait = max(wait, frees_at - now if frees_at else ALL_IN_FLIGHT_POLL)
                    if wait <= 0:
                        self._in_flight += 1
                        return
                    await asyncio.sleep(wait)
        finally:
            self._waiting -= 1

    async def acquire_last(self, reserve: int) -> None:
        """A place only while nothing else waits and `reserve` places stay free for others."""
        while True:
            now = self._clock()
            if (
                not self._waiting
                and now >= self.blocked_until
                and self._used(now) < self.limit - reserve
            ):
                self._in_flight += 1
                return
            await asyncio.sleep(LOW_PRIORITY_POLL)

    def release(self) -> None:
        """The request acquired last (or earlier) was answered."""
        self._in_flight -= 1
        self._answered.append(self._clock())

    def block(self, seconds: float) -> None:
        """Telegram said 429: send nothing here for `seconds`."""
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)

    def idle(self) -> bool:
        now = self._clock()
        return (
            not self._lock.locked()
            and not self._in_flight
            and (not self._answered or self._answered[-1] <= now - self.period)
        )


class _Windows:
    """Windows created on first use per chat, forgotten when idle."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float]) -> None:
        self._windows: defaultdict[int | str, SlidingWindow] = defaultdict(
            lambda: SlidingWindow(limit, period, clock)
        )

    def __getitem__(self, chat_id: int | str) -> SlidingWindow:
        window = self._windows[chat_id]
        if len(self._windows) > 1000:
            for key in [k for k, w in self._windows.items() if w.idle() and w is not window]:
                del self._windows[key]
        return window


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Per-group, per-private-chat and overall windows; 429s and transient faults retried.

    `rate_limit_args`, when a call passes one, is how many 429s it may retry.
    """

    def __init__(
        self,
        *,
        overall_per_second: int = 25,
        group_per_minute: int = 20,
        private_burst: int = 3,
        max_retries: int = 5,
        network_deadline: float = NETWORK_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._overall = SlidingWindow(overall_per_second, 1.0, clock)
        # A restarted bot cannot know what its previous process sent in its last second.
        self._overall.block(1.0)
        self._groups = _Windows(group_per_minute, GROUP_PERIOD, clock)
        # About one a second into one private chat, after a burst of `private_burst`.
        self._privates = _Windows(private_burst, float(private_burst), clock)
        self._group_window = (group_per_minute, GROUP_PERIOD)
        self._private_window = (private_burst, float(private_burst))
        self._max_retries = max_retries
        self._network_deadline = network_deadline
        self._overall_per_second = overall_per_second
        self.retries_after_429 = 0
        self.retries_after_faults = 0
        # Webhook mode on PostgreSQL: the budget is the deployment's, not this process's.
        self.cluster: Cluster | None = None

    def share(self, instances: int, paused_seconds: float) -> None:
        """Several instances: each takes its part of the overall rate, and all hold their
        sends while any of them was told 429."""
        self._overall.limit = max(1, self._overall_per_second // max(1, instances))
        if paused_seconds > 0:
            self._overall.block(paused_seconds)

    async def _shared_slot(self, data: dict[str, Any]) -> int | None:
        """A place in the chat's window that every instance shares (its slot id)."""
        cluster = self.cluster
        if cluster is None or not cluster.shared:
            return None
        chat = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat = int(chat)  # type: ignore[arg-type]
        if not isinstance(chat, int):
            return None
        window = self._group_window if chat < 0 else self._private_window
        try:
            return await cluster.take_slot(chat, *window)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("shared chat window unavailable (%s); local limits only", exc)
            return None

    async def _answered(self, slot: int | None) -> None:
        if slot is not None and self.cluster is not None:
            try:
                await self.cluster.slot_answered(slot)
            except Exception as exc:
                if not unavailable(exc):
                    raise
                log.warning("shared chat window unavailable (%s)", exc)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat_window(self, data: dict[str, Any]) -> SlidingWindow | None:
        chat_id = _chat_id(data)
        if _is_group(data):
            assert chat_id is not None
            return self._groups[chat_id]
        if isinstance(chat_id, int):
            return self._privates[chat_id]
        return None

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
        chat = self._chat_window(data) if limited else None
        last = _replying.get() and _is_group(data)
        windows = [w for w in (chat, self._overall if limited else None) if w is not None]
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        deadline = self._clock() + self._network_deadline
        backoff = FIRST_BACKOFF
        attempt = 0
        while True:
            slot = await self._shared_slot(data) if limited else None
            for window in windows:
                if window is chat and last:
                    await window.acquire_last(GROUP_RESERVE)
                else:
                    await window.acquire()
            try:
                result = await callback(*args, **kwargs)
                metrics.API_CALLS.labels(endpoint, "ok").inc()
                return result
            except TelegramError as exc:
                error = exc
                metrics.API_CALLS.labels(endpoint, _status(exc)).inc()
            finally:
                for window in windows:
                    window.release()
                await self._answered(slot)
            if isinstance(error, RetryAfter):
                delay = error.retry_after
                seconds = float(delay.total_seconds() if isinstance(delay, timedelta) else delay)
                metrics.RATE_LIMITED.inc()
                metrics.PAUSED_SECONDS.inc(seconds)
                await self._pause_everyone(seconds)
            if isinstance(error, RetryAfter) and attempt < retries:
                attempt += 1
                self.retries_after_429 += 1
                log.warning("429 on %s; waiting %.1fs as Telegram asked", endpoint, seconds)
                if chat is not None:
                    chat.block(seconds)
                else:
                    await asyncio.sleep(seconds)
            elif transient(error) and self._clock() + backoff <= deadline:
                self.retries_after_faults += 1
                log.warning("%s on %s; trying again in %.1fs", describe(error), endpoint, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            else:
                raise error

    async def _pause_everyone(self, seconds: float) -> None:
        if self.cluster is None or not self.cluster.shared:
            return
        try:
            await self.cluster.pause_all(seconds)
        except Exception as exc:
            if not unavailable(exc):
                raise
            log.warning("could not share the 429 pause (%s)", exc)


def _chat_id(data: dict[str, Any]) -> int | str | None:
    chat_id = data.get("chat_id")
    with contextlib.suppress(TypeError, ValueError):
        chat_id = int(chat_id)  # type: ignore[arg-type]
    return chat_id if isinstance(chat_id, int | str) else None


def _is_group(data: dict[str, Any]) -> bool:
    """A group's id is negative (or its @username)."""
    chat_id = _chat_id(data)
    return isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)


def _status(exc: TelegramError) -> str:
    """A metrics label for a failed call: 429, 400, 403, 5xx or network."""
    if isinstance(exc, RetryAfter):
        return "429"
    if isinstance(exc, BadRequest):
        return "400"
    if isinstance(exc, Forbidden):
        return "403"
    if "Bad Gateway" in exc.message or "Internal" in exc.message:
        return "5xx"
    return "network" if isinstance(exc, NetworkError) else "error"
