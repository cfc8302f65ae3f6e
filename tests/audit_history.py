"""A hand-computed quarter (2025Q1, Beijing) for the scorecard and audit-report tests.

Every ticket is on DBC (a 24x7 calendar), so every clock is plain wall-clock arithmetic. The
shipped ``[scorecard]`` points: met clock +1, breached clock -2, first-time fix +2, reopened -3,
survey ≥ 4 +1, survey ≤ 2 -3, adopted suggestion +2, returned report -1.

=====  ========  ==================================================================  ======
name   who       what scores                                                          points
=====  ========  ==================================================================  ======
A      wangjg    7 clocks met, first-time fix, survey 5                               +10
B      lihua     6 met, feedback breached (a weather hold does not pause it: 26 h),   0
                 report returned once, survey 2                                       (-6 penalty)
C      wangjg    7 met (reopened: on-site and repair run again), reopened, survey 3   +4
D      zhaom     P1 cancelled 30 h after receipt: acknowledge and feedback met,       0
                 on site overdue (24 h target) — breached, never stopped               (-2 penalty)
E      —         consulting without a technician: unattributed
F      wangjg    closed in 2024Q4: outside the period
S1     wangjg    an adopted suggestion received with C                               +2
=====  ========  ==================================================================  ======

wangjg 10 + 4 + 2 = 16, zhaom 0 (penalty -2), lihua 0 (penalty -6): ranked wangjg, zhaom, lihua
(zhaom before lihua: the smaller penalty). Teams: URC (wangjg, lihua) 16, LGG (zhaom) 0.

User text is hostile on purpose (markup, spreadsheet formulas): the report must keep it inert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from windtui.domain import kpi as rules
from windtui.domain.model import Action
from windtui.services import quality
from windtui.services.desk import Desk
from windtui.services.records import (
    ImprovementInput,
    ReportHoursInput,
    ReportInput,
    SuggestionInput,
)

Q1 = rules.parse_quarter("2025Q1")
HOSTILE_TITLE = "<script>alert('x')</script> converter =cmd|' /C calc'!A0"
HOSTILE_EVIDENCE = "gusts 21 m/s <img src=x onerror=alert(1)>"
HOSTILE_COMMENT = '=HYPERLINK("http://evil.example","click") <b>slow</b>'
HOSTILE_IMPROVEMENT = "+cmd training [link](javascript:alert(1)) | pipe"
HOSTILE_SUGGESTION = "@SUM(1+1) SMS the crew's ETA <i>please</i>"


def bj(day: str, hhmm: str) -> datetime:
    """A Beijing wall-clock instant as UTC."""
    hh, mm = (int(x) for x in hhmm.split(":"))
    local = datetime.fromisoformat(day).replace(hour=hh, minute=mm)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def _report(desk: Desk, number: int, who: str | None, *, ftf: bool) -> None:
    """The report, written by the technician (or the dispatcher chenx for a ticket without one):
    the desk's own actor reviews it, and QA never reviews its own work."""
    actor = desk.actor
    desk.actor = who or "chenx"
    try:
        quality.write_report(
            desk,
            number,
            ReportInput(
                diagnosis="diagnosis",
                work_done="work done",
                root_cause="root cause" if who else "",
                hours=(ReportHoursInput(who, 2.0),) if who else (),
                fixed=True,
                first_time_fix=ftf,
            ),
        )
    finally:
        desk.actor = actor


