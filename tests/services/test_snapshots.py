"""The fast ticket read path returns exactly what a straightforward per-ticket builder returns.

``Desk._snapshots`` builds snapshots from raw rows of two queries; the reference below builds
each one from Peewee model instances, one ticket at a time, the obvious way. They must agree on
a varied fleet (synthetic tickets in every open state, closed, cancelled, reopened and reworked
tickets, farms with and without contracts and turbines) on both backends and in both languages.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from quality_steps import act

from windtui import i18n
from windtui.domain.model import (
    Action,
    Category,
    HoldReason,
    HoldSpan,
    Priority,
    TicketState,
    Timeline,
)
from windtui.services.desk import TIMELINE_COLUMNS, Desk
from windtui.services.records import TicketSnapshot
from windtui.services.synthetic import populate
from windtui.store.models import Hold, Ticket

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the fixtures' frozen clock
A = Action


def reference(number: int) -> TicketSnapshot:
    """One ticket's snapshot built from model instances (the pre-optimisation code, kept here)."""
    t = Ticket.get(Ticket.number == number)
    contract = None
    if t.farm.contract_id is not None:
        contract = t.farm.contract.sla_key or t.farm.contract.code
    holds = list(Hold.select().where(Hold.ticket == t.id).order_by(Hold.started_at, Hold.id))
    timeline = Timeline(
        category=Category(t.category),
        priority=Priority(t.priority),
        received_at=t.received_at,
        contract=contract,
        holds=tuple(
            HoldSpan(HoldReason(h.reason), h.started_at, h.ended_at, h.evidence) for h in holds
        ),
        **{name: getattr(t, name) for name in TIMELINE_COLUMNS},
    )
    open_hold = next((h for h in holds if h.ended_at is None), None)
    owner = t.owner if t.owner_id else None
    return TicketSnapshot(
        id=t.id,
        number=t.number,
        version=t.version,
        farm=t.farm.code,
        farm_timezone=t.farm.timezone,
        farm_calendar=t.farm.calendar,
        turbine=f"{t.farm.code}-{t.turbine.position}" if t.turbine_id else None,
        category=Category(t.category),
        priority=Priority(t.priority),
        state=TicketState(t.state),
        title=t.title,
        owner=owner.login if owner else None,
        owner_name=(owner.name_zh if i18n.current_language() == "zh_CN" else owner.name_en)
        if owner
        else None,
        fault_code=t.fault_code,
        hold=HoldReason(open_hold.reason) if open_hold else None,
        timeline=timeline,
        change_seq=t.change_seq,
    )


def _varied(desk: Desk) -> None:
    """Add a contract with an SLA key and a farm without turbines, synthetic tickets, and desk-made
    tickets that end closed, cancelled on hold, reopened and returned for rework."""
    desk.add_contract("HNR-XK", customer="HNR", name="新康合同", sla_key="premium")
    desk.add_farm(
        "XKF", name_zh="新康", name_en="Xinkang", province="新疆", latitude=1, longitude=2,
        contract="HNR-XK", calendar="xinjiang-day", timezone="Asia/Urumqi",
    )  # fmt: skip
    populate(desk, 400, seed=11, now=NOW - timedelta(hours=12))
    start = NOW - timedelta(hours=11)

    def ticket(steps: list[tuple[Action, dict[str, str]]], **kwargs: object) -> None:
        args = {"farm": "DBC", "turbine": "A07", "category": "fault", "priority": "P2"} | kwargs
        number = desk.create_ticket(title="t", at=start, turbine_stopped=True, **args).number
        for i, (action, extra) in enumerate(steps, start=1):
            act(desk, number, action, at=start + timedelta(minutes=10 * i), **extra)

    site = [(A.ACK, {}), (A.FEEDBACK, {}), (A.DISPATCH, {"technician": "lihua"}), (A.DEPART, {})]
    site += [(A.ARRIVE, {}), (A.RESOLVE, {})]
    ticket([*site, (A.SUBMIT, {}), (A.APPROVE, {}), (A.FOLLOWUP, {}), (A.CLOSE, {})])
    hold = (A.HOLD, {"reason": "parts", "evidence": "bearing on order"})
    ticket([(A.ACK, {}), hold, (A.CANCEL, {"reason": "duplicate"})], farm="DHQ", turbine="01")
    ticket([*site, (A.REOPEN, {"reason": "again"}), (A.DISPATCH, {"technician": "zhaom"})])
    ticket([*site, (A.SUBMIT, {}), (A.RETURN, {"reason": "photos"}), (A.RESTORE, {})])
    ticket([(A.ACK, {}), (A.FEEDBACK, {}), hold], farm="XKF", turbine=None, category="consulting")


def _instants(snap: TicketSnapshot) -> list[datetime]:
    tl = snap.timeline
    found = [getattr(tl, f.name) for f in fields(tl) if isinstance(getattr(tl, f.name), datetime)]
    for h in tl.holds:
        found += [h.start] + ([h.end] if h.end else [])
    return found


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_read_matches_the_per_ticket_reference(any_desk: Desk, lang: str) -> None:
    desk = any_desk
    _varied(desk)
    try:
        i18n.set_language(lang)
        everything = desk.tickets(include_closed=True)
        expected = [reference(s.number) for s in everything]
        assert everything == expected
        assert len(everything) == 405
        assert {s.state for s in everything} >= {TicketState.CLOSED, TicketState.CANCELLED}
        assert any(s.timeline.contract == "premium" for s in everything)
        assert any(s.turbine is None for s in everything)
        assert any(s.hold is not None for s in everything)
        # Equal aware datetimes in another zone would compare equal: insist on UTC itself.
        assert all(t.tzinfo is UTC for s in everything for t in _instants(s))

        by_number = {s.number: s for s in expected}
        assert desk.open_tickets() == [s for s in expected if s.state.is_open]
        assert desk.tickets(farm="XKF", include_closed=True) == [
            s for s in expected if s.farm == "XKF"
        ]
        assert desk.tickets(state="on_site") == [
            s for s in expected if s.state is TicketState.ON_SITE
        ]
        for number in (1001, 1400, 1403, 1405):
            assert desk.ticket(number) == by_number[number]
        mark, changed = desk.changed_since(0)
        assert changed == expected
        last = max(s.change_seq for s in expected)
        assert mark == last
        assert desk.changed_since(last - 1)[1] == [s for s in expected if s.change_seq == last]
    finally:
        i18n.set_language("en")


def test_a_write_sees_the_timeline_the_read_path_builds(desk: Desk) -> None:
    """``act`` takes its "before" timeline from the same read path; a hold then a resume works."""
    populate(desk, 20, now=NOW)
    held = next(s for s in desk.open_tickets() if s.hold is not None)
    after = desk.act(held.number, A.RESUME, reason="cleared", expected_version=held.version)
    assert after.hold is None
    assert after.timeline.holds[-1].end == NOW
    assert after == reference(held.number)
