"""The year's study plan (年度学习计划): items, the activities that carry them out, and where
each unit stands with each item.

An item is for one quarter of one year, for every unit or for the units it lists. An activity
linked to it (plan=编号) counts for its own unit, or for every unit the item is for when the
activity is for everyone. For a unit an item is 已落实 (done) once such an activity has
ended, 已安排 (scheduled) while one is still to come, else 未落实 (open).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import rules
from db import units as units_db
from db.errors import Refusal
from db.imports import Counted
from db.models import PLAN_FORMS, Activity, Member, PlanItem, PlanItemUnit, Unit
from db.rules import Period

MAX_TOPIC = 128
MAX_MATERIALS = 2000
# How office staff write a form: its Chinese name, a short form of it, or the English key.
FORM_WORDS: dict[str, str] = {
    "集中学习": "collective",
    "集中": "collective",
    "专题研讨": "seminar",
    "研讨": "seminar",
    "实践活动": "practice",
    "实践": "practice",
    "线上学习": "online",
    "线上": "online",
    # As the English ledger writes them.
    "collective study": "collective",
    "online study": "online",
} | {form: form for form in PLAN_FORMS}
EVERY_UNIT_WORDS = ("all", "every unit", "全部", "全体", "全体单位", "所有单位")
ADDABLE = ("form", "units", "materials")
EDITABLE = ("topic", "quarter", *ADDABLE)
STATES = ("done", "scheduled", "open")


def parse_form(raw: str) -> str:
    form = FORM_WORDS.get(raw.strip().lower())
    if form is None:
        raise Refusal("plan_form_invalid", text=raw[:20])
    return form


def parse_quarter(raw: str, today: dt.date) -> Period:
    """`2027-Q1` (or 2027Q1): a quarter within the date range; a year alone is refused."""
    try:
        period = rules.parse_period(raw, today)
    except Refusal as refused:
        if refused.key != "period_invalid":
            raise  # a year out of range says so
        raise Refusal("plan_quarter_invalid", text=raw[:20]) from None
    if period.quarter is None:
        raise Refusal("plan_quarter_invalid", text=raw[:20])
    return period


def _options(words: list[str], known: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    return rules.known_options(words, known, {"unit": "units"})


def _topic(raw: str) -> str:
    return rules.clean_text(raw, MAX_TOPIC, "plan_topic_invalid")


# Materials written under the command may start with their label: 材料：…
_MATERIALS_LABEL = re.compile(r"^\s*(?:学习材料|材料|materials)\s*[:：]\s*", re.IGNORECASE)


def _materials(raw: str) -> str | None:
    text = _MATERIALS_LABEL.sub("", raw, count=1)
    if not text.strip():
        return None
    return rules.clean_multiline(text, MAX_MATERIALS, "plan_usage")


async def _units(session: AsyncSession, raw: str) -> list[Unit]:
    """`units=` → the units named (none: every unit); an unknown name is refused."""
    if raw.strip().lower() in EVERY_UNIT_WORDS:
        return []
    names = units_db.split_names(raw)
    if not names:
        raise Refusal("plan_units_invalid")
    found: dict[int, Unit] = {}
    for name in names:
        unit = await members_db.unit_by_name(session, name)
        found[unit.id] = unit
    return list(found.values())


async def add(
    session: AsyncSession,
    words: list[str],
    more: str | None,
    creator: Member,
    today: dt.date,
    now: dt.datetime,
) -> PlanItem:
    """`/plan add YYYY-Qn 主题 [form=…] [units=…] [materials=…]`; the lines after the
    command's (`more`) are materials too."""
    if len(words) < 2:
        raise Refusal("plan_usage")
    period = parse_quarter(words[0], today)
    free, options = _options(words[1:], ADDABLE)
    if not free:
        raise Refusal("plan_usage")
    assert period.quarter is not None
    units = await _units(session, options["units"]) if "units" in options else []
    wanted = _Wanted(
        year=period.year,
        quarter=period.quarter,
        topic=_topic(" ".join(free)),
        form=parse_form(options["form"]) if "form" in options else "collective",
        units=frozenset(u.id for u in units),
        materials=_materials("\n".join(m for m in (options.get("materials"), more) if m)),
    )
    item = _new(wanted, creator, now)
    session.add(item)
    await session.flush()
    return item


