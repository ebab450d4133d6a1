"""Activities, check-in, leave and rosters."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import conversations as conversations_db
from db import members as members_db
from db import plans as plans_db
from db import rules
from db.errors import Refusal
from db.models import Activity, Member, PlanItem, Unit
from db.snapshots import Snapshots


@dataclass
class ActivitySpec:
    """A validated description of an activity to create."""

    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str | None = None
    unit_name: str | None = None  # as typed; `unit` once looked up
    unit: Unit | None = None
    code: str | None = None
    hours: float | None = None
    capacity: int | None = None
    signup_deadline: dt.datetime | None = None
    leave_mode: str = "free"
    qr: bool = False
    checkout: bool = False
    # A series: `repeat` (weekly, biweekly, monthly) and how many activities in all.
    repeat: str | None = None
    count: int | None = None
    # The study plan's item it carries out: `plan=` as typed; `plan_item_id` once checked.
    plan_ref: str | None = None
    plan_item_id: int | None = None


def _apply_end(starts_at: dt.datetime, end: str | None, zone: ZoneInfo) -> dt.datetime:
    if not end:
        return starts_at + rules.DEFAULT_DURATION
    local_start = starts_at.astimezone(zone)
    ends_at = rules.local_to_utc(local_start.date(), rules.parse_time(end), zone)
    if ends_at <= starts_at:
        raise Refusal("end_before_start")
    return ends_at


KNOWN_OPTIONS = (
    "place",
    "end",
    "unit",
    "code",
    "hours",
    "cap",
    "deadline",
    "leave",
    "qr",
    "checkout",
    "repeat",
    "count",
    "plan",
)
EDITABLE = (
    "title",
    "date",
    "time",
    "end",
    "place",
    "code",
    "cap",
    "deadline",
    "hours",
    "leave",
    "qr",
    "checkout",
    "plan",
)
VOLUNTEER_ONLY = {"hours", "cap", "deadline", "checkout"}
NOT_VOLUNTEER = {"leave"}  # volunteers cancel their sign-up instead of asking for leave


def _refuse_volunteer_only(kind: str, options: dict[str, str]) -> None:
    if kind != "volunteer" and VOLUNTEER_ONLY & set(options):
        raise Refusal("volunteer_only", option=sorted(VOLUNTEER_ONLY & set(options))[0])
    if kind == "volunteer" and NOT_VOLUNTEER & set(options):
        raise Refusal("not_volunteer", option=sorted(NOT_VOLUNTEER & set(options))[0])


def _apply_switches(target: ActivitySpec | Activity, options: dict[str, str]) -> None:
    """leave=, qr= and checkout=: the same on /newevent and /event edit."""
    if "leave" in options:
        target.leave_mode = rules.parse_choice("leave", options["leave"], rules.LEAVE_MODES)
    if "qr" in options:
        target.qr = rules.parse_switch("qr", options["qr"])
    if "checkout" in options:
        target.checkout = rules.parse_switch("checkout", options["checkout"])


def parse_words(args: list[str], zone: ZoneInfo, today: dt.date) -> ActivitySpec:
    """`<kind> <YYYY-MM-DD> <HH:MM> <title> [key=value ...]` → a spec (unit not looked up yet)."""
    if len(args) < 4:
        raise Refusal("newevent_usage")
    kind = rules.parse_kind(args[0])
    day = rules.parse_date(args[1], today)
    starts_at = rules.local_to_utc(day, rules.parse_time(args[2]), zone)
    title_words, options = rules.known_options(args[3:], KNOWN_OPTIONS)
    _refuse_volunteer_only(kind, options)
    spec = ActivitySpec(
        kind=kind,
        title=rules.clean_text(" ".join(title_words), rules.MAX_TITLE, "title_invalid"),
        starts_at=starts_at,
        ends_at=_apply_end(starts_at, options.get("end"), zone),
    )
    if options.get("place"):
        spec.place = rules.clean_text(options["place"], rules.MAX_PLACE)
    if options.get("unit"):
        spec.unit_name = options["unit"]
    if options.get("code"):
        spec.code = rules.parse_code(options["code"])
    if "hours" in options:
        spec.hours = rules.parse_hours(options["hours"])
    if "cap" in options:
        spec.capacity = rules.parse_capacity(options["cap"])
    if "deadline" in options:
        spec.signup_deadline = _parse_deadline(options["deadline"], starts_at, zone, today)
    _apply_switches(spec, options)
    if ("repeat" in options) != ("count" in options):
        raise Refusal("series_usage")
    if "repeat" in options:
        spec.repeat = rules.parse_choice("repeat", options["repeat"], rules.REPEATS)
        spec.count = rules.parse_series_count(options["count"])
    if "plan" in options:
        spec.plan_ref = options["plan"]
    return spec


async def parse_spec(
    session: AsyncSession, args: list[str], zone: ZoneInfo, today: dt.date
) -> ActivitySpec:
    """The words of /newevent → a spec with its unit, or a refusal."""
    spec = parse_words(args, zone, today)
    if spec.unit_name:
        spec.unit = await members_db.unit_by_name(session, spec.unit_name)
    if spec.plan_ref is not None:
        unit_id = spec.unit.id if spec.unit else None
        item = await plans_db.linkable(session, spec.plan_ref, spec.starts_at, unit_id, zone)
        spec.plan_item_id = item.id if item else None
    return spec


def _parse_deadline(
    raw: str, starts_at: dt.datetime, zone: ZoneInfo, today: dt.date
) -> dt.datetime:
    deadline = rules.parse_local_datetime(raw, zone, today)
    if deadline > starts_at:
        raise Refusal("deadline_after_start")
    return deadline


def may_manage(member: Member, is_admin: bool, unit_id: int | None) -> bool:
    """The committee manages every activity; a unit's lead manages that unit's activities."""
    return is_admin or (unit_id is not None and member.lead_unit_id == unit_id)


async def refuse_uncreatable(
    session: AsyncSession, creator: Member, is_admin: bool, spec: ActivitySpec, now: dt.datetime
) -> None:
    """Refuse what `create` would refuse: not theirs to create, in the past, nowhere to go."""
    if not may_manage(creator, is_admin, spec.unit.id if spec.unit else None):
        raise Refusal("not_admin_or_lead")
    if spec.ends_at <= now:
        raise Refusal("activity_in_past")
    if spec.signup_deadline is not None and spec.signup_deadline <= now:
        raise Refusal("deadline_in_past")
    if await target_chat_id(session, spec.unit.id if spec.unit else None) is None:
        raise Refusal("no_main_group")


async def create(
    session: AsyncSession, creator: Member, is_admin: bool, spec: ActivitySpec, now: dt.datetime
) -> Activity:
    await refuse_uncreatable(session, creator, is_admin, spec, now)
    activity = Activity(
        kind=spec.kind,
        title=spec.title,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        place=spec.place,
        unit_id=spec.unit.id if spec.unit else None,
        code=spec.code,
        hours=spec.hours,
        capacity=spec.capacity,
        signup_deadline=spec.signup_deadline,
        leave_mode=spec.leave_mode,
        qr=spec.qr,
        checkout=spec.checkout,
        plan_item_id=spec.plan_item_id,
        created_by=creator.id,
        # The same clock the reminder rules read: none falls before the activity existed.
        created_at=now,
    )
    session.add(activity)
    await session.flush()
    activity.unit = spec.unit
    return activity


async def duplicate_of(session: AsyncSession, spec: ActivitySpec) -> Activity | None:
    """An activity, not cancelled, with `spec`'s title, start and target: the same unit (or
    the whole organisation) and the same chat. For a series, its first occurrence's."""
    unit_id = spec.unit.id if spec.unit else None
    chat_id = await target_chat_id(session, unit_id)
    same_unit = Activity.unit_id.is_(None) if unit_id is None else Activity.unit_id == unit_id
    found = await session.scalars(
        select(Activity)
        .where(
            Activity.title == spec.title,
            Activity.starts_at == spec.starts_at,
            Activity.status != "cancelled",
            same_unit,
        )
        .order_by(Activity.id)
    )
    # A card already posted elsewhere (the unit's group bound since) is another target.
    return next((a for a in found if a.chat_id is None or a.chat_id == chat_id), None)


