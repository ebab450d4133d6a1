"""Long builds a person asks for (a report, a ledger) run aside of the update that asked:
one at a time per person, at most `AT_ONCE` in the process (each may start a child process and
hold a few hundred MB), the rest waiting their turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

AT_ONCE = 2
STOP_WAIT = 30.0  # seconds a stopping bot lets builds under way finish


class Builds:
    def __init__(self, at_once: int = AT_ONCE) -> None:
        self._at_once = at_once
        self._slots: asyncio.Semaphore | None = None  # made in the running loop
        self._people: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def busy(self, person: int) -> bool:
        """Whether one of this person's builds is under way (or waiting its turn)."""
        return person in self._people

    def start(self, person: int, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` for `person` in the background, when a slot is free."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._at_once)
        self._people.add(person)
        task = asyncio.create_task(self._run(self._slots, person, work), name=f"build:{person}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, slots: asyncio.Semaphore, person: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            async with slots:
                await work()
        except Exception:
            log.exception("a build for member %s failed", person)
        finally:
            self._people.discard(person)

    async def stop(self) -> None:
        """Let the builds under way finish (bounded), then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=STOP_WAIT)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*pending, return_exceptions=True)
