"""The audit trail as the QA group and administrators use it: verify the hash chain, print its
head (to keep outside the database), list refused attempts.

``windtui audit verify`` walks every event in chain order and names the first broken or missing
one with its ticket, time and actor. ``windtui audit head`` prints the newest hash: anchored
elsewhere (a syslog host, a signed note, a ticket in another system) it proves later that no
events were cut from the end and that the chain was not rebuilt from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from windtui.domain import audit
from windtui.domain import roles as access
from windtui.i18n import _
from windtui.services.desk import Desk, _active
from windtui.store import chain
from windtui.store.models import Refusal, Ticket


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of a chain walk, in words a person can act on."""

    ok: bool
    checked: int
    head_hash: str
    head_seq: int
    problem: str | None  # "edited", "missing", "broken", "unchained", "head"
    chain_seq: int | None
    event_seq: int | None  # the row id where the break shows
    ticket: int | None  # ticket number (None: a desk-wide event such as a policy load)
    actor: str | None
    occurred_at: datetime | None
    recorded_at: datetime | None
    message: str


@dataclass(frozen=True, slots=True)
class RefusalRecord:
    """One refused attempt: who tried what, which roles may."""

    at: datetime
    actor: str
    os_login: str
    operation: str
    target: str
    needed: tuple[str, ...]
    message: str


@_active
def verify(desk: Desk, *, expected_head: str | None = None) -> AuditReport:
    """Walk the whole chain (QA, supervisors, administrators)."""
    desk._gate(access.AUDIT)
    report = audit.verify(chain.chain_events(desk.db), expected_head=expected_head)
    broken = report.broken
    if broken is None:
        return AuditReport(
            ok=True,
            checked=report.checked,
            head_hash=report.head_hash,
            head_seq=report.head_seq,
            problem=None,
            chain_seq=None,
            event_seq=None,
            ticket=None,
            actor=None,
            occurred_at=None,
            recorded_at=None,
            message=_("audit chain intact: {count} events, head {head}").format(
                count=report.checked, head=report.head_hash[:16]
            ),
        )
    event = broken.event
    number = None
    if event is not None and event.ticket_id is not None:
        number = Ticket.select(Ticket.number).where(Ticket.id == event.ticket_id).scalar()
    return AuditReport(
        ok=False,
        checked=report.checked,
        head_hash=report.head_hash,
        head_seq=report.head_seq,
        problem=broken.kind,
        chain_seq=broken.chain_seq,
        event_seq=event.seq if event is not None else None,
        ticket=number,
        actor=event.actor if event is not None else None,
        occurred_at=event.occurred_at if event is not None else None,
        recorded_at=event.recorded_at if event is not None else None,
        message=_describe(broken, number, report.checked, expected_head),
    )


def _describe(
    broken: audit.ChainBreak, number: int | None, checked: int, expected_head: str | None
) -> str:
    event = broken.event
    where = ""
    if event is not None:
        subject = (
            _("ticket {number}").format(number=number) if number is not None else _("desk-wide")
        )
        where = _("{subject}, {action} by {actor} at {when}").format(
            subject=subject,
            action=event.action,
            actor=event.actor,
            when=event.recorded_at.isoformat(timespec="seconds"),
        )
    if broken.kind == "edited":
        return _("event {position} was changed after it was written ({where})").format(
            position=broken.chain_seq, where=where
        )
    if broken.kind == "missing":
        return _("event {position} is missing: deleted before the event at {where}").format(
            position=broken.chain_seq, where=where
        )
    if broken.kind == "broken":
        return _(
            "event {position} does not link to the event before it: that one was replaced ({where})"
        ).format(position=broken.chain_seq, where=where)
    if broken.kind == "unchained":
        return _(
            "event row {seq} was written outside windtui: it has no chain link ({where})"
        ).format(seq=event.seq if event is not None else "?", where=where)
    return _(
        "the chain ends at event {position}, not at the head {expected}: events were cut from"
        " the end or the chain was rebuilt"
    ).format(position=broken.chain_seq, expected=(expected_head or "")[:16])


@_active
def head(desk: Desk) -> tuple[int, str]:
    """The newest event's chain position and hash."""
    desk._gate(access.AUDIT)
    return chain.head(desk.db)


@_active
def refusals(desk: Desk, *, limit: int = 100) -> list[RefusalRecord]:
    """The newest refused attempts, newest first."""
    desk._gate(access.AUDIT)
    rows = Refusal.select().order_by(Refusal.id.desc()).limit(limit)
    return [
        RefusalRecord(
            at=r.at,
            actor=r.actor,
            os_login=r.os_login,
            operation=r.operation,
            target=r.target,
            needed=tuple(x for x in r.needed.split(",") if x),
            message=r.message,
        )
        for r in rows
    ]
