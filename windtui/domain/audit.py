"""The hash chain of the event log: how an event is hashed and how a chain is checked.

Each event's hash is ``sha256(prev_hash || canonical JSON of its content)``; canonical means
sorted keys, compact separators, UTF-8, instants as fixed-width UTC text. The first event's
``prev_hash`` is :data:`GENESIS`. Editing any field of a row changes its hash; deleting or
inserting a row breaks the next row's link and leaves a gap in ``chain_seq``. Deleting the newest
rows leaves a shorter but valid chain: only a head kept outside the database (``windtui audit
head``) finds that, which is why :func:`verify` accepts an expected head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
INSTANT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """One event as the chain sees it (the stored columns, nothing derived)."""

    seq: int  # the row id (for messages only: not hashed, PostgreSQL sequences may skip)
    chain_seq: int | None
    ticket_id: int | None
    change_seq: int
    actor: str
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    note: str | None
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: str | None
    hash: str | None


def instant_text(value: datetime) -> str:
    """An instant exactly as the database stores it (naive UTC, microseconds)."""
    return value.astimezone(UTC).strftime(INSTANT_FORMAT)


def content(event: ChainEvent) -> dict[str, object]:
    """The hashed content of ``event`` (everything but its row id and the hashes)."""
    return {
        "chain_seq": event.chain_seq,
        "ticket": event.ticket_id,
        "change_seq": event.change_seq,
        "actor": event.actor,
        "action": event.action,
        "field": event.field,
        "old": event.old_value,
        "new": event.new_value,
        "note": event.note,
        "occurred_at": instant_text(event.occurred_at),
        "recorded_at": instant_text(event.recorded_at),
    }


def event_hash(prev_hash: str, body: dict[str, object]) -> str:
    """``sha256(prev_hash || canonical_json(body))`` as hex."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the chain does not hold."""

    kind: str  # "edited", "missing", "broken", "unchained", "head"
    chain_seq: int | None  # the position concerned (the missing one, for "missing")
    event: ChainEvent | None  # the row where the break shows (None: the chain is empty)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify` found: how many events it checked, the head, the first break."""

    checked: int
    head_hash: str
    head_seq: int
    broken: ChainBreak | None


def verify(events: Iterable[ChainEvent], *, expected_head: str | None = None) -> ChainReport:
    """Walk ``events`` in ``chain_seq`` order and report the first break.

    * ``unchained`` — a row without chain columns (written behind the app's back);
    * ``missing`` — a gap in ``chain_seq`` (a row was deleted);
    * ``broken`` — a row's ``prev_hash`` is not the previous row's hash (the previous row was
      replaced with a recomputed hash, or this one was re-linked);
    * ``edited`` — a row's content no longer gives its stored hash;
    * ``head`` — the chain is intact but does not end at ``expected_head`` (rows deleted from
      the end, or the whole chain rebuilt).
    """
    prev_hash, prev_seq, checked = GENESIS, 0, 0
    for event in events:
        if event.chain_seq is None or event.hash is None or event.prev_hash is None:
            return ChainReport(checked, prev_hash, prev_seq, ChainBreak("unchained", None, event))
        if event.chain_seq != prev_seq + 1:
            return ChainReport(
                checked, prev_hash, prev_seq, ChainBreak("missing", prev_seq + 1, event)
            )
        if event.prev_hash != prev_hash:
            return ChainReport(
                checked, prev_hash, prev_seq, ChainBreak("broken", event.chain_seq, event)
            )
        if event_hash(prev_hash, content(event)) != event.hash:
            return ChainReport(
                checked, prev_hash, prev_seq, ChainBreak("edited", event.chain_seq, event)
            )
        prev_hash, prev_seq, checked = event.hash, event.chain_seq, checked + 1
    broken = None
    if expected_head is not None and expected_head != prev_hash:
        broken = ChainBreak("head", prev_seq, None)
    return ChainReport(checked, prev_hash, prev_seq, broken)
