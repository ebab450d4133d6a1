"""The roster import parser: good files give rows, bad rows give errors, bad files a Refusal."""

from __future__ import annotations

import datetime as dt
import io
import string
import time
import zipfile
from collections.abc import Callable

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from db import rules
from db.errors import Refusal
from db.imports import RosterRow
from handlers.runner import render_refusal
from render import texts
from render.roster_file import (
    HEADERS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    Roster,
    RowError,
    check_name,
    parse_roster,
    template,
)
from render.texts import KEYS, t

ROW_KEYS = {key for key in KEYS if key.startswith("import_error_")}
SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows: list[list[object]]) -> bytes:
    """A workbook whose first sheet holds `rows` from A1 (None leaves a cell empty)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def patched(content: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """`content` (a zip) with one member's bytes rewritten, as a forged or odd file would be."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == member else data)
    return out.getvalue()


def csv_bytes(lines: list[str], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def refusal(filename: str, content: bytes) -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse_roster(filename, content)
    t(caught.value.key, **caught.value.params)  # the catalog can say it
    return caught.value


def placeholders(key: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(texts.template(key)) if field}


def check_invariants(roster: Roster) -> None:
    """What every result promises: catalog keys with their exact parameters, storable text."""
    for error in roster.errors:
        assert error.key in ROW_KEYS
        assert set(error.params) == placeholders(error.key)
        assert error.params["row"] == error.row
        t(error.key, **error.params)
    texts = [str(v) for e in roster.errors for v in e.params.values()]
    texts += [v for r in roster.rows for v in (r.name, r.unit, r.title, r.username) if v]
    assert all(rules.storable(text) and text.isprintable() for text in texts)
    numbers = [e.row for e in roster.errors]
    assert numbers == sorted(numbers)


# --- good files ---


def test_a_good_workbook_gives_its_rows_with_excel_row_numbers() -> None:
    content = xlsx(
        [
            [" 名字 ", "部　门", "Title", "@Username", "备注"],
            ["张三", "一车间", "班长", "@zhang_san", "ignored"],
            [None, None, None, None, None],
            ["  李   四 ", 12, None, "Li_Si_99", None],
            ["王五", "二车间", 3.5, None, None],
            [None, None, None, None, "只有备注"],
            ["赵六", "三车间", dt.date(2026, 1, 31), "", None],
        ]
    )
    roster = parse_roster("名单.XLSX", content)
    assert roster == Roster(
        rows=[
            RosterRow(2, "张三", "一车间", "班长", "zhang_san"),
            RosterRow(4, "李 四", "12", None, "Li_Si_99"),
            RosterRow(5, "王五", "二车间", "3.5", None),
            RosterRow(7, "赵六", "三车间", "2026-01-31", None),
        ],
        errors=[],
    )


def test_optional_columns_may_be_absent() -> None:
    roster = parse_roster("a.xlsx", xlsx([["单位", "姓名"], ["一车间", "张三"]]))
    assert roster.rows == [RosterRow(2, "张三", "一车间", None, None)]


def test_the_header_is_the_first_non_empty_row() -> None:
    content = xlsx([[], [None, None], ["姓名", "单位"], ["张三", "一车间"]])
    assert parse_roster("a.xlsx", content).rows == [RosterRow(4, "张三", "一车间", None, None)]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [(b"12.0", "12"), (b"1E+20", "100000000000000000000"), (b"0.25", "0.25")],
)
def test_numbers_read_as_the_person_typed_them(stored: bytes, shown: str) -> None:
    content = patched(
        xlsx([["姓名", "单位"], ["张三", 777]]),
        SHEET,
        lambda xml: xml.replace(b">777<", b">" + stored + b"<"),
    )
    assert parse_roster("a.xlsx", content).rows[0].unit == shown


def test_what_openpyxl_only_warns_about_does_not_stop_the_import() -> None:
    good = xlsx([["姓名", "单位"], ["张三", "一车间"]])
    bare = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    content = patched(good, "xl/styles.xml", lambda _: bare)  # openpyxl: "no stylesheet"
    assert parse_roster("a.xlsx", content).rows == [RosterRow(2, "张三", "一车间", None, None)]


