"""/tasks and /task: the work plan's tasks (工作要点) of a year, each with its owner, cadence,
target and state. The committee adds, edits and removes them; everyone on the roster sees
the list. A countable target's state comes from the records (db.tasks.measure).

评估问效: the owners' quarterly answers come as button presses on the private prompt
(scheduler.reviews); a note and photos or files may follow, taken by the `review`
conversation. `/tasks review [YYYY-Qn] [编号]` shows the committee the quarter's review, and
one task's evidence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from db import conversations as conversations_db
from db import members as members_db
from db import reviews as reviews_db
from db import rules
from db import tasks as tasks_db
from db.conversations import Waiting
from db.errors import Refusal
from db.models import Member, Unit, WorkTask
from db.rules import Period
from db.tasks import Measured
from handlers.context import Ctx, Handlers, command_body
from handlers.imports import Items, confirm_items, preview_items, send_template
from handlers.reports import send_files
from handlers.runner import handler, render_refusal
from render import task_file
from render.formats import period_name
from render.tasks import (
    REVIEW_CHOICES,
    REVIEW_FINISH,
    REVIEW_NOTE,
    finish_button,
    measured_text,
    note_button,
    review_state_text,
    state_name,
    task_line,
)
from render.texts import paginate, t
from scheduler.outbox import markup

REVIEW = "review"  # the conversation taking a review's note and evidence
REVIEW_PRESS = re.compile(r"^trv:(\d{1,9}):(\d{4})Q([1-4]):([dponf])$")


@handler(admin=True)
async def task(ctx: Ctx) -> None:
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    # A file's caption (/task import) has no parsed arguments: its words are read here.
    match ctx.args or command_body(ctx).split():
        case ["import", "template"]:
            caption = t("task_template_caption")
            send_template(ctx, task_file.template(), t("task_template_file"), caption)
        case ["import"]:
            await preview_items(ctx, TASKS, today, now)
        case ["add", *words]:
            made = await tasks_db.add(ctx.session, words, ctx.member, today, now, ctx.chosen)
            ctx.reply(t("task_added", id=made.id, year=made.year, title=made.title))
        case ["edit", raw_id, *words]:
            changed = await tasks_db.edit(
                ctx.session, rules.parse_id(raw_id), words, today, ctx.chosen
            )
            ctx.reply(t("task_edited", id=changed.id, title=changed.title))
        case ["del" | "delete" | "remove", raw_id]:
            gone = await tasks_db.delete_task(ctx.session, rules.parse_id(raw_id))
            ctx.reply(t("task_deleted", id=gone.id, title=gone.title))
        case _:
            raise Refusal("task_usage")


IMPORT_BUTTON = re.compile(r"^timp:(ok|no):([0-9]{1,9})$")


TASKS = Items("task", "timp", "task_import", task_file.parse_tasks, tasks_db.import_tasks)


@handler(admin=True, where="private")
async def on_import_button(ctx: Ctx) -> None:
    await confirm_items(ctx, TASKS, IMPORT_BUTTON)


@handler()
async def tasks(ctx: Ctx) -> None:
    """/tasks [YYYY]: the year's tasks, each counted in the current quarter (a past year: its
    last quarter); /tasks review …: the quarter's review (the committee)."""
    if ctx.args[:1] == ["review"]:
        await _review(ctx, ctx.args[1:])
        return
    if len(ctx.args) > 1:
        raise Refusal("task_usage")
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    year = rules.parse_period(ctx.args[0], today).year if ctx.args else today.year
    listed = await tasks_db.tasks(ctx.session, year)
    if not listed:
        how = t("task_none_admin", year=year) if ctx.is_admin else ""
        ctx.reply(t("task_none", year=year) + how)
        return
    quarter = _quarter_shown(year, today)
    units, people = await _names(ctx.session, listed)
    measured = await _measure(ctx, listed, quarter)
    shown = quarter.quarter or 4
    found = await reviews_db.reviews(ctx.session, year, range(1, shown + 1))
    lines = []
    for item in listed:
        answer = reviews_db.standing(found, item, shown)
        if item.id in measured:
            state = measured_text(item, measured[item.id])
        elif answer is not None and answer.state is not None:
            state = t("review_state_reported", state=state_name(answer.state))
        else:
            state = t("task_state_unmeasured")
        lines.append(task_line(item, units, people, state))
    header = t("tasks_header", year=year, quarter=period_name(quarter))
    for page in paginate(lambda p, n: header + t("page_mark", page=p, pages=n), lines):
        ctx.reply(page)


