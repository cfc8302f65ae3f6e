"""The SLA policy: targets, calendars, pauses and overrides, read from a TOML file.

The file format is documented in ``data/sla-policy.toml`` itself. Each of the seven clocks has its
own calendar: ``calendar`` is either one name for every target or a table per target (``default``
for the targets not named), so the round-the-clock desk's clocks (acknowledge, feedback) can count
on ``24x7`` while the site clocks follow the farm's working day. Reading is strict: an unknown
key, target, hold reason, calendar or an unreadable value raises :class:`WindtuiError` with one
line naming the file, the section and the key, e.g.
``policy: [defaults.targets] onsite: cannot read duration "48x"``.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from windtui.domain.calendar import DAY_SECONDS, BusinessCalendar, Window
from windtui.domain.model import Category, HoldReason, Priority, Target
from windtui.domain.scorecard import Points
from windtui.errors import NotFound, WindtuiError
from windtui.i18n import _
from windtui.paths import default_policy_path

DEFAULT_POLICY_PATH = default_policy_path()
ALWAYS_OPEN = "24x7"  # built in: every policy has it, even one without a [calendars] section
FARM_CALENDAR = "farm"  # ``calendar = "farm"`` means "the farm's own calendar"
DEFAULT_PAUSED = frozenset({Target.ONSITE, Target.REPAIR})  # used when [defaults.pauses] is absent

_UNITS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([dhms])\s*")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``"1h"``, ``"30m"``, ``"2.5h"``, ``"3d"``, ``"1h30m"``."""
    value = str(text)
    pos, total, parts = 0, 0.0, 0
    while pos < len(value):
        match = _DURATION.match(value, pos)
        if not match:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos, parts = match.end(), parts + 1
    if pos != len(value) or parts == 0 or total <= 0:
        raise WindtuiError(_('cannot read duration "{value}"').format(value=text))
    return total


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy that applies to one ticket (after defaults and matching overrides)."""

    targets: dict[Target, float]  # seconds
    calendars: dict[Target, str | None]  # per target; None => the farm's calendar
    at_risk_percent: float  # e.g. 75.0
    pauses: dict[HoldReason, frozenset[Target]]  # which clocks each hold reason pauses

    @property
    def calendar(self) -> str | None:
        """The calendar of the site clocks (on-site's; None => the farm's).

        The one calendar a single-column view such as ``policy show`` lists for a class of
        tickets; the desk clocks may differ (see :attr:`calendars`).
        """
        return self.calendars[Target.ONSITE]

    def paused_by(self, target: Target) -> frozenset[HoldReason]:
        """The hold reasons that pause ``target``."""
        return frozenset(reason for reason, targets in self.pauses.items() if target in targets)


@dataclass(frozen=True)
class _CalendarSpec:
    name: str
    tz: str | None  # None => the farm's timezone
    always_open: bool = False
    week: dict[int, tuple[Window, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_windows: tuple[Window, ...] | None = None


_UNSET: Any = object()


_FARM_EVERYWHERE: dict[Target, str | None] = dict.fromkeys(Target)  # below the defaults


@dataclass(frozen=True)
class _Layer:
    """Defaults or one override: only what it sets."""

    targets: dict[Target, float] = field(default_factory=dict)
    # The calendar of every target the layer does not name in ``calendars``: a calendar name,
    # None (the farm's) or _UNSET (keep what the layers below say).
    calendar: str | None = _UNSET
    calendars: dict[Target, str | None] = field(default_factory=dict)  # per named target
    at_risk_percent: float | None = None
    pause_default: frozenset[Target] | None = None  # for every reason (then named reasons)
    pauses: dict[HoldReason, frozenset[Target]] = field(default_factory=dict)
    contracts: frozenset[str] | None = None
    priorities: frozenset[Priority] | None = None
    categories: frozenset[Category] | None = None

    def matches(self, contract: str | None, priority: Priority, category: Category) -> bool:
        return (
            (self.contracts is None or contract in self.contracts)
            and (self.priorities is None or priority in self.priorities)
            and (self.categories is None or category in self.categories)
        )

    def calendars_over(self, below: dict[Target, str | None]) -> dict[Target, str | None]:
        """Every target's calendar with this layer on top of ``below``.

        A layer that sets ``calendar`` to one name (or a table's ``default``) moves every target
        it does not name; one that only names targets moves just those.
        """
        if self.calendar is _UNSET:
            return {**below, **self.calendars}  # a new dict: callers own theirs
        return {target: self.calendars.get(target, self.calendar) for target in Target}


class PolicySet:
    """A loaded policy file. ``digest`` changes whenever the text does (=> recalculate all)."""

    def __init__(
        self,
        *,
        digest: str,
        source: str,
        defaults: _Layer,
        overrides: tuple[_Layer, ...],
        calendars: dict[str, _CalendarSpec],
        scorecard: Points | None = None,
    ) -> None:
        self.digest = digest
        self.scorecard = scorecard or Points()  # [scorecard]: points of the scorecards
        self.source = source
        self._defaults = defaults
        self._overrides = overrides
        self._calendars = calendars
        self._resolved: dict[tuple[str | None, Priority, Category], ResolvedPolicy] = {}
        self._built: dict[tuple[str, str], BusinessCalendar] = {}

    def __repr__(self) -> str:
        return f"PolicySet({self.source!r}, digest={self.digest[:12]})"

    @property
    def calendar_names(self) -> tuple[str, ...]:
        """Every calendar the policy defines (``24x7`` always included)."""
        return tuple(dict.fromkeys((ALWAYS_OPEN, *self._calendars)))

    def resolve(
        self, *, contract: str | None, priority: Priority, category: Category
    ) -> ResolvedPolicy:
        """Defaults, then every matching ``[[override]]`` in file order (later matches win)."""
        key = (contract, priority, category)
        found = self._resolved.get(key)
        if found is not None:
            return found
        base = self._defaults
        targets = dict(base.targets)
        calendars = base.calendars_over(_FARM_EVERYWHERE)
        at_risk = base.at_risk_percent if base.at_risk_percent is not None else 75.0
        pause_default = base.pause_default if base.pause_default is not None else DEFAULT_PAUSED
        pauses = {reason: base.pauses.get(reason, pause_default) for reason in HoldReason}
        for layer in self._overrides:
            if not layer.matches(contract, priority, category):
                continue
            targets.update(layer.targets)
            calendars = layer.calendars_over(calendars)
            if layer.at_risk_percent is not None:
                at_risk = layer.at_risk_percent
            if layer.pause_default is not None:
                pauses = dict.fromkeys(HoldReason, layer.pause_default)
            pauses.update(layer.pauses)
        found = ResolvedPolicy(targets, calendars, at_risk, pauses)
        self._resolved[key] = found
        return found

    def calendar(self, name: str, farm_tz: str) -> BusinessCalendar:
        """The named calendar in its own timezone, or in ``farm_tz`` when it names none (cached)."""
        name = name or ALWAYS_OPEN
        spec = self._calendars.get(name)
        if spec is None:
            if name != ALWAYS_OPEN:
                raise NotFound(
                    _('{source}: unknown calendar "{value}"').format(source=self.source, value=name)
                )
            spec = _CalendarSpec(ALWAYS_OPEN, "UTC", always_open=True)
        tz = spec.tz or farm_tz
        built = self._built.get((name, tz))
        if built is None:
            _check_timezone(tz, f"{self.source}: [calendars.{name}] timezone")
            built = BusinessCalendar(
                name,
                tz,
                always_open=spec.always_open,
                week=spec.week,
                holidays=spec.holidays,
                workdays=spec.workdays,
                workday_windows=spec.workday_windows,
            )
            self._built[(name, tz)] = built
        return built


def load_policy(text: str, source: str = "policy") -> PolicySet:
    """Read a policy file's text; ``source`` (usually the path) prefixes every error message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WindtuiError(
            _("{source}: not valid TOML: {detail}").format(source=source, detail=error)
        ) from None
    reader = _Reader(source)
    reader.keys(data, "", {"defaults", "calendars", "override", "scorecard"})
    calendars = {
        name: reader.calendar(name, spec)
        for name, spec in reader.table(data.get("calendars", {}), "calendars").items()
    }
    known = set(calendars) | {ALWAYS_OPEN}
    defaults = reader.layer(data.get("defaults", {}), "defaults", known, is_default=True)
    missing = [t for t in Target if t not in defaults.targets]
    if missing:
        reader.fail("defaults.targets", missing[0].value, _("missing"))
    overrides_raw = data.get("override", [])
    if not isinstance(overrides_raw, list):
        reader.fail("", "override", _("expected a list of tables ([[override]])"))
    overrides = tuple(
        reader.layer(raw, f"override.{i + 1}", known, is_default=False)
        for i, raw in enumerate(overrides_raw)
    )
    scorecard = reader.scorecard(data.get("scorecard", {}))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PolicySet(
        digest=digest,
        source=source,
        defaults=defaults,
        overrides=overrides,
        calendars=calendars,
        scorecard=scorecard,
    )


