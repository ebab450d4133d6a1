"""The committee's first hour: on /start a checklist of the setup steps with the state of
each, and after each step's command the next one, until the bot is set up."""

from __future__ import annotations

from db import onboarding as onboarding_db
from handlers.context import Ctx, bot_link
from render.texts import t


def _how(ctx: Ctx, step: str) -> str:
    return t(f"onboarding_how_{step}", link=bot_link(ctx, "register"))


async def checklist(ctx: Ctx) -> str | None:
    """The steps and their state, and how to take the next; None once all are done."""
    progress = await onboarding_db.progress(ctx.session)
    if progress.next is None:
        return None
    lines = [t("onboarding_header")]
    for index, step in enumerate(onboarding_db.STEPS, 1):
        state = t("onboarding_done" if step in progress.done else "onboarding_todo")
        lines.append(t("onboarding_line", index=index, step=t(f"onboarding_{step}"), state=state))
    lines.append(t("onboarding_next", how=_how(ctx, progress.next)))
    return "\n".join(lines)


async def next_step(ctx: Ctx) -> str:
    """After a setup step's command (by the committee): the next step while one is left, as
    a paragraph to add to its answer; "" once the bot is set up."""
    if not ctx.is_admin:
        return ""
    progress = await onboarding_db.progress(ctx.session)
    if progress.next is None:
        return ""
    return "\n\n" + t("onboarding_next", how=_how(ctx, progress.next))
