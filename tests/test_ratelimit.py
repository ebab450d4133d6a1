"""The throttle: group and overall windows, toasts unthrottled, 429 retry_after honoured."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from scheduler.ratelimit import SlidingWindow, TelegramRateLimiter


class Clock:
    """Time that only moves when asyncio.sleep is called (patched in)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float, *args: Any) -> None:
        clock.now += max(seconds, 0)
        await real_sleep(0)

    monkeypatch.setattr("scheduler.ratelimit.asyncio.sleep", fake_sleep)
    return clock


async def test_sliding_window_spaces_out_a_burst(clock: Clock) -> None:
    window = SlidingWindow(20, 60.0, clock)
    times = []
    for _ in range(45):
        await window.acquire()
        times.append(clock.now)
        window.release()
    # No 60-second span ever holds more than 20.
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60.0
    assert times[19] == 0.0 and times[20] == 60.0 and times[40] == 120.0


async def test_a_request_counts_until_its_answer_arrived(clock: Clock) -> None:
    """However late a request reaches Telegram, no period there holds more than the limit."""
    window = SlidingWindow(1, 1.0, clock)
    await window.acquire()  # a slow request, answered only at t=5
    second = asyncio.create_task(window.acquire())
    await asyncio.sleep(3)  # (patched: moves the fake clock)
    assert not second.done()  # its place is still taken: the first is not answered yet
    clock.now = 5.0
    window.release()
    await second
    assert clock.now >= 6.0  # one period after the answer, not after the send


async def test_a_new_process_waits_a_second_before_its_first_send(clock: Clock) -> None:
    """Its previous process may have used this second's overall budget just before dying."""
    limiter = TelegramRateLimiter(clock=clock)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(clock.now)
        return True

    await limiter.process_request(call, (), {}, "answerCallbackQuery", {}, None)
    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert sent == [0.0, 1.0]  # toasts are never held back


async def test_private_chats_get_a_short_burst_then_one_a_second(clock: Clock) -> None:
    limiter = TelegramRateLimiter(clock=clock)
    sent: list[float] = []

    async def call() -> bool:
        sent.append(clock.now)
        return True

    for _ in range(8):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 42}, None)
    assert sent[:3] == [sent[0]] * 3  # a burst of three at once
    for i in range(3, 8):
        assert sent[i] - sent[i - 3] >= 3.0  # three in any three seconds: one a second


async def test_transient_faults_are_tried_again_within_a_deadline(clock: Clock) -> None:
    limiter = TelegramRateLimiter(clock=clock)
    attempts: list[float] = []

    async def flaky() -> bool:
        attempts.append(clock.now)
        if len(attempts) < 3:
            raise NetworkError("Bad Gateway")
        return True

    assert await limiter.process_request(flaky, (), {}, "answerCallbackQuery", {}, None)
    assert attempts == [0.0, 0.25, 0.75] and limiter.retries_after_faults == 2

    async def down() -> bool:
        attempts.append(clock.now)
        raise TimedOut()

    attempts.clear()
    with pytest.raises(TimedOut):
        await limiter.process_request(down, (), {}, "editMessageText", {"chat_id": -1}, None)
    # 0, .25, .75, 1.75, then every second: many quick tries within the 10-second deadline.
    assert attempts[-1] - attempts[0] <= 10.0 and len(attempts) == 12

    async def bad_request() -> bool:
        attempts.append(clock.now)
        raise BadRequest("message is too long")

    attempts.clear()
    with pytest.raises(BadRequest):
        await limiter.process_request(bad_request, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(attempts) == 1  # our mistake: trying again would not help


async def test_group_messages_are_throttled_but_toasts_are_not(clock: Clock) -> None:
    limiter = TelegramRateLimiter(group_per_minute=20, clock=clock)
    sent: list[tuple[str, float]] = []

    async def call(endpoint: str) -> bool:
        sent.append((endpoint, clock.now))
        return True

    for _ in range(25):
        await limiter.process_request(
            call, ("editMessageText",), {}, "editMessageText", {"chat_id": -100}, None
        )
    for _ in range(100):
        await limiter.process_request(
            call,
            ("answerCallbackQuery",),
            {},
            "answerCallbackQuery",
            {"callback_query_id": "1"},
            None,
        )
    edits = [t for e, t in sent if e == "editMessageText"]
    toasts = [t for e, t in sent if e == "answerCallbackQuery"]
    assert edits[19] < 61 <= edits[20]
    assert max(toasts) - min(toasts) == 0  # all at once


async def test_retry_after_is_honoured(clock: Clock) -> None:
    limiter = TelegramRateLimiter(clock=clock)
    attempts: list[float] = []

    async def flaky() -> bool:
        attempts.append(clock.now)
        if len(attempts) < 3:
            raise RetryAfter(7)
        return True

    assert await limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": -5}, None)
    first = attempts[0]  # after the one-second start-up pause
    assert attempts == [first, first + 7.0, first + 14.0]
    assert limiter.retries_after_429 == 2


async def test_gives_up_after_max_retries(clock: Clock) -> None:
    limiter = TelegramRateLimiter(max_retries=1, clock=clock)

    async def always() -> bool:
        raise RetryAfter(3)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always, (), {}, "sendMessage", {"chat_id": 5}, None)
