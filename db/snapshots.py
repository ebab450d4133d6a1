"""Rows that hundreds of people press on within a minute (the activity behind a card), read once
and kept for a moment.

A snapshot is the row's object (with its eager relationships) loaded in a session of its own
that closes at once, so no session that later rolls back can expire it; it is only read. It
is dropped as soon as this process changes the row, at the flush and again at the commit (an
ORM change, or an UPDATE or DELETE statement on its table), and at the latest after
`SECONDS`: another instance's change is seen that late at most. Only what a member does for
themselves reads snapshots; nothing the committee decides does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

T = TypeVar("T")

SECONDS = 2.0
# Past this many snapshots, the expired ones are dropped before adding another.
PRUNE_AT = 256
_ALL = "*"


class Snapshots(Generic[T]):
    """Snapshots of one model's rows by primary key."""

    def __init__(self, model: type[T], seconds: float = SECONDS) -> None:
        self.model, self.seconds = model, seconds
        self.clock: Callable[[], float] = time.monotonic
        # By database too: one process may serve several (the tests do, one after another).
        self._rows: dict[tuple[str, int], tuple[float, T]] = {}
        self._key = f"snapshots:{model.__name__}"
        _registry.append(self)

    async def get(
        self, session: AsyncSession, key: int, load: Callable[[AsyncSession, int], Any]
    ) -> T:
        """The snapshot of row `key`, or the row `load` reads (then kept as the snapshot);
        `session` only says which database."""
        now = self.clock()
        where = (_database(session.sync_session), key)
        found = self._rows.get(where)
        if found is not None and found[0] > now:
            return found[1]
        async with AsyncSession(session.bind, expire_on_commit=False) as loading:
            row: T = await load(loading, key)
        if len(self._rows) >= PRUNE_AT:
            self._rows = {k: v for k, v in self._rows.items() if v[0] > now}
        self._rows[where] = (now + self.seconds, row)
        return row

    def _forget(self, session: Session, keys: set[int | str]) -> None:
        if _ALL in keys:
            self._rows.clear()
            return
        database = _database(session)
        for key in keys:
            self._rows.pop((database, int(key)), None)

    def _changed(self, session: Session, keys: set[int | str]) -> None:
        """Drop `keys` now, and again when `session` commits."""
        self._forget(session, keys)
        session.info.setdefault(self._key, set()).update(keys)

    def _committed(self, session: Session) -> None:
        keys = session.info.pop(self._key, None)
        if keys:
            self._forget(session, keys)


_registry: list[Snapshots[Any]] = []


def _database(session: Session) -> str:
    return str(session.get_bind().engine.url)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: UOWTransaction) -> None:
    for snapshots in _registry:
        changed: set[int | str] = {
            row.id
            for row in chain(session.dirty, session.deleted)
            if isinstance(row, snapshots.model)
        }
        if changed:
            snapshots._changed(session, changed)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    for snapshots in _registry:
        if state.bind_mapper.class_ is snapshots.model:
            snapshots._changed(state.session, {_ALL})


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for snapshots in _registry:
        snapshots._committed(session)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    for snapshots in _registry:
        session.info.pop(snapshots._key, None)
