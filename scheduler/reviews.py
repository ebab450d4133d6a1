"""评估问效's two messages: on the first of a quarter's last working days each owner of a work
plan task is asked privately where their tasks stand (one tap each); a few working days before
the quarter ends, those who have not answered are asked once more. Both are automatic private
messages, held during quiet hours."""

from __future__ import annotations

from functools import partial

from db import reviews as reviews_db
from db import rules as db_rules
from db import tasks as tasks_db
from db.models import Member
from render.tasks import review_buttons, review_prompt, review_unreachable
from scheduler import reminder_rules
from scheduler.calendar import WorkCalendar
from scheduler.reminding import Firing, Writer

PER_MESSAGE = 10  # tasks in one prompt (three buttons each, well within Telegram's 100)


async def _ask(f: Firing, nudge: bool) -> str | None:
    quarter = db_rules.quarter_of(f.local_day)
    tasks = await reviews_db.due(f.session, quarter)
    if nudge:
        found = await reviews_db.reviews(f.session, quarter.year, [quarter.quarter or 0])
        answered = {task_id for task_id, _ in found}
        # Only a state is chased: a counted task's state is in the records already.
        tasks = [x for x in tasks if x.id not in answered and not reviews_db.counted(x)]
    if not tasks:
        return "no work plan task is waiting for its owner's review this quarter"
    add_workdays = WorkCalendar().add_workdays
    measured = await tasks_db.measure_each(f.session, tasks, quarter, f.zone, f.now, add_workdays)
    asked = await reviews_db.committee_and_owners(f.session, tasks, f.admin_ids)
    unreachable: dict[int, Member] = {}
    reached: set[int] = set()  # tasks at least one of their owners was asked about
    for person, theirs in asked.values():
        for start in range(0, len(theirs), PER_MESSAGE):
            part = theirs[start : start + PER_MESSAGE]
            missed = await f.send.members(
                [person],
                partial(review_prompt, part, quarter, measured, nudge),
                part=f"review{start // PER_MESSAGE}",
                buttons=partial(review_buttons, part, quarter, set(measured)),
            )
            if missed:
                unreachable[person.id] = person
            else:
                reached.update(x.id for x in part)
    # Tasks none of whose owners the bot can write to: the committee hears of them, with the
    # buttons to answer in their place.
    tasks = [x for x in tasks if x.id not in reached]
    people = list(unreachable.values())
    for start in range(0, len(tasks), PER_MESSAGE):
        part = tasks[start : start + PER_MESSAGE]
        await f.send.members(
            f.committee,
            partial(review_unreachable, people, part, quarter, measured),
            part=f"unreachable{start // PER_MESSAGE}",
            buttons=partial(review_buttons, part, quarter, set(measured)),
        )
    return None


async def prompt(f: Firing) -> str | None:
    return await _ask(f, nudge=False)


async def nudge(f: Firing) -> str | None:
    return await _ask(f, nudge=True)


WRITERS: dict[str, Writer] = {
    reminder_rules.TASK_REVIEW: prompt,
    reminder_rules.TASK_REVIEW_NUDGE: nudge,
}
