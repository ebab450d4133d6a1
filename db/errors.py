"""Refusals (an operation declines with a catalog key) and telling database outages apart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc as sa_exc


class Refusal(Exception):
    """The operation changes nothing; `key` names the text to show the user."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class TextKeys(tuple[str, ...]):
    """A refusal parameter naming catalog texts: shown as a list, in the reader's language."""

    __slots__ = ()


# PostgreSQL SQLSTATEs after which the same transaction, tried again, may well succeed:
# connection exceptions (08…), the server shutting down or starting (57P01–57P03), too many
# connections, serialization failures and deadlocks.
_RETRYABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300", "40001", "40P01")


def unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable or busy now, not that our SQL is wrong.

    Such failures roll the transaction back; trying again later is safe.
    """
    seen: BaseException | None = exc
    for _ in range(8):  # the exception and what caused it
        if seen is None:
            return False
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, sa_exc.TimeoutError | OSError | TimeoutError):
            return True  # pool exhausted, connection refused or reset, timed out
        if isinstance(seen, sa_exc.OperationalError) and "locked" in str(seen.orig):
            return True  # SQLite: another process holds the write lock
        if isinstance(seen, sa_exc.InterfaceError) and "closed" in str(seen):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_RETRYABLE_STATES):
            return True
        if type(seen).__name__ in ("ConnectionDoesNotExistError", "InterfaceError"):
            return "connection" in str(seen).lower() or "closed" in str(seen).lower()
        seen = seen.__cause__ or seen.__context__
    return False
