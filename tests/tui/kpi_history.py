"""A small closed history on the shared test fleet (tests/conftest.py ``seed_fleet``) for the
KPI screen: tickets walked through the services with reports, reviews and surveys, so the
outcome rows are the ones a real desk writes at closing.

Quarter 2025Q1 (the current one at ``NOW``, Monday 3 March 2025 10:00 Beijing): four tickets
closed — one on time with a weather hold, one late on every clock with a hostile title, one
consulting call without a site visit, one reopened — and one cancelled with its on-site clock
overdue; 2024Q4: one ticket closed on its last evening.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from windtui.domain.model import Action
from windtui.services import quality
from windtui.services.desk import Desk
from windtui.services.records import ReportHoursInput, ReportInput, SuggestionInput

HOSTILE_TITLE = "[bold red]converter[/] trip \x1b[2J[@click=app.quit]x[/]"
"""A title that would be markup, an action link and a terminal escape if it were not plain."""


def bj(day: str, hhmm: str) -> datetime:
    """A Beijing wall-clock instant as UTC."""
    hh, mm = (int(x) for x in hhmm.split(":"))
    return (datetime.fromisoformat(day).replace(hour=hh, minute=mm) - timedelta(hours=8)).replace(
        tzinfo=UTC
    )


def _report(desk: Desk, number: int, *, fixed: bool, ftf: bool, site: bool = True) -> None:
    quality.write_report(
        desk,
        number,
        ReportInput(
            diagnosis="diagnosis",
            work_done="work done",
            root_cause="root cause" if site else "",
            hours=(ReportHoursInput("wangjg", 2.0),) if site else (),
            fixed=fixed,
            first_time_fix=ftf,
        ),
    )


def _approve(desk: Desk, number: int, at: datetime) -> None:
    """The review, by QA who did not work on the ticket (zhaom, technician and QA)."""
    actor, desk.actor = desk.actor, "zhaom"
    try:
        desk.act(number, Action.APPROVE, at=at)
    finally:
        desk.actor = actor


def _paperwork(desk: Desk, number: int, day: str, score: int, **report: bool) -> None:
    """Report, review, survey, follow-up and close on ``day`` (08:00 … 12:00)."""
    _report(desk, number, **report)
    desk.act(number, Action.SUBMIT, at=bj(day, "08:00"))
    _approve(desk, number, bj(day, "09:00"))
    quality.record_survey(desk, number, score, contacted_at=bj(day, "10:00"))
    desk.act(number, Action.FOLLOWUP, at=bj(day, "11:00"))
    desk.act(number, Action.CLOSE, at=bj(day, "12:00"))


def history(desk: Desk) -> dict[str, int]:
    """Write the history through ``desk`` (a dispatcher and QA); returns numbers by name."""
    n: dict[str, int] = {}
    act = desk.act

    # On time: DBC A07 stopped, a 1 h weather hold on the way, fixed first time, score 5.
    t = n["ontime"] = desk.create_ticket(
        farm="DBC", turbine="A07", category="fault", priority="P2", title="Pitch encoder fault",
        at=bj("2025-02-03", "10:00"), turbine_stopped=True,
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2025-02-03", "10:30"))
    act(t, Action.FEEDBACK, at=bj("2025-02-03", "12:00"))
    act(t, Action.DISPATCH, technician="wangjg", at=bj("2025-02-03", "12:10"))
    act(t, Action.DEPART, at=bj("2025-02-03", "12:20"))
    act(t, Action.HOLD, reason="weather", evidence="gusts 18 m/s", at=bj("2025-02-03", "12:30"))
    act(t, Action.RESUME, at=bj("2025-02-03", "13:30"))
    act(t, Action.ARRIVE, at=bj("2025-02-03", "15:00"))
    act(t, Action.RESOLVE, at=bj("2025-02-03", "17:00"))
    act(t, Action.RESTORE, at=bj("2025-02-03", "17:10"))
    _paperwork(desk, t, "2025-02-04", 5, fixed=True, ftf=True)

    # Late on every desk and site clock, a hostile title, fixed on the second visit, score 2.
    t = n["late"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P2", title=HOSTILE_TITLE,
        at=bj("2025-02-10", "08:00"),
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2025-02-10", "10:00"))
    act(t, Action.FEEDBACK, at=bj("2025-02-11", "10:00"))
    act(t, Action.DISPATCH, technician="lihua", at=bj("2025-02-12", "08:00"))
    act(t, Action.DEPART, at=bj("2025-02-12", "09:00"))
    act(t, Action.ARRIVE, at=bj("2025-02-13", "08:00"))
    act(t, Action.RESOLVE, at=bj("2025-02-13", "13:00"))
    _paperwork(desk, t, "2025-02-14", 2, fixed=True, ftf=False)

    # A consulting call at DHQ: no site visit, not fixed, score 4.
    t = n["consulting"] = desk.create_ticket(
        farm="DHQ", category="consulting", priority="P4", title="Spare parts query",
        at=bj("2025-01-06", "09:00"),
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2025-01-06", "09:20"))
    act(t, Action.FEEDBACK, at=bj("2025-01-06", "09:40"))
    act(t, Action.RESOLVE, at=bj("2025-01-06", "11:00"))
    _paperwork(desk, t, "2025-01-07", 4, fixed=False, ftf=False, site=False)

    # Reopened once at DHQ 01 (the fault came back), score 5.
    t = n["reopened"] = desk.create_ticket(
        farm="DHQ", turbine="01", category="fault", priority="P3", title="Yaw misalignment",
        at=bj("2025-02-20", "09:00"),
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2025-02-20", "09:10"))
    act(t, Action.FEEDBACK, at=bj("2025-02-20", "09:30"))
    act(t, Action.DISPATCH, technician="wangjg", at=bj("2025-02-20", "09:40"))
    act(t, Action.DEPART, at=bj("2025-02-20", "10:00"))
    act(t, Action.ARRIVE, at=bj("2025-02-20", "11:00"))
    act(t, Action.RESOLVE, at=bj("2025-02-20", "14:00"))
    act(t, Action.REOPEN, reason="fault back", at=bj("2025-02-20", "16:00"))
    act(t, Action.DISPATCH, technician="wangjg", at=bj("2025-02-21", "08:40"))
    act(t, Action.DEPART, at=bj("2025-02-21", "08:45"))
    act(t, Action.ARRIVE, at=bj("2025-02-21", "09:30"))
    act(t, Action.RESOLVE, at=bj("2025-02-21", "10:30"))
    _paperwork(desk, t, "2025-02-24", 5, fixed=True, ftf=False)

    # Cancelled two days in with its P1 on-site clock (24 h) overdue.
    t = n["cancelled"] = desk.create_ticket(
        farm="DBC", turbine="B05", category="fault", priority="P1", title="String down",
        at=bj("2025-01-20", "08:00"), turbine_stopped=True,
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2025-01-20", "08:30"))
    act(t, Action.FEEDBACK, at=bj("2025-01-20", "09:00"))
    act(t, Action.CANCEL, reason="duplicate of a grid ticket", at=bj("2025-01-22", "08:00"))
    act(t, Action.RESTORE, at=bj("2025-01-23", "08:00"))

    # Last quarter: closed on the evening of 31 December.
    t = n["last_quarter"] = desk.create_ticket(
        farm="DBC", category="consulting", priority="P4", title="Year-end data request",
        at=bj("2024-12-31", "09:00"),
    ).number  # fmt: skip
    act(t, Action.ACK, at=bj("2024-12-31", "09:10"))
    act(t, Action.FEEDBACK, at=bj("2024-12-31", "09:20"))
    act(t, Action.RESOLVE, at=bj("2024-12-31", "10:00"))
    _report(desk, t, fixed=True, ftf=True, site=False)
    act(t, Action.SUBMIT, at=bj("2024-12-31", "11:00"))
    _approve(desk, t, bj("2024-12-31", "12:00"))
    quality.record_survey(desk, t, 5, contacted_at=bj("2024-12-31", "13:00"))
    act(t, Action.FOLLOWUP, at=bj("2024-12-31", "14:00"))
    act(t, Action.CLOSE, at=bj("2024-12-31", "23:00"))
    # Suggestions received in the quarter from two of the tickets: one adopted, one rejected.
    for name, day, status in (("ontime", date(2025, 2, 5), "adopted"),
                              ("late", date(2025, 2, 15), "rejected")):  # fmt: skip
        item = quality.add_suggestion(
            desk,
            SuggestionInput(
                source="survey", text="spares at the depot", received_on=day, ticket=n[name]
            ),
        )
        quality.set_suggestion_status(desk, item.id, status, on=day)
    return n
