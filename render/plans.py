"""How the year's study plan reads: an item, its materials, where the units stand with it,
and a unit's plan in a period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from db.models import PlanItem, Unit
from db.plans import STATES, Execution, Standing
from render.texts import listing, t


def form_name(form: str) -> str:
    return t(f"plan_form_{form}")


def state_name(state: str) -> str:
    return t(f"plan_state_{state}")


def activity_ids(ids: Sequence[int]) -> str:
    return listing(f"#{i}" for i in ids)


def units_text(item: PlanItem, units: Mapping[int, Unit]) -> str:
    """The units an item is for (全体单位 for every unit); a name with a space is quoted,
    so the text reads back as the same units (`/plan import`, `单位=`)."""
    named = [units[u.unit_id].name for u in item.units if u.unit_id in units]
    quoted = [f"“{name}”" if " " in name else name for name in named]
    return listing(quoted) if quoted else t("plan_units_all")


def item_line(item: PlanItem, units: Mapping[int, Unit]) -> str:
    """`#3 学习贯彻…（集中学习 · 全体单位）`, then its materials, one per line."""
    line = t(
        "plan_item_line",
        id=item.id,
        topic=item.topic,
        form=form_name(item.form),
        units=units_text(item, units),
    )
    if item.materials:
        line += "\n" + t("plan_materials", materials=item.materials)
    return line


def standings_text(per_unit: Mapping[int, Standing], units: Mapping[int, Unit]) -> str:
    """For the committee: the units by state, each done or scheduled unit with its activities."""
    lines = []
    for state in STATES:
        here = [
            units[unit_id].name
            + (t("plan_unit_activities", ids=activity_ids(s.activities)) if s.activities else "")
            for unit_id, s in per_unit.items()
            if s.state == state and unit_id in units
        ]
        if here:
            lines.append(t("plan_state_units", state=state_name(state), units=listing(here)))
    return "\n".join(lines)


def standings_cell(per_unit: Mapping[int, Standing], units: Mapping[int, Unit]) -> str:
    """The ledger's cell: each unit's state on its own line (`办公室：已落实（#12）`)."""
    return "\n".join(
        t("plan_unit_state", unit=units[unit_id].name, state=standing_text(standing))
        for unit_id, standing in per_unit.items()
        if unit_id in units
    )


def standing_text(standing: Standing) -> str:
    """For one unit: 已落实（#12）, 已安排（#15） or 未落实."""
    ids = t("plan_unit_activities", ids=activity_ids(standing.activities))
    return state_name(standing.state) + (ids if standing.activities else "")


def execution_text(execution: Execution) -> str:
    """计划 n · 已落实 m · 已安排 s · 未落实 k (已安排 only when some are)."""
    key = "plan_execution_scheduled" if execution.scheduled else "plan_execution"
    return t(
        key,
        planned=execution.planned,
        done=execution.done,
        scheduled=execution.scheduled,
        open=execution.open,
    )
