"""Personal information (China's PIPL): what the bot keeps about one person, given back to them
(/mydata) and erased on request (/forget).

Erasing removes who the person was — names, username, Telegram id, title, language, free texts
they wrote (leave and make-up reasons), what they asked the committee, where the bot wrote to
them — and keeps, unnamed, the rows the organisation's counts are made of (attendance, sign-ups
and hours, acknowledgements, answers to rapid calls, the work plan reviews they reported, which
are the organisation's work records): those then belong to 已注销成员. A signed
need becomes anonymous; a certificate still verifies its hours, without a name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Acknowledgement,
    Activity,
    Approval,
    Attendance,
    Certificate,
    Conversation,
    HoursOverride,
    JoinRequest,
    Member,
    MusterAnswer,
    Need,
    NeedEvent,
    OutboxMessage,
    PendingImport,
    Signup,
    SquadMember,
    TaskEvidence,
    TaskReview,
    WorkTask,
)

NO_RELAY = 0  # an erased person's needs can no longer be answered privately


def _at(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _own_needs(member: Member) -> Any:
    """Needs this person sent, signed or anonymous (the anonymous ones are theirs too)."""
    chat = member.telegram_id if member.telegram_id is not None else NO_RELAY - 1
    return or_(Need.member_id == member.id, Need.relay_chat_id == chat)


async def personal_data(session: AsyncSession, member: Member) -> dict[str, Any]:
    """Everything stored about `member` and nothing about anyone else, as plain data."""
    activity = {a.id: a for a in await session.scalars(select(Activity))}

    def about(activity_id: int) -> dict[str, Any]:
        found = activity.get(activity_id)
        if found is None:
            return {"id": activity_id}
        return {
            "id": found.id,
            "kind": found.kind,
            "title": found.title,
            "starts_at": _at(found.starts_at),
        }

    data: dict[str, Any] = {
        "person": {
            "telegram_id": member.telegram_id,
            "telegram_name": " ".join(p for p in (member.first_name, member.last_name) if p),
            "username": member.username,
            "real_name": member.real_name,
            "unit": member.unit.name if member.unit else None,
            "title": member.title,
            "language": member.lang,
            "role": member.role,
            "lead_of_unit": member.lead_unit.name if member.lead_unit else None,
            "first_contact": _at(member.created_at),
            "registered_at": _at(member.registered_at),
            "imported_at": _at(member.imported_at),
            "left_at": _at(member.left_at),
            "may_write_privately": member.can_dm,
        }
    }
    rows = await session.scalars(select(Attendance).where(Attendance.member_id == member.id))
    data["attendance"] = [
        {
            "activity": about(a.activity_id),
            "status": a.status,
            "at": _at(a.at),
            "reason": a.reason,
            "makeup": a.makeup,
            "checked_out_at": _at(a.checked_out_at),
        }
        for a in rows
    ]
    approvals = await session.scalars(select(Approval).where(Approval.member_id == member.id))
    data["requests"] = [
        {
            "kind": a.kind,
            "activity": about(a.activity_id),
            "reason": a.reason,
            "status": a.status,
            "asked_at": _at(a.created_at),
            "decided_at": _at(a.decided_at),
        }
        for a in approvals
    ]
    signups = await session.scalars(select(Signup).where(Signup.member_id == member.id))
    data["volunteer_signups"] = [
        {"activity": about(s.activity_id), "status": s.status, "at": _at(s.created_at)}
        for s in signups
    ]
    hours = await session.scalars(select(HoursOverride).where(HoursOverride.member_id == member.id))
    data["hours_corrected"] = [{"activity": about(h.activity_id), "hours": h.hours} for h in hours]
    acks = await session.scalars(
        select(Acknowledgement).where(Acknowledgement.member_id == member.id)
    )
    data["notices_acknowledged"] = [{"notice": a.notice_id, "at": _at(a.at)} for a in acks]
    answers = await session.scalars(select(MusterAnswer).where(MusterAnswer.member_id == member.id))
    data["rapid_calls"] = [
        {"call": a.muster_id, "answer": a.status, "at": _at(a.at)} for a in answers
    ]
    squad = await session.get(SquadMember, member.id)
    data["squad_since"] = _at(squad.joined_at) if squad else None
    needs = list(await session.scalars(select(Need).where(_own_needs(member)).order_by(Need.id)))
    events = await session.scalars(
        select(NeedEvent).where(NeedEvent.need_id.in_([n.id for n in needs])).order_by(NeedEvent.id)
    )
    by_need: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        by_need.setdefault(event.need_id, []).append(
            {"kind": event.kind, "text": event.text, "at": _at(event.at)}
        )
    data["needs"] = [
        {
            "number": n.id,
            "category": n.category,
            "text": n.text,
            "anonymous": n.anonymous,
            "status": n.status,
            "rating": n.satisfied,
            "sent_at": _at(n.created_at),
            "history": by_need.get(n.id, []),
        }
        for n in needs
    ]
    certificates = await session.scalars(
        select(Certificate).where(Certificate.member_id == member.id)
    )
    data["certificates"] = [
        {
            "code": c.code,
            "year": c.year,
            "name": c.name,
            "hours": c.hours,
            "activities": c.activities,
            "issued_at": _at(c.issued_at),
        }
        for c in certificates
    ]
    joins = await session.scalars(select(JoinRequest).where(JoinRequest.member_id == member.id))
    data["membership_requests"] = [
        {
            "kind": j.kind,
            "name": j.real_name,
            "unit": j.unit.name if j.unit else None,
            "status": j.status,
            "asked_at": _at(j.created_at),
            "decided_at": _at(j.decided_at),
        }
        for j in joins
    ]
    reviews = await session.execute(
        select(TaskReview, WorkTask.title)
        .join(WorkTask, WorkTask.id == TaskReview.task_id)
        .where(TaskReview.reported_by == member.id)
        .order_by(TaskReview.id)
    )
    files = await session.scalars(select(TaskEvidence).where(TaskEvidence.added_by == member.id))
    data["work_plan_reviews"] = [
        {
            "task": title,
            "quarter": f"{r.year}-Q{r.quarter}",
            "state": r.state,
            "note": r.note,
            "at": _at(r.reported_at),
        }
        for r, title in reviews.all()
    ]
    data["work_plan_evidence"] = [
        {"kind": f.kind, "file_name": f.file_name, "at": _at(f.at)} for f in files
    ]
    if member.telegram_id is not None:
        sent = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == member.telegram_id)
            .order_by(OutboxMessage.id)
        )
        data["private_messages_from_the_bot"] = [
            {"at": _at(m.sent_at or m.created_at), "status": m.status, "text": m.text} for m in sent
        ]
    return data


@dataclass
class Erasure:
    """What /forget erases (or did) and what stays, unnamed, for the organisation's counts."""

    reasons: int = 0  # leave and make-up reasons erased
    needs: int = 0  # needs made anonymous and unanswerable
    messages: int = 0  # private messages from the bot forgotten
    requests: int = 0  # membership requests deleted
    kept_attendance: int = 0
    kept_signups: int = 0
    kept_acks: int = 0
    kept_answers: int = 0
    certificates: int = 0
    kept_reviews: int = 0  # work plan reviews they reported


