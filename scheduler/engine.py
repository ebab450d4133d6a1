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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import JobQueue

from db import chats as chats_db
from db import members as members_db
from db import musters as musters_db
from db import reminders as reminders_db
from db import rules as db_rules
from db.database import Database
from db.errors import unavailable
from db.models import ReminderSetting
from scheduler import activity_reminders, duties, metrics, one_off, reminder_rules
from scheduler import musters as musters_sched
from scheduler import notices as notices_sched
from scheduler import reviews as reviews_sched
from scheduler.calendar import WorkCalendar
from scheduler.reminder_rules import Occurrence
from scheduler.reminding import Firing, Sender, Writer

log = logging.getLogger(__name__)

# Every rule's writer, each kept with its feature.
WRITERS: dict[str, Writer] = {
    **duties.WRITERS,
    **activity_reminders.WRITERS,
    **musters_sched.WRITERS,
    **notices_sched.WRITERS,
    **one_off.WRITERS,
    **reviews_sched.WRITERS,
}

GRACE = dt.timedelta(hours=6)
LOOKBACK = dt.timedelta(days=35)  # how far back a restart looks for missed occurrences
HORIZON = dt.timedelta(days=400)  # how far ahead jobs are scheduled (every annual rule)
SWEEP = dt.timedelta(minutes=10)  # a safety net: look for due occurrences this often
GATHER_MARGIN = dt.timedelta(hours=1)  # how far before a range runs of group reminders start
JOB_PREFIX = "reminder:"


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
        enabled = {r for r in reminder_rules.SWITCHABLE if r not in settings or settings[r].enabled}
        workdays = self._workdays(settings)
        # Group reminders a few minutes apart are planned together (`gather`): look a little
        # around [start, end] so the same runs form whoever asks.
        outer_start, outer_end = start - GATHER_MARGIN, end + reminder_rules.MERGE_WINDOW
        found: list[Occurrence] = []
        for rule in reminder_rules.CALENDAR_RULES:
            if rule in enabled:
                at_time = reminder_rules.DEFAULT_TIME
                if rule in settings and settings[rule].at_time:
                    at_time = db_rules.parse_time(settings[rule].at_time or "")
                found += reminder_rules.calendar_occurrences(
                    rule, outer_start, outer_end, self.calendar, self._zone, at_time
                )
        for activity in await reminders_db.activities_with_reminders(
            session, outer_start, outer_end
        ):
            times = activity_reminders.activity_times(activity)
            found += [
                o
                for o in reminder_rules.activity_occurrences(times, enabled, workdays)
                if outer_start <= o.at <= outer_end
            ]
        for muster in await musters_db.scheduled(session, start, end):
            call = musters_sched.times(muster)
            found += [o for o in reminder_rules.muster_occurrences(call) if start <= o.at <= end]
        for reminder in await reminders_db.one_offs(session, outer_start, outer_end):
            found.append(
                Occurrence(
                    f"one_off:{reminder.id}", reminder_rules.ONE_OFF, reminder.at, reminder.id
                )
            )
        for notice in await reminders_db.notices_due(session, start, end):
            assert notice.remind_at is not None
            found.append(
                Occurrence(
                    f"notice_followup:{notice.id}",
                    reminder_rules.NOTICE_FOLLOWUP,
                    notice.remind_at,
                    notice.id,
                )
            )
        return [o for o in reminder_rules.gather(found) if start <= o.at <= end]

    def _workdays(self, settings: dict[str, ReminderSetting]) -> reminder_rules.Workdays | None:
        """Group reminders keep to working days unless `group_workdays` is switched off."""
        setting = settings.get(reminder_rules.GROUP_WORKDAYS)
        if setting is not None and not setting.enabled:
            return None
        afternoon = reminder_rules.WORKDAY_AFTERNOON
        if setting is not None and setting.at_time:
            afternoon = db_rules.parse_time(setting.at_time)
        return reminder_rules.Workdays(self.calendar, self._zone, afternoon)

    async def upcoming(
        self, session: AsyncSession, limit: int = 20, *, listed: bool = False
    ) -> list[Occurrence]:
        """The next occurrences not yet handled (in the caller's session).

        `listed`: only those a person would call reminders (not the internal card edits).
        """
        now = self._clock()
        found = await self.occurrences(session, now, now + HORIZON)
        if listed:
            found = [o for o in found if o.rule not in reminder_rules.INTERNAL]
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
            if late > GRACE and occurrence.rule not in reminder_rules.CATCH_UP:
                outcome, detail = "missed", f"due {occurrence.at:%Y-%m-%d %H:%M}Z, {late} late"
                if not await reminders_db.claim(
                    session, occurrence.key, occurrence.rule, occurrence.at, outcome, now, detail
                ):
                    return None
                log.warning("reminder %s missed (%s); not sent", occurrence.key, detail)
                if occurrence.rule == reminder_rules.NOTICE_FOLLOWUP and occurrence.ref is not None:
                    await notices_sched.followup_missed(session, occurrence.ref)
                    self._wake_outbox()
                await session.commit()
                return outcome
            if not await reminders_db.claim(
                session, occurrence.key, occurrence.rule, occurrence.at, "sent", now
            ):
                return None  # another firing (timer, restart, process) handled it
            sender = Sender(session, occurrence.key)
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
        self, session: AsyncSession, occurrence: Occurrence, send: Sender, now: dt.datetime
    ) -> str | None:
        """Write the occurrence's messages (its rule's writer); a reason if none were needed."""
        firing = Firing(
            session=session,
            occurrence=occurrence,
            now=now,
            zone=self._zone,
            admin_ids=self._admin_ids,
            send=send,
            main=await chats_db.main_chat(session),
            committee=await members_db.committee(session, self._admin_ids),
            on_activity_ended=self._on_activity_ended,
            on_muster_closed=self._on_muster_closed,
        )
        return await WRITERS[occurrence.rule](firing)

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