def load_policy_file(path: str | Path = DEFAULT_POLICY_PATH) -> PolicySet:
    """Read a policy file from disk (default: the shipped ``data/sla-policy.toml``)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise NotFound(
            _("{source}: cannot read file: {detail}").format(source=path, detail=error.strerror)
        ) from None
    return load_policy(text, str(path))


def _check_timezone(tz: str, where: str) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise WindtuiError(
            f"{where}: " + _('unknown timezone "{value}"').format(value=tz)
        ) from None


class _Reader:
    """Strict, typed access to the parsed TOML with one-line errors naming section and key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, section: str, key: str, problem: str) -> None:
        where = f"{self.source}: [{section}] {key}" if section else f"{self.source}: {key}"
        raise WindtuiError(f"{where}: {problem}")

    def keys(self, data: Mapping[str, Any], section: str, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in data:
            if key not in allowed:
                self.fail(section, key, _("unknown key"))

    def table(self, value: Any, section: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("", section, _("expected a table"))
        return value

    def texts(self, value: Any, section: str, key: str) -> list[str]:
        """A string or a list of strings, as a list."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.fail(section, key, _("expected text or a list of text"))
        return items

    def enum(self, enum: type, value: str, section: str, key: str, problem: str) -> Any:
        try:
            return enum(value)
        except ValueError:
            self.fail(section, key, problem.format(value=value))

    def targets(self, value: Any, section: str, key: str) -> frozenset[Target]:
        return frozenset(
            self.enum(Target, v, section, key, _('unknown target "{value}"'))
            for v in self.texts(value, section, key)
        )

    # -- layers (defaults and overrides) ------------------------------------------------------

    def layer(self, raw: Any, section: str, calendars: set[str], *, is_default: bool) -> _Layer:
        raw = self.table(raw, section)
        match_keys = {"contract", "priority", "category"}
        allowed = {"targets", "calendar", "at_risk_percent", "pauses"}
        self.keys(raw, section, allowed if is_default else allowed | match_keys)
        targets: dict[Target, float] = {}
        sub = f"{section}.targets"
        for key, value in self.table(raw.get("targets", {}), sub).items():
            target = self.enum(Target, key, sub, key, _('unknown target "{value}"'))
            try:
                targets[target] = parse_duration(value)
            except WindtuiError as error:
                self.fail(sub, key, str(error))
        calendar, per_target = self.layer_calendars(raw, section, calendars)
        at_risk = None
        if "at_risk_percent" in raw:
            value = raw["at_risk_percent"]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value <= 100
            ):
                self.fail(
                    section,
                    "at_risk_percent",
                    _('expected a number above 0 and at most 100, got "{value}"').format(
                        value=value
                    ),
                )
            at_risk = float(value)
        pause_default, pauses = self.pauses(raw.get("pauses", {}), f"{section}.pauses")
        layer = _Layer(
            targets=targets,
            calendar=calendar,
            calendars=per_target,
            at_risk_percent=at_risk,
            pause_default=pause_default,
            pauses=pauses,
        )
        if is_default:
            return layer
        if not match_keys & raw.keys():
            self.fail("", section, _("an override needs contract, priority or category"))
        return replace(
            layer,
            contracts=frozenset(self.texts(raw["contract"], section, "contract"))
            if "contract" in raw
            else None,
            priorities=frozenset(
                self.enum(Priority, v, section, "priority", _('unknown priority "{value}"'))
                for v in self.texts(raw["priority"], section, "priority")
            )
            if "priority" in raw
            else None,
            categories=frozenset(
                self.enum(Category, v, section, "category", _('unknown category "{value}"'))
                for v in self.texts(raw["category"], section, "category")
            )
            if "category" in raw
            else None,
        )

    def layer_calendars(
        self, raw: Mapping[str, Any], section: str, known: set[str]
    ) -> tuple[str | None, dict[Target, str | None]]:
        """A layer's ``calendar``: (for targets not named, per named target).

        ``calendar = "name"`` is the same as a table holding only ``default = "name"``. The first
        element is _UNSET when the layer leaves unnamed targets alone.
        """
        if "calendar" not in raw:
            return _UNSET, {}
        value = raw["calendar"]
        if isinstance(value, str):
            return self.calendar_name(value, section, "calendar", known), {}
        if not isinstance(value, dict):
            self.fail(section, "calendar", _("expected a calendar name or a table of them"))
        sub = f"{section}.calendar"
        default: str | None = _UNSET
        per_target: dict[Target, str | None] = {}
        for key, item in value.items():
            if key == "default":
                default = self.calendar_name(item, sub, key, known)
                continue
            target = self.enum(Target, key, sub, key, _('unknown target "{value}"'))
            per_target[target] = self.calendar_name(item, sub, key, known)
        return default, per_target

    def calendar_name(self, value: Any, section: str, key: str, known: set[str]) -> str | None:
        """A calendar reference: a defined name, or None for ``"farm"`` (the farm's own)."""
        if not isinstance(value, str):
            self.fail(section, key, _("expected text"))
        if value == FARM_CALENDAR:
            return None
        if value not in known:
            self.fail(section, key, _('unknown calendar "{value}"').format(value=value))
        return value

    def pauses(
        self, raw: Any, section: str
    ) -> tuple[frozenset[Target] | None, dict[HoldReason, frozenset[Target]]]:
        raw = self.table(raw, section)
        default = self.targets(raw["default"], section, "default") if "default" in raw else None
        pauses: dict[HoldReason, frozenset[Target]] = {}
        for key, value in raw.items():
            if key == "default":
                continue
            reason = self.enum(HoldReason, key, section, key, _('unknown hold reason "{value}"'))
            pauses[reason] = self.targets(value, section, key)
        return default, pauses

    # -- scorecard points -----------------------------------------------------------------------

    def scorecard(self, raw: Any) -> Points:
        """``[scorecard]``: points per scoring event (numbers; ``met_clock`` and
        ``breached_clock`` also as a table per clock with ``default``) and the two survey
        thresholds (whole scores 1-5, low below high). Keys left out keep :class:`Points`'s."""
        section = "scorecard"
        raw = self.table(raw, section)
        numbers = {
            "first_time_fix",
            "reopened",
            "high_survey",
            "low_survey",
            "adopted_suggestion",
            "returned_report",
        }
        thresholds = {"high_score_threshold", "low_score_threshold"}
        self.keys(raw, section, numbers | thresholds | {"met_clock", "breached_clock"})
        base = Points()
        values: dict[str, Any] = {}
        for key in sorted(numbers & raw.keys()):
            values[key] = self.points(raw[key], section, key)
        for key in sorted(thresholds & raw.keys()):
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                self.fail(
                    section,
                    key,
                    _('expected a whole survey score from 1 to 5, got "{value}"').format(
                        value=value
                    ),
                )
            values[key] = value
        for key in ("met_clock", "breached_clock"):
            if key in raw:
                values[key] = self.clock_points(raw[key], section, key, getattr(base, key))
        low = values.get("low_score_threshold", base.low_score_threshold)
        high = values.get("high_score_threshold", base.high_score_threshold)
        if low >= high:
            self.fail(
                section,
                "low_score_threshold",
                _("must be below high_score_threshold ({high}), got {low}").format(
                    high=high, low=low
                ),
            )
        return replace(base, **values)

    def points(self, value: Any, section: str, key: str) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(
                section, key, _('expected a number of points, got "{value}"').format(value=value)
            )
        return float(value)

    def clock_points(
        self, value: Any, section: str, key: str, below: Mapping[Target, float]
    ) -> Mapping[Target, float]:
        """A number for every clock, or a table: ``default`` and/or one key per clock."""
        if not isinstance(value, dict):
            return MappingProxyType(dict.fromkeys(Target, self.points(value, section, key)))
        sub = f"{section}.{key}"
        default = self.points(value["default"], sub, "default") if "default" in value else None
        table = {t: below[t] if default is None else default for t in Target}
        for name, item in value.items():
            if name == "default":
                continue
            target = self.enum(Target, name, sub, name, _('unknown target "{value}"'))
            table[target] = self.points(item, sub, name)
        return MappingProxyType(table)

    # -- calendars ------------------------------------------------------------------------------

    def calendar(self, name: str, raw: Any) -> _CalendarSpec:
        section = f"calendars.{name}"
        raw = self.table(raw, section)
        self.keys(
            raw,
            section,
            {"timezone", "always_open", "days", "hours", "week", "holidays", "workdays"},
        )
        tz = raw.get("timezone")
        if tz is not None:
            if not isinstance(tz, str):
                self.fail(section, "timezone", _("expected text"))
            _check_timezone(tz, f"{self.source}: [{section}] timezone")
        always_open = raw.get("always_open", False)
        if not isinstance(always_open, bool):
            self.fail(section, "always_open", _("expected true or false"))
        if always_open:
            extra = set(raw) - {"timezone", "always_open"}
            if extra:
                self.fail(section, sorted(extra)[0], _("not allowed in an always-open calendar"))
            return _CalendarSpec(name, tz, always_open=True)
        hours = self.windows(raw.get("hours", []), section, "hours")
        week: dict[int, tuple[Window, ...]] = {}
        for day in self.texts(raw.get("days", []), section, "days"):
            week[self.weekday(day, section, "days")] = hours
        sub = f"{section}.week"
        for key, value in self.table(raw.get("week", {}), sub).items():
            week[self.weekday(key, sub, key)] = self.windows(value, sub, key)
        holidays = self.dates(raw.get("holidays", []), section, "holidays")
        workdays = self.dates(raw.get("workdays", []), section, "workdays")
        if not any(week.values()) and not (workdays and hours):
            self.fail(section, "hours", _("no business hours"))
        return _CalendarSpec(
            name,
            tz,
            week=week,
            holidays=holidays,
            workdays=workdays,
            workday_windows=hours or None,
        )

    def weekday(self, value: str, section: str, key: str) -> int:
        day = value.strip().lower()[:3]
        if day not in _WEEKDAYS:
            self.fail(section, key, _('unknown weekday "{value}"').format(value=value))
        return _WEEKDAYS.index(day)

    def windows(self, value: Any, section: str, key: str) -> tuple[Window, ...]:
        windows: list[Window] = []
        for text in self.texts(value, section, key):
            match = _WINDOW.match(text)
            start = end = -1
            if match:
                h1, m1, h2, m2 = (int(g) for g in match.groups())
                start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
            if not match or m1 > 59 or m2 > 59 or not 0 <= start < end <= DAY_SECONDS:
                self.fail(
                    section,
                    key,
                    _('cannot read time window "{value}" (use HH:MM-HH:MM)').format(value=text),
                )
            windows.append((start, end))
        return tuple(sorted(windows))

    def dates(self, value: Any, section: str, key: str) -> frozenset[date]:
        """Dates as ``YYYY-MM-DD`` strings, TOML dates, or ``YYYY-MM-DD..YYYY-MM-DD`` ranges."""
        items = value if isinstance(value, list) else [value]
        found: set[date] = set()
        for item in items:
            if isinstance(item, date):
                found.add(item)
                continue
            try:
                first_text, _sep, last_text = str(item).partition("..")
                first = date.fromisoformat(first_text.strip())
                last = date.fromisoformat(last_text.strip()) if last_text else first
            except ValueError:
                first = last = None
            if first is None or last is None or last < first:
                self.fail(
                    section,
                    key,
                    _(
                        'cannot read date "{value}" (use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)'
                    ).format(value=item),
                )
            day = first
            while day <= last:
                found.add(day)
                day += timedelta(days=1)
        return frozenset(found)