@pytest.mark.parametrize("forged", [b'<dimension ref="A1"/>', b'<dimension ref="A1:XFD1048576"/>'])
def test_a_wrong_stored_dimension_neither_cuts_nor_pads_rows(forged: bytes) -> None:
    good = xlsx([["姓名", "单位"], ["张三", "一车间"], ["李四", "二车间"]])
    content = patched(good, SHEET, lambda xml: _set_dimension(xml, forged))
    roster = parse_roster("a.xlsx", content)
    assert [r.name for r in roster.rows] == ["张三", "李四"] and roster.errors == []


def _set_dimension(xml: bytes, dimension: bytes) -> bytes:
    start = xml.index(b"<dimension")
    end = xml.index(b"/>", start) + 2
    return xml[:start] + dimension + xml[end:]


def test_a_row_number_far_down_the_sheet_is_read_quickly() -> None:
    content = patched(
        xlsx([["姓名", "单位"], ["张三", "一车间"]]),
        SHEET,
        lambda xml: xml.replace(b'r="2"', b'r="1048576"').replace(b'"A2"', b'"A1048576"'),
    )
    started = time.monotonic()
    roster = parse_roster("a.xlsx", content)
    assert time.monotonic() - started < 10
    assert [r.row for r in roster.rows] == [1048576]


