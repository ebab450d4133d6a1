"""Quiet hours as plain rules: is it quiet now, and when does the window end."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler import quiet
from scheduler.quiet import QuietHours

SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8 all year: no DST
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6 all year
NIGHT = QuietHours(dt.time(21, 0), dt.time(8, 0))
LUNCH = QuietHours(dt.time(12, 0), dt.time(13, 30))


def local(text: str, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    """An aware UTC instant from local 'YYYY-MM-DD HH:MM' in `zone`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-12-07 20:59", False),
        ("2026-12-07 21:00", True),  # the start is inside
        ("2026-12-07 23:59", True),
        ("2026-12-08 00:00", True),  # over midnight
        ("2026-12-08 07:59", True),
        ("2026-12-08 08:00", False),  # the end is outside
        ("2026-12-08 12:00", False),
    ],
)
def test_a_window_over_midnight(at: str, expected: bool) -> None:
    assert quiet.is_quiet(NIGHT, local(at), SHANGHAI) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-12-07 11:59", False),
        ("2026-12-07 12:00", True),
        ("2026-12-07 13:29", True),
        ("2026-12-07 13:30", False),
        ("2026-12-07 23:00", False),
        ("2026-12-07 03:00", False),
    ],
)
def test_a_window_within_one_day(at: str, expected: bool) -> None:
    assert quiet.is_quiet(LUNCH, local(at), SHANGHAI) is expected


def test_the_window_ends_the_next_morning_when_it_started_last_night() -> None:
    assert quiet.quiet_until(NIGHT, local("2026-12-07 22:00"), SHANGHAI) == local(
        "2026-12-08 08:00"
    )
    # After midnight it ends the same (local) morning.
    assert quiet.quiet_until(NIGHT, local("2026-12-08 02:30"), SHANGHAI) == local(
        "2026-12-08 08:00"
    )
    # Over a month and a year boundary.
    assert quiet.quiet_until(NIGHT, local("2026-12-31 23:30"), SHANGHAI) == local(
        "2027-01-01 08:00"
    )
    assert quiet.quiet_until(LUNCH, local("2026-12-07 12:45"), SHANGHAI) == local(
        "2026-12-07 13:30"
    )


def test_outside_the_window_or_without_one_nothing_is_held() -> None:
    assert quiet.quiet_until(NIGHT, local("2026-12-07 10:00"), SHANGHAI) is None
    assert quiet.quiet_until(None, local("2026-12-07 23:00"), SHANGHAI) is None
    assert not quiet.is_quiet(None, local("2026-12-07 23:00"), SHANGHAI)


def test_the_window_is_local_to_the_configured_zone() -> None:
    # 22:30 in Shanghai is 20:30 in Urumqi: quiet in one, not yet in the other.
    now = local("2026-12-07 22:30")
    assert quiet.is_quiet(NIGHT, now, SHANGHAI)
    assert not quiet.is_quiet(NIGHT, now, URUMQI)
    assert quiet.quiet_until(NIGHT, local("2026-12-07 23:00", URUMQI), URUMQI) == local(
        "2026-12-08 08:00", URUMQI
    )
    utc = ZoneInfo("UTC")
    assert quiet.quiet_until(NIGHT, local("2026-12-07 21:00", utc), utc) == dt.datetime(
        2026, 12, 8, 8, 0, tzinfo=dt.UTC
    )


def test_the_end_is_never_in_the_past_across_a_dst_change() -> None:
    # New York springs forward at 02:00 on 2026-03-08: 02:30 that day does not exist.
    zone = ZoneInfo("America/New_York")
    window = QuietHours(dt.time(23, 0), dt.time(2, 30))
    now = local("2026-03-08 01:45", zone)
    until = quiet.quiet_until(window, now, zone)
    assert until is not None and until > now and until - now <= dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("21:00-08:00", NIGHT),
        ("12:00-13:30", LUNCH),
        ("8:00 - 9:15", QuietHours(dt.time(8, 0), dt.time(9, 15))),
        ("off", None),
        ("Off", None),
    ],
)
def test_parse(raw: str, expected: QuietHours | None) -> None:
    assert quiet.parse(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "21:00", "21:00-21:00", "24:00-08:00", "21:00-08:5", "21-8", "夜间", "21:00–08:00"]
)
def test_parse_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        quiet.parse(raw)


def test_a_window_prints_as_it_is_written() -> None:
    assert str(NIGHT) == "21:00-08:00" and str(quiet.DEFAULT) == "21:00-08:00"
    assert quiet.parse(str(LUNCH)) == LUNCH
