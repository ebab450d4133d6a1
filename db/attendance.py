"""Attendance: check-in (签到, with a code or the rotating QR), leave (请假), the live counts,
an activity's roster, one person's record, and where they stand today (/me). A double check-in
is impossible at the database (a unique constraint); check-in and leave are rules over a
session that return what happened, for the caller to put into words."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import rules
from db.activities import get, get_active, may_manage, upcoming
from db.errors import Refusal
from db.models import Activity, Approval, Attendance, JoinRequest, Member, Unit, WrongCode
from db.sql import insert_ignore


def _require_registered(member: Member) -> None:
    if member.registered_at is None:
        raise Refusal("register_first")


class Outcome(Enum):
    PRESENT = "present"
    LATE = "late"
    ALREADY = "already"
    NEED_CODE = "need_code"
    WRONG_CODE = "wrong_code"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    NEED_QR = "need_qr"  # qr=on: only by scanning the rotating code (or typing its digits)


@dataclass
class CheckinResult:
    outcome: Outcome
    activity: Activity
    at: dt.datetime | None = None
    was_on_leave: bool = False

    @property
    def changed(self) -> bool:
        return self.outcome in (Outcome.PRESENT, Outcome.LATE)


@dataclass(frozen=True)
class Answer:
    status: str
    at: dt.datetime


async def _answer(session: AsyncSession, activity_id: int, member_id: int) -> Answer | None:
    """This person's status for the activity (a column query: no ORM rows on the hot path)."""
    row = (
        await session.execute(
            select(Attendance.status, Attendance.at).where(
                Attendance.activity_id == activity_id, Attendance.member_id == member_id
            )
        )
    ).first()
    return Answer(row.status, row.at) if row else None


# Wrong check-in codes: this many per person per activity within the window, then a wait (a
# six-digit code must not be found by trying).
CODE_TRIES = 5
CODE_TRIES_WINDOW = dt.timedelta(minutes=10)


async def guard_code_tries(
    session: AsyncSession, activity_id: int, member_id: int, now: dt.datetime
) -> None:
    """Refuse, saying how long to wait, while this person's wrong codes are used up."""
    recent = list(
        await session.scalars(
            select(WrongCode.at)
            .where(
                WrongCode.activity_id == activity_id,
                WrongCode.member_id == member_id,
                WrongCode.at > now - CODE_TRIES_WINDOW,
            )
            .order_by(WrongCode.at.desc())
            .limit(CODE_TRIES)
        )
    )
    if len(recent) >= CODE_TRIES:
        frees_at = recent[-1] + CODE_TRIES_WINDOW
        minutes = max(1, math.ceil((frees_at - now).total_seconds() / 60))
        raise Refusal("code_tries_used", id=activity_id, minutes=minutes)


async def record_wrong_code(
    session: AsyncSession, activity_id: int, member_id: int, now: dt.datetime
) -> None:
    """A wrong code: counted for the person (the limit) and on the activity (the roster)."""
    session.add(WrongCode(activity_id=activity_id, member_id=member_id, at=now))
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(wrong_codes=Activity.wrong_codes + 1)
    )


