"""The activity snapshot a card's presses read: one read for many presses, and never an old
one once this process changed the activity (on both databases)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import event, update

from db import activities as activities_db
from db import snapshots
from db.database import Database
from db.errors import Refusal
from db.migrate import upgrade
from db.models import Activity, utcnow


async def new_activity(db: Database, title: str = "学习") -> int:
    now = utcnow()
    async with db.session() as session:
        activity = Activity(
            kind="study",
            title=title,
            starts_at=now + dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=2),
        )
        session.add(activity)
        await session.commit()
        return activity.id


async def snapshot(db: Database, activity_id: int) -> Activity:
    async with db.session() as session:
        return await activities_db.get_active(session, activity_id, snapshot=True)


class Reads:
    """Counts the SELECTs an engine runs."""

    def __init__(self, db: Database) -> None:
        self.count = 0

        def counted(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            self.count += statement.lstrip().upper().startswith("SELECT")

        event.listen(db.engine.sync_engine, "before_cursor_execute", counted)


async def test_many_presses_read_the_activity_once(db: Database) -> None:
    activity_id = await new_activity(db)
    reads = Reads(db)
    first = await snapshot(db, activity_id)
    for _ in range(5):
        assert await snapshot(db, activity_id) is first
    assert reads.count == 1
    assert first.title == "学习" and first.unit is None  # loaded, readable once detached


async def test_a_change_made_here_is_seen_at_once(db: Database) -> None:
    activity_id = await new_activity(db)
    await snapshot(db, activity_id)
    async with db.session() as session:  # the committee edits it (an ORM change)
        activity = await activities_db.get(session, activity_id)
        activity.title = "改名"
        await session.commit()
    assert (await snapshot(db, activity_id)).title == "改名"
    async with db.session() as session:  # and cancels it (a statement)
        await session.execute(
            update(Activity).where(Activity.id == activity_id).values(status="cancelled")
        )
        await session.commit()
    with pytest.raises(Refusal) as refused:
        await snapshot(db, activity_id)
    assert refused.value.key == "activity_cancelled"


async def test_a_read_during_an_uncommitted_change_is_dropped_at_its_commit(db: Database) -> None:
    activity_id = await new_activity(db)
    async with db.read_session() as editing:
        activity = await activities_db.get(editing, activity_id)
        activity.title = "新标题"
        await editing.flush()  # dropped at the flush; a press meanwhile reads the committed
        assert (await snapshot(db, activity_id)).title == "学习"  # title and keeps it ...
        await editing.commit()  # ... until the commit drops it
    assert (await snapshot(db, activity_id)).title == "新标题"


async def test_a_snapshot_is_kept_a_moment_only(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity_id = await new_activity(db)
    first = await snapshot(db, activity_id)
    later = time.monotonic() + snapshots.SECONDS + 0.1
    monkeypatch.setattr(activities_db.SNAPSHOTS, "clock", lambda: later)
    assert await snapshot(db, activity_id) is not first


async def test_two_databases_with_the_same_ids_do_not_mix(db: Database, tmp_path: Path) -> None:
    other = Database(f"sqlite+aiosqlite:///{tmp_path}/other.sqlite3")
    await upgrade(other)
    try:
        mine, theirs = await new_activity(db, "我的"), await new_activity(other, "别人的")
        assert mine == theirs == 1
        assert (await snapshot(db, mine)).title == "我的"
        assert (await snapshot(other, theirs)).title == "别人的"
    finally:
        await other.dispose()
