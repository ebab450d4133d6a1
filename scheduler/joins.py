"""The messages of membership requests: to the committee with 批准 / 驳回 (确认 / 拒绝 for a
link to an imported person), and the decision to the person who asked. Both are automatic
private messages, held during quiet hours."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import PerLanguage, clip, person_name, t, t_in
from db import members as members_db
from db import outbox as outbox_db
from db.models import JoinRequest, Member

PURPOSE = "join_request"
BUTTON = r"^jr:(ok|no):([0-9]{1,9})$"


def _unit(member: Member) -> str:
    return member.unit.name if member.unit is not None else t("no_unit")


def _telegram(member: Member) -> str:
    name = " ".join(p for p in (member.first_name, member.last_name) if p) or "-"
    return name + (f" @{member.username}" if member.username else "")


def request_text(request: JoinRequest) -> str:
    person = request.member
    unit = request.unit.name if request.unit is not None else t("no_unit")
    params = {
        "id": request.id,
        "name": request.real_name or person_name(person),
        "unit": unit,
        "telegram": _telegram(person),
        "telegram_id": person.telegram_id,
    }
    if request.kind == "unit":
        return clip(t("join_request_unit", old=_unit(person), **params))
    if request.kind == "link":
        imported = request.imported
        held = ""
        if imported is not None and (imported.role == "admin" or imported.lead_unit is not None):
            held = t("join_request_link_held")
        return clip(
            t(
                "join_request_link",
                imported=person_name(imported) if imported else "-",
                imported_unit=_unit(imported) if imported else "-",
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
            at=request.decided_at.astimezone(zone).strftime("%m-%d %H:%M"),
        )
    )


async def ask_committee(
    session: AsyncSession, request: JoinRequest, admin_ids: frozenset[int]
) -> int:
    """The request to every committee member the bot may write to; how many."""
    people = await members_db.committee(session, admin_ids)
    text = PerLanguage(lambda: request_text(request))
    yes, no = (
        ("button_confirm", "button_refuse")
        if request.kind == "link"
        else (
            "button_approve",
            "button_reject",
        )
    )
    buttons = PerLanguage(
        lambda: [
            [
                outbox_db.button(t(yes), f"jr:ok:{request.id}"),
                outbox_db.button(t(no), f"jr:no:{request.id}"),
            ]
        ]
    )
    for person in people:
        await outbox_db.enqueue(
            session,
            f"join:{request.id}:to:{person.id}",
            person.chat_id,
            text(person.lang),
            buttons=buttons(person.lang),
            purpose=PURPOSE,
            ref_id=request.id,
            member_id=person.id,
            quiet=True,
        )
    return len(people)


async def tell_requester(session: AsyncSession, request: JoinRequest) -> None:
    """The person learns the committee's decision privately."""
    person = request.member
    if person.telegram_id is None:
        return
    unit = request.unit.name if request.unit is not None else t_in(person.lang, "no_unit")
    text = t_in(
        person.lang,
        f"join_told_{request.kind}_{request.status}",
        name=request.real_name or person_name(person),
        unit=unit,
    )
    await outbox_db.enqueue(
        session, f"join:{request.id}:told", person.chat_id, text, member_id=person.id, quiet=True
    )
