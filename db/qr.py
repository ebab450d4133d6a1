"""Rotating QR check-in (qr=on): tokens and codes that change every period, and the displays.

Time is cut into periods of QR_ROTATE_SECONDS counted from 1970. The token in the deep link a
QR code carries, and the 6-digit code shown beneath it for people who cannot scan, are
HMAC-SHA256s over (activity, period) with a secret kept in the database: neither can be
guessed from the activity's number or the time. Each is accepted in its own period and the
next, so a code read at a period's last second still works; older ones have expired.
A display is the photo of the current code in a chat; the leader replaces it every period
(scheduler.qr_rotation) and says "ended" once check-in closes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import attendance as attendance_db
from db import cluster as cluster_db
from db import rules
from db.attendance import CheckinResult, Outcome
from db.errors import Refusal
from db.models import Activity, ClusterState, Member, QrDisplay
from db.sql import insert_ignore, upsert

SECRET_KEY = "qr_secret"
TOKEN_CHARS = 16  # 96 bits of base64url
CODE_DIGITS = 6
# A typed code older than this many periods is simply wrong (not worth telling "expired").
CODE_LOOKBACK = 720
_PAYLOAD = re.compile(rf"^qr_([0-9]{{1,9}})_([0-9]{{1,12}})_([A-Za-z0-9_-]{{{TOKEN_CHARS}}})$")
_CODE = re.compile(rf"^[0-9]{{{CODE_DIGITS}}}$")


class Verdict(Enum):
    OK = "ok"
    EXPIRED = "expired"  # genuine, but older than the previous period
    INVALID = "invalid"  # forged, malformed, another activity's, or a wrong code


# ---------------------------------------------------------------------- tokens and codes
async def secret(session: AsyncSession) -> bytes:
    """The HMAC key, created once for the whole deployment (every instance reads the same)."""
    stored = await cluster_db.state(session, SECRET_KEY)
    if stored is None:
        await insert_ignore(
            session, ClusterState, key=SECRET_KEY, value=secrets.token_bytes(32).hex()
        )
        stored = await cluster_db.state(session, SECRET_KEY)
    assert stored is not None
    return bytes.fromhex(stored)


def period_of(now: dt.datetime, seconds: int) -> int:
    """floor(unix time / seconds)."""
    return int(now.timestamp()) // seconds


def period_start(period: int, seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(period * seconds, dt.UTC)


def _mac(key: bytes, purpose: str, activity_id: int, period: int) -> bytes:
    message = f"{purpose}:{activity_id}:{period}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def make_token(key: bytes, activity_id: int, period: int) -> str:
    digest = _mac(key, "qr-token", activity_id, period)
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def make_code(key: bytes, activity_id: int, period: int) -> str:
    """Six digits, leading zeros kept."""
    digest = _mac(key, "qr-code", activity_id, period)
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def make_payload(key: bytes, activity_id: int, period: int) -> str:
    """The deep link's start parameter: `A-Za-z0-9_-` only, well under 64 characters."""
    return f"qr_{activity_id}_{period}_{make_token(key, activity_id, period)}"


@dataclass(frozen=True)
class Scan:
    activity_id: int
    period: int
    token: str


def parse_payload(payload: str) -> Scan | None:
    match = _PAYLOAD.match(payload)
    if match is None:
        return None
    return Scan(int(match[1]), int(match[2]), match[3])


def check_token(key: bytes, scan: Scan, current: int) -> Verdict:
    """Genuine first (constant-time), then fresh: this period or the previous one."""
    if not hmac.compare_digest(make_token(key, scan.activity_id, scan.period), scan.token):
        return Verdict.INVALID
    if scan.period in (current, current - 1):
        return Verdict.OK
    return Verdict.EXPIRED if scan.period < current else Verdict.INVALID


