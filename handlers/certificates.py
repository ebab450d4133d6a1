"""/certificate: one's own volunteer-hours certificate (PDF, privately); /verify 代码: anyone.

What is certified is read and recorded in the update's transaction; the PDF is drawn from that
after the commit (in a worker thread) and sent as a document into the private chat, so its code
verifies as soon as the person has it. A send that fails costs nothing: asking again gives the
same certificate and code while nothing changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from db import certificates as certificates_db
from db import rules
from db.errors import Refusal
from db.models import Member
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.certificate import Document, file_name
from render.formats import hours_text, unit_of
from render.texts import t

log = logging.getLogger(__name__)


@handler(where="private")
async def certificate(ctx: Ctx) -> None:
    if len(ctx.args) > 1:
        raise Refusal("cert_usage")
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    year = certificates_db.parse_year(
        ctx.args[0] if ctx.args else None, now.astimezone(zone).date()
    )
    ctx.after_commit(await issue(ctx.session, ctx.member, year, zone, now, ctx.context.bot))


async def issue(
    session: AsyncSession, member: Member, year: int, zone: ZoneInfo, now: dt.datetime, bot: Bot
) -> Callable[[], Awaitable[None]]:
    """Issue (or find again) the person's certificate of `year`, in this transaction; what it
    returns sends the PDF privately, to be called once committed (/certificate, the
    dashboard)."""
    issued = await certificates_db.issue(session, member, year, zone, now)
    row = issued.certificate
    code = certificates_db.grouped(row.code)
    document = Document(
        name=row.name,
        unit=unit_of(member),
        year=year,
        entries=issued.statement.entries,
        total=row.hours,
        issued=rules.local_today(row.issued_at, zone),
        code=code,
        bot_username=bot.username,
    )
    caption = t(
        "cert_caption",
        year=year,
        count=row.activities,
        hours=hours_text(row.hours),
        code=code,
    )
    # Plain values: the row is not read again once the transaction is over.
    chat, member_id, certificate_id = member.chat_id, member.id, row.id
    name = file_name(row.name, year)
    what = "again" if issued.reused else "new"

    async def send() -> None:
        # fpdf2 is loaded with the first certificate drawn: the bot starts without it.
        from render.certificate_pdf import render_pdf

        data = await asyncio.to_thread(render_pdf, document)
        try:
            await bot.send_document(chat, data, filename=name, caption=caption)
        except TelegramError as exc:
            log.warning("certificate %s not sent: %s", certificate_id, exc)
            return
        log.info("certificate %s (%s) sent to member %s", certificate_id, what, member_id)

    return send


@handler(anyone=True)
async def verify(ctx: Ctx) -> None:
    """Anyone, anywhere: what a code certified (a newer certificate of that year is noted)."""
    if not ctx.args:
        raise Refusal("cert_verify_usage")
    code = certificates_db.normalize("".join(ctx.args))
    found = await certificates_db.find(ctx.session, code) if code is not None else None
    if found is None:
        raise Refusal("cert_unknown")
    zone = ctx.services.settings.timezone
    text = t(
        "cert_verified",
        code=certificates_db.grouped(found.code),
        name=found.name,
        year=found.year,
        count=found.activities,
        hours=hours_text(found.hours),
        issued=rules.local_today(found.issued_at, zone).isoformat(),
        committee=t("cert_committee"),
    )
    if await certificates_db.superseded(ctx.session, found):
        text += "\n" + t("cert_superseded", year=found.year)
    ctx.reply(text)


def handlers() -> Handlers:
    return [CommandHandler("certificate", certificate), CommandHandler("verify", verify)]
