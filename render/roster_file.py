"""The committee's roster import: an .xlsx or .csv file, one person per row, parsed and checked.

Pure: no Telegram, no database. File-level problems raise `Refusal` (render.table_file reads
the file); problems of single rows become `RowError`s and the other rows are still returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from db import rules
from db.imports import RosterRow
from db.members import MAX_NAME, MAX_UNIT
from render import table_file
from render.table_file import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    Raw,
    Table,
    check_name,
    check_size,
    shown_name,
)

# The file's checks, as the roster's callers use them.
__all__ = ["MAX_FILE_BYTES", "MAX_ROWS", "check_name", "check_size", "shown_name"]

MAX_TITLE = 32
HEADERS = ("姓名", "单位", "职务", "用户名")  # the template's header, in this order

_FIELDS = ("name", "unit", "title", "username")  # the same columns, as RosterRow names them
_COLUMN_WORD = dict(zip(_FIELDS, HEADERS, strict=True))
_REQUIRED = ("name", "unit")
_LIMITS = {"name": MAX_NAME, "unit": MAX_UNIT, "title": MAX_TITLE}
ROSTER = Table(
    aliases={
        "姓名": "name",
        "名字": "name",
        "name": "name",
        "单位": "unit",
        "部门": "unit",
        "分组": "unit",
        "unit": "unit",
        "职务": "title",
        "职位": "title",
        "title": "title",
        "用户名": "username",
        "telegram用户名": "username",
        "telegram": "username",
        "username": "username",
    },
    required={field: _COLUMN_WORD[field] for field in _REQUIRED},
)
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


@dataclass(frozen=True)
class RowError:
    row: int
    key: str  # an import_error_* catalog key
    params: dict[str, object]  # exactly the placeholders of that catalog text


@dataclass
class Roster:
    rows: list[RosterRow]
    errors: list[RowError]


def parse_roster(filename: str, content: bytes, sheet: str | None = None) -> Roster:
    """The rows of an uploaded roster file, or a refusal saying why the file cannot be used.

    `sheet`: the worksheet to read when a workbook has one of that name (the ledger's roster
    sheet, so an exported ledger imports back); otherwise the first.
    """
    return _validate(table_file.read_table(filename, content, ROSTER, sheet))


def template() -> bytes:
    """An empty roster: just the header row, bold, for people to fill in."""
    return table_file.template("名单", HEADERS)


# --- checking rows ---


def _validate(raws: list[Raw]) -> Roster:
    """Every row checked on its own, then against the rows above it."""
    roster = Roster(rows=[], errors=[])
    pairs: dict[tuple[str, str], int] = {}
    usernames: dict[str, int] = {}
    for number, values in raws:
        errors = _field_errors(number, values)
        found = list(errors.values())
        # A repeat is reported even when the first row has other errors: both rows need fixing.
        if "name" not in errors and "unit" not in errors:
            found += _repeated_pair(number, values, pairs)
        if "username" not in errors and values.get("username"):
            found += _repeated_username(number, values, usernames)
        if found:
            roster.errors.extend(found)
        else:
            roster.rows.append(_roster_row(number, values))
    return roster


def _field_errors(number: int, values: dict[str, str]) -> dict[str, RowError]:
    """The first problem of each column of one row, in column order."""
    errors: dict[str, RowError] = {}
    for field in _FIELDS:
        error = _field_error(number, field, values.get(field, ""))
        if error is not None:
            errors[field] = error
    return errors


def _field_error(number: int, field: str, value: str) -> RowError | None:
    word = _COLUMN_WORD[field]
    if not rules.storable(value) or any(not ch.isprintable() for ch in value):
        return RowError(number, "import_error_invalid", {"row": number, "column": word})
    if field in _REQUIRED and not value:
        return RowError(number, f"import_error_missing_{field}", {"row": number})
    limit = _LIMITS.get(field)
    if limit is not None and len(value) > limit:
        params: dict[str, object] = {"row": number, "column": word, "limit": limit}
        return RowError(number, "import_error_too_long", params)
    if field == "username" and value and not _USERNAME.fullmatch(_bare_username(value)):
        return RowError(number, "import_error_username", {"row": number, "value": value[:40]})
    return None


def _bare_username(value: str) -> str:
    return value.removeprefix("@").strip()


def _repeated_pair(
    number: int, values: dict[str, str], seen: dict[tuple[str, str], int]
) -> list[RowError]:
    name, unit = values["name"], values["unit"]
    first = seen.setdefault((name.casefold(), unit.casefold()), number)
    if first == number:
        return []
    params: dict[str, object] = {"row": number, "first": first, "name": name, "unit": unit}
    return [RowError(number, "import_error_duplicate", params)]


def _repeated_username(number: int, values: dict[str, str], seen: dict[str, int]) -> list[RowError]:
    username = _bare_username(values["username"])
    first = seen.setdefault(username.lower(), number)
    if first == number:
        return []
    params: dict[str, object] = {"row": number, "first": first, "username": username}
    return [RowError(number, "import_error_duplicate_username", params)]


def _roster_row(number: int, values: dict[str, str]) -> RosterRow:
    username = values.get("username", "")
    return RosterRow(
        row=number,
        name=values["name"],
        unit=values["unit"],
        title=values.get("title") or None,
        username=_bare_username(username) if username else None,
    )
