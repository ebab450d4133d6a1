"""How far the committee has set the bot up: the steps of its first hour, each a fact in the
database (a main group, units, people, a notice, an activity), none stored separately."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import members as members_db
from db.models import Activity, Member, Notice, Unit

# The steps in the order the committee takes them.
STEPS = ("main_group", "units", "members", "notice", "activity")


@dataclass(frozen=True)
class Progress:
    done: frozenset[str]

    @property
    def complete(self) -> bool:
        return self.done.issuperset(STEPS)

    @property
    def next(self) -> str | None:
        """The first step not done yet."""
        return next((step for step in STEPS if step not in self.done), None)


async def progress(session: AsyncSession) -> Progress:
    """Which steps are done: people means someone on the roster besides the committee."""
    people = exists().where(members_db.on_roster(), Member.role != "admin")
    found = await session.execute(
        select(
            exists().where(Unit.id.is_not(None)),
            people,
            exists().where(Notice.id.is_not(None)),
            exists().where(Activity.id.is_not(None)),
        )
    )
    units, members, notice, activity = found.one()
    done = {
        step
        for step, fact in zip(
            STEPS,
            (await chats_db.main_chat(session) is not None, units, members, notice, activity),
            strict=True,
        )
        if fact
    }
    return Progress(frozenset(done))