def test_rows_past_excel_s_last_row_are_not_read() -> None:
    content = patched(
        xlsx([["姓名", "单位"], ["张三", "一车间"], ["李四", "二车间"]]),
        SHEET,
        lambda xml: xml.replace(b'r="3"', b'r="999999999999"'),
    )
    assert [r.name for r in parse_roster("a.xlsx", content).rows] == ["张三"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030", "utf-16"])
def test_a_good_csv_in_each_encoding_excel_uses(encoding: str) -> None:
    content = csv_bytes(
        ["姓名,单位,职务,用户名", "张三,一车间,班长,@zhang_san", "", '"李四","二车间, 南区",,'],
        encoding,
    )
    assert parse_roster("名单.csv", content).rows == [
        RosterRow(2, "张三", "一车间", "班长", "zhang_san"),
        RosterRow(4, "李四", "二车间, 南区", None, None),
    ]


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_csv_separated_by_tabs_or_semicolons(delimiter: str) -> None:
    content = csv_bytes([delimiter.join(["NAME", "Unit "]), delimiter.join(["张三", "一车间"])])
    assert parse_roster("a.CSV", content).rows == [RosterRow(2, "张三", "一车间", None, None)]


@pytest.mark.parametrize(
    "header",
    [
        "姓名,单位,职务,用户名",
        "名字,部门,职位,telegram用户名",
        "Name,分组,TITLE,Telegram",
        " 姓 名 ,\u3000单位\u3000,职务,@用户名",
        "*姓名,*单位,title,@username",
        "ｎａｍｅ,ｕｎｉｔ,职务,Telegram 用户名",
    ],
)
def test_header_aliases_and_spacing(header: str) -> None:
    roster = parse_roster("a.csv", csv_bytes([header, "张三,一车间,班长,zhang_san"]))
    assert roster.rows == [RosterRow(2, "张三", "一车间", "班长", "zhang_san")]


def test_a_repeated_header_column_uses_the_first() -> None:
    roster = parse_roster("a.csv", csv_bytes(["姓名,单位,名字", "张三,一车间,别名"]))
    assert roster.rows == [RosterRow(2, "张三", "一车间", None, None)]


def test_multiline_cells_count_as_one_excel_row() -> None:
    roster = parse_roster("a.csv", csv_bytes(["姓名,单位", '"张\n三",一车间', "李四,二车间"]))
    assert [(r.row, r.name) for r in roster.rows] == [(2, "张 三"), (3, "李四")]


# --- row errors ---


@pytest.mark.parametrize(
    ("line", "key", "params"),
    [
        (",一车间,,", "import_error_missing_name", {}),
        ("张三,,,", "import_error_missing_unit", {}),
        ("张" * 33 + ",一车间,,", "import_error_too_long", {"column": "姓名", "limit": 32}),
        ("张三," + "车" * 33 + ",,", "import_error_too_long", {"column": "单位", "limit": 32}),
        (
            "张三,一车间," + "长" * 33 + ",",
            "import_error_too_long",
            {"column": "职务", "limit": 32},
        ),
        ("张\x00三,一车间,,", "import_error_invalid", {"column": "姓名"}),
        ("张三,一\x07车间,,", "import_error_invalid", {"column": "单位"}),
        ("张三,一车间,\u200b,", "import_error_invalid", {"column": "职务"}),
        ("张三,一车间,,zhang\x01", "import_error_invalid", {"column": "用户名"}),
        ("张三,一车间,,abcd", "import_error_username", {"value": "abcd"}),
        ("张三,一车间,,@", "import_error_username", {"value": "@"}),
        ("张三,一车间,,张三三三三", "import_error_username", {"value": "张三三三三"}),
        ("张三,一车间,,has space", "import_error_username", {"value": "has space"}),
        ("张三,一车间,,@" + "a" * 50, "import_error_username", {"value": "@" + "a" * 39}),
    ],
)
def test_each_row_error(line: str, key: str, params: dict[str, object]) -> None:
    roster = parse_roster("a.csv", csv_bytes(["姓名,单位,职务,用户名", "李四,二车间,,", line]))
    assert roster.rows == [RosterRow(2, "李四", "二车间", None, None)]
    assert roster.errors == [RowError(3, key, {"row": 3, **params})]
    check_invariants(roster)


def test_lengths_at_the_limit_pass() -> None:
    line = ",".join(["张" * 32, "车" * 32, "长" * 32, "a" * 32])
    roster = parse_roster("a.csv", csv_bytes(["姓名,单位,职务,用户名", line]))
    assert roster.errors == [] and len(roster.rows) == 1


def test_repeats_point_at_the_first_row() -> None:
    content = csv_bytes(
        [
            "姓名,单位,用户名",
            "Anna Li,一车间,anna_li",
            "张三,一车间,",
            "anna  LI,一车间,",
            "Anna Li,二车间,@ANNA_LI",
            "张三,一车间,zhang_san",
        ]
    )
    roster = parse_roster("a.csv", content)
    assert [r.row for r in roster.rows] == [2, 3]
    assert roster.errors == [
        RowError(
            4, "import_error_duplicate", {"row": 4, "first": 2, "name": "anna LI", "unit": "一车间"}
        ),
        RowError(
            5,
            "import_error_duplicate_username",
            {"row": 5, "first": 2, "username": "ANNA_LI"},
        ),
        RowError(
            6, "import_error_duplicate", {"row": 6, "first": 3, "name": "张三", "unit": "一车间"}
        ),
    ]
    check_invariants(roster)


def test_every_problem_of_a_row_is_reported_in_column_order() -> None:
    content = csv_bytes(
        ["姓名,单位,用户名", ",,x", "张三,一车间,zhang_san", "张三,一车间,zhang_san"]
    )
    roster = parse_roster("a.csv", content)
    assert [(e.row, e.key) for e in roster.errors] == [
        (2, "import_error_missing_name"),
        (2, "import_error_missing_unit"),
        (2, "import_error_username"),
        (4, "import_error_duplicate"),
        (4, "import_error_duplicate_username"),
    ]
    check_invariants(roster)


def test_a_repeat_of_a_row_with_other_errors_is_still_reported() -> None:
    content = csv_bytes(["姓名,单位,用户名", "张三,一车间,bad", "张三,一车间,zhang_san"])
    roster = parse_roster("a.csv", content)
    assert [(e.row, e.key) for e in roster.errors] == [
        (2, "import_error_username"),
        (3, "import_error_duplicate"),
    ]


def test_errors_in_a_workbook_carry_its_row_numbers() -> None:
    content = xlsx([["姓名", "单位"], ["张三", "一车间"], [], ["李四", None], [None, "二车间"]])
    roster = parse_roster("a.xlsx", content)
    assert roster.rows == [RosterRow(2, "张三", "一车间", None, None)]
    assert roster.errors == [
        RowError(4, "import_error_missing_unit", {"row": 4}),
        RowError(5, "import_error_missing_name", {"row": 5}),
    ]


# --- file-level refusals ---


@pytest.mark.parametrize("name", ["名单.xls", "名单.txt", "名单", "xlsx", "a.xlsx.exe", ".csv.pdf"])
def test_other_file_types_are_refused_with_their_name(name: str) -> None:
    assert refusal(name, b"anything").params == {"name": name}


@pytest.mark.parametrize(
    ("name", "kind"), [("a.xlsx", "xlsx"), ("名单.XLSX", "xlsx"), (".csv", "csv")]
)
def test_the_type_is_known_from_the_name_alone(name: str, kind: str) -> None:
    assert check_name(name) == kind
    with pytest.raises(Refusal, match="import_wrong_type"):
        check_name(name + ".pdf")


def test_a_long_or_odd_file_name_is_clipped_and_made_safe() -> None:
    assert refusal("长" * 100 + ".doc", b"x").params == {"name": "长" * 64}
    assert refusal("a\x00\ud800b\n.doc", b"x").params["name"] == "a?b .doc"


@pytest.mark.parametrize("name", ["a.xlsx", "a.csv"])
def test_a_file_too_big_is_refused_before_reading(name: str) -> None:
    assert refusal(name, b"x" * MAX_FILE_BYTES).key != "import_too_big"
    too_big = refusal(name, b"x" * (MAX_FILE_BYTES + 1))
    assert (too_big.key, too_big.params) == ("import_too_big", {"size": 2049, "limit": 2048})


@pytest.mark.parametrize(
    "content",
    [
        b"not a zip at all",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),  # an old .xls
        b"PK\x03\x04" + bytes(100),
    ],
)
def test_a_corrupt_workbook_is_unreadable(content: bytes) -> None:
    assert refusal("a.xlsx", content).key == "import_unreadable"


