"""Business calendars: windows, lunch breaks, holidays, swapped workdays, DST, cum/at_cum."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windtui.domain.calendar import BusinessCalendar
from windtui.domain.policy import load_policy_file
from windtui.errors import WindtuiError

H = 3600
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
POLICY = load_policy_file()


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)


@pytest.fixture(scope="module")
def cn() -> BusinessCalendar:
    return POLICY.calendar("cn-business", "Europe/London")  # its own timezone wins


@pytest.fixture(scope="module")
def de() -> BusinessCalendar:
    return POLICY.calendar("de-business", "Asia/Shanghai")


def berlin_all_day() -> BusinessCalendar:
    return BusinessCalendar("all-day", "Europe/Berlin", week={d: [(0, 86_400)] for d in range(7)})


def test_shipped_calendar_uses_its_own_timezone(cn: BusinessCalendar) -> None:
    assert cn.tz == "Asia/Shanghai"


def test_always_open_is_identity() -> None:
    cal = POLICY.calendar("24x7", "Asia/Shanghai")
    t = local(SHANGHAI, 2026, 2, 17, 3, 0)  # a holiday night: still open
    assert cal.cum(t.timestamp()) == t.timestamp()
    assert cal.at_cum(12345.5) == 12345.5
    assert cal.is_open(t)
    assert cal.add(t, 48 * H) == t + timedelta(hours=48)


def test_lunch_break_and_evening_are_closed(cn: BusinessCalendar) -> None:
    # Tue 2026-03-10: 08:30–12:00 and 13:30–17:30 Beijing time.
    assert not cn.is_open(local(SHANGHAI, 2026, 3, 10, 8, 29))
    assert cn.is_open(local(SHANGHAI, 2026, 3, 10, 8, 30))
    assert not cn.is_open(local(SHANGHAI, 2026, 3, 10, 12, 30))
    assert cn.is_open(local(SHANGHAI, 2026, 3, 10, 17, 29))
    assert not cn.is_open(local(SHANGHAI, 2026, 3, 10, 17, 30))
    day = cn.business_seconds(local(SHANGHAI, 2026, 3, 10, 0), local(SHANGHAI, 2026, 3, 11, 0))
    assert day == 7.5 * H
    # one hour from 11:30 spans the lunch break
    assert cn.add(local(SHANGHAI, 2026, 3, 10, 11, 30), H) == local(SHANGHAI, 2026, 3, 10, 14, 0)


def test_weekend_is_closed_and_friday_rolls_to_monday(cn: BusinessCalendar) -> None:
    friday_17 = local(SHANGHAI, 2026, 3, 13, 17, 0)
    assert cn.add(friday_17, H) == local(SHANGHAI, 2026, 3, 16, 9, 0)
    weekend = (local(SHANGHAI, 2026, 3, 14, 0), local(SHANGHAI, 2026, 3, 16, 0))
    assert cn.business_seconds(*weekend) == 0


def test_target_used_up_at_closing_is_due_at_closing(cn: BusinessCalendar) -> None:
    start = local(SHANGHAI, 2026, 3, 13, 16, 30)
    assert cn.add(start, H) == local(SHANGHAI, 2026, 3, 13, 17, 30)


def test_chinese_holidays_and_swapped_workdays(cn: BusinessCalendar) -> None:
    assert cn.windows_on(date(2026, 2, 16)) == ()  # Spring Festival (a Monday)
    assert cn.windows_on(date(2026, 10, 5)) == ()  # National Day week
    assert cn.windows_on(date(2026, 2, 14)) != ()  # Saturday worked in exchange
    assert cn.windows_on(date(2026, 9, 20)) != ()  # Sunday worked in exchange
    assert cn.windows_on(date(2026, 2, 21)) == ()  # an ordinary Saturday inside the holiday
    # Fri 13 Feb 17:00 + 1 h: Saturday 14 Feb is a workday, so 09:00 that Saturday.
    assert cn.add(local(SHANGHAI, 2026, 2, 13, 17, 0), H) == local(SHANGHAI, 2026, 2, 14, 9, 0)
    # Sat 14 Feb 17:00 + 1 h: holiday 15–23 Feb, back on Tue 24 Feb.
    assert cn.add(local(SHANGHAI, 2026, 2, 14, 17, 0), H) == local(SHANGHAI, 2026, 2, 24, 9, 0)


def test_german_holidays(de: BusinessCalendar) -> None:
    # Thu 2 Apr 2026 16:00 + 2 h: Good Friday, weekend and Easter Monday closed -> Tue 7 Apr 09:00.
    start = local(BERLIN, 2026, 4, 2, 16, 0)
    assert de.add(start, 2 * H) == local(BERLIN, 2026, 4, 7, 9, 0)


def test_dst_spring_forward_day_is_23_hours() -> None:
    cal = berlin_all_day()
    day = cal.business_seconds(local(BERLIN, 2026, 3, 29, 0), local(BERLIN, 2026, 3, 30, 0))
    assert day == 23 * H


def test_dst_fall_back_day_is_25_hours() -> None:
    cal = berlin_all_day()
    day = cal.business_seconds(local(BERLIN, 2026, 10, 25, 0), local(BERLIN, 2026, 10, 26, 0))
    assert day == 25 * H


def test_business_hours_keep_local_wall_time_across_dst(de: BusinessCalendar) -> None:
    # Opening is 08:00 local on both sides of each transition (07:00 UTC in winter, 06:00 summer).
    assert de.is_open(datetime(2026, 3, 27, 7, 0, tzinfo=UTC))
    assert not de.is_open(datetime(2026, 3, 30, 5, 59, tzinfo=UTC))
    assert de.is_open(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert de.is_open(datetime(2026, 10, 23, 6, 0, tzinfo=UTC))
    assert not de.is_open(datetime(2026, 10, 26, 6, 30, tzinfo=UTC))
    assert de.is_open(datetime(2026, 10, 26, 7, 0, tzinfo=UTC))
    # A 9-hour day on both sides of the spring transition.
    fri = de.business_seconds(local(BERLIN, 2026, 3, 27, 0), local(BERLIN, 2026, 3, 28, 0))
    mon = de.business_seconds(local(BERLIN, 2026, 3, 30, 0), local(BERLIN, 2026, 3, 31, 0))
    assert fri == mon == 9 * H


def test_window_inside_dst_gap_and_overlap() -> None:
    night = BusinessCalendar(
        "night", "Europe/Berlin", week={d: [(3600, 4 * 3600)] for d in range(7)}
    )
    spring = night.business_seconds(local(BERLIN, 2026, 3, 29, 0), local(BERLIN, 2026, 3, 30, 0))
    autumn = night.business_seconds(local(BERLIN, 2026, 10, 25, 0), local(BERLIN, 2026, 10, 26, 0))
    assert spring == 2 * H  # 01:00–04:00 with 02:00–03:00 skipped
    assert autumn == 4 * H  # 02:00–03:00 happens twice


def test_table_grows_lazily_across_years_without_moving_cum(cn: BusinessCalendar) -> None:
    t = local(SHANGHAI, 2026, 6, 1, 10).timestamp()
    before = cn.cum(t)
    far = local(SHANGHAI, 2031, 6, 2, 10).timestamp()
    early = local(SHANGHAI, 2019, 6, 3, 10).timestamp()
    assert cn.cum(far) > before > cn.cum(early)
    assert cn.cum(t) == before
    assert cn.at_cum(cn.cum(far)) == far


def test_calendar_without_hours_is_refused() -> None:
    with pytest.raises(WindtuiError, match="no business hours"):
        BusinessCalendar("empty", "UTC", week={})


instants = st.integers(
    min_value=int(datetime(2025, 6, 1, tzinfo=UTC).timestamp()),
    max_value=int(datetime(2027, 6, 1, tzinfo=UTC).timestamp()),
)
calendars = st.sampled_from(["cn-business", "de-business", "xinjiang-day", "24x7"])


@settings(max_examples=300, deadline=None)
@given(name=calendars, a=instants, b=instants)
def test_cum_is_monotone(name: str, a: int, b: int) -> None:
    cal = POLICY.calendar(name, "Asia/Shanghai")
    lo, hi = sorted((a, b))
    assert cal.cum(lo) <= cal.cum(hi)
    assert cal.cum(hi) - cal.cum(lo) <= hi - lo  # never more business than wall time


@settings(max_examples=300, deadline=None)
@given(name=calendars, t=instants)
def test_at_cum_inverts_cum(name: str, t: int) -> None:
    cal = POLICY.calendar(name, "Asia/Shanghai")
    back = cal.at_cum(cal.cum(t))
    assert back <= t
    assert cal.cum(back) == cal.cum(t)
    if cal.is_open(datetime.fromtimestamp(t, UTC)):
        assert back == t


@settings(max_examples=200, deadline=None)
@given(name=calendars, t=instants, seconds=st.integers(min_value=1, max_value=30 * 86_400))
def test_add_then_measure_gives_back_the_duration(name: str, t: int, seconds: int) -> None:
    cal = POLICY.calendar(name, "Asia/Shanghai")
    start = datetime.fromtimestamp(t, UTC)
    due = cal.add(start, seconds)
    assert due >= start
    assert cal.business_seconds(start, due) == pytest.approx(seconds)
