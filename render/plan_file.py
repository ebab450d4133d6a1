"""The study plan as a file: the table /plan import reads (the template's columns, or the
ledger's 学习计划 sheet brought back), and its template. Values are checked by db.plans."""

from __future__ import annotations

from db.plans import PlanRow
from render import table_file
from render.table_file import Table

HEADERS = ("季度", "主题", "形式", "单位", "材料")  # the template's header, in this order
PLAN = Table(
    aliases={
        "编号": "id",
        "条目编号": "id",
        "id": "id",
        "季度": "quarter",
        "quarter": "quarter",
        "主题": "topic",
        "学习主题": "topic",
        "topic": "topic",
        "形式": "form",
        "学习形式": "form",
        "form": "form",
        "单位": "units",
        "面向单位": "units",
        "units": "units",
        "unit": "units",
        "材料": "materials",
        "学习材料": "materials",
        "materials": "materials",
    },
    required={"quarter": "季度", "topic": "主题"},
    multiline=frozenset({"materials"}),
    missing="plan_import_missing_columns",
    empty="plan_import_empty",
)


def parse_plan(filename: str, content: bytes, sheet: str | None = None) -> list[PlanRow]:
    """The rows of an uploaded plan file (`sheet`: the ledger's plan sheet, when there)."""
    return [
        PlanRow(row=number, **values)
        for number, values in table_file.read_table(filename, content, PLAN, sheet)
    ]


def template() -> bytes:
    return table_file.template("学习计划", HEADERS)