def test_a_truncated_or_hollow_workbook_is_unreadable() -> None:
    good = xlsx([["姓名", "单位"], ["张三", "一车间"]])
    assert refusal("a.xlsx", good[: len(good) // 2]).key == "import_unreadable"
    hollow = io.BytesIO()
    with zipfile.ZipFile(hollow, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert refusal("a.xlsx", hollow.getvalue()).key == "import_unreadable"
    broken = patched(good, SHEET, lambda xml: xml[: len(xml) // 2])
    assert refusal("a.xlsx", broken).key == "import_unreadable"


def test_a_zip_bomb_is_refused_without_unpacking_it() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", bytes(60 * 1024 * 1024))
    assert len(bomb.getvalue()) < MAX_FILE_BYTES
    refused = refusal("a.xlsx", bomb.getvalue())
    assert refused.key == "import_unreadable"
    assert "解压" in render_refusal(refused)


def test_a_csv_in_no_known_encoding_is_unreadable() -> None:
    assert refusal("a.csv", b"\xff\xfe\x00\xd8").key == "import_unreadable"
    assert refusal("a.csv", "姓名,单位".encode() + b"\x80\xff").key == "import_unreadable"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.csv", b""),
        ("a.xlsx", b""),
        ("a.csv", b"\xef\xbb\xbf"),
        ("a.csv", b" \r\n,,,\r\n\t\r\n"),
        ("a.csv", csv_bytes(["姓名,单位"])),
        ("a.csv", csv_bytes(["姓名,单位,备注", ",,1", ",,2"])),
        ("a.xlsx", xlsx([])),
        ("a.xlsx", xlsx([["姓名", "单位", "职务", "用户名"]])),
    ],
)
def test_no_header_or_no_data_is_empty(name: str, content: bytes) -> None:
    assert refusal(name, content).key == "import_empty"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("姓名,职务", ["单位"]),
        ("单位,用户名", ["姓名"]),
        ("序号,名称,备注", ["姓名", "单位"]),
        ("成员名单", ["姓名", "单位"]),
    ],
)
def test_missing_columns_are_named(header: str, missing: list[str]) -> None:
    refused = refusal("a.csv", csv_bytes([header, "张三,一车间"]))
    assert (refused.key, refused.params) == ("import_missing_columns", {"columns": missing})
    assert "、".join(missing) in render_refusal(refused)


def test_missing_columns_in_a_workbook() -> None:
    refused = refusal("a.xlsx", xlsx([["名字", "职务"], ["张三", "班长"]]))
    assert (refused.key, refused.params) == ("import_missing_columns", {"columns": ["单位"]})


@pytest.mark.parametrize("extra", [0, 1, 300])
def test_too_many_rows(extra: int) -> None:
    people = [f"人{i},单位{i % 7}" for i in range(MAX_ROWS + extra)]
    content = csv_bytes(["姓名,单位", *people, "", ",,"])
    if extra == 0:
        assert len(parse_roster("a.csv", content).rows) == MAX_ROWS
        return
    refused = refusal("a.csv", content)
    assert (refused.key, refused.params) == (
        "import_too_many_rows",
        {"rows": MAX_ROWS + extra, "limit": MAX_ROWS},
    )


def test_too_many_rows_in_a_workbook() -> None:
    people: list[list[object]] = [[f"人{i}", "一车间"] for i in range(MAX_ROWS + 1)]
    content = xlsx([["姓名", "单位"], *people])
    refused = refusal("a.xlsx", content)
    assert refused.params == {"rows": MAX_ROWS + 1, "limit": MAX_ROWS}


# --- the template ---


def test_the_template_is_the_bold_header_and_nothing_else() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template()))
    sheet = book.worksheets[0]
    assert [cell.value for cell in sheet[1]] == list(HEADERS)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.max_row == 1 and sheet.max_column == len(HEADERS)
    assert refusal("t.xlsx", template()).key == "import_empty"


