"""Members, units, roles and chats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import Refusal
from db.models import Chat, Member, Unit, utcnow

MAX_NAME = 32
MAX_UNIT = 32


@dataclass(frozen=True)
class TelegramUser:
    """The parts of a Telegram user we keep (no Telegram import here)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None


async def touch_member(session: AsyncSession, user: TelegramUser) -> Member:
    """Record (or refresh) anyone who interacts with the bot, registered or not."""
    member = await session.scalar(select(Member).where(Member.telegram_id == user.id))
    if member is None:
        member = Member(
            telegram_id=user.id,
            first_name=user.first_name[:128],
            last_name=(user.last_name or None) and user.last_name[:128],
            username=user.username,
        )
        session.add(member)
        await session.flush()
        return member
    if (member.first_name, member.last_name, member.username) != (
        user.first_name[:128],
        user.last_name,
        user.username,
    ):
        member.first_name = user.first_name[:128]
        member.last_name = user.last_name
        member.username = user.username
    return member


def is_admin(member: Member, bootstrap_admins: frozenset[int]) -> bool:
    """Committee members: promoted ones and the bootstrap ADMIN_IDS (always)."""
    return member.role == "admin" or member.telegram_id in bootstrap_admins


def clean_name(raw: str, limit: int) -> str:
    """Collapse whitespace; refuse empty, control characters and over-long names."""
    name = " ".join(raw.split())
    if not name or len(name) > limit or any(not ch.isprintable() for ch in name):
        raise Refusal("name_invalid", limit=limit)
    return name


async def list_units(session: AsyncSession) -> list[Unit]:
    return list(await session.scalars(select(Unit).order_by(Unit.id)))


async def unit_by_name(session: AsyncSession, name: str) -> Unit:
    """The unit called `name` (case-insensitive), or a refusal listing the valid ones."""
    unit = await session.scalar(select(Unit).where(func.lower(Unit.name) == name.strip().lower()))
    if unit is None:
        names = [u.name for u in await list_units(session)]
        raise Refusal("unit_unknown", name=name[:MAX_UNIT], units=names)
    return unit


async def add_unit(session: AsyncSession, name: str) -> Unit:
    name = clean_name(name, MAX_UNIT)
    exists = await session.scalar(select(Unit).where(func.lower(Unit.name) == name.lower()))
    if exists is not None:
        raise Refusal("unit_exists", name=name)
    unit = Unit(name=name)
    session.add(unit)
    await session.flush()
    return unit


async def rename_unit(session: AsyncSession, old: str, new: str) -> Unit:
    unit = await unit_by_name(session, old)
    new = clean_name(new, MAX_UNIT)
    clash = await session.scalar(
        select(Unit).where(func.lower(Unit.name) == new.lower(), Unit.id != unit.id)
    )
    if clash is not None:
        raise Refusal("unit_exists", name=new)
    unit.name = new
    return unit


async def register(session: AsyncSession, member: Member, real_name: str, unit_name: str) -> Unit:
    """A member states their real name and unit (re-registering updates both)."""
    name = clean_name(real_name, MAX_NAME)
    unit = await unit_by_name(session, unit_name)
    member.real_name = name
    member.unit_id = unit.id
    member.unit = unit
    if member.registered_at is None:
        member.registered_at = utcnow()
    return unit


async def find_member(session: AsyncSession, ref: str) -> Member:
    """A member named by @username or numeric Telegram id."""
    ref = ref.strip()
    if ref.startswith("@") and len(ref) > 1:
        stmt = select(Member).where(func.lower(Member.username) == ref[1:].lower())
    elif ref.lstrip("-").isdigit() and len(ref) <= 20:
        stmt = select(Member).where(Member.telegram_id == int(ref))
    else:
        raise Refusal("member_ref_invalid", ref=ref[:64])
    member = await session.scalar(stmt)
    if member is None:
        raise Refusal("member_unknown", ref=ref[:64])
    return member


async def set_role(session: AsyncSession, member: Member, role: str) -> bool:
    """Set the committee role; False when it was already so."""
    if member.role == role:
        return False
    member.role = role
    return True


async def set_lead(session: AsyncSession, member: Member, unit: Unit | None) -> None:
    """Make `member` the lead of `unit` (None: no longer a lead)."""
    member.lead_unit_id = unit.id if unit else None
    member.lead_unit = unit


async def admin_telegram_ids(session: AsyncSession, bootstrap: frozenset[int]) -> set[int]:
    promoted = await session.scalars(select(Member.telegram_id).where(Member.role == "admin"))
    return set(promoted) | set(bootstrap)


async def set_can_dm(session: AsyncSession, telegram_id: int, value: bool) -> None:
    await session.execute(
        update(Member).where(Member.telegram_id == telegram_id).values(can_dm=value)
    )


async def setup_chat(
    session: AsyncSession,
    chat_id: int,
    title: str,
    unit: Unit | None,
    *,
    bot_is_admin: bool,
    bot_can_pin: bool,
) -> Chat:
    """Make `chat_id` the main group (unit None) or `unit`'s group, replacing the previous one."""
    purpose = "unit" if unit else "main"
    chat = await session.get(Chat, chat_id)
    # Free the slot first so the unique indexes hold at every step.
    taken = Chat.unit_id == unit.id if unit else Chat.purpose == "main"
    await session.execute(delete(Chat).where(taken, Chat.id != chat_id))
    if chat is None:
        chat = Chat(id=chat_id)
        session.add(chat)
    chat.title = title[:256]
    chat.purpose = purpose
    chat.unit_id = unit.id if unit else None
    chat.bot_is_admin = bot_is_admin
    chat.bot_can_pin = bot_can_pin
    await session.flush()
    return chat


async def main_chat(session: AsyncSession) -> Chat | None:
    return await session.scalar(select(Chat).where(Chat.purpose == "main"))


async def unit_chat(session: AsyncSession, unit_id: int) -> Chat | None:
    return await session.scalar(select(Chat).where(Chat.unit_id == unit_id))


async def unit_chats(session: AsyncSession) -> list[Chat]:
    return list(await session.scalars(select(Chat).where(Chat.unit_id.is_not(None))))


async def registered_by_unit(session: AsyncSession) -> list[tuple[Unit, list[Member]]]:
    """Registered members grouped by unit, units in creation order, names sorted."""
    units = await list_units(session)
    members = await session.scalars(
        select(Member).where(Member.registered_at.is_not(None)).order_by(Member.real_name)
    )
    by_unit: dict[int, list[Member]] = {u.id: [] for u in units}
    for m in members:
        if m.unit_id is not None:
            by_unit.setdefault(m.unit_id, []).append(m)
    return [(u, by_unit[u.id]) for u in units]
