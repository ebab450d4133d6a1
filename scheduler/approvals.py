"""The messages of the approval flow: requests to approvers, decisions to the requester,
and one reminder to approvers of leave still pending when the activity ends."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import PerLanguage, clip, listing, person_name, speaking, t, t_in
from db import approvals as approvals_db
from db import outbox as outbox_db
from db.models import Activity, Approval, Member

BUTTON = r"^apv:(ok|no):([0-9]{1,9}):([0-9]{1,4})$"


def _when(activity: Activity, zone: ZoneInfo) -> str:
    return activity.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def unit_name(member: Member) -> str:
    return member.unit.name if member.unit is not None else t("no_unit")


def request_text(approval: Approval, activity: Activity, zone: ZoneInfo) -> str:
    return clip(
        t(
            "approval_request",
            what=t(f"approval_kind_{approval.kind}"),
            name=person_name(approval.member),
            unit=unit_name(approval.member),
            id=activity.id,
            title=activity.title,
            when=_when(activity, zone),
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
            at=approval.decided_at.astimezone(zone).strftime("%m-%d %H:%M"),
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
    text = PerLanguage(lambda: request_text(approval, activity, zone))
    data = f"{approval.id}:{approval.round}"
    buttons = PerLanguage(
        lambda: [
            [
                outbox_db.button(t("button_approve"), f"apv:ok:{data}"),
                outbox_db.button(t("button_reject"), f"apv:no:{data}"),
            ]
        ]
    )
    for person in people:
        await outbox_db.enqueue(
            session,
            f"approval:{approval.id}:r{approval.round}:to:{person.id}",
            person.chat_id,
            text(person.lang),
            buttons=buttons(person.lang),
            purpose=approvals_db.PURPOSE,
            ref_id=approval.id,
            member_id=person.id,
            quiet=True,
        )
    return len(people)


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
        with speaking(person.lang):
            names = listing(person_name(a.member) for a in waiting)
            text = t("approval_pending_reminder", id=activity.id, title=activity.title, names=names)
        await outbox_db.enqueue(
            session,
            f"approval:activity:{activity.id}:pending:to:{person.id}",
            person.chat_id,
            clip(text),
            member_id=person.id,
            quiet=True,
        )
    return len(by_approver)
