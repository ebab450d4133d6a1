"""One router for conversations: a private text goes to the conversation waiting for it (its
state is a row of db.conversations, so any instance takes the next step), and /cancel ends it.

Each feature owns its kinds: it starts a conversation with `db.conversations.begin` and names
the step that takes the next text in its `STEPS`; the composition root hands them all to
`Router`. A text no conversation waits for is what people type anyway (收到, 签到:
handlers.replies).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram.ext import CommandHandler, MessageHandler, filters

from db import conversations as conversations_db
from db import members as members_db
from db.conversations import Waiting
from handlers.context import Ctx, Handlers
from handlers.runner import handler, refuse_outsiders
from render.texts import t

# The step a waiting conversation takes with the person's next private text.
Step = Callable[[Ctx, Waiting, str], Awaitable[None]]


class Router:
    """`steps`: each conversation kind's step; `anyone`: the kinds open to people who are not
    (yet) the organisation's (registering); `otherwise`: a text no conversation waits for."""

    def __init__(
        self,
        steps: Mapping[str, Step],
        otherwise: Callable[[Ctx], Awaitable[None]],
        anyone: frozenset[str] = frozenset(),
    ) -> None:
        self._steps = dict(steps)
        self._otherwise = otherwise
        self._anyone = anyone

    async def _on_text(self, ctx: Ctx) -> None:
        text = ctx.message.text if ctx.message is not None else None
        if text is None:
            return
        # Only a conversation waiting for text (a question answered by button is not).
        waiting = await conversations_db.waiting(
            ctx.session, ctx.member.id, ctx.services.now(), kinds=self._steps
        )
        step = self._steps.get(waiting.kind) if waiting is not None else None
        if waiting is None or waiting.kind not in self._anyone:
            await refuse_outsiders(ctx)
        if waiting is None or step is None:
            await self._otherwise(ctx)
            return
        await step(ctx, waiting, text)

    async def _cancel(self, ctx: Ctx) -> None:
        """/cancel: end the conversation waiting, and withdraw a request still waiting."""
        had = await conversations_db.end(ctx.session, ctx.member.id)
        had = await members_db.cancel_requests(ctx.session, ctx.member) > 0 or had
        ctx.reply(t("dialog_cancelled" if had else "dialog_nothing"))

    def handlers(self) -> Handlers:
        text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
        return [
            CommandHandler("cancel", handler(anyone=True)(self._cancel)),
            MessageHandler(text, handler(where="private", anyone=True)(self._on_text)),
        ]
