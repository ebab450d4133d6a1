"""The messages of a rapid call: its card, the private calls, a freed place, the roster.

Everything goes through the outbox, keyed per call and person, in the transaction that caused
it. The calls are urgent: written with `quiet=False`, so quiet hours never hold them. The
half-way re-call and the close are occurrences of the reminder engine (`fire`), so each
happens once whatever restarts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import members as members_db
from db import musters as musters_db
from db import outbox as outbox_db
from db.database import Database
from db.models import Member, Muster, MusterAnswer, OutboxMessage
from db.outbox import Buttons
from render.formats import short_moment, unit_of
from render.texts import PerLanguage, clip, listing, paginate, person_name, speaking, t
from scheduler import reminder_rules
from scheduler.cards import CardRefresher, CardView
from scheduler.fanout import to_each
from scheduler.outbox import OutboxHooks
from scheduler.outbox import markup as outbox_markup
from scheduler.reminding import Firing, Writer

POST = "muster_card"  # the card in the group
CARD = "muster"  # the card refresher's name for it
CALL = "muster_call"  # the private calls and the half-way re-call
PROMOTED = "muster_promoted"  # a freed place, to whoever moved up from the waitlist
NOTE = "muster_note"  # to the creator: the roster, and what could not be done


def key(muster_id: int, *parts: object) -> str:
    return ":".join(["muster", str(muster_id), *(str(p) for p in parts)])


def buttons(muster_id: int) -> Buttons:
    return [
        [
            outbox_db.button(t("muster_button_go"), f"ms:go:{muster_id}"),
            outbox_db.button(t("muster_button_no"), f"ms:no:{muster_id}"),
        ]
    ]


def times(muster: Muster) -> reminder_rules.MusterTimes:
    """What the rules (half-way, close) need of a call."""
    return reminder_rules.MusterTimes(muster.id, muster.created_at, muster.closes_at)


def closes(muster: Muster, zone: ZoneInfo) -> str:
    return short_moment(muster.closes_at, zone)


def title(muster: Muster) -> str:
    """The call's first line, short: how lists name it."""
    return clip(muster.text.split("\n", 1)[0], 40)


def target_name(muster: Muster) -> str:
    if muster.squad:
        return t("muster_target_squad")
    return muster.unit.name if muster.unit is not None else t("muster_target_all")


def render_card(
    muster: Muster, counts: musters_db.Counts, zone: ZoneInfo, now: dt.datetime
) -> tuple[str, Buttons | None]:
    """The group card: the task, the live count, and its buttons while the call is open."""
    is_open = musters_db.is_open(muster, now)
    if is_open:
        status, markup = t("muster_card_hint", need=muster.need), buttons(muster.id)
    else:
        status, markup = t("muster_card_ended", confirmed=counts.confirmed, need=muster.need), None
    text = t(
        "muster_card",
        id=muster.id,
        text=muster.text,
        target=target_name(muster),
        need=muster.need,
        closes=closes(muster, zone),
        counts=t(
            "muster_counts",
            confirmed=counts.confirmed,
            need=muster.need,
            waitlisted=counts.waitlisted,
            declined=counts.declined,
        ),
        status=status,
    )
    return clip(text), markup


async def announce(
    session: AsyncSession, created: musters_db.Created, zone: ZoneInfo, now: dt.datetime
) -> None:
    """The card in its group (in the group's language) and a private call to everyone
    reachable (in each one's), once committed."""
    muster = created.muster
    assert muster.chat_id is not None
    with speaking(await chats_db.language(session, muster.chat_id)):
        text, markup = render_card(muster, musters_db.Counts(0, 0, 0), zone, now)
    await outbox_db.enqueue(
        session,
        key(muster.id, "card", muster.chat_id),
        muster.chat_id,
        text,
        buttons=markup,
        purpose=POST,
        ref_id=muster.id,
        # A unit's call in the main group goes into the unit's topic, if it has one.
        thread_id=await chats_db.unit_thread(session, muster.unit_id, muster.chat_id),
    )

    def call() -> str:
        return t(
            "muster_call",
            id=muster.id,
            text=muster.text,
            target=target_name(muster),
            need=muster.need,
            closes=closes(muster, zone),
        )

    await _call(session, muster, created.reachable, "call", call)


async def _call(
    session: AsyncSession,
    muster: Muster,
    people: list[Member],
    round_: str,
    text: Callable[[], str],
) -> int:
    """Private calls with the answer buttons (in each one's language), never held by quiet
    hours; how many."""
    called, _ = await to_each(
        session,
        people,
        lambda member: key(muster.id, round_, member.id),
        text,
        buttons=lambda: buttons(muster.id),
        purpose=CALL,
        ref_id=muster.id,
        quiet=False,  # urgent: quiet hours never hold a call
    )
    return called


