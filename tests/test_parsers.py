"""Every parser of user input returns a value or a Refusal the catalog can render; nothing else.

Property-based: hypothesis throws arbitrary text at each parser (control characters, lone
surrogates, other scripts' digits, huge numbers, far dates) plus near misses of real input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db import activities as activities_db
from db import members as members_db
from db import notices as notices_db
from db import rules
from db.errors import Refusal
from handlers.runner import render_refusal
from render.texts import KEYS, MESSAGE_LIMIT, REPLY_WORDS

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)

NEAR_MISSES = [
    "",
    " ",
    "#",
    "#12",
    "12",
    "0",
    "-1",
    "007",
    "999999999",
    "9999999999",
    "²",
    "٣",
    "１２",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "24",
    "24.01",
    "0.0",
    "1_000",
    "0x1f",
    "١٢:٣٠",
    "2026-12-05",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "2031-11-30",
    "2031-12-01",
    "1999-12-31",
    "2026-12-05T15:00",
    "2026-12-05 15:00",
    "9999-12-31T23:59",
    "23:59",
    "24:00",
    "15：00",
    "7:5",
    "off",
    "OFF",
    "@",
    "@a",
    "@" + "a" * 40,
    "-100123",
    "12345678901234567",
    "all",
    "@办公室",
    "remind=off",
    "remind=1e9",
    "remind=nan",
    "cap=0",
    "cap=10001",
    "cap=²",
    "hours=nan",
    "hours=-1",
    "deadline=9999-12-31T23:59",
    "end=25:00",
    "end=14:00",
    "place=",
    "unit=",
    "code=中文",
    "code=abc",
    "title=",
    "date=9999-12-31",
    "x=1",
    "=1",
    "\x00",
    "\ud800",
    "\u200b",
    "\u202e",
    "a\nb",
    "字" * 5000,
    "study",
    "学习",
    "志愿",
]
odd_text = st.text(st.characters(exclude_categories=()), max_size=40)
text = st.one_of(st.sampled_from(NEAR_MISSES), odd_text)
words = st.lists(text, max_size=8)


def refused_or_value(parse: Callable[[], Any]) -> Any:
    """Run a parser; a refusal must name a catalog text that renders within a message."""
    try:
        return parse()
    except Refusal as refusal:
        assert refusal.key in KEYS, refusal.key
        rendered = render_refusal(refusal)
        assert 0 < len(rendered) <= MESSAGE_LIMIT
        return None


@settings(max_examples=300, deadline=None)
@given(raw=text)
def test_single_value_parsers(raw: str) -> None:
    for parse in (
        lambda: rules.parse_date(raw, TODAY),
        lambda: rules.parse_time(raw),
        lambda: rules.parse_id(raw),
        lambda: rules.parse_capacity(raw),
        lambda: rules.parse_hours(raw),
        lambda: rules.parse_hours(raw, allow_zero=True),
        lambda: rules.parse_remind(raw),
        lambda: rules.parse_member_ref(raw),
        lambda: rules.parse_code(raw),
        lambda: rules.parse_kind(raw),
        lambda: rules.parse_local_datetime(raw, ZONE, TODAY),
        lambda: rules.clean_text(raw, rules.MAX_TITLE, "title_invalid"),
        lambda: rules.clean_multiline(raw, 3000, "notice_usage"),
        lambda: members_db.clean_name(raw, members_db.MAX_NAME),
        lambda: notices_db.parse_words(raw, media=False),
    ):
        refused_or_value(parse)


@settings(max_examples=300, deadline=None)
@given(args=words)
def test_word_list_parsers(args: list[str]) -> None:
    refused_or_value(lambda: rules.split_options(args))
    refused_or_value(lambda: activities_db.parse_edit(args))
    refused_or_value(lambda: activities_db.parse_words(args, ZONE, TODAY))
    refused_or_value(lambda: activities_db.parse_words(["study", *args], ZONE, TODAY))
    refused_or_value(
        lambda: activities_db.parse_words(["volunteer", "2026-12-05", "09:00", *args], ZONE, TODAY)
    )


@settings(max_examples=200, deadline=None)
@given(raw=text)
def test_values_that_pass_are_within_their_limits(raw: str) -> None:
    day = refused_or_value(lambda: rules.parse_date(raw, TODAY))
    if day is not None:
        assert dt.date(2000, 1, 1) <= day <= dt.date(2031, 11, 30)
    number = refused_or_value(lambda: rules.parse_id(raw))
    if number is not None:
        assert 0 <= number <= rules.MAX_ID
    cap = refused_or_value(lambda: rules.parse_capacity(raw))
    if cap is not None:
        assert 1 <= cap <= rules.MAX_CAPACITY
    hours = refused_or_value(lambda: rules.parse_hours(raw, allow_zero=True))
    if hours is not None:
        assert 0 <= hours <= rules.MAX_HOURS
    ref = refused_or_value(lambda: rules.parse_member_ref(raw))
    if ref is not None and ref.telegram_id is not None:
        assert abs(ref.telegram_id) < 2**63
    name = refused_or_value(lambda: members_db.clean_name(raw, members_db.MAX_NAME))
    if name is not None:
        assert rules.storable(name) and len(name) <= members_db.MAX_NAME


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("9999-12-31", "date_out_of_range"),
        ("1999-12-31", "date_out_of_range"),
        ("2026-02-30", "date_invalid"),
        ("٢٠٢٦-١٢-٠٥", "date_invalid"),
    ],
)
def test_dates_are_refused_naming_the_format_or_the_range(raw: str, key: str) -> None:
    with pytest.raises(Refusal) as refused:
        rules.parse_date(raw, TODAY)
    assert refused.value.key == key
    if key == "date_out_of_range":
        assert "2000-01-01" in render_refusal(refused.value)
        assert "2031-11-30" in render_refusal(refused.value)


def test_the_range_moves_with_today_and_survives_29_february() -> None:
    assert rules.date_range(dt.date(2028, 2, 29)) == (dt.date(2000, 1, 1), dt.date(2033, 2, 28))
    assert rules.parse_date("2033-02-28", dt.date(2028, 2, 29)) == dt.date(2033, 2, 28)


# One-word answers typed in chat: what counts, and lookalikes that must not.
REPLY_TABLE = [
    ("收到", "ack"),
    ("已收到", "ack"),
    ("收", "ack"),
    ("好的收到", "ack"),
    ("好的，收到~", "ack"),
    ("已阅", "ack"),
    ("明白", "ack"),
    ("明白了", "ack"),
    ("1", "ack"),
    ("１", "ack"),  # full width
    ("👍", "ack"),
    ("👍👍", "ack"),
    ("收到！", "ack"),
    ("收到！！！", "ack"),
    ("收到~", "ack"),
    ("收到～", "ack"),
    ("收到了", "ack"),
    ("收到啦", "ack"),
    ("收到👌", "ack"),
    ("收到🙏", "ack"),
    ("  收到  ", "ack"),
    ("收到收到", "ack"),
    ("OK收到", "ack"),
    ("到", "roll"),
    ("到！", "roll"),
    ("签到", "roll"),
    ("已到", "roll"),
    ("我到了", "roll"),
    ("收到通知了吗？", None),
    ("收到了吗", None),
    ("我收到了吗", None),
    ("收到，但是附件打不开", None),
    ("不收到", None),
    ("11", None),
    ("到底是哪天", None),
    ("签到在哪里", None),
    ("好的", None),
    ("", None),
    ("👎", None),
    ("收" * 20, None),
]


@pytest.mark.parametrize(("raw", "kind"), REPLY_TABLE)
def test_typed_answers_are_recognised_and_lookalikes_are_not(raw: str, kind: str | None) -> None:
    assert rules.classify_reply(raw, REPLY_WORDS) == kind


@settings(max_examples=300, deadline=None)
@given(raw=text)
def test_classifying_any_text_never_fails(raw: str) -> None:
    assert rules.classify_reply(raw, REPLY_WORDS) in (None, "ack", "roll")
