"""One message to each of many people, through the outbox: each in their own language, each
with its own idempotency key (so writing it twice sends it once), in the transaction of the
change that caused it. Every fan-out of the bot goes through `to_each`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox as outbox_db
from db.models import Member
from db.outbox import Buttons
from render.texts import PerLanguage, clip


async def to_each(
    session: AsyncSession,
    people: Iterable[Member],
    key: Callable[[Member], str],
    text: Callable[[], str],
    *,
    buttons: Callable[[], Buttons] | None = None,
    purpose: str | None = None,
    ref_id: int | None = None,
    quiet: bool = True,
    media_kind: str | None = None,
    media_file_id: str | None = None,
) -> tuple[int, list[Member]]:
    """Queue `text` (and `buttons`), rendered in each reader's language, privately to each of
    `people` the bot may write to. (How many it was written for, those it may not write to.)

    `quiet`: an automatic message, held during quiet hours (the default: a fan-out is never
    someone asking for an answer now).
    """
    rendered = PerLanguage(lambda: clip(text()))
    markup = PerLanguage(buttons) if buttons is not None else None
    reached, unreachable = 0, []
    for person in people:
        if not person.can_dm or person.telegram_id is None:
            unreachable.append(person)
            continue
        reached += 1
        await outbox_db.enqueue(
            session,
            key(person),
            person.telegram_id,
            rendered(person.lang),
            buttons=markup(person.lang) if markup is not None else None,
            purpose=purpose,
            ref_id=ref_id,
            member_id=person.id,
            quiet=quiet,
            media_kind=media_kind,
            media_file_id=media_file_id,
        )
    return reached, unreachable
