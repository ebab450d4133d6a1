"""The messages of the approval flow: requests to approvers, decisions to the requester,
and one reminder to approvers of leave still pending when the activity ends."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import approvals as approvals_db
from db import outbox as outbox_db
from db.models import Activity, Approval, Member
from render.formats import activity_start, short_moment, unit_of
from render.texts import clip, listing, person_name, t, t_in
from scheduler.fanout import to_each

BUTTON = r"^apv:(ok|no):([0-9]{1,9}):([0-9]{1,4})$"


def request_text(approval: Approval, activity: Activity, zone: ZoneInfo) -> str:
    return clip(
        t(
            "approval_request",
            what=t(f"approval_kind_{approval.kind}"),
            name=person_name(approval.member),
            unit=unit_of(approval.member),
            id=activity.id,
            title=activity.title,
            when=activity_start(activity, zone),
            reason=approval.reason,
        )
    )


def decided_text(approval: Approval, activity: Activity, zone: ZoneInfo) -> str:
    """What every approver's message says once someone decided."""
    assert approval.decider is not None and approval.decided_at is not None
    return clip(
        t(
            "approval_decided_card",
            request=request_text(approval, activity, zone),
            decision=t(f"approval_status_{approval.status}"),
            decider=person_name(approval.decider),
            at=short_moment(approval.decided_at, zone),
        )
    )


async def ask_approvers(
    session: AsyncSession,
    approval: Approval,
    activity: Activity,
    zone: ZoneInfo,
    admin_ids: frozenset[int],
) -> int:
    """One private message with 批准 / 驳回 to each approver (in their language); how many
    were queued."""
    people = await approvals_db.approvers(session, approval.member, admin_ids)
    data = f"{approval.id}:{approval.round}"
    asked: int
    asked, _ = await to_each(
        session,
        people,
        lambda person: f"approval:{approval.id}:r{approval.round}:to:{person.id}",
        lambda: request_text(approval, activity, zone),
        buttons=lambda: [
            [
                outbox_db.button(t("button_approve"), f"apv:ok:{data}"),
                outbox_db.button(t("button_reject"), f"apv:no:{data}"),
            ]
        ],
        purpose=approvals_db.PURPOSE,
        ref_id=approval.id,
    )
    return asked


async def tell_requester(
    session: AsyncSession, approval: Approval, activity: Activity, zone: ZoneInfo
) -> None:
    """The requester learns the decision privately (a check-in stays possible if rejected)."""
    requester = approval.member
    if requester.telegram_id is None:
        return
    key = "approval_told_ok" if approval.status == "approved" else "approval_told_no"
    text = t_in(
        requester.lang,
        f"{key}_{approval.kind}",
        id=activity.id,
        title=activity.title,
        decider=person_name(approval.decider) if approval.decider else "",
    )
    await outbox_db.enqueue(
        session,
        f"approval:{approval.id}:r{approval.round}:told",
        requester.chat_id,
        text,
        member_id=requester.id,
        quiet=True,
    )


def _pending_text(activity: Activity, waiting: list[Approval]) -> Callable[[], str]:
    return lambda: t(
        "approval_pending_reminder",
        id=activity.id,
        title=activity.title,
        names=listing(person_name(a.member) for a in waiting),
    )


async def remind_pending(
    session: AsyncSession, activity: Activity, zone: ZoneInfo, admin_ids: frozenset[int]
) -> int:
    """At the end of an activity: one reminder per approver of leave still pending."""
    pending = [a for a in await approvals_db.pending_for(session, activity.id) if a.kind == "leave"]
    by_approver: dict[int, tuple[Member, list[Approval]]] = {}
    for approval in pending:
        for person in await approvals_db.approvers(session, approval.member, admin_ids):
            by_approver.setdefault(person.id, (person, []))[1].append(approval)
    for person, waiting in by_approver.values():
        await to_each(
            session,
            [person],
            lambda p: f"approval:activity:{activity.id}:pending:to:{p.id}",
            _pending_text(activity, waiting),
        )
    return len(by_approver)
