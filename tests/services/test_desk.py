"""Desk services: the whole service chain, refusals that write nothing, conflicts, reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from quality_steps import prepare

from windtui import i18n
from windtui.domain.model import (
    Action,
    Category,
    Clock,
    ClockState,
    HoldReason,
    Priority,
    Target,
    TicketState,
)
from windtui.errors import Conflict, NotFound, Refused, WindtuiError
from windtui.services import desk as desk_module
from windtui.services.desk import Desk
from windtui.store.models import ChangeCounter, Event, Hold, PolicyDoc, Ticket

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the fixtures' frozen clock
A = Action
S = TicketState


def counts(desk: Desk) -> tuple[int, int, int, int, list[tuple[int, int, str]]]:
    """Everything a write touches, to prove a refused write left no trace."""
    desk.data_version()  # points the model proxy at this desk's database
    tickets = [(t.number, t.version, t.state) for t in Ticket.select().order_by(Ticket.number)]
    return (
        Event.select().count(),
        Hold.select().count(),
        ChangeCounter.get_by_id(1).value,
        PolicyDoc.select().count(),
        tickets,
    )


def new_fault(desk: Desk, **kwargs: object) -> int:
    args = {
        "farm": "DBC",
        "turbine": "A07",
        "category": Category.FAULT,
        "priority": Priority.P2,
        "title": "Pitch axis 2 over-current, stopped",
        "at": NOW - timedelta(hours=30),
        "turbine_stopped": True,
    } | kwargs
    return desk.create_ticket(**args).number


CHAIN = [
    (A.ACK, {}),
    (A.FEEDBACK, {}),
    (A.DISPATCH, {"technician": "wangjg"}),
    (A.DEPART, {}),
    (A.HOLD, {"reason": "weather", "evidence": "gusts 21 m/s > 18 m/s climb limit"}),
    (A.RESUME, {"reason": "wind dropped"}),
    (A.ARRIVE, {}),
    (A.RESTORE, {}),
    (A.RESOLVE, {}),
    (A.SUBMIT, {}),
    (A.RETURN, {"reason": "photos missing"}),
    (A.SUBMIT, {}),
    (A.APPROVE, {}),
    (A.FOLLOWUP, {}),
    (A.CLOSE, {}),
]


def test_whole_chain_writes_events_with_both_times(any_desk: Desk) -> None:
    desk = any_desk
    number = new_fault(desk)
    assert number == 1001
    start = NOW - timedelta(hours=30)
    snap = desk.ticket(number)
    for i, (action, kwargs) in enumerate(CHAIN, start=1):
        at = start + timedelta(hours=i)
        prepare(desk, number, action, at)  # the report before submit, the survey before follow-up
        snap = desk.ticket(number)
        seq_before, version = snap.change_seq, snap.version
        snap = desk.act(number, action, at=at, expected_version=snap.version, **kwargs)
        assert snap.version == version + 1
        assert snap.change_seq > seq_before
        events = [e for e in desk.detail(number).events if e.action == action.value]
        assert events, action
        assert {e.occurred_at for e in events[-1:]} == {at}
        assert all(e.recorded_at == NOW and e.actor == "tester" for e in events)
    assert snap.state is S.CLOSED
    assert snap.owner == "wangjg"
    tl = snap.timeline
    assert tl.report_returned_at == start + timedelta(hours=11)
    assert tl.report_at == start + timedelta(hours=12)
    assert tl.turbine_restored_at == start + timedelta(hours=8)
    assert tl.holds[0].reason is HoldReason.WEATHER and tl.holds[0].end is not None
    detail = desk.detail(number)
    assert detail.allowed_actions == (A.REOPEN,)
    assert detail.downtime is not None and detail.downtime.seconds == 8 * 3600
    assert detail.holds[0].resume_note == "wind dropped"
    fields = {(e.action, e.field) for e in detail.events}
    assert ("dispatch", "owner") in fields and ("hold", "hold") in fields
    assert ("return", "report_at") in fields and ("return", "report_returned_at") in fields
    assert [t.number for t in desk.open_tickets()] == []
    assert [t.number for t in desk.tickets(include_closed=True)] == [number]


def test_illegal_transition_writes_nothing(any_desk: Desk) -> None:
    number = new_fault(any_desk)
    before = counts(any_desk)
    with pytest.raises(Refused, match="ticket 1001 is received: 'arrive' is only allowed"):
        any_desk.act(number, A.ARRIVE)
    with pytest.raises(Refused, match="needs a reason"):
        any_desk.act(number, A.CANCEL)
    assert counts(any_desk) == before


def test_failure_after_partial_work_rolls_back(any_desk: Desk) -> None:
    """The counter is bumped before the duplicate number is noticed: all of it must go."""
    new_fault(any_desk)
    before = counts(any_desk)
    with pytest.raises(Refused, match="ticket 1001 already exists"):
        new_fault(any_desk, number=1001)
    assert counts(any_desk) == before
    any_desk.act(1001, A.ACK)
    any_desk.act(1001, A.FEEDBACK)
    before = counts(any_desk)
    with pytest.raises(NotFound, match="technician nobody"):
        any_desk.act(1001, A.DISPATCH, technician="nobody")
    assert counts(any_desk) == before


def test_stale_version_is_a_conflict_naming_who_and_when(any_desk: Desk) -> None:
    number = new_fault(any_desk)
    snap = any_desk.ticket(number)
    any_desk.actor = "chenx"
    any_desk.act(number, A.ACK, expected_version=snap.version)
    any_desk.actor = "tester"
    before = counts(any_desk)
    with pytest.raises(Conflict) as err:
        any_desk.act(number, A.FEEDBACK, expected_version=snap.version)
    assert str(err.value) == "ticket 1001 was changed by chenx at 10:00 — reload"
    with pytest.raises(Conflict):
        any_desk.assign(number, "lihua", expected_version=snap.version)
    assert counts(any_desk) == before


def test_consulting_skips_the_site_visit(desk: Desk) -> None:
    number = desk.create_ticket(
        farm="DHQ", category="consulting", priority="P4", title="Yaw misalignment data review"
    ).number
    desk.act(number, A.ACK)
    desk.act(number, A.FEEDBACK)
    with pytest.raises(Refused, match="needs no site visit"):
        desk.act(number, A.DISPATCH, technician="wangjg")
    assert desk.act(number, A.RESOLVE).state is S.RESOLVED


def test_unknown_things_are_named(desk: Desk) -> None:
    with pytest.raises(NotFound, match="farm XYZ"):
        desk.create_ticket(farm="XYZ", category="fault", priority="P3", title="x")
    with pytest.raises(NotFound, match="turbine DBC-Z99"):
        desk.create_ticket(farm="DBC", turbine="Z99", category="fault", priority="P3", title="x")
    with pytest.raises(NotFound, match="ticket 4242"):
        desk.act(4242, A.ACK)
    with pytest.raises(Refused, match="unknown priority 'P9'"):
        desk.create_ticket(farm="DBC", category="fault", priority="P9", title="x")
    with pytest.raises(NotFound, match="farm XYZ"):
        desk.turbines("XYZ")


def test_dispatch_needs_a_technician(desk: Desk) -> None:
    number = new_fault(desk)
    desk.act(number, A.ACK)
    desk.act(number, A.FEEDBACK)
    with pytest.raises(Refused, match="needs a technician"):
        desk.act(number, A.DISPATCH)
    with pytest.raises(Refused, match="chenx is not a technician"):
        desk.act(number, A.DISPATCH, technician="chenx")
    assert desk.act(number, A.DISPATCH, technician="lihua").owner == "lihua"


def test_instants_must_be_past_and_in_order(desk: Desk) -> None:
    number = new_fault(desk)
    with pytest.raises(Refused, match="in the future"):
        desk.act(number, A.ACK, at=NOW + timedelta(minutes=1))
    with pytest.raises(Refused, match="before received"):
        desk.act(number, A.ACK, at=NOW - timedelta(hours=31))
    with pytest.raises(Refused, match="needs a timezone"):
        desk.act(number, A.ACK, at=NOW.replace(tzinfo=None))
    desk.act(number, A.ACK, at=NOW - timedelta(hours=2))
    with pytest.raises(Refused, match="before acknowledged"):
        desk.act(number, A.FEEDBACK, at=NOW - timedelta(hours=3))


def test_numbers_count_up_from_1001_and_respect_given_ones(desk: Desk) -> None:
    assert new_fault(desk) == 1001
    assert new_fault(desk) == 1002
    assert new_fault(desk, number=2000) == 2000
    assert new_fault(desk) == 2001


def test_assign_only_while_work_is_open(desk: Desk) -> None:
    number = new_fault(desk)
    with pytest.raises(Refused, match="can only be assigned"):
        desk.assign(number, "wangjg")
    desk.act(number, A.ACK)
    snap = desk.assign(number, "wangjg")
    assert snap.state is S.ACKNOWLEDGED and snap.owner == "wangjg"
    with pytest.raises(Refused, match="already assigned to wangjg"):
        desk.assign(number, "wangjg")
    assert desk.assign(number, "lihua", expected_version=snap.version).owner == "lihua"
    event = desk.detail(number).events[-1]
    assert (event.action, event.field, event.old, event.new) == (
        "assign",
        "owner",
        "wangjg",
        "lihua",
    )


def test_hold_resume_cancel_and_reopen(desk: Desk) -> None:
    number = new_fault(desk)
    desk.act(number, A.ACK)
    with pytest.raises(Refused, match="unknown hold reason 'rain'"):
        desk.act(number, A.HOLD, reason="rain", evidence="x")
    with pytest.raises(Refused, match="evidence"):
        desk.act(number, A.HOLD, reason="parts")
    snap = desk.act(number, A.HOLD, reason="parts", evidence="PO 4471")
    assert snap.hold is HoldReason.PARTS
    with pytest.raises(Refused, match="on hold"):
        desk.act(number, A.HOLD, reason="parts", evidence="again")
    assert A.FEEDBACK in desk.detail(number).allowed_actions  # the desk can always call back
    snap = desk.act(number, A.CANCEL, reason="duplicate of 1002")
    assert snap.state is S.CANCELLED and snap.hold is None
    assert desk.detail(number).holds[0].end == NOW
    snap = desk.act(number, A.REOPEN, reason="not a duplicate after all")
    assert snap.state is S.ACKNOWLEDGED and snap.timeline.cancelled_at is None


def test_changed_since_and_data_version(desk: Desk, sqlite_url: str) -> None:
    mark, changed = desk.changed_since(0)
    assert changed == []
    a, b = new_fault(desk), new_fault(desk)
    mark2, changed = desk.changed_since(mark)
    assert [t.number for t in changed] == [a, b] and mark2 > mark
    other = Desk.open(sqlite_url, now=NOW, actor="chenx")
    probe = desk.data_version()
    other.act(a, A.ACK)
    other.act(a, A.CANCEL, reason="customer fixed it")
    assert desk.data_version() != probe
    mark3, changed = desk.changed_since(mark2)
    assert [(t.number, t.state) for t in changed] == [(a, S.CANCELLED)]
    assert desk.changed_since(mark3) == (mark3, [])
    other.close()


def test_reads(desk: Desk, now: datetime) -> None:
    assert now == NOW
    assert [f.code for f in desk.farms()] == ["DBC", "DHQ"]
    assert desk.farms()[0].turbine_count == 3
    assert [t.id for t in desk.turbines("DBC", search="a0")] == ["DBC-A01", "DBC-A07"]
    assert [t.id for t in desk.turbines(search="sinovel")] == ["DHQ-01", "DHQ-02"]
    n1 = new_fault(desk)
    n2 = desk.create_ticket(
        farm="DHQ", category="maintenance", priority="P4", title="Annual"
    ).number
    assert [t.number for t in desk.tickets(farm="DHQ")] == [n2]
    assert [t.number for t in desk.tickets(priority=Priority.P2)] == [n1]
    assert [t.number for t in desk.tickets(category="maintenance")] == [n2]
    assert [t.number for t in desk.tickets(state=S.RECEIVED)] == [n1, n2]
    assert desk.ticket(n1).turbine == "DBC-A07"
    assert desk.ticket(n1).timeline.contract == "HNR-DBC-OM"
    assert desk.turbines("DBC", search="A07")[0].status == "stopped"


def test_technician_board_status(desk: Desk) -> None:
    number = new_fault(desk)
    for action in (A.ACK, A.FEEDBACK):
        desk.act(number, action)
    desk.act(number, A.DISPATCH, technician="lihua")
    desk.act(number, A.DEPART)
    board = {t.login: t for t in desk.technicians()}
    assert set(board) == {"wangjg", "lihua", "zhaom"}  # the dispatcher is not on the board
    assert (board["lihua"].status, board["lihua"].current_ticket) == ("en_route", number)
    assert board["wangjg"].status == "available" and board["zhaom"].status == "off_shift"
    assert board["zhaom"].certificate_warning and not board["wangjg"].certificate_warning


def test_policy_falls_back_to_shipped_file_and_loads_new_ones(desk: Desk, tmp_path: Path) -> None:
    shipped = desk.policy()
    number = new_fault(desk, at=NOW - timedelta(minutes=30))
    assert desk.detail(number).clocks[0].target_seconds == 3600
    with pytest.raises(WindtuiError, match=r"missing\.toml"):
        desk.load_policy_file(tmp_path / "missing.toml")
    text = (Path(__file__).parents[2] / "data" / "sla-policy.toml").read_text("utf-8")
    custom = tmp_path / "strict.toml"
    custom.write_text(text.replace('acknowledge = "1h"', 'acknowledge = "30m"'), "utf-8")
    before = desk.changed_since(0)[0]
    loaded = desk.load_policy_file(custom)
    assert loaded.digest != shipped.digest and desk.policy().digest == loaded.digest
    assert desk.changed_since(0)[0] == before + 1
    assert desk.detail(number).clocks[0].target_seconds == 1800


def test_event_log_is_append_only(desk: Desk) -> None:
    new_fault(desk)
    with pytest.raises(Exception, match="append-only"):
        Event.update(actor="mallory").execute()
    with pytest.raises(Exception, match="append-only"):
        Event.delete().execute()
    assert {e.actor for e in Event.select()} == {"tester"}


# ------------------------------------------------------------------------- reclassification


def test_reclassify_writes_one_event_per_changed_field(any_desk: Desk) -> None:
    number = new_fault(any_desk, priority=Priority.P3)
    snap = any_desk.ticket(number)
    any_desk.actor = "chenx"
    after = any_desk.reclassify(
        number,
        priority="P1",
        category=Category.INFRASTRUCTURE,
        reason="  the whole A string is down  ",
        expected_version=snap.version,
    )
    assert (after.priority, after.category) == (Priority.P1, Category.INFRASTRUCTURE)
    assert after.timeline.priority is Priority.P1  # the SLA engine reads the new priority
    assert after.version == snap.version + 1 and after.change_seq > snap.change_seq
    assert after.state is snap.state
    events = [e for e in any_desk.detail(number).events if e.action == "reclassify"]
    assert [(e.field, e.old, e.new) for e in events] == [
        ("priority", "P3", "P1"),
        ("category", "fault", "infrastructure"),
    ]
    assert {(e.actor, e.note, e.occurred_at, e.recorded_at) for e in events} == {
        ("chenx", "the whole A string is down", NOW, NOW)
    }
    # Only what changed is logged: a category given at its current value adds no row.
    any_desk.reclassify(number, priority="P2", category="infrastructure", reason="downgraded")
    events = [e for e in any_desk.detail(number).events if e.action == "reclassify"]
    assert [(e.field, e.old, e.new) for e in events][2:] == [("priority", "P1", "P2")]


def test_reclassify_on_a_stale_version_is_a_conflict(any_desk: Desk) -> None:
    number = new_fault(any_desk)
    snap = any_desk.ticket(number)
    any_desk.act(number, A.ACK)
    before = counts(any_desk)
    with pytest.raises(Conflict, match="ticket 1001 was changed by tester"):
        any_desk.reclassify(number, priority="P1", reason="x", expected_version=snap.version)
    assert counts(any_desk) == before


def _dispatched(desk: Desk) -> int:
    number = new_fault(desk, priority=Priority.P3)
    desk.act(number, A.ACK)
    desk.act(number, A.FEEDBACK)
    desk.act(number, A.DISPATCH, technician="wangjg")
    return number


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"reason": "x"}, Refused, "give a new priority or category"),
        ({"priority": "P1", "reason": "   "}, Refused, "needs a reason"),
        ({"priority": "P3", "reason": "x"}, Refused, "already P3 · fault repair: nothing"),
        ({"priority": "P3", "category": "fault", "reason": "x"}, Refused, "nothing to change"),
        ({"priority": "P9", "reason": "x"}, Refused, "unknown priority 'P9'"),
        ({"category": "wind", "reason": "x"}, Refused, "unknown category 'wind'"),
        ({"category": "consulting", "reason": "x"}, Refused, "needs no site visit"),
        ({"category": "data_analysis", "reason": "x"}, Refused, "cannot be dispatched"),
    ],
)
def test_reclassify_refusals_write_nothing(
    desk: Desk, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    number = _dispatched(desk)
    before = counts(desk)
    with pytest.raises(error, match=message):
        desk.reclassify(number, **kwargs)  # type: ignore[arg-type]
    assert counts(desk) == before


def test_reclassify_refuses_unknown_closed_and_cancelled_tickets(desk: Desk) -> None:
    with pytest.raises(NotFound, match="ticket 4242 not found"):
        desk.reclassify(4242, priority="P1", reason="x")
    number = new_fault(desk)
    desk.act(number, A.CANCEL, reason="duplicate")
    before = counts(desk)
    with pytest.raises(Refused, match="ticket 1001 is cancelled: reopen it"):
        desk.reclassify(number, priority="P1", reason="x")
    assert counts(desk) == before


def test_p3_to_p1_recalculates_from_receipt_and_keeps_the_weather_hold(desk: Desk) -> None:
    """The on-site clock moves to receipt + 24 h (P1) + the paused time of a closed hold.

    DBC counts on 24x7, so business time is wall time and the due instants are exact.
    """
    received = NOW - timedelta(hours=30)  # 2025-03-01 20:00 UTC
    number = new_fault(desk, priority=Priority.P3, at=received)
    desk.act(number, A.ACK, at=received + timedelta(minutes=20))
    desk.act(number, A.FEEDBACK, at=received + timedelta(hours=1))
    desk.act(number, A.DISPATCH, technician="wangjg", at=received + timedelta(hours=2))
    desk.act(
        number, A.HOLD, reason="weather", evidence="gusts 21 m/s", at=received + timedelta(hours=4)
    )
    desk.act(number, A.RESUME, at=received + timedelta(hours=8))  # 4 h paused

    def onsite() -> Clock:
        return next(c for c in desk.detail(number).clocks if c.target is Target.ONSITE)

    before = onsite()
    assert before.due == datetime(2025, 3, 4, 0, 0, tzinfo=UTC)  # received + 48 h + 4 h
    desk.reclassify(number, priority=Priority.P1, reason="customer: the whole string is down")
    after = onsite()
    assert after.target_seconds == 24 * 3600
    assert after.start == received  # recalculated from receipt, not from the change
    assert after.due == datetime(2025, 3, 3, 0, 0, tzinfo=UTC)  # received + 24 h + 4 h
    assert after.state is ClockState.BREACHED  # NOW is 2 h past the new due instant
    assert after.remaining_seconds == -2 * 3600


# ------------------------------------------------------------------------- policy in force

SHIPPED_POLICY = Path(__file__).parents[2] / "data" / "sla-policy.toml"


def policy_file(tmp_path: Path, name: str, **renamed: str) -> Path:
    """The shipped policy with calendars renamed (``old="new"``), written to ``tmp_path/name``."""
    text = SHIPPED_POLICY.read_text("utf-8")
    for old, new in renamed.items():
        text = text.replace(f"[calendars.{old}]", f"[calendars.{new}]")
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_policy_lacking_a_farm_calendar_is_refused_and_writes_nothing(
    any_desk: Desk, tmp_path: Path
) -> None:
    """Loading it would make every read fail (``unknown calendar``): refuse, name the farms."""
    any_desk.add_farm(
        "HTX",
        name_zh="哈密",
        name_en="Hami",
        province="新疆",
        latitude=42.8,
        longitude=93.5,
        calendar="xinjiang-day",
    )
    new_fault(any_desk)
    digest = any_desk.policy_digest()
    lacking = policy_file(
        tmp_path, "lacking.toml", **{"cn-business": "cn-office", "xinjiang-day": "xj-day"}
    )
    before = counts(any_desk)
    with pytest.raises(Refused) as err:
        any_desk.load_policy_file(lacking)
    assert str(err.value) == (
        f'{lacking} cannot be loaded: it lacks calendar "cn-business" (farms: DHQ);'
        ' calendar "xinjiang-day" (farms: HTX)'
    )
    assert counts(any_desk) == before
    assert any_desk.policy_digest() == digest
    assert [t.number for t in any_desk.tickets()] == [1001]  # reads still work


def test_add_farm_refuses_a_calendar_the_policy_in_force_lacks(
    any_desk: Desk, tmp_path: Path
) -> None:
    farm = {
        "name_zh": "测试",
        "name_en": "Test",
        "province": "甘肃",
        "latitude": 40.0,
        "longitude": 97.0,
    }
    before = counts(any_desk)
    with pytest.raises(
        Refused, match=r'^unknown calendar "cn-office": the policy in force defines'
    ):
        any_desk.add_farm("TST", calendar="cn-office", **farm)  # type: ignore[arg-type]
    assert counts(any_desk) == before
    assert "TST" not in {f.code for f in any_desk.farms()}
    # Checked against the policy in force, not the shipped file: a loaded one can define it.
    any_desk.add_farm("DHX", calendar="24x7", **farm)  # type: ignore[arg-type]
    any_desk.load_policy_file(policy_file(tmp_path, "office.toml", **{"de-business": "cn-office"}))
    any_desk.add_farm("TST", calendar="cn-office", **farm)  # type: ignore[arg-type]
    assert {f.code: f.calendar for f in any_desk.farms()}["TST"] == "cn-office"


def test_policy_digest_is_one_query_and_follows_other_connections(
    any_desk: Desk, backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console's probe: one query, no parsing; it sees a policy another desk loads."""
    shipped = any_desk.policy()
    assert any_desk.policy_digest() == shipped.digest
    statements: list[str] = []
    execute_sql = any_desk.db.execute_sql

    def spy(sql: str, *args: object, **kwargs: object) -> object:
        statements.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(any_desk.db, "execute_sql", spy)
    parses: list[str] = []
    real_load = desk_module.load_policy

    def counting_load(text: str, source: str = "policy") -> object:
        parses.append(source)
        return real_load(text, source)

    monkeypatch.setattr(desk_module, "load_policy", counting_load)
    assert any_desk.policy_digest() == shipped.digest
    assert len(statements) == 1 and 'FROM "policy_doc"' in statements[0]
    other = Desk.open(backend_url, now=NOW, actor="tester")
    try:
        loaded = other.load_policy_file(
            policy_file(tmp_path, "new.toml", **{"de-business": "de-office"})
        )
    finally:
        other.close()
    parses.clear()  # the other desk's own parse of the file
    assert any_desk.policy_digest() == loaded.digest != shipped.digest
    assert any_desk.policy().digest == loaded.digest
    assert any_desk.policy() is any_desk.policy()  # cached by digest
    assert parses == ["new.toml"]  # parsed once, however often it is asked for


