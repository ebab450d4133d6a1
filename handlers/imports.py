"""/import: the committee's roster from an .xlsx or .csv file — previewed, then confirmed.

Nothing is written until 确认导入. The file stays at Telegram between the preview and the
confirmation (only its id is kept), so a restart in between loses nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Bot, Document, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from db import imports as imports_db
from db import rules
from db.errors import Refusal
from db.models import PendingImport
from handlers import onboarding
from handlers.context import Ctx, Handlers, bot_link
from handlers.runner import handler, render_refusal
from render import roster_file, table_file
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


async def download(ctx: Ctx, file_id: str, file_name: str, size: int | None) -> bytes:
    """An uploaded table's bytes, its name and stated size checked before it is fetched."""
    table_file.check_name(file_name)
    if size is not None:
        table_file.check_size(size)
    file = await ctx.context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


def error_lines(lines: list[str]) -> str:
    """The first rows that cannot be imported, with why ("" when there are none)."""
    if not lines:
        return ""
    shown = lines[:ERRORS_SHOWN]
    return t("import_preview_errors", shown=len(shown), lines="\n".join(shown))


def preview_buttons(prefix: str, import_id: int) -> InlineKeyboardMarkup:
    """确认导入 and 取消 under a preview: `<prefix>:ok|no:<id>`."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("button_import_ok"), callback_data=f"{prefix}:ok:{import_id}"
                ),
                InlineKeyboardButton(
                    t("button_import_no"), callback_data=f"{prefix}:no:{import_id}"
                ),
            ]
        ]
    )


def send_template(ctx: Ctx, content: bytes, filename: str, caption: str) -> None:
    """An empty table to fill in, privately, once the update committed."""
    user = ctx.update.effective_user
    assert user is not None
    bot = ctx.context.bot
    ctx.after_commit(lambda: _send(bot, user.id, content, filename, caption))


async def _send(bot: Bot, chat_id: int, content: bytes, filename: str, caption: str) -> None:
    await bot.send_document(chat_id, content, filename=filename, caption=caption)


async def confirmed(ctx: Ctx, pattern: re.Pattern[str], kind: str) -> PendingImport | None:
    """A preview's button pressed by the one who asked: the previewed file for 确认导入 (then
    read it again: what is written is exactly what was previewed); None for 取消, said so."""
    match = ctx.button(pattern)
    now = ctx.services.now()
    pending = await imports_db.take_pending_import(
        ctx.session, int(match[2]), ctx.member, now, kind
    )
    settle_preview(ctx)
    if match[1] == "no":
        ctx.toast(t("import_cancelled"))
        ctx.reply(t("import_cancelled"))
        return None
    return pending


@dataclass(frozen=True)
class Items:
    """A kind of list the committee brings in from a file and the bot counts row by row
    (the study plan, the work plan's tasks): its preview's kind and button prefix, the
    catalog's `<texts>_private|usage|preview|done` keys, how a file is read, and the `db/`
    operation that counts (`write` False: the preview) or writes it."""

    kind: str
    prefix: str
    texts: str
    parse: Callable[[str, bytes], Sequence[object]]  # a file's name and bytes → its rows
    # (session, rows, creator, today, now, *, write) → what it would do or did
    apply: Callable[..., Awaitable[imports_db.Counted]]


def _item_errors(done: imports_db.Counted) -> str:
    return error_lines(
        [
            t("plan_import_row", row=row, reason=render_refusal(refused))
            for row, refused in done.errors
        ]
    )


async def _items(ctx: Ctx, items: Items, file_id: str, name: str, size: int | None) -> list[object]:
    return list(items.parse(name, await download(ctx, file_id, name, size)))


async def preview_items(ctx: Ctx, items: Items, today: dt.date, now: dt.datetime) -> None:
    """A file sent with the import command as its caption (or answered with it): what it
    would do, written nowhere until 确认导入."""
    if not ctx.in_private:
        raise Refusal(f"{items.texts}_private")
    document = imported_document(ctx)
    if document is None:
        raise Refusal(f"{items.texts}_usage")
    name = document.file_name or ""
    rows = await _items(ctx, items, document.file_id, name, document.file_size)
    done = await items.apply(ctx.session, rows, ctx.member, today, now, write=False)
    if not (done.new or done.updated or done.unchanged):
        ctx.reply(t("import_nothing", errors=len(done.errors), error_lines=_item_errors(done)))
        return
    import_id = await imports_db.pending_import(
        ctx.session, ctx.member, document.file_id, name, now, kind=items.kind
    )
    preview = t(
        f"{items.texts}_preview",
        file=table_file.shown_name(name),
        new=done.new,
        updated=done.updated,
        unchanged=done.unchanged,
        errors=len(done.errors),
        error_lines=_item_errors(done),
    )
    ctx.reply(preview, markup=preview_buttons(items.prefix, import_id))


async def confirm_items(ctx: Ctx, items: Items, pattern: re.Pattern[str]) -> None:
    """确认导入 writes what the preview showed (the file read again); 取消 writes nothing."""
    pending = await confirmed(ctx, pattern, items.kind)
    if pending is None:
        return
    now = ctx.services.now()
    rows = await _items(ctx, items, pending.file_id, pending.file_name, None)
    today = rules.local_today(now, ctx.services.settings.timezone)
    done = await items.apply(ctx.session, rows, ctx.member, today, now, write=True)
    ctx.toast(t("import_done_toast"))
    ctx.reply(
        t(
            f"{items.texts}_done",
            new=done.new,
            updated=done.updated,
            unchanged=done.unchanged,
            errors=len(done.errors),
        )
    )


async def _read(ctx: Ctx, file_id: str, file_name: str, size: int | None) -> roster_file.Roster:
    content = await download(ctx, file_id, file_name, size)
    # An exported ledger imports back: its 成员 sheet is the roster.
    return roster_file.parse_roster(file_name, content, sheet=t("sheet_roster"))


def _errors(parsed: roster_file.Roster) -> str:
    return error_lines([t(e.key, **e.params) for e in parsed.errors])


def _units(plan: imports_db.ImportPlan) -> str:
    return t("import_preview_units", units=listing(plan.new_units)) if plan.new_units else ""


@handler(admin=True, where="private")
async def import_roster(ctx: Ctx) -> None:
    if ctx.args == ["template"]:
        caption = t("import_template_caption")
        send_template(ctx, roster_file.template(), t("import_template_file"), caption)
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
    ctx.reply(preview, markup=preview_buttons("imp", import_id))


@handler(admin=True, where="private")
async def on_button(ctx: Ctx) -> None:
    pending = await confirmed(ctx, BUTTON, "roster")
    if pending is None:
        return
    parsed = await _read(ctx, pending.file_id, pending.file_name, None)
    plan = await imports_db.import_roster(ctx.session, parsed.rows, ctx.services.now(), write=True)
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