async def _names(
    session: AsyncSession, listed: Sequence[WorkTask]
) -> tuple[dict[int, Unit], dict[int, Member]]:
    """The units and people the tasks' owners name."""
    units = {u.id: u for u in await members_db.list_units(session)}
    return units, await members_db.by_ids(session, [x.owner_member_id for x in listed])


async def _measure(ctx: Ctx, listed: Sequence[WorkTask], quarter: Period) -> dict[int, Measured]:
    """Each countable task's state in `quarter` (its period: the quarter or the year so far)."""
    return await tasks_db.measure_each(
        ctx.session,
        list(listed),
        quarter,
        ctx.services.settings.timezone,
        ctx.services.now(),
        ctx.services.reminders.calendar.add_workdays,
    )


async def _review(ctx: Ctx, words: list[str]) -> None:
    """/tasks review [YYYY-Qn] [编号]: each task's state in the quarter, who reported it and
    when, the note and how many files; with a task's number, its evidence too."""
    if not ctx.is_admin:
        raise Refusal("not_admin")
    if len(words) > 2:
        raise Refusal("review_usage")
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    quarter = rules.parse_period(words[0] if words else None, today)
    if quarter.quarter is None:
        raise Refusal("review_usage")
    task_id = None
    if len(words) == 2:
        task = await tasks_db.get(ctx.session, rules.parse_id(words[1]))
        if task.year != quarter.year:
            raise Refusal("review_other_year", id=task.id, year=task.year)
        task_id = task.id
    calendar = ctx.services.reminders.calendar
    lines = await reviews_db.table(
        ctx.session,
        quarter.year,
        [quarter.quarter],
        zone,
        now,
        calendar.add_workdays,
        task_id=task_id,
    )
    if not lines:
        ctx.reply(t("review_none", quarter=period_name(quarter)))
        return
    units, people = await _names(ctx.session, [x.task for x in lines])
    shown = [
        task_line(x.task, units, people, review_state_text(x.task, x.reviewed, x.measured, zone))
        for x in lines
    ]
    answered = sum(x.reviewed is not None or x.measured is not None for x in lines)
    header = t("review_header", quarter=period_name(quarter), answered=answered, total=len(lines))
    for page in paginate(lambda p, n: header + t("page_mark", page=p, pages=n), shown):
        ctx.reply(page)
    if task_id is not None:
        files = await reviews_db.evidence_files(ctx.session, task_id, quarter)
        photos = [f.file_id for f in files if f.kind == "photo"]
        send_files(ctx, photos, [f.file_id for f in files if f.kind == "document"])


# ------------------------------------------------------------------------- 评估问效: answers
def _pressed(ctx: Ctx) -> tuple[int, Period, str]:
    match = ctx.button(REVIEW_PRESS)
    return int(match[1]), Period(int(match[2]), int(match[3])), match[4]


@handler(where="private")
async def on_review_button(ctx: Ctx) -> None:
    """已完成 / 推进中 / 未开展: recorded at once, with 补充说明 under it; 补充说明: the
    note, photos and files may follow (a counted task's only button); 完成: nothing more."""
    task_id, quarter, choice = _pressed(ctx)
    if choice == REVIEW_FINISH:
        await conversations_db.end(ctx.session, ctx.member.id, REVIEW)
        ctx.toast(t("review_finished_toast"))
        return
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    if choice == REVIEW_NOTE:
        task, review = await reviews_db.begin_note(
            ctx.session, task_id, quarter, ctx.member, ctx.is_admin, now, today
        )
        if review.state is not None:
            state = state_name(review.state)
        else:
            state = t("review_state_counted", state=await _measured_text(ctx, task, quarter))
        where = {"task": task.id, "year": quarter.year, "quarter": quarter.quarter}
        await conversations_db.begin(ctx.session, ctx.member.id, REVIEW, now, where)
        ctx.toast(t("review_note_toast", id=task.id))
        ctx.reply(
            t("review_note_ask", **_said(task, quarter), state=state),
            markup=markup(finish_button(task.id, quarter)),
        )
        return
    state = REVIEW_CHOICES[choice]
    task = await reviews_db.answer(
        ctx.session, task_id, quarter, state, ctx.member, ctx.is_admin, now, today
    )
    ctx.toast(t("review_recorded_toast", id=task.id, state=state_name(state)))
    ctx.reply(
        t("review_recorded", **_said(task, quarter), state=state_name(state)),
        markup=markup(note_button(task.id, quarter)),
    )


