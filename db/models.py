"""SQLAlchemy models. All timestamps are timezone-aware UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; returns aware UTC datetimes on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    """A subgroup (分组 / 单位) of the committee's members."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(Base):
    """Anyone who has interacted with the bot; registered once they gave name and unit."""

    __tablename__ = "members"
    __table_args__ = (CheckConstraint("role IN ('member', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    real_name: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member", server_default="member")
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # True once the person started the bot in a private chat (so the bot may write to them);
    # False again when Telegram answers 403 (blocked).
    can_dm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id], lazy="joined")
    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id], lazy="joined")

    @property
    def display_name(self) -> str:
        """Real name if registered, else the Telegram name."""
        if self.real_name:
            return self.real_name
        return " ".join(p for p in (self.first_name, self.last_name) if p) or str(self.telegram_id)


class Chat(Base):
    """A group the bot was set up in: the main group or one unit's group."""

    __tablename__ = "chats"
    __table_args__ = (
        CheckConstraint("purpose IN ('main', 'unit')", name="purpose"),
        # At most one main group, at most one group per unit.
        Index(
            "uq_chats_main",
            "purpose",
            unique=True,
            sqlite_where=text("purpose = 'main'"),
            postgresql_where=text("purpose = 'main'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(256), default="")
    purpose: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), unique=True)
    bot_is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_can_pin: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


KINDS = ("study", "meeting", "unity", "volunteer", "other")
ATTENDANCE = ("present", "late", "leave")


class Activity(Base):
    """A study session, meeting, ethnic-unity activity, volunteer activity or other event."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("kind IN ('study', 'meeting', 'unity', 'volunteer', 'other')", name="kind"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str | None] = mapped_column(String(128))
    # None: everyone; otherwise the one unit it is for.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[float | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    wrong_codes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The announcement card.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class Attendance(Base):
    """One person's answer to one activity: present, late, or on leave (with a reason)."""

    __tablename__ = "attendance"
    __table_args__ = (
        # The database, not only the code, makes a double check-in impossible.
        UniqueConstraint("activity_id", "member_id", name="uq_attendance_activity_member"),
        CheckConstraint("status IN ('present', 'late', 'leave')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
