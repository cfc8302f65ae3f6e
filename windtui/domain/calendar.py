"""Business calendars: when SLA clocks are allowed to run.

A calendar is either always open (24×7) or a weekly pattern of local business windows (several per
day allowed, e.g. a lunch break), minus holidays, plus extra working days (China's swapped weekend
workdays), in one IANA timezone.

Internally a weekly calendar is a sorted table of business intervals in UTC epoch seconds with the
cumulative business seconds before each interval. ``cum(t)`` (business seconds from a fixed origin
to ``t``) and its inverse ``at_cum(c)`` are then two ``bisect`` calls, whatever the target length.
The table covers whole local years and grows lazily, in either direction, when an instant outside
it is asked for; existing cumulative values never change when it grows, so callers may cache them.
For a 24×7 calendar ``cum`` is the identity.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from windtui.errors import WindtuiError
from windtui.i18n import _

DAY_SECONDS = 86_400
# A table never grows beyond this many years around its first year: a request that far away is a
# bug (e.g. a duration in milliseconds read as seconds), not a service ticket.
_MAX_YEAR_SPAN = 60
# The first year built when ``at_cum`` is asked before any ``cum``: any year works, because cum
# values are only meaningful relative to each other.
_SEED_YEAR = 2026

Window = tuple[int, int]  # local seconds since midnight: [start, end), end may be 86400 (24:00)


@dataclass(frozen=True, slots=True)
class _Table:
    """An immutable snapshot of the interval table (swapped atomically when it grows)."""

    starts: list[float]
    ends: list[float]
    cum_starts: list[float]  # business seconds from the origin to starts[i]
    cum_ends: list[float]  # business seconds from the origin to ends[i]
    first_year: int
    last_year: int


class BusinessCalendar:
    """Business time in one timezone; see the module docstring for the representation."""

    def __init__(
        self,
        name: str,
        tz: str,
        *,
        always_open: bool = False,
        week: Mapping[int, Iterable[Window]] | None = None,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        workday_windows: Iterable[Window] | None = None,
    ) -> None:
        """Build a calendar.

        ``week`` maps ``date.weekday()`` (0 = Monday) to local windows. ``holidays`` are closed all
        day; ``workdays`` are otherwise closed days that work ``workday_windows`` (default: the
        Monday windows, else those of the first weekday that has any).
        """
        self.name = name
        self.tz = tz
        self.always_open = always_open
        self._zone = ZoneInfo(tz)
        self._week: dict[int, tuple[Window, ...]] = {
            day: _normalise_windows((week or {}).get(day, ())) for day in range(7)
        }
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        if workday_windows is None:
            first_open = next((w for d in range(7) if (w := self._week[d])), ())
            self._workday_windows = self._week[0] or first_open
        else:
            self._workday_windows = _normalise_windows(workday_windows)
        self._lock = threading.Lock()
        self._table: _Table | None = None
        if not always_open and not any(self._week.values()) and not self._workdays:
            raise WindtuiError(_('calendar "{name}": no business hours').format(name=name))

    def __repr__(self) -> str:
        kind = "24x7" if self.always_open else "weekly"
        return f"BusinessCalendar({self.name!r}, {self.tz!r}, {kind})"

    # -- the two primitives ------------------------------------------------------------------

    def cum(self, t: float) -> float:
        """Business seconds from the calendar's origin to epoch second ``t`` (monotone)."""
        if self.always_open:
            return t
        table = self._covering_instant(t)
        i = bisect_right(table.starts, t) - 1
        if i < 0:  # before the first interval of the table's first year (cannot happen: covered)
            return table.cum_starts[0]
        if t < table.ends[i]:
            return table.cum_starts[i] + (t - table.starts[i])
        return table.cum_ends[i]

    def at_cum(self, c: float) -> float:
        """The earliest epoch second ``t`` with ``cum(t) == c``.

        At a window's end this is the closing instant itself (a target used up exactly at 17:30
        is due at 17:30, not at the next opening).
        """
        if self.always_open:
            return c
        table = self._covering_cum(c)
        i = bisect_left(table.cum_ends, c)
        return table.starts[i] + max(0.0, c - table.cum_starts[i])

    # -- conveniences built on them ------------------------------------------------------------

    def business_seconds(self, a: datetime, b: datetime) -> float:
        """Business seconds between ``a`` and ``b`` (negative when ``b`` is before ``a``)."""
        return self.cum(b.timestamp()) - self.cum(a.timestamp())

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of business time after ``start`` (UTC-aware)."""
        return datetime.fromtimestamp(self.at_cum(self.cum(start.timestamp()) + seconds), UTC)

    def is_open(self, t: datetime) -> bool:
        """True when ``t`` falls inside a business window."""
        if self.always_open:
            return True
        ts = t.timestamp()
        table = self._covering_instant(ts)
        i = bisect_right(table.starts, ts) - 1
        return i >= 0 and ts < table.ends[i]

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The local business windows of one calendar day (after holidays and swapped workdays)."""
        if self.always_open:
            return ((0, DAY_SECONDS),)
        if day in self._holidays:
            return ()
        if day in self._workdays:
            return self._workday_windows
        return self._week[day.weekday()]

    # -- the lazily grown table ---------------------------------------------------------------

    def _year_of(self, t: float) -> int:
        # Local year of the instant; clamp to datetime's range so absurd input still errors cleanly.
        try:
            return datetime.fromtimestamp(t, self._zone).year
        except (OverflowError, OSError, ValueError):
            return 1 if t < 0 else 9999

    def _covering_instant(self, t: float) -> _Table:
        table = self._table
        if table is not None and table.starts and table.starts[0] <= t < table.ends[-1]:
            return table
        year = self._year_of(t)
        # One year of margin on each side so an instant on New Year's Eve night has a next window.
        return self._grow(year - 1, year + 1)

    def _covering_cum(self, c: float) -> _Table:
        table = self._table or self._grow(_SEED_YEAR, _SEED_YEAR)
        while c < table.cum_starts[0]:
            table = self._grow(table.first_year - 1, table.last_year)
        if c == table.cum_starts[0]:
            # The earliest instant for the value at the first opening is the previous closing,
            # which lives in the year before.
            table = self._grow(table.first_year - 1, table.last_year)
        while c > table.cum_ends[-1]:
            table = self._grow(table.first_year, table.last_year + 1)
        return table

    def _grow(self, first: int, last: int) -> _Table:
        """Extend the table to cover local years ``first..last`` (keeping existing cum values)."""
        with self._lock:
            table = self._table
            if table is not None:
                first, last = min(first, table.first_year), max(last, table.last_year)
            if last - first > _MAX_YEAR_SPAN or first < 1900 or last > 2200:
                raise WindtuiError(
                    _('calendar "{name}": no business time near year {year}').format(
                        name=self.name, year=first if table and first < table.first_year else last
                    )
                )
            if table is not None and table.first_year == first and table.last_year == last:
                return table
            spans = _merge_touching(self._intervals(first, last))
            if not spans:
                raise WindtuiError(_('calendar "{name}": no business hours').format(name=self.name))
            starts = [s for s, _e in spans]
            ends = [e for _s, e in spans]
            cum_starts: list[float] = []
            cum_ends: list[float] = []
            running = 0.0
            for s, e in spans:
                cum_starts.append(running)
                running += e - s
                cum_ends.append(running)
            # Keep the origin where it was: the old table's first opening keeps its old cum value
            # (measured in the new table, since touching intervals may have merged across it).
            shift = 0.0
            if table is not None:
                old_first = table.starts[0]
                j = bisect_right(starts, old_first) - 1
                shift = table.cum_starts[0] - (cum_starts[j] + (old_first - starts[j]))
            if shift:
                cum_starts = [v + shift for v in cum_starts]
                cum_ends = [v + shift for v in cum_ends]
            self._table = _Table(starts, ends, cum_starts, cum_ends, first, last)
            return self._table

    def _intervals(self, first: int, last: int) -> list[tuple[float, float]]:
        """Every business window of local years ``first..last`` as UTC epoch intervals."""
        spans: list[tuple[float, float]] = []
        day = date(first, 1, 1)
        end = date(last + 1, 1, 1)
        one_day = timedelta(days=1)
        while day < end:
            for w_start, w_end in self.windows_on(day):
                spans.append((self._local(day, w_start), self._local(day, w_end)))
            day += one_day
        return spans

    def _local(self, day: date, seconds: int) -> float:
        """Epoch second of local wall time ``day`` + ``seconds`` (DST-aware via zoneinfo).

        Wall times in a spring-forward gap map forward (02:30 → 03:30 CEST), ambiguous fall-back
        times take their first occurrence (``fold=0``).
        """
        naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
        return naive.replace(tzinfo=self._zone).timestamp()


def _normalise_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sort and merge overlapping windows of one day; reject empty or out-of-day windows."""
    ordered = sorted((int(s), int(e)) for s, e in windows)
    merged: list[list[int]] = []
    for s, e in ordered:
        if not 0 <= s < e <= DAY_SECONDS:
            raise ValueError(f"bad business window {s}-{e}")
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return tuple((s, e) for s, e in merged)


def _merge_touching(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge intervals that touch or overlap (midnight-to-midnight days; DST edges)."""
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if e <= s:  # a window swallowed by a DST gap
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