async def organisers(
    session: AsyncSession, muster: Muster, admin_ids: frozenset[int]
) -> list[Member]:
    """Whom to tell about a call: its creator if the bot may write to them, else the committee."""
    creator = await session.get(Member, muster.created_by)
    if creator is not None and musters_db.reachable(creator):
        return [creator]
    return await members_db.committee(session, admin_ids)


async def _tell_organisers(
    session: AsyncSession,
    muster: Muster,
    admin_ids: frozenset[int],
    key_: str,
    texts: Callable[[], list[str]],
) -> int:
    """`texts` (rendered in each organiser's language), one message each."""
    rendered = PerLanguage(texts)
    added = 0
    for person in await organisers(session, muster, admin_ids):
        for i, text in enumerate(rendered(person.lang), 1):
            added += await outbox_db.enqueue(
                session,
                f"{key_}:{person.id}:{i}",
                person.chat_id,
                clip(text),
                purpose=NOTE,
                ref_id=muster.id,
                member_id=person.id,
            )
    return added


async def tell_promoted(
    session: AsyncSession,
    muster: Muster,
    promoted: list[MusterAnswer],
    zone: ZoneInfo,
    admin_ids: frozenset[int],
) -> None:
    """Those moved up from the waitlist are told privately; the creator, of whoever cannot be."""
    text = PerLanguage(
        lambda: clip(
            t("muster_promoted", id=muster.id, text=muster.text, closes=closes(muster, zone))
        )
    )
    answers = PerLanguage(lambda: buttons(muster.id))
    for row in promoted:
        member = row.member
        promoted_key = key(muster.id, "promoted", row.id)
        if musters_db.reachable(member):
            await outbox_db.enqueue(
                session,
                promoted_key,
                member.chat_id,
                text(member.lang),
                buttons=answers(member.lang),
                purpose=PROMOTED,
                ref_id=muster.id,
                member_id=member.id,
            )
        else:
            await _tell_unreachable(session, muster, member, promoted_key, admin_ids)


async def _tell_unreachable(
    session: AsyncSession, muster: Muster, member: Member, key_: str, admin_ids: frozenset[int]
) -> None:
    def text() -> list[str]:
        return [
            t(
                "muster_promoted_unreachable",
                id=muster.id,
                name=person_name(member),
                unit=unit_of(member),
            )
        ]

    await _tell_organisers(session, muster, admin_ids, f"{key_}:unreachable", text)


# --- the roster ------------------------------------------------------------------------------


NAMES_PER_LINE = 1000  # characters: a unit of hundreds goes on over several lines (pages)


def by_unit(people: list[Member], name: Callable[[Member], str]) -> list[str]:
    """A line per unit (in the order the people come), names in that order; a long one goes
    on in further lines, so that paging never cuts names off."""
    groups: dict[str, list[str]] = {}
    for member in people:
        groups.setdefault(unit_of(member), []).append(name(member))
    lines = []
    for unit, names in groups.items():
        chunks: list[list[str]] = [[]]
        size = 0
        for item in names:
            if chunks[-1] and size + len(item) + 1 > NAMES_PER_LINE:
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += len(item) + 1
        lines.append(t("muster_unit_line", unit=unit, count=len(names), names=listing(chunks[0])))
        lines += [t("muster_unit_more", names=listing(chunk)) for chunk in chunks[1:]]
    return lines


def name_and_reach(member: Member) -> str:
    """The name, marked when the bot cannot write to the person."""
    return person_name(member) + ("" if musters_db.reachable(member) else t("muster_no_dm"))


def roster_pages(roster: musters_db.Roster, zone: ZoneInfo, now: dt.datetime) -> list[str]:
    """已确认 n/N · 候补 k · 去不了 m · 未回复 r, then the names of each by unit, paged."""
    muster = roster.muster
    places = {m.id: i for i, m in enumerate(roster.waitlisted, 1)}

    def plain(member: Member) -> str:
        return person_name(member)

    def queued(member: Member) -> str:
        return t("muster_waitlist_place", name=person_name(member), position=places[member.id])

    lines: list[str] = []
    sections = (
        ("muster_section_confirmed", roster.confirmed, plain),
        ("muster_section_waitlisted", roster.waitlisted, queued),
        ("muster_section_declined", roster.declined, plain),
        ("muster_section_silent", roster.silent, name_and_reach),
    )
    for heading, people, name in sections:
        lines.append(t(heading))
        lines += by_unit(people, name) or [t("muster_section_none")]
    if musters_db.is_open(muster, now):
        state = t("muster_state_open", closes=closes(muster, zone))
    else:
        state = t("muster_state_closed")

    def header(page: int, pages: int) -> str:
        return t(
            "muster_roster_header",
            id=muster.id,
            page=page,
            pages=pages,
            state=state,
            title=title(muster),
            confirmed=len(roster.confirmed),
            need=muster.need,
            waitlisted=len(roster.waitlisted),
            declined=len(roster.declined),
            silent=len(roster.silent),
        )

    return paginate(header, lines)