async def _count(session: AsyncSession, model: type[Any], member: Member) -> int:
    rows = await session.scalars(select(model.id).where(model.member_id == member.id))
    return len(list(rows))


async def plan(session: AsyncSession, member: Member) -> Erasure:
    """What erasing `member` would do (the preview before 确认删除)."""
    reasons = await session.scalars(
        select(Attendance.id).where(
            Attendance.member_id == member.id, Attendance.reason.is_not(None)
        )
    )
    approvals = await _count(session, Approval, member)
    needs = await session.scalars(select(Need.id).where(_own_needs(member)))
    messages = 0
    if member.telegram_id is not None:
        messages = len(
            list(
                await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.chat_id == member.telegram_id)
                )
            )
        )
    return Erasure(
        reasons=len(list(reasons)) + approvals,
        needs=len(list(needs)),
        messages=messages,
        requests=await _count(session, JoinRequest, member),
        kept_attendance=await _count(session, Attendance, member),
        kept_signups=await _count(session, Signup, member),
        kept_acks=await _count(session, Acknowledgement, member),
        kept_answers=await _count(session, MusterAnswer, member),
        certificates=await _count(session, Certificate, member),
        kept_reviews=len(
            list(
                await session.scalars(
                    select(TaskReview.id).where(TaskReview.reported_by == member.id)
                )
            )
        ),
    )


async def erase(session: AsyncSession, member: Member, now: dt.datetime) -> Erasure:
    """Erase who `member` was; the rows the counts need stay, unnamed. Sign-ups for activities
    not yet begun are withdrawn by the caller first (their places go to the waitlist)."""
    done = await plan(session, member)
    telegram_id = member.telegram_id
    await session.execute(
        update(Attendance).where(Attendance.member_id == member.id).values(reason=None)
    )
    await session.execute(update(Approval).where(Approval.member_id == member.id).values(reason=""))
    await session.execute(
        update(Need)
        .where(_own_needs(member))
        .values(anonymous=True, member_id=None, relay_chat_id=NO_RELAY)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Certificate).where(Certificate.member_id == member.id).values(name="")
    )
    await session.execute(delete(SquadMember).where(SquadMember.member_id == member.id))
    await session.execute(delete(Conversation).where(Conversation.member_id == member.id))
    await session.execute(delete(PendingImport).where(PendingImport.member_id == member.id))
    await session.execute(delete(JoinRequest).where(JoinRequest.member_id == member.id))
    if telegram_id is not None:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.chat_id == telegram_id))
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.member_id == member.id).values(member_id=None)
    )
    member.telegram_id = None
    member.first_name, member.last_name, member.username = "", None, None
    member.real_name = member.title = member.lang = None
    member.can_dm = False
    member.group_hint_at = member.group_reply_at = None
    member.flood_tokens = member.flood_at = member.flood_noted_at = None
    member.left_at = member.left_at or now
    member.left_reason = member.left_reason or "left"
    member.erased_at = now
    await session.flush()
    return done


async def future_signups(session: AsyncSession, member: Member, now: dt.datetime) -> list[int]:
    """Activities not yet begun this person is signed up for (withdrawn before erasing)."""
    rows = await session.scalars(
        select(Signup.activity_id)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Signup.member_id == member.id, Activity.starts_at > now, Activity.status == "active")
    )
    return list(rows)
