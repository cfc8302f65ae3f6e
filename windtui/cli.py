"""``windtui`` command line: the console, database setup, the demo, and scriptable ticket commands.

Every command takes the global options ``--db URL`` (``$WINDTUI_DB``), ``--now ISO``
(``$WINDTUI_NOW``, freezes the clock), ``--lang en|zh_CN`` and ``--as LOGIN`` before or after the
command name. Bad input prints exactly one line, ``windtui: error: <message>``, on stderr and exits
non-zero without writing anything (every write is one ``Desk`` transaction).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from rich.cells import cell_len, set_cell_size

from windtui import __version__, i18n
from windtui.domain.model import (
    Action,
    Category,
    Clock,
    ClockState,
    Downtime,
    HoldReason,
    Priority,
    Role,
    Target,
    TicketState,
)
from windtui.durations import compact
from windtui.errors import NotFound, WindtuiError
from windtui.i18n import _
from windtui.safetext import json_escape, visible

if TYPE_CHECKING:
    from windtui.domain.policy import ResolvedPolicy
    from windtui.services.desk import Desk
    from windtui.services.records import TicketSnapshot

#: Timezone of a bare ``--now`` (no offset): the desk sits in China.
DESK_TZ = "Asia/Shanghai"
USAGE_EXIT = 2
AUDIT_BROKEN_EXIT = 6


class UsageError(Exception):
    """Bad command-line syntax (argparse's own complaints), reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage + error and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


# ---------------------------------------------------------------------------------------------
# Small helpers: time, durations, tables


def parse_instant(text: str, tz: str, what: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 instant (a bare one is read in ``tz``) or ``-2h30m`` before ``now``, as UTC."""
    value = text.strip()
    if now is not None and value[:1] == "-" and "T" not in value and ":" not in value:
        from windtui.services.demo import parse_offset

        try:
            return now + parse_offset(value)
        except WindtuiError:
            pass  # fall through to the ISO message below
    try:
        parsed = pendulum.parse(value, tz=tz)
    except Exception:  # pendulum raises ParserError or ValueError for out-of-range fields
        parsed = None
    if not isinstance(parsed, datetime):
        raise WindtuiError(
            _(
                "cannot read the time '{value}' for {what}: use ISO 8601 such as"
                " 2026-03-10T14:30+08:00"
            ).format(value=text, what=what)
        )
    return datetime.fromtimestamp(parsed.timestamp(), tz=UTC)


def local(value: datetime | None, tz: str, fmt: str = "YYYY-MM-DD HH:mm") -> str:
    """``value`` shown in the farm's timezone (``–`` for None)."""
    if value is None:
        return "–"
    return pendulum.instance(value).in_timezone(tz).format(fmt)


def iso(value: datetime | None, tz: str) -> str | None:
    """ISO 8601 with the farm's UTC offset, e.g. ``2026-03-10T14:05:00+08:00``."""
    if value is None:
        return None
    return pendulum.instance(value).in_timezone(tz).isoformat()


def human(seconds: float | None) -> str:
    """A compact duration: ``2d04h``, ``3h05m``, ``12m``; negative for overdue."""
    return compact(seconds)


_CLOCK_MARK = {
    ClockState.MET: "✓",
    ClockState.NOT_APPLICABLE: "·",
    ClockState.RUNNING: "",
    ClockState.AT_RISK: "!",
    ClockState.BREACHED: "✗",
    ClockState.PAUSED: "‖",
}


def clock_cell(clock: Clock) -> str:
    """One clock in a table cell: ``✓`` met, ``·`` n/a, ``3h05m``, ``!45m``, ``✗2h10m``, ``‖5h``."""
    if clock.state in (ClockState.MET, ClockState.NOT_APPLICABLE):
        return _CLOCK_MARK[clock.state]
    remaining = clock.remaining_seconds or 0.0
    shown = abs(remaining) if clock.state is ClockState.BREACHED else remaining
    return _CLOCK_MARK[clock.state] + human(shown)


def legend() -> str:
    """The key to the clock cells."""
    return _(
        "✓ met  · n/a  ! at risk  ✗ breached (overdue by)  ‖ paused  (remaining business time)"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, fit_last: bool = True) -> str:
    """Columns aligned by terminal cell width (a CJK character counts 2).

    Cells are shown with :func:`visible` (user text may hold terminal controls). The last column
    is cut to the terminal width when output goes to a terminal.
    """
    body = [[visible(str(c)) for c in row] for row in rows]
    head = [visible(str(h)) for h in headers]
    widths = [cell_len(h) for h in head]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_len(cell))
    room = None
    if fit_last and sys.stdout.isatty():
        used = sum(widths[:-1]) + 2 * (len(widths) - 1)
        room = max(shutil.get_terminal_size().columns - used, 10)

    def line(cells: Sequence[str]) -> str:
        parts = [c + " " * (widths[i] - cell_len(c)) for i, c in enumerate(cells[:-1])]
        last = cells[-1]
        if room is not None and cell_len(last) > room:
            last = set_cell_size(last, room - 1) + "…"
        return "  ".join([*parts, last]).rstrip()

    out = [line(head), line(["-" * w for w in widths[:-1]] + ["-" * min(widths[-1], room or 99)])]
    out.extend(line(row) for row in body)
    return "\n".join(out)


def dump(data: Any) -> None:
    """JSON on stdout (UTF-8, not ASCII-escaped; controls, bidi and separators escaped)."""
    print(json_escape(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)))


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def _enum_arg(kind: type[Enum], value: str | None, what: str) -> Any:
    """``value`` as a member of ``kind``; a one-line error naming the bad value otherwise."""
    if value is None:
        return None
    for member in kind:
        if value == member.value or value.lower() == str(member.value).lower():
            return member
    raise WindtuiError(
        _("unknown {what} '{value}': choose one of {choices}").format(
            what=what, value=value, choices=", ".join(str(m.value) for m in kind)
        )
    )


# ---------------------------------------------------------------------------------------------
# Opening the desk


def _now(args: argparse.Namespace) -> datetime | None:
    """The frozen ``--now`` (or ``$WINDTUI_NOW``) as UTC, or None for the real clock."""
    text = args.now or os.environ.get("WINDTUI_NOW")
    if not text:
        return None
    return parse_instant(text, DESK_TZ, "--now")


_opened: list[Desk] = []


def _open(args: argparse.Namespace, url: str | None = None) -> Desk:
    from windtui.services.desk import Desk

    desk = Desk.open_for_login(url or args.db, now=args.now_utc, requested=args.actor)
    _opened.append(desk)  # closed by main(), so an in-process caller leaves no connection
    return desk


def _close_all() -> None:
    while _opened:
        _opened.pop().close()


def _lang(args: argparse.Namespace) -> str:
    return i18n.current_language()


def _name(zh: str, en: str) -> str:
    return zh if i18n.current_language() == "zh_CN" else en


# ---------------------------------------------------------------------------------------------
# Ticket views


def _clocks(desk: Desk, snap: TicketSnapshot, now: datetime) -> tuple[Clock, ...]:
    from windtui.domain.sla import compute_clocks

    return compute_clocks(
        snap.timeline,
        desk.policy(),
        farm_tz=snap.farm_timezone,
        farm_calendar=snap.farm_calendar,
        now=now,
    )


def clock_json(clock: Clock, tz: str) -> dict[str, Any]:
    """One clock as JSON; instants carry the farm's UTC offset."""
    return {
        "target": clock.target.value,
        "state": clock.state.value,
        "due": iso(clock.due, tz),
        "remaining_seconds": None
        if clock.remaining_seconds is None
        else round(clock.remaining_seconds),
        "percent_used": None if clock.percent_used is None else round(clock.percent_used, 1),
        "target_seconds": round(clock.target_seconds),
        "started": clock.started,
        "start": iso(clock.start, tz),
        "met_at": iso(clock.met_at, tz),
        "hold_reason": clock.hold_reason.value if clock.hold_reason else None,
        "calendar": clock.calendar,
    }


def downtime_json(value: Downtime | None, tz: str) -> dict[str, Any] | None:
    """The turbine downtime clock as JSON (None when the turbine was never stopped)."""
    if value is None:
        return None
    return {
        "since": iso(value.since, tz),
        "until": iso(value.until, tz),
        "seconds": round(value.seconds),
    }


def ticket_json(
    snap: TicketSnapshot, clocks: tuple[Clock, ...], down: Downtime | None
) -> dict[str, Any]:
    """The JSON object for one ticket (``tickets --json``, ``ticket create/act --json``)."""
    tz = snap.farm_timezone
    return {
        "number": snap.number,
        "version": snap.version,
        "farm": snap.farm,
        "turbine": snap.turbine,
        "category": snap.category.value,
        "priority": snap.priority.value,
        "state": snap.state.value,
        "title": snap.title,
        "owner": snap.owner,
        "owner_name": snap.owner_name,
        "hold": snap.hold.value if snap.hold else None,
        "fault_code": snap.fault_code,
        "received": iso(snap.timeline.received_at, tz),
        "clocks": [clock_json(c, tz) for c in clocks],
        "downtime": downtime_json(down, tz),
    }


def _snapshot_json(desk: Desk, snap: TicketSnapshot) -> dict[str, Any]:
    from windtui.domain.sla import downtime

    now = desk.clock()
    return ticket_json(snap, _clocks(desk, snap, now), downtime(snap.timeline, now))


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_console(args: argparse.Namespace, url: str | None = None) -> int:
    """Open the Textual console (or print a summary when the console is not installed)."""
    # None: the console decides (off when SSH_CONNECTION is set); --mouse/--no-mouse override it.
    mouse: bool | None = args.mouse
    try:
        from windtui.tui.app import run_console
    except ImportError as exc:
        if exc.name not in ("windtui.tui.app", "textual"):
            raise
        return _summary(args, url)
    options: dict[str, Any] = {
        "db_url": url or args.db,
        "now": args.now_utc,
        "lang": i18n.current_language(),
        "mouse": mouse,
    }
    if args.actor:
        options["actor"] = args.actor  # `--as`: honoured for an admin or a trusted account
    return int(run_console(**options) or 0)


