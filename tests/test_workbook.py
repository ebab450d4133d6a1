"""The ledger workbook, written by bot.ledger and read back cell by cell with openpyxl."""

from __future__ import annotations

import datetime as dt
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.utils.escape import unescape
from openpyxl.worksheet.worksheet import Worksheet

from render.workbook import Column, LedgerWriter, display_width

ZONE = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
INJECTIONS = ["=1+1", "+86 123", "-5", "@boss", "\tx", '=HYPERLINK("http://x")', "\r=1"]
CARRIAGE_RETURN = 8  # row of "\r=1"
LONG_CHINESE = "中华人民共和国青年工作委员会第一支部"  # 18 characters, 36 display units
ACTIVITY_COLUMNS = [
    Column("名称"),
    Column("人数", "int"),
    Column("时长", "float"),
    Column("出勤率", "percent"),
    Column("开始", "datetime"),
    Column("日期", "date"),
    Column("备注", width=30),
]
DETAIL_COLUMNS = [Column("编号"), Column("姓名"), Column("说明", width=12)]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openpyxl.Workbook]:
    path = tmp_path_factory.mktemp("ledger") / "ledger.xlsx"
    start = dt.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    with LedgerWriter(path, ZONE) as ledger:
        activities = ledger.sheet("活动", ACTIVITY_COLUMNS)
        activities.append([INJECTIONS[0], 12, 1.5, 0.875, start, dt.date(2026, 12, 7), "备注"])
        activities.extend([text, None, None, None, None, None, None] for text in INJECTIONS[1:])
        activities.append([42, -3, 2.25, 0, start + dt.timedelta(hours=20), None, None])
        details = ledger.sheet("签到明细", DETAIL_COLUMNS)
        details.extend([f"a{i}", LONG_CHINESE, LONG_CHINESE * 3] for i in range(3))
        details.append(["a9", "李四", "x" * 40_000])
        details.append([None, None, "😀" * 20_000])
    book = openpyxl.load_workbook(path)
    yield book
    book.close()