def check_code(key: bytes, activity_id: int, code: str, current: int, oldest: int) -> Verdict:
    """This period's or the previous one's code; one of an earlier period (not before
    `oldest`) has expired; anything else is wrong."""
    if not _CODE.match(code):
        return Verdict.INVALID
    for period in (current, current - 1):
        if hmac.compare_digest(make_code(key, activity_id, period), code):
            return Verdict.OK
    for period in range(current - 2, max(oldest, current - CODE_LOOKBACK) - 1, -1):
        if hmac.compare_digest(make_code(key, activity_id, period), code):
            return Verdict.EXPIRED
    return Verdict.INVALID


# ---------------------------------------------------------------------- checking in
async def check_in(
    session: AsyncSession,
    activity_id: int,
    member: Member,
    now: dt.datetime,
    policy: rules.CheckinPolicy,
    rotate_seconds: int,
    *,
    scan: Scan | None = None,
    code: str | None = None,
) -> CheckinResult | Verdict:
    """Check in with a scanned token or a typed code; the Verdict if that alone refused it.

    A bad token or code is refused only where check-in would otherwise be possible: someone
    unregistered, too early, too late or already checked in is told that instead. A wrong
    code is counted on the activity (the roster shows it), as wrong code= codes are.
    """
    key = await secret(session)
    current = period_of(now, rotate_seconds)
    activity = await activities_db.get_active(session, activity_id)
    if code is not None and activity.qr:
        await attendance_db.guard_code_tries(session, activity_id, member.id, now)
    if scan is not None:
        verdict = check_token(key, scan, current)
    else:
        assert code is not None
        oldest = period_of(policy.opens_at(activity.starts_at), rotate_seconds)
        verdict = check_code(key, activity_id, code, current, oldest)
    if verdict is Verdict.OK:
        return await attendance_db.check_in(session, activity_id, member, now, policy, qr_ok=True)
    if not activity.qr:
        return verdict
    result = await attendance_db.check_in(session, activity_id, member, now, policy)
    if result.outcome is not Outcome.NEED_QR:
        return result
    if code is not None and verdict is Verdict.INVALID:
        await attendance_db.record_wrong_code(session, activity_id, member.id, now)
    return verdict


# ---------------------------------------------------------------------- displays
@dataclass(frozen=True)
class Frame:
    """What a display shows during one period."""

    activity_id: int
    title: str
    period: int
    payload: str
    code: str
    valid_until: dt.datetime  # the end of the next period


def frame(key: bytes, activity: Activity, period: int, rotate_seconds: int) -> Frame:
    return Frame(
        activity_id=activity.id,
        title=activity.title,
        period=period,
        payload=make_payload(key, activity.id, period),
        code=make_code(key, activity.id, period),
        valid_until=period_start(period + 2, rotate_seconds),
    )


@dataclass(frozen=True)
class Opened:
    display_id: int
    replaced_message_id: int | None  # the chat's earlier display of this activity
    frame: Frame


async def open_display(
    session: AsyncSession,
    activity_id: int,
    member: Member,
    is_admin: bool,
    chat_id: int,
    now: dt.datetime,
    policy: rules.CheckinPolicy,
    rotate_seconds: int,
    zone: ZoneInfo,
) -> Opened:
    """/qr: a display of the activity's current code in `chat_id` (replacing an earlier one).

    Refused before check-in opens (the code would be no use yet and would rotate for hours):
    the refusal says when to ask again. The photo's message id is recorded once it is sent.
    """
    activity = await activities_db.get_active(session, activity_id)
    if not activities_db.may_manage(member, is_admin, activity.unit_id):
        raise Refusal("not_admin_or_lead")
    if not activity.qr:
        raise Refusal("qr_not_enabled", id=activity.id)
    window = policy.window(now, activity.starts_at, activity.ends_at)
    if window is rules.Window.NOT_OPEN:
        opens = policy.opens_at(activity.starts_at).astimezone(zone)
        raise Refusal("qr_not_open", id=activity.id, opens=opens.strftime("%m-%d %H:%M"))
    if window is rules.Window.CLOSED:
        raise Refusal("checkin_closed", id=activity.id)
    key = await secret(session)
    period = period_of(now, rotate_seconds)
    old = await session.scalar(
        select(QrDisplay.message_id).where(
            QrDisplay.activity_id == activity.id, QrDisplay.chat_id == chat_id
        )
    )
    await upsert(
        session,
        QrDisplay,
        ["activity_id", "chat_id"],
        activity_id=activity.id,
        chat_id=chat_id,
        message_id=None,
        period=period,
        created_by=member.id,
        created_at=now,
        closed=False,
    )
    display_id = await session.scalar(
        select(QrDisplay.id).where(
            QrDisplay.activity_id == activity.id, QrDisplay.chat_id == chat_id
        )
    )
    assert display_id is not None
    return Opened(display_id, old, frame(key, activity, period, rotate_seconds))