def _said(task: WorkTask, quarter: Period) -> dict[str, object]:
    return {"id": task.id, "title": task.title, "quarter": period_name(quarter)}


async def _measured_text(ctx: Ctx, task: WorkTask, quarter: Period) -> str:
    measured = (await _measure(ctx, [task], quarter)).get(task.id)
    return measured_text(task, measured) if measured else t("task_state_unmeasured")


def _where(waiting: Waiting) -> tuple[int, Period]:
    state = waiting.state
    return int(state["task"]), Period(int(state["year"]), int(state["quarter"]))


# What makes a waiting review's note impossible for good (the task removed, the person no
# longer its owner): the conversation ends, so their next texts go where they always went.
_GONE = frozenset({"task_unknown", "review_not_owner", "review_unknown", "review_other_year"})


async def _or_gone(ctx: Ctx, work: Awaitable[object]) -> bool:
    """Run `work`; False (the conversation ended, said why) when the review is gone."""
    try:
        await work
    except Refusal as refused:
        if refused.key not in _GONE:
            raise
        await conversations_db.end(ctx.session, ctx.member.id, REVIEW)
        ctx.reply(render_refusal(refused) + "\n" + t("review_note_ended"))
        return False
    return True


async def on_note(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """The review's note: each message a paragraph."""
    task_id, quarter = _where(waiting)
    now = ctx.services.now()
    today = rules.local_today(now, ctx.services.settings.timezone)
    noted = reviews_db.add_note(
        ctx.session, task_id, quarter, text, ctx.member, ctx.is_admin, now, today
    )
    if not await _or_gone(ctx, noted):
        return
    await conversations_db.begin(ctx.session, ctx.member.id, REVIEW, now, waiting.state)
    ctx.reply(t("review_note_saved", id=task_id), markup=markup(finish_button(task_id, quarter)))


@handler(where="private")
async def on_evidence(ctx: Ctx) -> None:
    """A photo or file sent privately while a review's 补充说明 waits: kept as its evidence
    (its caption, if any, as a paragraph of the note)."""
    message = ctx.message
    assert message is not None
    now = ctx.services.now()
    waiting = await conversations_db.waiting(ctx.session, ctx.member.id, now, REVIEW)
    if waiting is None:
        raise Refusal("review_file_unexpected")
    task_id, quarter = _where(waiting)
    today = rules.local_today(now, ctx.services.settings.timezone)
    file: tuple[str, str, str | None]
    if message.photo:
        photo = message.photo[-1]  # the largest size
        kind, file = "photo", (photo.file_id, photo.file_unique_id, None)
    elif message.document is not None:
        document = message.document
        kind, file = "document", (document.file_id, document.file_unique_id, document.file_name)
    else:
        raise Refusal("review_file_unexpected")
    count = 0

    async def keep() -> None:
        nonlocal count
        count = await reviews_db.add_evidence(
            ctx.session, task_id, quarter, kind, file, ctx.member, ctx.is_admin, now, today
        )
        if message.caption:
            caption = message.caption
            await reviews_db.add_note(
                ctx.session, task_id, quarter, caption, ctx.member, ctx.is_admin, now, today
            )

    if not await _or_gone(ctx, keep()):
        return
    await conversations_db.begin(ctx.session, ctx.member.id, REVIEW, now, waiting.state)
    ctx.reply(
        t("review_file_saved", id=task_id, count=count),
        markup=markup(finish_button(task_id, quarter)),
    )


STEPS = {REVIEW: on_note}


def _quarter_shown(year: int, today: dt.date) -> Period:
    if year == today.year:
        return rules.quarter_of(today)
    return Period(year, 4 if year < today.year else 1)


def handlers() -> Handlers:
    # A photo or file sent privately without a command as its caption (/record, /import and
    # /notice take theirs): a review's evidence.
    evidence = (
        filters.ChatType.PRIVATE
        & (filters.PHOTO | filters.Document.ALL)
        & ~filters.CaptionRegex(r"^/")
    )
    caption = filters.Document.ALL & filters.CaptionRegex(r"^/task(@\w+)?\s+import(\s|$)")
    return [
        CommandHandler("task", task),
        MessageHandler(caption, task),
        CommandHandler("tasks", tasks),
        CallbackQueryHandler(on_import_button, pattern=r"^timp:"),
        CallbackQueryHandler(on_review_button, pattern=r"^trv:"),
        MessageHandler(evidence, on_evidence),
    ]