def _summary(args: argparse.Namespace, url: str | None) -> int:
    """Counts of open tickets, at-risk and breached clocks (the console's headline)."""
    desk = _open(args, url)
    now = desk.clock()
    open_, at_risk, breached, on_hold = 0, 0, 0, 0
    for snap in desk.tickets():
        open_ += 1
        states = {c.state for c in _clocks(desk, snap, now)}
        at_risk += ClockState.AT_RISK in states
        breached += ClockState.BREACHED in states
        on_hold += snap.hold is not None
    print(
        _(
            "{open} open tickets: {at_risk} at risk, {breached} breached, {on_hold} on hold"
            " (the console is not available; see `windtui tickets`)"
        ).format(open=open_, at_risk=at_risk, breached=breached, on_hold=on_hold)
    )
    return 0


def _policy_stored(desk: Desk) -> bool:
    """True when the database holds a loaded policy (not the shipped fallback)."""
    from windtui.paths import default_policy_path

    return desk.policy().source != str(default_policy_path())


def _load_shipped_policy(desk: Desk) -> None:
    from windtui.paths import default_policy_path

    if not _policy_stored(desk):
        desk.load_policy_file(default_policy_path())


def cmd_init(args: argparse.Namespace) -> int:
    """Create or upgrade the schema, load the shipped policy, optionally the demo fleet."""
    desk = _open(args)
    if args.demo and desk.tickets(include_closed=True):
        if not args.force:
            raise WindtuiError(
                _(
                    "the database already has tickets: refusing to load the demo"
                    " (use --force to wipe it first)"
                )
            )
        desk.reset()
    version = desk.init_schema()
    _load_shipped_policy(desk)
    policy = desk.policy()
    print(
        _("database ready (schema {version}), policy {source} ({digest})").format(
            version=version, source=Path(policy.source).name, digest=policy.digest[:12]
        )
    )
    if args.demo:
        _print_demo(desk.load_demo(_lang(args)))
    elif desk.identity.via == "bootstrap":
        # The one who sets the database up becomes its first administrator: from now on
        # nobody acts without being on the staff list.
        me = desk.identity.login
        desk.add_staff(me, name_zh=me, name_en=me, roles=[Role.ADMIN.value])
        print(
            _(
                "first administrator: {login} (add people with `windtui staff add LOGIN"
                " --name-zh … --roles …`)"
            ).format(login=me)
        )
    return 0


def _print_demo(summary: Any) -> None:
    print(
        _(
            "demo loaded: {farms} farms, {turbines} turbines, {staff} staff,"
            " {tickets} tickets ({events} replayed actions)"
        ).format(
            farms=summary.farms,
            turbines=summary.turbines,
            staff=summary.staff,
            tickets=summary.tickets,
            events=summary.events,
        )
    )
    past = getattr(summary, "history", None)
    if past is not None and past.tickets:
        print(
            _(
                "history: {tickets} closed tickets of the past year (numbers {first}–{last}),"
                " {suggestions} suggestions, {improvements} improvement items"
            ).format(
                tickets=past.tickets,
                first=past.first_number,
                last=past.last_number,
                suggestions=past.suggestions,
                improvements=past.improvements,
            )
        )


def demo_db_path() -> Path:
    """The demo's own SQLite file, next to (never instead of) the real database."""
    from windtui.store.paths import user_data_dir

    return user_data_dir() / "demo.db"


def cmd_demo(args: argparse.Namespace) -> int:
    """A fresh demo database, then the console."""
    if args.db:  # an explicit database is never wiped: load the demo only into an empty one
        url = args.db
        desk = _open(args, url)
        if desk.tickets(include_closed=True):
            print(_("the database already has tickets: opening it without loading the demo"))
        else:
            _load_shipped_policy(desk)
            _print_demo(desk.load_demo(_lang(args), history=args.history))
    else:  # never $WINDTUI_DB: that may be the production database
        path = demo_db_path()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        desk = _open(args, url)
        _load_shipped_policy(desk)
        _print_demo(desk.load_demo(_lang(args), history=args.history))
        print(_("demo database: {path}").format(path=path))
    desk.close()
    if args.load_only:
        return 0
    return cmd_console(args, url)


def cmd_tickets(args: argparse.Namespace) -> int:
    """List tickets with every clock."""
    from windtui.domain.sla import downtime

    priority = _enum_arg(Priority, args.priority, _("priority"))
    state = _enum_arg(TicketState, args.state, _("state"))
    category = _enum_arg(Category, args.category, _("category"))
    desk = _open(args)
    now = desk.clock()
    snaps = desk.tickets(
        include_closed=args.all,
        farm=args.farm,
        priority=priority,
        state=state,
        category=category,
    )
    views = [(s, _clocks(desk, s, now), downtime(s.timeline, now)) for s in snaps]
    if args.json:
        dump([ticket_json(s, c, d) for s, c, d in views])
        return 0
    headers = [
        _("No."),
        _("P"),
        _("Farm"),
        _("Turbine"),
        _("State"),
        _("Hold"),
        _("Owner"),
        *(_(t.label) for t in Target),
        _("Downtime"),
        _("Title"),
    ]
    rows = [
        [
            str(s.number),
            s.priority.value,
            s.farm,
            (s.turbine or "–").removeprefix(f"{s.farm}-"),
            _(s.state.label),
            _(s.hold.label) if s.hold else "",
            s.owner_name or "",
            *(clock_cell(c) for c in clocks),
            human(d.seconds) if d else "",
            s.title,
        ]
        for s, clocks, d in views
    ]
    if not rows:
        print(_("no tickets match"))
        return 0
    print(table(headers, rows))
    print()
    print(legend())
    return 0


def cmd_ticket_create(args: argparse.Namespace) -> int:
    """Receive a new ticket; prints its number."""
    category = _enum_arg(Category, args.category, _("category"))
    priority = _enum_arg(Priority, args.priority, _("priority"))
    desk = _open(args)
    farm = next((f for f in desk.farms() if f.code == args.farm), None)
    if farm is None:
        raise NotFound(_("farm {name} not found").format(name=args.farm))
    at = parse_instant(args.at, farm.timezone, "--at", now=desk.clock()) if args.at else None
    snap = desk.create_ticket(
        farm=args.farm,
        category=category,
        priority=priority,
        title=args.title,
        turbine=args.turbine,
        description=args.description or "",
        fault_code=args.fault_code,
        reporter=args.reporter,
        contact=args.contact,
        channel=args.channel,
        at=at,
        turbine_stopped=args.turbine_stopped,
        number=args.number,
    )
    if args.json:
        dump(_snapshot_json(desk, snap))
    else:
        print(snap.number)
    return 0


def cmd_ticket_act(args: argparse.Namespace) -> int:
    """Perform a lifecycle action."""
    action = _enum_arg(Action, args.action, _("action"))
    desk = _open(args)
    at = None
    if args.at:
        tz = desk.ticket(args.number).farm_timezone  # NotFound names the ticket
        at = parse_instant(args.at, tz, "--at", now=desk.clock())
    snap = desk.act(
        args.number,
        action,
        reason=args.reason,
        evidence=args.evidence,
        technician=args.tech,
        at=at,
    )
    if args.json:
        dump(_snapshot_json(desk, snap))
    else:
        print(
            _("ticket {number}: {action} → {state}").format(
                number=snap.number, action=_(action.label), state=_(snap.state.label)
            )
        )
    return 0


def cmd_ticket_assign(args: argparse.Namespace) -> int:
    """(Re)assign a ticket's technician."""
    desk = _open(args)
    snap = desk.assign(args.number, args.login)
    print(
        _("ticket {number} assigned to {name} ({login})").format(
            number=snap.number, name=visible(snap.owner_name), login=visible(snap.owner)
        )
    )
    return 0


def clock_table(clocks: Sequence[Clock], tz: str) -> str:
    """The seven clocks as a table: state, due (farm time), remaining, share used, calendar."""
    return table(
        [_("Clock"), _("State"), _("Due"), _("Remaining"), _("Used"), _("Calendar")],
        [
            [
                _(c.target.label),
                _(c.state.label)
                + (f" ({_(c.hold_reason.label)})" if c.hold_reason is not None else ""),
                local(c.due, tz),
                _("met {when}").format(when=local(c.met_at, tz, "MM-DD HH:mm"))
                if c.state is ClockState.MET
                else human(c.remaining_seconds),
                "–" if c.percent_used is None else f"{c.percent_used:.0f}%",
                c.calendar,
            ]
            for c in clocks
        ],
    )


def cmd_ticket_set(args: argparse.Namespace) -> int:
    """Change a ticket's priority and/or category; every clock is recalculated from receipt."""
    priority = _enum_arg(Priority, args.priority, _("priority"))
    category = _enum_arg(Category, args.category, _("category"))
    if priority is None and category is None:
        raise UsageError(_("give --priority and/or --category"))
    desk = _open(args)
    snap = desk.reclassify(args.number, priority=priority, category=category, reason=args.reason)
    if args.json:
        dump(_snapshot_json(desk, snap))
        return 0
    print(
        _("ticket {number} is now {priority} · {category}").format(
            number=snap.number, priority=_(snap.priority.label), category=_(snap.category.label)
        )
    )
    print()
    print(clock_table(_clocks(desk, snap, desk.clock()), snap.farm_timezone))
    return 0


_SHOWN_FIELDS = ("state", "owner", "hold", "priority", "category")
#: Event fields whose values are enum codes, shown by their translated labels.
_FIELD_ENUMS: dict[str, type[Any]] = {
    "state": TicketState,
    "hold": HoldReason,
    "priority": Priority,
    "category": Category,
}


def _event_lines(detail: Any) -> list[list[str]]:
    """The event log grouped per write: when (farm time), who, what, changes, note."""
    tz = detail.ticket.farm_timezone
    groups: list[tuple[Any, list[Any]]] = []
    for event in detail.events:
        key = (event.occurred_at, event.actor, event.action, event.recorded_at)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(event)
        else:
            groups.append((key, [event]))
    rows = []
    for (when, actor, action, _recorded), events in groups:
        changes = []
        for e in events:
            if e.field not in _SHOWN_FIELDS:
                continue  # milestone fields repeat the event time
            changes.append(f"{_field_value(e.field, e.old)} → {_field_value(e.field, e.new)}")
        what = _action_label(action)
        note = next((e.note for e in events if e.note), "")
        rows.append([local(when, tz), actor, what, "; ".join(changes), note or ""])
    return rows


