"""我为青年办实事: /need (a young staff member's need, privately to the committee) and /needs
(the committee follows it up: list, details and history, reply, status, the sender's rating).

/need in a private chat is a guided dialogue — a category button, the text typed, then 署名 or
匿名 — or one line `/need 类别 内容 [匿名]`. Its state is a conversation of kind `need`
(db.conversations), so any instance takes the next step; one left for an hour is forgotten. The
typed text reaches `on_text` through the conversation router. In a group /need is refused,
pointing to the
private chat, without repeating what was typed (and a need typed there is deleted when the bot
may delete messages).

Anonymous means anonymous to the committee: an anonymous need stores no member, and nothing
the committee is shown — /needs, a need's history, the new-need message, the ledger, the
report — names the sender, their username or their Telegram id. The committee's replies and
status changes reach the sender through the outbox, into `Need.relay_chat_id`, which is never
rendered, exported or logged (outbox keys name the need and the event, not the chat).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler

from db import chats as chats_db
from db import conversations as conversations_db
from db import members as members_db
from db import needs as needs_db
from db import outbox as outbox_db
from db.conversations import Waiting
from db.errors import Refusal
from db.models import RATINGS, Member, Need
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.formats import category_name, local_moment, month_day, short_moment, unit_of, unit_text
from render.texts import clip, paginate, person_name, speaking, t
from scheduler.fanout import to_each

log = logging.getLogger(__name__)

PURPOSE = "need"  # outbox purpose of the messages about a need
NEED = "need"  # the conversation kind of a need being written
CATEGORY_BUTTON = re.compile(r"^need:c:(.{1,4})$")
SIGN_BUTTON = re.compile(r"^need:s:(signed|anon)$")
RATE_BUTTON = re.compile(r"^need:r:([0-9]{1,9}):(yes|no)$")
PAGE_SIZE = 20
NEW_PREVIEW = 100  # characters of the text in the committee's new-need message
LINE_PREVIEW = 40  # characters of the text in a /needs list line
STATUS_WORDS = {
    "受理": "accepted",
    "已受理": "accepted",
    "办理中": "in_progress",
    "办结": "done",
    "已办结": "done",
    "accepted": "accepted",
    "in_progress": "in_progress",
    "done": "done",
}
FILTER_WORDS = {"待受理": ("new",), **{w: (s,) for w, s in STATUS_WORDS.items()}}
ANONYMOUS_WORDS = ("匿名", "anonymous")  # the last word of a one-line /need


def _rest(ctx: Ctx, parts: int = 1) -> list[str]:
    """The command's text after its first `parts` words (the command itself counts), split
    into at most `parts` + 1 pieces; line breaks inside the last piece are kept."""
    message = ctx.message
    text = (message.text or message.caption or "") if message is not None else ""
    return text.split(None, parts)[1:]


def _preview(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---------------------------------------------------------------------------- /need
@handler()
async def need(ctx: Ctx) -> None:
    """/need: the guided dialogue, or `/need 类别 内容 [匿名]` in one line (privately)."""
    rest = _rest(ctx)
    if not ctx.in_private:
        # Never echo a need where others read it; take it away if the bot may.
        ctx.reply(t("need_private_only"))
        message = ctx.message
        if rest and message is not None:
            chat_id, message_id, bot = message.chat_id, message.message_id, ctx.context.bot

            async def delete() -> None:
                try:
                    await bot.delete_message(chat_id, message_id)
                except TelegramError as exc:
                    log.info("a /need typed in a group was not deleted: %s", exc)

            ctx.after_commit(delete)
        return
    if ctx.member.registered_at is None:
        raise Refusal("register_first")
    if not rest:
        await _begin(ctx)
        return
    words = rest[0].split(None, 1)
    category = needs_db.parse_category(words[0])
    body = words[1] if len(words) > 1 else ""
    anonymous = False
    tail = body.rsplit(None, 1)
    if tail and tail[-1].lower() in ANONYMOUS_WORDS:
        anonymous, body = True, tail[0] if len(tail) == 2 else ""
    await conversations_db.end(ctx.session, ctx.member.id, NEED)  # one left open ends here
    await _send(ctx, category, body, anonymous)


async def _begin(ctx: Ctx) -> None:
    """The person's conversation now: whatever waited before (a leave reason, a check-in
    code, a guided /newevent) ends, so their next text goes to the need."""
    await conversations_db.begin(ctx.session, ctx.member.id, NEED, ctx.services.now(), alone=True)
    ctx.reply(t("need_choose_category"), markup=_category_markup())


def _category_markup() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(category_name(category), callback_data=f"need:c:{category}")
        for category in needs_db.CATEGORIES
    ]
    return InlineKeyboardMarkup([buttons[:4], buttons[4:]])


def _sign_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("need_button_signed"), callback_data="need:s:signed"),
                InlineKeyboardButton(t("need_button_anonymous"), callback_data="need:s:anon"),
            ]
        ]
    )


async def on_text(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """A private text while the person writes a need: its text (a refused one — empty, too
    long, control characters — leaves the need waiting for a better one), then 署名 / 匿名."""
    category = waiting.state.get("category")
    if category is None:  # the category first
        ctx.reply(t("need_choose_category"), markup=_category_markup())
        return
    state = {"category": category, "text": needs_db.clean_text(text)}
    await conversations_db.begin(ctx.session, ctx.member.id, NEED, ctx.services.now(), state)
    ctx.reply(t("need_ask_sign"), markup=_sign_markup())


STEPS = {NEED: on_text}


async def _send(ctx: Ctx, category: str, text: str, anonymous: bool) -> None:
    """Record the need, queue the committee's message, give the receipt."""
    need_ = await needs_db.submit(
        ctx.session,
        ctx.member,
        category,
        text,
        anonymous=anonymous,
        relay_chat_id=ctx.member.chat_id,
        now=ctx.services.now(),
    )
    await _tell_committee(ctx, need_, ctx.member)
    key = "need_receipt_anonymous" if anonymous else "need_receipt_signed"
    ctx.reply(t(key, id=need_.id, category=category_name(need_.category)))