async def shown(session: AsyncSession, display_id: int, message_id: int) -> None:
    """The display's photo was sent: from now on it is rotated."""
    await session.execute(
        update(QrDisplay).where(QrDisplay.id == display_id).values(message_id=message_id)
    )


async def forget(session: AsyncSession, display_id: int) -> None:
    """The photo could not be sent: there is nothing to rotate."""
    await session.execute(
        delete(QrDisplay).where(QrDisplay.id == display_id, QrDisplay.message_id.is_(None))
    )


class Action(Enum):
    ROTATE = "rotate"
    ENDED = "ended"  # check-in closed
    STOPPED = "stopped"  # cancelled, or qr switched off


@dataclass(frozen=True)
class Step:
    display_id: int
    chat_id: int
    message_id: int
    action: Action
    activity_id: int
    title: str
    frame: Frame | None = None  # for ROTATE


async def due(
    session: AsyncSession, now: dt.datetime, policy: rules.CheckinPolicy, rotate_seconds: int
) -> list[Step]:
    """What the open displays need now: a new period's code, or the end."""
    rows = (
        await session.execute(
            select(QrDisplay, Activity)
            .join(Activity, Activity.id == QrDisplay.activity_id)
            .where(QrDisplay.closed.is_(False), QrDisplay.message_id.is_not(None))
            .order_by(QrDisplay.id)
        )
    ).all()
    if not rows:
        return []
    key = await secret(session)
    current = period_of(now, rotate_seconds)
    steps: list[Step] = []
    for display, activity in rows:
        assert display.message_id is not None
        base = (display.id, display.chat_id, display.message_id)
        window = policy.window(now, activity.starts_at, activity.ends_at)
        if activity.status == "cancelled" or not activity.qr:
            steps.append(Step(*base, Action.STOPPED, activity.id, activity.title))
        elif window is rules.Window.CLOSED:
            steps.append(Step(*base, Action.ENDED, activity.id, activity.title))
        elif display.period != current:
            shown_frame = frame(key, activity, current, rotate_seconds)
            steps.append(Step(*base, Action.ROTATE, activity.id, activity.title, frame=shown_frame))
    return steps


async def any_open(session: AsyncSession) -> bool:
    """Whether any display is still shown (the rotation then keeps looking every tick)."""
    found = await session.scalar(select(QrDisplay.id).where(QrDisplay.closed.is_(False)).limit(1))
    return found is not None


async def rotated(session: AsyncSession, step: Step) -> None:
    """The photo now shows `step.frame` (unless the display was replaced meanwhile)."""
    assert step.frame is not None
    await session.execute(
        update(QrDisplay)
        .where(QrDisplay.id == step.display_id, QrDisplay.message_id == step.message_id)
        .values(period=step.frame.period)
    )


async def close(session: AsyncSession, step: Step) -> None:
    """No more rotation for this display."""
    await session.execute(
        update(QrDisplay)
        .where(QrDisplay.id == step.display_id, QrDisplay.message_id == step.message_id)
        .values(closed=True)
    )
