"""How the work plan's tasks read: a task, its owner, cadence and target, and its state."""

from __future__ import annotations

from db.models import Member, Unit, WorkTask
from db.tasks import Measured
from render.texts import person_name, t


def owner_text(task: WorkTask, units: dict[int, Unit], people: dict[int, Member]) -> str:
    if task.owner_kind == "unit" and task.owner_unit_id in units:
        return units[task.owner_unit_id].name
    if task.owner_kind == "person" and task.owner_member_id in people:
        return person_name(people[task.owner_member_id])
    return t("task_owner_committee")


def cadence_text(task: WorkTask) -> str:
    if task.cadence == "once" and task.due is not None:
        return t("task_cadence_once_by", due=task.due.isoformat())
    return t(f"task_cadence_{task.cadence}")


def target_text(task: WorkTask) -> str:
    if task.target == "none" or task.target_count is None:
        return t("task_target_none")
    return t(f"task_target_{task.target}", count=task.target_count)


def figure_text(target: str, measured: Measured) -> str:
    """已开展 2 次，已安排 1 次 (a count), 超期 0 件，待答复 1 件 (needs)."""
    key = "task_figure_needs" if target == "needs" else "task_figure_count"
    return t(key, value=measured.value, scheduled=measured.scheduled)


def measured_text(task: WorkTask, measured: Measured) -> str:
    """已完成（已开展 2 次） and the like: the state and the figure behind it."""
    figure = figure_text(task.target, measured)
    return t("task_state_with", state=state_name(measured.state), figure=figure)


def state_name(state: str) -> str:
    return t(f"task_state_{state}")


def task_line(task: WorkTask, units: dict[int, Unit], people: dict[int, Member], state: str) -> str:
    return t(
        "task_line",
        id=task.id,
        number=task.number or "",
        title=task.title,
        owner=owner_text(task, units, people),
        cadence=cadence_text(task),
        target=target_text(task),
        state=state,
    )
