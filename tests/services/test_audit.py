"""The hash-chained event log: appends, triggers, tampering found, the schema 1 -> 2 upgrade."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import peewee
import pytest
from hypothesis import given
from hypothesis import strategies as st

from windtui.domain import audit as chain_rules
from windtui.domain.audit import GENESIS, ChainEvent, content, event_hash
from windtui.domain.model import Action
from windtui.services import audit
from windtui.services.desk import Desk
from windtui.store.db import is_sqlite
from windtui.store.models import Event, Ticket
from windtui.store.schema import (
    SCHEMA_VERSION,
    append_only_triggers,
    drop_append_only_triggers,
    schema_version,
)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def _work(desk: Desk) -> list[int]:
    """A few tickets with a few steps each: a chain of a few dozen events."""
    numbers = []
    for title in ("Pitch fault", "Converter trip", "Yaw noise"):
        n = desk.create_ticket(farm="DBC", category="fault", priority="P2", title=title).number
        desk.act(n, Action.ACK)
        desk.act(n, Action.FEEDBACK)
        desk.add_note(n, f"called the site about {title}")
        numbers.append(n)
    return numbers


def test_every_write_extends_one_unbroken_chain(any_desk: Desk) -> None:
    _work(any_desk)
    rows = list(Event.select().order_by(Event.chain_seq))
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    report = audit.verify(any_desk)
    assert report.ok and report.checked == len(rows)
    assert audit.head(any_desk) == (len(rows), rows[-1].hash)
    assert audit.verify(any_desk, expected_head=rows[-1].hash).ok


def test_triggers_refuse_update_and_delete(any_desk: Desk) -> None:
    _work(any_desk)
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        Event.update(actor="mallory").execute()
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        Event.delete().where(Event.chain_seq == 2).execute()


def _tamper(desk: Desk, sql: str, *params: object) -> None:
    """Change the event table behind the app's back: drop the triggers first, as an attacker
    with write access to the database would."""
    with desk.db.atomic():
        drop_append_only_triggers(desk.db)
        desk.db.execute_sql(sql.replace("?", "%s") if "postgres" in desk.url else sql, params)


def test_an_edited_event_is_found_with_its_ticket_time_and_actor(any_desk: Desk) -> None:
    numbers = _work(any_desk)
    target = Event.get(Event.action == "ack", Event.ticket == _id(numbers[1]))
    _tamper(any_desk, "UPDATE event SET actor = ? WHERE seq = ?", "mallory", target.seq)
    report = audit.verify(any_desk)
    assert not report.ok and report.problem == "edited"
    assert (report.chain_seq, report.ticket, report.actor) == (
        target.chain_seq,
        numbers[1],
        "mallory",
    )
    assert f"event {target.chain_seq} was changed after it was written" in report.message
    assert f"ticket {numbers[1]}" in report.message


def test_an_edited_event_with_a_recomputed_hash_breaks_the_next_link(any_desk: Desk) -> None:
    _work(any_desk)
    target = Event.get(Event.chain_seq == 5)
    forged = chain_rules.ChainEvent(
        seq=target.seq,
        chain_seq=5,
        ticket_id=target.ticket_id,
        change_seq=target.change_seq,
        actor="mallory",
        action=target.action,
        field=target.field,
        old_value=target.old_value,
        new_value=target.new_value,
        note=target.note,
        occurred_at=target.occurred_at,
        recorded_at=target.recorded_at,
        prev_hash=target.prev_hash,
        hash=None,
    )
    digest = event_hash(target.prev_hash, content(forged))
    _tamper(
        any_desk,
        "UPDATE event SET actor = ?, hash = ? WHERE seq = ?",
        "mallory",
        digest,
        target.seq,
    )
    report = audit.verify(any_desk)
    assert (report.problem, report.chain_seq) == ("broken", 6)


def test_a_deleted_event_is_named_missing(any_desk: Desk) -> None:
    _work(any_desk)
    _tamper(any_desk, "DELETE FROM event WHERE chain_seq = ?", 7)
    report = audit.verify(any_desk)
    assert (report.ok, report.problem, report.chain_seq, report.checked) == (False, "missing", 7, 6)
    assert "event 7 is missing" in report.message


def test_events_cut_from_the_end_are_found_against_the_kept_head(any_desk: Desk) -> None:
    _work(any_desk)
    position, kept = audit.head(any_desk)
    _tamper(any_desk, "DELETE FROM event WHERE chain_seq >= ?", position - 1)
    assert audit.verify(any_desk).ok  # a shorter chain is still a chain...
    report = audit.verify(any_desk, expected_head=kept)  # ...but not the one we anchored
    assert (report.ok, report.problem, report.chain_seq) == (False, "head", position - 2)


def test_a_row_written_outside_windtui_is_found(desk: Desk) -> None:
    numbers = _work(desk)
    stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    _tamper(
        desk,
        "INSERT INTO event (ticket_id, change_seq, actor, action, occurred_at, recorded_at)"
        " VALUES (?, 0, 'mallory', 'approve', ?, ?)",
        _id(numbers[0]),
        stamp,
        stamp,
    )
    report = audit.verify(desk)
    assert (report.problem, report.actor, report.ticket) == ("unchained", "mallory", numbers[0])


def _id(number: int) -> int:
    return Ticket.get(Ticket.number == number).id


@st.composite
def _events(draw: st.DrawFn) -> list[ChainEvent]:
    count = draw(st.integers(min_value=1, max_value=12))
    prev, out = GENESIS, []
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        event = ChainEvent(
            seq=i + 1,
            chain_seq=i + 1,
            ticket_id=draw(st.none() | st.integers(1, 5)),
            change_seq=i,
            actor=draw(st.sampled_from(["luog", "wangjg", "zhengk"])),
            action=draw(st.sampled_from(["ack", "note", "depart"])),
            field="state",
            old_value=None,
            new_value=draw(st.text(max_size=8)),
            note=None,
            occurred_at=base + timedelta(minutes=i),
            recorded_at=base + timedelta(minutes=i),
            prev_hash=prev,
            hash=None,
        )
        digest = event_hash(prev, content(event))
        out.append(ChainEvent(**{**_as_dict(event), "hash": digest}))
        prev = digest
    return out


def _as_dict(event: ChainEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in ChainEvent.__dataclass_fields__}


@given(events=_events(), data=st.data())
def test_any_single_change_to_a_chain_is_found(
    events: list[ChainEvent], data: st.DataObject
) -> None:
    assert chain_rules.verify(events).broken is None
    index = data.draw(st.integers(0, len(events) - 1))
    kind = data.draw(st.sampled_from(["edit", "delete", "swap"]))
    changed = list(events)
    if kind == "edit":
        changed[index] = ChainEvent(**{**_as_dict(events[index]), "actor": "mallory"})
        if events[index].actor == "mallory":
            return
    elif kind == "delete":
        del changed[index]
        if index == len(events) - 1:  # only the anchored head can tell
            report = chain_rules.verify(changed, expected_head=events[-1].hash)
            assert report.broken is not None and report.broken.kind == "head"
            return
    else:
        if len(events) < 2 or index == len(events) - 1:
            return
        changed[index], changed[index + 1] = changed[index + 1], changed[index]
    assert chain_rules.verify(changed).broken is not None


def test_a_schema_1_database_is_upgraded_and_its_events_chained(backend_url: str) -> None:
    desk = Desk.open(backend_url, now=NOW, actor="tester")
    desk.add_staff("tester", name_zh="测", name_en="T", roles=["admin", "dispatcher"])
    desk.add_farm("DBC", name_zh="达", name_en="D", province="新疆", latitude=43, longitude=88)
    _work(desk)
    events = Event.select().count()
    _downgrade_to_schema_1(desk)
    desk.close()
    desk = Desk.open(backend_url, now=NOW, actor="tester")  # upgrades on open
    assert schema_version(desk.db) == SCHEMA_VERSION
    report = audit.verify(desk)
    assert report.ok and report.checked == events > 10
    assert desk.identity.login == "tester" and desk.farms()[0].code == "DBC"
    desk.add_note(1001, "after the upgrade")
    assert audit.verify(desk).checked == events + 1
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        Event.delete().execute()
    desk.close()


def _downgrade_to_schema_1(desk: Desk) -> None:
    """What a version-1 windtui left behind: no chain columns, no logins/refusals tables,
    an append-only trigger on the event table only."""
    db = desk.db
    with db.atomic():
        drop_append_only_triggers(db)
        for index in ("event_chain_seq", "event_hash"):
            db.execute_sql(f"DROP INDEX IF EXISTS {index}")
        for column in ("chain_seq", "prev_hash", "hash"):
            db.execute_sql(f"ALTER TABLE event DROP COLUMN {column}")
        db.execute_sql("ALTER TABLE staff DROP COLUMN active")
        db.execute_sql("ALTER TABLE farm DROP COLUMN access_notes")
        db.execute_sql("DROP TABLE staff_os_login")
        db.execute_sql("DROP TABLE refusal")
        for sql in append_only_triggers(db)[: 2 if is_sqlite(db) else 3]:  # event's only
            db.execute_sql(sql)
        db.execute_sql("UPDATE schema_meta SET value = '1' WHERE key = 'schema_version'")
