"""SQLAlchemy models. All timestamps are timezone-aware UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
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


# The values a column may hold: each tuple builds its CHECK constraint (`one_of`), and the
# code reads the same tuple.
ROLES = ("member", "admin")
LEFT_REASONS = ("left", "removed")
CHAT_PURPOSES = ("main", "unit")
CHAT_STATUSES = ("active", "removed")
KINDS = ("study", "meeting", "unity", "volunteer", "other")
IMPORT_KINDS = ("roster", "plan", "task")  # what a previewed file brings in
# 工作要点: who owns a task, how often it is due, what of the records it is counted by.
TASK_OWNERS = ("committee", "unit", "person")
TASK_CADENCES = ("once", "quarterly", "yearly", "ongoing")
TASK_TARGETS = ("none", "study", "meeting", "unity", "volunteer", "needs")
REVIEW_STATES = ("done", "in_progress", "open")  # 已完成 / 推进中 / 未开展
EVIDENCE_KINDS = ("photo", "document")
# 年度学习计划: how a planned study item is held.
PLAN_FORMS = ("collective", "seminar", "practice", "online")
ACTIVITY_STATUSES = ("active", "cancelled")
LEAVE_MODES = ("free", "approve")
ATTENDANCE = ("present", "late", "leave")
JOIN_KINDS = ("join", "unit", "link")
JOIN_STATUSES = ("pending", "approved", "rejected", "cancelled")
APPROVAL_KINDS = ("leave", "makeup")
APPROVAL_STATUSES = ("pending", "approved", "rejected")
NOTICE_TARGETS = ("main", "unit", "all")
NOTICE_STATUSES = ("active", "deleted")
MEDIA_KINDS = ("photo", "document")
OUTBOX_STATUSES = ("pending", "sent", "failed", "undeliverable", "cancelled")
SIGNUP_STATUSES = ("confirmed", "waitlisted")
OCCURRENCE_OUTCOMES = ("sent", "skipped", "missed")
MUSTER_STATUSES = ("open", "closed")
MUSTER_ANSWERS = ("confirmed", "waitlisted", "declined")
NEED_CATEGORIES = ("就业", "教育", "住房", "婚恋", "生育", "亲子", "其他")
NEED_STATUSES = ("new", "accepted", "in_progress", "done")
RATINGS = ("yes", "no")
NEED_EVENT_KINDS = ("reply", "status", "rating")


def one_of(column: str, values: Sequence[str], name: str | None = None) -> CheckConstraint:
    """A CHECK that `column` holds one of `values` (named after the column)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or column)


# ----------------------------------------------------------------- People and their groups


