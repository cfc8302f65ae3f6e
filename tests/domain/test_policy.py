"""SLA policy: durations, the shipped file, overrides, strict errors and translated messages."""

from __future__ import annotations

import pytest

from windtui import i18n
from windtui.domain.model import Category, HoldReason, Priority, Target
from windtui.domain.policy import (
    DEFAULT_POLICY_PATH,
    load_policy,
    load_policy_file,
    parse_duration,
)
from windtui.errors import NotFound, WindtuiError

H = 3600.0
MINIMAL = """
[defaults.targets]
acknowledge = "1h"
feedback = "24h"
onsite = "48h"
repair = "2.5h"
report = "24h"
review = "3d"
followup = "7d"
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", H), ("30m", 1800), ("2.5h", 9000), ("3d", 259_200), ("90s", 90), ("1h30m", 5400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["48x", "", "h", "0h", "1h foo", "-1h", "12"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(WindtuiError, match="cannot read duration"):
        parse_duration(text)


def test_shipped_policy_defaults() -> None:
    policy = load_policy_file()
    r = policy.resolve(contract=None, priority=Priority.P3, category=Category.FAULT)
    assert r.targets == {
        Target.ACKNOWLEDGE: H,
        Target.FEEDBACK: 24 * H,
        Target.ONSITE: 48 * H,
        Target.REPAIR: 2.5 * H,
        Target.REPORT: 24 * H,
        Target.REVIEW: 72 * H,
        Target.FOLLOWUP: 168 * H,
    }
    # The desk answers round the clock (§二(2), §三(1)); the site clocks keep the farm's calendar.
    assert r.calendars == {
        Target.ACKNOWLEDGE: "24x7",
        Target.FEEDBACK: "24x7",
        Target.ONSITE: None,
        Target.REPAIR: None,
        Target.REPORT: None,
        Target.REVIEW: None,
        Target.FOLLOWUP: None,
    }
    assert r.calendar is None  # the site clocks': the farm's calendar
    assert r.at_risk_percent == 75.0
    assert all(r.pauses[reason] == {Target.ONSITE, Target.REPAIR} for reason in HoldReason)
    assert r.paused_by(Target.ACKNOWLEDGE) == frozenset()
    assert set(policy.calendar_names) >= {"24x7", "cn-business", "xinjiang-day", "de-business"}


def test_shipped_overrides_by_priority_and_category() -> None:
    policy = load_policy_file()
    p1 = policy.resolve(contract=None, priority=Priority.P1, category=Category.FAULT)
    assert p1.targets[Target.ONSITE] == 24 * H and p1.at_risk_percent == 50.0
    p4 = policy.resolve(contract=None, priority=Priority.P4, category=Category.UPGRADE)
    assert p4.targets[Target.ONSITE] == 72 * H and p4.targets[Target.REPAIR] == 72 * H


def test_later_overrides_win_and_all_conditions_must_match() -> None:
    text = (
        MINIMAL
        + """
[calendars.office]
days = ["mon"]
hours = ["09:00-17:00"]

[[override]]
priority = ["P1", "P2"]
targets = { onsite = "24h" }

[[override]]
priority = "P1"
category = "fault"
targets = { onsite = "12h" }
calendar = "office"
pauses = { default = ["onsite"], permit = ["onsite", "report"] }

[[override]]
contract = "C-1"
calendar = "farm"
at_risk_percent = 90
"""
    )
    policy = load_policy(text, "p.toml")
    fault = policy.resolve(contract=None, priority=Priority.P1, category=Category.FAULT)
    assert fault.targets[Target.ONSITE] == 12 * H and fault.calendar == "office"
    assert fault.pauses[HoldReason.WEATHER] == {Target.ONSITE}
    assert fault.pauses[HoldReason.PERMIT] == {Target.ONSITE, Target.REPORT}
    upgrade = policy.resolve(contract=None, priority=Priority.P1, category=Category.UPGRADE)
    assert upgrade.targets[Target.ONSITE] == 24 * H and upgrade.calendar is None
    contract = policy.resolve(contract="C-1", priority=Priority.P1, category=Category.FAULT)
    assert contract.calendar is None and contract.at_risk_percent == 90.0
    # a calendar without a timezone counts in the farm's
    assert policy.calendar("office", "Europe/Berlin").tz == "Europe/Berlin"


CALENDARS = """
[calendars.office]
days = ["mon"]
hours = ["09:00-17:00"]

