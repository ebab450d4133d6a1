"""The committee's roster import: an .xlsx or .csv file, one person per row, parsed and checked.

Pure: no Telegram, no database. File-level problems raise `Refusal`; problems of single rows
become `RowError`s and the other rows are still returned.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from db import rules
from db.errors import Refusal, TextKeys
from db.imports import RosterRow
from db.members import MAX_NAME, MAX_UNIT

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_TITLE = 32
HEADERS = ("姓名", "单位", "职务", "用户名")  # the template's header, in this order

_FIELDS = ("name", "unit", "title", "username")  # the same columns, as RosterRow names them
_COLUMN_WORD = dict(zip(_FIELDS, HEADERS, strict=True))
_REQUIRED = ("name", "unit")
_LIMITS = {"name": MAX_NAME, "unit": MAX_UNIT, "title": MAX_TITLE}
_ALIASES = {
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
}
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")
_MAX_COLUMNS = 64  # columns further right are never read (a header that far is no roster)
_MAX_SHEET_ROWS = 1_048_576  # Excel's own limit: a row number past it is a forged file
_MAX_UNZIPPED = 50 * 1024 * 1024  # the parts of a real 2 MB workbook unpack to far less
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .xls, and password-protected workbooks
_DELIMITERS = (",", "\t", ";")

# Why a file cannot be read: catalog texts, shown in the reader's language.
_REASON_NOT_XLSX = TextKeys(("import_reason_not_xlsx",))
_REASON_OLD_XLS = TextKeys(("import_reason_old_xls",))
_REASON_BOMB = TextKeys(("import_reason_bomb",))
_REASON_CORRUPT = TextKeys(("import_reason_corrupt",))
_REASON_ENCODING = TextKeys(("import_reason_encoding",))
_REASON_CSV = TextKeys(("import_reason_csv",))


@dataclass(frozen=True)
class RowError:
    row: int
    key: str  # an import_error_* catalog key
    params: dict[str, object]  # exactly the placeholders of that catalog text


@dataclass
class Roster:
    rows: list[RosterRow]
    errors: list[RowError]


# A data row as read: its row number and the cleaned text of each known column.
_Raw = tuple[int, dict[str, str]]


def parse_roster(filename: str, content: bytes, sheet: str | None = None) -> Roster:
    """The rows of an uploaded roster file, or a refusal saying why the file cannot be used.

    `sheet`: the worksheet to read when a workbook has one of that name (the ledger's roster
    sheet, so an exported ledger imports back); otherwise the first.
    """
    suffix = check_name(filename)
    check_size(len(content))
    if not content:
        raise Refusal("import_empty")
    raws = _read_xlsx(content, sheet) if suffix == "xlsx" else _read_csv(content)
    return _validate(raws)


def check_size(size: int) -> None:
    """Refuse a file over MAX_FILE_BYTES (also before downloading it, from its stated size)."""
    if size > MAX_FILE_BYTES:
        raise Refusal("import_too_big", size=math.ceil(size / 1024), limit=MAX_FILE_BYTES // 1024)


def check_name(filename: str) -> str:
    """The file's type, `xlsx` or `csv`, from its name; refused before anything is downloaded."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("xlsx", "csv"):
        raise Refusal("import_wrong_type", name=shown_name(filename))
    return suffix


def template() -> bytes:
    """An empty roster: just the header row, bold, for people to fill in."""
    import xlsxwriter  # loaded when first needed: the bot starts without it

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("名单")
    bold = book.add_format({"bold": True})
    for column, word in enumerate(HEADERS):
        sheet.write_string(0, column, word, bold)
    sheet.set_column(0, len(HEADERS) - 1, 16)
    book.close()
    return out.getvalue()


def shown_name(filename: str) -> str:
    """The file's name made safe to echo back: printable, storable, at most 64 characters."""
    safe = rules.make_storable(filename)
    return "".join(ch for ch in " ".join(safe.split()) if ch.isprintable())[:64]


# --- reading ---


def _read_xlsx(content: bytes, sheet: str | None) -> list[_Raw]:
    """The worksheet's data rows; anything openpyxl cannot read is `import_unreadable`."""
    if content.startswith(_OLE_MAGIC):
        raise Refusal("import_unreadable", reason=_REASON_OLD_XLS)
    _check_zip(content)
    import openpyxl  # loaded with the first workbook read: the bot starts without it

    try:
        with warnings.catch_warnings():
            # Real workbooks carry extensions openpyxl warns about and skips; they are harmless.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                return _collect(_sheet_rows(book, sheet))
            finally:
                book.close()
    except Refusal:
        raise
    except Exception:  # any input bytes: openpyxl fails in many ways on a damaged file
        raise Refusal("import_unreadable", reason=_REASON_CORRUPT) from None