# --- the reminder engine's occurrences -------------------------------------------------------


@dataclass
class Fired:
    sent: int = 0  # outbox rows written
    skipped: str | None = None  # why nothing had to be done
    closed: bool = False  # the card must now say the call ended


async def fire(
    session: AsyncSession,
    rule: str,
    muster_id: int | None,
    now: dt.datetime,
    zone: ZoneInfo,
    admin_ids: frozenset[int],
) -> Fired:
    """Half-way: call again those who have not answered, unless enough are confirmed.
    Close: no more answers; the creator gets the roster."""
    if rule == reminder_rules.MUSTER_CLOSE:
        muster = await musters_db.close(session, muster_id, now)
        if muster is None:
            return Fired(skipped="call gone or already closed")
        roster = await musters_db.roster(session, muster)
        pages = partial(roster_pages, roster, zone, now)
        sent = await _tell_organisers(session, muster, admin_ids, key(muster.id, "roster"), pages)
        return Fired(sent, None if sent else "nobody to send the roster to", closed=True)
    muster = await session.get(Muster, muster_id) if muster_id is not None else None
    if muster is None or not musters_db.is_open(muster, now):
        return Fired(skipped="call closed")
    counts = await musters_db.counts(session, muster.id)
    missing = muster.need - counts.confirmed
    if missing <= 0:
        return Fired(skipped=f"{muster.need} already confirmed")
    people = [m for m in await musters_db.not_answered(session, muster) if musters_db.reachable(m)]
    text = partial(
        t,
        "muster_recall",
        id=muster.id,
        missing=missing,
        text=muster.text,
        closes=closes(muster, zone),
    )
    sent = await _call(session, muster, people, "half", text)
    return Fired(sent, None if sent else "everyone reachable has answered")


class MusterHooks(OutboxHooks):
    """Remember where the card is (its counts are edited there); tell the creator what could
    not be done."""

    def __init__(self, cards: CardRefresher, card_kind: str, admin_ids: frozenset[int]) -> None:
        self._cards, self._kind, self._admin_ids = cards, card_kind, admin_ids

    async def sent(self, session: AsyncSession, row: OutboxMessage, message_id: int) -> None:
        if row.purpose != POST or row.ref_id is None:
            return
        await musters_db.set_card(session, row.ref_id, row.chat_id, message_id)
        # Answers may have come in while the card was queued: re-render it.
        self._cards.shown(row.chat_id, message_id, row.text)
        self._cards.touch(self._kind, row.ref_id)

    async def not_delivered(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        muster = await session.get(Muster, row.ref_id) if row.ref_id is not None else None
        if muster is None:
            return
        if row.purpose == POST:
            called = muster

            def text() -> list[str]:
                return [t("muster_card_failed", id=called.id, error=error)]

            await _tell_organisers(session, muster, self._admin_ids, f"{row.key}:failed", text)
        elif row.purpose == PROMOTED and row.member_id is not None:
            member = await session.get(Member, row.member_id)
            if member is not None:
                await _tell_unreachable(session, muster, member, row.key, self._admin_ids)


async def card_views(
    db: Database, zone: ZoneInfo, now: dt.datetime, muster_id: int
) -> list[CardView]:
    """The call's card as it should look now (none while it is not posted yet, nor once its
    group was upgraded or the bot removed: that message can no longer be edited)."""
    async with db.session() as session:
        muster = await session.get(Muster, muster_id)
        if muster is None or muster.chat_id is None or muster.message_id is None:
            return []
        chat = await chats_db.get(session, muster.chat_id)
        if chat is None or chat.status != "active":
            return []
        counts = await musters_db.counts(session, muster.id)
    with speaking(chat.lang):  # the group's card: in the group's language
        text, buttons = render_card(muster, counts, zone, now)
    return [CardView(muster.chat_id, muster.message_id, text, outbox_markup(buttons))]


async def write(f: Firing) -> str | None:
    """The call's half-way re-call and its close (scheduler.reminder_rules.MUSTER_RULES)."""
    fired = await fire(f.session, f.occurrence.rule, f.occurrence.ref, f.now, f.zone, f.admin_ids)
    f.send.count += fired.sent
    if fired.closed and f.occurrence.ref is not None:
        f.on_muster_closed(f.occurrence.ref)  # the card shows the final count
    return fired.skipped


WRITERS: dict[str, Writer] = dict.fromkeys(reminder_rules.MUSTER_RULES, write)
