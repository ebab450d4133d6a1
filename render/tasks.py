"""How the work plan's tasks read: a task, its owner, cadence and target, and its state."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from db.models import Member, TaskReview, Unit, WorkTask
from db.outbox import Buttons
from db.reviews import Reviewed
from db.rules import Period
from db.tasks import Measured
from render.formats import local_moment, period_name
from render.texts import listing, person_name, t


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


# ---------------------------------------------------------------- 评估问效 (quarterly review)
REVIEW_BUTTON = "trv"  # trv:<task>:<year>Q<quarter>:<d|p|o|n|f>
REVIEW_CHOICES = {"d": "done", "p": "in_progress", "o": "open"}
REVIEW_NOTE, REVIEW_FINISH = "n", "f"  # a counted task's note; the evidence is complete


def review_data(task_id: int, quarter: Period, choice: str) -> str:
    return f"{REVIEW_BUTTON}:{task_id}:{quarter.year}Q{quarter.quarter}:{choice}"


def review_buttons(tasks: list[WorkTask], quarter: Period, counted: set[int]) -> Buttons:
    """A row per task: 已完成 / 推进中 / 未开展 (a counted task: 补充说明), each naming it."""
    rows: Buttons = []
    for task in tasks:
        if task.id in counted:
            choices = {REVIEW_NOTE: "review_button_note"}
        else:
            choices = {c: f"review_button_{state}" for c, state in REVIEW_CHOICES.items()}
        rows.append(
            [
                {"text": t(key, id=task.id), "data": review_data(task.id, quarter, choice)}
                for choice, key in choices.items()
            ]
        )
    return rows


def finish_button(task_id: int, quarter: Period) -> Buttons:
    return [[{"text": t("review_button_finish"), "data": review_data(task_id, quarter, "f")}]]


def note_button(task_id: int, quarter: Period) -> Buttons:
    """补充说明: opens the note and evidence (only on this tap: what the person writes
    otherwise goes where it always went)."""
    data = review_data(task_id, quarter, REVIEW_NOTE)
    return [[{"text": t("review_button_note", id=task_id), "data": data}]]


def task_lines(tasks: list[WorkTask], measured: dict[int, Measured]) -> str:
    """Each task of a prompt, with the records' state of a counted one."""
    lines = []
    for task in tasks:
        line = t("review_task_line", id=task.id, number=task.number or "", title=task.title)
        if task.id in measured:
            line += t("review_task_counted", state=measured_text(task, measured[task.id]))
        lines.append(line)
    return "\n".join(lines)


def review_prompt(
    tasks: list[WorkTask], quarter: Period, measured: dict[int, Measured], nudge: bool
) -> str:
    """The owner's private prompt: each task, and the records' state of a counted one."""
    key = "review_nudge" if nudge else "review_prompt"
    return t(key, quarter=period_name(quarter), tasks=task_lines(tasks, measured))


def review_unreachable(
    people: list[Member], tasks: list[WorkTask], quarter: Period, measured: dict[int, Measured]
) -> str:
    """To the committee: owners the bot cannot write to, and their tasks (with the buttons to
    answer in their place)."""
    names = listing(person_name(m) for m in people)
    said = t("review_unreachable", quarter=period_name(quarter), names=names)
    return said + "\n" + task_lines(tasks, measured)


def review_state(task: WorkTask, review: TaskReview | None, measured: Measured | None) -> str:
    """The state in a quarter's review: from the records for a counted task, else as its
    owner reported it (未评估 before they did)."""
    if measured is not None:
        return measured_text(task, measured)
    if review is not None and review.state is not None:
        return state_name(review.state)
    return t("review_state_missing")


def review_basis(review: TaskReview | None, measured: Measured | None) -> str:
    """What the state rests on: the records, the owner's answer, or nothing yet (a key)."""
    if measured is not None:
        return "review_basis_records"
    return "review_basis_owner" if review is not None else "review_basis_none"


def review_state_text(
    task: WorkTask, reviewed: Reviewed | None, measured: Measured | None, zone: ZoneInfo
) -> str:
    """A task's line in the quarter's review: its state (reported, or from the records),
    who reported it and when, the note and how many files back it."""
    review = reviewed.review if reviewed is not None else None
    state = review_state(task, review, measured)
    if measured is not None:
        state = t("review_state_counted", state=state)
    if reviewed is None:
        return state
    who = person_name(reviewed.reporter) if reviewed.reporter else t("review_reporter_unknown")
    parts = [
        t(
            "review_reported",
            state=state,
            who=who,
            at=local_moment(reviewed.review.reported_at, zone),
        )
    ]
    if reviewed.review.note:
        note = reviewed.review.note.replace("\n", "\n    ")  # its lines under its label
        parts.append(t("review_note_line", note=note))
    if reviewed.evidence:
        quarter = Period(reviewed.review.year, reviewed.review.quarter).key
        parts.append(t("review_files_line", count=reviewed.evidence, id=task.id, quarter=quarter))
    return "\n".join(parts)
