"""The reminder engine: the database says what is due; APScheduler only says when to look.

Every occurrence has a key (rule, period, target). Firing claims the key and writes the
outbox rows in one transaction, so a restart, a second timer or a second process never sends
an occurrence twice. One missed while the bot was down is sent at start-up if it is within
the grace period, otherwise recorded as missed and logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import JobQueue

from bot import metrics
from bot.texts import PerLanguage, clip, listing, person_name, speaking, t, t_in
from db import activities as activities_db
from db import chats as chats_db
from db import members as members_db
from db import musters as musters_db
from db import outbox as outbox_db
from db import reminders as reminders_db
from db import rules as db_rules
from db import volunteer as volunteer_db
from db.engine import Database
from db.errors import unavailable
from db.models import Activity, Chat, Member, Notice, OneOffReminder, OutboxMessage
from scheduler import approvals as approvals_sched
from scheduler import musters as musters_sched
from scheduler import notices as notices_sched
from scheduler import rules
from scheduler.calendar import WorkCalendar
from scheduler.outbox import OutboxHooks
from scheduler.rules import Occurrence

log = logging.getLogger(__name__)

# A text to render in its reader's language (it calls `t`): a group's, or each person's.
Text = Callable[[], str]

GRACE = dt.timedelta(hours=6)
LOOKBACK = dt.timedelta(days=35)  # how far back a restart looks for missed occurrences
HORIZON = dt.timedelta(days=400)  # how far ahead jobs are scheduled (every annual rule)
SWEEP = dt.timedelta(minutes=10)  # a safety net: look for due occurrences this often
JOB_PREFIX = "reminder:"
REMINDER = "reminder"  # the outbox purpose of reminder messages
QUARTER_REPORT = "quarter_report"  # rendered when sent: the report, its chart, the ledger


class ReminderEngine:
    def __init__(
        self,
        db: Database,
        zone: ZoneInfo,
        admin_ids: frozenset[int],
        clock: Callable[[], dt.datetime],
        wake_outbox: Callable[[], None],
        calendar: WorkCalendar | None = None,
        on_activity_ended: Callable[[int], None] = lambda _activity_id: None,
        on_muster_closed: Callable[[int], None] = lambda _muster_id: None,
    ) -> None:
        self._db, self._zone, self._admin_ids = db, zone, admin_ids
        self._clock, self._wake_outbox = clock, wake_outbox
        self._on_activity_ended = on_activity_ended
        self._on_muster_closed = on_muster_closed
        self.calendar = calendar or WorkCalendar()
        self._job_queue: JobQueue[Any] | None = None
        self._rebuild_task: asyncio.Task[None] | None = None
        self._firing = asyncio.Lock()

    # ------------------------------------------------------------------ what is due when
    async def occurrences(
        self, session: AsyncSession, start: dt.datetime, end: dt.datetime
    ) -> list[Occurrence]:
        """Every enabled occurrence due in [start, end], from the rules and the database."""
        settings = await reminders_db.settings(session)
        enabled = {r for r in rules.SWITCHABLE if r not in settings or settings[r].enabled}
        found: list[Occurrence] = []
        for rule in rules.CALENDAR_RULES:
            if rule in enabled:
                at_time = rules.DEFAULT_TIME
                if rule in settings and settings[rule].at_time:
                    at_time = db_rules.parse_time(settings[rule].at_time or "")
                found += rules.calendar_occurrences(
                    rule, start, end, self.calendar, self._zone, at_time
                )
        for activity in await reminders_db.activities_with_reminders(session, start, end):
            times = rules.ActivityTimes(
                activity.id,
                activity.kind,
                activity.starts_at,
                activity.ends_at,
                activity.created_at,
                volunteer_db.deadline(activity),
                activity.checkout,
            )
            found += [o for o in rules.activity_occurrences(times, enabled) if start <= o.at <= end]
        for muster in await musters_db.scheduled(session, start, end):
            call = musters_sched.times(muster)
            found += [o for o in rules.muster_occurrences(call) if start <= o.at <= end]
        for reminder in await reminders_db.one_offs(session, start, end):
            found.append(
                Occurrence(f"one_off:{reminder.id}", rules.ONE_OFF, reminder.at, reminder.id)
            )
        for notice in await reminders_db.notices_due(session, start, end):
            assert notice.remind_at is not None
            found.append(
                Occurrence(
                    f"notice_followup:{notice.id}",
                    rules.NOTICE_FOLLOWUP,
                    notice.remind_at,
                    notice.id,
                )
            )
        return sorted(found)

    async def upcoming(
        self, session: AsyncSession, limit: int = 20, *, listed: bool = False
    ) -> list[Occurrence]:
        """The next occurrences not yet handled (in the caller's session).

        `listed`: only those a person would call reminders (not the internal card edits).
        """
        now = self._clock()
        found = await self.occurrences(session, now, now + HORIZON)
        if listed:
            found = [o for o in found if o.rule not in rules.INTERNAL]
        done = await reminders_db.handled(session, [o.key for o in found])
        return [o for o in found if o.key not in done][:limit]

    # ------------------------------------------------------------------ firing
    async def fire_due(self) -> list[tuple[str, str]]:
        """Handle every occurrence due now and not handled yet: [(key, outcome)]."""
        async with self._firing:
            now = self._clock()
            async with self._db.session() as session:
                due = await self.occurrences(session, now - LOOKBACK, now)
                done = await reminders_db.handled(session, [o.key for o in due])
            results = []
            for occurrence in due:
                if occurrence.key not in done:
                    outcome = await self._handle(occurrence, now)
                    if outcome is not None:
                        results.append((occurrence.key, outcome))
            if any(outcome == "sent" for _, outcome in results):
                self._wake_outbox()
            return results

    async def _handle(self, occurrence: Occurrence, now: dt.datetime) -> str | None:
        outcome = await self._handle_once(occurrence, now)
        if outcome is not None:
            metrics.REMINDERS.labels(outcome).inc()
        return outcome

    async def _handle_once(self, occurrence: Occurrence, now: dt.datetime) -> str | None:
        late = now - occurrence.at
        async with self._db.session() as session:
            if late > GRACE and occurrence.rule not in rules.CATCH_UP:
                outcome, detail = "missed", f"due {occurrence.at:%Y-%m-%d %H:%M}Z, {late} late"
                if not await reminders_db.claim(
                    session, occurrence.key, occurrence.rule, occurrence.at, outcome, now, detail
                ):
                    return None
                log.warning("reminder %s missed (%s); not sent", occurrence.key, detail)
                if occurrence.rule == rules.NOTICE_FOLLOWUP and occurrence.ref is not None:
                    await self._tell_notice_creator_missed(session, occurrence.ref)
                await session.commit()
                return outcome
            if not await reminders_db.claim(
                session, occurrence.key, occurrence.rule, occurrence.at, "sent", now
            ):
                return None  # another firing (timer, restart, process) handled it
            sender = _Sender(session, occurrence.key)
            skipped = await self._fire(session, occurrence, sender, now)
            if skipped is not None or not sender.count:
                reason = skipped or "nothing to send"
                await reminders_db.set_outcome(session, occurrence.key, "skipped", reason)
                log.info("reminder %s skipped: %s", occurrence.key, reason)
                outcome = "skipped"
            else:
                log.info("reminder %s sent (%d messages)", occurrence.key, sender.count)
                outcome = "sent"
            await session.commit()
            return outcome

    async def _fire(
        self, session: AsyncSession, occurrence: Occurrence, send: _Sender, now: dt.datetime
    ) -> str | None:
        """Write the occurrence's messages; a reason if its condition was already met."""
        rule = occurrence.rule
        local_day = occurrence.at.astimezone(self._zone).date()
        q_first, q_next = db_rules.quarter_bounds(local_day)
        q_start = db_rules.local_day_start(q_first, self._zone)
        q_end = db_rules.local_day_start(q_next, self._zone)
        days_left = (q_next - dt.timedelta(days=1) - local_day).days
        main = await chats_db.main_chat(session)
        committee = await members_db.committee(session, self._admin_ids)

        if rule == rules.QUARTER_KICKOFF:
            held: list[Activity] = []
            for kind in ("study", "meeting", "unity"):
                held += await reminders_db.kinds_held(session, kind, q_start, q_end)
            quarter = (q_first.month - 1) // 3 + 1

            def kickoff() -> str:
                lines = [self._scheduled_line(a) for a in sorted(held, key=lambda a: a.starts_at)]
                scheduled = "\n".join(lines) or t("remind_none_scheduled")
                return t("remind_kickoff", year=q_first.year, quarter=quarter, scheduled=scheduled)

            await send.group_or_committee(main, committee, kickoff)
        elif rule == rules.STUDY_QUOTA:
            missing = await reminders_db.units_without_study(session, q_start, q_end)
            if not missing:
                return "every unit has a study session this quarter"
            for unit in missing:
                chat = await chats_db.unit_destination(session, unit.id) or main
                if chat is not None:
                    text = partial(t, "remind_study_unit", days=days_left, unit=unit.name)
                    thread = await chats_db.unit_thread(session, unit.id, chat.id)
                    await send.chat(chat.id, text, f"unit:{unit.id}", thread)
            await send.members(
                committee,
                lambda: t(
                    "remind_study_committee",
                    days=days_left,
                    units=listing(u.name for u in missing),
                ),
            )
        elif rule == rules.MEETING_QUOTA:
            if await reminders_db.kinds_held(session, "meeting", q_start, q_end):
                return "a committee meeting is held or scheduled this quarter"
            await send.members(committee, lambda: t("remind_meeting", days=days_left))
        elif rule == rules.UNITY:
            year_start = db_rules.local_day_start(dt.date(local_day.year, 1, 1), self._zone)
            year_end = db_rules.local_day_start(dt.date(local_day.year + 1, 1, 1), self._zone)
            if await reminders_db.kinds_held(session, "unity", year_start, year_end):
                return "an ethnic-unity activity is held or scheduled this year"
            if main is not None:
                await send.chat(main.id, lambda: t("remind_unity"))
            await send.members(committee, lambda: t("remind_unity"))
        elif rule == rules.LEIFENG:
            volunteering = await reminders_db.open_volunteering(session, now)

            def leifeng() -> str:
                lines = [
                    t("remind_leifeng_line", id=a.id, title=a.title, when=self._when(a))
                    for a in volunteering
                ]
                activities = "\n".join(lines) or t("remind_leifeng_none")
                return t("remind_leifeng", activities=activities)

            await send.group_or_committee(main, committee, leifeng)
        elif rule == rules.QUARTER_REPORT:
            ended = db_rules.quarter_of(local_day).previous()
            assert ended.quarter is not None
            year, quarter = ended.year, ended.quarter
            await send.members(
                committee,
                lambda: t(
                    "quarter_report_text",
                    period=t("period_quarter", year=year, quarter=quarter),
                ),
                ref=year * 10 + quarter,
                purpose=QUARTER_REPORT,
            )
        elif rule == rules.ACTIVITY_ENDED:
            if occurrence.ref is None:
                return "no activity"
            self._on_activity_ended(occurrence.ref)
            # Leave still pending at the end: its approvers are reminded, once.
            over = await session.get(Activity, occurrence.ref)
            if over is None or over.status != "active" or over.leave_mode != "approve":
                return "the card now says the activity ended"
            send.count += await approvals_sched.remind_pending(
                session, over, self._zone, self._admin_ids
            )
            if not send.count:
                return "the card now says the activity ended; no leave pending"
        elif rule == rules.CHECKOUT_DUE:
            over = await session.get(Activity, occurrence.ref)
            if over is None or over.status != "active" or not over.checkout:
                return "activity cancelled or without 签退"
            people = await volunteer_db.not_checked_out(session, over)
            hours = volunteer_db.planned_hours(over)
            done = over
            await send.members(
                people,
                lambda: t("checkout_missed", id=done.id, title=done.title, hours=f"{hours:g}"),
                over.id,
            )
            if not send.count:
                return "everyone checked out"
        elif rule in rules.ACTIVITY_RULES:
            return await self._fire_activity(session, occurrence, send, now)
        elif rule in rules.MUSTER_RULES:
            fired = await musters_sched.fire(
                session, rule, occurrence.ref, now, self._zone, self._admin_ids
            )
            send.count += fired.sent
            if fired.closed and occurrence.ref is not None:
                self._on_muster_closed(occurrence.ref)  # the card shows the final count
            return fired.skipped
        elif rule == rules.ONE_OFF:
            reminder = await session.get(OneOffReminder, occurrence.ref)
            if reminder is None or reminder.deleted:
                return "deleted"
            chat = main
            if reminder.unit_id is not None:
                chat = await chats_db.unit_destination(session, reminder.unit_id) or main
            thread = (
                await chats_db.unit_thread(session, reminder.unit_id, chat.id) if chat else None
            )
            body = reminder.text
            await send.group_or_committee(
                chat, committee, lambda: t("remind_one_off", text=body), thread
            )
        elif rule == rules.NOTICE_FOLLOWUP:
            notice = await session.get(Notice, occurrence.ref)
            if notice is None or notice.status != "active":
                return "notice deleted"
            followup = await notices_sched.chase(session, notice.id, now, scheduled=True)
            send.count += len(followup.reachable) + 1  # the follow-ups and the report
        return None

    async def _fire_activity(
        self, session: AsyncSession, occurrence: Occurrence, send: _Sender, now: dt.datetime
    ) -> str | None:
        found = await session.get(Activity, occurrence.ref)
        if found is None or found.status != "active":
            return "activity cancelled"
        activity, rule = found, occurrence.rule
        chat_id, thread = await activities_db.card_place(session, activity)

        def place() -> str:
            return activity.place or t("place_none")

        if rule in (rules.BEFORE_24H, rules.BEFORE_1H):
            if chat_id is None:
                return "no chat to send to"
            await send.chat(
                chat_id,
                lambda: t(
                    "remind_before",
                    kind=t(f"kind_{activity.kind}"),
                    title=activity.title,
                    id=activity.id,
                    when=self._when(activity),
                    place=place(),
                ),
                thread_id=thread,
            )
        elif rule == rules.VOLUNTEER_24H:
            people = await reminders_db.confirmed_volunteers(session, activity.id)
            unreachable = await send.members(
                people,
                lambda: t(
                    "remind_volunteer",
                    title=activity.title,
                    id=activity.id,
                    when=self._when(activity),
                    place=place(),
                ),
                activity.id,
            )
            await self._report_unreachable(session, send, activity, unreachable)
        elif rule == rules.SIGNUP_CLOSING:
            if not await reminders_db.places_left(session, activity):
                return "no places left"
            if chat_id is None:
                return "no chat to send to"
            deadline = volunteer_db.deadline(activity).astimezone(self._zone)
            text = partial(
                t,
                "remind_signup_closing",
                title=activity.title,
                id=activity.id,
                deadline=deadline.strftime("%m-%d %H:%M"),
            )
            await send.chat(chat_id, text, thread_id=thread)
        elif rule == rules.CHECKIN_NUDGE:
            people = await reminders_db.not_answered(session, activity)
            text = partial(t, "remind_nudge", title=activity.title, id=activity.id)
            unreachable = await send.members(people, text, activity.id)
            await self._report_unreachable(session, send, activity, unreachable)
        return None

    async def _report_unreachable(
        self, session: AsyncSession, send: _Sender, activity: Activity, people: list[Member]
    ) -> None:
        """Whom a private reminder could not reach: told to whoever created the activity."""
        if not people:
            return
        organisers = await organisers_of(session, activity, self._admin_ids)
        await send.members(
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

    async def _tell_notice_creator_missed(self, session: AsyncSession, notice_id: int) -> None:
        notice = await session.get(Notice, notice_id)
        if notice is not None:
            await outbox_db.enqueue(
                session,
                notices_sched.key(notice_id, "followup-missed"),
                notice.creator.chat_id,
                t_in(notice.creator.lang, "notice_followup_missed", id=notice_id),
                purpose=notices_sched.REPORT,
                ref_id=notice_id,
                quiet=not notice.urgent,
            )
            self._wake_outbox()

    def _when(self, activity: Activity) -> str:
        return activity.starts_at.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")

    def _scheduled_line(self, activity: Activity) -> str:
        return t(
            "remind_scheduled_line",
            id=activity.id,
            kind=t(f"kind_{activity.kind}"),
            title=activity.title,
            when=self._when(activity),
            unit=t("remind_scheduled_unit", unit=activity.unit.name) if activity.unit else "",
        )

    # ------------------------------------------------------------------ APScheduler
    def attach(self, job_queue: JobQueue[Any] | None) -> None:
        self._job_queue = job_queue

    async def settle(self) -> None:
        """Wait for a rescheduling under way (on stopping: never leave it holding a
        database connection when the loop goes away)."""
        task = self._rebuild_task
        if task is not None and not task.done():
            await asyncio.gather(task, return_exceptions=True)

    async def start(self) -> None:
        """Leader start-up: send what was missed within grace, then schedule what is ahead."""
        await self.fire_due()
        await self.rebuild()
        if self._job_queue is not None:
            self._job_queue.run_repeating(
                self._on_timer,
                interval=SWEEP,
                name="reminders:sweep",
                job_kwargs={"id": "reminders:sweep", "replace_existing": True},
            )

    async def rebuild(self) -> None:
        """Make the scheduled jobs match the database: one job per upcoming occurrence.

        Jobs are placed relative to the engine's clock (`at - now`), which is the wall clock
        in production and the tests' hand-moved clock in tests.
        """
        job_queue = self._job_queue
        if job_queue is None:
            return
        async with self._db.session() as session:
            upcoming = await self.upcoming(session, limit=10_000)
        if self._job_queue is not job_queue:
            return  # detached meanwhile (this instance stopped leading, or is stopping)
        wanted = {JOB_PREFIX + o.key: o for o in upcoming}
        scheduler = job_queue.scheduler
        for job in scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        now, wall = self._clock(), dt.datetime.now(dt.UTC)
        for job_id, occurrence in wanted.items():
            run_at = wall + max(occurrence.at - now, dt.timedelta(0))
            existing = scheduler.get_job(job_id)
            if existing is not None and abs(existing.next_run_time - run_at) < dt.timedelta(
                seconds=2
            ):
                continue
            self._job_queue.run_once(
                self._on_timer,
                when=run_at,
                name=job_id,
                job_kwargs={"id": job_id, "replace_existing": True, "misfire_grace_time": None},
            )

    def rebuild_soon(self) -> None:
        """After an activity, notice or reminder changed: reschedule (coalesced)."""
        if self._job_queue is None or (self._rebuild_task and not self._rebuild_task.done()):
            return
        self._rebuild_task = asyncio.create_task(self._rebuild_quietly(), name="reminders-rebuild")

    async def _rebuild_quietly(self) -> None:
        try:
            await self.rebuild()
        except Exception as exc:
            if not unavailable(exc):
                log.exception("could not reschedule the reminders")
                return
            # The 10-minute sweep reschedules once the database is back.
            log.warning("could not reschedule the reminders now (%s)", type(exc).__name__)

    async def _on_timer(self, _context: object) -> None:
        await self.fire_due()
        await self.rebuild()

    def job_ids(self) -> set[str]:
        if self._job_queue is None:
            return set()
        return {job.id for job in self._job_queue.scheduler.get_jobs()}


class _Sender:
    """Outbox rows for one occurrence, keyed by it (so a retry can never send twice)."""

    def __init__(self, session: AsyncSession, key: str) -> None:
        self._session, self._key = session, key
        self.count = 0

    async def chat(
        self, chat_id: int, text: Text, part: str = "chat", thread_id: int | None = None
    ) -> None:
        """`text` in the chat's language (a group's, or a person's), in its topic if any."""
        with speaking(await chats_db.language(self._session, chat_id)):
            rendered = clip(text())
        added = await outbox_db.enqueue(
            self._session,
            f"reminder:{self._key}:{part}:{chat_id}",
            chat_id,
            rendered,
            purpose=REMINDER,
            quiet=chat_id > 0,  # a group is never held; a person is, during quiet hours
            thread_id=thread_id,
        )
        self.count += int(added)

    async def group_or_committee(
        self,
        chat: Chat | None,
        committee: list[Member],
        text: Text,
        thread_id: int | None = None,
    ) -> None:
        """To the group; privately to the committee while there is no group to send to."""
        if chat is not None:
            await self.chat(chat.id, text, thread_id=thread_id)
        else:
            await self.members(committee, text)

    async def members(
        self,
        people: list[Member],
        text: Text,
        ref: int | None = None,
        part: str = "member",
        purpose: str = REMINDER,
    ) -> list[Member]:
        """Private messages (each in its reader's language) to those the bot may write to;
        returns the others."""
        rendered = PerLanguage(lambda: clip(text()))
        unreachable = []
        for member in people:
            if not member.can_dm:
                unreachable.append(member)
                continue
            added = await outbox_db.enqueue(
                self._session,
                f"reminder:{self._key}:{part}:{member.id}",
                member.chat_id,
                rendered(member.lang),
                purpose=purpose,
                ref_id=ref,
                member_id=member.id,
                quiet=True,  # automatic and private: waits out quiet hours
            )
            self.count += int(added)
        return unreachable


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
        text = PerLanguage(
            lambda: t(
                "remind_member_unreachable",
                id=activity.id,
                title=activity.title,
                name=person_name(member),
            )
        )
        for person in await organisers_of(session, activity, self._admin_ids):
            key = f"{row.key}:unreachable:{person.id}"
            await outbox_db.enqueue(
                session, key, person.chat_id, text(person.lang), purpose=REMINDER, quiet=True
            )


async def organisers_of(
    session: AsyncSession, activity: Activity, admin_ids: frozenset[int]
) -> list[Member]:
    """Whom to tell about an activity: its creator if the bot may write to them, else the
    committee."""
    creator = await session.get(Member, activity.created_by) if activity.created_by else None
    if creator is not None and creator.can_dm:
        return [creator]
    return await members_db.committee(session, admin_ids)