def _sender(need_: Need, member: Member) -> str:
    """Who sent it, as the committee may see it: 匿名, or the name and unit when signed."""
    if need_.anonymous:
        return t("need_sender_anonymous")
    unit = unit_of(member)
    return t("need_sender_signed", name=person_name(member), unit=unit)


async def _tell_committee(ctx: Ctx, need_: Need, sender: Member) -> None:
    """Each committee member is told privately, in their language (an automatic message:
    quiet hours hold it)."""
    people = await members_db.committee(ctx.session, ctx.services.settings.admin_ids)
    await to_each(
        ctx.session,
        people,
        lambda person: f"need:{need_.id}:new:to:{person.id}",
        lambda: t(
            "need_new_committee",
            id=need_.id,
            category=category_name(need_.category),
            sender=_sender(need_, sender),
            preview=_preview(need_.text, NEW_PREVIEW),
        ),
        purpose=PURPOSE,
        ref_id=need_.id,
    )
    if people:
        ctx.wake_outbox()


# ---------------------------------------------------------------------------- buttons
@handler(where="private")
async def on_button(ctx: Ctx) -> None:
    """The dialogue's category and 署名 / 匿名 buttons, and the sender's rating."""
    query = ctx.update.callback_query
    data = query.data if query is not None and query.data else ""
    if data.startswith("need:r:"):
        await _rate(ctx)
        return
    now = ctx.services.now()
    if data.startswith("need:c:"):
        category = ctx.button(CATEGORY_BUTTON)[1]
        if category not in needs_db.CATEGORIES:
            raise Refusal("button_invalid")
        waiting = await conversations_db.waiting(ctx.session, ctx.member.id, now, NEED)
        if waiting is None:
            raise Refusal("need_stale")
        text = waiting.state.get("text")
        await conversations_db.begin(
            ctx.session, ctx.member.id, NEED, now, {"category": category, "text": text}
        )
        ctx.toast(category_name(category))
        if text is None:
            ctx.reply(t("need_ask_text", category=category_name(category), limit=needs_db.MAX_TEXT))
        else:  # the text was written already: only the category changed
            ctx.reply(t("need_ask_sign"), markup=_sign_markup())
        return
    anonymous = ctx.button(SIGN_BUTTON)[1] == "anon"
    taken = await conversations_db.take(ctx.session, ctx.member.id, NEED, now)
    category = taken.state.get("category") if taken is not None else None
    text = taken.state.get("text") if taken is not None else None
    if category is None or text is None:
        raise Refusal("need_stale")  # none waits (a second press), or it was not complete
    await _send(ctx, category, text, anonymous)
    ctx.toast(t("need_sent_toast"))