async def get(session: AsyncSession, item_id: int) -> PlanItem:
    item = await session.get(PlanItem, item_id)
    if item is None:
        raise Refusal("plan_unknown", id=item_id)
    return item


async def edit(
    session: AsyncSession, item_id: int, words: list[str], more: str | None, today: dt.date
) -> PlanItem:
    """`/plan edit 编号 key=value …`: topic, quarter (of the same year while activities carry
    it), form, units, materials (`off` clears them; lines after the command replace them)."""
    free, options = _options(words, EDITABLE)
    if free or not (options or more):
        raise Refusal("plan_edit_usage")
    item = await get(session, item_id)
    year, quarter = item.year, item.quarter
    if "quarter" in options:
        period = parse_quarter(options["quarter"], today)
        assert period.quarter is not None
        year, quarter = period.year, period.quarter
    materials = item.materials
    if "materials" in options or more:
        raw = options.get("materials", "")
        off = raw.strip().lower() == "off"
        materials = None if off else _materials("\n".join(m for m in (raw, more) if m))
    units = frozenset(u.unit_id for u in item.units)
    if "units" in options:
        units = frozenset(u.id for u in await _units(session, options["units"]))
    wanted = _Wanted(
        year=year,
        quarter=quarter,
        topic=_topic(options["topic"]) if "topic" in options else item.topic,
        form=parse_form(options["form"]) if "form" in options else item.form,
        units=units,
        materials=materials,
    )
    await _refuse_change(session, item, wanted)
    _apply(item, wanted)
    await session.flush()
    return item


async def _linked(session: AsyncSession, item_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Activity.id).where(Activity.plan_item_id == item_id).order_by(Activity.id)
        )
    )


async def _activities_outside(
    session: AsyncSession, item_id: int, unit_ids: set[int]
) -> int | None:
    """An activity carrying the item for a unit not among `unit_ids` (empty: every unit)."""
    if not unit_ids:
        return None
    return await session.scalar(
        select(Activity.id)
        .where(
            Activity.plan_item_id == item_id,
            Activity.unit_id.is_not(None),
            Activity.unit_id.not_in(unit_ids),
        )
        .limit(1)
    )


async def delete_item(session: AsyncSession, item_id: int) -> tuple[PlanItem, list[int]]:
    """Remove an item; the activities that carried it stay, carrying none: (item, their ids)."""
    item = await get(session, item_id)
    linked = await _linked(session, item.id)
    if linked:
        await session.execute(
            update(Activity).where(Activity.id.in_(linked)).values(plan_item_id=None)
        )
    await session.delete(item)
    await session.flush()
    return item, linked


async def items(session: AsyncSession, year: int) -> list[PlanItem]:
    return list(
        await session.scalars(
            select(PlanItem).where(PlanItem.year == year).order_by(PlanItem.quarter, PlanItem.id)
        )
    )


async def linkable(
    session: AsyncSession,
    raw: str,
    starts_at: dt.datetime,
    unit_id: int | None,
    zone: ZoneInfo,
) -> PlanItem | None:
    """The item `plan=` names for an activity starting at `starts_at` for `unit_id` (None:
    everyone); `off` (or 无) is none. Refused: unknown, of another year, not for that unit."""
    if raw.strip().lower() in ("off", "无", "none", ""):
        return None
    item = await get(session, rules.parse_id(raw))
    year = starts_at.astimezone(zone).year
    if item.year != year:
        raise Refusal("plan_other_year", id=item.id, year=item.year, activity_year=year)
    listed = {u.unit_id for u in item.units}
    if unit_id is not None and listed and unit_id not in listed:
        unit = await session.get(Unit, unit_id)
        raise Refusal("plan_not_for_unit", id=item.id, unit=unit.name if unit else "")
    return item