class Unit(Base):
    """A subgroup (分组 / 单位) of the committee's members."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(Base):
    """Anyone who has interacted with the bot; registered once they gave name and unit.

    Also a person imported from the committee's roster (/import) before they ever wrote to the
    bot: no Telegram id yet, expected at activities all the same, shown as 未登记. When they
    register (or write with the imported username) they become that record.
    """

    __tablename__ = "members"
    __table_args__ = (
        one_of("role", ROLES),
        one_of("left_reason", LEFT_REASONS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
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
    # When the bot last answered this person in a group about something they typed (it does
    # so at most once a day; otherwise privately, or with a reaction).
    group_hint_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(String(64))  # 职务, from the roster
    # "zh" or "en" (render.texts.LANGUAGES); NULL until first contact sets it from language_code.
    lang: Mapped[str | None] = mapped_column(String(8))
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # 已离开: the person left every bound group (`left`; rejoining one clears it) or the
    # committee took them off (`removed`). Out of every future audience; the past keeps them.
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    left_reason: Mapped[str | None] = mapped_column(String(8))
    # /forget: who they were is erased; the row stays, unnamed, for the organisation's counts.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The flood guard (FLOOD_PER_MINUTE): a bucket of typed commands that refills over a
    # minute, and when the person was last asked to slow down.
    flood_tokens: Mapped[float | None] = mapped_column()
    flood_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    flood_noted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the bot last answered a command of this person's in a group because it could not
    # answer privately (at most once a minute).
    group_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id], lazy="joined")
    lead_unit: Mapped[Unit | None] = relationship(foreign_keys=[lead_unit_id], lazy="joined")

    @property
    def chat_id(self) -> int:
        """The private chat with this person (only for those the bot has talked to)."""
        if self.telegram_id is None:
            raise ValueError(f"member {self.id} has no Telegram account yet")
        return self.telegram_id

    @property
    def on_roster(self) -> bool:
        """Expected at activities: registered, or imported from the committee's roster."""
        return self.registered_at is not None or self.imported_at is not None

    @property
    def active(self) -> bool:
        """One of the organisation's people now: on the roster, not left, not erased."""
        return self.on_roster and self.left_at is None and self.erased_at is None

    @property
    def display_name(self) -> str:
        """Real name if registered, else the Telegram name; "" once erased (what is shown then
        is the catalog's, see render.texts.person_name)."""
        if self.real_name:
            return self.real_name
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class JoinRequest(Base):
    """What the committee decides about who belongs: `join` (someone in none of the
    organisation's groups asks to register), `unit` (a member asks to move to another unit),
    `link` (an account asks to be an imported person). The first decision wins."""

    __tablename__ = "join_requests"
    __table_args__ = (
        one_of("kind", JOIN_KINDS),
        one_of("status", JOIN_STATUSES),
        # One pending request of each kind per person.
        Index(
            "uq_join_requests_pending",
            "member_id",
            "kind",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    real_name: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # `link`: the imported record the account asks to be.
    imported_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    imported: Mapped[Member | None] = relationship(foreign_keys=[imported_id], lazy="joined")
    decider: Mapped[Member | None] = relationship(foreign_keys=[decided_by], lazy="joined")


class Conversation(Base):
    """A conversation waiting for the person's next message: a guided /newevent, the reason
    after 请假, a check-in code, a need being written. Kept here, not in one process's memory,
    so any instance takes the next step and a restart loses nothing. One of each kind per
    person, the newest answered first; one left for an hour is forgotten (db.conversations)."""

    __tablename__ = "conversations"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Where it stands: plain JSON (times as ISO strings).
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # The person's newest conversation has the highest turn (times may tie).
    turn: Mapped[int] = mapped_column(Integer)


class PendingImport(Base):
    """A file previewed by /import (a roster) or /plan import (a study plan), waiting for
    确认导入 (the file stays at Telegram)."""

    __tablename__ = "pending_imports"
    __table_args__ = (one_of("kind", IMPORT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="roster", server_default="roster")
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    file_id: Mapped[str] = mapped_column(String(256))
    file_name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class Chat(Base):
    """A group the bot was set up in: the main group or one unit's group.

    `removed`: the bot was removed from it; its messages go to the main group (or, for the main
    group, privately to the committee) until /setup binds another group.
    """

    __tablename__ = "chats"
    __table_args__ = (
        one_of("purpose", CHAT_PURPOSES),
        one_of("status", CHAT_STATUSES),
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
    bot_can_delete: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # Telegram's chat type: "group" (basic) or "supergroup".
    chat_type: Mapped[str] = mapped_column(
        String(16), default="supergroup", server_default="supergroup"
    )
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lang: Mapped[str | None] = mapped_column(String(8))  # set by /lang in the group; NULL: "zh"

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class UnitTopic(Base):
    """A unit bound to a topic of the main group when it is a forum (/setup 单位 sent inside
    the topic): that unit's cards, notices and reminders go there (`message_thread_id`)."""

    __tablename__ = "unit_topics"
    __table_args__ = (UniqueConstraint("chat_id", "thread_id", name="uq_unit_topics_chat_id"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(256), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# -------------- Activities: attendance, approvals, QR check-in, volunteering, certificates


class Activity(Base):
    """A study session, meeting, ethnic-unity activity, volunteer activity or other event."""

    __tablename__ = "activities"
    __table_args__ = (
        one_of("kind", KINDS),
        one_of("status", ACTIVITY_STATUSES),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        one_of("leave_mode", LEAVE_MODES),
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
    # Volunteer sign-up: places (None: no sign-up / unlimited) and when sign-up closes.
    capacity: Mapped[int | None] = mapped_column()
    signup_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    wrong_codes: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 纪要: the minutes an evaluation asks for (/record).
    minutes: Mapped[str | None] = mapped_column(Text)
    # The announcement card.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)  # its forum topic in chat_id
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Options (issue 12): `approve` sends leave to an approver; `qr` allows check-in only by
    # scanning the rotating code; `checkout` (volunteering) credits the real hours.
    leave_mode: Mapped[str] = mapped_column(String(8), default="free", server_default="free")
    qr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checkout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The first activity of the series this one belongs to (repeat=…); None: a single one.
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The item of the year's study plan it carries out (plan=编号); None: none.
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class PlanItem(Base):
    """An item of the year's study plan (年度学习计划): a topic for a quarter, how it is held,
    its materials, and the units it is for (none listed: every unit)."""

    __tablename__ = "plan_items"
    __table_args__ = (
        one_of("form", PLAN_FORMS),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    quarter: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(128))
    form: Mapped[str] = mapped_column(String(16), default="collective")
    materials: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list[PlanItemUnit]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="PlanItemUnit.unit_id"
    )


class PlanItemUnit(Base):
    """A unit a plan item is for (an item without any is for every unit)."""

    __tablename__ = "plan_item_units"

    plan_item_id: Mapped[int] = mapped_column(
        ForeignKey("plan_items.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class WorkTask(Base):
    """A task of the year's work plan (工作要点): who owns it, how often it is due, and a
    target the bot can count, if any (see db.tasks)."""

    __tablename__ = "work_tasks"
    __table_args__ = (
        one_of("owner_kind", TASK_OWNERS),
        one_of("cadence", TASK_CADENCES),
        one_of("target", TASK_TARGETS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    number: Mapped[str | None] = mapped_column(String(16))  # （七）, as the plan numbers it
    title: Mapped[str] = mapped_column(String(256))
    owner_kind: Mapped[str] = mapped_column(String(16), default="committee")
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    owner_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    cadence: Mapped[str] = mapped_column(String(16), default="yearly")
    due: Mapped[dt.date | None] = mapped_column(Date)  # a task due once: by when
    target: Mapped[str] = mapped_column(String(16), default="none")
    target_count: Mapped[int | None] = mapped_column(Integer)  # needs: working days
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskReview(Base):
    """评估问效: an owner's account of a work plan task in a quarter. `state` is what they
    reported (NULL for a task with a countable target: the records tell its state, and the
    owner only adds a note); the latest answer stands, with who gave it and when."""

    __tablename__ = "task_reviews"
    __table_args__ = (
        UniqueConstraint("task_id", "year", "quarter", name="uq_task_reviews_quarter"),
        one_of("state", REVIEW_STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("work_tasks.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskEvidence(Base):
    """A photo or file an owner sent as evidence for a quarter's review (kept by Telegram's
    file id; the same file twice is kept once)."""

    __tablename__ = "task_evidence"
    __table_args__ = (
        UniqueConstraint("review_id", "file_unique_id", name="uq_task_evidence_file"),
        one_of("kind", EVIDENCE_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("task_reviews.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(256))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivityPhoto(Base):
    """影像: a photo of an activity, sent privately with the caption /record <id>."""

    __tablename__ = "activity_photos"
    __table_args__ = (
        UniqueConstraint("activity_id", "file_unique_id", name="uq_activity_photos_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(128))
    added_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attendance(Base):
    """One person's answer to one activity: present, late, or on leave (with a reason)."""

    __tablename__ = "attendance"
    __table_args__ = (
        # The database, not only the code, makes a double check-in impossible.
        UniqueConstraint("activity_id", "member_id", name="uq_attendance_activity_member"),
        one_of("status", ATTENDANCE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 补签: present by an approved make-up request (the Approval row says who approved, when).
    makeup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 签退 (activities with checkout=on): the real hours are the time between `at` and this.
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")


class WrongCode(Base):
    """A wrong check-in code typed by one person for one activity (a few are allowed in a
    while, then the person waits: six digits must not be guessed by trying)."""

    __tablename__ = "wrong_codes"
    __table_args__ = (Index("ix_wrong_codes_who", "activity_id", "member_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Approval(Base):
    """A request someone must decide: leave for an activity with leave=approve, or 补签.

    One per (kind, activity, person); asking again after a rejection makes it pending again.
    The first decision wins (an UPDATE … WHERE status = 'pending').
    """

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("kind", "activity_id", "member_id", name="uq_approvals_request"),
        one_of("kind", APPROVAL_KINDS),
        one_of("status", APPROVAL_STATUSES),
        Index("ix_approvals_pending", "status", "activity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Each round of asking (a request made pending again) has its own outbox keys.
    round: Mapped[int] = mapped_column(default=1, server_default="1")

    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="joined")
    decider: Mapped[Member | None] = relationship(foreign_keys=[decided_by], lazy="joined")


class QrDisplay(Base):
    """A rotating check-in QR code (/qr) shown in a chat; its photo is replaced each period."""

    __tablename__ = "qr_displays"
    __table_args__ = (UniqueConstraint("activity_id", "chat_id", name="uq_qr_displays_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The period whose code the photo shows now (periods count QR_ROTATE_SECONDS from 1970).
    period: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Signup(Base):
    """A volunteer's sign-up: confirmed while places remain, else waitlisted (by id order)."""

    __tablename__ = "signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "member_id", name="uq_signups_activity_member"),
        one_of("status", SIGNUP_STATUSES),
        Index("ix_signups_queue", "activity_id", "status", "id"),
    )

    # The id is the arrival order: assigned under the activity's lock.
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")


class HoursOverride(Base):
    """The committee's correction of one person's service hours for one activity."""

    __tablename__ = "hours_overrides"
    __table_args__ = (
        UniqueConstraint("activity_id", "member_id", name="uq_hours_overrides_activity_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    hours: Mapped[float] = mapped_column()
    set_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(Base):
    """A volunteer-hours certificate issued by /certificate; /verify looks its code up."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    year: Mapped[int] = mapped_column()
    # As certified (the name and hours at issue; later corrections make a new certificate).
    name: Mapped[str] = mapped_column(String(64))
    hours: Mapped[float] = mapped_column()
    activities: Mapped[int] = mapped_column()
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --------------------------------------------------------------------------------- Notices


class Notice(Base):
    """A committee notice (通知) that people acknowledge with 收到."""

    __tablename__ = "notices"
    __table_args__ = (
        one_of("target", NOTICE_TARGETS),
        one_of("status", NOTICE_STATUSES),
        one_of("media_kind", MEDIA_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_file_id: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When those who have not acknowledged are reminded privately; None: never.
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    chased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # /notice urgent: its automatic follow-ups are not held during quiet hours.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Each follow-up round (scheduled or /chase) has its own outbox keys.
    chase_count: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    creator: Mapped[Member] = relationship(lazy="joined")


class NoticePost(Base):
    """Where a notice was posted (one row per chat)."""

    __tablename__ = "notice_posts"
    __table_args__ = (UniqueConstraint("notice_id", "chat_id", name="uq_notice_posts_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class Acknowledgement(Base):
    """One person's 收到 to one notice."""

    __tablename__ = "acknowledgements"
    __table_args__ = (UniqueConstraint("notice_id", "member_id", name="uq_ack_notice_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ------------------------------------------------------------------------------- Reminders


class ReminderSetting(Base):
    """A default rule switched off or retimed (rules without a row keep their defaults)."""

    __tablename__ = "reminder_settings"

    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    at_time: Mapped[str | None] = mapped_column(String(5))  # HH:MM local, calendar rules only


class OneOffReminder(Base):
    """/remind add: a reminder at a given time to the main group or a unit's chat."""

    __tablename__ = "one_off_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class ReminderOccurrence(Base):
    """One occurrence of a rule that was handled: sent, skipped (condition met) or missed."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (one_of("outcome", OCCURRENCE_OUTCOMES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # (rule, period, target), e.g. study_quota:2026Q4:d30 or activity:12:before_1h
    key: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(300))


# --------------------------------------------------------------------- Rapid calls (青年突击队)


class Muster(Base):
    """A rapid call (青年突击队): N people wanted within minutes, by the committee."""

    __tablename__ = "musters"
    __table_args__ = (one_of("status", MUSTER_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    need: Mapped[int] = mapped_column()
    # None: everyone registered; otherwise that unit's people. `squad`: only the pool.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    squad: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The group card.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class MusterAnswer(Base):
    """One person's answer to a rapid call: confirmed, waitlisted (in id order) or declined."""

    __tablename__ = "muster_answers"
    __table_args__ = (
        UniqueConstraint("muster_id", "member_id", name="uq_muster_answers_member"),
        one_of("status", MUSTER_ANSWERS),
        Index("ix_muster_answers_queue", "muster_id", "status", "id"),
    )

    # The id is the arrival order of a 我能去 (assigned under the call's lock).
    id: Mapped[int] = mapped_column(primary_key=True)
    muster_id: Mapped[int] = mapped_column(ForeignKey("musters.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="joined")


class SquadMember(Base):
    """The 青年突击队 pool: people who volunteered to be called first (/squad join)."""

    __tablename__ = "squad_members"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id"), primary_key=True, autoincrement=False
    )
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ------------------------------------------------------------------------- Needs (我为青年办实事)


class Need(Base):
    """我为青年办实事: a young staff member's need, sent privately to the committee.

    Anonymous: `member_id` is NULL and nothing about the sender is ever rendered or exported;
    `relay_chat_id` (the private chat the bot answers into) is the only trace, read only to
    relay the committee's replies, never shown.
    """

    __tablename__ = "needs"
    __table_args__ = (
        one_of("status", NEED_STATUSES),
        one_of("satisfied", RATINGS),
        CheckConstraint(
            "(anonymous AND member_id IS NULL) OR (NOT anonymous AND member_id IS NOT NULL)",
            name="anonymous_has_no_member",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    relay_chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    satisfied: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    member: Mapped[Member | None] = relationship(lazy="joined")


class NeedEvent(Base):
    """The history of a need: the committee's replies, status changes, the sender's rating."""

    __tablename__ = "need_events"
    __table_args__ = (one_of("kind", NEED_EVENT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    # The committee member who replied or changed the status (None: the sender's rating).
    by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    by: Mapped[Member | None] = relationship(lazy="joined")


# ----------------- Delivery and the cluster: the outbox, updates, shared windows and state


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        one_of("status", OUTBOX_STATUSES),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Idempotency: e.g. notice:12:member:345:followup. Enqueueing it twice is a no-op.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    text: Mapped[str] = mapped_column(Text)
    # [[{"text": ..., "data": ...}]]: inline buttons, kept free of Telegram types.
    buttons: Mapped[list[list[dict[str, str]]] | None] = mapped_column(JSON)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)  # a forum topic of chat_id
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_file_id: Mapped[str | None] = mapped_column(String(256))
    pin: Mapped[bool] = mapped_column(Boolean, default=False)
    # An automatic private message (reminder, follow-up, nudge, promotion): held during
    # QUIET_HOURS and sent when they end, in order. Explicit and urgent sends are not.
    quiet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What to do once sent (e.g. "notice_post" records the message) and for whom.
    purpose: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column()
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the next attempt may go (a retry's backoff, 429's retry_after): transport time.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent before this time of the bot's own clock (a series' later card); None: at once.
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(300))


class ProcessedUpdate(Base):
    """Telegram delivers updates at least once; this makes each take effect once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookUpdate(Base):
    """An update received by webhook, stored before Telegram is answered 200 (webhook mode).

    The instance that stored it processes it; if that instance dies first, the leader takes
    it over (its `owner` no longer holds its presence lock). Kept two days once done, so a
    second delivery of the same update is recognised and ignored.
    """

    __tablename__ = "webhook_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    owner: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "ix_webhook_updates_pending",
            "update_id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )


class ChatSend(Base):
    """One message or edit into a chat, by any instance: the deployment's shared windows
    (20 a minute per group, a few a second per private chat) in webhook mode."""

    __tablename__ = "chat_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_chat_sends_chat_id_at", "chat_id", "at"),)


class ClusterState(Base):
    """Small facts every instance shares (webhook mode): when Telegram's 429 ends, which
    webhook configuration the leader registered."""

    __tablename__ = "cluster_state"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CardRequest(Base):
    """A card whose counts changed on some instance; the leader edits it, coalesced."""

    __tablename__ = "card_requests"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