def history(desk: Desk) -> dict[str, int]:
    """Write the quarter; returns ticket numbers by name (A … F) and suggestion/improvement ids
    (S1 … S3, I1, I2)."""
    n: dict[str, int] = {}
    act = desk.act

    a = n["A"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P2", title="pitch", at=bj("2025-02-03", "10:00")
    ).number
    act(a, Action.ACK, at=bj("2025-02-03", "10:30"))
    act(a, Action.FEEDBACK, at=bj("2025-02-03", "12:00"))
    act(a, Action.DISPATCH, technician="wangjg", at=bj("2025-02-03", "12:10"))
    act(a, Action.DEPART, at=bj("2025-02-03", "12:20"))
    act(a, Action.ARRIVE, at=bj("2025-02-03", "15:00"))
    act(a, Action.RESOLVE, at=bj("2025-02-03", "17:00"))
    _report(desk, a, "wangjg", ftf=True)
    act(a, Action.SUBMIT, at=bj("2025-02-04", "09:00"))
    act(a, Action.APPROVE, at=bj("2025-02-05", "09:00"))
    quality.record_survey(desk, a, 5, "great", contacted_at=bj("2025-02-05", "10:00"))
    act(a, Action.FOLLOWUP, at=bj("2025-02-05", "11:00"))
    act(a, Action.CLOSE, at=bj("2025-02-05", "12:00"))

    b = n["B"] = desk.create_ticket(
        farm="DBC",
        category="fault",
        priority="P2",
        title=HOSTILE_TITLE,
        at=bj("2025-02-10", "08:00"),
    ).number
    act(b, Action.ACK, at=bj("2025-02-10", "08:30"))
    act(b, Action.HOLD, reason="weather", evidence=HOSTILE_EVIDENCE, at=bj("2025-02-10", "09:00"))
    act(b, Action.RESUME, at=bj("2025-02-10", "12:00"))
    act(b, Action.FEEDBACK, at=bj("2025-02-11", "10:00"))  # 26 h > 24 h: breached
    act(b, Action.DISPATCH, technician="lihua", at=bj("2025-02-11", "10:10"))
    act(b, Action.DEPART, at=bj("2025-02-11", "10:20"))
    act(b, Action.ARRIVE, at=bj("2025-02-11", "14:00"))  # 30 h - 3 h weather = 27 h
    act(b, Action.RESOLVE, at=bj("2025-02-11", "15:00"))
    _report(desk, b, "lihua", ftf=False)
    act(b, Action.SUBMIT, at=bj("2025-02-11", "20:00"))
    act(b, Action.RETURN, reason="no photo of the new part", at=bj("2025-02-12", "08:00"))
    act(b, Action.SUBMIT, at=bj("2025-02-12", "10:00"))
    act(b, Action.APPROVE, at=bj("2025-02-12", "12:00"))
    quality.record_survey(desk, b, 2, HOSTILE_COMMENT, contacted_at=bj("2025-02-12", "13:00"))
    act(b, Action.FOLLOWUP, at=bj("2025-02-12", "14:00"))
    act(b, Action.CLOSE, at=bj("2025-02-12", "15:00"))

    c = n["C"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P3", title="yaw", at=bj("2025-02-17", "09:00")
    ).number
    act(c, Action.ACK, at=bj("2025-02-17", "09:10"))
    act(c, Action.FEEDBACK, at=bj("2025-02-17", "09:30"))
    act(c, Action.DISPATCH, technician="wangjg", at=bj("2025-02-17", "09:40"))
    act(c, Action.DEPART, at=bj("2025-02-17", "09:50"))
    act(c, Action.ARRIVE, at=bj("2025-02-17", "11:00"))
    act(c, Action.RESOLVE, at=bj("2025-02-17", "12:00"))
    act(c, Action.REOPEN, reason="fault back", at=bj("2025-02-17", "13:00"))
    act(c, Action.DISPATCH, technician="wangjg", at=bj("2025-02-17", "13:05"))
    act(c, Action.DEPART, at=bj("2025-02-17", "13:10"))
    act(c, Action.ARRIVE, at=bj("2025-02-17", "14:00"))
    act(c, Action.RESOLVE, at=bj("2025-02-17", "15:00"))
    _report(desk, c, "wangjg", ftf=False)
    act(c, Action.SUBMIT, at=bj("2025-02-18", "09:00"))
    act(c, Action.APPROVE, at=bj("2025-02-18", "10:00"))
    quality.record_survey(desk, c, 3, "ok", contacted_at=bj("2025-02-18", "10:30"))
    act(c, Action.FOLLOWUP, at=bj("2025-02-18", "11:00"))
    act(c, Action.CLOSE, at=bj("2025-02-18", "12:00"))

    d = n["D"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P1", title="string", at=bj("2025-02-20", "08:00")
    ).number
    act(d, Action.ACK, at=bj("2025-02-20", "08:20"))
    act(d, Action.FEEDBACK, at=bj("2025-02-20", "08:40"))
    act(d, Action.DISPATCH, technician="zhaom", at=bj("2025-02-20", "09:00"))
    act(d, Action.CANCEL, reason="duplicate", at=bj("2025-02-21", "14:00"))  # on site: 30 h > 24

    e = n["E"] = desk.create_ticket(
        farm="DBC",
        category="consulting",
        priority="P4",
        title="query",
        at=bj("2025-01-06", "09:00"),
    ).number
    act(e, Action.ACK, at=bj("2025-01-06", "09:20"))
    act(e, Action.FEEDBACK, at=bj("2025-01-06", "09:40"))
    act(e, Action.RESOLVE, at=bj("2025-01-06", "11:00"))
    _report(desk, e, None, ftf=True)
    act(e, Action.SUBMIT, at=bj("2025-01-06", "11:30"))
    act(e, Action.APPROVE, at=bj("2025-01-06", "12:00"))
    quality.record_survey(desk, e, 4, "", contacted_at=bj("2025-01-06", "12:30"))
    act(e, Action.FOLLOWUP, at=bj("2025-01-06", "13:00"))
    act(e, Action.CLOSE, at=bj("2025-01-06", "13:30"))

    f = n["F"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P2", title="old", at=bj("2024-12-02", "09:00")
    ).number
    act(f, Action.ACK, at=bj("2024-12-02", "09:10"))
    act(f, Action.FEEDBACK, at=bj("2024-12-02", "09:20"))
    act(f, Action.DISPATCH, technician="wangjg", at=bj("2024-12-02", "09:30"))
    act(f, Action.DEPART, at=bj("2024-12-02", "09:40"))
    act(f, Action.ARRIVE, at=bj("2024-12-02", "11:00"))
    act(f, Action.RESOLVE, at=bj("2024-12-02", "12:00"))
    _report(desk, f, "wangjg", ftf=True)
    act(f, Action.SUBMIT, at=bj("2024-12-02", "18:00"))
    act(f, Action.APPROVE, at=bj("2024-12-03", "09:00"))
    quality.record_survey(desk, f, 5, "", contacted_at=bj("2024-12-03", "10:00"))
    act(f, Action.FOLLOWUP, at=bj("2024-12-03", "11:00"))
    act(f, Action.CLOSE, at=bj("2024-12-05", "12:00"))

    s1 = quality.add_suggestion(
        desk,
        SuggestionInput(
            source="survey", text=HOSTILE_SUGGESTION, received_on=date(2025, 2, 18), ticket=c
        ),
    )
    quality.set_suggestion_status(desk, s1.id, "adopted", on=date(2025, 2, 20))
    s2 = quality.add_suggestion(
        desk,
        SuggestionInput(source="phone", text="call ahead", received_on=date(2025, 2, 12), ticket=b),
    )
    quality.set_suggestion_status(desk, s2.id, "rejected", on=date(2025, 2, 14))
    s3 = quality.add_suggestion(
        desk, SuggestionInput(source="meeting", text="more depots", received_on=date(2025, 1, 20))
    )
    quality.set_suggestion_status(desk, s3.id, "adopted", on=date(2025, 1, 25))
    n.update(S1=s1.id, S2=s2.id, S3=s3.id)

    # An improvement action opened on 10 February, due 20 February, still open: overdue now.
    clock = desk.clock
    desk.clock = lambda: bj("2025-02-10", "10:00")  # type: ignore[method-assign]
    try:
        item = quality.add_improvement(
            desk,
            ImprovementInput(
                title=HOSTILE_IMPROVEMENT,
                owner="zhaom",
                due=date(2025, 2, 20),
                category="training",
                ticket=b,
            ),
        )
    finally:
        desk.clock = clock  # type: ignore[method-assign]
    n["I1"] = item.id
    return n


#: The expected scorecards (shipped points).
EXPECTED_TOTALS = {"wangjg": 16.0, "zhaom": 0.0, "lihua": 0.0}
EXPECTED_ORDER = ["wangjg", "zhaom", "lihua"]
EXPECTED_TEAMS = {"URC": 16.0, "LGG": 0.0}
