"""Requests someone decides: leave on activities with leave=approve, and 补签 (make-up).

A request goes to its approvers privately (through the outbox, with 批准 / 驳回 buttons):
the lead of the person's unit, else every committee member. The first decision wins — an
UPDATE … WHERE status = 'pending' AND round = n decides which press counts, on both
databases — and the others' messages are edited to say who decided. An approved leave
becomes an attendance row `leave`; an approved make-up an attendance row `present` marked
`makeup`. The request row keeps who decided and when (the audit the ledger shows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import rules
from db.errors import Refusal
from db.models import Activity, Approval, Attendance, Member, OutboxMessage
from db.sql import insert_ignore

PURPOSE = "approval"  # outbox purpose of the messages to approvers


@dataclass(frozen=True)
class MakeupPolicy:
    """How long after an activity's end 补签 may be asked, and how often a quarter."""

    days: int = 3
    per_quarter: int = 3


async def _existing(session: AsyncSession, kind: str, activity_id: int, member_id: int) -> Approval:
    found = await session.scalar(
        select(Approval)
        .where(
            Approval.kind == kind,
            Approval.activity_id == activity_id,
            Approval.member_id == member_id,
        )
        .with_for_update(of=Approval)
    )
    assert found is not None
    return found


async def _ask(
    session: AsyncSession,
    kind: str,
    activity: Activity,
    member: Member,
    reason: str,
    now: dt.datetime,
) -> Approval:
    """A pending request: new, or a rejected one asked again (its next round)."""
    if await insert_ignore(
        session,
        Approval,
        kind=kind,
        activity_id=activity.id,
        member_id=member.id,
        reason=reason,
        status="pending",
        created_at=now,
        round=1,
    ):
        return await _existing(session, kind, activity.id, member.id)
    approval = await _existing(session, kind, activity.id, member.id)
    if approval.status == "pending":
        raise Refusal(f"{kind}_pending", id=activity.id)
    if approval.status == "approved":
        raise Refusal(f"{kind}_approved_already", id=activity.id)
    approval.status, approval.reason, approval.created_at = "pending", reason, now
    approval.decided_by, approval.decided_at = None, None
    approval.round += 1
    return approval


async def _answer_status(session: AsyncSession, activity_id: int, member_id: int) -> str | None:
    return await session.scalar(
        select(Attendance.status).where(
            Attendance.activity_id == activity_id, Attendance.member_id == member_id
        )
    )


async def ask_leave(
    session: AsyncSession, activity: Activity, member: Member, reason: str, now: dt.datetime
) -> Approval:
    """Leave on an activity with leave=approve: pending until an approver decides."""
    if member.registered_at is None:
        raise Refusal("register_first")
    reason = rules.clean_text(reason, rules.MAX_REASON, "reason_invalid")
    if now > activity.ends_at:
        raise Refusal("leave_closed", id=activity.id)
    status = await _answer_status(session, activity.id, member.id)
    if status == "leave":
        raise Refusal("leave_approved_already", id=activity.id)
    if status is not None:
        raise Refusal("leave_but_present", id=activity.id)
    return await _ask(session, "leave", activity, member, reason, now)


def _meant_for(activity: Activity, member: Member) -> bool:
    return activity.unit_id is None or activity.unit_id == member.unit_id


async def ask_makeup(
    session: AsyncSession,
    activity_id: int,
    member: Member,
    reason: str,
    now: dt.datetime,
    policy: MakeupPolicy,
    zone: ZoneInfo,
) -> Approval:
    """补签 after check-in closed, within `policy.days` of the end, a few times a quarter."""
    activity = await activities_db.get_active(session, activity_id)
    if member.registered_at is None:
        raise Refusal("register_first")
    reason = rules.clean_text(reason, rules.MAX_REASON, "reason_invalid")
    if activity.kind == "volunteer":
        raise Refusal("makeup_volunteer")
    if not _meant_for(activity, member):
        raise Refusal("makeup_not_yours", id=activity.id)
    if now <= activity.ends_at:
        raise Refusal("makeup_still_open", id=activity.id)
    if now > activity.ends_at + dt.timedelta(days=policy.days):
        raise Refusal("makeup_too_late", id=activity.id, days=policy.days)
    status = await _answer_status(session, activity.id, member.id)
    if status == "leave":
        raise Refusal("makeup_on_leave", id=activity.id)
    if status is not None:
        raise Refusal("makeup_present", id=activity.id)
    used = await makeups_in_quarter(session, member.id, activity, zone)
    if used >= policy.per_quarter:
        raise Refusal("makeup_quota", limit=policy.per_quarter)
    return await _ask(session, "makeup", activity, member, reason, now)


