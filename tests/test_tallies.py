"""Counting fast and right.

`db.reports.activity_tallies` counts the expected people from when they joined and left,
without pairing every activity with every person: on random rosters (people joining late,
leaving, erased, imported and never registered, moved between units, answering activities
not meant for them) it must give exactly what the pairwise query `answers()` gives. Volunteer
credits keep every correction beside real (签退) hours. Both on both databases."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import insert

from db import reports as reports_db
from db import volunteer as volunteer_db
from db.database import Database
from db.models import Activity, Attendance, HoursOverride, Member, Signup, Unit
from db.reports import Tally

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _moment(rng: random.Random) -> dt.datetime:
    return START + dt.timedelta(hours=rng.randrange(0, 24 * 300))


async def _seed(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    async with db.session() as session:
        await session.execute(insert(Unit), [{"id": i, "name": f"单位{i}"} for i in (1, 2, 3)])
        activities: list[dict[str, Any]] = []
        for a in range(1, 41):
            starts = _moment(rng)
            activities.append(
                {
                    "id": a,
                    "kind": rng.choice(["study", "meeting", "other"]),
                    "title": f"a{a}",
                    "starts_at": starts,
                    "ends_at": starts + dt.timedelta(hours=rng.choice([1, 2, 30])),
                    "unit_id": rng.choice([1, 2, 3, None, None]),
                    "status": "active",
                    "created_at": START,
                }
            )
        members = []
        for i in range(1, 61):
            registered = _moment(rng) if rng.random() < 0.85 else None
            edge = rng.choice(activities)  # on the very boundaries of an activity, now and then
            if registered is not None and rng.random() < 0.2:
                registered = edge["ends_at"]
            imported = _moment(rng) if registered is None or rng.random() < 0.3 else None
            left = None
            if rng.random() < 0.25:  # mostly after joining, now and then before (a re-import)
                left = _moment(rng) if rng.random() < 0.6 else edge["starts_at"]
            members.append(
                {
                    "id": i,
                    "telegram_id": 1000 + i if registered else None,
                    "first_name": f"m{i}",
                    "unit_id": rng.choice([1, 2, 3, None]),
                    "registered_at": registered,
                    "imported_at": imported,
                    "left_at": left,
                    "created_at": START,
                }
            )
        await session.execute(insert(Member), members)
        await session.execute(insert(Activity), activities)
        answers = [
            {
                "activity_id": activity["id"],
                "member_id": member["id"],
                "status": rng.choice(["present", "present", "late", "leave"]),
                "makeup": rng.random() < 0.1,
                "at": activity["starts_at"],
            }
            for activity in activities
            for member in members
            if rng.random() < 0.4
        ]
        await session.execute(insert(Attendance), answers)
        await session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counting_from_the_roster_equals_pairing_everyone(db: Database, seed: int) -> None:
    await _seed(db, seed)
    where = [Activity.status == "active"]
    async with db.read_session() as session:
        for unit_id in (None, 1, 2):
            fast = await reports_db.activity_tallies(session, where, unit_id)
            stmt = reports_db.answers(Activity.id, Member.unit_id).where(*where)
            if unit_id is not None:
                stmt = stmt.where(Member.unit_id == unit_id)
            slow: dict[tuple[int, int | None], Tally] = defaultdict(Tally)
            for activity_id, unit, registered, status, count in await session.execute(stmt):
                slow[(activity_id, unit)].add(status, registered, count)
            assert fast == dict(slow), unit_id
            assert sum(t.expected for t in fast.values()) > 20  # the test sees real data


async def test_credits_keep_every_correction_beside_checkouts(db: Database) -> None:
    """A 签退 (real hours) for one person and the committee's corrections for others: the
    corrections stand for everyone, and asking for one person gives that person's."""
    starts = START + dt.timedelta(days=3)
    async with db.session() as session:
        await session.execute(
            insert(Member),
            [
                {"id": i, "telegram_id": 100 + i, "first_name": f"v{i}", "registered_at": START}
                for i in (1, 2, 3)
            ],
        )
        await session.execute(
            insert(Activity),
            [
                {
                    "id": 1,
                    "kind": "volunteer",
                    "title": "助残",
                    "starts_at": starts,
                    "ends_at": starts + dt.timedelta(hours=4),
                    "checkout": True,
                    "status": "active",
                    "created_at": START,
                }
            ],
        )
        await session.execute(
            insert(Signup),
            [{"activity_id": 1, "member_id": i, "status": "confirmed"} for i in (1, 2, 3)],
        )
        await session.execute(
            insert(Attendance),
            [
                {
                    "activity_id": 1,
                    "member_id": i,
                    "status": "present",
                    "at": starts,
                    "checked_out_at": starts + dt.timedelta(hours=1) if i == 1 else None,
                }
                for i in (1, 2, 3)
            ],
        )
        await session.execute(
            insert(HoursOverride), [{"activity_id": 1, "member_id": 2, "hours": 2.5, "set_by": 3}]
        )
        await session.commit()
    later = starts + dt.timedelta(days=1)
    async with db.read_session() as session:
        everyone = await volunteer_db.credits(session, later)
        assert everyone == {(1, 1): 1.0, (2, 1): 2.5, (3, 1): 4.0}
        assert await volunteer_db.credits(session, later, member_id=2) == {(2, 1): 2.5}