@dataclass
class Standing:
    """Where one unit stands with one item: its state and the activities behind it."""

    state: str  # one of STATES
    activities: list[int] = field(default_factory=list)


@dataclass
class Execution:
    """One unit's plan in a period: 计划 n · 已落实 m · 已安排 s · 未落实 k."""

    planned: int = 0
    done: int = 0
    scheduled: int = 0

    @property
    def open(self) -> int:
        return self.planned - self.done - self.scheduled

    def add(self, state: str) -> None:
        self.planned += 1
        self.done += state == "done"
        self.scheduled += state == "scheduled"


def units_of(item: PlanItem, units: Iterable[Unit]) -> list[Unit]:
    """The units `item` is for, among `units`."""
    listed = {u.unit_id for u in item.units}
    return [u for u in units if not listed or u.id in listed]


async def standings(
    session: AsyncSession, plan: list[PlanItem], units: list[Unit], now: dt.datetime
) -> dict[int, dict[int, Standing]]:
    """For each item of `plan`, each of `units` it is for → where that unit stands."""
    if not plan:
        return {}
    carried: dict[int | None, list[tuple[int, int | None, bool]]] = defaultdict(list)
    rows = await session.execute(
        select(Activity.plan_item_id, Activity.id, Activity.unit_id, Activity.ends_at)
        .where(Activity.plan_item_id.in_([i.id for i in plan]), Activity.status == "active")
        .order_by(Activity.starts_at, Activity.id)
    )
    for item_id, activity_id, unit_id, ends_at in rows.all():
        carried[item_id].append((activity_id, unit_id, ends_at <= now))
    found: dict[int, dict[int, Standing]] = {}
    for item in plan:
        per_unit = found[item.id] = {}
        for unit in units_of(item, units):
            mine = [(a, ended) for a, u, ended in carried[item.id] if u is None or u == unit.id]
            done = [a for a, ended in mine if ended]
            if done:
                per_unit[unit.id] = Standing("done", done)
            elif mine:
                per_unit[unit.id] = Standing("scheduled", [a for a, _ in mine])
            else:
                per_unit[unit.id] = Standing("open")
    return found


async def execution(
    session: AsyncSession, period: Period, units: list[Unit], now: dt.datetime
) -> dict[int, Execution]:
    """Each unit's plan in `period` (a quarter, or the whole year)."""
    plan = [
        i
        for i in await items(session, period.year)
        if period.quarter is None or i.quarter == period.quarter
    ]
    found = {unit.id: Execution() for unit in units}
    for per_unit in (await standings(session, plan, units, now)).values():
        for unit_id, standing in per_unit.items():
            found[unit_id].add(standing.state)
    return found


async def quarter_items(session: AsyncSession, period: Period) -> list[PlanItem]:
    """The items of quarter `period`."""
    return [i for i in await items(session, period.year) if i.quarter == period.quarter]


async def open_by_unit(
    session: AsyncSession, period: Period, units: list[Unit], now: dt.datetime
) -> dict[int, list[PlanItem]]:
    """For each of `units` with some: the items of quarter `period` still 未落实 for it
    (nothing carrying them has been held or scheduled)."""
    plan = await quarter_items(session, period)
    found: dict[int, list[PlanItem]] = defaultdict(list)
    for item_id, per_unit in (await standings(session, plan, units, now)).items():
        for unit_id, standing in per_unit.items():
            if standing.state == "open":
                found[unit_id].append(next(i for i in plan if i.id == item_id))
    return dict(found)


@dataclass(frozen=True)
class PlanRow:
    """A row of an imported plan, as written: its row number and each column's text."""

    row: int
    id: str = ""  # 编号: an existing item to update (a ledger brought back); empty: none
    quarter: str = ""
    topic: str = ""
    form: str = ""
    units: str = ""
    materials: str = ""


