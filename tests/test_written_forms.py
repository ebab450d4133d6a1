"""Dates, times and options as office staff write them (issue 23): every form the README lists
parses to the value meant, and a written value always reads back as itself."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db import activities as activities_db
from db import rules
from db.errors import Refusal

ZONE = ZoneInfo("Asia/Shanghai")
SATURDAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2026-12-07", "2026-12-07"),
        ("2026/12/07", "2026-12-07"),
        ("2026.12.7", "2026-12-07"),
        ("2026年12月7日", "2026-12-07"),
        ("２０２６年１２月７日", "2026-12-07"),
        ("12-07", "2026-12-07"),
        ("12/7", "2026-12-07"),
        ("12月7日", "2026-12-07"),
        ("12月7号", "2026-12-07"),
        ("1月5日", "2027-01-05"),  # in December, January is next year's
        ("11月20日", "2026-11-20"),  # two weeks ago stays this year
        ("今天", "2026-12-05"),
        ("明天", "2026-12-06"),
        ("后天", "2026-12-07"),
        ("大后天", "2026-12-08"),
        ("周六", "2026-12-05"),  # today is Saturday
        ("周五", "2026-12-11"),
        ("星期日", "2026-12-06"),
        ("礼拜天", "2026-12-06"),
        ("下周三", "2026-12-09"),
        ("下个周一", "2026-12-07"),
        ("本周一", "2026-11-30"),
        ("这周五", "2026-12-04"),
        ("today", "2026-12-05"),
        ("Tomorrow", "2026-12-06"),
        ("fri", "2026-12-11"),
        ("Monday", "2026-12-07"),
    ],
)
def test_dates_as_people_write_them(written: str, meant: str) -> None:
    assert rules.parse_date(written, SATURDAY) == dt.date.fromisoformat(meant)


@pytest.mark.parametrize(
    "written", ["2026-02-30", "2月30日", "13月1日", "7", "周八", "下下周一", "fridays", "明天见"]
)
def test_what_is_not_a_date_is_refused_naming_the_forms(written: str) -> None:
    with pytest.raises(Refusal) as refused:
        rules.parse_date(written, SATURDAY)
    assert refused.value.key == "date_invalid"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("15:00", "15:00"),
        ("15：00", "15:00"),
        ("9:05", "09:05"),
        ("15点", "15:00"),
        ("15点半", "15:30"),
        ("15点30分", "15:30"),
        ("15点05", "15:05"),
        ("下午3点", "15:00"),
        ("下午3:30", "15:30"),
        ("下午3点半", "15:30"),
        ("下午15点", "15:00"),
        ("晚上8点", "20:00"),
        ("上午9点", "09:00"),
        ("中午12点", "12:00"),
        ("中午1点", "13:00"),
        ("三点", "03:00"),
        ("两点半", "02:30"),
        ("十一点", "11:00"),
        ("下午两点", "14:00"),
        ("3pm", "15:00"),
        ("3:30pm", "15:30"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
    ],
)
def test_times_as_people_write_them(written: str, meant: str) -> None:
    assert rules.parse_time(written) == dt.time.fromisoformat(meant)


@pytest.mark.parametrize(
    "written", ["25:00", "15", "15:7", "上午13点", "下午3pm", "13pm", "3点61分", "noon", "十五六点"]
)
def test_what_is_not_a_time_is_refused_naming_the_forms(written: str) -> None:
    with pytest.raises(Refusal) as refused:
        rules.parse_time(written)
    assert refused.value.key == "time_invalid"


def test_a_date_and_a_time_together_with_or_without_a_space() -> None:
    def local(written: str) -> str:
        return rules.parse_local_datetime(written, ZONE, SATURDAY).astimezone(ZONE).isoformat()

    assert local("2026-12-07T18:00") == "2026-12-07T18:00:00+08:00"
    assert local("2026-12-07 18:00") == "2026-12-07T18:00:00+08:00"
    assert local("12月7日18点") == "2026-12-07T18:00:00+08:00"
    assert local("明天下午6点") == "2026-12-06T18:00:00+08:00"
    assert local("Thursday 9:00") == "2026-12-10T09:00:00+08:00"
    with pytest.raises(Refusal) as refused:
        local("明天")
    assert refused.value.key == "datetime_invalid"


days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2031, 12, 4))


@settings(max_examples=300, deadline=None)
@given(day=days)
def test_every_dated_form_reads_back_as_the_same_day(day: dt.date) -> None:
    y, m, d = day.year, day.month, day.day
    for written in (f"{y}-{m:02}-{d:02}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f"{y}.{m}.{d}"):
        assert rules.parse_date(written, SATURDAY) == day, written


@settings(max_examples=300, deadline=None)
@given(today=st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_a_year_less_date_is_the_nearest_one(today: dt.date) -> None:
    """Within half a year either side of today, the month and day alone mean that date."""
    for offset in (-180, -1, 0, 1, 7, 180):
        day = today + dt.timedelta(days=offset)
        if (day.month, day.day) == (2, 29):
            continue
        assert rules.parse_date(f"{day.month}月{day.day}日", today) == day
        assert rules.parse_date(f"{day.month}-{day.day}", today) == day


@settings(max_examples=200, deadline=None)
@given(today=days, weekday=st.integers(0, 6))
def test_a_weekday_is_within_the_coming_week(today: dt.date, weekday: int) -> None:
    day = rules.parse_date("周" + "一二三四五六日"[weekday], today)
    assert day.weekday() == weekday and 0 <= (day - today).days <= 6
    later = rules.parse_date("下周" + "一二三四五六日"[weekday], today)
    assert later.weekday() == weekday and 1 <= (later - today).days <= 13
    assert later.isocalendar()[:2] == (today + dt.timedelta(days=7)).isocalendar()[:2]


@settings(max_examples=300, deadline=None)
@given(hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_every_time_form_reads_back(hour: int, minute: int) -> None:
    at = dt.time(hour, minute)
    assert rules.parse_time(f"{hour}:{minute:02}") == at
    assert rules.parse_time(f"{hour}：{minute:02}") == at
    assert rules.parse_time(f"{hour}点{minute}分") == at
    if 1 <= hour <= 11:
        assert rules.parse_time(f"下午{hour}点{minute}分") == dt.time(hour + 12, minute)
        pm = f"{hour}:{minute:02}pm"
        assert rules.parse_time(pm) == dt.time(hour + 12, minute)


def written(line: str) -> activities_db.ActivitySpec:
    """`/newevent`'s words, as the handler hands them over."""
    return activities_db.parse_words(line.split(), ZONE, SATURDAY)


