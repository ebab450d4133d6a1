"""/remind add: a one-off reminder, at its time, to the main group or a unit's group (the
committee privately while there is no group to send to)."""

from __future__ import annotations

from db import chats as chats_db
from db.models import OneOffReminder
from render.texts import t
from scheduler import reminder_rules
from scheduler.reminding import Firing, Writer


async def one_off(f: Firing) -> str | None:
    reminder = await f.session.get(OneOffReminder, f.occurrence.ref)
    if reminder is None or reminder.deleted:
        return "deleted"
    chat = f.main
    if reminder.unit_id is not None:
        chat = await chats_db.unit_destination(f.session, reminder.unit_id) or f.main
    thread = await chats_db.unit_thread(f.session, reminder.unit_id, chat.id) if chat else None
    body = reminder.text
    await f.send.group_or_committee(
        chat, f.committee, lambda: t("remind_one_off", text=body), thread
    )
    return None


WRITERS: dict[str, Writer] = {reminder_rules.ONE_OFF: one_off}
