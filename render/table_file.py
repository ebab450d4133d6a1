"""Tables people bring in as a file (.xlsx or .csv): the roster (/import), the study plan
(/plan import). The file is checked and read; its header is found by the columns' names (in
Chinese or English, among the first rows), and each data row comes back as its row number
and the text of each known column.

Pure: no Telegram, no database. File-level problems raise `Refusal`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from db import rules
from db.errors import Refusal, TextKeys

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
_MAX_COLUMNS = 64  # columns further right are never read (a header that far is no table)
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
class Table:
    """What a kind of table looks like: its columns' names (the header word → the field),
    the fields a header must have (and how the refusal names them), and the fields whose
    line breaks are kept (others have their whitespace collapsed)."""

    aliases: Mapping[str, str]
    required: Mapping[str, str]  # field → its column's name, for the `missing` refusal
    multiline: frozenset[str] = field(default_factory=frozenset)
    # The refusals that describe this kind of table: a header without a required column
    # (`{columns}`), and a file without data rows.
    missing: str = "import_missing_columns"
    empty: str = "import_empty"


# A data row as read: its row number and the cleaned text of each known column.
Raw = tuple[int, dict[str, str]]


def read_table(filename: str, content: bytes, table: Table, sheet: str | None = None) -> list[Raw]:
    """The data rows of an uploaded file, or a refusal saying why the file cannot be used.

    `sheet`: the worksheet to read when a workbook has one of that name (the ledger's sheet,
    so an exported ledger imports back); otherwise the first.
    """
    suffix = check_name(filename)
    check_size(len(content))
    if not content:
        raise Refusal(table.empty)
    if suffix == "xlsx":
        return _read_xlsx(content, sheet, table)
    return _read_csv(content, table)


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


def template(sheet_name: str, headers: Iterable[str]) -> bytes:
    """An empty table: just the header row, bold, for people to fill in."""
    import xlsxwriter  # loaded when first needed: the bot starts without it

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    bold = book.add_format({"bold": True})
    words = list(headers)
    for column, word in enumerate(words):
        sheet.write_string(0, column, word, bold)
    sheet.set_column(0, len(words) - 1, 16)
    book.close()
    return out.getvalue()


def shown_name(filename: str) -> str:
    """The file's name made safe to echo back: printable, storable, at most 64 characters."""
    safe = rules.make_storable(filename)
    return "".join(ch for ch in " ".join(safe.split()) if ch.isprintable())[:64]


# --- reading ---


def _read_xlsx(content: bytes, sheet: str | None, table: Table) -> list[Raw]:
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
                return _collect(_sheet_rows(book, sheet), table)
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


def _read_csv(content: bytes, table: Table) -> list[Raw]:
    text = _decode(content)
    delimiter = _sniff(text)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _collect((row[:_MAX_COLUMNS] for row in rows), table)
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


def _collect(rows: Iterable[list[str]], table: Table) -> list[Raw]:
    """Find the header (the first row naming the required columns, among the first non-empty
    ones), then keep the data rows that say anything."""
    columns: dict[str, int] | None = None
    first: list[str] | None = None
    seen = 0
    kept: list[Raw] = []
    count = 0
    for number, cells in enumerate(rows, start=1):
        if not cells:
            continue
        if columns is None:
            if not any(_clean(cell) for cell in cells):
                continue
            first, seen = first or cells, seen + 1
            found = _columns(cells, table)
            if all(field in found for field in table.required):
                columns = found
            elif seen >= HEADER_SEARCH:
                _header(first, table)  # refuses, naming the columns missing from the first row
            continue
        values = {
            name: _clean(cells[i] if i < len(cells) else "", name in table.multiline)
            for name, i in columns.items()
        }
        if not any(values.values()):
            continue  # blank, or only notes in columns we do not read (序号 filled down)
        count += 1
        if count <= MAX_ROWS:
            kept.append((number, values))
    if columns is None and first is not None:
        _header(first, table)
    if columns is None or count == 0:
        raise Refusal(table.empty)
    if count > MAX_ROWS:
        raise Refusal("import_too_many_rows", rows=count, limit=MAX_ROWS)
    return kept


def _columns(cells: list[str], table: Table) -> dict[str, int]:
    """Which column holds which field (the first of repeated ones)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = table.aliases.get(_header_word(cell))
        if name is not None:
            columns.setdefault(name, index)
    return columns


def _header(cells: list[str], table: Table) -> dict[str, int]:
    """The row's columns; refuse without a required one."""
    columns = _columns(cells, table)
    missing = [word for name, word in table.required.items() if name not in columns]
    if missing:
        raise Refusal(table.missing, columns=list(missing))
    return columns


def _header_word(cell: str) -> str:
    """`" Telegram 用户名 "`, `"@username"`, `"*姓名"` → the form looked up in `_ALIASES`."""
    folded = unicodedata.normalize("NFKC", cell).casefold()
    word = "".join(ch for ch in folded if ch.isprintable() and not ch.isspace())
    return word.strip("*").removeprefix("@")


def _clean(raw: str, multiline: bool = False) -> str:
    """Whitespace collapsed; in a multi-line column, within each line (empty lines dropped)."""
    if not multiline:
        return " ".join(raw.split())
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)
