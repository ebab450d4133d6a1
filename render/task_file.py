"""The work plan's tasks as a file: the table /task import reads, and its template. Values
are checked by db.tasks as /task add checks them."""

from __future__ import annotations

from db.tasks import TaskRow
from render import table_file
from render.table_file import Table

HEADERS = ("年份", "序号", "工作要点", "负责", "周期", "截止", "目标")  # the template's header
TASKS = Table(
    aliases={
        "编号": "id",
        "id": "id",
        "年份": "year",
        "年度": "year",
        "year": "year",
        "序号": "number",
        "number": "number",
        "工作要点": "title",
        "任务": "title",
        "标题": "title",
        "title": "title",
        "task": "title",
        "负责": "owner",
        "负责方": "owner",
        "负责单位": "owner",
        "owner": "owner",
        "周期": "cadence",
        "cadence": "cadence",
        "截止": "due",
        "截止日期": "due",
        "due": "due",
        "目标": "target",
        "target": "target",
    },
    required={"year": "年份", "title": "工作要点", "owner": "负责"},
    missing="task_import_missing_columns",
    empty="task_import_empty",
)


def parse_tasks(filename: str, content: bytes) -> list[TaskRow]:
    """The rows of an uploaded task list."""
    return [
        TaskRow(row=number, **values)
        for number, values in table_file.read_table(filename, content, TASKS)
    ]


def template() -> bytes:
    return table_file.template("工作要点", HEADERS)
