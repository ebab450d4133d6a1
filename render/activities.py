"""Activities as people read them: the group card (what, when, where, for whom, live counts,
its buttons), the buttons of its reminders, and what a check-in attempt did."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from db import attendance as attendance_db
from db import outbox as outbox_db
from db import volunteer as volunteer_db
from db.attendance import CheckinResult, Outcome
from db.errors import Refusal
from db.models import Activity
from db.outbox import Buttons
from db.rules import CheckinPolicy
from render.formats import hours_text, kind_name, local_time, short_moment, when
from render.texts import t

Counts = tuple[attendance_db.Counts, volunteer_db.VolunteerCounts | None]


def target_name(activity: Activity) -> str:
    return activity.unit.name if activity.unit else t("target_all")


def card_buttons(activity: Activity) -> Buttons:
    """The card's buttons, as outbox data: 签到/请假, or 报名/取消报名/签到 for volunteering."""
    checkin = outbox_db.button(t("button_checkin"), f"act:ci:{activity.id}")
    if activity.kind == "volunteer":
        attend = [checkin]
        if activity.checkout:  # 签退: the real hours are credited
            attend.append(outbox_db.button(t("button_checkout"), f"act:co:{activity.id}"))
        return [
            [
                outbox_db.button(t("button_signup"), f"act:su:{activity.id}"),
                outbox_db.button(t("button_withdraw"), f"act:wd:{activity.id}"),
            ],
            attend,
        ]
    return [[checkin, outbox_db.button(t("button_leave"), f"act:lv:{activity.id}")]]


def _labelled(label: str, data: str, activity: Activity) -> dict[str, str]:
    """A reminder's button; its "merged" label says which activity (for a merged message)."""
    return {
        **outbox_db.button(label, data),
        "merged": t("button_for_activity", label=label, id=activity.id),
    }


def reminder_buttons(activity: Activity, signup_open: bool) -> Buttons:
    """A group reminder's buttons: 签到/请假, or (volunteering) 报名 while open, and 签到."""
    checkin = _labelled(t("button_checkin"), f"act:ci:{activity.id}", activity)
    if activity.kind == "volunteer":
        signup = _labelled(t("button_signup"), f"act:su:{activity.id}", activity)
        return [[signup, checkin] if signup_open else [checkin]]
    return [[checkin, _labelled(t("button_leave"), f"act:lv:{activity.id}", activity)]]


def signup_buttons(activity: Activity) -> Buttons:
    """报名即将截止: the one button that matters."""
    return [[_labelled(t("button_signup"), f"act:su:{activity.id}", activity)]]


def nudge_buttons(activity: Activity) -> Buttons:
    """The check-in nudge: the card's 签到/请假 (volunteers: 签到; they withdraw instead)."""
    checkin = outbox_db.button(t("button_checkin"), f"act:ci:{activity.id}")
    if activity.kind == "volunteer":
        return [[checkin]]
    return [[checkin, outbox_db.button(t("button_leave"), f"act:lv:{activity.id}")]]


def service_hours(activity: Activity) -> float:
    """The hours a volunteer activity credits (stated, or its length)."""
    return volunteer_db.planned_hours(activity)


def counts_line(
    activity: Activity,
    counts: attendance_db.Counts,
    volunteers: volunteer_db.VolunteerCounts | None,
    zone: ZoneInfo,
) -> str:
    if volunteers is None:
        pending = t("card_pending", pending=counts.pending) if counts.pending else ""
        return (
            t(
                "card_counts",
                present=counts.present,
                late=counts.late,
                leave=counts.leave,
                expected=counts.expected,
            )
            + pending
        )
    return t(
        "card_volunteer",
        confirmed=volunteers.confirmed,
        cap=activity.capacity if activity.capacity is not None else t("cap_unlimited"),
        waitlisted=volunteers.waitlisted,
        checked_in=volunteers.checked_in,
        deadline=short_moment(volunteer_db.deadline(activity), zone),
        hours=hours_text(service_hours(activity)),
    )


def _option_hints(activity: Activity) -> list[str]:
    """What a member must know before pressing: how to check in, leave needs approval…"""
    hints = []
    if activity.qr:
        hints.append(t("card_qr_hint", id=activity.id))
    elif activity.code:
        hints.append(t("card_code_hint", id=activity.id))
    if activity.leave_mode == "approve":
        hints.append(t("card_leave_approve_hint"))
    if activity.checkout:
        hints.append(t("card_checkout_hint"))
    return hints


def render_card(
    activity: Activity,
    counts: Counts,
    zone: ZoneInfo,
    now: dt.datetime,
) -> tuple[str, Buttons | None]:
    """The group card: what, when, where, for whom, live counts, and its buttons."""
    status = ""
    buttons: Buttons | None = card_buttons(activity)
    if activity.status == "cancelled":
        status, buttons = t("card_cancelled"), None
    elif now > activity.ends_at:
        status, buttons = t("card_ended"), None
    else:
        status = "".join(_option_hints(activity))
    text = t(
        "card",
        kind=kind_name(activity.kind),
        id=activity.id,
        title=activity.title,
        when=when(activity, zone),
        place=activity.place or t("place_none"),
        target=target_name(activity),
        counts=counts_line(activity, counts[0], counts[1], zone),
        status=status,
    )
    return text, buttons


def checkin_text(result: CheckinResult, zone: ZoneInfo, policy: CheckinPolicy) -> str:
    """What a check-in attempt did, in words (a toast or a reply)."""
    activity = result.activity
    at = local_time(result.at, zone) if result.at else ""
    match result.outcome:
        case Outcome.PRESENT | Outcome.LATE:
            key = "checkin_late" if result.outcome is Outcome.LATE else "checkin_present"
            return t(key, id=activity.id, title=activity.title, time=at)
        case Outcome.ALREADY:
            return t("checkin_already", id=activity.id, time=at)
        case Outcome.NOT_OPEN:
            opens = policy.opens_at(activity.starts_at).astimezone(zone)
            return t("checkin_not_open", id=activity.id, opens=short_moment(opens, zone))
        case Outcome.CLOSED:
            return t("checkin_closed", id=activity.id)
        case Outcome.NEED_CODE:
            return t("checkin_need_code", id=activity.id)
        case Outcome.WRONG_CODE:
            return t("checkin_wrong_code")
        case Outcome.NEED_QR:
            return t("checkin_need_qr", id=activity.id)


def refusal_for(result: CheckinResult, zone: ZoneInfo, policy: CheckinPolicy) -> Refusal:
    """A check-in that changed nothing, as a refusal (for answers given quietly)."""
    return Refusal("as_is", text=checkin_text(result, zone, policy))