def _action_label(action: str) -> str:
    try:
        return _(Action(action).label)
    except ValueError:
        return {
            "create": _("Created"),
            "assign": _("Assigned"),
            "reclassify": _("Reclassified"),
            "policy": _("Policy"),
            "report": _("Report written"),
            "survey": _("Survey recorded"),
            "improvement": _("Improvement"),
            "suggestion": _("Suggestion"),
        }.get(action, action)


def _field_value(field: str | None, value: str | None) -> str:
    if value is None or value == "":
        return "–"
    kind = _FIELD_ENUMS.get(field or "")
    if kind is not None:
        try:
            return _(kind(value).label)
        except ValueError:
            return value
    return value


def cmd_ticket_show(args: argparse.Namespace) -> int:
    """Fields, clocks, holds, quality records and the timeline of one ticket."""
    from windtui.services import quality

    desk = _open(args)
    detail = desk.detail(args.number)
    snap = detail.ticket
    tz = snap.farm_timezone
    if args.json:
        data = ticket_json(snap, detail.clocks, detail.downtime)
        data.update(
            description=detail.description,
            reporter=detail.reporter,
            contact=detail.contact,
            channel=detail.channel,
            allowed_actions=[a.value for a in detail.allowed_actions],
            site=asdict(detail.site),
            holds=[
                {
                    "reason": h.reason.value,
                    "start": iso(h.start, tz),
                    "end": iso(h.end, tz),
                    "evidence": h.evidence,
                    "resume_note": h.resume_note,
                    "actor": h.actor,
                }
                for h in detail.holds
            ],
            events=[
                {
                    "seq": e.seq,
                    "actor": e.actor,
                    "action": e.action,
                    "field": e.field,
                    "old": e.old,
                    "new": e.new,
                    "occurred_at": iso(e.occurred_at, tz),
                    "recorded_at": iso(e.recorded_at, tz),
                    "note": e.note,
                }
                for e in detail.events
            ],
        )
        data.update(_plain_quality(quality.ticket_quality(desk, args.number), tz))
        dump(data)
        return 0
    fields = [
        (_("Ticket"), str(snap.number)),
        (_("Title"), snap.title),
        (_("Farm"), snap.farm),
        (_("Turbine"), snap.turbine or "–"),
        *_site_fields(detail.site),
        (_("Category"), _(snap.category.label)),
        (_("Priority"), _(snap.priority.label)),
        (_("State"), _(snap.state.label)),
        (_("Hold"), _(snap.hold.label) if snap.hold else "–"),
        (_("Owner"), f"{snap.owner_name} ({snap.owner})" if snap.owner else "–"),
        (_("Fault code"), snap.fault_code or "–"),
        (_("Reporter"), detail.reporter or "–"),
        (_("Contact"), detail.contact or "–"),
        (_("Channel"), detail.channel or "–"),
        (_("Received"), local(snap.timeline.received_at, tz, "YYYY-MM-DD HH:mm Z")),
    ]
    if detail.downtime is not None:
        down = detail.downtime
        state = (
            _("ongoing")
            if down.until is None
            else _("restored {when}").format(when=local(down.until, tz))
        )
        fields.append((_("Downtime"), f"{human(down.seconds)} ({state})"))
    if detail.description:
        fields.append((_("Description"), detail.description))
    width = max(cell_len(k) for k, _v in fields)
    for key, value in fields:  # continuation lines stay indented under the value
        shown = visible(value, multiline=True).replace("\n", "\n" + " " * (width + 2))
        print(f"{key}{' ' * (width - cell_len(key))}  {shown}")
    print()
    print(clock_table(detail.clocks, tz))
    if detail.holds:
        print()
        print(
            table(
                [_("Hold"), _("From"), _("Until"), _("By"), _("Evidence")],
                [
                    [_(h.reason.label), local(h.start, tz), local(h.end, tz), h.actor, h.evidence]
                    for h in detail.holds
                ],
            )
        )
    _print_quality(quality.ticket_quality(desk, args.number), tz)
    print()
    print(
        table(
            [_("When"), _("Who"), _("What"), _("Changes"), _("Note")],
            _event_lines(detail),
        )
    )
    print()
    allowed = ", ".join(a.value for a in detail.allowed_actions) or "–"
    print(_("Allowed actions: {actions}").format(actions=allowed))
    return 0


def _site_fields(site: Any) -> list[tuple[str, str]]:
    """The site facts a crew needs, for ``ticket show`` (empty ones left out)."""
    model = (
        f"{site.model} · {site.rated_kw} kW"
        + (f" · {site.hub_height:g} m" if site.hub_height else "")
        if site.model
        else ""
    )
    contact = " ".join(x for x in (site.duty_contact, site.phone) if x)
    fields = [
        (_("Model"), model),
        (_("Site contact"), contact),
        (_("Access"), site.access_notes),
    ]
    return [(k, v) for k, v in fields if v]


def _listing(
    args: argparse.Namespace,
    records: Sequence[Any],
    headers: list[str],
    row: Callable[[Any], list[str]],
) -> int:
    """Print reference records as JSON (``--json``) or as an aligned table."""
    if args.json:
        dump([asdict(r) for r in records])
    else:
        print(table(headers, [row(r) for r in records]))
    return 0


def cmd_farms(args: argparse.Namespace) -> int:
    """List the wind farms."""
    return _listing(
        args,
        _open(args).farms(),
        [
            _("Code"),
            _("Province"),
            _("Offshore"),
            _("Calendar"),
            _("Turbines"),
            _("Lat, lon"),
            _("Name"),
        ],
        lambda f: [
            f.code,
            f.province,
            _("yes") if f.offshore else _("no"),
            f.calendar,
            str(f.turbine_count),
            f"{f.latitude:.2f}, {f.longitude:.2f}",
            _name(f.name_zh, f.name_en),
        ],
    )


def cmd_turbines(args: argparse.Namespace) -> int:
    """List one farm's turbines."""
    return _listing(
        args,
        _open(args).turbines(args.farm),
        [
            _("Turbine"),
            _("Rated kW"),
            _("Commissioned"),
            _("Warranty end"),
            _("Status"),
            _("Model"),
        ],
        lambda t: [
            t.id,
            str(t.rated_kw),
            t.commissioned,
            t.warranty_end or "–",
            _(t.status),
            t.model,
        ],
    )


def cmd_whoami(args: argparse.Namespace) -> int:
    """Who this desk acts as: the person, their roles, the OS login and how it was decided."""
    me = _open(args).identity
    if args.json:
        dump(
            {
                "login": me.login,
                "name_zh": me.name_zh,
                "name_en": me.name_en,
                "roles": list(me.role_names()),
                "os_login": me.os_login,
                "via": me.via,
                "crew_only": me.crew_only,
            }
        )
        return 0
    roles = ", ".join(_(Role(r).label) for r in me.role_names()) or _("no role")
    how = {
        "login": _("OS login {os_login}"),
        "as": _("--as, by OS login {os_login}"),
        "bootstrap": _("no staff yet: OS login {os_login} may set the database up"),
    }[me.via].format(os_login=me.os_login)
    print(
        visible(
            _("{login} ({name}) — roles: {roles} — {how}").format(
                login=me.login, name=_name(me.name_zh, me.name_en), roles=roles, how=how
            )
        )
    )
    return 0


def _split(text: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; None stays None (not given)."""
    if text is None:
        return None
    return [p.strip() for p in text.split(",") if p.strip()]


def _staff_json(person: Any) -> dict[str, Any]:
    return asdict(person)


def cmd_staff_list(args: argparse.Namespace) -> int:
    """Every staff member with roles, OS logins and whether they may open the desk."""
    return _listing(
        args,
        _open(args).staff(),
        [_("Login"), _("Name"), _("Roles"), _("OS logins"), _("Enabled"), _("Base")],
        lambda p: [
            p.login,
            _name(p.name_zh, p.name_en),
            ", ".join(p.roles),
            ", ".join(p.os_logins) or "–",
            _("yes") if p.active else _("no"),
            p.base or "–",
        ],
    )


def _print_staff(args: argparse.Namespace, person: Any, message: str) -> int:
    if args.json:
        dump(_staff_json(person))
    else:
        print(visible(message))  # names are typed text
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    """Add a person (administrators only)."""
    desk = _open(args)
    person = desk.add_staff(
        args.login,
        name_zh=args.name_zh,
        name_en=args.name_en or args.name_zh,
        roles=_split(args.roles) or [],
        os_logins=_split(args.os_login) or [],
        base=args.base or "",
        phone=args.phone or "",
    )
    return _print_staff(
        args,
        person,
        _("added {login} ({roles})").format(login=person.login, roles=", ".join(person.roles)),
    )


def cmd_staff_set(args: argparse.Namespace) -> int:
    """Change a person's names, roles, OS logins or whether they may open the desk."""
    desk = _open(args)
    person = desk.set_staff(
        args.login,
        name_zh=args.name_zh,
        name_en=args.name_en,
        roles=_split(args.roles),
        os_logins=_split(args.os_login),
        active=args.active,
        base=args.base,
        phone=args.phone,
    )
    return _print_staff(
        args,
        person,
        _("{login}: roles {roles}; OS logins {logins}; {state}").format(
            login=person.login,
            roles=", ".join(person.roles),
            logins=", ".join(person.os_logins) or "–",
            state=_("enabled") if person.active else _("disabled"),
        ),
    )


def cmd_staff_disable(args: argparse.Namespace) -> int:
    """Disable a person: they can no longer open the desk; their history stays."""
    person = _open(args).disable_staff(args.login)
    return _print_staff(args, person, _("{login} disabled").format(login=person.login))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the hash chain; exit 6 when it is broken."""
    from windtui.services import audit

    report = audit.verify(_open(args), expected_head=args.head)
    if args.json:
        dump(asdict(report))
    elif report.ok:
        print(visible(report.message))
    else:
        _error(report.message)
    return 0 if report.ok else AUDIT_BROKEN_EXIT


def cmd_audit_head(args: argparse.Namespace) -> int:
    """Print the chain's head hash (keep it outside the database)."""
    from windtui.services import audit

    position, digest = audit.head(_open(args))
    if args.json:
        dump({"chain_seq": position, "hash": digest})
    else:
        print(f"{position} {digest}")
    return 0


def cmd_audit_refusals(args: argparse.Namespace) -> int:
    """The newest refused attempts: who tried what, which roles may."""
    from windtui.services import audit

    desk = _open(args)
    records = audit.refusals(desk, limit=args.limit)
    return _listing(
        args,
        records,
        [_("When"), _("Who"), _("OS login"), _("Tried"), _("On"), _("Needs")],
        lambda r: [
            local(r.at, DESK_TZ),
            r.actor,
            r.os_login,
            r.operation,
            r.target or "–",
            ", ".join(r.needed) or "–",
        ],
    )


def cmd_ticket_note(args: argparse.Namespace) -> int:
    """Add a work note to a ticket's timeline."""
    desk = _open(args)
    snap = desk.add_note(args.number, args.text)
    if args.json:
        dump(_snapshot_json(desk, snap))
    else:
        print(_("ticket {number}: note added").format(number=snap.number))
    return 0


# ---------------------------------------------------------------------------------------------
# Quality records: repair report, survey, improvements, suggestions (issue 7)


def _plain(value: Any, tz: str) -> Any:
    """A quality record as JSON-ready data; instants carry the farm's (or desk's) UTC offset."""
    from dataclasses import fields, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), tz) for f in fields(value)}
    if isinstance(value, datetime):
        return iso(value, tz)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v, tz) for v in value]
    return value


