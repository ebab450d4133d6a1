"""The messages of membership requests: to the committee with 批准 / 驳回 (确认 / 拒绝 for a
link to an imported person), and the decision to the person who asked. Both are automatic
private messages, held during quiet hours."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import outbox as outbox_db
from db.models import JoinRequest, Member
from render.formats import short_moment, unit_of, unit_text
from render.texts import clip, person_name, speaking, t
from scheduler.fanout import to_each

PURPOSE = "join_request"
BUTTON = r"^jr:(ok|no):([0-9]{1,9})$"


def _telegram(member: Member) -> str:
    name = " ".join(p for p in (member.first_name, member.last_name) if p) or "-"
    return name + (f" @{member.username}" if member.username else "")


def request_text(request: JoinRequest) -> str:
    person = request.member
    unit = unit_text(request.unit)
    params = {
        "id": request.id,
        "name": request.real_name or person_name(person),
        "unit": unit,
        "telegram": _telegram(person),
        "telegram_id": person.telegram_id,
    }
    if request.kind == "unit":
        return clip(t("join_request_unit", old=unit_of(person), **params))
    if request.kind == "link":
        imported = request.imported
        held = ""
        if imported is not None and (imported.role == "admin" or imported.lead_unit is not None):
            held = t("join_request_link_held")
        return clip(
            t(
                "join_request_link",
                imported=person_name(imported) if imported else "-",
                imported_unit=unit_of(imported) if imported else "-",
                held=held,
                **params,
            )
        )
    return clip(t("join_request_join", **params))


def decided_text(request: JoinRequest, zone: ZoneInfo) -> str:
    """What every committee member's copy says once it was decided (or withdrawn)."""
    if request.decider is None or request.decided_at is None:
        return clip(t("join_request_withdrawn_card", request=request_text(request)))
    return clip(
        t(
            "join_request_decided",
            request=request_text(request),
            decision=t(f"join_decision_{request.kind}_{request.status}"),
            decider=person_name(request.decider),
            at=short_moment(request.decided_at, zone),
        )
    )


async def ask_committee(
    session: AsyncSession, request: JoinRequest, admin_ids: frozenset[int]
) -> int:
    """The request to every committee member the bot may write to; how many."""
    people = await members_db.committee(session, admin_ids)
    link = request.kind == "link"
    yes, no = ("button_confirm", "button_refuse") if link else ("button_approve", "button_reject")
    asked, _ = await to_each(
        session,
        people,
        lambda person: f"join:{request.id}:to:{person.id}",
        lambda: request_text(request),
        buttons=lambda: [
            [
                outbox_db.button(t(yes), f"jr:ok:{request.id}"),
                outbox_db.button(t(no), f"jr:no:{request.id}"),
            ]
        ],
        purpose=PURPOSE,
        ref_id=request.id,
    )
    return asked


async def tell_requester(session: AsyncSession, request: JoinRequest) -> None:
    """The person learns the committee's decision privately."""
    person = request.member
    if person.telegram_id is None:
        return
    with speaking(person.lang):
        text = t(
            f"join_told_{request.kind}_{request.status}",
            name=request.real_name or person_name(person),
            unit=unit_text(request.unit),
        )
    await outbox_db.enqueue(
        session, f"join:{request.id}:told", person.chat_id, text, member_id=person.id, quiet=True
    )