def test_the_filled_in_template_imports() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template()))
    book.worksheets[0].append(["张三", "一车间", "班长", "@zhang_san"])
    out = io.BytesIO()
    book.save(out)
    roster = parse_roster("t.xlsx", out.getvalue())
    assert roster.rows == [RosterRow(2, "张三", "一车间", "班长", "zhang_san")]


# --- anything at all ---


def parse_any(name: str, content: bytes) -> None:
    try:
        roster = parse_roster(name, content)
    except Refusal as refused:
        assert refused.key.startswith("import_") and refused.key in KEYS
        assert set(refused.params) == placeholders(refused.key)
        t(refused.key, **refused.params)
    else:
        check_invariants(roster)


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=4096), name=st.sampled_from(["a.xlsx", "a.csv"]))
def test_any_bytes_give_a_roster_or_a_refusal(content: bytes, name: str) -> None:
    parse_any(name, content)


cell = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "@", "@zhang_san", "zhang_san", "ZHANG_SAN", "张三", '"', "一车间"]),
)
header = st.lists(st.sampled_from([*HEADERS, "名字", "部门", "@username", "备注", ""]), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    head=header,
    rows=st.lists(st.lists(cell, max_size=6), max_size=12),
    delimiter=st.sampled_from([",", "\t", ";"]),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]),
)
def test_any_csv_text_gives_a_roster_or_a_refusal(
    head: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    text = "\n".join(delimiter.join(line) for line in [head, *rows])
    content = text.encode(encoding, "replace" if encoding == "gb18030" else "surrogatepass")
    parse_any("a.csv", content)
    parse_any("a.xlsx", content)


# What a workbook can hold: no lone surrogates, finite numbers Excel can store.
sheet_cell = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(["", " ", "@", "@zhang_san", "zhang_san", "ZHANG_SAN", "张三", "一车间"]),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=dt.date(1900, 3, 1)),
)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(sheet_cell, max_size=5), max_size=8))
def test_any_workbook_gives_a_roster_or_a_refusal(rows: list[list[object]]) -> None:
    head: list[object] = ["姓名", "单位", "职务", "用户名"]
    parse_any("a.xlsx", xlsx([head, *rows]))


@settings(max_examples=200, deadline=None)
@given(
    position=st.integers(min_value=0, max_value=10_000),
    junk=st.binary(min_size=1, max_size=64),
)
def test_damaged_workbooks_give_a_roster_or_a_refusal(position: int, junk: bytes) -> None:
    good = xlsx([["姓名", "单位", "用户名"], ["张三", "一车间", "zhang_san"], ["李四", 12, None]])
    at = position % len(good)
    parse_any("a.xlsx", good[:at] + junk + good[at + len(junk) :])


def test_a_title_row_above_the_header_is_skipped() -> None:
    content = xlsx([["XX残联机关青年名单"], [], ["姓名", "单位"], ["王芳", "办公室"]])
    parsed = parse_roster("名单.xlsx", content)
    assert [(r.row, r.name, r.unit) for r in parsed.rows] == [(4, "王芳", "办公室")]


def test_the_named_sheet_is_read_when_the_workbook_has_it() -> None:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.add_worksheet("活动").write_row(0, 0, ["活动编号", "活动"])
    roster_sheet = book.add_worksheet("成员")
    roster_sheet.write_row(0, 0, ["姓名", "单位", "职务", "用户名"])
    roster_sheet.write_row(1, 0, ["李雷", "康复中心", "干事", "lilei_01"])
    book.close()
    parsed = parse_roster("台账.xlsx", out.getvalue(), sheet="成员")
    assert [(r.name, r.unit, r.title, r.username) for r in parsed.rows] == [
        ("李雷", "康复中心", "干事", "lilei_01")
    ]
    with pytest.raises(Refusal) as refused:  # without the name: the first sheet, no 姓名
        parse_roster("台账.xlsx", out.getvalue())
    assert refused.value.key == "import_missing_columns"