async def _rate(ctx: Ctx) -> None:
    """满意 / 不满意 under the 办结 message: the sender's only; the first press counts."""
    match = ctx.button(RATE_BUTTON)
    need_id, value = int(match[1]), match[2]
    user = ctx.update.effective_user
    assert user is not None
    rated = await needs_db.rate(ctx.session, need_id, user.id, value, ctx.services.now())
    rating = t(f"need_rating_{rated.satisfied or value}")
    if not rated.won:
        ctx.toast(t("need_rated_already", id=need_id, rating=rating), alert=True)
        return
    ctx.toast(t("need_rated", rating=rating))
    query = ctx.update.callback_query
    message = query.message if query is not None else None
    if message is None or not getattr(message, "text", None):
        return
    # The buttons go; the message says what was recorded.
    ctx.settle_pressed(str(getattr(message, "text", "")) + t("need_rated_mark", rating=rating))


# ---------------------------------------------------------------------------- /needs
@handler(admin=True, where="private")
async def needs(ctx: Ctx) -> None:
    """/needs [open|all|类别|状态] [页码] · /needs 编号 · /needs reply … · /needs status …"""
    args = ctx.args
    first = args[0] if args else "open"
    if first in ("reply", "回复"):
        await _reply(ctx)
    elif first in ("status", "进度", "状态"):
        await _status(ctx)
    elif re.fullmatch(r"#?[0-9]{1,9}", first) and len(args) == 1:
        await _show(ctx, int(first.lstrip("#")))
    else:
        if len(args) > 2:
            raise Refusal("needs_usage", categories=needs_db.category_names())
        page = 1
        if len(args) == 2:
            if not re.fullmatch(r"[0-9]{1,4}", args[1]) or int(args[1]) < 1:
                raise Refusal("needs_usage", categories=needs_db.category_names())
            page = int(args[1])
        await _list(ctx, first, page)


def _filter(word: str) -> tuple[str, tuple[str, ...], str | None]:
    """A list's name, statuses and category from its word; unknown words: the usage."""
    if word in ("open", "未办结"):
        return t("needs_filter_open"), needs_db.OPEN_STATUSES, None
    if word in ("all", "全部"):
        return t("needs_filter_all"), needs_db.STATUSES, None
    if word in FILTER_WORDS:
        statuses = FILTER_WORDS[word]
        return t(f"need_status_{statuses[0]}"), statuses, None
    category = needs_db.category_of(word)
    if category is not None:
        return category_name(category), needs_db.STATUSES, category
    raise Refusal("needs_usage", categories=needs_db.category_names())


def _line_sender(line: needs_db.Line) -> str:
    if line.anonymous or line.name is None:
        return t("need_sender_anonymous")
    return t("need_sender_signed", name=line.name, unit=unit_text(line.unit))


def _rating(satisfied: str | None) -> str | None:
    return t(f"need_rating_{satisfied}") if satisfied in RATINGS else None


