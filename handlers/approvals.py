"""Leave approval and 补签: /makeup, and the approvers' 批准 / 驳回 buttons."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler

from db import activities as activities_db
from db import approvals as approvals_db
from db.errors import Refusal
from db.models import Activity, Approval
from db.rules import parse_id
from handlers.context import Ctx, Handlers
from handlers.delivery import replace_everywhere
from handlers.runner import handler
from render.texts import PerLanguage, person_name, t
from scheduler import approvals as approvals_sched
from scheduler.activity_cards import CARD

DECISION = re.compile(approvals_sched.BUTTON)


async def ask(ctx: Ctx, approval: Approval, activity: Activity) -> None:
    """Queue the request to its approvers and tell the person it waits (待审批)."""
    zone, admins = ctx.services.settings.timezone, ctx.services.settings.admin_ids
    asked = await approvals_sched.ask_approvers(ctx.session, approval, activity, zone, admins)
    ctx.wake_outbox()
    ctx.touch_card(CARD, activity.id)
    text = t(f"{approval.kind}_asked", id=activity.id, title=activity.title, reason=approval.reason)
    ctx.reply(text if asked else text + t("approval_nobody"))


async def ask_leave(ctx: Ctx, activity: Activity, reason: str) -> None:
    approval = await approvals_db.ask_leave(
        ctx.session, activity, ctx.member, reason, ctx.services.now()
    )
    await ask(ctx, approval, activity)


@handler()
async def makeup(ctx: Ctx) -> None:
    """/makeup 编号 原因: 补签 after check-in closed, decided by an approver."""
    if len(ctx.args) < 2:
        raise Refusal("makeup_usage", days=ctx.services.settings.makeup_days)
    activity_id = parse_id(ctx.args[0])
    approval = await approvals_db.ask_makeup(
        ctx.session,
        activity_id,
        ctx.member,
        " ".join(ctx.args[1:]),
        ctx.services.now(),
        ctx.services.makeup,
        ctx.services.settings.timezone,
    )
    await ask(ctx, approval, await activities_db.get(ctx.session, activity_id))


@handler(where="private")
async def on_decision(ctx: Ctx) -> None:
    """批准 / 驳回 in an approver's private chat. The first decision wins; every approver's
    message then says who decided, and the person is told."""
    match = ctx.button(DECISION)
    approve, approval_id, round_ = match[1] == "ok", int(match[2]), int(match[3])
    decision = await approvals_db.decide(
        ctx.session,
        approval_id,
        round_,
        approve,
        ctx.member,
        ctx.is_admin,
        ctx.services.now(),
    )
    approval, activity, zone = decision.approval, decision.activity, ctx.services.settings.timezone
    assert approval.decider is not None
    if decision.won:
        await approvals_sched.tell_requester(ctx.session, approval, activity, zone)
        ctx.wake_outbox()
        ctx.touch_card(CARD, activity.id)
        ctx.toast(t(f"approval_done_{approval.status}", name=person_name(approval.member)))
    else:
        ctx.toast(
            t(
                "approval_decided_before",
                decider=person_name(approval.decider),
                decision=t(f"approval_status_{approval.status}"),
            ),
            alert=True,
        )
    # Every approver's message (this one too) now says who decided, without buttons.
    await replace_everywhere(
        ctx,
        approvals_db.PURPOSE,
        approval.id,
        PerLanguage(lambda: approvals_sched.decided_text(approval, activity, zone)),
    )


def handlers() -> Handlers:
    return [
        CallbackQueryHandler(on_decision, pattern=r"^apv:"),
        CommandHandler("makeup", makeup),
    ]
