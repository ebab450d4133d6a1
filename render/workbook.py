"""The ledger as an Excel workbook, streamed row by row in constant memory.

Pure: no Telegram, no database, and no words of its own (sheet names and column titles come
from the caller). Blocking and CPU-bound, so the bot runs it in a separate process
(`scheduler.reports.write_ledger_aside`), where it cannot hold up the event loop.

xlsxwriter's `constant_memory` mode flushes each row to a temporary file as soon as the next
row starts, so rows go top to bottom and a row cannot be revisited. Sheets are expected to be
filled one after another, all rows of one before the next is added. Column widths are fitted
to every value written, not just the first rows: xlsxwriter writes `<cols>` when the workbook
is closed, so a `set_column` issued at `close()` is kept even though the rows are long gone.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import xlsxwriter

Kind = Literal["text", "int", "float", "percent", "datetime", "date"]

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_LENGTH = 32_767  # in UTF-16 code units, as Excel counts
MAX_SHEET_NAME_LENGTH = 31
FORBIDDEN_IN_SHEET_NAME = frozenset("[]:*?/\\")
MIN_WIDTH = 6
MAX_WIDTH = 60
PADDING = 2

_KINDS: frozenset[str] = frozenset(get_args(Kind))
_WIDE = frozenset({"W", "F"})
_NUMBER_FORMATS: dict[Kind, str] = {
    "percent": "0%",
    "datetime": "yyyy-mm-dd hh:mm",
    "date": "yyyy-mm-dd",
}
# Widest rendering of a value of these kinds, so their cells need no measuring.
_FIXED_WIDTHS: dict[Kind, int] = {"percent": len("100%"), "datetime": 16, "date": 10}

_CellWriter = Callable[[int, int, object], None]


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "text"
    width: float | None = None  # None: fitted to the title and the values written


def display_width(text: str) -> int:
    """Screen columns `text` takes: East Asian wide and fullwidth characters count two."""
    if text.isascii():
        return len(text)
    # map() keeps the per-character work in C: this runs for most text cells.
    return len(text) + sum(map(_WIDE.__contains__, map(unicodedata.east_asian_width, text)))


def fitted_width(widest: int) -> int:
    """Excel column width for values at most `widest` display units wide."""
    return min(max(widest + PADDING, MIN_WIDTH), MAX_WIDTH)


def truncate(text: str) -> str:
    """`text` cut to Excel's cell limit, without splitting a surrogate pair."""
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * MAX_CELL_LENGTH:
        return text
    return units[: 2 * MAX_CELL_LENGTH].decode("utf-16-le", "ignore")


def check_sheet_name(name: str) -> None:
    """Raise ValueError unless Excel accepts `name` for a worksheet."""
    if not name or len(name) > MAX_SHEET_NAME_LENGTH:
        raise ValueError(f"sheet name must be 1..{MAX_SHEET_NAME_LENGTH} characters: {name!r}")
    if FORBIDDEN_IN_SHEET_NAME.intersection(name):
        raise ValueError(f"sheet name must not contain any of []:*?/\\ : {name!r}")
    if name.startswith("'") or name.endswith("'") or name.casefold() == "history":
        raise ValueError(f"Excel reserves this sheet name: {name!r}")


def check_columns(columns: Sequence[Column]) -> None:
    """Raise ValueError unless Excel has room for the columns and every kind is known."""
    if not 1 <= len(columns) <= MAX_COLUMNS:
        raise ValueError(f"a sheet needs 1..{MAX_COLUMNS} columns, not {len(columns)}")
    for column in columns:
        if column.kind not in _KINDS:
            raise ValueError(f"unknown column kind {column.kind!r} of {column.title!r}")