async def _list(ctx: Ctx, word: str, page: int) -> None:
    name, statuses, category = _filter(word)
    total, lines = await needs_db.listing(
        ctx.session,
        statuses=statuses,
        category=category,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise Refusal("needs_page_out", page=page, pages=pages)
    body = [
        t(
            "needs_line",
            id=line.id,
            category=category_name(line.category),
            status=t(f"need_status_{line.status}"),
            date=month_day(line.created_at, ctx.services.settings.timezone),
            sender=_line_sender(line),
            replies=line.replies,
            rating=(
                t("needs_line_rating", rating=_rating(line.satisfied)) if line.satisfied else ""
            ),
            preview=_preview(line.text, LINE_PREVIEW),
        )
        for line in lines
    ] or [t("needs_none")]
    if page < pages:
        body.append(t("needs_next_page", word=word, page=page + 1))

    def header(_p: int, _n: int) -> str:
        return t("needs_header", filter=name, total=total, page=page, pages=pages)

    for text in paginate(header, body):
        ctx.reply(text)


async def _show(ctx: Ctx, need_id: int) -> None:
    """One need: its full text, who sent it (signed only), its history."""
    line = await needs_db.line(ctx.session, need_id)
    events = await needs_db.history(ctx.session, need_id)
    rating = _rating(line.satisfied)
    lines = [
        t(
            "needs_detail_body",
            date=local_moment(line.created_at, ctx.services.settings.timezone),
            sender=_line_sender(line),
            replies=line.replies,
            rating=t("needs_detail_rating", rating=rating) if rating else "",
            text=line.text,
        ),
        t("needs_history"),
    ]
    for event in events:
        at = short_moment(event.at, ctx.services.settings.timezone)
        if event.kind == "reply":
            lines.append(t("needs_history_reply", at=at, by=event.by or "", text=event.text))
        elif event.kind == "status":
            status = t(f"need_status_{event.text}")
            lines.append(t("needs_history_status", at=at, status=status, by=event.by or ""))
        else:
            lines.append(t("needs_history_rating", at=at, rating=_rating(event.text) or ""))
    if not events:
        lines.append(t("needs_history_none"))
    lines.append(t("needs_detail_actions", id=line.id))

    def header(page: int, pages: int) -> str:
        return t(
            "needs_detail_header",
            id=line.id,
            category=category_name(line.category),
            status=t(f"need_status_{line.status}"),
            page=page,
            pages=pages,
        )

    for text in paginate(header, lines):
        ctx.reply(text)


def _need_id(word: str, usage: str) -> int:
    if not re.fullmatch(r"#?[0-9]{1,9}", word):
        raise Refusal(usage)
    return int(word.lstrip("#"))


async def relay(
    session: AsyncSession,
    need_: Need,
    key: str,
    text: Callable[[], str],
    buttons: Callable[[], outbox_db.Buttons] | None = None,
) -> None:
    """To the sender, in their language, through the outbox, into the need's relay chat
    (never shown anyone). Not quiet: a person's answer goes at once, like a reply to a
    command. The caller wakes the outbox once committed."""
    relay_chat = await needs_db.relay_of(session, need_.id)
    assert relay_chat is not None
    with speaking(await chats_db.language(session, relay_chat)):
        rendered, markup = text(), buttons() if buttons is not None else None
    await outbox_db.enqueue(
        session, key, relay_chat, clip(rendered), buttons=markup, purpose=PURPOSE, ref_id=need_.id
    )


async def reply(
    session: AsyncSession, need_id: int, by: Member, text: str, now: dt.datetime
) -> Need:
    """A committee member's reply, recorded and relayed to the sender (/needs reply and the
    dashboard)."""
    need_ = await needs_db.get(session, need_id)
    event = await needs_db.add_reply(session, need_, by, text, now)

    def rendered() -> str:  # in the sender's language, the category's name too
        return t(
            "need_reply_to_sender",
            id=need_.id,
            category=category_name(need_.category),
            text=event.text,
        )

    await relay(session, need_, f"need:{need_.id}:reply:{event.id}", rendered)
    return need_


async def move(
    session: AsyncSession, need_id: int, status: str, by: Member, now: dt.datetime
) -> Need:
    """A need moved on (受理, 办理中, 办结), recorded; the sender is told (办结: with 满意 /
    不满意). /needs status and the dashboard."""
    need_ = await needs_db.get(session, need_id)
    event = await needs_db.set_status(session, need_, status, by, now)
    key = f"need:{need_.id}:status:{event.id}"
    if status == "done":

        def buttons() -> outbox_db.Buttons:
            return [
                [
                    outbox_db.button(t("need_button_satisfied"), f"need:r:{need_.id}:yes"),
                    outbox_db.button(t("need_button_unsatisfied"), f"need:r:{need_.id}:no"),
                ]
            ]

        def text() -> str:  # in the sender's language, the category's name too
            return t("need_done_to_sender", id=need_.id, category=category_name(need_.category))

        await relay(session, need_, key, text, buttons)
    else:

        def status_text() -> str:
            return t(
                "need_status_to_sender",
                id=need_.id,
                category=category_name(need_.category),
                status=t(f"need_status_{status}"),
            )

        await relay(session, need_, key, status_text)
    return need_


async def _reply(ctx: Ctx) -> None:
    """/needs reply 编号 内容: recorded, and relayed to the sender."""
    words = _rest(ctx, 3)  # reply, 编号, 内容 (line breaks kept)
    if len(words) < 3:
        raise Refusal("needs_reply_usage")
    need_id = _need_id(words[1], "needs_reply_usage")
    await reply(ctx.session, need_id, ctx.member, words[2], ctx.services.now())
    ctx.wake_outbox()
    ctx.reply(t("needs_replied", id=need_id))


async def _status(ctx: Ctx) -> None:
    """/needs status 编号 受理|办理中|办结."""
    if len(ctx.args) != 3 or ctx.args[2] not in STATUS_WORDS:
        raise Refusal("needs_status_usage")
    need_id = _need_id(ctx.args[1], "needs_status_usage")
    status = STATUS_WORDS[ctx.args[2]]
    need_ = await move(ctx.session, need_id, status, ctx.member, ctx.services.now())
    ctx.wake_outbox()
    hint = t("needs_status_rate_hint") if status == "done" and need_.satisfied is None else ""
    ctx.reply(t("needs_status_set", id=need_.id, status=t(f"need_status_{status}"), rate=hint))


def handlers() -> Handlers:
    return [
        CommandHandler("need", need),
        CommandHandler("needs", needs),
        CallbackQueryHandler(on_button, pattern=r"^need:"),
    ]