def test_policy_event_logs_previous_and_new_digest(any_desk: Desk, tmp_path: Path) -> None:
    shipped = any_desk.policy_digest()
    first = any_desk.load_policy_file(
        policy_file(tmp_path, "one.toml", **{"de-business": "de-office"})
    )
    second = any_desk.load_policy_file(
        policy_file(tmp_path, "two.toml", **{"de-business": "de-works"})
    )
    events = [
        (e.field, e.old_value, e.new_value, e.note)
        for e in Event.select().where(Event.action == "policy").order_by(Event.seq)
    ]
    assert events == [
        ("policy", shipped, first.digest, "one.toml"),
        ("policy", first.digest, second.digest, "two.toml"),
    ]


# ------------------------------------------------------------------------- what was received


def test_create_event_logs_what_was_received(any_desk: Desk) -> None:
    received = NOW - timedelta(hours=30)
    number = new_fault(any_desk, title="  Pitch axis 2 over-current  ")
    events = [e for e in any_desk.detail(number).events if e.action == "create"]
    assert [(e.field, e.old, e.new) for e in events] == [
        ("farm", None, "DBC"),
        ("turbine", None, "DBC-A07"),
        ("category", None, "fault"),
        ("priority", None, "P2"),
        ("title", None, "Pitch axis 2 over-current"),
        ("received_at", None, received.isoformat()),
        ("state", None, "received"),
        ("turbine_stopped_at", None, received.isoformat()),
    ]
    assert len({e.recorded_at for e in events}) == 1 and {e.occurred_at for e in events} == {
        received
    }
    # Nothing invented: no turbine and a running one add no rows.
    number = any_desk.create_ticket(
        farm="DHQ", category="consulting", priority="P4", title="Q"
    ).number
    fields = [e.field for e in any_desk.detail(number).events]
    assert fields == ["farm", "category", "priority", "title", "received_at", "state"]