def local_time(value: object, zone: ZoneInfo) -> dt.datetime:
    """An aware datetime as naive wall-clock time in `zone`."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: give it a timezone")
    return value.astimezone(zone).replace(tzinfo=None)


class Sheet:
    """One worksheet; rows are appended top to bottom below the header."""

    def __init__(
        self, worksheet: Any, columns: Sequence[Column], zone: ZoneInfo, formats: dict[Kind, Any]
    ) -> None:
        self._worksheet = worksheet
        self._columns = tuple(columns)
        self._zone = zone
        self._formats = formats
        self._next_row = 1
        self._widest = [
            max(display_width(column.title), _FIXED_WIDTHS.get(column.kind, 0))
            for column in self._columns
        ]
        writers: dict[Kind, _CellWriter] = {
            "text": self._write_text,
            "int": self._write_number,
            "float": self._write_number,
            "percent": self._write_percent,
            "datetime": self._write_datetime,
            "date": self._write_date,
        }
        self._writers = [writers[column.kind] for column in self._columns]

    def append(self, row: Sequence[object]) -> None:
        """Write one row, in column order; None leaves the cell empty."""
        if len(row) != len(self._writers):
            raise ValueError(f"row has {len(row)} values for {len(self._writers)} columns")
        if self._next_row >= MAX_ROWS:
            raise ValueError(f"a sheet holds at most {MAX_ROWS - 1} rows below the header")
        index, writers = self._next_row, self._writers
        for col, value in enumerate(row):
            if value is not None:
                writers[col](index, col, value)
        self._next_row = index + 1

    def extend(self, rows: Iterable[Sequence[object]]) -> None:
        """Write the rows one after another."""
        for row in rows:
            self.append(row)

    def _write_text(self, row: int, col: int, value: object) -> None:
        text = value if isinstance(value, str) else str(value)
        if len(text) > MAX_CELL_LENGTH // 2:  # shorter text fits even if all of it is emoji
            text = truncate(text)
        # write_string, never write(): text starting with "=" must stay text, not a formula.
        self._worksheet.write_string(row, col, text)
        widest = self._widest[col]
        # A character is at most 2 units wide, so most values need not be measured.
        if widest < MAX_WIDTH and 2 * len(text) > widest:
            self._widest[col] = max(widest, display_width(text[:MAX_WIDTH]))

    def _write_number(self, row: int, col: int, value: object) -> None:
        self._worksheet.write_number(row, col, value)
        shown = len(f"{value:.10g}") if isinstance(value, float) else len(str(value))
        if shown > self._widest[col]:
            self._widest[col] = shown

    def _write_percent(self, row: int, col: int, value: object) -> None:
        self._worksheet.write_number(row, col, value, self._formats["percent"])

    def _write_datetime(self, row: int, col: int, value: object) -> None:
        local = local_time(value, self._zone)
        self._worksheet.write_datetime(row, col, local, self._formats["datetime"])

    def _write_date(self, row: int, col: int, value: object) -> None:
        if isinstance(value, dt.datetime):
            value = local_time(value, self._zone).date()
        if not isinstance(value, dt.date):
            raise TypeError(f"expected a date, got {type(value).__name__}")
        self._worksheet.write_datetime(row, col, value, self._formats["date"])

    def _finish(self) -> None:
        """Set the column widths and the autofilter, once every row is written."""
        for col, column in enumerate(self._columns):
            width = column.width if column.width is not None else fitted_width(self._widest[col])
            self._worksheet.set_column(col, col, width)
        last_col = len(self._columns) - 1
        self._worksheet.autofilter(0, 0, self._next_row - 1, last_col)


class LedgerWriter:
    """A workbook at `path`, one sheet after another; datetimes are shown in `zone`.

    Used as a context manager, an exception inside the block removes the unfinished file.
    """

    def __init__(self, path: Path, zone: ZoneInfo) -> None:
        self._path = path
        self._zone = zone
        path.open("wb").close()  # a bad path fails now, not after every row has been streamed
        # xlsxwriter leaves its temporary files behind when it fails to write `path`.
        self._scratch = tempfile.TemporaryDirectory(prefix="ledger-")
        options = {"constant_memory": True, "tmpdir": self._scratch.name}
        self._workbook: Any = xlsxwriter.Workbook(str(path), options)
        self._bold = self._workbook.add_format({"bold": True})
        self._formats: dict[Kind, Any] = {
            kind: self._workbook.add_format({"num_format": number_format})
            for kind, number_format in _NUMBER_FORMATS.items()
        }
        self._sheets: list[Sheet] = []
        self._names: set[str] = set()
        self._closed = False

    def sheet(self, name: str, columns: Sequence[Column]) -> Sheet:
        """Add a worksheet with a bold, frozen header row of the column titles."""
        check_sheet_name(name)
        if name.casefold() in self._names:
            raise ValueError(f"duplicate sheet name: {name!r}")
        check_columns(columns)
        worksheet = self._workbook.add_worksheet(name)
        self._names.add(name.casefold())
        for col, column in enumerate(columns):
            worksheet.write_string(0, col, truncate(column.title), self._bold)
        worksheet.freeze_panes(1, 0)
        sheet = Sheet(worksheet, columns, self._zone, self._formats)
        self._sheets.append(sheet)
        return sheet

    def close(self) -> None:
        """Finish the file; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            for sheet in self._sheets:
                sheet._finish()
            self._workbook.close()
        finally:
            self._scratch.cleanup()

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing also deletes the temporary files, so it is done even on failure.
        try:
            self.close()
        finally:
            if exc_type is not None:
                self._path.unlink(missing_ok=True)
