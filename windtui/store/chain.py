"""Appending to and reading the hash-chained event log (the only writer of ``event`` rows).

Appends are serialised: SQLite's ``BEGIN IMMEDIATE`` already holds the database write lock; on
PostgreSQL a transaction-scoped advisory lock is taken before the head is read, so two writers
can never link to the same head (the UNIQUE ``hash`` and ``chain_seq`` columns would refuse a
fork anyway).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from peewee import Database

from windtui.domain.audit import GENESIS, ChainEvent, content, event_hash
from windtui.store.db import is_sqlite
from windtui.store.models import Event, UtcDateTimeField

#: pg_advisory_xact_lock key for chain appends ("wtchain").
_PG_CHAIN_LOCK = 0x777463686169
_BATCH = 100  # rows per INSERT: under SQLite's variable limit


def head(db: Database) -> tuple[int, str]:
    """The newest event's ``(chain_seq, hash)``; ``(0, GENESIS)`` for an empty log."""
    row = (
        Event.select(Event.chain_seq, Event.hash)
        .where(Event.chain_seq.is_null(False))
        .order_by(Event.chain_seq.desc())
        .limit(1)
        .tuples()
        .first()
    )
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def append(db: Database, rows: Sequence[dict[str, Any]]) -> None:
    """Insert event ``rows`` (Event column values) chained after the head, in this order.

    Must run inside the caller's write transaction, so the events commit with the change.
    """
    if not rows:
        return
    if not is_sqlite(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_CHAIN_LOCK,))
    seq, prev = head(db)
    chained = []
    for row in rows:
        seq += 1
        event = _chain_event(row, seq)
        digest = event_hash(prev, content(event))
        chained.append({**row, "chain_seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(chained), _BATCH):
        Event.insert_many(chained[start : start + _BATCH]).execute()


def _chain_event(row: dict[str, Any], chain_seq: int) -> ChainEvent:
    ticket = row.get("ticket")
    return ChainEvent(
        seq=0,
        chain_seq=chain_seq,
        ticket_id=ticket if ticket is None or isinstance(ticket, int) else ticket.id,
        change_seq=int(row.get("change_seq", 0)),
        actor=row["actor"],
        action=row["action"],
        field=row.get("field"),
        old_value=row.get("old_value"),
        new_value=row.get("new_value"),
        note=row.get("note"),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        prev_hash=None,
        hash=None,
    )


_CONVERT = UtcDateTimeField()

#: The event columns a chain walk reads, in the order :func:`_from_row` unpacks them.
_COLUMNS = (
    Event.seq,
    Event.chain_seq,
    Event.ticket,
    Event.change_seq,
    Event.actor,
    Event.action,
    Event.field,
    Event.old_value,
    Event.new_value,
    Event.note,
    Event.occurred_at,
    Event.recorded_at,
    Event.prev_hash,
    Event.hash,
)


def chain_events(db: Database, *, batch: int = 5000) -> Iterator[ChainEvent]:
    """Every event in chain order (rows without a chain position last, by row id).

    Read in keyset pages so a long log never sits in memory at once.
    """
    columns = _COLUMNS
    last = 0
    while True:
        page = list(
            Event.select(*columns)
            .where(Event.chain_seq > last)
            .order_by(Event.chain_seq)
            .limit(batch)
            .tuples()
        )
        for row in page:
            yield _from_row(row)
        if len(page) < batch:
            break
        last = page[-1][1]
    for row in Event.select(*columns).where(Event.chain_seq.is_null()).order_by(Event.seq).tuples():
        yield _from_row(row)


def _from_row(row: tuple[Any, ...]) -> ChainEvent:
    (seq, chain_seq, ticket, change_seq, actor, action, field, old, new, note, occ, rec, p, h) = row
    return ChainEvent(
        seq=seq,
        chain_seq=chain_seq,
        ticket_id=ticket,
        change_seq=change_seq,
        actor=actor,
        action=action,
        field=field,
        old_value=old,
        new_value=new,
        note=note,
        occurred_at=_instant(occ),
        recorded_at=_instant(rec),
        prev_hash=p,
        hash=h,
    )


def _instant(value: object) -> datetime:
    converted = _CONVERT.python_value(value)
    assert converted is not None
    return converted


def rechain_all(db: Database) -> int:
    """Give every event a chain position and hashes, in ``seq`` order (schema upgrade only:
    the append-only triggers must be dropped first). Returns the number of events chained."""
    prev, count = GENESIS, 0
    rows = list(Event.select(*_COLUMNS).order_by(Event.seq).tuples())
    for row in rows:
        count += 1
        event = _from_row(row)
        body = content(replace(event, chain_seq=count))
        digest = event_hash(prev, body)
        Event.update(chain_seq=count, prev_hash=prev, hash=digest).where(
            Event.seq == event.seq
        ).execute()
        prev = digest
    return count