# ------------------------------------------------------------------------- who can be sent out


def _on_leave(desk: Desk) -> None:
    desk.add_staff(
        "yangf",
        name_zh="杨帆",
        name_en="Yang Fan",
        roles=["technician"],
        status="on_leave",
    )


def test_a_technician_on_leave_is_neither_dispatched_nor_assigned(any_desk: Desk) -> None:
    _on_leave(any_desk)
    number = new_fault(any_desk)
    any_desk.act(number, A.ACK)
    any_desk.act(number, A.FEEDBACK)
    before = counts(any_desk)
    with pytest.raises(Refused, match=r"^Yang Fan \(yangf\) is on leave$"):
        any_desk.act(number, A.DISPATCH, technician="yangf")
    with pytest.raises(Refused, match=r"^Yang Fan \(yangf\) is on leave$"):
        any_desk.assign(number, "yangf")
    assert counts(any_desk) == before
    # Off shift is not on leave: call-outs happen.
    assert any_desk.act(number, A.DISPATCH, technician="zhaom").owner == "zhaom"


def test_on_leave_message_uses_the_chinese_name_in_chinese(desk: Desk) -> None:
    _on_leave(desk)
    number = new_fault(desk)
    desk.act(number, A.ACK)
    i18n.set_language("zh_CN")
    try:
        with pytest.raises(Refused, match=r"^杨帆（yangf）正在休假$"):
            desk.assign(number, "yangf")
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(
    ("technician", "error", "message"),
    [
        ("nobody", NotFound, "technician nobody not found"),
        ("yangf", Refused, "Yang Fan \\(yangf\\) is on leave"),
        ("chenx", Refused, "chenx is not a technician"),
    ],
)
def test_the_technician_is_checked_before_the_state(
    desk: Desk, technician: str, error: type[Exception], message: str
) -> None:
    """A received ticket cannot be dispatched either; the technician is the real problem."""
    _on_leave(desk)
    number = new_fault(desk)
    before = counts(desk)
    with pytest.raises(error, match=message):
        desk.act(number, A.DISPATCH, technician=technician)
    with pytest.raises(error, match=message):
        desk.assign(number, technician)  # received: not assignable either
    assert counts(desk) == before