def test_sheets_in_order_with_bold_frozen_headers(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["活动", "签到明细"]
    for name, columns in [("活动", ACTIVITY_COLUMNS), ("签到明细", DETAIL_COLUMNS)]:
        ws = workbook[name]
        assert [cell.value for cell in ws[1]] == [column.title for column in columns]
        assert all(cell.font.b for cell in ws[1])
        assert ws.freeze_panes == "A2"
    assert workbook["活动"].auto_filter.ref == "A1:G9"
    assert workbook["签到明细"].auto_filter.ref == "A1:C6"


def test_text_that_looks_like_a_formula_stays_text(workbook: openpyxl.Workbook) -> None:
    ws = workbook["活动"]
    for row, text in enumerate(INJECTIONS, start=2):
        cell = ws.cell(row, 1)
        assert cell.data_type == "s"
        assert isinstance(cell.value, str)
        # The file spells a control character _x000D_; Excel decodes that, openpyxl does not.
        assert (unescape(cell.value) if row == CARRIAGE_RETURN else cell.value) == text
    assert ws["A9"].value == "42"  # not a str, so converted with str()
    assert ws["A9"].data_type == "s"


def test_numbers_and_their_formats(workbook: openpyxl.Workbook) -> None:
    ws = workbook["活动"]
    assert (ws["B2"].value, ws["C2"].value, ws["D2"].value) == (12, 1.5, 0.875)
    assert (ws["B9"].value, ws["C9"].value, ws["D9"].value) == (-3, 2.25, 0)
    assert all(ws[ref].data_type == "n" for ref in ["B2", "C2", "D2", "B9", "D9"])
    assert ws["B2"].number_format == "General"
    assert ws["C2"].number_format == "General"
    assert ws["D2"].number_format == "0%"


def test_datetimes_are_local_excel_dates(workbook: openpyxl.Workbook) -> None:
    ws = workbook["活动"]
    assert ws["E2"].value == dt.datetime(2026, 12, 7, 14, 0)  # 06:00 UTC is 14:00 in Shanghai
    assert ws["E2"].is_date
    assert ws["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["E9"].value == dt.datetime(2026, 12, 8, 10, 0)
    assert ws["F2"].value == dt.datetime(2026, 12, 7, 0, 0)
    assert ws["F2"].is_date
    assert ws["F2"].number_format == "yyyy-mm-dd"


def test_none_leaves_the_cell_empty(workbook: openpyxl.Workbook) -> None:
    ws = workbook["活动"]
    assert [ws.cell(3, col).value for col in range(2, 8)] == [None] * 6
    assert ws["F9"].value is None
    assert workbook["签到明细"]["A6"].value is None


def test_long_text_is_cut_to_the_cell_limit(workbook: openpyxl.Workbook) -> None:
    ws = workbook["签到明细"]
    assert ws["C5"].value == "x" * 32_767
    assert ws["C6"].value == "😀" * 16_383  # 32,766 UTF-16 units: a pair is never split


def width(ws: Worksheet, letter: str) -> float:
    """The stored width of a column (xlsxwriter adds a fraction for the cell padding)."""
    return float(ws.column_dimensions[letter].width)


def test_column_widths_fit_chinese(workbook: openpyxl.Workbook) -> None:
    details = workbook["签到明细"]
    assert display_width(LONG_CHINESE) == 36
    assert 36 < width(details, "B") < 40  # the long Chinese values, plus padding
    assert 6 <= width(details, "A") < 8  # "编号" and short ASCII values: the minimum width
    activities = workbook["活动"]
    assert 17 <= width(activities, "E") < 20  # "yyyy-mm-dd hh:mm"
    assert width(activities, "A") > len('=HYPERLINK("http://x")')


def test_explicit_width_wins(workbook: openpyxl.Workbook) -> None:
    assert 12 <= width(workbook["签到明细"], "C") < 13  # although its values are far longer
    assert 30 <= width(workbook["活动"], "G") < 31


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("张三") == 4
    assert display_width("Ａ1，") == 5  # fullwidth letter and comma
    assert display_width("é…") == 2  # neither wide nor fullwidth


@pytest.mark.parametrize(
    "name", ["", "a" * 32, "a/b", "a\\b", "[1]", "a:b", "what?", "a*", "'活动'", "History"]
)
def test_invalid_sheet_name(tmp_path: Path, name: str) -> None:
    with LedgerWriter(tmp_path / "x.xlsx", ZONE) as ledger, pytest.raises(ValueError):
        ledger.sheet(name, [Column("a")])


def test_duplicate_sheet_name(tmp_path: Path) -> None:
    with LedgerWriter(tmp_path / "x.xlsx", ZONE) as ledger:
        ledger.sheet("活动", [Column("a")])
        with pytest.raises(ValueError, match="duplicate"):
            ledger.sheet("活动", [Column("b")])


@pytest.mark.parametrize("kind", ["datetime", "date"])
def test_naive_datetime_is_an_error(tmp_path: Path, kind: str) -> None:
    column = Column("时间", "datetime") if kind == "datetime" else Column("日期", "date")
    with LedgerWriter(tmp_path / "x.xlsx", ZONE) as ledger:
        sheet = ledger.sheet("活动", [column])
        with pytest.raises(ValueError, match="naive"):
            sheet.append([dt.datetime(2026, 12, 7, 14, 0)])


def test_aware_datetime_in_a_date_column_is_its_local_date(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    with LedgerWriter(path, ZONE) as ledger:
        ledger.sheet("活动", [Column("日期", "date")]).append(
            [dt.datetime(2026, 12, 7, 20, 0, tzinfo=UTC)]
        )
    book = openpyxl.load_workbook(path)
    assert book["活动"]["A2"].value == dt.datetime(2026, 12, 8, 0, 0)
    book.close()


def test_row_of_the_wrong_length_is_an_error(tmp_path: Path) -> None:
    with LedgerWriter(tmp_path / "x.xlsx", ZONE) as ledger:
        sheet = ledger.sheet("活动", [Column("a"), Column("b")])
        with pytest.raises(ValueError, match="columns"):
            sheet.append(["only one"])


def test_failure_removes_the_file_and_the_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "x.xlsx"
    with pytest.raises(ValueError), LedgerWriter(path, ZONE) as ledger:
        sheet = ledger.sheet("活动", [Column("时间", "datetime")])
        sheet.append([dt.datetime(2026, 12, 7, tzinfo=UTC)])
        sheet.append([dt.datetime(2026, 12, 7)])
    assert not path.exists()
    assert list(scratch.iterdir()) == []


def test_unwritable_path_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(FileNotFoundError):
        LedgerWriter(tmp_path / "no" / "x.xlsx", ZONE)
    assert list(scratch.iterdir()) == []


def test_close_is_idempotent(tmp_path: Path) -> None:
    ledger = LedgerWriter(tmp_path / "x.xlsx", ZONE)
    ledger.sheet("活动", [Column("a")]).append(["x"])
    ledger.close()
    ledger.close()
    assert (tmp_path / "x.xlsx").stat().st_size > 0


BIG_ROWS = 250_000
BIG_COLUMNS = [
    Column("姓名"),
    Column("支部"),
    Column("序号", "int"),
    Column("时长", "float"),
    Column("出勤率", "percent"),
    Column("签到时间", "datetime"),
    Column("日期", "date"),
    Column("备注"),
]
BIG_START = dt.datetime(2026, 1, 1, tzinfo=UTC)


def big_row(i: int) -> tuple[object, ...]:
    return (
        f"张三{i}",
        f"第{i % 40}支部",
        i,
        i / 4,
        (i % 101) / 100,
        BIG_START + dt.timedelta(minutes=i),
        dt.date(2026, 1, 1) + dt.timedelta(days=i % 365),
        None if i % 3 else f"=备注{i}",
    )


def test_big_sheet_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    with LedgerWriter(path, ZONE) as ledger:
        ledger.sheet("活动", [Column("名称")]).append(["x"])
        sheet = ledger.sheet("签到明细", BIG_COLUMNS)
        for chunk in range(0, BIG_ROWS, 5_000):  # as the caller streams from the database
            sheet.extend([big_row(i) for i in range(chunk, chunk + 5_000)])
    took = time.perf_counter() - started
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(f"\nledger: {BIG_ROWS} rows x {len(BIG_COLUMNS)} columns in {took:.1f} s, ", end="")
    print(f"peak RSS +{growth_mb:.1f} MB, {path.stat().st_size / 1e6:.1f} MB file")
    assert growth_mb < 150

    book = openpyxl.load_workbook(path, read_only=True)
    ws = book["签到明细"]
    assert (ws.max_row, ws.max_column) == (BIG_ROWS + 1, len(BIG_COLUMNS))
    [last] = ws.iter_rows(min_row=BIG_ROWS + 1, values_only=True)
    book.close()
    i = BIG_ROWS - 1
    expected_time = (BIG_START + dt.timedelta(minutes=i)).astimezone(ZONE).replace(tzinfo=None)
    expected_day = dt.datetime.combine(dt.date(2026, 1, 1) + dt.timedelta(days=i % 365), dt.time())
    name, branch, number, hours, rate, _, _, remark = big_row(i)
    assert last == (name, branch, number, hours, rate, expected_time, expected_day, remark)