def _check_zip(content: bytes) -> None:
    """Refuse what is not a zip, and zip bombs (the declared sizes are what zipfile unpacks)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except Exception:
        raise Refusal("import_unreadable", reason=_REASON_NOT_XLSX) from None
    if unzipped > _MAX_UNZIPPED:
        raise Refusal("import_unreadable", reason=_REASON_BOMB)


def _sheet_rows(book: Workbook, name: str | None) -> Iterator[list[str]]:
    """Each row of the worksheet as text, empty rows as []; at most Excel's rows."""
    if not book.worksheets:
        return  # only chart sheets: nothing to read
    named = [ws for ws in book.worksheets if name is not None and ws.title == name]
    sheet = named[0] if named else book.worksheets[0]
    # The stored dimension may be wrong (too small cuts rows off, too wide pads every row).
    sheet.reset_dimensions()
    rows = sheet.iter_rows(max_col=_MAX_COLUMNS, values_only=True)
    for values in islice(rows, _MAX_SHEET_ROWS):
        if values.count(None) == len(values):
            yield []
        else:
            yield [_cell_text(value) for value in values]


def _cell_text(value: object) -> str:
    """A cell as the person sees it: 12.0 → "12", a date without time → "2026-01-31"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_csv(content: bytes) -> list[_Raw]:
    text = _decode(content)
    delimiter = _sniff(text)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _collect(row[:_MAX_COLUMNS] for row in rows)
    except csv.Error:
        raise Refusal("import_unreadable", reason=_REASON_CSV) from None


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel in China saves CSV as."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text", renamed to .csv
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Refusal("import_unreadable", reason=_REASON_ENCODING)


def _sniff(text: str) -> str:
    """The separator used most in the first non-empty line (a comma when none is)."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")
    return max(_DELIMITERS, key=first.count)


# --- the table ---


HEADER_SEARCH = 10  # rows a header may sit below (a title like “XX单位青年名单” above it)


def _collect(rows: Iterable[list[str]]) -> list[_Raw]:
    """Find the header (the first row naming 姓名 and 单位, among the first non-empty ones),
    then keep the data rows that say anything."""
    columns: dict[str, int] | None = None
    first: list[str] | None = None
    seen = 0
    kept: list[_Raw] = []
    count = 0
    for number, cells in enumerate(rows, start=1):
        if not cells:
            continue
        if columns is None:
            if not any(_clean(cell) for cell in cells):
                continue
            first, seen = first or cells, seen + 1
            found = _columns(cells)
            if all(field in found for field in _REQUIRED):
                columns = found
            elif seen >= HEADER_SEARCH:
                _header(first)  # refuses, naming the columns missing from the first row
            continue
        values = {field: _clean(cells[i]) if i < len(cells) else "" for field, i in columns.items()}
        if not any(values.values()):
            continue  # blank, or only notes in columns we do not read (序号 filled down)
        count += 1
        if count <= MAX_ROWS:
            kept.append((number, values))
    if columns is None and first is not None:
        _header(first)
    if columns is None or count == 0:
        raise Refusal("import_empty")
    if count > MAX_ROWS:
        raise Refusal("import_too_many_rows", rows=count, limit=MAX_ROWS)
    return kept


def _columns(cells: list[str]) -> dict[str, int]:
    """Which column holds which field (the first of repeated ones)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = _ALIASES.get(_header_word(cell))
        if field is not None:
            columns.setdefault(field, index)
    return columns


def _header(cells: list[str]) -> dict[str, int]:
    """The row's columns; refuse without 姓名 or 单位."""
    columns = _columns(cells)
    missing = [_COLUMN_WORD[field] for field in _REQUIRED if field not in columns]
    if missing:
        raise Refusal("import_missing_columns", columns=list(missing))
    return columns


def _header_word(cell: str) -> str:
    """`" Telegram 用户名 "`, `"@username"`, `"*姓名"` → the form looked up in `_ALIASES`."""
    folded = unicodedata.normalize("NFKC", cell).casefold()
    word = "".join(ch for ch in folded if ch.isprintable() and not ch.isspace())
    return word.strip("*").removeprefix("@")


def _clean(raw: str) -> str:
    return " ".join(raw.split())


# --- checking rows ---


def _validate(raws: list[_Raw]) -> Roster:
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