# A creation held back because it duplicates an existing activity: a conversation of this
# kind (db.conversations) until 仍然创建 or 取消 is pressed, so any instance takes the press.
HELD = "duplicate"


def spec_state(spec: ActivitySpec) -> dict[str, Any]:
    """`spec` as plain JSON (times as ISO strings, the unit by id)."""

    def moment(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "kind": spec.kind,
        "title": spec.title,
        "starts_at": moment(spec.starts_at),
        "ends_at": moment(spec.ends_at),
        "place": spec.place,
        "unit_id": spec.unit.id if spec.unit else None,
        "code": spec.code,
        "hours": spec.hours,
        "capacity": spec.capacity,
        "signup_deadline": moment(spec.signup_deadline),
        "leave_mode": spec.leave_mode,
        "qr": spec.qr,
        "checkout": spec.checkout,
        "repeat": spec.repeat,
        "count": spec.count,
        "plan_item_id": spec.plan_item_id,
    }


async def spec_from_state(session: AsyncSession, state: dict[str, Any]) -> ActivitySpec:
    """The spec `spec_state` wrote; refused if its unit is gone meanwhile."""

    def moment(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value is not None else None

    unit = None
    if state.get("unit_id") is not None:
        unit = await session.get(Unit, int(state["unit_id"]))
        if unit is None:
            raise Refusal("dup_stale")
    plan_item_id = state.get("plan_item_id")
    if plan_item_id is not None and await session.get(PlanItem, plan_item_id) is None:
        raise Refusal("dup_stale")  # the plan item went meanwhile
    starts_at, ends_at = moment(state["starts_at"]), moment(state["ends_at"])
    assert starts_at is not None and ends_at is not None
    return ActivitySpec(
        kind=state["kind"],
        title=state["title"],
        starts_at=starts_at,
        ends_at=ends_at,
        place=state.get("place"),
        unit=unit,
        code=state.get("code"),
        hours=state.get("hours"),
        capacity=state.get("capacity"),
        signup_deadline=moment(state.get("signup_deadline")),
        leave_mode=state.get("leave_mode", "free"),
        qr=bool(state.get("qr")),
        checkout=bool(state.get("checkout")),
        repeat=state.get("repeat"),
        count=state.get("count"),
        plan_item_id=plan_item_id,
    )


async def hold(
    session: AsyncSession, member_id: int, spec: ActivitySpec, existing: Activity, now: dt.datetime
) -> str:
    """Keep `spec` (a duplicate of `existing`) for the person's answer; the token its buttons
    carry. A newer one replaces it (the older buttons then find nothing)."""
    token = secrets.token_urlsafe(6)
    # It waits for a button, not for text: the router gives the next private message to a
    # conversation that does (a need being written still takes it).
    state = {"token": token, "existing": existing.id, "spec": spec_state(spec)}
    await conversations_db.begin(session, member_id, HELD, now, state)
    return token


@dataclass(frozen=True)
class Held:
    """A held creation taken by its buttons: what to create, and the activity it duplicates."""

    spec: dict[str, Any]
    existing: int


async def take_held(
    session: AsyncSession, member_id: int, token: str, now: dt.datetime
) -> Held | None:
    """The person's held creation whose buttons carry `token`, ended in this transaction;
    None for a stale, forged or second press (and then nothing changes)."""
    found = await conversations_db.waiting(session, member_id, now, HELD)
    if found is None or not secrets.compare_digest(str(found.state.get("token")), token):
        return None
    taken = await conversations_db.take(session, member_id, HELD, now)
    if taken is None or taken.state.get("token") != token:
        return None
    return Held(dict(taken.state["spec"]), int(taken.state["existing"]))


async def target_chat_id(session: AsyncSession, unit_id: int | None) -> int | None:
    """Where an activity's card goes: its unit's group if it has one, else the main group."""
    if unit_id is not None:
        chat = await chats_db.unit_chat(session, unit_id)
        if chat is not None:
            return chat.id
    main = await chats_db.main_chat(session)
    return main.id if main else None


async def card_place(session: AsyncSession, activity: Activity) -> tuple[int | None, int | None]:
    """Where the activity's card is, or goes: its chat and forum topic (None: no topic)."""
    if activity.chat_id is not None:
        return activity.chat_id, activity.thread_id
    chat_id = await target_chat_id(session, activity.unit_id)
    if chat_id is None:
        return None, None
    return chat_id, await chats_db.unit_thread(session, activity.unit_id, chat_id)


async def get(session: AsyncSession, activity_id: int) -> Activity:
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise Refusal("activity_unknown", id=activity_id)
    return activity


# The activity behind a card everyone presses on (see db.snapshots).
SNAPSHOTS = Snapshots(Activity)


async def get_active(
    session: AsyncSession, activity_id: int, *, lock: bool = False, snapshot: bool = False
) -> Activity:
    """An activity that is not cancelled; `lock` takes its row lock (PostgreSQL); `snapshot`
    may answer from a read a moment old (a member's own press: see db.snapshots)."""
    if snapshot:
        activity = await SNAPSHOTS.get(session, activity_id, get)
    elif lock:
        stmt = select(Activity).where(Activity.id == activity_id).with_for_update(of=Activity)
        locked = await session.scalar(stmt)
        if locked is None:
            raise Refusal("activity_unknown", id=activity_id)
        activity = locked
    else:
        activity = await get(session, activity_id)
    if activity.status == "cancelled":
        raise Refusal("activity_cancelled", id=activity_id, title=activity.title)
    return activity


async def upcoming(session: AsyncSession, now: dt.datetime, limit: int = 50) -> list[Activity]:
    """Activities not cancelled and not yet over, soonest first."""
    return list(
        await session.scalars(
            select(Activity)
            .where(Activity.status == "active", Activity.ends_at > now)
            .order_by(Activity.starts_at, Activity.id)
            .limit(limit)
        )
    )


async def by_card(session: AsyncSession, chat_id: int, message_id: int) -> Activity | None:
    """The activity whose card is message `message_id` in `chat_id` (someone replied to it)."""
    return await session.scalar(
        select(Activity).where(Activity.chat_id == chat_id, Activity.message_id == message_id)
    )


async def cancel(session: AsyncSession, activity_id: int) -> Activity:
    activity = await get_active(session, activity_id)
    activity.status = "cancelled"
    return activity


def parse_edit(words: list[str]) -> dict[str, str]:
    """`key=value` changes for /event edit, refusing free words and unknown keys."""
    free, options = rules.known_options(words, EDITABLE)
    if free or not options:
        raise Refusal("edit_usage")
    return options


async def edit(
    session: AsyncSession,
    activity_id: int,
    options: dict[str, str],
    zone: ZoneInfo,
    now: dt.datetime,
) -> Activity:
    """Apply changes: title, date, time, end, place, code (off removes it), hours, deadline.

    `cap` is left to db.volunteer.edit_activity, which may promote from the waitlist.
    """
    activity = await get_active(session, activity_id, lock="cap" in options)
    _refuse_volunteer_only(activity.kind, options)
    today = rules.local_today(now, zone)
    local_start = activity.starts_at.astimezone(zone)
    duration = activity.ends_at - activity.starts_at
    day = rules.parse_date(options["date"], today) if "date" in options else local_start.date()
    at = rules.parse_time(options["time"]) if "time" in options else local_start.timetz()
    starts_at = rules.local_to_utc(day, at.replace(tzinfo=None), zone)
    ends_at = (
        _apply_end(starts_at, options["end"], zone) if "end" in options else starts_at + duration
    )
    if ends_at <= now and (starts_at, ends_at) != (activity.starts_at, activity.ends_at):
        raise Refusal("activity_in_past")
    activity.starts_at, activity.ends_at = starts_at, ends_at
    if "title" in options:
        activity.title = rules.clean_text(options["title"], rules.MAX_TITLE, "title_invalid")
    if "place" in options:
        activity.place = rules.clean_text(options["place"], rules.MAX_PLACE) or None
    if "code" in options:
        activity.code = (
            None if options["code"] in ("off", "") else rules.parse_code(options["code"])
        )
    if "hours" in options:
        activity.hours = rules.parse_hours(options["hours"])
    if "deadline" in options:
        activity.signup_deadline = _parse_deadline(
            options["deadline"], activity.starts_at, zone, today
        )
    _apply_switches(activity, options)
    if "plan" in options:
        item = await plans_db.linkable(
            session, options["plan"], activity.starts_at, activity.unit_id, zone
        )
        activity.plan_item_id = item.id if item else None
    elif activity.plan_item_id is not None and "date" in options:  # still the item's year?
        await plans_db.linkable(
            session, str(activity.plan_item_id), activity.starts_at, activity.unit_id, zone
        )
    return activity


async def set_card(
    session: AsyncSession,
    activity_id: int,
    chat_id: int,
    message_id: int,
    thread_id: int | None = None,
) -> None:
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(chat_id=chat_id, message_id=message_id, thread_id=thread_id)
    )