@dataclass(frozen=True)
class _Wanted:
    year: int
    quarter: int
    topic: str
    form: str
    units: frozenset[int]
    materials: str | None


async def _wanted(session: AsyncSession, row: PlanRow, today: dt.date) -> _Wanted:
    period = parse_quarter(row.quarter, today)
    assert period.quarter is not None
    units = await _units(session, row.units) if row.units.strip() else []
    return _Wanted(
        year=period.year,
        quarter=period.quarter,
        topic=_topic(row.topic),
        form=parse_form(row.form) if row.form.strip() else "collective",
        units=frozenset(u.id for u in units),
        materials=_materials(row.materials),
    )


def _same(item: PlanItem, wanted: _Wanted) -> bool:
    listed = frozenset(u.unit_id for u in item.units)
    return (item.year, item.quarter, item.topic, item.form, listed, item.materials) == (
        wanted.year,
        wanted.quarter,
        wanted.topic,
        wanted.form,
        wanted.units,
        wanted.materials,
    )


async def _refuse_change(session: AsyncSession, item: PlanItem, wanted: _Wanted) -> None:
    """What /plan edit refuses: another year for a carried item, leaving out a unit whose
    activity carries it."""
    if wanted.year != item.year and await _linked(session, item.id):
        raise Refusal("plan_year_linked", id=item.id, year=item.year)
    conflict = await _activities_outside(session, item.id, set(wanted.units))
    if conflict is not None:
        raise Refusal("plan_units_linked", id=item.id, activity=conflict)


def _new(wanted: _Wanted, creator: Member, now: dt.datetime) -> PlanItem:
    item = PlanItem(created_by=creator.id, created_at=now)
    _apply(item, wanted)
    return item


def _apply(item: PlanItem, wanted: _Wanted) -> None:
    if wanted.units != frozenset(u.unit_id for u in item.units):
        item.units = [PlanItemUnit(unit_id=unit_id) for unit_id in sorted(wanted.units)]
    item.year, item.quarter, item.topic = wanted.year, wanted.quarter, wanted.topic
    item.form, item.materials = wanted.form, wanted.materials


async def import_plan(
    session: AsyncSession,
    rows: list[PlanRow],
    creator: Member,
    today: dt.date,
    now: dt.datetime,
    *,
    write: bool,
) -> Counted:
    """Each row an item: the one its 编号 names, else the one of its quarter with its topic,
    else a new one. With `write` False only counts what would happen (the preview). A row
    that cannot be taken (an unknown quarter, form, unit or 编号, a repeat) is listed with
    why, and the others are still taken."""
    done = Counted()
    seen: dict[tuple[int, int, str], int] = {}
    for row in rows:
        try:
            wanted = await _wanted(session, row, today)
            key = (wanted.year, wanted.quarter, wanted.topic.casefold())
            first = seen.setdefault(key, row.row)
            if first != row.row:
                raise Refusal("plan_import_repeated", first=first)
            item = await _match(session, row, wanted)
            if item is None:
                done.new += 1
                if write:
                    session.add(_new(wanted, creator, now))
                continue
            if _same(item, wanted):
                done.unchanged += 1
                continue
            await _refuse_change(session, item, wanted)
            if write:
                _apply(item, wanted)
            done.updated += 1
        except Refusal as refused:
            done.errors.append((row.row, refused))
    if write:
        await session.flush()
    return done


async def _match(session: AsyncSession, row: PlanRow, wanted: _Wanted) -> PlanItem | None:
    if row.id.strip():
        item = await session.get(PlanItem, rules.parse_id(row.id))
        if item is None:
            raise Refusal("plan_import_unknown_id", id=row.id.strip()[:12])
        return item
    return await session.scalar(
        select(PlanItem)
        .where(
            PlanItem.year == wanted.year,
            PlanItem.quarter == wanted.quarter,
            func.lower(PlanItem.topic) == wanted.topic.lower(),
        )
        .order_by(PlanItem.id)
        .limit(1)
    )
