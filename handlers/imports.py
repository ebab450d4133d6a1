"""/import: the committee's roster from an .xlsx or .csv file — previewed, then confirmed.

Nothing is written until 确认导入. The file stays at Telegram between the preview and the
confirmation (only its id is kept), so a restart in between loses nothing.
"""

from __future__ import annotations

import re

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from db import imports as imports_db
from db.errors import Refusal
from handlers import onboarding
from handlers.context import Ctx, Handlers, bot_link
from handlers.runner import handler
from render import roster_file
from render.texts import listing, t

BUTTON = re.compile(r"^imp:(ok|no):([0-9]{1,9})$")
ERRORS_SHOWN = 10


def imported_document(ctx: Ctx) -> Document | None:
    """The file: sent with the command as its caption, or the message the command answers."""
    message = ctx.message
    if message is None:
        return None
    if message.document is not None:
        return message.document
    replied = message.reply_to_message
    return replied.document if replied is not None else None


async def _read(ctx: Ctx, file_id: str, file_name: str, size: int | None) -> roster_file.Roster:
    roster_file.check_name(file_name)
    if size is not None:
        roster_file.check_size(size)
    file = await ctx.context.bot.get_file(file_id)
    content = bytes(await file.download_as_bytearray())
    # An exported ledger imports back: its 成员 sheet is the roster.
    return roster_file.parse_roster(file_name, content, sheet=t("sheet_roster"))


def _errors(parsed: roster_file.Roster) -> str:
    if not parsed.errors:
        return ""
    lines = [t(e.key, **e.params) for e in parsed.errors[:ERRORS_SHOWN]]
    return t("import_preview_errors", shown=len(lines), lines="\n".join(lines))


def _units(plan: imports_db.ImportPlan) -> str:
    return t("import_preview_units", units=listing(plan.new_units)) if plan.new_units else ""


@handler(admin=True, where="private")
async def import_roster(ctx: Ctx) -> None:
    if ctx.args == ["template"]:
        ctx.after_commit(lambda: _send_template(ctx))
        return
    document = imported_document(ctx)
    if document is None or ctx.args:
        raise Refusal("import_usage")
    name = document.file_name or ""
    parsed = await _read(ctx, document.file_id, name, document.file_size)
    if not parsed.rows:
        ctx.reply(t("import_nothing", errors=len(parsed.errors), error_lines=_errors(parsed)))
        return
    now = ctx.services.now()
    plan = await imports_db.import_roster(ctx.session, parsed.rows, now, write=False)
    import_id = await imports_db.pending_import(
        ctx.session, ctx.member, document.file_id, name, now
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("button_import_ok"), callback_data=f"imp:ok:{import_id}"),
                InlineKeyboardButton(t("button_import_no"), callback_data=f"imp:no:{import_id}"),
            ]
        ]
    )
    preview = t(
        "import_preview",
        file=roster_file.shown_name(name),
        new=plan.new,
        updated=plan.updated,
        unchanged=plan.unchanged,
        errors=len(parsed.errors),
        units=_units(plan),
        error_lines=_errors(parsed),
    )
    ctx.reply(preview, markup=buttons)


async def _send_template(ctx: Ctx) -> None:
    user = ctx.update.effective_user
    assert user is not None
    await ctx.context.bot.send_document(
        user.id,
        roster_file.template(),
        filename=t("import_template_file"),
        caption=t("import_template_caption"),
    )


@handler(admin=True, where="private")
async def on_button(ctx: Ctx) -> None:
    match = ctx.button(BUTTON)
    now = ctx.services.now()
    pending = await imports_db.take_pending_import(ctx.session, int(match[2]), ctx.member, now)
    settle_preview(ctx)
    if match[1] == "no":
        ctx.toast(t("import_cancelled"))
        ctx.reply(t("import_cancelled"))
        return
    # Read the file again: what is written is exactly what was previewed and confirmed.
    parsed = await _read(ctx, pending.file_id, pending.file_name, None)
    plan = await imports_db.import_roster(ctx.session, parsed.rows, now, write=True)
    done = t(
        "import_done",
        new=plan.new,
        updated=plan.updated,
        unchanged=plan.unchanged,
        units=t("import_done_units", units=listing(plan.new_units)) if plan.new_units else "",
    )
    ctx.toast(t("import_done_toast"))
    ctx.reply(done + await onboarding.next_step(ctx) + "\n\n" + t("import_invitation_note"))
    # Ready to forward to the group: the link opens the private chat at registering, where
    # each imported person confirms who they are with one button.
    ctx.reply(t("import_invitation", link=bot_link(ctx, "register")))


def settle_preview(ctx: Ctx) -> None:
    """The preview's buttons go once one was pressed; its text stays."""
    query = ctx.update.callback_query
    message = query.message if query is not None else None
    text = getattr(message, "text", None)
    if text:
        ctx.settle_pressed(text)


def handlers() -> Handlers:
    caption = filters.Document.ALL & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)")
    return [
        CommandHandler("import", import_roster),
        MessageHandler(caption, import_roster),
        CallbackQueryHandler(on_button, pattern=r"^imp:"),
    ]
