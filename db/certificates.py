"""Volunteer-hours certificates (志愿服务证明): what is certified, its code, and /verify.

The hours are those `db.volunteer.credits` credits, whatever rule it follows: this module never
counts hours itself. A certificate row keeps what was certified (name, hours, how many
activities), so a code still verifies what it said after later corrections.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import volunteer as volunteer_db
from db.errors import Refusal
from db.models import Activity, Certificate, Member
from db.rules import Period

# 32 symbols, none that reads as another: no 0/O, no 1/I. 12 of them carry 60 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12
GROUP = 4
FIRST_YEAR = 2000
_SEPARATORS = re.compile(r"[\s\-‐-―－_·.]+")  # dashes of every width, spaces, dots


def new_code() -> str:
    """A random code (Python's `secrets`), stored without dashes."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """`7KQM3XPDH9TF` → `7KQM-3XPD-H9TF`, as people see and type it."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize(raw: str) -> str | None:
    """The stored form of a typed code (any case, full-width or not, with or without dashes or
    spaces), or None when it cannot be one."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def same_hours(a: float, b: float) -> bool:
    """Hours are decimals a person typed or halves of an hour: equal to the hundredth."""
    return round(a, 2) == round(b, 2)


@dataclass(frozen=True)
class Entry:
    """One credited volunteer activity on a certificate."""

    activity_id: int
    day: dt.date  # the local date it started
    title: str
    hours: float


@dataclass(frozen=True)
class Statement:
    """A person's credited volunteer activities of one year, oldest first."""

    year: int
    entries: list[Entry]

    @property
    def total(self) -> float:
        return sum(entry.hours for entry in self.entries)


async def statement(
    session: AsyncSession, member: Member, year: int, zone: ZoneInfo, now: dt.datetime
) -> Statement:
    """What `volunteer.credits` credits `member` for activities that ended in `year` (local);
    an activity credited no hours (a correction to 0) is not listed."""
    since, until = Period(year).bounds(zone)
    credited = await volunteer_db.credits(session, now, since, until)
    hours = {
        activity_id: value
        for (member_id, activity_id), value in credited.items()
        if member_id == member.id and value > 0
    }
    if not hours:
        return Statement(year, [])
    rows = await session.execute(
        select(Activity.id, Activity.starts_at, Activity.title)
        .where(Activity.id.in_(list(hours)))
        .order_by(Activity.starts_at, Activity.id)
    )
    entries = [
        Entry(activity_id, starts_at.astimezone(zone).date(), title, hours[activity_id])
        for activity_id, starts_at, title in rows.all()
    ]
    return Statement(year, entries)


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    statement: Statement
    reused: bool


async def latest(session: AsyncSession, member_id: int, year: int) -> Certificate | None:
    return await session.scalar(
        select(Certificate)
        .where(Certificate.member_id == member_id, Certificate.year == year)
        .order_by(Certificate.id.desc())
        .limit(1)
    )


async def issue(
    session: AsyncSession, member: Member, year: int, zone: ZoneInfo, now: dt.datetime
) -> Issued:
    """The certificate of `member`'s volunteer hours in `year`.

    The latest one is given again while the name, the hours and the number of activities are
    unchanged; otherwise a new one with a new code (earlier codes keep verifying what they
    certified). Refused for someone not registered, or with no credited hours that year.
    """
    if member.registered_at is None or not member.real_name:
        raise Refusal("register_first")
    found = await statement(session, member, year, zone, now)
    if not found.entries:
        raise Refusal("cert_no_hours", year=year)
    total, count, name = found.total, len(found.entries), member.real_name
    previous = await latest(session, member.id, year)
    if (
        previous is not None
        and previous.name == name
        and same_hours(previous.hours, total)
        and previous.activities == count
    ):
        return Issued(previous, found, True)
    code = new_code()
    while await find(session, code) is not None:  # 2^-60 per code already issued
        code = new_code()
    certificate = Certificate(
        code=code,
        member_id=member.id,
        year=year,
        name=name,
        hours=total,
        activities=count,
        issued_at=now,
    )
    session.add(certificate)
    await session.flush()
    return Issued(certificate, found, False)


async def find(session: AsyncSession, code: str) -> Certificate | None:
    """The certificate with this (normalized) code."""
    return await session.scalar(select(Certificate).where(Certificate.code == code))


async def superseded(session: AsyncSession, certificate: Certificate) -> bool:
    """Whether the same person was issued a newer certificate of the same year."""
    newest = await latest(session, certificate.member_id, certificate.year)
    return newest is not None and newest.id != certificate.id


def parse_year(raw: str | None, today: dt.date) -> int:
    """`/certificate [YYYY]`: this year when not given; from 2000 to this year."""
    if raw is None:
        return today.year
    text = raw.strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not FIRST_YEAR <= int(text) <= today.year:
        raise Refusal("cert_year_invalid", text=text[:20], first=FIRST_YEAR, last=today.year)
    return int(text)