def test_option_keys_in_chinese_and_english_and_full_width() -> None:
    spec = written(
        "volunteer 12月7日 下午3点 敬老院 地点＝五楼 会议室 结束=17点 名额=5 截止=明天18点 时长=2"
    )
    assert spec.title == "敬老院"
    assert spec.place == "五楼 会议室"
    assert spec.capacity == 5 and spec.hours == 2
    assert spec.ends_at.astimezone(ZONE).isoformat() == "2026-12-07T17:00:00+08:00"
    assert spec.signup_deadline is not None
    assert spec.signup_deadline.astimezone(ZONE).isoformat() == "2026-12-06T18:00:00+08:00"
    same = written("volunteer 2026-12-07 15:00 敬老院 place=五楼 会议室 end=17:00 cap=5")
    assert (same.place, same.ends_at, same.capacity) == (spec.place, spec.ends_at, 5)
    series = written("学习 周一 9点 周学习 重复=每周 次数=4 请假=审批 二维码=开")
    assert (series.repeat, series.leave_mode, series.qr) == ("weekly", "approve", True)


def test_an_unknown_option_is_refused_with_the_keys_in_both_spellings() -> None:
    with pytest.raises(Refusal) as refused:
        written("学习 明天 15点 专题学习 房间=五楼")
    assert refused.value.key == "option_unknown"
    assert refused.value.params["option"] == "房间"
    assert "地点/place" in str(refused.value.params["known"])
    with pytest.raises(Refusal) as refused:
        written("学习 明天 15点 专题学习 请假=随便")
    assert refused.value.key == "option_value_invalid"
    assert "审批/approve" in str(refused.value.params["values"])
