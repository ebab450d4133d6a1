"""A quiet group: a group's reminders due together go as one message, a volunteer activity's
sign-up closing with its start is said once, group reminders keep to working days (unless
switched off), and the check-in nudge has the card's buttons. The rules, then end to end."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import OutboxMessage, Signup
from scheduler import reminder_rules
from scheduler.calendar import WorkCalendar
from scheduler.outbox import MAX_MERGED_BUTTONS, MESSAGE_LIMIT, merge, merged_buttons
from scheduler.reminder_rules import ActivityTimes, Occurrence, Workdays
from tests.harness import BotHarness, clock, local_time, seed_members
from tests.steps import attendance, create
from tests.tgserver.model import ApiError

# The bot's clock from before it starts, in the tests with a bot: Monday 2026-11-30 10:00.
pytestmark = pytest.mark.clock("2026-11-30 10:00")

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAYS = Workdays(WorkCalendar(), SHANGHAI)
ENABLED = set(reminder_rules.SWITCHABLE)


# --- the rules, as plain functions ---------------------------------------------------------


def local(text: str) -> dt.datetime:
    return local_time(text)


def activity(start: str, created: str = "2026-09-01 10:00", **kw: Any) -> ActivityTimes:
    starts = local(start)
    return ActivityTimes(
        id=kw.get("id", 1),
        kind=kw.get("kind", "study"),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        created_at=local(created),
        signup_deadline=local(kw["deadline"]) if "deadline" in kw else starts,
    )


def planned(times: ActivityTimes, workdays: Workdays | None = WORKDAYS) -> dict[str, str]:
    found = reminder_rules.activity_occurrences(times, ENABLED, workdays)
    return {o.rule: f"{o.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" for o in found}


def test_a_group_reminder_on_a_day_off_moves_to_the_working_day_before_at_three() -> None:
    # Thursday 2026-10-08 is the first working day after the National Day week (Oct 1-7).
    times = planned(activity("2026-10-08 09:00"))
    assert times[reminder_rules.BEFORE_24H] == "2026-09-30 15:00"
    assert times[reminder_rules.BEFORE_1H] == "2026-10-08 08:00"  # a working day: stays
    # A Monday's 24-hour reminder (Sunday) goes on Friday afternoon; without the switch, Sunday.
    monday = activity("2026-12-07 10:00")
    assert planned(monday)[reminder_rules.BEFORE_24H] == "2026-12-04 15:00"
    assert planned(monday, None)[reminder_rules.BEFORE_24H] == "2026-12-06 10:00"
    # Private reminders keep their time (quiet hours are theirs).
    volunteering = activity("2026-12-07 10:00", kind="volunteer", deadline="2026-12-06 20:00")
    assert planned(volunteering)[reminder_rules.VOLUNTEER_24H] == "2026-12-06 10:00"
    assert planned(volunteering)[reminder_rules.SIGNUP_CLOSING] == "2026-12-04 15:00"


def test_a_move_never_goes_into_the_past_nor_after_the_event() -> None:
    # Created on Friday evening: Friday 15:00 is gone, so the Sunday reminder stays.
    late = activity("2026-12-07 10:00", created="2026-12-04 18:00")
    assert planned(late)[reminder_rules.BEFORE_24H] == "2026-12-06 10:00"
    afternoon = Workdays(WorkCalendar(), SHANGHAI, dt.time(16, 30))
    at, event = local("2026-12-06 10:00"), local("2026-12-07 10:00")
    moved = reminder_rules.on_a_working_day(at, local("2026-12-01 09:00"), event, afternoon)
    assert moved == local("2026-12-04 16:30")
    # The event itself before the working day's afternoon: stays.
    early = local("2026-12-04 16:00")
    assert reminder_rules.on_a_working_day(at, local("2026-12-01 09:00"), early, afternoon) == at


def test_sign_up_closing_with_the_start_is_folded_into_the_24_hour_reminder() -> None:
    same = activity("2026-12-03 09:00", kind="volunteer")
    assert reminder_rules.signup_folded(same)
    assert reminder_rules.SIGNUP_CLOSING not in planned(same)
    near = activity("2026-12-03 09:00", kind="volunteer", deadline="2026-12-03 08:56")
    assert reminder_rules.SIGNUP_CLOSING not in planned(near)
    apart = activity("2026-12-03 09:00", kind="volunteer", deadline="2026-12-02 18:00")
    assert planned(apart)[reminder_rules.SIGNUP_CLOSING] == "2026-12-01 18:00"
    # With the 24-hour reminder off, the closing is still said, on its own.
    alone = reminder_rules.activity_occurrences(same, ENABLED - {reminder_rules.BEFORE_24H})
    assert reminder_rules.SIGNUP_CLOSING in {o.rule for o in alone}


def test_group_reminders_a_few_minutes_apart_are_planned_together() -> None:
    def occurrence(key: str, rule: str, at: str) -> Occurrence:
        return Occurrence(key, rule, local(at))

    found = reminder_rules.gather(
        [
            occurrence("a", reminder_rules.BEFORE_24H, "2026-12-01 15:00"),
            occurrence("b", reminder_rules.ONE_OFF, "2026-12-01 15:04"),
            occurrence("c", reminder_rules.BEFORE_1H, "2026-12-01 15:06"),  # a new run
            occurrence("d", reminder_rules.CHECKIN_NUDGE, "2026-12-01 15:02"),  # private
        ]
    )
    at = {o.key: f"{o.at.astimezone(SHANGHAI):%H:%M}" for o in found}
    assert at == {"a": "15:00", "b": "15:00", "c": "15:06", "d": "15:02"}
    assert next(o for o in found if o.key == "b").moved_from == local("2026-12-01 15:04")


def row(text: str, *data: str) -> OutboxMessage:
    buttons = [[{"text": d, "data": d, "merged": f"{d}!"} for d in data]] if data else None
    return OutboxMessage(text=text, buttons=buttons, chat_id=-1)


def test_a_merged_message_stays_within_telegram_limits() -> None:
    first = row("a", "act:ci:1", "act:lv:1")
    others = [row("b", "act:ci:2", "act:lv:2"), row("c", "act:ci:1"), row("x" * MESSAGE_LIMIT)]
    others += [row(str(i), f"act:ci:{i}", f"act:lv:{i}") for i in range(3, 8)]
    batch = merge(first, others)
    assert [r.text for r in batch] == ["a", "b", "c", "3", "4"]  # 8 buttons, the long one waits
    buttons = merged_buttons(batch)
    assert buttons is not None
    labels = [b["text"] for line in buttons for b in line]
    assert len(labels) == MAX_MERGED_BUTTONS == len(set(labels))
    assert labels[:2] == ["act:ci:1!", "act:lv:1!"]  # the labels that say which activity
    assert merged_buttons([first]) == first.buttons


# --- end to end ------------------------------------------------------------------------------


async def fire(bot: BotHarness, at: str) -> dict[str, str]:
    """Move the clock to `at` (local), run the engine, let the outbox send."""
    clock(bot).set_local(at)
    handled = dict(await bot.services.reminders.fire_due())
    await bot.services.outbox.drain(20)
    return handled


def group_messages(bot: BotHarness, fragment: str) -> list[dict[str, Any]]:
    return [m for m in bot.tg.bot_messages(bot.group.id) if fragment in (m.get("text") or "")]


def labels(message: dict[str, Any]) -> list[str]:
    keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for line in keyboard for b in line]


async def listed(bot: BotHarness) -> list[str]:
    listing = await bot.admin.ask_private("/remind")
    return [
        line for line in listing.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d · ", line)
    ]


async def test_two_reminders_for_one_group_a_few_minutes_apart_arrive_as_one_message(
    world: BotHarness,
) -> None:
    bot = world
    first, _ = await create(bot, "学习 2026-12-02 15:30 第一场学习")
    second, _ = await create(bot, "会议 2026-12-02 15:33 紧接着的会议")
    lines = [line for line in await listed(bot) if "活动前 24 小时" in line]
    assert [line[:16] for line in lines] == ["2026-12-01 15:30", "2026-12-01 15:30"]
    # The first refusal of a send is a 429: the message waits retry_after, then goes once.
    bot.tg.fail_for(
        "sendMessage",
        bot.group.id,
        ApiError(429, "Too Many Requests: retry after 1", retry_after=1),
    )
    handled = await fire(bot, "2026-12-01 15:30")
    assert handled[f"activity:{first}:activity_24h"] == "sent"
    assert handled[f"activity:{second}:activity_24h"] == "sent"
    await bot.services.outbox.drain(20)
    (message,) = group_messages(bot, "将于 2026-12-02 15")
    assert "第一场学习" in message["text"] and "紧接着的会议" in message["text"]
    assert labels(message) == [
        f"签到 #{first}",
        f"请假 #{first}",
        f"签到 #{second}",
        f"请假 #{second}",
    ]
    assert bot.tg.errors(429)
    # Each reminder is still its own outbox row, both marked sent with the one message.
    async with bot.services.db.session() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.key.like("reminder:activity:%_24h:%"))
            )
        )
    assert {r.status for r in rows} == {"sent"} and len(rows) == 2
    assert {r.message_id for r in rows} == {message["message_id"]}
    # Nothing more at 15:33, nor after a restart.
    assert not await fire(bot, "2026-12-01 15:33")
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert len(group_messages(bot, "将于 2026-12-02 15")) == 1


async def test_sign_up_closing_at_the_start_is_one_message_with_the_sign_up_button(
    world: BotHarness,
) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, _ = await create(bot, "志愿 2026-12-03 09:00 社区助残 cap=5")
    handled = await fire(bot, "2026-12-02 09:00")
    assert handled[f"activity:{activity_id}:activity_24h"] == "sent"
    assert f"activity:{activity_id}:signup_closing" not in handled
    (message,) = group_messages(bot, "社区助残")[1:]  # after the card
    assert "将于 2026-12-03 09:00 开始" in message["text"]
    assert "报名将于 12-03 09:00 截止" in message["text"]
    assert labels(message) == ["报名", "签到"]
    await user.toast(user.press(message, "报名"))
    async with bot.services.db.session() as session:
        signup = await session.scalar(select(Signup).where(Signup.activity_id == activity_id))
        assert signup is not None and signup.status == "confirmed"


async def test_a_group_reminder_due_in_the_national_day_week_comes_the_working_day_before(
    world: BotHarness,
) -> None:
    bot = world
    clock(bot).set_local("2026-09-28 10:00")
    activity_id, _ = await create(bot, "学习 2026-10-08 09:00 节后第一课")
    (line,) = [line for line in await listed(bot) if "活动前 24 小时" in line]
    assert line.startswith("2026-09-30 15:00") and "原定 2026-10-07 09:00" in line
    assert not [line for line in await listed(bot) if line.startswith("2026-10-07")]
    # The job waits for the moved moment (placed relative to the engine's clock).
    scheduler = bot.app.job_queue.scheduler  # type: ignore[union-attr]
    job_id = f"reminder:activity:{activity_id}:activity_24h"
    await bot.tg.wait_for(
        lambda: (
            (job := scheduler.get_job(job_id))
            and abs(job.next_run_time - dt.datetime.now(dt.UTC) - dt.timedelta(days=2, hours=5))
            < dt.timedelta(seconds=30)
        ),
        what="the 24 h job placed at Wednesday 15:00",
    )
    assert f"activity:{activity_id}:activity_24h" not in await fire(bot, "2026-09-30 14:59")
    handled = await fire(bot, "2026-09-30 15:00")
    assert handled[f"activity:{activity_id}:activity_24h"] == "sent"
    assert len(group_messages(bot, "将于 2026-10-08 09:00 开始")) == 1
    assert f"activity:{activity_id}:activity_24h" not in await fire(bot, "2026-10-07 09:00")
    assert len(group_messages(bot, "将于 2026-10-08 09:00 开始")) == 1


async def test_with_the_setting_off_a_sunday_reminder_stays_on_sunday(world: BotHarness) -> None:
    bot = world
    assert "已关闭" in await bot.admin.ask_private("/remind off group_workdays")
    activity_id, _ = await create(bot, "学习 2026-12-07 10:00 周一学习")
    (line,) = [line for line in await listed(bot) if "活动前 24 小时" in line]
    assert line.startswith("2026-12-06 10:00") and "原定" not in line
    assert f"activity:{activity_id}:activity_24h" not in await fire(bot, "2026-12-04 15:00")
    assert (await fire(bot, "2026-12-06 10:00"))[f"activity:{activity_id}:activity_24h"] == "sent"
    # Back on, and retimed: Friday 16:30 for the next Monday's.
    assert "已开启" in await bot.admin.ask_private("/remind on group_workdays")
    assert "16:30" in await bot.admin.ask_private("/remind time group_workdays 16:30")
    await create(bot, "学习 2026-12-14 10:00 下周一学习")
    lines = [line for line in await listed(bot) if "活动前 24 小时" in line]
    assert lines[0].startswith("2026-12-11 16:30"), lines


async def test_the_check_in_nudge_has_the_cards_buttons(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 2, "办公室")
    activity_id, _ = await create(bot, "学习 2026-11-30 14:00 十分钟提醒")
    handled = await fire(bot, "2026-11-30 14:10")
    assert handled[f"activity:{activity_id}:checkin_nudge"] == "sent"
    nudge = await bot.tg.message_in(users[0].id, lambda m: "还没有签到或请假" in m["text"])
    assert labels(nudge) == ["签到", "请假"]
    toast = await users[0].toast(users[0].press(nudge, "签到"))
    assert "签到" in toast["text"]
    assert (await attendance(bot, activity_id))[users[0].id] == "present"
    leave = await bot.tg.message_in(users[1].id, lambda m: "还没有签到或请假" in m["text"])
    toast = await users[1].toast(users[1].press(leave, "请假"))
    assert "leave_" in toast.get("url", "")