async def makeups_in_quarter(
    session: AsyncSession, member_id: int, activity: Activity, zone: ZoneInfo
) -> int:
    """Pending or approved make-ups of this person for activities of `activity`'s quarter."""
    start, end = rules.quarter_of(activity.starts_at.astimezone(zone).date()).bounds(zone)
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Approval)
            .join(Activity, Activity.id == Approval.activity_id)
            .where(
                Approval.kind == "makeup",
                Approval.member_id == member_id,
                Approval.status.in_(("pending", "approved")),
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
        )
        or 0
    )


async def approvers(
    session: AsyncSession, requester: Member, bootstrap_admins: frozenset[int]
) -> list[Member]:
    """Who decides: the leads of the requester's unit, else the committee (never oneself)."""
    if requester.unit_id is not None:
        leads = list(
            await session.scalars(
                select(Member)
                .where(
                    Member.lead_unit_id == requester.unit_id,
                    Member.id != requester.id,
                    Member.telegram_id.is_not(None),
                )
                .order_by(Member.id)
            )
        )
        if leads:
            return leads
    return list(
        await session.scalars(
            select(Member)
            .where(
                or_(Member.role == "admin", Member.telegram_id.in_(bootstrap_admins)),
                Member.id != requester.id,
                Member.telegram_id.is_not(None),
            )
            .order_by(Member.id)
        )
    )


def may_decide(approval: Approval, member: Member, is_admin: bool) -> bool:
    """The committee, or a lead of the requester's unit; nobody decides their own request."""
    if member.id == approval.member_id:
        return False
    return is_admin or (
        member.lead_unit_id is not None and member.lead_unit_id == approval.member.unit_id
    )


@dataclass
class Decision:
    approval: Approval
    activity: Activity
    # False: someone decided first; `approval` then shows their decision.
    won: bool


async def decide(
    session: AsyncSession,
    approval_id: int,
    round_: int,
    approve: bool,
    decider: Member,
    is_admin: bool,
    now: dt.datetime,
) -> Decision:
    """Approve or reject; the first decision of a round wins, later presses learn who won."""
    approval = await session.get(Approval, approval_id)
    if approval is None:
        raise Refusal("button_invalid")
    if not may_decide(approval, decider, is_admin):
        raise Refusal("approval_not_yours")
    activity = await activities_db.get(session, approval.activity_id)
    if activity.status == "cancelled":
        raise Refusal("activity_cancelled", id=activity.id, title=activity.title)
    won = (
        await session.execute(
            update(Approval)
            .where(
                Approval.id == approval.id,
                Approval.status == "pending",
                Approval.round == round_,
            )
            .values(
                status="approved" if approve else "rejected", decided_by=decider.id, decided_at=now
            )
            .execution_options(synchronize_session=False)
        )
    ).rowcount == 1  # type: ignore[attr-defined]
    await session.refresh(approval)
    if not won and approval.status == "pending":
        raise Refusal("approval_stale")  # a button of an earlier round of asking
    if won and approve:
        await _take_effect(session, approval, now)
    if won:
        await _cancel_unsent(session, approval.id)
    return Decision(approval, activity, won)


async def _take_effect(session: AsyncSession, approval: Approval, now: dt.datetime) -> None:
    """Approved leave → `leave`; approved 补签 → `present`, marked make-up. A check-in that
    happened meanwhile stays as it is."""
    values: dict[str, object] = {"status": "leave", "reason": approval.reason}
    if approval.kind == "makeup":
        values = {"status": "present", "makeup": True, "reason": approval.reason}
    await insert_ignore(
        session,
        Attendance,
        activity_id=approval.activity_id,
        member_id=approval.member_id,
        at=now,
        **values,
    )


async def _cancel_unsent(session: AsyncSession, approval_id: int) -> None:
    """Messages to approvers not sent yet need not go: the request is decided."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.purpose == PURPOSE,
            OutboxMessage.ref_id == approval_id,
            OutboxMessage.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )


async def pending_for(session: AsyncSession, activity_id: int) -> list[Approval]:
    """Requests of an activity still waiting for a decision, oldest first."""
    return list(
        await session.scalars(
            select(Approval)
            .where(Approval.activity_id == activity_id, Approval.status == "pending")
            .order_by(Approval.created_at, Approval.id)
        )
    )


async def of_member(
    session: AsyncSession, member_id: int, since: dt.datetime, until: dt.datetime
) -> list[tuple[Approval, Activity]]:
    """A person's requests for activities starting in [since, until), in time order."""
    rows = await session.execute(
        select(Approval, Activity)
        .join(Activity, Activity.id == Approval.activity_id)
        .where(
            Approval.member_id == member_id,
            Activity.starts_at >= since,
            Activity.starts_at < until,
        )
        .order_by(Activity.starts_at, Approval.id)
    )
    return [(approval, activity) for approval, activity in rows.all()]
