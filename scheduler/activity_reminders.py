"""Reminders about one activity: 24 hours and 1 hour before (in its group), volunteers the day
before (privately), sign-up closing, the check-in nudge, its end (pending leave to approvers),
and 签退 not done. Whom a private reminder could not reach is told to the activity's organiser.
Group reminders carry the buttons that matter then (签到/请假, 报名); a volunteer activity whose
sign-up closes with its start says so in its 24-hour reminder instead of a separate message."""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import members as members_db
from db import reminders as reminders_db
from db import volunteer as volunteer_db
from db.models import Activity, Member, OutboxMessage
from render.activities import nudge_buttons, reminder_buttons, signup_buttons
from render.formats import activity_start, hours_text, short_moment
from render.texts import listing, person_name, t
from scheduler import approvals as approvals_sched
from scheduler import reminder_rules
from scheduler.fanout import to_each
from scheduler.outbox import OutboxHooks
from scheduler.reminding import REMINDER, Firing, Writer


async def _activity(f: Firing) -> Activity | None:
    found = await f.session.get(Activity, f.occurrence.ref)
    return found if found is not None and found.status == "active" else None


async def before(f: Firing) -> str | None:
    """24 hours and 1 hour before: in the activity's group (its topic)."""
    activity = await _activity(f)
    if activity is None:
        return "activity cancelled"
    chat_id, thread = await activities_db.card_place(f.session, activity)
    if chat_id is None:
        return "no chat to send to"
    deadline = volunteer_db.deadline(activity)
    signup_open = activity.kind == "volunteer" and deadline > f.now
    # Sign-up closing with the start: said here, not in a separate 报名即将截止.
    closing = (
        f.occurrence.rule == reminder_rules.BEFORE_24H
        and signup_open
        and reminder_rules.signup_folded(activity_times(activity))
        and await reminders_db.places_left(f.session, activity)
    )

    def text() -> str:
        said = t(
            "remind_before",
            kind=t(f"kind_{activity.kind}"),
            title=activity.title,
            id=activity.id,
            when=activity_start(activity, f.zone),
            place=activity.place or t("place_none"),
        )
        if closing:
            moment = short_moment(deadline.astimezone(f.zone), f.zone)
            said += "\n" + t("remind_before_signup", deadline=moment, id=activity.id)
        return said

    await f.send.chat(
        chat_id,
        text,
        thread_id=thread,
        buttons=lambda: reminder_buttons(activity, signup_open),
    )
    return None


def activity_times(activity: Activity) -> reminder_rules.ActivityTimes:
    """What the reminder rules need to know of an activity."""
    return reminder_rules.ActivityTimes(
        activity.id,
        activity.kind,
        activity.starts_at,
        activity.ends_at,
        activity.created_at,
        volunteer_db.deadline(activity),
        activity.checkout,
    )


async def volunteers(f: Firing) -> str | None:
    """The day before: each confirmed volunteer, privately."""
    activity = await _activity(f)
    if activity is None:
        return "activity cancelled"
    people = await reminders_db.confirmed_volunteers(f.session, activity.id)
    unreachable = await f.send.members(
        people,
        lambda: t(
            "remind_volunteer",
            title=activity.title,
            id=activity.id,
            when=activity_start(activity, f.zone),
            place=activity.place or t("place_none"),
        ),
        activity.id,
    )
    await _report_unreachable(f, activity, unreachable)
    return None


async def signup_closing(f: Firing) -> str | None:
    activity = await _activity(f)
    if activity is None:
        return "activity cancelled"
    if not await reminders_db.places_left(f.session, activity):
        return "no places left"
    chat_id, thread = await activities_db.card_place(f.session, activity)
    if chat_id is None:
        return "no chat to send to"
    deadline = volunteer_db.deadline(activity).astimezone(f.zone)
    text = partial(
        t,
        "remind_signup_closing",
        title=activity.title,
        id=activity.id,
        deadline=short_moment(deadline, f.zone),
    )
    await f.send.chat(chat_id, text, thread_id=thread, buttons=lambda: signup_buttons(activity))
    return None


async def nudge(f: Firing) -> str | None:
    """Ten minutes in: those expected who have not answered, privately."""
    activity = await _activity(f)
    if activity is None:
        return "activity cancelled"
    people = await reminders_db.not_answered(f.session, activity)
    text = partial(t, "remind_nudge", title=activity.title, id=activity.id)
    buttons = partial(nudge_buttons, activity)
    unreachable = await f.send.members(people, text, activity.id, buttons=buttons)
    await _report_unreachable(f, activity, unreachable)
    return None


async def ended(f: Firing) -> str | None:
    """The card says it ended; leave still pending is reminded to its approvers, once."""
    if f.occurrence.ref is None:
        return "no activity"
    f.on_activity_ended(f.occurrence.ref)
    over = await _activity(f)
    if over is None or over.leave_mode != "approve":
        return "the card now says the activity ended"
    f.send.count += await approvals_sched.remind_pending(f.session, over, f.zone, f.admin_ids)
    if not f.send.count:
        return "the card now says the activity ended; no leave pending"
    return None


async def checkout_due(f: Firing) -> str | None:
    """Two hours after a 签退 activity: whoever did not check out is credited the planned
    hours, and told so."""
    over = await _activity(f)
    if over is None or not over.checkout:
        return "activity cancelled or without 签退"
    people = await volunteer_db.not_checked_out(f.session, over)
    hours = volunteer_db.planned_hours(over)
    await f.send.members(
        people,
        lambda: t("checkout_missed", id=over.id, title=over.title, hours=hours_text(hours)),
        over.id,
    )
    return None if f.send.count else "everyone checked out"


async def _report_unreachable(f: Firing, activity: Activity, people: list[Member]) -> None:
    """Whom a private reminder could not reach: told to whoever created the activity."""
    if not people:
        return
    organisers = await members_db.organisers(f.session, activity.created_by, f.admin_ids)
    await f.send.members(
        organisers,
        lambda: t(
            "remind_unreachable",
            id=activity.id,
            title=activity.title,
            count=len(people),
            names=listing(person_name(m) for m in people),
        ),
        part="unreachable",
    )


WRITERS: dict[str, Writer] = {
    reminder_rules.BEFORE_24H: before,
    reminder_rules.BEFORE_1H: before,
    reminder_rules.VOLUNTEER_24H: volunteers,
    reminder_rules.SIGNUP_CLOSING: signup_closing,
    reminder_rules.CHECKIN_NUDGE: nudge,
    reminder_rules.ACTIVITY_ENDED: ended,
    reminder_rules.CHECKOUT_DUE: checkout_due,
}


class ReminderHooks(OutboxHooks):
    """A private reminder about an activity that bounced (403): its organiser is told."""

    def __init__(self, admin_ids: frozenset[int]) -> None:
        self._admin_ids = admin_ids

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        if row.ref_id is None or row.member_id is None or ":unreachable:" in row.key:
            return
        activity = await session.get(Activity, row.ref_id)
        member = await session.get(Member, row.member_id)
        if activity is None or member is None:
            return
        organisers = await members_db.organisers(session, activity.created_by, self._admin_ids)
        await to_each(
            session,
            organisers,
            lambda person: f"{row.key}:unreachable:{person.id}",
            lambda: t(
                "remind_member_unreachable",
                id=activity.id,
                title=activity.title,
                name=person_name(member),
            ),
            purpose=REMINDER,
        )