async def check_in(
    session: AsyncSession,
    activity_id: int,
    member: Member,
    now: dt.datetime,
    policy: rules.CheckinPolicy,
    *,
    code: str | None = None,
    via_button: bool = False,
    qr_ok: bool = False,
) -> CheckinResult:
    """Check `member` in; never twice (the unique constraint decides under concurrency).

    `qr_ok`: the caller verified a current QR token or code (db.qr); an activity with qr=on
    takes no other check-in, and its own code= is then not asked for.
    """
    # A card's button: hundreds press it within a minute, and the activity changes rarely.
    activity = await get_active(session, activity_id, snapshot=via_button)
    _require_registered(member)
    window = policy.window(now, activity.starts_at, activity.ends_at)
    if window is rules.Window.NOT_OPEN:
        return CheckinResult(Outcome.NOT_OPEN, activity)
    if window is rules.Window.CLOSED:
        return CheckinResult(Outcome.CLOSED, activity)
    if activity.qr and not qr_ok:
        existing = await _answer(session, activity.id, member.id)
        if existing is not None and existing.status != "leave":
            return CheckinResult(Outcome.ALREADY, activity, existing.at)
        return CheckinResult(Outcome.NEED_QR, activity)
    if activity.code is not None and not activity.qr:
        existing = await _answer(session, activity.id, member.id)
        if existing is not None and existing.status != "leave":
            return CheckinResult(Outcome.ALREADY, activity, existing.at)
        if via_button or code is None:
            return CheckinResult(Outcome.NEED_CODE, activity)
        await guard_code_tries(session, activity.id, member.id, now)
        if code != activity.code:
            await record_wrong_code(session, activity.id, member.id, now)
            return CheckinResult(Outcome.WRONG_CODE, activity)
    status = window.value
    inserted = await insert_ignore(
        session, Attendance, activity_id=activity.id, member_id=member.id, status=status, at=now
    )
    if inserted:
        return CheckinResult(Outcome(status), activity, now)
    # A row exists: on leave becomes present (atomically); anything else was a double press.
    moved = await session.execute(
        update(Attendance)
        .where(
            Attendance.activity_id == activity.id,
            Attendance.member_id == member.id,
            Attendance.status == "leave",
        )
        .values(status=status, at=now, reason=None)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        return CheckinResult(Outcome(status), activity, now, was_on_leave=True)
    existing = await _answer(session, activity.id, member.id)
    return CheckinResult(Outcome.ALREADY, activity, existing.at if existing else None)


async def request_leave(
    session: AsyncSession, activity_id: int, member: Member, reason: str, now: dt.datetime
) -> tuple[Activity, bool]:
    """Record an excused absence; (activity, True if it updated an earlier leave)."""
    activity = await get_active(session, activity_id)
    _require_registered(member)
    reason = rules.clean_text(reason, rules.MAX_REASON, "reason_invalid")
    if now > activity.ends_at:
        raise Refusal("leave_closed", id=activity.id)
    existing = await _answer(session, activity.id, member.id)
    if existing is not None:
        if existing.status != "leave":
            raise Refusal("leave_but_present", id=activity.id)
        await session.execute(
            update(Attendance)
            .where(Attendance.activity_id == activity.id, Attendance.member_id == member.id)
            .values(reason=reason, at=now)
        )
        return activity, True
    if not await insert_ignore(
        session,
        Attendance,
        activity_id=activity.id,
        member_id=member.id,
        status="leave",
        reason=reason,
        at=now,
    ):
        raise Refusal("leave_but_present", id=activity.id)
    return activity, False


@dataclass
class Counts:
    present: int = 0  # late ones included
    late: int = 0
    leave: int = 0
    expected: int = 0
    pending: int = 0  # leave waiting for an approver (leave=approve)


def _targets(activity: Activity) -> ColumnElement[bool]:
    """Who is expected: the roster of the activity's unit (or of every unit), as it was by the
    activity's end (people who joined later were not expected, nor who had left before)."""
    expected = members_db.expected_between(activity.starts_at, activity.ends_at)
    if activity.unit_id is None:
        return expected
    return and_(expected, Member.unit_id == activity.unit_id)


async def counts(session: AsyncSession, activity: Activity) -> Counts:
    rows = await session.execute(
        select(Attendance.status, func.count())
        .where(Attendance.activity_id == activity.id)
        .group_by(Attendance.status)
    )
    by_status = {status: int(n) for status, n in rows.all()}
    expected = await session.scalar(
        select(func.count()).select_from(Member).where(_targets(activity))
    )
    pending = 0
    if activity.leave_mode == "approve":
        pending = int(
            await session.scalar(
                select(func.count())
                .select_from(Approval)
                .where(
                    Approval.activity_id == activity.id,
                    Approval.kind == "leave",
                    Approval.status == "pending",
                )
            )
            or 0
        )
    return Counts(
        present=by_status.get("present", 0) + by_status.get("late", 0),
        late=by_status.get("late", 0),
        leave=by_status.get("leave", 0),
        expected=int(expected or 0),
        pending=pending,
    )


@dataclass
class Roster:
    activity: Activity
    present: list[Attendance] = field(default_factory=list)  # in check-in order, late included
    leave: list[Attendance] = field(default_factory=list)
    absent: list[Member] = field(default_factory=list)  # by unit, then name
    pending: list[Approval] = field(default_factory=list)  # leave or 补签 awaiting a decision
    makeups: dict[int, Approval] = field(default_factory=dict)  # member id → approved 补签

    @property
    def late(self) -> int:
        return sum(1 for a in self.present if a.status == "late")


async def roster(session: AsyncSession, activity_id: int, member: Member, is_admin: bool) -> Roster:
    activity = await get(session, activity_id)
    if not may_manage(member, is_admin, activity.unit_id):
        raise Refusal("not_admin_or_lead")
    answers = list(
        await session.scalars(
            select(Attendance)
            .where(Attendance.activity_id == activity.id)
            .order_by(Attendance.at, Attendance.id)
        )
    )
    answered = select(Attendance.member_id).where(Attendance.activity_id == activity.id)
    absent = await session.scalars(
        select(Member)
        .outerjoin(Unit, Member.unit_id == Unit.id)
        .where(_targets(activity), Member.id.not_in(answered))
        .order_by(Unit.id, Member.real_name, Member.id)
    )
    requests = list(
        await session.scalars(
            select(Approval)
            .where(Approval.activity_id == activity.id, Approval.status != "rejected")
            .order_by(Approval.created_at, Approval.id)
        )
    )
    return Roster(
        activity=activity,
        present=[a for a in answers if a.status != "leave"],
        leave=[a for a in answers if a.status == "leave"],
        absent=list(absent),
        pending=[r for r in requests if r.status == "pending"],
        makeups={r.member_id: r for r in requests if r.kind == "makeup" and r.status == "approved"},
    )


@dataclass
class Record:
    """One person's answers to the activities meant for them in a period (volunteering aside)."""

    present: int = 0  # on time (an approved 补签 included)
    late: int = 0
    leave: int = 0  # approved leave: excused
    absent: int = 0

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def expected(self) -> int:
        return self.attended + self.leave + self.absent

    @property
    def rate(self) -> float | None:
        return rules.attendance_rate(self.attended, self.leave, self.expected)


async def record(
    session: AsyncSession, member: Member, since: dt.datetime, now: dt.datetime
) -> Record:
    """Answers to the activities meant for `member` that end from `since` on. An ended activity
    counts every answer, absence included; one not ended yet counts a check-in at once and
    leave once it has started (nobody is absent before the end). Who was expected is decided
    as in the reports: the roster as it was when the activity was held."""
    expected = and_(
        Member.id == member.id,
        members_db.expected_between(Activity.starts_at, Activity.ends_at),
        or_(Activity.unit_id.is_(None), Activity.unit_id == Member.unit_id),
    )
    rows = await session.execute(
        select(Attendance.status)
        .select_from(Activity)
        .join(Member, expected)
        .outerjoin(
            Attendance,
            (Attendance.activity_id == Activity.id) & (Attendance.member_id == Member.id),
        )
        .where(
            Activity.kind != "volunteer",
            Activity.status == "active",
            Activity.ends_at >= since,
            or_(
                Activity.ends_at <= now,
                Attendance.status.in_(("present", "late")),
                and_(Attendance.status == "leave", Activity.starts_at <= now),
            ),
        )
    )
    result = Record()
    for (status,) in rows.all():
        name = "absent" if status is None else status
        setattr(result, name, getattr(result, name) + 1)
    return result


@dataclass(frozen=True)
class Standing:
    """One of today's (or ongoing) activities as it stands for one person."""

    activity: Activity
    status: str | None  # present, late, leave; None: no answer yet
    at: dt.datetime | None
    makeup: bool
    request: Approval | None  # their latest leave or 补签 request for it, if any


@dataclass
class Current:
    """What is going on for one person now: /me's first part."""

    today: list[Standing] = field(default_factory=list)
    # Activities after today: leave recorded (approved), or a leave or 补签 request waiting.
    leaves: list[Activity] = field(default_factory=list)
    requests: list[tuple[Approval, Activity]] = field(default_factory=list)
    joins: list[JoinRequest] = field(default_factory=list)  # join, unit move, link: waiting


async def current(
    session: AsyncSession,
    member: Member,
    now: dt.datetime,
    day: tuple[dt.datetime, dt.datetime],
) -> Current:
    """Today's activities (`day`: [start, end) in UTC) and ongoing ones meant for `member` with
    their answers; later activities with leave; requests still waiting for a decision."""
    meant = or_(Activity.unit_id.is_(None), Activity.unit_id == member.unit_id)
    rows = await session.execute(
        select(Activity, Attendance.status, Attendance.at, Attendance.makeup)
        .outerjoin(
            Attendance,
            (Attendance.activity_id == Activity.id) & (Attendance.member_id == member.id),
        )
        .where(
            meant,
            Activity.kind != "volunteer",
            Activity.status == "active",
            or_(
                and_(Activity.starts_at >= day[0], Activity.starts_at < day[1]),
                and_(Activity.starts_at <= now, Activity.ends_at > now),
            ),
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    # An activity that ended before the person joined did not expect them (as in the reports).
    joined = member.imported_at or member.registered_at
    today = [row for row in rows.all() if joined is None or row[0].ends_at >= joined or row[1]]
    requests = list(
        (
            await session.execute(
                select(Approval, Activity)
                .join(Activity, Activity.id == Approval.activity_id)
                .where(Approval.member_id == member.id, Activity.status == "active")
                .where(
                    or_(
                        Approval.status == "pending",
                        Activity.id.in_([row[0].id for row in today]),
                    )
                )
                .order_by(Activity.starts_at, Approval.created_at, Approval.id)
            )
        ).all()
    )
    latest = {approval.activity_id: approval for approval, _ in requests}  # newest last
    shown = {row[0].id for row in today}
    leaves = await session.scalars(
        select(Activity)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(
            Attendance.member_id == member.id,
            Attendance.status == "leave",
            Activity.status == "active",
            Activity.ends_at > now,
            Activity.id.not_in(shown),
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    joins = await session.scalars(
        select(JoinRequest)
        .where(JoinRequest.member_id == member.id, JoinRequest.status == "pending")
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    return Current(
        today=[
            Standing(activity, status, at, bool(makeup), latest.get(activity.id))
            for activity, status, at, makeup in today
        ],
        leaves=list(leaves),
        requests=[
            (a, activity)
            for a, activity in requests
            if a.status == "pending" and activity.id not in shown
        ],
        joins=list(joins),
    )


async def open_for(
    session: AsyncSession, member: Member, now: dt.datetime, policy: rules.CheckinPolicy
) -> tuple[list[Activity], list[Activity]]:
    """Activities of this person's unit (or everyone's) open for check-in now: (not done yet,
    already checked in)."""
    done = set(
        await session.scalars(
            select(Attendance.activity_id).where(
                Attendance.member_id == member.id, Attendance.status != "leave"
            )
        )
    )
    open_now = [
        a
        for a in await upcoming(session, now)
        if (a.unit_id is None or a.unit_id == member.unit_id)
        and policy.window(now, a.starts_at, a.ends_at) in (rules.Window.ON_TIME, rules.Window.LATE)
    ]
    return [a for a in open_now if a.id not in done], [a for a in open_now if a.id in done]


async def open_in_chat(
    session: AsyncSession, chat_id: int, now: dt.datetime, policy: rules.CheckinPolicy
) -> list[Activity]:
    """Activities whose card is in `chat_id` and whose check-in is open now."""
    candidates = await session.scalars(
        select(Activity).where(
            Activity.chat_id == chat_id,
            Activity.status == "active",
            Activity.starts_at <= now + policy.opens_before,
            Activity.ends_at >= now,
        )
    )
    open_now = (rules.Window.ON_TIME, rules.Window.LATE)
    return [a for a in candidates if policy.window(now, a.starts_at, a.ends_at) in open_now]