def _day_arg(text: str | None, what: str) -> Any:
    """``YYYY-MM-DD`` as a date (None stays None); anything else is a usage error."""
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            _("cannot read the date '{value}' for {what}: use YYYY-MM-DD").format(
                value=text, what=what
            )
        ) from None


def _report_table(args: argparse.Namespace) -> tuple[Any, str]:
    """The report as parsed data and its source name: ``--file`` (``.toml`` or ``.json``) or
    ``--json-input`` (a path, or ``-`` for standard input)."""
    import tomllib

    from windtui.errors import Refused

    if args.file is not None:
        path = Path(args.file)
        kind = path.suffix.lower()
        if kind not in (".toml", ".json"):
            raise UsageError(_("--file must end in .toml or .json: {path}").format(path=path))
        source = path.name
    else:
        path = None if args.json_input == "-" else Path(args.json_input)
        kind, source = ".json", path.name if path is not None else "stdin"
    try:
        text = sys.stdin.read() if path is None else path.read_text("utf-8")
    except FileNotFoundError:
        raise NotFound(_("{path} not found").format(path=path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WindtuiError(_("cannot read {path}: {why}").format(path=path, why=exc)) from None
    try:
        if kind == ".toml":
            return tomllib.loads(text), source
        return json.loads(text), source
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        what = "TOML" if kind == ".toml" else "JSON"
        raise Refused(
            _("{source} is not valid {what}: {why}").format(source=source, what=what, why=exc)
        ) from None


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else (_("yes") if value else _("no"))


def _print_pairs(pairs: Sequence[tuple[str, str]]) -> None:
    """``key  value`` lines, values aligned, continuation lines indented under the value."""
    width = max(cell_len(k) for k, _v in pairs)
    for key, value in pairs:
        shown = visible(value, multiline=True).replace("\n", "\n" + " " * (width + 2))
        print(f"{key}{' ' * (width - cell_len(key))}  {shown}")


def _report_lines(report: Any, tz: str) -> list[tuple[str, str]]:
    from windtui.services import quality

    parts = "; ".join(
        f"{p.part_number} {p.description} × {p.quantity:g}".replace("  ", " ") for p in report.parts
    )
    hours = "; ".join(
        _("{name} ({login}) {hours:g} h").format(
            name=_name(h.name_zh, h.name_en), login=h.staff, hours=h.hours
        )
        for h in report.hours
    )
    status = (
        _("revision {revision}, submitted {when}").format(
            revision=report.revision, when=local(report.submitted_at, tz)
        )
        if report.revision
        else _("draft, not submitted")
    )
    pairs = [
        (
            _("Repair report"),
            _("{status} · by {author}").format(status=status, author=report.author),
        ),
        (_("Diagnosis"), report.diagnosis or "–"),
        (_("Work done"), report.work_done or "–"),
        (_("Root cause"), report.root_cause or "–"),
        (_("Fault code confirmed"), report.fault_code_confirmed or "–"),
        (_("Parts used"), parts or "–"),
        (_("Work hours"), hours or "–"),
        (_("Fixed"), _yes_no(report.fixed)),
        (_("First-time fix"), _yes_no(report.first_time_fix)),
        (_("Attachments"), "\n".join(report.attachments) or "–"),
    ]
    if report.missing:
        pairs.append(
            (_("Missing"), ", ".join(quality.label(m) for m in report.missing)),
        )
    return pairs


def _print_quality(found: Any, tz: str) -> None:
    """The report, reviews, survey and improvement items under ``ticket show``."""
    from windtui.services import quality

    if found.report is not None:
        print()
        _print_pairs(_report_lines(found.report, tz))
    if found.reviews:
        print()
        print(
            table(
                [_("Reviewed"), _("By"), _("Revision"), _("Outcome"), _("Reason")],
                [
                    [
                        local(r.reviewed_at, tz),
                        r.reviewer,
                        str(r.revision),
                        quality.label(r.outcome),
                        r.reason or "–",
                    ]
                    for r in found.reviews
                ],
            )
        )
    if found.survey is not None:
        s = found.survey
        print()
        _print_pairs(
            [
                (
                    _("Satisfaction"),
                    _("{score}/5 · {channel} · {caller} · {when}").format(
                        score=s.score,
                        channel=quality.label(s.channel),
                        caller=s.caller,
                        when=local(s.contacted_at, tz),
                    ),
                ),
                (_("Comments"), s.comments or "–"),
            ]
        )
    if found.improvements:
        print()
        print(_improvement_table(found.improvements))


def _plain_quality(found: Any, tz: str) -> dict[str, Any]:
    """``report``, ``reviews``, ``survey`` and ``improvements`` for ``ticket show --json``."""
    return {
        "report": _plain(found.report, tz),
        "reviews": _plain(found.reviews, tz),
        "survey": _plain(found.survey, tz),
        "improvements": _plain(found.improvements, tz),
    }


def _report_json(desk: Desk, record: Any) -> dict[str, Any]:
    return _plain(record, desk.ticket(record.ticket).farm_timezone)


def cmd_ticket_report(args: argparse.Namespace) -> int:
    """Write (or revise) a ticket's repair report from a TOML or JSON file."""
    from windtui.services import quality

    raw, source = _report_table(args)
    data = quality.parse_report(raw, source)  # bad input is refused before the desk opens
    desk = _open(args)
    record = quality.write_report(desk, args.number, data)
    if args.json:
        dump(_report_json(desk, record))
        return 0
    print(_("ticket {number}: repair report saved").format(number=record.ticket))
    if record.missing:
        print(
            _("still missing before it can be submitted: {fields}").format(
                fields=", ".join(quality.label(m) for m in record.missing)
            )
        )
    else:
        print(
            _("complete: submit it with `windtui ticket act {number} submit`").format(
                number=record.ticket
            )
        )
    return 0


def cmd_ticket_survey(args: argparse.Namespace) -> int:
    """Record the satisfaction follow-up of a ticket."""
    from windtui.services import quality

    desk = _open(args)
    tz = desk.ticket(args.number).farm_timezone  # NotFound names the ticket
    at = parse_instant(args.at, tz, "--at", now=desk.clock()) if args.at else None
    record = quality.record_survey(
        desk,
        args.number,
        args.score,
        args.comments or "",
        caller=args.caller,
        contacted_at=at,
        channel=args.channel,
    )
    if args.json:
        dump(_plain(record, tz))
        return 0
    print(
        _("ticket {number}: satisfaction {score}/5 recorded ({channel}, {caller})").format(
            number=record.ticket,
            score=record.score,
            channel=quality.label(record.channel),
            caller=record.caller,
        )
    )
    if record.analysis is not None:
        item = quality.improvement(desk, record.analysis)
        print(
            _("low score: analysis item {id} opened for {owner}, due {due}").format(
                id=item.id, owner=item.owner or "–", due=item.due
            )
        )
    return 0


def _improvement_table(items: Sequence[Any]) -> str:
    from windtui.services import quality

    return table(
        [
            _("ID"),
            _("Kind"),
            _("Status"),
            _("Due"),
            _("Owner"),
            _("Ticket"),
            _("Category"),
            _("Title"),
        ],
        [
            [
                str(i.id),
                quality.label(i.kind),
                quality.label(i.status),
                ("! " if i.overdue else "") + (i.due.isoformat() if i.due else "–"),
                i.owner or "–",
                str(i.ticket or "–"),
                quality.label(i.category),
                i.title,
            ]
            for i in items
        ],
    )


def _print_improvement(args: argparse.Namespace, item: Any, message: str) -> int:
    if args.json:
        dump(_plain(item, DESK_TZ))
    else:
        print(message)
    return 0


def cmd_improvement_add(args: argparse.Namespace) -> int:
    """Open an improvement action or an analysis item."""
    from windtui.services import quality
    from windtui.services.records import ImprovementInput

    item = ImprovementInput(
        title=args.title,
        owner=args.owner,
        due=_day_arg(args.due, "--due"),
        kind=args.kind,
        category=args.category,
        parent=args.parent,
        ticket=args.ticket,
        notes=args.notes or "",
    )
    record = quality.add_improvement(_open(args), item)
    return _print_improvement(
        args,
        record,
        _("improvement {id} opened: {title} (owner {owner}, due {due})").format(
            id=record.id, title=visible(record.title), owner=record.owner, due=record.due
        ),
    )


def cmd_improvement_set(args: argparse.Namespace) -> int:
    """Change an improvement item's status, owner or due date, or add a note."""
    from windtui.services import quality

    record = quality.update_improvement(
        _open(args),
        args.id,
        status=args.status,
        owner=args.owner,
        due=_day_arg(args.due, "--due"),
        note=args.note,
    )
    return _print_improvement(
        args,
        record,
        _("improvement {id}: {status}, owner {owner}, due {due}").format(
            id=record.id,
            status=quality.label(record.status),
            owner=record.owner or "–",
            due=record.due or "–",
        ),
    )


def cmd_improvement_list(args: argparse.Namespace) -> int:
    """Analysis items and improvement actions, filtered."""
    from windtui.services import quality

    items = quality.improvements(
        _open(args),
        status=args.status,
        owner=args.owner,
        overdue=args.overdue,
        ticket=args.ticket,
        kind=args.kind,
    )
    if args.json:
        dump(_plain(items, DESK_TZ))
    else:
        print(_improvement_table(items))
    return 0


def _suggestion_table(items: Sequence[Any]) -> str:
    from windtui.services import quality

    return table(
        [_("ID"), _("Received"), _("Source"), _("Status"), _("Farm"), _("Ticket"), _("Text")],
        [
            [
                str(s.id),
                s.received_on.isoformat(),
                quality.label(s.source),
                quality.label(s.status),
                s.farm or "–",
                str(s.ticket or "–"),
                " ".join(s.text.split()),
            ]
            for s in items
        ],
    )


def cmd_suggestion_add(args: argparse.Namespace) -> int:
    """Register a customer suggestion."""
    from windtui.services import quality
    from windtui.services.records import SuggestionInput

    item = SuggestionInput(
        source=args.source,
        text=args.text,
        received_on=_day_arg(args.received, "--received"),
        customer=args.customer,
        farm=args.farm,
        ticket=args.ticket,
    )
    record = quality.add_suggestion(_open(args), item)
    if args.json:
        dump(_plain(record, DESK_TZ))
    else:
        print(_("suggestion {id} registered").format(id=record.id))
    return 0


def cmd_suggestion_set(args: argparse.Namespace) -> int:
    """Move a suggestion on: evaluating, adopted or rejected."""
    from windtui.services import quality

    record = quality.set_suggestion_status(
        _open(args), args.id, args.status, on=_day_arg(args.on, "--on")
    )
    if args.json:
        dump(_plain(record, DESK_TZ))
    else:
        print(
            _("suggestion {id}: {status}").format(id=record.id, status=quality.label(record.status))
        )
    return 0


def cmd_suggestion_list(args: argparse.Namespace) -> int:
    """The suggestions register, filtered."""
    from windtui.services import quality

    items = quality.suggestions(
        _open(args),
        status=args.status,
        source=args.source,
        start=_day_arg(args.date_from, "--from"),
        end=_day_arg(args.date_to, "--to"),
    )
    if args.json:
        dump(_plain(items, DESK_TZ))
    else:
        print(_suggestion_table(items))
    return 0


def cmd_suggestion_rate(args: argparse.Namespace) -> int:
    """The adoption rate of the suggestions received in a period."""
    from windtui.services import quality

    rate = quality.adoption_rate(
        _open(args), _day_arg(args.date_from, "--from"), _day_arg(args.date_to, "--to")
    )
    if args.json:
        dump(_plain(rate, DESK_TZ))
        return 0
    shown = "–" if rate.rate is None else f"{100 * rate.rate:.1f} %"
    print(
        _(
            "adoption rate {rate}: {adopted} adopted of {decided} decided"
            " ({rejected} rejected; {pending} pending; {received} received)"
        ).format(
            rate=shown,
            adopted=rate.adopted,
            decided=rate.adopted + rate.rejected,
            rejected=rate.rejected,
            pending=rate.pending,
            received=rate.received,
        )
    )
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    """List the technicians and their board status."""
    return _listing(
        args,
        _open(args).technicians(),
        [
            _("Login"),
            _("Name"),
            _("Base"),
            _("Status"),
            _("Ticket"),
            _("Certificates"),
            _("Skills"),
        ],
        lambda p: [
            p.login,
            _name(p.name_zh, p.name_en),
            p.base,
            _(p.status),
            str(p.current_ticket or "–"),
            _("check") if p.certificate_warning else _("ok"),
            ", ".join(_(s) for s in p.skills),
        ],
    )


def cmd_policy_load(args: argparse.Namespace) -> int:
    """Validate and store a policy file (recalculates every clock)."""
    desk = _open(args)
    policy = desk.load_policy_file(Path(args.file))
    print(
        _("policy {file} loaded ({digest}): every clock is recalculated from receipt").format(
            file=visible(args.file), digest=policy.digest[:12]
        )
    )
    return 0


def _calendar_summary(resolved: ResolvedPolicy) -> str:
    """Which clocks count on which calendar, e.g. ``24x7: acknowledge, feedback · farm: others``."""
    groups: dict[str, list[str]] = {}
    for target, name in resolved.calendars.items():
        groups.setdefault(name or _("farm"), []).append(_(target.label))
    if len(groups) == 1:
        return next(iter(groups))
    largest = max(groups, key=lambda name: len(groups[name]))
    parts = [f"{name}: {', '.join(ts)}" for name, ts in groups.items() if name != largest]
    return " · ".join([*parts, _("{calendar}: others").format(calendar=largest)])


def cmd_policy_show(args: argparse.Namespace) -> int:
    """The policy in force, resolved for every priority and category."""
    desk = _open(args)
    policy = desk.policy()
    rules = []
    for priority in Priority:
        for category in Category:
            resolved = policy.resolve(contract=None, priority=priority, category=category)
            rules.append((priority, category, resolved))
    if args.json:
        dump(
            {
                "source": policy.source,
                "digest": policy.digest,
                "calendars": list(policy.calendar_names),
                "rules": [
                    {
                        "priority": p.value,
                        "category": c.value,
                        "calendars": {t.value: c or "farm" for t, c in r.calendars.items()},
                        "at_risk_percent": r.at_risk_percent,
                        "targets": {t.value: s for t, s in r.targets.items()},
                        "pauses": {
                            h.value: sorted(x.value for x in ts) for h, ts in r.pauses.items()
                        },
                    }
                    for p, c, r in rules
                ],
            }
        )
        return 0
    print(_("Policy: {source}").format(source=visible(policy.source)))
    print(_("Digest: {digest}").format(digest=policy.digest))
    print(_("Calendars: {names}").format(names=visible(", ".join(policy.calendar_names))))
    print()
    print(
        table(
            [_("P"), *(_(t.label) for t in Target), _("At risk"), _("Calendar"), _("Category")],
            [
                [
                    p.value,
                    *(
                        human(r.targets[t])
                        if (t not in (Target.ONSITE, Target.REPAIR) or c.needs_site_visit)
                        else "·"
                        for t in Target
                    ),
                    f"{r.at_risk_percent:.0f}%",
                    _calendar_summary(r),
                    _(c.label),
                ]
                for p, c, r in rules
            ],
        )
    )
    return 0


def _kpi_value(unit: str, value: float | None) -> str:
    """A KPI value as a cell: ``96.2 %``, ``3h05m``, ``12.5 h``, ``1234`` (``–``: no data)."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{100 * value:.1f} %"
    if unit == "seconds":
        return f"{value:.0f}s" if abs(value) < 60 else human(value)
    if unit == "hours":
        return _("{hours:.1f} h").format(hours=value)
    return f"{value:.0f}"


def _kpi_target(figure: Any) -> str:
    """``≥ 95 %`` / ``≤ 1h00m`` / ``–``."""
    if figure.target is None:
        return "–"
    sign = "≥ " if figure.direction.value == "higher" else "≤ "
    return sign + _kpi_value(figure.unit.value, figure.target)


def _kpi_clock(figure: Any) -> str:
    """The clock's own time limit(s) behind a figure: ``1h00m`` or ``24h00m–3d00h``."""
    if figure.clock_targets is None:
        return ""
    shortest, longest = figure.clock_targets
    if shortest == longest:
        return "≤ " + human(shortest)
    return "≤ " + human(shortest) + "–" + human(longest)


def _kpi_status(status: Any) -> str:
    """A status readable without colour: ``✓ met``, ``! at risk``, ``✗ missed``."""
    if status.value == "info":
        return ""
    return f"{status.marker} {_(status.label)}"


def cmd_kpi(args: argparse.Namespace) -> int:
    """KPIs for a period and a filter (table or JSON), with a trend; the tickets behind a figure;
    or rebuild the outcome rows of closed tickets."""
    from windtui.domain import kpi as rules
    from windtui.services import kpi, outcomes

    desk = _open(args)
    if args.rebuild:
        count = outcomes.rebuild_outcomes(desk)
        print(_("outcomes rebuilt for {count} closed or cancelled tickets").format(count=count))
        return 0
    period = rules.choose_period(
        quarter_text=args.quarter,
        month_text=args.month,
        date_from=args.date_from,
        date_to=args.date_to,
        now=desk.clock(),
        tz=DESK_TZ,
    )
    filters = kpi.Filters(
        farm=args.farm,
        customer=args.customer,
        team=args.team,
        technician=args.technician,
        category=args.category,
        priority=args.priority,
    )
    if args.tickets:
        numbers = kpi.kpi_tickets(desk, args.tickets, filters, period)
        if args.json:
            dump({"figure": args.tickets, "period": period.label, "tickets": numbers})
        else:
            for number in numbers:
                print(number)
        return 0
    report = kpi.kpis(desk, period, filters, every=args.trend)
    if args.json:
        dump(kpi.report_dict(report))
        return 0
    _print_kpis(report)
    return 0


def _print_kpis(report: Any) -> None:
    trend = report.trend
    period = report.period
    scope = ", ".join(f"{k} {v}" for k, v in report.filters.as_dict().items())
    print(
        _("KPIs {label}: {first} … {last} ({tz}), tickets closed in the period; {scope}").format(
            label=period.label,
            first=period.first_day.isoformat(),
            last=period.last_day.isoformat(),
            tz=period.tz,
            scope=visible(scope) if scope else _("all tickets"),
        )
    )
    print()
    print(
        table(
            [
                _("Figure"),
                _("Value"),
                _("Target"),
                _("Status"),
                _("Tickets"),
                _("Against target"),
                _("Clock limit"),
            ],
            [
                [
                    _(f.label),
                    _kpi_value(f.unit.value, f.value),
                    _kpi_target(f),
                    _kpi_status(f.status),
                    str(f.count),
                    "–" if f.missed is None else str(f.missed),
                    _kpi_clock(f),
                ]
                for f in report.figures
            ],
        )
    )
    print()
    print(
        _("Survey scores (4 and 5 count as satisfied): {scores}").format(
            scores="  ".join(f"{s}: {n}" for s, n in report.scores.items())
        )
    )
    s = report.suggestions
    print(
        _(
            "Suggestions received: {received} (adopted {adopted}, rejected {rejected},"
            " pending {pending})"
        ).format(received=s.received, adopted=s.adopted, rejected=s.rejected, pending=s.pending)
    )
    if report.farms:
        print()
        print(
            table(
                [
                    _("Farm"),
                    _("Turbines"),
                    _("Downtime"),
                    _("Planned"),
                    _("Availability"),
                    _("Status"),
                    _("Tickets"),
                    _("Name"),
                ],
                [
                    [
                        a.farm,
                        str(a.turbines),
                        _kpi_value("hours", a.downtime_hours),
                        _kpi_value("hours", a.excluded_hours),
                        _kpi_value("rate", a.availability),
                        _kpi_status(a.status),
                        str(a.tickets),
                        _name(a.name_zh, a.name_en),
                    ]
                    for a in report.farms
                ],
            )
        )
    if trend is not None:
        print()
        columns = (
            ("closed_tickets", _("Closed"), "count"),
            ("acknowledge_compliance", _("Ack"), "rate"),
            ("feedback_compliance", _("Feedback"), "rate"),
            ("onsite_compliance", _("On site"), "rate"),
            ("repair_mean", _("Repair"), "seconds"),
            ("fix_rate", _("Fixed"), "rate"),
            ("first_time_fix_rate", _("FTF"), "rate"),
            ("satisfaction_rate", _("Satisfied"), "rate"),
            ("weather_hold_hours", _("Weather"), "hours"),
        )
        print(
            table(
                [
                    _("Week") if trend.every.value == "week" else _("Month"),
                    *(title for _key, title, _unit in columns),
                ],
                [
                    [b.label, *(_kpi_value(u, trend.series[k][i]) for k, _t, u in columns)]
                    for i, b in enumerate(trend.buckets)
                ],
            )
        )
    if report.stale:
        print()
        print(
            _(
                "note: {count} of these tickets were judged under an earlier SLA policy;"
                " `windtui kpi --rebuild` judges them again under the policy in force"
            ).format(count=report.stale)
        )


def _period_of(args: argparse.Namespace, desk: Desk) -> Any:
    """The period of ``--quarter`` / ``--month`` / ``--from``/``--to`` (default: this quarter)."""
    from windtui.domain import kpi as rules

    return rules.choose_period(
        quarter_text=args.quarter,
        month_text=args.month,
        date_from=args.date_from,
        date_to=args.date_to,
        now=desk.clock(),
        tz=DESK_TZ,
    )


def _points_cell(value: float) -> str:
    """Points as ``+2``, ``-3``, ``0``."""
    return f"{value:+g}" if value else "0"


def cmd_scorecard(args: argparse.Namespace) -> int:
    """Ranked team or technician scorecards for a period; one card with its tickets."""
    from windtui.domain import scorecard as maths
    from windtui.services import scorecard

    desk = _open(args)
    period = _period_of(args, desk)
    found = scorecard.scorecards(desk, period, by=args.by, team=args.team, subject=args.tickets)
    if args.json:
        dump(scorecard.scorecards_dict(found))
        return 0
    print(
        _("Scorecards {label}: {first} … {last} ({tz}), tickets closed in the period").format(
            label=period.label,
            first=period.first_day.isoformat(),
            last=period.last_day.isoformat(),
            tz=period.tz,
        )
    )
    print()
    technicians = found.by == scorecard.TECHNICIAN
    if args.tickets:
        card = found.cards[0]
        zh, en = found.names.get(card.subject, ("", ""))
        print(
            _("{who}: {points} points, place {rank} of {ranked}").format(
                who=visible(f"{card.subject} {_name(zh, en)}" if technicians else card.subject),
                points=_points_cell(card.total),
                rank=card.rank,
                ranked=found.ranked,
            )
        )
        print()
        print(
            table(
                [_("Event"), _("Clock"), _("Count"), _("Each"), _("Points"), _("Ticket numbers")],
                [
                    [
                        _(maths.KIND_LABELS[c.kind]),
                        _(c.clock.label) if c.clock is not None else "",
                        str(c.count),
                        _points_cell(c.each),
                        _points_cell(c.points),
                        " ".join(str(n) for n in c.tickets),
                    ]
                    for c in card.components
                ],
            )
        )
        return 0
    print(
        table(
            [
                _("Rank"),
                _("Technician") if technicians else _("Team"),
                _("Points"),
                _("Tickets"),
                *(_(maths.KIND_HEADINGS[k]) for k in maths.KINDS),
                _("Name") if technicians else _("Members"),
            ],
            [
                [
                    str(c.rank),
                    c.subject,
                    _points_cell(c.total),
                    str(len(c.tickets)),
                    *(_points_cell(c.kind_points(k)) for k in maths.KINDS),
                    _name(*found.names.get(c.subject, ("", "")))
                    if technicians
                    else ", ".join(found.members.get(c.subject, ())),
                ]
                for c in found.cards
            ],
        )
    )
    print()
    print(
        _(
            "Ranked by points; ties go to the smaller penalty, then to more tickets, then by"
            " code. `--tickets WHO` lists the tickets behind each score."
        )
    )
    print("  ".join(f"{_(maths.KIND_HEADINGS[k])}: {_(maths.KIND_LABELS[k])}" for k in maths.KINDS))
    if found.unattributed:
        print(
            _("Tickets with no technician (not scored): {tickets}").format(
                tickets=" ".join(str(n) for n in found.unattributed)
            )
        )
    return 0


_REPORT_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
                    ".csv": "csv", ".xlsx": "xlsx"}  # fmt: skip


def cmd_report(args: argparse.Namespace) -> int:
    """Write the quarterly audit report (Markdown, HTML, CSV or XLSX)."""
    from windtui.services import audit_report, report_formats

    fmt = args.format or _REPORT_SUFFIXES.get(Path(args.output).suffix.lower())
    if fmt is None:
        raise UsageError(
            _("give --format md, html, csv or xlsx (the file name {path} does not say)").format(
                path=args.output
            )
        )
    report_formats.check_target(args.output)
    desk = _open(args)
    period = _period_of(args, desk)
    path = audit_report.write_audit_report(desk, period, fmt, args.output)
    print(_("audit report {label} written to {path}").format(label=period.label, path=path))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmarks; non-zero exit when a figure misses its budget."""
    from windtui.benchmarks import registry

    try:
        found = registry()
    except ImportError as exc:
        raise WindtuiError(_("benchmarks unavailable: {why}").format(why=exc)) from None
    names = args.only or list(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        raise NotFound(
            _("unknown benchmark '{name}': choose from {choices}").format(
                name=unknown[0], choices=", ".join(found)
            )
        )
    figures = []
    for name in names:
        try:
            figures.extend(found[name]())
        except WindtuiError:
            raise
        except Exception as exc:  # a broken benchmark is reported, not a traceback
            raise WindtuiError(
                _("benchmark {name} failed: {kind}: {why}").format(
                    name=name, kind=type(exc).__name__, why=exc
                )
            ) from exc
    if args.json:
        dump([f.as_dict() for f in figures])
    else:
        print(
            table(
                [_("Value"), _("Unit"), _("Budget"), _("Baseline"), _("Ratio"), _("OK"), _("Name")],
                [
                    [
                        "–" if f.skipped is not None else f"{f.value:.4g}",
                        f.unit,
                        ("≤ " if f.budget_kind == "max" else "≥ ") + f"{f.budget:.4g}",
                        "–" if f.baseline is None else f"{f.baseline:.4g}",
                        "–" if f.ratio is None else f"{f.ratio:.2f}×",
                        _("skipped") if f.skipped is not None else _("ok") if f.ok else _("MISS"),
                        f.name if f.skipped is None else f"{f.name} ({f.skipped})",
                    ]
                    for f in figures
                ],
            )
        )
    return 0 if all(f.ok for f in figures) else 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the console to browsers (textual-serve) behind an authenticating reverse proxy."""
    if not 1 <= args.port <= 65535:
        raise UsageError(_("--port must be between 1 and 65535, not {port}").format(port=args.port))
    try:
        from windtui import web
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("textual_serve", "aiohttp", "aiohttp_jinja2"):
            raise
        raise WindtuiError(
            _("windtui serve needs textual-serve: pip install 'windtui[serve]'")
        ) from None
    if not web.HEADER_NAME.fullmatch(args.user_header):
        raise UsageError(
            _("--user-header must be an HTTP header name such as X-Remote-User, not {name}").format(
                name=ascii(args.user_header)
            )
        )
    if args.public_url and not web.origin_of(args.public_url).startswith(("http://", "https://")):
        raise UsageError(
            _("--public-url must be an http:// or https:// URL, not {url}").format(
                url=args.public_url
            )
        )
    return web.serve(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        user_header=args.user_header,
        db=args.db,
        now=args.now,
        lang=args.lang and i18n.current_language(),
    )


# ---------------------------------------------------------------------------------------------
# The parser


def _globals(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The global options; on subcommands they default to SUPPRESS so they never clobber."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group(_("global options"))
    group.add_argument(
        "--db",
        metavar="URL",
        default=default(None),
        help=_(
            "database URL: sqlite:///path.db or postgresql://user@host/db"
            " (default $WINDTUI_DB, else ~/.local/share/windtui/windtui.db)"
        ),
    )
    group.add_argument(
        "--now",
        metavar="ISO",
        default=default(None),
        help=_("freeze the clock at this instant (default $WINDTUI_NOW; bare times are Beijing)"),
    )
    group.add_argument(
        "--lang",
        metavar="LANG",
        default=default(None),
        help=_("en or zh_CN (default $WINDTUI_LANG, else the locale)"),
    )
    group.add_argument(
        "--as",
        dest="actor",
        metavar="LOGIN",
        default=default(os.environ.get("WINDTUI_ACTOR")),
        help=_("act as this login in the event log (default $WINDTUI_ACTOR, else the OS user)"),
    )


def _help(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-h", "--help", action="help", help=_("show this help and exit"))


def _sub(
    subparsers: Any, name: str, summary: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=summary, description=summary, add_help=False, prog=f"windtui {name}"
    )
    _help(parser)
    _globals(parser, suppress=True)
    parser.set_defaults(func=func)
    return parser


def _mouse_option(parser: argparse.ArgumentParser, default: Any = None) -> None:
    parser.add_argument(
        "--mouse",
        action=argparse.BooleanOptionalAction,
        default=default,
        help=_("mouse reporting on or off (default: on, off over SSH)"),
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree (help texts in the active language)."""
    parser = _Parser(
        prog="windtui",
        add_help=False,
        description=_(
            "Keyboard-first console for wind-turbine after-sales service dispatch."
            " Without a command: open the console."
        ),
    )
    _help(parser)
    parser.add_argument(
        "--version",
        action="version",
        version=f"windtui {__version__}",
        help=_("show the version and exit"),
    )
    _globals(parser, suppress=False)
    _mouse_option(parser)
    parser.set_defaults(func=cmd_console)
    commands = parser.add_subparsers(title=_("commands"), metavar=_("COMMAND"))

    p = _sub(
        commands, "init", _("create or upgrade the database and load the SLA policy"), cmd_init
    )
    p.add_argument("--demo", action="store_true", help=_("also load the demo fleet"))
    p.add_argument(
        "--force",
        action="store_true",
        help=_("with --demo: wipe a database that already has tickets"),
    )

    p = _sub(commands, "demo", _("open the console on a fresh demo database"), cmd_demo)
    _mouse_option(p, default=argparse.SUPPRESS)
    p.add_argument(
        "--load-only",
        action="store_true",
        help=_("build the demo database and exit without opening the console"),
    )
    p.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help=_("leave out the year of closed history (only the live tickets)"),
    )

    p = _sub(commands, "tickets", _("list open tickets with every SLA clock"), cmd_tickets)
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--farm", metavar="CODE", help=_("only this farm"))
    p.add_argument("--priority", metavar="P", help=_("only this priority: P1, P2, P3, P4"))
    p.add_argument("--state", metavar="S", help=_("only this state, e.g. on_site"))
    p.add_argument("--category", metavar="C", help=_("only this category, e.g. fault"))
    p.add_argument("--all", action="store_true", help=_("include closed and cancelled tickets"))

    ticket = _sub(
        commands,
        "ticket",
        _("create, act on, assign, reclassify or show one ticket"),
        lambda a: _missing(ticket),
    )
    actions = ticket.add_subparsers(title=_("ticket commands"), metavar=_("COMMAND"))

    p = _sub(actions, "create", _("receive a new ticket; prints its number"), cmd_ticket_create)
    p.prog = "windtui ticket create"
    p.add_argument("--farm", metavar="CODE", required=True, help=_("farm code, e.g. DBC"))
    p.add_argument("--turbine", metavar="ID", help=_("turbine id or position, e.g. DBC-A07"))
    p.add_argument(
        "--category",
        metavar="C",
        required=True,
        help=_("fault, maintenance, upgrade, consulting, data_analysis, infrastructure"),
    )
    p.add_argument("--priority", metavar="P", required=True, help=_("P1, P2, P3 or P4"))
    p.add_argument("--title", metavar="T", required=True, help=_("short title"))
    p.add_argument("--description", metavar="D", help=_("longer description"))
    p.add_argument("--fault-code", metavar="X", help=_("SCADA fault code"))
    p.add_argument("--reporter", metavar="R", help=_("who reported it"))
    p.add_argument("--contact", metavar="C", help=_("how to reach the reporter"))
    p.add_argument(
        "--channel", choices=("phone", "email", "scada", "wechat"), help=_("how it came in")
    )
    p.add_argument(
        "--turbine-stopped",
        action="store_true",
        help=_("the turbine is stopped (starts the downtime clock)"),
    )
    p.add_argument(
        "--at",
        metavar="ISO",
        help=_("when it was received (default now; bare times are the farm's)"),
    )
    p.add_argument(
        "--number", metavar="N", type=int, help=_("use this ticket number (default: the next)")
    )
    p.add_argument("--json", action="store_true", help=_("print the ticket as JSON"))

    p = _sub(actions, "act", _("perform a lifecycle action on a ticket"), cmd_ticket_act)
    p.prog = "windtui ticket act"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument(
        "action",
        metavar="ACTION",
        help=_("one of: {actions}").format(actions=", ".join(a.value for a in Action)),
    )
    p.add_argument(
        "--reason",
        metavar="R",
        help=_("hold: weather, parts, crane_vessel, permit, customer_access; cancel/reopen: why"),
    )
    p.add_argument(
        "--evidence",
        metavar="E",
        help=_("hold: what was seen, e.g. '10-min wind 14.2 m/s at A07 nacelle'"),
    )
    p.add_argument("--tech", metavar="LOGIN", help=_("dispatch: the technician's login"))
    p.add_argument(
        "--at", metavar="ISO", help=_("when it happened (default now; bare times are the farm's)")
    )
    p.add_argument("--json", action="store_true", help=_("print the ticket as JSON"))

    p = _sub(actions, "assign", _("(re)assign a ticket's technician"), cmd_ticket_assign)
    p.prog = "windtui ticket assign"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument("login", metavar="LOGIN", help=_("the technician's login"))

    p = _sub(
        actions,
        "set",
        _("change a ticket's priority or category (clocks recalculate from receipt)"),
        cmd_ticket_set,
    )
    p.prog = "windtui ticket set"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument("--priority", metavar="P", help=_("P1, P2, P3 or P4"))
    p.add_argument(
        "--category",
        metavar="C",
        help=_("fault, maintenance, upgrade, consulting, data_analysis, infrastructure"),
    )
    p.add_argument("--reason", metavar="R", required=True, help=_("why (kept in the event log)"))
    p.add_argument("--json", action="store_true", help=_("print the ticket as JSON"))

    p = _sub(actions, "note", _("add a work note to a ticket's timeline"), cmd_ticket_note)
    p.prog = "windtui ticket note"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument("text", metavar="TEXT", help=_("the note"))
    p.add_argument("--json", action="store_true", help=_("print the ticket as JSON"))

    p = _sub(actions, "show", _("fields, clocks and timeline of a ticket"), cmd_ticket_show)
    p.prog = "windtui ticket show"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    p = _sub(
        actions,
        "report",
        _("write or revise a ticket's repair report from a TOML or JSON file"),
        cmd_ticket_report,
    )
    p.prog = "windtui ticket report"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--file", metavar="FILE", help=_("the report: report.toml or report.json (see README)")
    )
    source.add_argument(
        "--json-input", metavar="FILE", help=_("the report as JSON from FILE, or - for stdin")
    )
    p.add_argument("--json", action="store_true", help=_("print the report as JSON"))

    p = _sub(actions, "survey", _("record a ticket's satisfaction follow-up"), cmd_ticket_survey)
    p.prog = "windtui ticket survey"
    p.add_argument("number", metavar="NUMBER", type=int, help=_("ticket number"))
    p.add_argument(
        "--score", metavar="N", type=int, required=True, help=_("1 (very dissatisfied) to 5")
    )
    p.add_argument("--comments", metavar="T", help=_("what the customer said"))
    p.add_argument("--caller", metavar="LOGIN", help=_("who called or visited (default: you)"))
    p.add_argument(
        "--channel", metavar="C", default="phone", help=_("phone, site_visit or message")
    )
    p.add_argument("--at", metavar="ISO", help=_("when (default now; bare times are the farm's)"))
    p.add_argument("--json", action="store_true", help=_("print the survey as JSON"))

    improvement = _sub(
        commands,
        "improvement",
        _("analysis items and improvement actions: add, set, list"),
        lambda a: _missing(improvement),
    )
    sub = improvement.add_subparsers(title=_("improvement commands"), metavar=_("COMMAND"))
    p = _sub(sub, "add", _("open an improvement action or analysis item"), cmd_improvement_add)
    p.prog = "windtui improvement add"
    p.add_argument("--title", metavar="T", required=True, help=_("what is to be done"))
    p.add_argument("--owner", metavar="LOGIN", required=True, help=_("who owns it"))
    p.add_argument("--due", metavar="DATE", required=True, help=_("due date, YYYY-MM-DD"))
    p.add_argument("--kind", metavar="K", default="action", help=_("action or analysis"))
    p.add_argument(
        "--category",
        metavar="C",
        default="other",
        help=_("training, spare_parts, response, process or other"),
    )
    p.add_argument("--parent", metavar="ID", type=int, help=_("the analysis item it answers"))
    p.add_argument("--ticket", metavar="N", type=int, help=_("the ticket it concerns"))
    p.add_argument("--notes", metavar="T", help=_("notes"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "set", _("change status, owner or due date; add a note"), cmd_improvement_set)
    p.prog = "windtui improvement set"
    p.add_argument("id", metavar="ID", type=int, help=_("improvement id"))
    p.add_argument("--status", metavar="S", help=_("open, in_progress, done or cancelled"))
    p.add_argument("--owner", metavar="LOGIN", help=_("hand it to this person"))
    p.add_argument("--due", metavar="DATE", help=_("new due date, YYYY-MM-DD"))
    p.add_argument("--note", metavar="T", help=_("add a dated note"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "list", _("list improvement items"), cmd_improvement_list)
    p.prog = "windtui improvement list"
    p.add_argument("--status", metavar="S", help=_("open, in_progress, done or cancelled"))
    p.add_argument("--owner", metavar="LOGIN", help=_("only this owner's"))
    p.add_argument("--overdue", action="store_true", help=_("only open items past their due date"))
    p.add_argument("--ticket", metavar="N", type=int, help=_("only this ticket's"))
    p.add_argument("--kind", metavar="K", help=_("action or analysis"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    suggestion = _sub(
        commands,
        "suggestion",
        _("the customer suggestions register: add, set, list, rate"),
        lambda a: _missing(suggestion),
    )
    sub = suggestion.add_subparsers(title=_("suggestion commands"), metavar=_("COMMAND"))
    p = _sub(sub, "add", _("register a customer suggestion"), cmd_suggestion_add)
    p.prog = "windtui suggestion add"
    p.add_argument(
        "--source",
        metavar="S",
        required=True,
        help=_("survey, site_visit, phone, email or meeting"),
    )
    p.add_argument("--text", metavar="T", required=True, help=_("the suggestion"))
    p.add_argument("--received", metavar="DATE", help=_("when it came in (default today)"))
    p.add_argument("--customer", metavar="CODE", help=_("customer code"))
    p.add_argument("--farm", metavar="CODE", help=_("farm code"))
    p.add_argument("--ticket", metavar="N", type=int, help=_("the ticket it came with"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "set", _("evaluate, adopt or reject a suggestion"), cmd_suggestion_set)
    p.prog = "windtui suggestion set"
    p.add_argument("id", metavar="ID", type=int, help=_("suggestion id"))
    p.add_argument(
        "--status", metavar="S", required=True, help=_("evaluating, adopted or rejected")
    )
    p.add_argument("--on", metavar="DATE", help=_("decision date (default today)"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "list", _("list the suggestions register"), cmd_suggestion_list)
    p.prog = "windtui suggestion list"
    p.add_argument("--status", metavar="S", help=_("new, evaluating, adopted or rejected"))
    p.add_argument("--source", metavar="S", help=_("survey, site_visit, phone, email or meeting"))
    p.add_argument("--from", dest="date_from", metavar="DATE", help=_("received on or after"))
    p.add_argument("--to", dest="date_to", metavar="DATE", help=_("received on or before"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(
        sub,
        "rate",
        _("adoption rate: adopted / (adopted + rejected) of those received"),
        cmd_suggestion_rate,
    )
    p.prog = "windtui suggestion rate"
    p.add_argument("--from", dest="date_from", metavar="DATE", help=_("received on or after"))
    p.add_argument("--to", dest="date_to", metavar="DATE", help=_("received on or before"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    p = _sub(commands, "farms", _("list the wind farms"), cmd_farms)
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    p = _sub(commands, "turbines", _("list a farm's turbines"), cmd_turbines)
    p.add_argument("farm", metavar="FARM", help=_("farm code, e.g. DBC"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    staff = _sub(
        commands,
        "staff",
        _("list technicians and their status; manage people (add, set, disable)"),
        cmd_staff,
    )
    staff.add_argument("--json", action="store_true", help=_("print JSON"))
    sub = staff.add_subparsers(title=_("staff commands"), metavar=_("COMMAND"))
    p = _sub(sub, "list", _("every person with roles, OS logins, enabled"), cmd_staff_list)
    p.prog = "windtui staff list"
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    for name, helptext, func in (
        ("add", _("add a person (administrators)"), cmd_staff_add),
        ("set", _("change a person (administrators)"), cmd_staff_set),
    ):
        p = _sub(sub, name, helptext, func)
        p.prog = f"windtui staff {name}"
        p.add_argument("login", metavar="LOGIN", help=_("the person's login, e.g. lizq"))
        p.add_argument("--name-zh", metavar="NAME", required=name == "add", help=_("Chinese name"))
        p.add_argument("--name-en", metavar="NAME", help=_("English name"))
        p.add_argument(
            "--roles",
            metavar="R[,R…]",
            required=name == "add",
            help=_("dispatcher, technician, qa, supervisor, admin, viewer"),
        )
        p.add_argument(
            "--os-login",
            metavar="L[,L…]",
            help=_("further OS logins that identify this person (set: replaces the list)"),
        )
        p.add_argument("--base", metavar="BASE", help=_("home depot"))
        p.add_argument("--phone", metavar="PHONE", help=_("phone number"))
        if name == "set":
            state = p.add_mutually_exclusive_group()
            state.add_argument(
                "--enable",
                dest="active",
                action="store_const",
                const=True,
                default=None,
                help=_("may open the desk again"),
            )
            state.add_argument(
                "--disable",
                dest="active",
                action="store_const",
                const=False,
                help=_("may no longer open the desk"),
            )
        p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(
        sub, "disable", _("stop a person opening the desk (administrators)"), cmd_staff_disable
    )
    p.prog = "windtui staff disable"
    p.add_argument("login", metavar="LOGIN", help=_("the person's login"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    p = _sub(commands, "whoami", _("who this desk acts as, with roles"), cmd_whoami)
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    audit = _sub(
        commands,
        "audit",
        _("verify the hash-chained event log, print its head, list refusals"),
        lambda a: _missing(audit),
    )
    sub = audit.add_subparsers(title=_("audit commands"), metavar=_("COMMAND"))
    p = _sub(
        sub, "verify", _("walk the chain; name the first broken or missing event"), cmd_audit_verify
    )
    p.prog = "windtui audit verify"
    p.add_argument(
        "--head", metavar="HASH", help=_("the head hash kept outside the database, to compare")
    )
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "head", _("print the newest event's position and hash"), cmd_audit_head)
    p.prog = "windtui audit head"
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p = _sub(sub, "refusals", _("refused attempts: who tried what"), cmd_audit_refusals)
    p.prog = "windtui audit refusals"
    p.add_argument("--limit", metavar="N", type=int, default=100, help=_("newest N (default 100)"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    policy = _sub(commands, "policy", _("load or show the SLA policy"), lambda a: _missing(policy))
    sub = policy.add_subparsers(title=_("policy commands"), metavar=_("COMMAND"))
    p = _sub(sub, "load", _("validate and load a policy TOML file"), cmd_policy_load)
    p.prog = "windtui policy load"
    p.add_argument("file", metavar="FILE", help=_("policy file, e.g. data/sla-policy.toml"))
    p = _sub(sub, "show", _("show the policy in force"), cmd_policy_show)
    p.prog = "windtui policy show"
    p.add_argument("--json", action="store_true", help=_("print JSON"))

    p = _sub(
        commands,
        "kpi",
        _("KPIs against their targets for a period and a filter; trends; the tickets behind one"),
        cmd_kpi,
    )
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--quarter", metavar="YYYYQN", help=_("a quarter, e.g. 2026Q3"))
    p.add_argument("--month", metavar="YYYY-MM", help=_("a month, e.g. 2026-09"))
    p.add_argument("--from", dest="date_from", metavar="DATE", help=_("first day, e.g. 2026-07-01"))
    p.add_argument(
        "--to", dest="date_to", metavar="DATE", help=_("last day, included (default today)")
    )
    p.add_argument("--farm", metavar="CODE", help=_("only this farm"))
    p.add_argument("--customer", metavar="CODE", help=_("only this customer's farms"))
    p.add_argument("--team", metavar="BASE", help=_("only tickets of this team (depot)"))
    p.add_argument("--technician", metavar="LOGIN", help=_("only this technician's tickets"))
    p.add_argument("--category", metavar="C", help=_("only this category, e.g. fault"))
    p.add_argument("--priority", metavar="P", help=_("only this priority: P1, P2, P3, P4"))
    p.add_argument(
        "--trend", choices=("week", "month"), help=_("also the figures per week or month")
    )
    p.add_argument(
        "--tickets",
        metavar="FIGURE",
        help=_("print the ticket numbers behind a figure, e.g. onsite_compliance:missed"),
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help=_("judge every closed ticket again under the policy in force (administrators)"),
    )

    p = _sub(
        commands,
        "scorecard",
        _("team and technician scorecards: points for met and breached clocks, surveys, …"),
        cmd_scorecard,
    )
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    _period_options(p)
    p.add_argument(
        "--by",
        choices=("technician", "team"),
        default="technician",
        help=_("rank technicians (default) or teams"),
    )
    p.add_argument("--team", metavar="BASE", help=_("only this team's tickets and technicians"))
    p.add_argument(
        "--tickets",
        metavar="WHO",
        help=_("one technician's (or with --by team, one team's) card with its tickets"),
    )

    p = _sub(
        commands,
        "report",
        _("write the quarterly audit report as Markdown, HTML, CSV or XLSX"),
        cmd_report,
    )
    _period_options(p)
    p.add_argument(
        "--format",
        choices=("md", "html", "csv", "xlsx"),
        help=_("file format (default: from the file name)"),
    )
    p.add_argument("-o", "--output", metavar="FILE", required=True, help=_("the file to write"))

    p = _sub(commands, "bench", _("run the benchmarks against their budgets"), cmd_bench)
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--only", metavar="NAME", nargs="+", help=_("run only these benchmarks"))

    p = _sub(
        commands,
        "serve",
        _("serve the console to browsers behind an authenticating proxy (textual-serve)"),
        cmd_serve,
    )
    p.add_argument(
        "--host",
        metavar="ADDR",
        default="127.0.0.1",
        help=_("address to listen on (default 127.0.0.1: only the proxy on this host)"),
    )
    p.add_argument("--port", metavar="PORT", type=int, default=8000, help=_("port (default 8000)"))
    p.add_argument(
        "--user-header",
        metavar="NAME",
        default="X-Remote-User",
        help=_(
            "header in which the proxy names the authenticated login (default X-Remote-User;"
            " trusted only from a loopback peer)"
        ),
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help=_("the URL browsers open, e.g. https://desk.example.com (default http://HOST:PORT)"),
    )
    return parser


def _period_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quarter", metavar="YYYYQN", help=_("a quarter, e.g. 2026Q3"))
    p.add_argument("--month", metavar="YYYY-MM", help=_("a month, e.g. 2026-09"))
    p.add_argument("--from", dest="date_from", metavar="DATE", help=_("first day, e.g. 2026-07-01"))
    p.add_argument(
        "--to", dest="date_to", metavar="DATE", help=_("last day, included (default today)")
    )


def _missing(parser: argparse.ArgumentParser) -> int:
    raise UsageError(_("missing command: see '{prog} --help'").format(prog=parser.prog))


def _prescan_language(argv: Sequence[str]) -> str | None:
    """``--lang`` must be known before the parser is built (its help texts are translated)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 2 usage, other non-zero: refused)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    i18n.set_language(_prescan_language(args_list))
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        args.mouse = getattr(args, "mouse", None)
        args.load_only = getattr(args, "load_only", False)
        args.now_utc = _now(args)
        return int(args.func(args))
    except UsageError as exc:
        _error(str(exc))
        return USAGE_EXIT
    except WindtuiError as exc:
        _error(str(exc))
        return exc.exit_code
    except BrokenPipeError:  # `windtui tickets --json | head`: the reader left, that is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        _close_all()


def _error(message: str) -> None:
    """Exactly one line on stderr."""
    line = " ".join(message.split())  # a multi-line message would break the one-line contract
    print(f"windtui: error: {visible(line)}", file=sys.stderr)  # it may echo user input


if __name__ == "__main__":
    raise SystemExit(main())