[calendars.night]
days = ["mon"]
hours = ["20:00-23:00"]
"""


def calendars_of(policy_text: str, **match: object) -> dict[Target, str | None]:
    policy = load_policy(MINIMAL + CALENDARS + policy_text, "p.toml")
    found = policy.resolve(
        contract=match.get("contract"),  # type: ignore[arg-type]
        priority=match.get("priority", Priority.P3),  # type: ignore[arg-type]
        category=match.get("category", Category.FAULT),  # type: ignore[arg-type]
    )
    return found.calendars


def test_calendar_table_per_target_with_default() -> None:
    found = calendars_of('[defaults.calendar]\ndefault = "office"\nacknowledge = "24x7"\n')
    assert found[Target.ACKNOWLEDGE] == "24x7"
    assert all(found[t] == "office" for t in Target if t is not Target.ACKNOWLEDGE)
    # without "default" the targets not named stay on the farm's calendar
    found = calendars_of('[defaults.calendar]\nfeedback = "24x7"\n')
    assert found[Target.FEEDBACK] == "24x7"
    assert all(found[t] is None for t in Target if t is not Target.FEEDBACK)
    # "farm" is allowed per target too
    found = calendars_of('[defaults.calendar]\ndefault = "office"\nonsite = "farm"\n')
    assert found[Target.ONSITE] is None and found[Target.REPAIR] == "office"


def test_override_naming_one_target_changes_only_that_target() -> None:
    base = '[defaults.calendar]\ndefault = "office"\nacknowledge = "24x7"\n'
    override = '[[override]]\npriority = "P1"\ncalendar = { onsite = "night" }\n'
    p1 = calendars_of(base + override, priority=Priority.P1)
    p3 = calendars_of(base + override, priority=Priority.P3)
    assert p1[Target.ONSITE] == "night" and p3[Target.ONSITE] == "office"
    assert {t: c for t, c in p1.items() if t is not Target.ONSITE} == {
        t: c for t, c in p3.items() if t is not Target.ONSITE
    }


def test_override_with_one_name_or_a_default_moves_every_unnamed_target() -> None:
    base = '[defaults.calendar]\ndefault = "office"\nacknowledge = "24x7"\n'
    one_name = '[[override]]\ncontract = "C-1"\ncalendar = "night"\n'
    assert set(calendars_of(base + one_name, contract="C-1").values()) == {"night"}
    table = '[[override]]\ncontract = "C-1"\ncalendar = { default = "farm", repair = "night" }\n'
    found = calendars_of(base + table, contract="C-1")
    assert found[Target.REPAIR] == "night"
    assert all(found[t] is None for t in Target if t is not Target.REPAIR)
    # later overrides layer on top of earlier ones, per target
    later = '[[override]]\ncategory = "fault"\ncalendar = { feedback = "office" }\n'
    found = calendars_of(base + table + later, contract="C-1")
    assert found[Target.FEEDBACK] == "office" and found[Target.REPAIR] == "night"
    assert found[Target.ACKNOWLEDGE] is None


def test_digest_follows_the_text() -> None:
    a = load_policy(MINIMAL)
    assert a.digest == load_policy(MINIMAL).digest
    assert a.digest != load_policy(MINIMAL + "\n# edited\n").digest


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            ('onsite = "48h"', 'onsite = "48x"'),
            'p.toml: [defaults.targets] onsite: cannot read duration "48x"',
        ),
        (
            ('review = "3d"', 'reveiw = "3d"'),
            'p.toml: [defaults.targets] reveiw: unknown target "reveiw"',
        ),
        (('followup = "7d"', ""), "p.toml: [defaults.targets] followup: missing"),
        (("[defaults.targets]", "[defaults.targetz]"), "p.toml: [defaults] targetz: unknown key"),
    ],
)
def test_bad_values_name_file_section_and_key(patch: tuple[str, str], message: str) -> None:
    with pytest.raises(WindtuiError) as caught:
        load_policy(MINIMAL.replace(*patch), "p.toml")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            '[defaults.pauses]\nsnow = ["onsite"]',
            '[defaults.pauses] snow: unknown hold reason "snow"',
        ),
        ('[defaults]\ncalendar = "moon"', '[defaults] calendar: unknown calendar "moon"'),
        (
            '[defaults.calendar]\nacknowledge = "moon"',
            '[defaults.calendar] acknowledge: unknown calendar "moon"',
        ),
        (
            '[defaults.calendar]\nacknowledgee = "24x7"',
            '[defaults.calendar] acknowledgee: unknown target "acknowledgee"',
        ),
        ("[defaults.calendar]\ndefault = 7", "[defaults.calendar] default: expected text"),
        ("[defaults]\ncalendar = 7", "[defaults] calendar: expected a calendar name or a table"),
        (
            '[[override]]\npriority = "P1"\ncalendar = { onsite = "moon" }',
            '[override.1.calendar] onsite: unknown calendar "moon"',
        ),
        ("[defaults]\nat_risk_percent = 150", "[defaults] at_risk_percent: expected a number"),
        (
            '[calendars.x]\ntimezone = "Mars/Olympus"\ndays = ["mon"]\nhours = ["08:00-17:00"]',
            '[calendars.x] timezone: unknown timezone "Mars/Olympus"',
        ),
        (
            '[calendars.x]\ndays = ["mon"]\nhours = ["8-17"]',
            "[calendars.x] hours: cannot read time window",
        ),
        ('[calendars.x]\ndays = ["mon"]\nhours = ["17:00-08:00"]', "cannot read time window"),
        ('[calendars.x]\ndays = ["mnd"]\nhours = ["08:00-17:00"]', 'unknown weekday "mnd"'),
        (
            '[calendars.x]\ndays = ["mon"]\nhours = ["08:00-17:00"]\nholidays = ["2026-13-01"]',
            '[calendars.x] holidays: cannot read date "2026-13-01"',
        ),
        ("[calendars.x]\ndays = []", "[calendars.x] hours: no business hours"),
        ('[[override]]\ntargets = { onsite = "1h" }', "override.1: an override needs"),
        ('[[override]]\npriority = "P9"', '[override.1] priority: unknown priority "P9"'),
        ('[[override]]\ncategory = "weather"', 'unknown category "weather"'),
        ("nonsense = = 1", "p.toml: not valid TOML"),
    ],
)
def test_bad_content_is_one_line_and_names_the_key(extra: str, fragment: str) -> None:
    with pytest.raises(WindtuiError) as caught:
        load_policy(MINIMAL + "\n" + extra, "p.toml")
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_calendar_at_lookup_is_not_found() -> None:
    with pytest.raises(NotFound, match='unknown calendar "nowhere"'):
        load_policy(MINIMAL).calendar("nowhere", "UTC")


def test_built_in_24x7_and_calendar_cache() -> None:
    policy = load_policy(MINIMAL)
    cal = policy.calendar("24x7", "Asia/Shanghai")
    assert cal.always_open and policy.calendar("", "Asia/Shanghai") is cal


def test_errors_are_translated() -> None:
    try:
        i18n.set_language("zh_CN")
        with pytest.raises(WindtuiError) as caught:
            load_policy(MINIMAL.replace('"48h"', '"48x"'), "p.toml")
        assert str(caught.value) == 'p.toml: [defaults.targets] onsite: 无法读取时长 "48x"'
    finally:
        i18n.set_language("en")


def test_default_policy_path_points_at_the_shipped_file() -> None:
    assert DEFAULT_POLICY_PATH.name == "sla-policy.toml" and DEFAULT_POLICY_PATH.is_file()
